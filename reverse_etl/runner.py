"""Run syncs outside any orchestrator: open the ops store, build the destination clients, run each
sync in dependency order. `syncline sync`, the Dagster assets and the tests all come through here."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reverse_etl.destinations import build_destination
from reverse_etl.engine import SyncContext, SyncResult, run_sync
from reverse_etl.outbound import snapshot_path
from reverse_etl.state import OpsStore
from reverse_etl.syncs import SyncSpec, resolve
from warehouse import Warehouse


def limiter_dir(store: OpsStore, warehouse: Warehouse) -> Path:
    if store.is_sqlite:
        return Path(store.describe()).parent
    return Path(warehouse.duckdb_path).parent


def _erp_baseline_reader(warehouse: Warehouse) -> Callable[[str], dict[str, Any]]:
    """The ERP customer as last ingested (the conflict baseline for records Syncline never wrote)."""

    def read(erp_id: str) -> dict[str, Any]:
        sql = (
            "select email, phone_number, website, salesperson_code from raw_erp.customers "
            f"where id = '{erp_id.replace(chr(39), '')}'"
        )
        try:
            if warehouse.kind == "duckdb":
                import duckdb

                with duckdb.connect(str(snapshot_path(warehouse)), read_only=True) as con:
                    rows = con.execute(sql).fetchall()
            else:
                rows = warehouse.query(sql)
        except Exception:  # no baseline: every differing field counts as someone else's edit
            return {}
        if not rows:
            return {}
        email, phone, website, salesperson = rows[0]
        return {"email": email, "phoneNumber": phone, "website": website, "salespersonCode": salesperson}

    return read


@contextmanager
def sync_context(
    warehouse: Warehouse | None = None,
    specs: list[SyncSpec] | None = None,
    *,
    store: OpsStore | None = None,
    connections: dict[str, dict[str, Any]] | None = None,
    correlation_id: str | None = None,
    source_event: str | None = None,
    run_id: str | None = None,
) -> Iterator[SyncContext]:
    """A ready `SyncContext` (ops store, one client per destination the syncs write to)."""
    warehouse = warehouse or Warehouse.from_env()
    specs = specs or resolve(None)
    own_store = store is None
    store = store or OpsStore.for_warehouse(warehouse)
    limits = limiter_dir(store, warehouse)
    destinations: dict[str, Any] = {}
    for system in sorted({s.destination for s in specs}):
        extra: dict[str, Any] = {}
        if system == "erp":
            extra = {
                "baseline_reader": _erp_baseline_reader(warehouse),
                "customer_id_for": lambda golden_id: (
                    store.load_state("erp_customers").get(golden_id).destination_id
                    if store.load_state("erp_customers").get(golden_id)
                    else None
                ),
            }
        destinations[system] = build_destination(
            system, limiter_dir=limits, config=(connections or {}).get(system), **extra
        )
    try:
        yield SyncContext(
            warehouse=warehouse,
            store=store,
            destinations=destinations,
            run_id=run_id or f"run_{uuid.uuid4().hex[:16]}",
            correlation_id=correlation_id,
            source_event=source_event,
        )
    finally:
        for destination in destinations.values():
            destination.close()
        if own_store:
            store.close()


def run_syncs(
    names: list[str] | None = None,
    *,
    warehouse: Warehouse | None = None,
    dry_run: bool = False,
    limit: int | None = None,
    only_keys: dict[str, set[str]] | None = None,
    force_keys: dict[str, set[str]] | None = None,
    connections: dict[str, dict[str, Any]] | None = None,
    correlation_id: str | None = None,
    source_event: str | None = None,
    configure: Callable[[SyncContext], None] | None = None,
) -> list[SyncResult]:
    """Run the named syncs (all by default) in dependency order; a sync whose destination's circuit
    opened stops there, the others go on."""
    specs = resolve(names)
    results = []
    with sync_context(
        warehouse, specs, connections=connections, correlation_id=correlation_id, source_event=source_event
    ) as context:
        if configure:
            configure(context)
        for spec in specs:
            if only_keys is not None and spec.name not in only_keys:
                continue
            results.append(
                run_sync(
                    spec,
                    context,
                    dry_run=dry_run,
                    limit=limit,
                    only_keys=(only_keys or {}).get(spec.name),
                    force_keys=(force_keys or {}).get(spec.name),
                )
            )
    return results


def replay_dlq(
    *,
    ids: list[int] | None = None,
    sync_name: str | None = None,
    warehouse: Warehouse | None = None,
    connections: dict[str, dict[str, Any]] | None = None,
    correlation_id: str | None = None,
) -> list[SyncResult]:
    """Send the chosen open DLQ entries again now (their current desired state, backoff ignored)."""
    warehouse = warehouse or Warehouse.from_env()
    store = OpsStore.for_warehouse(warehouse)
    try:
        entries = store.open_dlq(sync_name, ids=ids)
    finally:
        store.close()
    keys: dict[str, set[str]] = {}
    for entry in entries:
        keys.setdefault(entry.sync_name, set()).add(entry.record_key)
    if not keys:
        return []
    return run_syncs(
        list(keys),
        warehouse=warehouse,
        only_keys=keys,
        force_keys=keys,
        connections=connections,
        correlation_id=correlation_id,
    )
