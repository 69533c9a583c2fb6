"""The Stripe source against the sandbox: exact full loads, the event-driven second run, faults, drift."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
import pytest
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth

from ingestion.errors import MalformedPageError, SourceUnavailableError, find_cause
from ingestion.http import make_client
from ingestion.sources.billing import COLLECTIONS, StripeReader
from sandbox.client import SandboxAdmin
from sandbox.world import DAY

TABLES = (
    "customers",
    "products",
    "prices",
    "subscriptions",
    "subscription_items",
    "invoices",
    "invoice_lines",
    "charges",
    "credit_notes",
    "events",
)
OBJECT_TABLES = TABLES[:-1]


@pytest.fixture
def settled_sandbox(fresh_sandbox: SandboxAdmin) -> SandboxAdmin:
    """The generator dates a few invoices' lifecycle events (and a sign-up's first invoice and charge)
    after its clock while the lists already show their final state: an event reader sees them as
    drafts until the clock passes. Tests comparing the warehouse with the lists let that time pass."""
    fresh_sandbox.advance_clock(2 * DAY)
    return fresh_sandbox


def _counts(run) -> dict[str, int]:
    return {table: run.count("billing", table) for table in TABLES}


def _truth(admin: SandboxAdmin) -> dict[str, int]:
    counts = admin.truth("counts")["billing"]
    return {table: counts[table] for table in TABLES}


def _api_key(run) -> str:
    return run.settings.credentials["billing"]["api_key"]


def _listing(run, collection: str, *, first_page: bool = False, **params: Any) -> list[dict]:
    """Everything the API lists now (the reference the warehouse must equal)."""
    base = run.settings.base_url("billing")
    objects: list[dict] = []
    after = None
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {_api_key(run)}"}, timeout=30
    ) as http:
        while True:
            query = {"limit": 100, **params} | ({"starting_after": after} if after else {})
            body = http.get(f"/v1/{collection}", params=query).raise_for_status().json()
            objects += body["data"]
            if first_page or not body["has_more"]:
                return objects
            after = body["data"][-1]["id"]


def _assert_warehouse_equals_api(run) -> None:
    subscriptions = {
        s["id"]: (s["status"], s["cancel_at_period_end"], s["items"]["data"][0]["price"]["id"])
        for s in _listing(run, "subscriptions", status="all")
    }
    loaded = run.warehouse.query(
        "select s.id, s.status, s.cancel_at_period_end, json_extract_string(i.price, '$.id') "
        "from raw_billing.subscriptions s join raw_billing.subscription_items i on i.subscription = s.id"
    )
    assert {row[0]: row[1:] for row in loaded} == subscriptions
    invoices = {i["id"]: (i["status"], i["amount_paid"]) for i in _listing(run, "invoices")}
    loaded = run.warehouse.query("select id, status, amount_paid from raw_billing.invoices")
    assert {row[0]: row[1:] for row in loaded} == invoices
    charges = {c["id"]: c["status"] for c in _listing(run, "charges")}
    assert dict(run.warehouse.query("select id, status from raw_billing.charges")) == charges
    customers = {c["id"] for c in _listing(run, "customers")}
    assert {row[0] for row in run.warehouse.query("select id from raw_billing.customers")} == customers


def test_full_load_matches_sandbox_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    result = run("billing", config={"page_size": 50})
    truth = _truth(fresh_sandbox)
    assert _counts(run) == truth
    assert {table: result.rows.get(table) for table in TABLES} == truth  # no page read twice
    # Children carry their parent's id; the parent rows stay compact (no embedded list JSON).
    orphans = run.warehouse.query(
        "select count(*) from raw_billing.invoice_lines l left join raw_billing.invoices i on l.invoice = i.id "
        "where i.id is null"
    )
    assert orphans == [(0,)]
    columns = dict(
        run.warehouse.query(
            "select table_name || '.' || column_name, data_type from information_schema.columns "
            "where table_schema = 'raw_billing'"
        )
    )
    assert "invoices.lines" not in columns and "subscriptions.items" not in columns
    assert columns["invoices.created"] == "BIGINT"  # the epoch cursor stays
    assert columns["invoices.created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert columns["events.created_at"] == "TIMESTAMP WITH TIME ZONE"


def test_second_run_reads_only_changes_from_events(run, settled_sandbox: SandboxAdmin) -> None:
    run("billing")
    loaded_until = run.warehouse.query("select max(created) from raw_billing.events")[0][0]
    # Renewals create, finalize and pay an invoice within one second: the source must re-read it.
    simulated = settled_sandbox.simulate(
        10, kinds=["upgrade", "cancellation", "payment", "new_customer", "renewal"], seed=3
    )
    assert simulated["kinds"].get("renewal")
    changed: dict[str, set[str]] = defaultdict(set)
    for change in simulated["changes"]:
        if change["system"] == "billing":
            changed[change["table"]].add(change["id"])
    assert changed["subscriptions"] and changed["invoices"] and changed["charges"] and changed["customers"]
    settled_sandbox.advance_clock(2 * DAY)  # the sign-up's first invoice is paid hours after it

    second = run("billing")
    expected = {table: len(changed[table]) for table in OBJECT_TABLES}  # products, prices: 0
    expected["subscription_items"] = expected["subscriptions"]
    expected["invoice_lines"] = expected["invoices"]
    assert {table: second.rows.get(table, 0) for table in OBJECT_TABLES} == expected
    new_events = _listing(run, "events", **{"created[gt]": loaded_until})
    assert second.rows["events"] == len(new_events)
    _assert_warehouse_equals_api(run)

    third = run("billing")  # nothing happened since: nothing extracted
    assert not any(third.rows.get(table) for table in TABLES)

    # A cursor older than Stripe's 30-day event retention: relist everything, still exact.
    settled_sandbox.advance_clock(31 * DAY)
    stale = run("billing")
    truth = _truth(settled_sandbox)
    assert {table: stale.rows.get(table) for table in OBJECT_TABLES} == {t: truth[t] for t in OBJECT_TABLES}
    _assert_warehouse_equals_api(run)


def test_injected_server_errors_still_give_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("billing", error_rate=0.2, seed=4)
    run("billing", config={"page_size": 50})
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("billing")["injected"].get("error", 0) > 0
    assert _counts(run) == _truth(fresh_sandbox)


def test_rate_limit_storm_still_gives_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("billing", rate_limit_quota=5, rate_limit_window_s=1)
    run("billing")
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("billing")["injected"].get("rate_limited", 0) > 0
    assert _counts(run) == _truth(fresh_sandbox)


def test_malformed_page_fails_clearly_and_keeps_loaded_data(run, settled_sandbox: SandboxAdmin) -> None:
    # A first run meeting a retyped amount on an invoice page fails naming the resource.
    settled_sandbox.set_faults("billing", malformed="retype_field", path_prefix="/v1/invoices")
    with pytest.raises(Exception) as failure:
        run("billing")
    malformed = find_cause(failure.value, MalformedPageError)
    assert malformed is not None and malformed.resource == "invoices" and "amount_due" in malformed.detail

    settled_sandbox.clear_faults("billing")
    run("billing")
    loaded = _counts(run)
    settled_sandbox.simulate(6, kinds=["upgrade", "cancellation", "payment"], seed=11)
    for mode in ("retype_field", "truncate"):  # `created` of the events the change feed reads
        settled_sandbox.set_faults("billing", malformed=mode, path_prefix="/v1/events")
        with pytest.raises(Exception) as failure:
            run("billing")
        malformed = find_cause(failure.value, MalformedPageError)
        assert malformed is not None and malformed.resource in TABLES and "/v1/events" in malformed.url
        assert _counts(run) == loaded

    settled_sandbox.clear_faults("billing")
    caught_up = run("billing")  # the failed runs did not move any cursor
    assert caught_up.rows.get("subscriptions")
    _assert_warehouse_equals_api(run)


def test_outage_fails_clearly_and_a_later_run_catches_up(
    run, settled_sandbox: SandboxAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("billing")
    loaded = _counts(run)
    simulated = settled_sandbox.simulate(5, kinds=["upgrade", "cancellation"], seed=2)
    changed = {c["id"] for c in simulated["changes"] if c["table"] == "subscriptions"}
    settled_sandbox.set_faults("billing", outage=True)
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    with pytest.raises(Exception) as failure:
        run("billing")
    unavailable = find_cause(failure.value, SourceUnavailableError)
    assert unavailable is not None and unavailable.resource in TABLES and "503" in str(unavailable)
    assert _counts(run) == loaded

    settled_sandbox.clear_faults("billing")
    caught_up = run("billing")
    assert caught_up.rows.get("subscriptions") == len(changed)
    _assert_warehouse_equals_api(run)


def test_truncated_embedded_lists_are_paged_from_their_endpoints(run) -> None:
    """Real Stripe embeds the first 10 invoice lines; `has_more` means the rest is read separately."""
    reader = StripeReader(
        make_client(run.settings.base_url("billing"), auth=BearerTokenAuth(_api_key(run))), 1
    )
    for name, field in (("invoices", "lines"), ("subscriptions", "items")):
        parent = _listing(run, name, first_page=True, limit=1)[0]
        expected = parent[field]["data"]
        parent[field] = {"object": "list", "data": [], "has_more": True, "url": parent[field]["url"]}
        nested = COLLECTIONS[name].nested
        rows = reader._children(nested, parent)
        assert [row["id"] for row in rows] == [row["id"] for row in expected]
        assert all(row[nested.parent_key] == parent["id"] for row in rows)
        assert field not in parent
