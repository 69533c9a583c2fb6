"""The event path: billing events -> sensor (durable cursor, bursts batched) -> targeted run -> ERP
and support, with the event id as correlation id end to end; an ERP outage parks the change in the
DLQ and the DLQ sensor recovers it without duplicates; schedules and sensors evaluate cleanly."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest

from operations.event_sync import run_event_sync
from orchestration.defs.operations import billing_events_sensor, dlq_replay, dlq_replay_sensor
from orchestration.defs.reverse_etl import BillingDestinationResource
from reverse_etl.runner import run_syncs
from tests.reverse_etl.conftest import Retl
from warehouse import Warehouse


def billing_resource(retl: Retl) -> BillingDestinationResource:
    billing = retl.connections["billing"]
    return BillingDestinationResource(base_url=billing["base_url"], api_key=billing["api_key"])


def tick(retl: Retl, cursor: str | None):
    context = dg.build_sensor_context(cursor=cursor, resources={"billing": billing_resource(retl)})
    result = billing_events_sensor(context)
    return result, context.cursor


def test_the_sensor_cursor_loses_and_repeats_no_event_and_batches_bursts(retl: Retl) -> None:
    first, cursor = tick(retl, None)
    assert isinstance(first, dg.SkipReason) and cursor  # starts at the newest event, no history replay
    start = cursor
    retl.admin.simulate(6, kinds=["upgrade", "downgrade", "payment"], seed=1)
    burst, cursor = tick(retl, cursor)
    assert isinstance(burst, dg.RunRequest)  # one run for the whole burst
    handed = [e["id"] for e in burst.run_config["ops"]["sync_billing_changes"]["config"]["events"]]
    assert burst.run_key == cursor == handed[-1] and burst.tags["syncline/correlation_id"] == handed[0]
    # a restarted daemon resumes from the stored cursor: nothing new, nothing repeated
    again, same = tick(retl, cursor)
    assert isinstance(again, dg.SkipReason) and same == cursor
    retl.admin.simulate(3, kinds=["upgrade"], seed=2)
    later, cursor = tick(retl, cursor)
    handed += [e["id"] for e in later.run_config["ops"]["sync_billing_changes"]["config"]["events"]]
    # exactly the events after the start, each once, in order
    from operations.billing_events import billing_client, events_after

    with billing_client(retl.connections["billing"]) as client:
        everything = events_after(client, start).ids
    assert handed == everything and len(set(handed)) == len(handed)


@pytest.fixture
def own_warehouse(retl: Retl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    """A copy of the built warehouse the event path may rebuild (the session's stays as it is)."""
    source = retl.warehouse.duckdb_path
    target = tmp_path / "warehouse.duckdb"
    shutil.copyfile(source, target)
    shutil.copyfile(source.with_name("warehouse_read.duckdb"), tmp_path / "warehouse_read.duckdb")
    monkeypatch.setenv("SYNCLINE_DBT_TARGET_PATH", str(tmp_path / "target"))
    monkeypatch.setenv("SYNCLINE_DLT_DIR", str(tmp_path / "dlt"))
    return Warehouse(kind="duckdb", duckdb_path=target)


def test_an_upgrade_reaches_support_with_its_event_id_and_an_erp_outage_is_recovered_by_the_dlq_sensor(
    retl: Retl, own_warehouse: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_syncs(warehouse=own_warehouse, connections=retl.connections)  # in agreement before the event
    _, cursor = tick(retl, None)
    # at the wall clock, so the event's timestamp measures latency
    retl.admin.simulate(1, kinds=["upgrade"], seed=5, at_wall_clock=True)
    request, cursor = tick(retl, cursor)
    config = request.run_config["ops"]["sync_billing_changes"]["config"]
    event_id = request.tags["syncline/correlation_id"]
    seq = retl.last_request_seq()

    retl.admin.set_faults("erp", outage=True)  # the ERP is down when the change arrives
    monkeypatch.setenv("SYNCLINE_SYNC_SLA_S", "0")  # every event is late: the SLA alert must fire
    run = run_event_sync(
        config["billing_customer_ids"],
        correlation_id=event_id,
        source_event=",".join(e["id"] for e in config["events"]),
        warehouse=own_warehouse,
        connections=retl.connections,
        events=config["events"],
        run_id="event-run",
    )
    assert run.golden_customers
    results = {r.sync: r for r in run.results}
    support = results["support_organizations"]
    assert support.counts["updated"] + support.counts["created"] >= 1, support.as_dict()
    # the event id travelled: on the ledger rows and on the requests support received
    rows = [r for r in retl.store().ledger_rows() if r["correlation_id"] == event_id]
    assert rows and all(r["source_event"] for r in rows)
    support_writes = [w for w in retl.writes("support", since=seq)]
    assert support_writes and {w["correlation_id"] for w in support_writes} == {event_id}

    assert_kpis_and_trace(own_warehouse, config["events"], run.golden_customers)

    erp_parked = [r for r in rows if r["destination"] == "erp"]
    if not erp_parked:
        pytest.skip("this upgrade changed nothing the ERP holds")  # the seed decides; rare
    store = retl.store()
    assert store.open_dlq() or store.pending_intents("erp_invoices") or store.pending_intents("erp_customers")
    from operations.alerts import open_alerts

    # someone is told: the ERP's circuit opened during the event's run
    assert [a["subject"] for a in open_alerts(store) if a["kind"] == "outage"] == ["erp"]

    # the ERP comes back: the DLQ sensor sees it answer, its run replays the dead letters and catches up
    # what the outage left queued, and resolves the outage alert
    retl.admin.clear_faults()
    monkeypatch.setenv("SYNCLINE_DUCKDB_PATH", str(own_warehouse.duckdb_path))
    for system, connection in retl.connections.items():
        monkeypatch.setenv(f"SOURCES__{system.upper()}__BASE_URL", connection["base_url"])
    request = dlq_replay_sensor(dg.build_sensor_context())
    assert isinstance(request, dg.RunRequest), request
    assert {"erp_customers", "erp_invoices"} <= set(
        request.run_config["ops"]["replay_dead_letters"]["config"]["catch_up_syncs"]
    )
    assert dlq_replay.execute_in_process(run_config=request.run_config).success
    assert not [a for a in open_alerts(store) if a["kind"] == "outage"]
    assert not [e for e in store.open_dlq() if e.error_class == "transient"]
    assert not store.pending_intents("erp_invoices") and not store.pending_intents("erp_customers")
    # nothing is left for the ERP (rejected rows wait for their backoff), and nothing reached it twice
    seq = retl.last_request_seq()
    run_syncs(["erp_customers", "erp_invoices"], warehouse=own_warehouse, connections=retl.connections)
    assert retl.writes("erp", since=seq) == []
    from operations.kpis import measure_kpis

    assert any(k.kpi == "mean_time_to_resolve" for k in measure_kpis(own_warehouse))
    # the trace of the event follows its failed ERP writes to their recovery, and shows the alert
    from operations.trace import trace

    steps = trace(event_id, own_warehouse)
    assert any(s["step"] == "alert outage" and s["record"] == "erp" for s in steps)
    if any(s["system"] == "erp" and s["status"] == "transient" for s in steps):
        assert any(s["system"] == "erp" and s["status"] in ("created", "updated") for s in steps)
    from tests.reverse_etl.test_resilience import assert_no_duplicates

    assert_no_duplicates(retl)


def assert_kpis_and_trace(warehouse: Warehouse, events: list[dict], golden_customers: list[str]) -> None:
    """The event is on record, its latency is measured, the late event raised an SLA alert naming its
    customers, and `trace` of the event shows the event and its writes."""

    from operations.alerts import open_alerts
    from operations.kpis import measure_kpis
    from operations.trace import trace
    from reverse_etl.state import OpsStore

    store = OpsStore.for_warehouse(warehouse)
    try:
        alerts = [a for a in open_alerts(store) if a["kind"] == "sla_breach"]
    finally:
        store.close()
    assert len(alerts) == 1 and set(json.loads(alerts[0]["customers"])) == set(golden_customers)
    kpis = {(k.kpi, k.scope): k for k in measure_kpis(warehouse)}
    latency = kpis[("sync_latency_p95", "sync:support_organizations")]
    oldest = min(e["created"] for e in events)
    # the event's own timestamp (whole seconds) -> the support write: within this test's lifetime
    assert 0 < latency.value <= time.time() - oldest + 1 < 600 and latency.sample_size == len(events)
    assert ("sync_latency_p50", "journey:subscription_change") in kpis
    assert 0 <= kpis[("failed_transaction_rate", "all")].value <= 1
    for kpi in ("support_entitlement_accuracy", "invoice_exception_rate", "duplicate_customer_record_rate"):
        assert 0 <= kpis[(kpi, "all")].value <= 1, kpi
    assert kpis[("manual_reconciliation_volume", "all")].value >= 0
    assert kpis[("mean_time_to_detect", "all")].value >= 0
    steps = trace(events[-1]["id"], warehouse)
    assert any(s["step"].startswith("billing event customer.subscription") for s in steps)
    assert any(s["system"] == "support" and s["status"] in ("created", "updated") for s in steps)


def test_schedules_and_sensors_evaluate_and_their_run_config_is_valid() -> None:
    from orchestration.definitions import defs

    for schedule in defs.schedules:
        job = defs.resolve_job_def(schedule.job_name)
        context = dg.build_schedule_context(scheduled_execution_time=None)
        for request in schedule.evaluate_tick(context).run_requests or []:
            assert dg.validate_run_config(job, request.run_config)
    nightly = next(s for s in defs.schedules if s.name == "nightly_full_reconciliation")
    assert nightly.tags.get("syncline/full_refresh") == "true"
    assert {s.name for s in defs.sensors} >= {
        "billing_events_sensor",
        "dlq_replay_sensor",
        "run_failure_alert",
        "run_success_resolves_alerts",
    }
    job = defs.resolve_job_def("billing_event_sync")
    assert dg.validate_run_config(
        job,
        {
            "ops": {
                "sync_billing_changes": {
                    "config": {
                        "billing_customer_ids": ["cus_1"],
                        "events": [
                            {"id": "evt_1", "type": "invoice.paid", "created": 1, "customer": "cus_1"}
                        ],
                    }
                }
            }
        },
    )
