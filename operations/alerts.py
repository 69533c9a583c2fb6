"""Alerts: what failed, for which customers, with a link to the run, to a configurable sink.

Every alert is a row of `ops.alerts` (the default sink, queryable, and the input of the mean time to
detect / resolve KPI) and a log line; with `SYNCLINE_ALERT_WEBHOOK_URL` set it is also POSTed as a
Slack-compatible `{"text": ...}` message. An alert already open for the same kind and subject is not
raised twice: its occurrence count and last-seen time move instead. `resolve_alerts` closes them when
the condition is gone (a later run succeeded, the DLQ drained).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import sqlalchemy as sa

from reverse_etl.state import OpsStore, alerts, as_utc, now

log = logging.getLogger("syncline.alerts")
WEBHOOK_ENV = "SYNCLINE_ALERT_WEBHOOK_URL"
UI_URL_ENV = "SYNCLINE_DAGSTER_UI_URL"


@dataclass(frozen=True)
class Alert:
    kind: str  # run_failure | check_failure | dlq_growth | sla_breach | outage
    subject: str
    message: str
    severity: str = "error"
    customers: tuple[str, ...] = ()
    run_id: str | None = None
    occurred_at: datetime | None = None  # when the condition began (default: now)

    @property
    def link(self) -> str | None:
        if not self.run_id:
            return None
        base = os.environ.get(UI_URL_ENV, "http://127.0.0.1:3000").rstrip("/")
        return f"{base}/runs/{self.run_id}"

    def text(self) -> str:
        who = f" customers: {', '.join(self.customers[:10])}" + (" ..." if len(self.customers) > 10 else "")
        return (
            f"[syncline {self.severity}] {self.kind} {self.subject}: {self.message}"
            + (who if self.customers else "")
            + (f" ({self.link})" if self.link else "")
        )


def raise_alert(store: OpsStore, alert: Alert) -> bool:
    """Record (or refresh) the alert; send it to the webhook when it is new. True when new."""
    with store.transaction() as con:
        open_row = con.execute(
            sa.select(alerts.c.alert_id).where(
                alerts.c.kind == alert.kind, alerts.c.subject == alert.subject, alerts.c.resolved_at.is_(None)
            )
        ).first()
        stamp = now()
        if open_row is not None:
            con.execute(
                sa.update(alerts)
                .where(alerts.c.alert_id == open_row.alert_id)
                .values(last_seen_at=stamp, occurrences=alerts.c.occurrences + 1, message=alert.message)
            )
            return False
        con.execute(
            sa.insert(alerts).values(
                raised_at=stamp,
                occurred_at=min(as_utc(alert.occurred_at or stamp), stamp),
                last_seen_at=stamp,
                occurrences=1,
                kind=alert.kind,
                subject=alert.subject,
                severity=alert.severity,
                message=alert.message,
                customers=json.dumps(list(alert.customers)),
                run_id=alert.run_id,
                link=alert.link,
            )
        )
    log.error(alert.text())
    _post_webhook(alert)
    return True


def alert_outages(
    store: OpsStore, results: Iterable[Any], *, run_id: str | None = None, customers: Iterable[str] = ()
) -> list[str]:
    """A sync whose destination's circuit opened, or whose every write failed transiently, found its
    destination down: one open `outage` alert per destination (the DLQ sensor catches up and
    resolves it once the destination answers). Returns the destinations alerted."""
    from reverse_etl.syncs import SYNCS

    down: list[str] = []
    for result in results:
        written = sum(result.counts[s] for s in ("created", "updated", "adopted", "conflict", "rejected"))
        if not (result.circuit_open or (result.counts["transient"] and not written)):
            continue
        destination = SYNCS[result.sync].destination
        down.append(destination)
        raise_alert(
            store,
            Alert(
                kind="outage",
                subject=destination,
                message=(
                    f"{destination} stopped answering during {result.sync}: {result.counts['queued']} record(s) "
                    f"queued, {result.counts['transient']} dead-lettered; they are sent once it answers again"
                ),
                customers=tuple(customers),
                run_id=run_id,
            ),
        )
    return down


def resolve_alerts(store: OpsStore, kind: str, subjects: Iterable[str] | None = None) -> int:
    """Close the open alerts of a kind (optionally only these subjects); returns how many."""
    query = sa.update(alerts).where(alerts.c.kind == kind, alerts.c.resolved_at.is_(None))
    if subjects is not None:
        query = query.where(alerts.c.subject.in_(list(subjects)))
    with store.transaction() as con:
        return con.execute(query.values(resolved_at=now())).rowcount


def open_alerts(store: OpsStore) -> list[dict]:
    with store.engine.connect() as con:
        rows = con.execute(
            sa.select(alerts).where(alerts.c.resolved_at.is_(None)).order_by(alerts.c.alert_id)
        )
        return [dict(r) for r in rows.mappings()]


def _post_webhook(alert: Alert) -> None:
    url = os.environ.get(WEBHOOK_ENV)
    if not url:
        return
    try:
        httpx.post(url, json={"text": alert.text()}, timeout=10).raise_for_status()
    except httpx.HTTPError as exc:  # the alert is in ops.alerts either way
        log.warning("alert webhook failed (%s); the alert is recorded in ops.alerts", type(exc).__name__)
