"""`syncline demo` (`make demo`): the product end to end on the embedded default (sandbox + DuckDB).

1. the sandbox starts (if it is not running) and the `full_pipeline` job runs once;
2. business happens: customers upgrade in billing while the ERP is down;
3. the billing-events sensor sees the events and its targeted run updates support; the ERP's writes
   wait (dead letters, queued work) and an outage alert is raised;
4. the ERP comes back: the DLQ sensor replays and catches up, and resolves the alert;
5. a summary: KPIs, ledger by status, one traced transaction, where the data is, how to open the UI.

The demo ticks the sensors itself (what the Dagster daemon does under `make dev`), and every run goes
into the Dagster instance under DAGSTER_HOME, so `make dev` shows them. Output is for a person: a
progress view and the summary; everything else (Dagster events, dlt, dbt, Splink) goes to the log file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
import warnings
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from sandbox.process import SandboxProcess, running_settings
from sandbox.settings import SandboxSettings
from warehouse import Warehouse

console = Console(stderr=True)
QUIET_LOGGERS = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
UPGRADES = 3


def ensure_sandbox(scale: int, seed: int) -> SandboxSettings:
    settings = SandboxSettings(seed=seed, scale=scale)
    health = running_settings(settings)
    if health:
        console.print(
            f"Sandbox already running (seed={health['seed']}, scale={health['scale']}) at {settings.base_url('billing')}.."
        )
        return settings
    console.print(
        f"Starting the sandbox (seed={seed}, scale={scale}) in the background; log: {settings.data_dir / 'sandbox.log'}"
    )
    proc = SandboxProcess(settings)
    proc.start()
    console.print(f"Sandbox up (pid {proc.proc.pid}); stop it with `make stop`.")
    (settings.data_dir / "sandbox.pid").write_text(str(proc.proc.pid))
    return settings


def quiet_logging(log_file: Path) -> None:
    """Everything the libraries say goes to the log file; the terminal keeps the progress and summary."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(log_file, mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")  # dlt logs to stderr itself: only errors there


def run_job(instance: Any, job: Any, title: str, **kwargs: Any) -> Any:
    """Execute a job in this process against the instance, with a progress bar fed by its step events."""
    import dagster as dg

    run_id = str(uuid.uuid4())
    steps = len(job.nodes)  # one step per op (a multi-asset or a check is one op)
    outcome: dict[str, Any] = {}

    def execute() -> None:
        try:
            outcome["result"] = job.execute_in_process(
                instance=instance, run_id=run_id, raise_on_error=False, **kwargs
            )
        except Exception as exc:  # reported below, with the log file
            outcome["error"] = exc

    worker = threading.Thread(target=execute, daemon=True)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        task = progress.add_task(title, total=steps)
        worker.start()
        while worker.is_alive():
            worker.join(1.0)
            done = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS)
            progress.update(task, completed=len(done))
        final = len(instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS))
        progress.update(task, completed=final, total=max(final, steps))
    if "error" in outcome:
        raise outcome["error"]
    result = outcome["result"]
    if not result.success:
        failures = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        reason = failures[0].dagster_event.message if failures else "see the log"
        console.print(f"[red]{title}: the run failed[/] ({reason}); run {run_id} in the UI (`make dev`)")
    return result


def demo(
    scale: int = typer.Option(1000, help="Sandbox scale (real customers) when it has to be started."),
    seed: int = typer.Option(42, help="Sandbox seed when it has to be started."),
    log_file: Path = typer.Option(Path(".syncline/demo.log"), help="Where the full log goes."),
) -> None:
    """The product end to end: full pipeline, upgrades during an ERP outage, the event path and the
    DLQ recovery, then KPIs, ledger, one traced transaction."""
    log_file = log_file.resolve()
    quiet_logging(log_file)
    console.print(f"Full log: {log_file}")
    settings = ensure_sandbox(scale, seed)
    dagster_home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".syncline/dagster").resolve())))
    dagster_home.mkdir(parents=True, exist_ok=True)
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.operations import billing_events_sensor, dlq_replay_sensor
    from orchestration.defs.reverse_etl import destination_resources
    from sandbox.client import SandboxAdmin

    instance = dg.DagsterInstance.get()
    admin = SandboxAdmin(settings)
    billing = {"billing": destination_resources()["billing"]}

    result = run_job(
        instance, defs.resolve_job_def("full_pipeline"), "1/4 full pipeline", run_config=QUIET_LOGGERS
    )
    if not result.success:
        raise typer.Exit(1)
    warehouse = Warehouse.from_env()

    # 2. business happens while the ERP is down
    context = dg.build_sensor_context(instance=instance, resources=billing)
    billing_events_sensor(context)  # the sensor starts at the newest event
    cursor = context.cursor
    admin.set_faults("erp", outage=True)
    # at the wall clock: the events' timestamps then measure the real latency (the KPI)
    admin.simulate(UPGRADES, kinds=["upgrade"], seed=seed, at_wall_clock=True)
    console.print(f"2/4 {UPGRADES} customers upgraded in billing; the ERP is down (sandbox outage)")

    # 3. the event path: the sensor's tick and its targeted run
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources=billing)
    request = billing_events_sensor(context)
    event_id = None
    if isinstance(request, dg.RunRequest):
        event_id = request.tags.get("syncline/correlation_id")
        run_job(
            instance,
            defs.resolve_job_def("billing_event_sync"),
            f"3/4 billing events -> ERP and support (correlation {event_id})",
            run_config={**request.run_config, **QUIET_LOGGERS},
            tags=request.tags,
        )
    else:
        console.print(f"3/4 the billing-events sensor skipped: {request.skip_message}")

    # 4. the ERP is back: the DLQ sensor replays and catches up
    time.sleep(2)
    admin.clear_faults()
    request = dlq_replay_sensor(dg.build_sensor_context(instance=instance))
    if isinstance(request, dg.RunRequest):
        run_job(
            instance,
            defs.resolve_job_def("dlq_replay"),
            "4/4 the ERP answers again: DLQ replay and catch-up",
            run_config={**request.run_config, **QUIET_LOGGERS},
        )
    else:
        console.print(f"4/4 nothing to replay: {request.skip_message}")

    summarize_kpis(warehouse)
    summarize_syncs(warehouse)
    if event_id:
        summarize_trace(event_id, warehouse)
    summarize(warehouse)
    console.print(
        "Open the Dagster UI with `make dev` (http://127.0.0.1:3000): these runs, the asset graph, the "
        "sensors and schedules (on by default there). `.venv/bin/syncline status` shows health and KPIs."
    )


