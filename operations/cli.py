"""`syncline status`, `syncline trace ID`, `syncline events replay --since EVENT_ID`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def status_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Health per system, DLQ and queue depth, KPIs, open alerts, the last sync runs."""
    from operations.status import collect_status

    status = collect_status()
    if as_json:
        print(json.dumps(status, default=str))
        return
    systems = Table(title="systems")
    for column in ("system", "answers", "open DLQ", "pending intents"):
        systems.add_column(column)
    for name, health in status["systems"].items():
        systems.add_row(
            name,
            "[green]yes[/green]" if health["answers"] else "[red]no[/red]",
            str(health["dlq_open"]),
            str(health["intents"]),
        )
    console.print(systems)
    runs = Table(title="last sync runs")
    for column in ("sync", "run", "finished", "created", "updated", "conflict", "rejected", "transient"):
        runs.add_column(column)
    for run in status["last_runs"]:
        runs.add_row(
            *(
                str(run.get(c, ""))
                for c in (
                    "sync_name",
                    "run_id",
                    "finished_at",
                    "created",
                    "updated",
                    "conflict",
                    "rejected",
                    "transient",
                )
            )
        )
    console.print(runs)
    kpis = Table(title="KPIs (last 24 h; rates are shares)")
    for column in ("KPI", "scope", "value", "unit", "n"):
        kpis.add_column(column)
    for kpi in status["kpis"]:
        kpis.add_row(kpi["kpi"], kpi["scope"], str(kpi["value"]), kpi["unit"], str(kpi["sample_size"] or ""))
    console.print(kpis)
    console.print(f"ledger: {status['ledger']}")
    console.print(f"open alerts: {len(status['alerts'])}")
    for alert in status["alerts"][:10]:
        console.print(f"  [{alert['severity']}] {alert['kind']} {alert['subject']}: {alert['message'][:160]}")
    console.print(f"ops store: {status['ops_store']}")


def trace_command(
    identifier: Annotated[str, typer.Argument(help="An event id, a correlation id or a golden customer id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every step of one business transaction: event, runs, ledger rows, destination ids, timings."""
    from operations.trace import trace

    steps = trace(identifier)
    if as_json:
        for step in steps:
            print(json.dumps(step, default=str))
        return
    if not steps:
        console.print(f"nothing recorded for {identifier}")
        raise typer.Exit(1)
    table = Table(title=f"trace of {identifier}")
    for column in ("at", "step", "system", "record", "status", "detail"):
        table.add_column(column, overflow="fold")
    for step in steps:
        table.add_row(
            str(step["at"])[:23], step["step"], step["system"], step["record"], step["status"], step["detail"]
        )
    console.print(table)


events_app = typer.Typer(help="The billing event feed.")


@events_app.command("replay")
def events_replay(
    since: Annotated[str, typer.Option("--since", help="Re-drive every billing event after this event id.")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Re-drive past billing events through the event path (idempotency makes it write nothing twice)."""
    from ingestion.config import source_config
    from operations.billing_events import billing_client, events_after
    from operations.event_sync import run_event_sync

    correlation_id = f"replay_{since}"
    with billing_client(source_config("billing"), correlation_id) as client:
        batch = events_after(client, since)
    customers = batch.customers()
    console.print(f"{len(batch.events)} event(s) after {since} touch {len(customers)} billing customer(s)")
    if not customers:
        return
    run = run_event_sync(
        customers,
        correlation_id=correlation_id,
        source_event=",".join(batch.ids)[:500],
        progress=console.print,
        events=batch.refs(),
    )
    summaries = [r.as_dict() for r in run.results]
    if as_json:
        for summary in summaries:
            print(json.dumps(summary, default=str))
    else:
        for summary in summaries:
            console.print(
                f"{summary['sync']}: created {summary['created']}, updated {summary['updated']}, "
                f"unchanged {summary['unchanged']}, rejected {summary['rejected']}"
            )
