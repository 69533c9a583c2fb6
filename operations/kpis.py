"""The seven business KPIs (DESIGN 8), measured from the ops store and the published marts.

- synchronization latency: billing event created (the vendor's timestamp) -> the last write of that
  event's targeted run to each destination, p50/p95 per sync and per journey. An upper bound per
  event: a batch's events share the batch's writes.
- failed transaction rate: ledger write attempts that ended rejected or transient / all attempts.
- manual reconciliation volume: what waits for a person: sync conflicts (a human edit Syncline would
  not overwrite), rejected rows in the DLQ, quarantined rows, invoice findings only finance can fix.
- duplicate customer record rate, invoice exception rate, support entitlement accuracy: the dbt marts
  `kpi_duplicate_customers`, `kpi_invoice_exceptions`, `kpi_entitlement_accuracy`.
- mean time to detect / to resolve: alerts, from the condition's start to the alert, and to its
  resolution.
Every measurement is appended to `ops.kpi_history` (trends) and returned for Dagster metadata and
`syncline status`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from reverse_etl.state import OpsStore, alerts, dlq, events, kpi_history, ledger, now, quarantine, sync_state
from warehouse import Warehouse

# event type prefix -> business journey (the first matching prefix wins)
JOURNEYS = (
    ("customer.subscription.", "subscription_change"),
    ("customer.", "customer_onboarding"),
    ("invoice.", "invoice_posting"),
    ("charge.", "invoice_posting"),
    ("credit_note.", "credit_processing"),
)
WRITTEN = ("created", "updated", "adopted")
FAILED = ("rejected", "transient")
# invoice findings a sync cannot settle (post_to_erp is the erp_invoices sync's job)
MANUAL_INVOICE_ACTIONS = ("review", "correct_amount", "correct_currency", "move_to_customer")


@dataclass(frozen=True)
class Kpi:
    kpi: str
    scope: str
    value: float | None
    unit: str
    sample_size: int | None = None

    @property
    def label(self) -> str:
        return self.kpi if self.scope == "all" else f"{self.kpi} [{self.scope}]"


def journey_of(event_type: str) -> str:
    return next((journey for prefix, journey in JOURNEYS if event_type.startswith(prefix)), "other")


def _percentiles(kpi: str, scope: str, seconds: pd.Series) -> list[Kpi]:
    n = int(seconds.size)
    if not n:
        return []
    return [
        Kpi(f"{kpi}_p50", scope, round(float(seconds.quantile(0.5)), 3), "s", n),
        Kpi(f"{kpi}_p95", scope, round(float(seconds.quantile(0.95)), 3), "s", n),
    ]


def _utc(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series, utc=True)


def sync_latency(con: sa.Connection, since: datetime) -> list[Kpi]:
    handed = pd.DataFrame(
        con.execute(
            sa.select(
                events.c.event_id, events.c.event_type, events.c.created_at, events.c.correlation_id
            ).where(events.c.received_at >= since)
        ).all(),
        columns=["event_id", "event_type", "created_at", "correlation_id"],
    )
    if handed.empty:
        return []
    writes = pd.DataFrame(
        con.execute(
            sa.select(ledger.c.correlation_id, ledger.c.sync_name, sa.func.max(ledger.c.recorded_at))
            .where(ledger.c.correlation_id.in_(handed["correlation_id"].unique().tolist()))
            .where(ledger.c.status.in_(WRITTEN))
            .group_by(ledger.c.correlation_id, ledger.c.sync_name)
        ).all(),
        columns=["correlation_id", "sync_name", "written_at"],
    )
    if writes.empty:
        return []
    joined = handed.merge(writes, on="correlation_id")
    joined["seconds"] = (_utc(joined["written_at"]) - _utc(joined["created_at"])).dt.total_seconds()
    joined["journey"] = joined["event_type"].map(journey_of)
    out = _percentiles("sync_latency", "all", joined.groupby("event_id")["seconds"].max())
    for sync_name, group in joined.groupby("sync_name"):
        out += _percentiles("sync_latency", f"sync:{sync_name}", group["seconds"])
    for journey, group in joined.groupby("journey"):
        out += _percentiles("sync_latency", f"journey:{journey}", group.groupby("event_id")["seconds"].max())
    # an entitlement update is a subscription change as support sees it
    entitlement = joined[
        (joined["journey"] == "subscription_change") & (joined["sync_name"] == "support_organizations")
    ]
    out += _percentiles("sync_latency", "journey:entitlement_update", entitlement["seconds"])
    return out


def failed_transaction_rate(con: sa.Connection, since: datetime) -> list[Kpi]:
    rows = con.execute(
        sa.select(ledger.c.sync_name, ledger.c.status, sa.func.count())
        .where(ledger.c.recorded_at >= since)
        .where(ledger.c.status.in_(WRITTEN + FAILED + ("conflict",)))
        .group_by(ledger.c.sync_name, ledger.c.status)
    ).all()
    frame = pd.DataFrame(rows, columns=["sync_name", "status", "n"])
    if frame.empty:
        return []
    frame["failed"] = frame["status"].isin(FAILED) * frame["n"]

    def rate(part: pd.DataFrame, scope: str) -> Kpi:
        total = int(part["n"].sum())
        return Kpi(
            "failed_transaction_rate", scope, round(float(part["failed"].sum()) / total, 6), "share", total
        )

    return [rate(frame, "all")] + [rate(g, f"sync:{name}") for name, g in frame.groupby("sync_name")]


def manual_reconciliation_volume(con: sa.Connection, warehouse: Warehouse) -> list[Kpi]:
    counts = {
        "sync_conflicts": con.execute(
            sa.select(sa.func.count()).select_from(sync_state).where(sync_state.c.status == "conflict")
        ).scalar_one(),
        "rejected_rows": con.execute(
            sa.select(sa.func.count())
            .select_from(dlq)
            .where(dlq.c.status == "open", dlq.c.error_class == "rejected")
        ).scalar_one(),
        "quarantined_rows": con.execute(sa.select(sa.func.count()).select_from(quarantine)).scalar_one(),
    }
    listed = ", ".join(f"'{a}'" for a in MANUAL_INVOICE_ACTIONS)
    invoices = _mart_value(
        warehouse, f"select count(*) from marts.invoice_reconciliation where action_needed in ({listed})"
    )
    if invoices is not None:
        counts["invoice_findings"] = int(invoices)
    out = [Kpi("manual_reconciliation_volume", "all", float(sum(counts.values())), "records")]
    out += [
        Kpi("manual_reconciliation_volume", f"source:{k}", float(v), "records") for k, v in counts.items()
    ]
    return out


def _mart_value(warehouse: Warehouse, sql: str) -> float | None:
    """One number from the published marts; None when the mart is not built yet."""
    from reverse_etl.outbound import OutboundUnavailable, read_published

    try:
        frame, _ = read_published(warehouse, sql)
    except OutboundUnavailable:
        return None
    if frame.empty or pd.isna(frame.iat[0, 0]):
        return None
    return float(frame.iat[0, 0])


def mart_kpis(warehouse: Warehouse) -> list[Kpi]:
    specs = (
        ("duplicate_customer_record_rate", "select duplicate_record_rate from marts.kpi_duplicate_customers"),
        ("invoice_exception_rate", "select invoice_exception_rate from marts.kpi_invoice_exceptions"),
        ("support_entitlement_accuracy", "select entitlement_accuracy from marts.kpi_entitlement_accuracy"),
    )
    out = []
    for kpi, sql in specs:
        value = _mart_value(warehouse, sql)
        if value is not None:
            out.append(Kpi(kpi, "all", round(value, 6), "share"))
    return out


def time_to_detect_and_resolve(con: sa.Connection, since: datetime) -> list[Kpi]:
    frame = pd.DataFrame(
        con.execute(
            sa.select(alerts.c.kind, alerts.c.occurred_at, alerts.c.raised_at, alerts.c.resolved_at).where(
                alerts.c.raised_at >= since
            )
        ).all(),
        columns=["kind", "occurred_at", "raised_at", "resolved_at"],
    )
    if frame.empty:
        return []
    raised = _utc(frame["raised_at"])
    detect = (raised - _utc(frame["occurred_at"].fillna(frame["raised_at"]))).dt.total_seconds()
    resolved = frame["resolved_at"].notna()
    resolve = (_utc(frame.loc[resolved, "resolved_at"]) - raised[resolved]).dt.total_seconds()
    out = [Kpi("mean_time_to_detect", "all", round(float(detect.mean()), 3), "s", int(detect.size))]
    if resolve.size:
        out.append(
            Kpi("mean_time_to_resolve", "all", round(float(resolve.mean()), 3), "s", int(resolve.size))
        )
    out.append(Kpi("open_alerts", "all", float((~resolved).sum()), "alerts"))
    return out


def measure_kpis(
    warehouse: Warehouse | None = None, *, window: timedelta = timedelta(days=1), record: bool = True
) -> list[Kpi]:
    """All KPIs over the last `window` (the mart KPIs are the latest build's); appended to history."""
    warehouse = warehouse or Warehouse.from_env()
    since = now() - window
    store = OpsStore.for_warehouse(warehouse)
    try:
        with store.engine.connect() as con:
            measured = (
                sync_latency(con, since)
                + failed_transaction_rate(con, since)
                + manual_reconciliation_volume(con, warehouse)
                + mart_kpis(warehouse)
                + time_to_detect_and_resolve(con, since)
            )
        if record and measured:
            stamp = now()
            with store.transaction() as con:
                con.execute(sa.insert(kpi_history), [{**asdict(k), "measured_at": stamp} for k in measured])
        return measured
    finally:
        store.close()
