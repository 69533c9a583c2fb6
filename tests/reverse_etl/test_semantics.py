"""Engine semantics: ownership, concurrent human edits, the three error classes, DLQ replay, the CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reverse_etl.engine import records
from reverse_etl.outbound import read_desired, read_outbound
from reverse_etl.syncs import SYNCS, OwnershipViolation, check_ownership, load_ownership
from tests.reverse_etl.conftest import Retl

ROOT = Path(__file__).resolve().parents[2]


def test_every_sync_respects_the_ownership_seed() -> None:
    for spec in SYNCS.values():
        check_ownership(spec)


def test_a_seed_that_gives_the_destination_a_field_stops_the_sync(tmp_path: Path) -> None:
    seed = load_ownership()
    seed["customer.phone"] = {**seed["customer.phone"], "owner_system": "erp"}
    with pytest.raises(OwnershipViolation, match="phoneNumber: erp owns customer.phone"):
        check_ownership(SYNCS["erp_customers"], seed)
    seed = load_ownership()
    seed["contract.plan"] = {**seed["contract.plan"], "sync_targets": ""}
    with pytest.raises(OwnershipViolation, match="does not let contract.plan sync to support"):
        check_ownership(SYNCS["support_organizations"], seed)


def test_no_update_writes_a_field_its_destination_owns(retl: Retl) -> None:
    """Read the seed CSV itself: every property an update would send carries a field the destination
    does not own."""
    with (ROOT / "dbt_project/seeds/field_ownership.csv").open() as handle:
        owners = {f"{r['entity']}.{r['field']}": r["owner_system"] for r in csv.DictReader(handle)}
    for spec in SYNCS.values():
        frame, _ = read_desired(retl.warehouse, spec.model)
        by_prop = {f.prop: f.owned_field for f in spec.fields}
        for row in records(frame):
            if row["operation"] != "update":
                continue
            for prop in spec.payload(row, "update"):
                assert owners[by_prop[prop]] != spec.destination, (spec.name, prop)


def _update_rows_with(retl: Retl, prop: str) -> list[dict]:
    spec = SYNCS["erp_customers"]
    rows = records(read_outbound(retl.warehouse, spec).rows)
    return [r for r in rows if r["operation"] == "update" and prop in spec.payload(r, "update")]


def test_a_human_edit_between_read_and_write_is_reported_not_overwritten(retl: Retl) -> None:
    edited, other = _update_rows_with(retl, "phoneNumber")[:2]
    # someone edits a field Syncline owns (phone) on one record, one the ERP owns on another
    human = retl.erp.patch(
        f"/customers({edited['erp_customer_id']})",
        json={"phoneNumber": "+1 555 0100"},
        headers={"If-Match": "*"},
    )
    assert human.status_code == 200
    owned = retl.erp.patch(
        f"/customers({other['erp_customer_id']})", json={"creditLimit": 123456}, headers={"If-Match": "*"}
    )
    assert owned.status_code == 200

    retl.run(["erp_customers"])
    ledger = {r["record_key"]: r for r in retl.store().ledger_rows(sync_name="erp_customers")}
    conflict = ledger[edited["golden_customer_id"]]
    assert conflict["status"] == "conflict" and conflict["error_class"] == "conflict"
    assert "phoneNumber" in conflict["error_message"] and "+1 555 0100" in conflict["error_message"]
    assert retl.erp.get(f"/customers({edited['erp_customer_id']})").json()["phoneNumber"] == "+1 555 0100"

    assert ledger[other["golden_customer_id"]]["status"] == "updated"
    after = retl.erp.get(f"/customers({other['erp_customer_id']})").json()
    assert after["creditLimit"] == 123456  # the ERP's own field kept
    assert after["phoneNumber"] == other["phone_number"]  # ours written
    # a conflict is not retried on every run: it waits for a new desired version
    seq = retl.last_request_seq()
    retl.run(["erp_customers"])
    assert retl.writes("erp", since=seq) == []


def test_invalid_rows_are_quarantined_and_never_sent(retl: Retl) -> None:
    spec = SYNCS["erp_customers"]
    frame, _ = read_desired(retl.warehouse, spec.model)
    bad = frame.index[frame["operation"] == "insert"][0]
    frame.loc[bad, "email"] = "not-an-email"
    key = frame.loc[bad, "golden_customer_id"]
    from reverse_etl.engine import run_sync
    from reverse_etl.runner import sync_context

    with sync_context(retl.warehouse, [spec], connections=retl.connections) as context:
        result = run_sync(spec, context, frame=frame)
    assert result.counts["invalid"] == 1
    store = retl.store()
    assert key not in {r["record_key"] for r in store.ledger_rows(sync_name=spec.name)}
    with store.engine.connect() as con:
        rows = con.exec_driver_sql("select record_key, rule, reason from ops.quarantine").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(key, "email_format")] and "not-an-email" in rows[0][2]


def test_rejected_rows_carry_the_vendors_reason_and_replay_drains_them_once_fixed(retl: Retl) -> None:
    # someone in Zendesk already made organizations under the names of two the sync will create
    # (Zendesk names are unique): the creates are rejected with Zendesk's own reason
    desired = records(read_outbound(retl.warehouse, SYNCS["support_organizations"]).rows)
    creates = [r for r in desired if r["operation"] == "insert"][:2]
    assert len(creates) == 2, "the seed has golden customers with no support organization"
    for row in creates:
        made = retl.support.post("/api/v2/organizations.json", json={"organization": {"name": row["name"]}})
        assert made.status_code == 201, made.text
    retl.run(["support_organizations"])
    store = retl.store()
    rejected = store.open_dlq("support_organizations")
    assert {e.record_key for e in rejected} >= {r["record_key"] for r in creates}
    for entry in rejected:
        assert entry.http_status == 422 and "has already been taken" in entry.reason
    # nothing changes, nothing is resent before the backoff: the same version waits
    seq = retl.last_request_seq()
    retl.run(["support_organizations"])
    assert retl.writes("support", since=seq) == []
    # fix the cause in Zendesk: the organizations holding those names are renamed
    want = {
        r["record_key"]: r
        for r in records(read_outbound(retl.warehouse, SYNCS["support_organizations"]).rows)
    }
    names = {want[e.record_key]["name"].casefold() for e in rejected}
    page = "/api/v2/organizations.json?per_page=100"
    while page:
        body = retl.support.get(page).json()
        for organization in body["organizations"]:
            if organization["name"].casefold() in names:
                renamed = retl.support.put(
                    f"/api/v2/organizations/{organization['id']}",
                    json={"organization": {"name": organization["name"] + " (old)"}},
                )
                assert renamed.status_code == 200
        page = body.get("next_page")
    replayed = retl.replay(sync_name="support_organizations")["support_organizations"]
    assert replayed.counts["created"] + replayed.counts["updated"] == len(rejected)
    assert store.open_dlq("support_organizations") == []


def _cli(retl: Retl, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "SYNCLINE_DUCKDB_PATH": str(retl.warehouse.duckdb_path),
        "SYNCLINE_OPS_DSN": retl.ops_dsn,
    }
    for system, config in retl.connections.items():
        env[f"SOURCES__{system.upper()}__BASE_URL"] = config["base_url"]
    return subprocess.run(
        [str(Path(sys.executable).with_name("syncline")), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_dry_run_writes_nothing_and_exit_codes_say_what_happened(retl: Retl) -> None:
    seq = retl.last_request_seq()
    dry = _cli(retl, "sync", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    lines = [json.loads(line) for line in dry.stdout.splitlines()]
    assert {line["sync"] for line in lines} == set(SYNCS)
    assert all(line["dry_run"] and line["samples"] for line in lines if line["planned"])
    assert retl.writes(None, since=seq) == []

    assert _cli(retl, "sync", "no_such_sync").returncode == 2
    retl.admin.set_faults("erp", outage=True)
    down = _cli(retl, "sync", "erp_customers", "--json")
    assert down.returncode == 3, down.stdout + down.stderr
    assert json.loads(down.stdout.splitlines()[-1])["circuit_open"]
    retl.admin.clear_faults()
    listed = _cli(retl, "dlq", "list", "--json")
    assert listed.returncode == 0
    up = _cli(retl, "sync", "erp_customers")
    assert up.returncode == 0, up.stderr
    assert "sync summary" in up.stderr
