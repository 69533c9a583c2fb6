"""`syncline transform`: the dbt build with identity resolution, outside Dagster."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True)


def transform_command(
    full_refresh: bool = typer.Option(False, help="Rebuild incremental models from scratch."),
) -> None:
    """Build staging -> intermediate, resolve identities, build the marts, publish a read-only copy."""
    from transform.build import DbtBuildFailed, transform
    from warehouse import Warehouse

    warehouse = Warehouse.from_env()
    console.print(f"Transforming in {warehouse.describe()}")
    try:
        with console.status("transforming ...") as status:
            run = transform(warehouse, full_refresh=full_refresh, progress=lambda m: status.update(m))
    except DbtBuildFailed as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    ident = run.identity
    console.print(f"dbt: {run.dbt_results}")
    if ident:
        console.print(
            f"identity: {ident.records:,} party records -> {ident.golden_ids:,} golden ids "
            f"({ident.aliases} aliases, rules {ident.rules}) in {ident.seconds:.1f}s"
        )
    if run.published:
        console.print(f"Read-only copy for analysts: {run.published}")
