"""Event-driven operations: the billing-events sensor and its targeted job, DLQ replay, alerts.

- `billing_events_sensor` polls `/v1/events` from a durable cursor (the newest event id it handed to a
  run; Dagster keeps it across daemon restarts) and requests ONE `billing_event_sync` run per tick for
  every event since, keyed by the newest event id (a repeated tick cannot request it twice). The
  first tick starts at the newest event (no history replay: `syncline events replay --since` does
  that). The run carries the first event id as correlation id.
- `billing_event_sync` (in-process executor: no per-step subprocess): billing ingestion -> incremental
  transform -> the syncs for the golden customers the events touch (`operations/event_sync.py`).
- `dlq_replay_sensor` requests a `dlq_replay` run for dead-lettered records whose backoff has passed,
  once their destination answers again, and for the syncs an outage left with queued work (an open
  `outage` alert, raised when a destination's circuit opens; resolved when the catch-up succeeds).
  It raises a `dlq_growth` alert when the queue grows past `SYNCLINE_DLQ_ALERT_THRESHOLD` (default
  10) and resolves it when the queue drains.
- `run_failure_alert` records every failed run (a blocking check failure fails its run too) as an
  alert with a link to the run; `run_success_resolves_alerts` closes the job's alert when it succeeds.

ERP changes (credit memos posted, customer master edits) and support entitlement refreshes have no
event feed in the vendors' APIs (Business Central webhooks need a public endpoint; Zendesk has no
organization event feed): they run on the hourly pipeline schedule (incremental, `lastModifiedDateTime`
and Zendesk's incremental export) and the nightly reconciliation.
"""

import hashlib
import json
import os
from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.ingestion import WAREHOUSE_WRITER_POOL
from orchestration.defs.reverse_etl import BillingDestinationResource
from orchestration.tags import CORRELATION_TAG, SOURCE_EVENT_TAG

SENSOR_INTERVAL_S = int(os.environ.get("SYNCLINE_EVENT_SENSOR_INTERVAL_S", "2"))
DLQ_SENSOR_INTERVAL_S = int(os.environ.get("SYNCLINE_DLQ_SENSOR_INTERVAL_S", "30"))
MAX_EVENTS_PER_RUN = 1_000


class BillingEvent(dg.Config):
    id: str
    type: str
    created: int  # the vendor's timestamp (epoch seconds): the start of the latency KPI
    customer: str | None = None


class BillingEventSyncConfig(dg.Config):
    billing_customer_ids: list[str]
    events: list[BillingEvent]

    @property
    def event_ids(self) -> list[str]:
        return [e.id for e in self.events]


@dg.op(
    pool=WAREHOUSE_WRITER_POOL,
    description="Billing ingestion -> incremental transform -> the syncs for the customers the events touch.",
)
def sync_billing_changes(context: dg.OpExecutionContext, config: BillingEventSyncConfig) -> None:
    from operations.event_sync import run_event_sync
    from orchestration.defs.reverse_etl import sync_metadata

    correlation_id = context.run.tags.get(CORRELATION_TAG) or config.event_ids[0]
    run = run_event_sync(
        config.billing_customer_ids,
        correlation_id=correlation_id,
        source_event=",".join(config.event_ids)[:500],
        progress=context.log.info,
        events=[e.model_dump() for e in config.events],
        run_id=context.run.run_id,
    )
    for result in run.results:
        context.log_event(
            dg.AssetMaterialization(asset_key=["reverse_etl", result.sync], metadata=sync_metadata(result))
        )
    context.log.info(
        f"{len(config.event_ids)} event(s) -> {len(run.golden_customers)} golden customer(s); "
        f"seconds: { {k: round(v, 2) for k, v in run.seconds.items()} }"
    )


@dg.job(
    executor_def=dg.in_process_executor,
    description="Targeted sync for a batch of billing events (requested by billing_events_sensor).",
)
def billing_event_sync() -> None:
    sync_billing_changes()