def summarize_kpis(warehouse: Warehouse) -> None:
    from operations.kpis import measure_kpis

    table = Table("KPI", "scope", "value", "unit", "n", title="Business KPIs (last 24 h)")
    for kpi in measure_kpis(warehouse):
        if kpi.scope == "all" or kpi.scope.startswith("journey:"):
            table.add_row(kpi.kpi, kpi.scope, f"{kpi.value:g}", kpi.unit, str(kpi.sample_size or ""))
    console.print(table)


def summarize_trace(identifier: str, warehouse: Warehouse) -> None:
    """The transaction of one event: its batch's events in one line, then every write and alert."""
    from collections import Counter

    from operations.trace import trace

    steps = trace(identifier, warehouse)
    events = [s for s in steps if s["step"].startswith("billing event")]
    kinds = Counter(s["step"].removeprefix("billing event ") for s in events)
    console.print(
        f"`syncline trace {identifier}`: {len(events)} billing event(s) in its batch "
        f"({', '.join(f'{n} {k}' for k, n in kinds.most_common())}), then:"
    )
    table = Table("at", "step", "system", "record", "status")
    for step in [s for s in steps if s not in events][:15]:
        table.add_row(str(step["at"])[11:23], step["step"], step["system"], step["record"], step["status"])
    console.print(table)


def summarize_syncs(warehouse: Warehouse) -> None:
    """What the reverse ETL wrote: ledger rows per sync and status, the DLQ, where to look further."""
    import sqlalchemy as sa

    from operations.alerts import open_alerts
    from reverse_etl.state import OpsStore, ledger

    store = OpsStore.for_warehouse(warehouse)
    try:
        with store.engine.connect() as con:
            rows = con.execute(
                sa.select(ledger.c.sync_name, ledger.c.status, sa.func.count())
                .group_by(ledger.c.sync_name, ledger.c.status)
                .order_by(ledger.c.sync_name, ledger.c.status)
            ).all()
        table = Table("sync", "status", "writes", title=f"Reverse-ETL ledger ({store.describe()})")
        for sync_name, status, count in rows:
            table.add_row(sync_name, status, f"{count:,}")
        console.print(table)
        dead = store.open_dlq()
        alerts = open_alerts(store)
        console.print(
            f"Dead-letter queue: {len(dead)} open (`syncline dlq list`); open alerts: {len(alerts)} "
            "(`syncline status`); every write attempt is in the ledger."
        )
    finally:
        store.close()


SUMMARY_SCHEMAS = (
    "raw_billing",
    "raw_support",
    "raw_crm",
    "raw_erp",
    "identity",
    "marts",
    "quality",
)


def summarize(warehouse: Warehouse) -> None:
    """Rows in the tables analysts start from, and how to query them."""
    from transform.publish import read_only_path

    schemas = ", ".join(f"'{s}'" for s in SUMMARY_SCHEMAS)
    rows = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({schemas}) and table_name not like '_dlt%' order by 1, 2"
    )
    counts = {
        (schema, name): warehouse.query(f'select count(*) from {schema}."{name}"')[0][0]
        for schema, name in rows
    }
    raw = sum(n for (schema, _), n in counts.items() if schema.startswith("raw_"))
    table = Table("table", "rows", title=f"The warehouse: {warehouse.describe()} ({raw:,} raw rows)")
    for (schema, name), count in counts.items():
        if schema in ("marts", "identity") and not name.startswith("sync_"):
            table.add_row(f"{schema}.{name}", f"{count:,}")
    console.print(table)
    if warehouse.kind == "duckdb":
        reader = read_only_path(warehouse)
        target = reader if reader.exists() else warehouse.duckdb_path
        console.print(
            f"Query the golden tables (read-only copy, never blocks the pipelines):\n"
            f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{target}', read_only=True)"
            f".sql('select * from marts.golden_customers limit 5'))\""
        )
