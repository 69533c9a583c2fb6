"""A clean run writes the desired state into the ERP and Zendesk, read back through their APIs; an
immediate rerun sends nothing."""

from __future__ import annotations

from collections import Counter

from reverse_etl.outbound import read_outbound
from reverse_etl.syncs import SYNCS
from tests.reverse_etl.conftest import Retl


def desired(retl: Retl, sync: str) -> dict[str, dict]:
    from reverse_etl.engine import records

    spec = SYNCS[sync]
    batch = read_outbound(retl.warehouse, spec)
    return {str(r[spec.key]): r for r in records(batch.rows)}


def test_a_clean_run_reaches_the_desired_state_and_a_rerun_sends_nothing(retl: Retl) -> None:
    results = retl.run()
    assert set(results) == set(SYNCS)
    for result in results.values():
        assert not result.circuit_open and result.counts["transient"] == 0, result.as_dict()
        planned = sum(result.planned.values())
        settled = sum(result.counts[s] for s in ("created", "updated", "unchanged", "conflict", "rejected"))
        assert settled >= planned  # every planned record written or parked with a reason
    for name in ("erp_customers", "erp_invoices", "support_organizations"):
        assert sum(results[name].planned.values()) > 0, name

    store = retl.store()
    state = {name: store.load_state(name) for name in results}

    # ERP customers: every written record holds the values the sync model asked for
    spec = SYNCS["erp_customers"]
    want = desired(retl, "erp_customers")
    written = {k: s for k, s in state["erp_customers"].items() if s.status == "written"}
    assert (
        len(written)
        == results["erp_customers"].counts["created"] + results["erp_customers"].counts["updated"]
    )
    erp_customers = {c["id"]: c for c in retl.erp_all("customers")}
    for key, saved in written.items():
        row = want[key]
        live = erp_customers[saved.destination_id]
        payload = spec.payload(row, row["operation"])
        assert {p: live.get(p) for p in payload} == payload, key
    numbers = Counter(c["number"] for c in erp_customers.values())
    assert not [n for n, count in numbers.items() if count > 1]

    # ERP documents: one posted document per billing document, on the right amount
    want = desired(retl, "erp_invoices")
    for entity_set in ("salesInvoices", "salesCreditMemos"):
        documents = retl.erp_all(entity_set)
        by_external = Counter(d["externalDocumentNumber"] for d in documents)
        assert not [e for e, count in by_external.items() if count > 1 and e in want]
        for document in documents:
            row = want.get(document["externalDocumentNumber"])
            saved = state["erp_invoices"].get(document["externalDocumentNumber"])
            if row is None or saved is None or saved.status != "written":
                continue
            assert document["status"] != "Draft"
            assert abs(document["totalAmountIncludingTax"] - row["amount_including_tax"]) <= 0.02
    created_docs = {k for k, s in state["erp_invoices"].items() if s.status == "written"}
    assert len(created_docs) == results["erp_invoices"].counts["created"]

    # Zendesk organizations: plan, seats, entitlement, ERP number and name as desired
    spec = SYNCS["support_organizations"]
    want = desired(retl, "support_organizations")
    written = {k: s for k, s in state["support_organizations"].items() if s.status == "written"}
    live = retl.support_organizations([s.destination_id for s in written.values()])
    for key, saved in written.items():
        row, organization = want[key], live[saved.destination_id]
        for prop, value in spec.payload(row, row["operation"]).items():
            if prop.startswith("organization_fields."):
                assert organization["organization_fields"][prop.split(".", 1)[1]] == value, (key, prop)
            elif prop == "domain_names":
                assert value in organization["domain_names"]
            else:
                assert organization[prop] == value, (key, prop)

    # rejected records carry the destination's own reason
    for entry in store.open_dlq():
        assert entry.error_class == "rejected" and entry.reason and entry.http_status >= 400

    seq = retl.last_request_seq()
    again = retl.run()
    assert retl.writes(None, since=seq) == [], "an immediate rerun must not write"
    for result in again.values():
        assert sum(result.planned.values()) == 0, result.as_dict()


def test_the_ledger_has_a_row_per_write_attempt(retl: Retl) -> None:
    results = retl.run(["erp_customers"], correlation_id="evt_test_correlation")
    rows = retl.store().ledger_rows(sync_name="erp_customers")
    result = results["erp_customers"]
    assert len(rows) == sum(
        result.counts[s] for s in ("created", "updated", "conflict", "rejected", "transient")
    )
    for row in rows:
        assert row["correlation_id"] == "evt_test_correlation"
        assert row["destination"] == "erp" and row["record_key"].startswith("GC")
        assert row["status"] in ("created", "updated") and row["http_status"] in (200, 201)
        assert row["destination_id"] and row["attempts"] >= 1 and row["latency_ms"] >= 0
    # the correlation id reached the ERP on every request of the run
    erp_writes = retl.writes("erp")
    assert erp_writes and {w["correlation_id"] for w in erp_writes} == {"evt_test_correlation"}