@dg.sensor(
    job=billing_event_sync,
    minimum_interval_seconds=SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Polls the billing event feed from a durable cursor; one targeted run per batch of events.",
)
def billing_events_sensor(context: dg.SensorEvaluationContext, billing: BillingDestinationResource):
    from operations.billing_events import billing_client, events_after, newest_event_id

    with billing_client(billing.connection()) as client:
        if context.cursor is None:
            newest = newest_event_id(client)
            context.update_cursor(newest or "")
            return dg.SkipReason(f"started at the newest billing event {newest}")
        if not context.cursor:
            newest = newest_event_id(client)
            if newest:
                context.update_cursor(newest)
            return dg.SkipReason("no billing event yet")
        batch = events_after(client, context.cursor, max_events=MAX_EVENTS_PER_RUN)
    customers = batch.customers()
    if not batch.events:
        return dg.SkipReason("no new billing event")
    context.update_cursor(batch.cursor)
    if not customers:
        return dg.SkipReason(f"{len(batch.events)} event(s) touch no customer sync")
    return dg.RunRequest(
        run_key=batch.cursor,
        run_config={
            "ops": {
                "sync_billing_changes": {
                    "config": {"billing_customer_ids": customers, "events": batch.refs()}
                }
            }
        },
        tags={CORRELATION_TAG: batch.ids[0], SOURCE_EVENT_TAG: ",".join(batch.ids)[:200]},
    )


class DlqReplayConfig(dg.Config):
    dlq_ids: list[int]
    catch_up_syncs: list[str] = []  # syncs whose destination was down: their queued work is resent


@dg.op(
    description="Send due dead-lettered records again (their current desired state), then the work an "
    "outage left queued; resolves the outage alert of a destination that took it."
)
def replay_dead_letters(context: dg.OpExecutionContext, config: DlqReplayConfig) -> None:
    from operations.alerts import alert_outages, resolve_alerts
    from orchestration.defs.reverse_etl import sync_metadata
    from reverse_etl.runner import replay_dlq, run_syncs
    from reverse_etl.state import OpsStore
    from reverse_etl.syncs import SYNCS
    from warehouse import Warehouse

    correlation_id = f"dlq_{context.run.run_id}"
    results = replay_dlq(ids=config.dlq_ids, correlation_id=correlation_id) if config.dlq_ids else []
    if config.catch_up_syncs:
        results += run_syncs(config.catch_up_syncs, correlation_id=correlation_id)
    for result in results:
        context.log_event(
            dg.AssetMaterialization(asset_key=["reverse_etl", result.sync], metadata=sync_metadata(result))
        )
    store = OpsStore.for_warehouse(Warehouse.from_env())
    try:
        still_down = set(alert_outages(store, results, run_id=context.run.run_id))
        recovered = {SYNCS[name].destination for name in config.catch_up_syncs} - still_down
        resolve_alerts(store, "outage", recovered)
    finally:
        store.close()
    if still_down:
        context.log.warning(f"still not answering: {sorted(still_down)}; the sensor tries again later")


@dg.job(executor_def=dg.in_process_executor, description="Replay dead-lettered records (dlq_replay_sensor).")
def dlq_replay() -> None:
    replay_dead_letters()


