"""`syncline demo`: sandbox up (if needed), every Dagster asset materialized, a summary of what landed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from sandbox.process import SandboxProcess, running_settings
from sandbox.settings import SandboxSettings
from warehouse import Warehouse

console = Console(stderr=True)


def ensure_sandbox(scale: int, seed: int) -> None:
    settings = SandboxSettings(seed=seed, scale=scale)
    health = running_settings(settings)
    if health:
        console.print(
            f"Sandbox already running (seed={health['seed']}, scale={health['scale']}) at {settings.base_url('billing')}.."
        )
        return
    console.print(
        f"Starting the sandbox (seed={seed}, scale={scale}) in the background; log: {settings.data_dir / 'sandbox.log'}"
    )
    proc = SandboxProcess(settings)
    proc.start()
    console.print(f"Sandbox up (pid {proc.proc.pid}); stop it with `make stop`.")
    (settings.data_dir / "sandbox.pid").write_text(str(proc.proc.pid))


def demo(
    scale: int = typer.Option(1000, help="Sandbox scale (real customers) when it has to be started."),
    seed: int = typer.Option(42, help="Sandbox seed when it has to be started."),
) -> None:
    """Run the main job on the embedded default: sandbox + DuckDB, all assets materialized."""
    ensure_sandbox(scale, seed)
    dagster_home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".syncline/dagster").resolve())))
    dagster_home.mkdir(parents=True, exist_ok=True)
    console.print("Materializing every asset with Dagster (dagster asset materialize --select '*') ...")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "asset",
            "materialize",
            "--select",
            "*",
            "-m",
            "orchestration.definitions",
        ],
        env=os.environ,
    )
    if result.returncode != 0:
        console.print(
            "[red]Materialization failed[/]: see the Dagster output above (or `make dev` and the UI)."
        )
        raise typer.Exit(result.returncode)
    warehouse = Warehouse.from_env()
    summarize(warehouse)
    summarize_syncs(warehouse)


def summarize_syncs(warehouse: Warehouse) -> None:
    """What the reverse ETL wrote: ledger rows per sync and status, the DLQ, where to look further."""
    import sqlalchemy as sa

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
        console.print(
            f"Dead-letter queue: {len(dead)} open (`syncline dlq list`); every write attempt is in the "
            "ledger (`syncline status`, `syncline trace <correlation id>`)."
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
    """Rows per table in every schema users look at (staging/intermediate are views and plumbing)."""
    from transform.publish import read_only_path

    schemas = ", ".join(f"'{s}'" for s in SUMMARY_SCHEMAS)
    rows = warehouse.query(
        "select table_schema, table_name from information_schema.tables "
        f"where table_schema in ({schemas}) and table_name not like '_dlt%' order by 1, 2"
    )
    table = Table("schema", "table", "rows", title=f"What landed in {warehouse.describe()}")
    for schema, name in rows:
        count = warehouse.query(f'select count(*) from {schema}."{name}"')[0][0]
        table.add_row(schema, name, f"{count:,}")
    console.print(table)
    if warehouse.kind == "duckdb":
        reader = read_only_path(warehouse)
        target = reader if reader.exists() else warehouse.duckdb_path
        console.print(
            f"Query the golden tables (read-only copy, never blocks the pipelines):\n"
            f"  .venv/bin/python -c \"import duckdb; print(duckdb.connect('{target}', read_only=True)"
            f".sql('select * from marts.golden_customers limit 5'))\""
        )
