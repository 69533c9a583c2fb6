"""`syncline`: the one entry point for humans (sandbox, ingest, ...)."""

from __future__ import annotations

import typer

from sandbox.cli import app as sandbox_app

app = typer.Typer(help="Syncline: customer, contract, billing and support data in agreement.", no_args_is_help=True)
app.add_typer(sandbox_app, name="sandbox")
