"""`syncline ingest`: load vendor data into the warehouse's raw_* schemas, without Dagster."""

from __future__ import annotations

import logging

import typer
from rich.console import Console
from rich.table import Table

from ingestion.config import SYSTEMS
from ingestion.errors import IngestionError, find_cause

console = Console(stderr=True)


def ingest(
    source: list[str] = typer.Option(
        None, "--source", "-s", help=f"Sources to load (repeatable): {', '.join(SYSTEMS)}. Default: all."
    ),
    full_refresh: bool = typer.Option(False, help="Drop incremental state and reload everything."),
) -> None:
    """Extract each source through its vendor API and load it into raw_<system> (incremental by default)."""
    from ingestion.pipeline import run_source
    from warehouse import Warehouse

    logging.basicConfig(level=logging.WARNING)
    systems = source or list(SYSTEMS)
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        raise typer.BadParameter(f"unknown source(s) {unknown}; choose from {list(SYSTEMS)}")
    warehouse = Warehouse.from_env()
    console.print(f"Loading {', '.join(systems)} into {warehouse.describe()}")
    summary = Table("source", "table", "rows this run", title="Ingestion summary")
    failed = []
    for system in systems:
        with console.status(f"[bold]{system}[/]: extracting ..."):
            try:
                run = run_source(system, warehouse=warehouse, full_refresh=full_refresh)
            except IngestionError as exc:
                console.print(f"[red]{system} failed:[/] {exc}")
                failed.append(system)
                continue
            except Exception as exc:  # dlt wraps source errors; show ours (or the root cause), not a trace
                cause = find_cause(exc, IngestionError) or _root_cause(exc)
                console.print(f"[red]{system} failed:[/] {type(cause).__name__}: {cause}")
                failed.append(system)
                continue
        console.print(
            f"[green]{system}[/] done in {run.seconds:.1f}s (extract {run.extract_s:.1f}s, normalize "
            f"{run.normalize_s:.1f}s, load {run.load_s:.1f}s) correlation id {run.correlation_id}"
        )
        for table, rows in sorted(run.rows.items()):
            summary.add_row(system, f"raw_{system}.{table}", str(rows))
    console.print(summary)
    if failed:
        raise typer.Exit(code=1)


def _root_cause(exc: BaseException) -> BaseException:
    while (exc.__cause__ or exc.__context__) is not None:
        exc = exc.__cause__ or exc.__context__
    return exc
