"""`syncline sandbox ...`: serve the vendor imitations, simulate activity, export the truth."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from sandbox.settings import SandboxSettings

app = typer.Typer(help="Local imitations of the billing, support, CRM and ERP APIs.", no_args_is_help=True)
console = Console(stderr=True)


def _settings(
    seed: int | None, scale: int | None, data_dir: Path | None, host: str = "127.0.0.1"
) -> SandboxSettings:
    settings = SandboxSettings(host=host)
    if data_dir is not None:
        settings.data_dir = data_dir
    meta = settings.data_dir / "sandbox.json"
    previous = json.loads(meta.read_text()) if meta.exists() else {}
    settings.seed = seed if seed is not None else previous.get("seed", settings.seed)
    settings.scale = scale if scale is not None else previous.get("scale", settings.scale)
    return settings


@app.command()
def serve(
    seed: int | None = typer.Option(None, help="Random seed (default: the data dir's, else 42)."),
    scale: int | None = typer.Option(
        None, help="Number of real customers (default: the data dir's, else 1000)."
    ),
    data_dir: Path | None = typer.Option(None, help="Where state persists (default .syncline/sandbox)."),
    host: str = typer.Option("127.0.0.1"),
    billing_port: int | None = typer.Option(None),
    support_port: int | None = typer.Option(None),
    crm_port: int | None = typer.Option(None),
    erp_port: int | None = typer.Option(None),
    fresh: bool = typer.Option(False, help="Discard journaled writes and start from the seed."),
) -> None:
    """Start all four systems; Ctrl-C (or SIGTERM) stops them cleanly. Writes survive restarts."""
    from sandbox.server import serve as run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = _settings(seed, scale, data_dir, host)
    for system, port in (
        ("billing", billing_port),
        ("support", support_port),
        ("crm", crm_port),
        ("erp", erp_port),
    ):
        if port:
            settings.ports[system] = port
    console.print(f"Generating sandbox data (seed={settings.seed}, scale={settings.scale}) ...")
    run(settings, fresh=fresh)


@app.command()
def simulate(
    changes: int = typer.Option(10, help="Number of business changes to apply."),
    seed: int | None = typer.Option(None, help="Seed for this batch (default: derived from the run number)."),
    kind: list[str] = typer.Option(None, help="Restrict to these kinds (repeatable)."),
    at_wall_clock: bool = typer.Option(
        False, help="Happen now (wall clock) instead of 1-15 simulated minutes apart: for latency checks."
    ),
) -> None:
    """Apply upgrades, renewals, cancellations, new customers, ... to the running sandbox."""
    from sandbox.client import SandboxAdmin

    result = SandboxAdmin().simulate(changes, seed=seed, kinds=kind or None, at_wall_clock=at_wall_clock)
    table = Table("kind", "count", title=f"Simulation run {result['run']}")
    for name, count in sorted(result["kinds"].items()):
        table.add_row(name, str(count))
    console.print(table)
    console.print(f"{len(result['changes'])} records changed; clock now {result['clock']}")


@app.command()
def reset() -> None:
    """Reset the running sandbox to its seed (drops every write)."""
    from sandbox.client import SandboxAdmin

    console.print(SandboxAdmin().reset())


@app.command("export-truth")
def export_truth(
    out_dir: Path = typer.Argument(..., help="Directory for one Parquet file per truth table."),
) -> None:
    """Export the ground truth (customers, invoices, entitlements, counts) of the running sandbox to Parquet."""
    import pandas as pd

    from sandbox.client import SandboxAdmin

    admin = SandboxAdmin()
    out_dir.mkdir(parents=True, exist_ok=True)
    names = admin.http.get(admin._url("billing", "truth/_")).json().get("known", [])
    for name in names:
        data = admin.truth(name)
        if name == "counts":
            data = [
                {"system": s, "collection": c, "count": n}
                for s, tables in data.items()
                for c, n in tables.items()
            ]
        pd.DataFrame(data).to_parquet(out_dir / f"{name}.parquet", index=False)
        console.print(f"wrote {out_dir / (name + '.parquet')} ({len(data)} rows)")
