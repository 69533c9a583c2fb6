"""The targeted run a batch of billing events triggers: fetch what changed -> rebuild -> sync those
customers only, with the events' id as correlation id on every ledger row and outgoing request.

Steps: billing ingestion (incremental: the new events and the objects they touched), a rebuild of
only the dbt models between raw billing and the sync models (the whole transform, identity included,
when an event can create or merge customers), publishing the read-only copy, then the syncs
restricted to the golden customers the events map to; late events raise an `sla_breach` alert and a
destination found down an `outage` alert. Used by the Dagster `billing_event_sync` job
(the billing-events sensor) and by `syncline events replay`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reverse_etl.engine import SyncResult
from reverse_etl.state import OpsStore
from warehouse import Warehouse

EVENT_SYNCS = ("erp_customers", "erp_invoices", "support_organizations")
EVENT_SYNC_MODELS = ["sync_erp_customers", "sync_erp_invoices", "sync_support_organizations"]
# events that can create, rename or merge customers: identity must run (full transform)
IDENTITY_EVENTS = ("customer.created", "customer.updated", "customer.deleted")


def needs_identity(events: list[dict[str, Any]] | None) -> bool:
    """Without the events (a replay by customer) the safe answer is yes."""
    return events is None or any(e["type"] in IDENTITY_EVENTS for e in events)


SLA_ENV = "SYNCLINE_SYNC_SLA_S"


@dataclass
class EventSyncRun:
    correlation_id: str
    billing_customers: list[str]
    golden_customers: list[str] = field(default_factory=list)
    results: list[SyncResult] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


def keys_for_customers(warehouse: Warehouse, golden_ids: set[str]) -> dict[str, set[str]]:
    """Per sync, the record keys of the desired rows that belong to these golden customers."""
    from reverse_etl.outbound import read_desired
    from reverse_etl.syncs import SYNCS

    keys: dict[str, set[str]] = {}
    for name in EVENT_SYNCS:
        spec = SYNCS[name]
        frame, _ = read_desired(warehouse, spec.model)
        mine = frame[frame["golden_customer_id"].astype(str).isin(golden_ids)]
        keys[name] = set(mine[spec.key].astype(str))
    return keys


def run_event_sync(
    billing_customer_ids: list[str],
    *,
    correlation_id: str,
    source_event: str | None = None,
    warehouse: Warehouse | None = None,
    connections: dict[str, dict[str, Any]] | None = None,
    ingest: bool = True,
    progress: Callable[[str], None] | None = None,
    events: list[dict[str, Any]] | None = None,
    run_id: str | None = None,
) -> EventSyncRun:
    from ingestion.pipeline import run_source
    from operations.billing_events import golden_ids_for
    from reverse_etl.runner import run_syncs
    from transform.build import targeted_transform, transform
    from transform.dbt_cli import downstream_of_source_into

    warehouse = warehouse or Warehouse.from_env()
    say = progress or (lambda message: None)
    run = EventSyncRun(correlation_id, billing_customer_ids)
    started = time.perf_counter()
    if events:
        store = OpsStore.for_warehouse(warehouse)
        try:
            store.record_events(events, correlation_id, run_id)
        finally:
            store.close()
    if ingest:
        say("ingesting billing changes ...")
        config = (connections or {}).get("billing")
        run_source("billing", warehouse=warehouse, config=config, correlation_id=correlation_id)
        run.seconds["ingest"] = time.perf_counter() - started
        step = time.perf_counter()
        if needs_identity(events):
            say("rebuilding the models (customers changed: identity included) ...")
            transform(warehouse)
        else:
            say("rebuilding the models billing feeds into the syncs ...")
            targeted_transform(warehouse, downstream_of_source_into("raw_billing", EVENT_SYNC_MODELS))
        run.seconds["transform"] = time.perf_counter() - step
    golden = golden_ids_for(warehouse, billing_customer_ids)
    run.golden_customers = sorted(set(golden.values()))
    if not run.golden_customers:
        say("no golden customer for these events (yet): nothing to sync")
        return run
    step = time.perf_counter()
    only = keys_for_customers(warehouse, set(run.golden_customers))
    run.results = run_syncs(
        [name for name in EVENT_SYNCS if only.get(name)],
        warehouse=warehouse,
        only_keys=only,
        connections=connections,
        correlation_id=correlation_id,
        source_event=source_event,
    )
    run.seconds["sync"] = time.perf_counter() - step
    run.seconds["total"] = time.perf_counter() - started
    from operations.alerts import alert_outages

    store = OpsStore.for_warehouse(warehouse)
    try:
        alert_outages(store, run.results, run_id=run_id, customers=run.golden_customers)
    finally:
        store.close()
    if events:
        check_sla(warehouse, events, run)
    return run


def sla_seconds() -> float:
    """The business SLA of synchronization latency (event created -> written downstream)."""
    return float(os.environ.get(SLA_ENV, "60"))


def check_sla(warehouse: Warehouse, events: list[dict[str, Any]], run: EventSyncRun) -> None:
    """Late events raise an `sla_breach` alert naming their customers; a batch on time resolves it."""
    from operations.alerts import Alert, raise_alert, resolve_alerts

    limit = sla_seconds()
    finished = time.time()
    late = [e for e in events if finished - e["created"] > limit]
    store = OpsStore.for_warehouse(warehouse)
    try:
        if not late:
            resolve_alerts(store, "sla_breach", ["event_sync"])
            return
        worst = max(finished - e["created"] for e in late)
        raise_alert(
            store,
            Alert(
                kind="sla_breach",
                subject="event_sync",
                severity="warning",
                message=(
                    f"{len(late)} of {len(events)} billing event(s) took longer than the {limit:.0f} s SLA "
                    f"to reach the ERP and support (worst {worst:.0f} s; correlation {run.correlation_id})"
                ),
                customers=tuple(run.golden_customers),
                occurred_at=datetime.fromtimestamp(min(e["created"] for e in late) + limit, UTC),
            ),
        )
    finally:
        store.close()
