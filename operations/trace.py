"""One business transaction across the systems: given an event id, a correlation id or a golden
customer id, every ledger row (sync, destination, record, status, HTTP status, destination id,
latency), dead-letter entry and alert that belongs to it, in time order."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from reverse_etl.state import OpsStore, alerts, dlq, events, ledger
from reverse_etl.syncs import SYNCS
from warehouse import Warehouse


def _records_of_customer(warehouse: Warehouse, golden_id: str) -> set[tuple[str, str]]:
    """(sync, record key) pairs of a golden customer in the desired state."""
    from reverse_etl.outbound import read_desired

    pairs = set()
    for spec in SYNCS.values():
        try:
            frame, _ = read_desired(warehouse, spec.model)
        except Exception:  # a model not built yet has no records of anyone
            continue
        if "golden_customer_id" not in frame.columns:
            continue
        mine = frame[frame["golden_customer_id"].astype(str) == golden_id]
        pairs.update((spec.name, str(k)) for k in mine[spec.key])
    return pairs


def trace(identifier: str, warehouse: Warehouse | None = None) -> list[dict[str, Any]]:
    warehouse = warehouse or Warehouse.from_env()
    store = OpsStore.for_warehouse(warehouse)
    try:
        condition = sa.or_(
            ledger.c.correlation_id == identifier,
            ledger.c.source_event.contains(identifier),
            ledger.c.run_id == identifier,
            ledger.c.record_key == identifier,
        )
        with store.engine.connect() as con:  # an event of a batch: the batch's correlation id
            batch = con.execute(
                sa.select(events.c.correlation_id).where(events.c.event_id == identifier)
            ).scalar()
        if batch:
            condition = sa.or_(condition, ledger.c.correlation_id == batch)
        pairs: set[tuple[str, str]] = set()
        if identifier.startswith("GC"):
            pairs = _records_of_customer(warehouse, identifier)
            if pairs:
                condition = sa.or_(
                    condition,
                    *(sa.and_(ledger.c.sync_name == s, ledger.c.record_key == k) for s, k in pairs),
                )
        steps: list[dict[str, Any]] = []
        with store.engine.connect() as con:
            rows = list(
                con.execute(sa.select(ledger).where(condition).order_by(ledger.c.ledger_id)).mappings()
            )
            # what became of the writes that failed: later attempts on the same records (a DLQ replay
            # or catch-up runs under its own correlation id)
            failed = {
                (r["sync_name"], r["record_key"]) for r in rows if r["status"] in ("transient", "rejected")
            }
            seen = {r["ledger_id"] for r in rows}
            if failed:
                first = min(r["ledger_id"] for r in rows)
                rows += [
                    r
                    for r in con.execute(
                        sa.select(ledger)
                        .where(ledger.c.ledger_id > first)
                        .where(
                            sa.or_(
                                *(
                                    sa.and_(ledger.c.sync_name == s, ledger.c.record_key == k)
                                    for s, k in failed
                                )
                            )
                        )
                        .order_by(ledger.c.ledger_id)
                    ).mappings()
                    if r["ledger_id"] not in seen
                ]
            for row in rows:
                steps.append(
                    {
                        "at": row["recorded_at"],
                        "step": f"{row['sync_name']} {row['operation']}",
                        "system": row["destination"],
                        "record": row["record_key"],
                        "status": row["status"],
                        "detail": (
                            f"http {row['http_status']}, {row['attempts']} attempt(s), {row['latency_ms']} ms, "
                            f"id {row['destination_id']}, correlation {row['correlation_id']}"
                            + (f", event {row['source_event']}" if row["source_event"] else "")
                            + (f": {row['error_message']}" if row["error_message"] else "")
                        ),
                    }
                )
            keys = {(s["step"].split()[0], s["record"]) for s in steps} | pairs
            for sync_name, record_key in keys:
                for row in con.execute(
                    sa.select(dlq).where(dlq.c.sync_name == sync_name, dlq.c.record_key == record_key)
                ).mappings():
                    steps.append(
                        {
                            "at": row["last_failed_at"],
                            "step": f"{sync_name} dead-letter ({row['status']})",
                            "system": SYNCS[sync_name].destination if sync_name in SYNCS else "",
                            "record": record_key,
                            "status": row["error_class"],
                            "detail": f"{row['failures']} failed run(s), next attempt {row['next_attempt_at']}: {row['reason']}",
                        }
                    )
            correlations = {s["detail"].split("correlation ")[-1].split(",")[0] for s in steps}
            event_runs: set[str | None] = set()
            for row in con.execute(
                sa.select(events).where(
                    sa.or_(
                        events.c.event_id == identifier,
                        events.c.correlation_id.in_([*correlations, identifier]),
                    )
                )
            ).mappings():
                event_runs.add(row["run_id"])
                steps.append(
                    {
                        "at": row["created_at"],
                        "step": f"billing event {row['event_type']}",
                        "system": "billing",
                        "record": row["billing_customer_id"] or "",
                        "status": "created",
                        "detail": f"{row['event_id']}; handed to run {row['run_id'] or '-'} at {row['received_at']}",
                    }
                )
            # alerts name the Dagster run: the event's run, or a replay run (correlation `dlq_<run id>`)
            runs = {r for r in event_runs if r} | {c.removeprefix("dlq_") for c in correlations}
            for row in con.execute(
                sa.select(alerts).where(alerts.c.run_id.in_(list(runs) + [identifier]))
            ).mappings():
                steps.append(
                    {
                        "at": row["raised_at"],
                        "step": f"alert {row['kind']}",
                        "system": "",
                        "record": row["subject"],
                        "status": "resolved" if row["resolved_at"] else "open",
                        "detail": row["message"],
                    }
                )
        return sorted(steps, key=lambda s: str(s["at"]))
    finally:
        store.close()
