"""`syncline sync` and `syncline dlq`: the reverse ETL at the terminal.

Exit codes: 0 every planned record was written or parked in the DLQ with a reason; 3 a destination's
circuit opened and work was left queued; 2 usage or configuration errors.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(stderr=True)
EXIT_CIRCUIT_OPEN = 3
EXIT_USAGE = 2

SUMMARY_COLUMNS = (
    "created",
    "updated",
    "unchanged",
    "conflict",
    "rejected",
    "retried",
    "dead_lettered",
    "invalid",
    "queued",
    "p50_ms",
    "p95_ms",
)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(EXIT_USAGE)


def _summary(results: list[dict]) -> Table:
    table = Table(title="sync summary", show_lines=False)
    table.add_column("sync")
    for column in SUMMARY_COLUMNS:
        table.add_column(column.replace("_", " "), justify="right")
    for r in results:
        table.add_row(r["sync"], *("" if r[c] is None else str(r[c]) for c in SUMMARY_COLUMNS))
    return table


def _dry_run_report(result: dict) -> None:
    planned = ", ".join(f"{count} {op}" for op, count in sorted(result["planned"].items())) or "nothing"
    console.print(
        f"[bold]{result['sync']}[/bold] -> {result['destination']}: would send {planned}; "
        f"{result['unchanged']} unchanged, {result['invalid']} invalid, {result['review']} for review"
    )
    for sample in result.get("samples", [])[:5]:
        changes = "; ".join(f"{prop}: {c['from']!r} -> {c['to']!r}" for prop, c in sample["changes"].items())
        console.print(f"  {sample['operation']:6} {sample['record_key']}: {changes}")


def sync_command(
    names: Annotated[list[str] | None, typer.Argument(help="Syncs to run (default: all).")] = None,
    all_syncs: Annotated[bool, typer.Option("--all", help="Run every sync.")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the planned operations; write nothing.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N writes per sync.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per sync on stdout.")] = False,
) -> None:
    """Diff each sync's desired state against what it last wrote and send only the changes."""
    from reverse_etl.engine import SyncContext
    from reverse_etl.outbound import OutboundBlocked, OutboundUnavailable
    from reverse_etl.runner import run_syncs
    from reverse_etl.syncs import SYNCS, OwnershipViolation

    if names and all_syncs:
        raise _fail("give sync names or --all, not both")
    unknown = [n for n in names or [] if n not in SYNCS]
    if unknown:
        raise _fail(f"unknown sync(s) {', '.join(unknown)}; known: {', '.join(SYNCS)}")
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=as_json or dry_run,
    )
    tasks: dict[str, int] = {}

    def configure(context: SyncContext) -> None:
        def planned(spec, total: int) -> None:
            tasks[spec.name] = progress.add_task(f"{spec.name} -> {spec.destination}", total=total)
            context.progress = lambda done: progress.advance(tasks[spec.name], done)

        context.on_planned = planned

    try:
        with progress:
            results = [
                r.as_dict()
                for r in run_syncs(names or None, dry_run=dry_run, limit=limit, configure=configure)
            ]
    except (OutboundUnavailable, OutboundBlocked, OwnershipViolation, KeyError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        for result in results:
            print(json.dumps(result, default=str))
    elif dry_run:
        for result in results:
            _dry_run_report(result)
    else:
        console.print(_summary(results))
    blocked = [r for r in results if r["blocked"]]
    for r in blocked:
        console.print(f"[red]{r['sync']} did not run:[/red] {r['blocked']}")
    opened = [r["sync"] for r in results if r["circuit_open"]]
    if opened:
        console.print(
            f"[yellow]circuit opened[/yellow] during {', '.join(opened)}: the rest stays queued; "
            "run `syncline sync` again once the destination is back"
        )
        raise typer.Exit(EXIT_CIRCUIT_OPEN)
    if blocked:
        raise typer.Exit(EXIT_USAGE)


dlq_app = typer.Typer(help="The dead-letter queue: records a destination rejected or that kept failing.")


@dlq_app.command("list")
def dlq_list(
    sync: Annotated[str | None, typer.Option("--sync", help="Only this sync.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Open DLQ entries with the destination's reason."""
    from reverse_etl.state import OpsStore
    from warehouse import Warehouse

    store = OpsStore.for_warehouse(Warehouse.from_env())
    entries = store.open_dlq(sync)
    if as_json:
        for e in entries:
            print(json.dumps(e.__dict__, default=str))
        return
    table = Table(title=f"dead-letter queue ({len(entries)} open) in {store.describe()}")
    for column in ("id", "sync", "record", "op", "class", "http", "failures", "next attempt", "reason"):
        table.add_column(column, overflow="fold")
    for e in entries:
        table.add_row(
            str(e.dlq_id),
            e.sync_name,
            e.record_key,
            e.operation,
            e.error_class,
            str(e.http_status or ""),
            str(e.failures),
            str(e.next_attempt_at)[:19],
            (e.reason or "")[:200],
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(
    ids: Annotated[list[int] | None, typer.Option("--id", help="DLQ entry id (repeatable).")] = None,
    sync: Annotated[str | None, typer.Option("--sync", help="Every open entry of this sync.")] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="Every open entry.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send dead-lettered records again now (their current desired state), ignoring the backoff."""
    from reverse_etl.runner import replay_dlq

    if sum(bool(x) for x in (ids, sync, all_entries)) != 1:
        raise _fail("say what to replay: --id ID ..., --sync NAME or --all")
    results = [r.as_dict() for r in replay_dlq(ids=ids, sync_name=sync)]
    if as_json:
        for result in results:
            print(json.dumps(result, default=str))
    else:
        console.print(_summary(results) if results else "nothing to replay")
    if any(r["circuit_open"] for r in results):
        raise typer.Exit(EXIT_CIRCUIT_OPEN)
