"""What the syncs remember, in an `ops` schema analysts can query: state, intents, ledger, DLQ.

Where it lives (`SYNCLINE_OPS_DSN` overrides):
- DuckDB warehouse -> a SQLite file beside it, `.syncline/ops.sqlite`, attached as schema `ops`. DuckDB
  admits one writing process and locks readers out while dlt or dbt write, so a sync that kept its
  state in the warehouse file could not run during ingestion; SQLite in WAL mode lets several sync
  processes write (serialised, with a busy timeout) while analysts read. Query it with any SQLite
  client (`sqlite3 .syncline/ops.sqlite 'select * from ledger'`) or `syncline dlq list`.
- PostgreSQL warehouse -> schema `ops` of the same database (concurrent writers are its job).

Tables (one concern each):
- `sync_state`: per (sync, record key) what the sync last wrote: destination id, hash, ETag/version,
  the written fields (baseline for conflict detection), status.
- `intents`: a write about to be sent (recorded first, removed with its outcome). A leftover intent
  after a crash tells the next run to look the record up in the destination before creating again.
- `ledger`: one row per write attempt (correlation id, event, sync, destination, record, operation,
  status, HTTP status, attempts, latency, error class and message, destination id).
- `dlq`: records the destination rejected, or that kept failing: retried on every later run.
- `quarantine`: rows caught before sending (invalid), with the rule; replaced on every run of a sync.
- `alerts`: what went wrong (run failures, blocking checks, DLQ growth, SLA breaches, outages), for the alert
  sink and the mean time to detect / resolve (`operations/alerts.py`).
- `events`: the billing events handed to targeted runs (vendor timestamp, correlation id): the start
  of the synchronization latency KPI and of `syncline trace EVENT_ID`.
- `kpi_history`: every KPI measurement (`operations/kpis.py`), for trends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from warehouse import Warehouse

SCHEMA = "ops"
metadata = sa.MetaData(schema=SCHEMA)

sync_state = sa.Table(
    "sync_state",
    metadata,
    sa.Column("sync_name", sa.String, primary_key=True),
    sa.Column("record_key", sa.String, primary_key=True),
    sa.Column("destination_id", sa.String),
    sa.Column("record_hash", sa.String),
    sa.Column("etag", sa.String),
    sa.Column("written_fields", sa.Text),  # JSON of the values last written (conflict baseline)
    sa.Column("status", sa.String, nullable=False),  # written | adopted | conflict
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

intents = sa.Table(
    "intents",
    metadata,
    sa.Column("sync_name", sa.String, primary_key=True),
    sa.Column("record_key", sa.String, primary_key=True),
    sa.Column("operation", sa.String, nullable=False),
    sa.Column("record_hash", sa.String),
    sa.Column("idempotency_key", sa.String),
    sa.Column("run_id", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("ledger_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String, nullable=False),
    sa.Column("correlation_id", sa.String, nullable=False),
    sa.Column("source_event", sa.String),
    sa.Column("sync_name", sa.String, nullable=False),
    sa.Column("destination", sa.String, nullable=False),
    sa.Column("record_key", sa.String, nullable=False),
    sa.Column("operation", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("latency_ms", sa.Float),
    sa.Column("error_class", sa.String),
    sa.Column("error_message", sa.Text),
    sa.Column("destination_id", sa.String),
    sa.Column("idempotency_key", sa.String),
)

dlq = sa.Table(
    "dlq",
    metadata,
    sa.Column("dlq_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sync_name", sa.String, nullable=False),
    sa.Column("record_key", sa.String, nullable=False),
    sa.Column("operation", sa.String, nullable=False),
    sa.Column("error_class", sa.String, nullable=False),  # rejected | transient
    sa.Column("http_status", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False),  # HTTP attempts over all failed runs
    sa.Column("failures", sa.Integer, nullable=False),  # runs that failed to write it
    sa.Column("record_hash", sa.String),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),  # backoff between runs
    sa.Column("first_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.String, nullable=False),  # open | resolved
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("sync_name", "record_key", name="dlq_record"),
)

quarantine = sa.Table(
    "quarantine",
    metadata,
    sa.Column("sync_name", sa.String, nullable=False),
    sa.Column("record_key", sa.String, nullable=False),
    sa.Column("rule", sa.String, nullable=False),
    sa.Column("column_name", sa.String),
    sa.Column("failure_value", sa.Text),
    sa.Column("reason", sa.Text),
    sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
)


alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
    # when the condition began (the failed run's end, the oldest dead letter, the late event): time to detect
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("occurrences", sa.Integer, nullable=False),
    sa.Column(
        "kind", sa.String, nullable=False
    ),  # run_failure | check_failure | dlq_growth | sla_breach | outage
    sa.Column("subject", sa.String, nullable=False),  # what failed (job, check, sync)
    sa.Column("severity", sa.String, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("customers", sa.Text),  # JSON list of golden customer ids concerned
    sa.Column("run_id", sa.String),
    sa.Column("link", sa.String),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("event_id", sa.String, primary_key=True),
    sa.Column("event_type", sa.String, nullable=False),
    sa.Column("billing_customer_id", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),  # the vendor's timestamp
    sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),  # handed to a targeted run
    sa.Column("correlation_id", sa.String, nullable=False),  # the run's correlation id (ledger rows)
    sa.Column("run_id", sa.String),
)

kpi_history = sa.Table(
    "kpi_history",
    metadata,
    sa.Column("measured_at", sa.DateTime(timezone=True), primary_key=True),
    sa.Column("kpi", sa.String, primary_key=True),
    sa.Column("scope", sa.String, primary_key=True),  # "all", a sync, a journey, a system
    sa.Column("value", sa.Float),
    sa.Column("unit", sa.String, nullable=False),
    sa.Column("sample_size", sa.Integer),
)


def now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back naive: they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dlq_backoff_s(failures: int) -> float:
    """Wait before a later run retries a dead-lettered record: 1 min, doubling, at most 1 h
    (`SYNCLINE_DLQ_RETRY_BASE_S`, `SYNCLINE_DLQ_RETRY_MAX_S`). `syncline dlq replay` does not wait."""
    base = float(os.environ.get("SYNCLINE_DLQ_RETRY_BASE_S", 60))
    cap = float(os.environ.get("SYNCLINE_DLQ_RETRY_MAX_S", 3600))
    return min(cap, base * 2 ** max(0, failures - 1))


def default_ops_dsn(warehouse: Warehouse) -> str:
    explicit = os.environ.get("SYNCLINE_OPS_DSN")
    if explicit:
        return explicit
    if warehouse.kind == "duckdb":
        return "sqlite:///" + str(Path(warehouse.duckdb_path).resolve().with_name("ops.sqlite"))
    return warehouse.sqlalchemy_url()


@dataclass(frozen=True)
class SavedState:
    destination_id: str | None
    record_hash: str | None
    etag: str | None
    written_fields: dict[str, Any]
    status: str


@dataclass(frozen=True)
class DlqEntry:
    dlq_id: int
    sync_name: str
    record_key: str
    operation: str
    error_class: str
    http_status: int | None
    reason: str | None
    attempts: int
    failures: int
    record_hash: str | None
    first_failed_at: datetime
    last_failed_at: datetime
    next_attempt_at: datetime


def _sqlite_engine(dsn: str) -> sa.Engine:
    path = dsn.removeprefix("sqlite:///")
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # The file is attached as schema `ops` to an in-memory main database, so table names read
    # `ops.ledger` on SQLite and PostgreSQL alike.
    engine = sa.create_engine("sqlite://", connect_args={"timeout": 60, "check_same_thread": False})

    @sa.event.listens_for(engine, "connect")
    def _attach(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN IMMEDIATE ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("attach database ? as ops", (path,))
        cursor.execute("pragma ops.journal_mode=wal")
        cursor.execute("pragma ops.synchronous=normal")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        # Take the write lock up front: two processes upgrading read locks would deadlock.
        conn.exec_driver_sql("begin immediate")

    return engine


def _add_missing_columns(con: sa.Connection) -> None:
    """A store made by an earlier version gains the nullable columns added since (no data rewrite)."""
    inspector = sa.inspect(con)
    for table in metadata.tables.values():
        present = {c["name"] for c in inspector.get_columns(table.name, schema=SCHEMA)}
        for column in table.columns:
            if column.name not in present and column.nullable:
                kind = column.type.compile(dialect=con.dialect)
                con.execute(sa.text(f"alter table {SCHEMA}.{table.name} add column {column.name} {kind}"))


class OpsStore:
    """The ops schema: open once per run; every method is one short transaction."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.is_sqlite = dsn.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(dsn)
        else:
            self.engine = sa.create_engine(dsn, pool_pre_ping=True)
        self._ensure_schema()

    @classmethod
    def for_warehouse(cls, warehouse: Warehouse) -> OpsStore:
        return cls(default_ops_dsn(warehouse))

    def describe(self) -> str:
        if self.is_sqlite:
            return self.dsn.removeprefix("sqlite:///")
        return "postgres:" + self.dsn.split("@")[-1] + f" schema {SCHEMA}"  # never print credentials

    def _ensure_schema(self) -> None:
        with self.engine.begin() as con:
            if not self.is_sqlite:
                con.execute(sa.text(f"create schema if not exists {SCHEMA}"))
            metadata.create_all(con)
            _add_missing_columns(con)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as con:
            yield con

    def _insert(self):
        return sqlite.insert if self.is_sqlite else postgresql.insert

    # -- state -------------------------------------------------------------------------------------
    def load_state(self, sync_name: str) -> dict[str, SavedState]:
        with self.engine.connect() as con:
            rows = con.execute(sa.select(sync_state).where(sync_state.c.sync_name == sync_name))
            return {
                row.record_key: SavedState(
                    destination_id=row.destination_id,
                    record_hash=row.record_hash,
                    etag=row.etag,
                    written_fields=json.loads(row.written_fields) if row.written_fields else {},
                    status=row.status,
                )
                for row in rows
            }

    def save_state(
        self,
        con: sa.Connection,
        sync_name: str,
        record_key: str,
        *,
        destination_id: str | None,
        record_hash: str | None,
        etag: str | None,
        written_fields: dict[str, Any] | None,
        status: str,
    ) -> None:
        values = {
            "sync_name": sync_name,
            "record_key": record_key,
            "destination_id": destination_id,
            "record_hash": record_hash,
            "etag": etag,
            "written_fields": json.dumps(written_fields, default=str, sort_keys=True)
            if written_fields is not None
            else None,
            "status": status,
            "updated_at": now(),
        }
        statement = self._insert()(sync_state).values(**values)
        update = {k: v for k, v in values.items() if k not in ("sync_name", "record_key")}
        if written_fields is None:
            update.pop("written_fields")
        con.execute(statement.on_conflict_do_update(index_elements=["sync_name", "record_key"], set_=update))

    # -- intents -----------------------------------------------------------------------------------
    def record_intents(self, rows: Iterable[dict[str, Any]]) -> None:
        rows = [{**row, "created_at": now()} for row in rows]
        if not rows:
            return
        with self.transaction() as con:
            statement = self._insert()(intents)
            con.execute(
                statement.on_conflict_do_update(
                    index_elements=["sync_name", "record_key"],
                    set_={
                        c: statement.excluded[c]
                        for c in ("operation", "record_hash", "idempotency_key", "run_id", "created_at")
                    },
                ),
                rows,
            )

    def pending_intents(self, sync_name: str) -> dict[str, dict[str, Any]]:
        with self.engine.connect() as con:
            rows = con.execute(sa.select(intents).where(intents.c.sync_name == sync_name)).mappings()
            return {row["record_key"]: dict(row) for row in rows}

    def clear_intent(self, con: sa.Connection, sync_name: str, record_key: str) -> None:
        con.execute(
            sa.delete(intents).where(intents.c.sync_name == sync_name, intents.c.record_key == record_key)
        )

    # -- ledger ------------------------------------------------------------------------------------
    def append_ledger(self, con: sa.Connection, row: dict[str, Any]) -> None:
        con.execute(sa.insert(ledger).values(recorded_at=now(), **row))

    def ledger_rows(self, *, sync_name: str | None = None, run_id: str | None = None) -> list[dict]:
        query = sa.select(ledger).order_by(ledger.c.ledger_id)
        if sync_name:
            query = query.where(ledger.c.sync_name == sync_name)
        if run_id:
            query = query.where(ledger.c.run_id == run_id)
        with self.engine.connect() as con:
            return [dict(r) for r in con.execute(query).mappings()]

    # -- dead-letter queue -------------------------------------------------------------------------
    def dead_letter(
        self,
        con: sa.Connection,
        *,
        sync_name: str,
        record_key: str,
        operation: str,
        error_class: str,
        http_status: int | None,
        reason: str,
        attempts: int,
        record_hash: str | None,
    ) -> None:
        stamp = now()
        failures = 1 + (
            con.execute(
                sa.select(dlq.c.failures).where(
                    dlq.c.sync_name == sync_name, dlq.c.record_key == record_key, dlq.c.status == "open"
                )
            ).scalar()
            or 0
        )
        next_attempt = stamp + timedelta(seconds=dlq_backoff_s(failures))
        statement = self._insert()(dlq).values(
            sync_name=sync_name,
            record_key=record_key,
            operation=operation,
            error_class=error_class,
            http_status=http_status,
            reason=reason,
            attempts=attempts,
            failures=failures,
            record_hash=record_hash,
            next_attempt_at=next_attempt,
            first_failed_at=stamp,
            last_failed_at=stamp,
            status="open",
        )
        con.execute(
            statement.on_conflict_do_update(
                index_elements=["sync_name", "record_key"],
                set_={
                    "operation": operation,
                    "error_class": error_class,
                    "http_status": http_status,
                    "reason": reason,
                    "attempts": dlq.c.attempts + attempts,
                    "failures": failures,
                    "record_hash": record_hash,
                    "next_attempt_at": next_attempt,
                    "last_failed_at": stamp,
                    # a row that failed again after being resolved is open again, first failure kept
                    "first_failed_at": sa.case(
                        (dlq.c.status == "resolved", stamp), else_=dlq.c.first_failed_at
                    ),
                    "status": "open",
                    "resolved_at": None,
                },
            )
        )

    def resolve_dlq(self, con: sa.Connection, sync_name: str, record_key: str) -> None:
        con.execute(
            sa.update(dlq)
            .where(dlq.c.sync_name == sync_name, dlq.c.record_key == record_key, dlq.c.status == "open")
            .values(status="resolved", resolved_at=now())
        )

    def open_dlq(
        self, sync_name: str | None = None, ids: Iterable[int] | None = None, *, due_only: bool = False
    ) -> list[DlqEntry]:
        query = sa.select(dlq).where(dlq.c.status == "open").order_by(dlq.c.dlq_id)
        if due_only:
            query = query.where(dlq.c.next_attempt_at <= now())
        if sync_name:
            query = query.where(dlq.c.sync_name == sync_name)
        if ids is not None:
            query = query.where(dlq.c.dlq_id.in_(list(ids)))
        with self.engine.connect() as con:
            return [
                DlqEntry(
                    dlq_id=r.dlq_id,
                    sync_name=r.sync_name,
                    record_key=r.record_key,
                    operation=r.operation,
                    error_class=r.error_class,
                    http_status=r.http_status,
                    reason=r.reason,
                    attempts=r.attempts,
                    failures=r.failures,
                    record_hash=r.record_hash,
                    first_failed_at=r.first_failed_at,
                    last_failed_at=r.last_failed_at,
                    next_attempt_at=r.next_attempt_at,
                )
                for r in con.execute(query)
            ]

    # -- quarantine --------------------------------------------------------------------------------
    # -- events ------------------------------------------------------------------------------------
    def record_events(self, refs: Iterable[dict[str, Any]], correlation_id: str, run_id: str | None) -> None:
        """Billing events handed to a targeted run; a replayed event keeps its first record."""
        stamp = now()
        rows = [
            {
                "event_id": ref["id"],
                "event_type": ref["type"],
                "billing_customer_id": ref.get("customer"),
                "created_at": datetime.fromtimestamp(ref["created"], UTC),
                "received_at": stamp,
                "correlation_id": correlation_id,
                "run_id": run_id,
            }
            for ref in refs
        ]
        if rows:
            with self.transaction() as con:
                con.execute(
                    self._insert()(events).values(rows).on_conflict_do_nothing(index_elements=["event_id"])
                )

    def replace_quarantine(self, sync_name: str, rows: list[dict[str, Any]]) -> None:
        with self.transaction() as con:
            con.execute(sa.delete(quarantine).where(quarantine.c.sync_name == sync_name))
            if rows:
                stamp = now()
                con.execute(
                    sa.insert(quarantine), [{**r, "sync_name": sync_name, "detected_at": stamp} for r in rows]
                )