@dg.sensor(
    job=dlq_replay,
    minimum_interval_seconds=DLQ_SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Replays dead-lettered records once their backoff passed and their destination answers, "
    "and catches up the work an outage left queued; alerts when the DLQ grows.",
)
def dlq_replay_sensor(context: dg.SensorEvaluationContext):
    from operations.alerts import Alert, open_alerts, raise_alert, resolve_alerts
    from reverse_etl.destinations import probe
    from reverse_etl.state import OpsStore
    from reverse_etl.syncs import SYNCS
    from warehouse import Warehouse

    store = OpsStore.for_warehouse(Warehouse.from_env())
    try:
        open_entries = store.open_dlq()
        threshold = int(os.environ.get("SYNCLINE_DLQ_ALERT_THRESHOLD", "10"))
        if len(open_entries) > threshold:
            # the queue crossed the threshold when its (threshold + 1)-th oldest entry failed
            crossed = sorted(e.first_failed_at for e in open_entries)[threshold]
            raise_alert(
                store,
                Alert(
                    kind="dlq_growth",
                    subject="dlq",
                    severity="warning",
                    message=(
                        f"{len(open_entries)} records in the dead-letter queue (threshold {threshold}): "
                        + ", ".join(f"{e.sync_name}/{e.record_key}" for e in open_entries[:10])
                    ),
                    occurred_at=crossed,
                ),
            )
        elif not open_entries:
            resolve_alerts(store, "dlq_growth")
        due = store.open_dlq(due_only=True)
        outages = [a for a in open_alerts(store) if a["kind"] == "outage"]
    finally:
        store.close()
    waiting = {SYNCS[e.sync_name].destination for e in due} | {a["subject"] for a in outages}
    if not waiting:
        return dg.SkipReason(f"{len(open_entries)} open DLQ record(s), none due; no outage open")
    healthy = {system for system in waiting if probe(system)}
    recovered = healthy & {a["subject"] for a in outages}
    due_ids = {e.dlq_id for e in due}
    # a destination back from an outage gets its transient dead letters now, whatever their backoff
    ready = [
        e
        for e in open_entries
        if (e.dlq_id in due_ids and SYNCS[e.sync_name].destination in healthy)
        or (e.error_class == "transient" and SYNCS[e.sync_name].destination in recovered)
    ]
    catch_up = sorted(s.name for s in SYNCS.values() if s.destination in recovered)
    if not ready and not catch_up:
        return dg.SkipReason(f"waiting for {sorted(waiting)} to answer again")
    ids = sorted(e.dlq_id for e in ready)
    # the same entries at the same failure count (and the same outages) are requested once, across
    # ticks and daemon restarts
    key = json.dumps(
        [
            [[e.dlq_id, e.failures] for e in sorted(ready, key=lambda e: e.dlq_id)],
            sorted(a["alert_id"] for a in outages),
        ]
    )
    return dg.RunRequest(
        run_key="dlq:" + hashlib.sha256(key.encode()).hexdigest()[:24],
        run_config={"ops": {"replay_dead_letters": {"config": {"dlq_ids": ids, "catch_up_syncs": catch_up}}}},
    )


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Every failed run becomes an alert (ops.alerts, the log, the webhook) with a link to the run.",
)
def run_failure_alert(context: dg.RunFailureSensorContext) -> None:
    from operations.alerts import Alert, raise_alert
    from reverse_etl.state import OpsStore
    from warehouse import Warehouse

    message = context.failure_event.message or "the run failed"
    kind = "check_failure" if "asset check" in message.lower() else "run_failure"
    store = OpsStore.for_warehouse(Warehouse.from_env())
    try:
        raise_alert(
            store,
            Alert(
                kind=kind,
                subject=context.dagster_run.job_name,
                message=message[:1000],
                run_id=context.dagster_run.run_id,
                occurred_at=datetime.fromtimestamp(context.failure_event.timestamp, UTC),
            ),
        )
    finally:
        store.close()


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="A successful run resolves the open alerts of its job (mean time to resolve).",
)
def run_success_resolves_alerts(context: dg.RunStatusSensorContext) -> None:
    from operations.alerts import resolve_alerts
    from reverse_etl.state import OpsStore
    from warehouse import Warehouse

    store = OpsStore.for_warehouse(Warehouse.from_env())
    try:
        for kind in ("run_failure", "check_failure"):
            resolve_alerts(store, kind, [context.dagster_run.job_name])
    finally:
        store.close()


def operations_defs() -> dg.Definitions:
    return dg.Definitions(
        jobs=[billing_event_sync, dlq_replay],
        sensors=[billing_events_sensor, dlq_replay_sensor, run_failure_alert, run_success_resolves_alerts],
    )
