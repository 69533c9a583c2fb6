"""diff -> plan -> apply: one sync run, crash-safe, with a ledger row per write attempt.

1. **Diff.** The outbound batch (desired state minus invalid rows) against `ops.sync_state` (what this
   sync last wrote, per record: hash, destination id, ETag, written values). A record is planned when
   its hash differs from the last written one, when it sits in the DLQ (retried whatever its hash), or
   when an intent of an earlier run was left behind. `noop` rows (the destination already agrees) are
   adopted into the state without a write; `review` rows are reported, never written.
2. **Plan.** One `Operation` per record with the payload the sync may send (`SyncSpec.payload`), the
   last ETag, the baseline values for conflict detection and an idempotency key derived from (sync,
   record key, record version = hash).
3. **Apply**, batch by batch: the intents of the batch are recorded first (committed), then sent, then
   in one transaction per outcome: ledger row, state, DLQ entry or its resolution, intent removed. A
   crash between send and record leaves the intent: the next run re-plans the record with
   `resumed=True`, and the destination client looks it up (ERP), replays the idempotency key
   (billing) or upserts by external id (support) instead of creating it twice.

When a destination's circuit opens, its outcomes come back `queued`: the run stops sending to it,
records nothing as failed, and reports the rest as still queued (exit code 3 in the CLI).
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from reverse_etl.destinations.base import WRITTEN, Destination, Operation, Outcome, set_correlation_id
from reverse_etl.outbound import OutboundBatch, OutboundBlocked, OutboundUnavailable, read_outbound
from reverse_etl.state import OpsStore, SavedState
from reverse_etl.syncs import SyncSpec, check_ownership
from warehouse import Warehouse

SUMMARY_STATUSES = (
    "created",
    "updated",
    "unchanged",
    "adopted",
    "review",
    "invalid",
    "conflict",
    "rejected",
    "transient",
    "queued",
    "in_dlq",
)


def idempotency_key(sync_name: str, record_key: str, version: str) -> str:
    digest = hashlib.sha256(f"{sync_name}\x1f{record_key}\x1f{version}".encode()).hexdigest()
    return f"syncline-{digest[:40]}"


def _clean(value: Any) -> Any:
    """Warehouse values as JSON-ready Python (pandas NA -> None, numpy scalars -> Python)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, Decimal):  # PostgreSQL numeric
        value = float(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        # a NULL in an integer column makes pandas read it as float (4 -> 4.0); APIs want 4
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


@dataclass
class SyncResult:
    sync: str
    destination: str
    run_id: str
    correlation_id: str
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    planned: Counter = field(default_factory=Counter)  # operation -> records planned
    latencies_ms: list[float] = field(default_factory=list)
    retried: int = 0  # operations that needed more than one attempt
    samples: list[dict[str, Any]] = field(default_factory=list)  # dry run: sample field diffs
    circuit_open: bool = False
    blocked: str | None = None
    seconds: float = 0.0

    @property
    def dead_lettered(self) -> int:
        return self.counts["rejected"] + self.counts["transient"]

    def percentile(self, q: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    def as_dict(self) -> dict[str, Any]:
        return {
            "sync": self.sync,
            "destination": self.destination,
            "run_id": self.run_id,
            "correlation_id": self.correlation_id,
            "dry_run": self.dry_run,
            "planned": dict(self.planned),
            **{status: self.counts[status] for status in SUMMARY_STATUSES},
            "retried": self.retried,
            "dead_lettered": self.dead_lettered,
            "p50_ms": self.percentile(0.5),
            "p95_ms": self.percentile(0.95),
            "circuit_open": self.circuit_open,
            "blocked": self.blocked,
            "seconds": round(self.seconds, 3),
            **({"samples": self.samples} if self.dry_run else {}),
        }


@dataclass
class SyncContext:
    """Everything a run needs besides the sync itself."""

    warehouse: Warehouse
    store: OpsStore
    destinations: dict[str, Destination]
    run_id: str = field(default_factory=lambda: f"run_{uuid.uuid4().hex[:16]}")
    correlation_id: str | None = None
    source_event: str | None = None
    progress: Callable[[int], None] | None = None  # called with the number of records just done
    on_planned: Callable[[SyncSpec, int], None] | None = None  # called once with the records to send


def plan(
    spec: SyncSpec,
    batch: OutboundBatch,
    state: dict[str, SavedState],
    intents: dict[str, dict],
    dlq_keys: set[str],
    *,
    waiting: dict[str, str | None] | None = None,
    only_keys: set[str] | None = None,
    force_keys: set[str] | None = None,
) -> tuple[list[Operation], list[tuple[str, str]], Counter]:
    """-> (operations to send, (record key, hash) to adopt without writing, skipped counts)."""
    operations: list[Operation] = []
    adopt: list[tuple[str, str]] = []
    skipped: Counter = Counter()
    force_keys = force_keys or set()
    for row in records(batch.rows):
        key = str(row[spec.key])
        if only_keys is not None and key not in only_keys:
            continue
        version = str(row.get("record_hash") or "")
        op = str(row.get("operation") or "")
        saved = state.get(key)
        pending = key in intents
        retry = key in dlq_keys or key in force_keys
        if op == "review":
            skipped["review"] += 1
            continue
        if waiting and key in waiting and waiting[key] == version and key not in force_keys:
            skipped["in_dlq"] += 1  # same version failed before: wait for its backoff (or a replay)
            continue
        if op == "noop":
            # the destination already holds the desired values (as of the last ingestion)
            if saved is None or saved.record_hash != version:
                adopt.append((key, version))
            skipped["unchanged"] += 1
            continue
        if saved is not None and saved.record_hash == version and not pending and not retry:
            skipped["unchanged"] += 1
            continue
        if spec.mode == "insert" and saved is not None and saved.status == "written" and not pending:
            skipped["unchanged"] += 1  # created once; a later change is not this sync's to make
            continue
        destination_id = (saved.destination_id if saved else None) or _destination_id(spec, row)
        operation = "update" if destination_id and spec.mode == "upsert" else op
        if operation == "update" and op == "insert" and saved is None:
            operation = "insert"
        operations.append(
            Operation(
                record_key=key,
                operation=operation,
                payload=spec.payload(row, operation),
                row=row,
                destination_id=destination_id,
                etag=(saved.etag if saved and saved.etag else None) or row.get("odata_etag"),
                baseline=dict(saved.written_fields) if saved else {},
                idempotency_key=idempotency_key(spec.name, key, version),
                resumed=pending,
            )
        )
    return operations, adopt, skipped


def _destination_id(spec: SyncSpec, row: dict[str, Any]) -> str | None:
    column = {"erp_customers": "erp_customer_id", "support_organizations": "support_organization_id"}.get(
        spec.name
    )
    value = row.get(column) if column else None
    return str(value) if value is not None else None


def run_sync(
    spec: SyncSpec,
    context: SyncContext,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    only_keys: set[str] | None = None,
    force_keys: set[str] | None = None,
    frame: pd.DataFrame | None = None,
) -> SyncResult:
    """Run one sync end to end (see the module docstring)."""
    started = time.perf_counter()
    correlation_id = context.correlation_id or f"sync_{uuid.uuid4().hex[:20]}"
    token = set_correlation_id(correlation_id)
    destination = context.destinations[spec.destination]
    result = SyncResult(spec.name, spec.destination, context.run_id, correlation_id, dry_run)
    try:
        check_ownership(spec)
        try:
            batch = read_outbound(context.warehouse, spec, frame)
        except (OutboundUnavailable, OutboundBlocked) as exc:
            result.blocked = str(exc)  # nothing of this sync is sent; the other syncs go on
            return result
        invalid = batch.invalid
        if only_keys is not None:
            invalid = invalid[invalid["record_key"].astype(str).isin(only_keys)]
        result.counts["invalid"] = len(invalid)
        if not dry_run and only_keys is None:
            context.store.replace_quarantine(spec.name, records(invalid))
        state = context.store.load_state(spec.name)
        intents = context.store.pending_intents(spec.name)
        # dead-lettered records are retried whatever their hash, once their backoff has passed
        dead = context.store.open_dlq(spec.name)
        due = {e.record_key for e in context.store.open_dlq(spec.name, due_only=True)}
        waiting = {e.record_key: e.record_hash for e in dead if e.record_key not in due}
        dlq_keys = {e.record_key for e in dead}
        operations, adopt, skipped = plan(
            spec,
            batch,
            state,
            intents,
            due,
            waiting=waiting,
            only_keys=only_keys,
            force_keys=force_keys,
        )
        result.counts.update(skipped)
        if limit is not None:
            operations = operations[:limit]
        result.planned.update(op.operation for op in operations)
        if context.on_planned:
            context.on_planned(spec, len(operations))
        if dry_run:
            result.samples = [_sample(op) for op in operations[:10]]
            return result
        _adopt(spec, context.store, adopt, dlq_keys)
        result.counts["adopted"] = len(adopt)
        # dead-lettered records the desired state no longer holds (deleted, or now held back as invalid)
        present = set(batch.rows[spec.key].astype(str)) if len(batch.rows) else set()
        _resolve_obsolete(spec, context.store, dlq_keys - present, only_keys)
        for start in range(0, len(operations), destination.batch_size):
            chunk = operations[start : start + destination.batch_size]
            context.store.record_intents(
                {
                    "sync_name": spec.name,
                    "record_key": op.record_key,
                    "operation": op.operation,
                    "record_hash": op.row.get("record_hash"),
                    "idempotency_key": op.idempotency_key,
                    "run_id": context.run_id,
                }
                for op in chunk
            )
            outcomes = destination.apply(spec.name, chunk)
            _record(spec, context, chunk, outcomes, result)
            if context.progress:
                context.progress(len(chunk))
            if any(o.status == "queued" for o in outcomes):
                result.circuit_open = True
                queued_later = len(operations) - start - len(chunk)
                result.counts["queued"] += queued_later
                break
        return result
    finally:
        result.seconds = time.perf_counter() - started
        from reverse_etl.destinations.base import _correlation

        _correlation.reset(token)


def _sample(op: Operation) -> dict[str, Any]:
    changes = {
        prop: {"from": op.baseline.get(prop), "to": value}
        for prop, value in op.payload.items()
        if op.baseline.get(prop) != value
    }
    return {"record_key": op.record_key, "operation": op.operation, "changes": changes}


def _resolve_obsolete(spec: SyncSpec, store: OpsStore, keys: set[str], only_keys: set[str] | None) -> None:
    if only_keys is not None:
        keys = keys & only_keys
    if not keys:
        return
    with store.transaction() as con:
        for key in keys:
            store.resolve_dlq(con, spec.name, key)


def _adopt(spec: SyncSpec, store: OpsStore, adopt: list[tuple[str, str]], dlq_keys: set[str]) -> None:
    if not adopt:
        return
    with store.transaction() as con:
        for key, version in adopt:
            store.save_state(
                con,
                spec.name,
                key,
                destination_id=None,
                record_hash=version,
                etag=None,
                written_fields=None,
                status="adopted",
            )
            if key in dlq_keys:  # the destination agrees now (fixed by hand, or by an earlier replay)
                store.resolve_dlq(con, spec.name, key)


def _record(
    spec: SyncSpec, context: SyncContext, chunk: list[Operation], outcomes: list[Outcome], result: SyncResult
) -> None:
    by_key = {op.record_key: op for op in chunk}
    store = context.store
    with store.transaction() as con:
        for outcome in outcomes:
            op = by_key[outcome.record_key]
            result.counts[outcome.status] += 1
            if outcome.attempts > 1:
                result.retried += 1
            if outcome.status != "queued":
                result.latencies_ms.append(outcome.latency_ms)
                store.append_ledger(
                    con,
                    {
                        "run_id": context.run_id,
                        "correlation_id": result.correlation_id,
                        "source_event": context.source_event,
                        "sync_name": spec.name,
                        "destination": spec.destination,
                        "record_key": op.record_key,
                        "operation": op.operation,
                        "status": outcome.status,
                        "http_status": outcome.http_status,
                        "attempts": outcome.attempts,
                        "latency_ms": outcome.latency_ms,
                        "error_class": outcome.error_class,
                        "error_message": outcome.message,
                        "destination_id": outcome.destination_id or op.destination_id,
                        "idempotency_key": op.idempotency_key,
                    },
                )
            if outcome.status in WRITTEN or outcome.status == "conflict":
                store.save_state(
                    con,
                    spec.name,
                    op.record_key,
                    destination_id=outcome.destination_id or op.destination_id,
                    record_hash=op.row.get("record_hash"),
                    etag=outcome.etag,
                    written_fields=outcome.written if outcome.written is not None else op.payload,
                    status="conflict" if outcome.status == "conflict" else "written",
                )
                store.resolve_dlq(con, spec.name, op.record_key)
            elif outcome.status in ("rejected", "transient"):
                store.dead_letter(
                    con,
                    sync_name=spec.name,
                    record_key=op.record_key,
                    operation=op.operation,
                    error_class=outcome.status,
                    http_status=outcome.http_status,
                    reason=outcome.message or "",
                    attempts=outcome.attempts,
                    record_hash=op.row.get("record_hash"),
                )
            if outcome.status not in ("transient", "queued"):
                # kept otherwise: the request may have reached the destination; look up next time
                store.clear_intent(con, spec.name, op.record_key)
