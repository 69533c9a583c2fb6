"""`syncline`: the one entry point for humans (sandbox, ingest, ...)."""

from __future__ import annotations

import typer

from identity.cli import match_command
from ingestion.cli import ingest
from operations.cli import events_app, status_command, trace_command
from reverse_etl.cli import dlq_app, sync_command
from sandbox.cli import app as sandbox_app
from syncline.demo import demo
from transform.cli import transform_command

app = typer.Typer(
    help="Syncline: customer, contract, billing and support data in agreement.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")
app.command("ingest")(ingest)
app.command("demo")(demo)
app.command("match")(match_command)
app.command("transform")(transform_command)
app.command("sync")(sync_command)
app.add_typer(dlq_app, name="dlq")
app.command("status")(status_command)
app.command("trace")(trace_command)
app.add_typer(events_app, name="events")
