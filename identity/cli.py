"""`syncline match INPUT OUTPUT [--previous PREV.parquet]`: party records in, golden ids out.

INPUT is Parquet or CSV (by extension) following `identity.schema`; OUTPUT is Parquet with
source_system, source_id, golden_id, match_probability, match_rule. Progress goes to stderr.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console

from identity.schema import PartySchemaError, read_parties

console = Console(stderr=True)
app = typer.Typer(help="Identity resolution: party records to stable golden ids.", no_args_is_help=True)


def _read_table(path: Path, what: str, required: list[str]) -> pd.DataFrame:
    if not path.exists():
        raise PartySchemaError(f"{what} file not found: {path}")
    frame = (
        pd.read_parquet(path) if path.suffix.lower() in (".parquet", ".pq") else pd.read_csv(path, dtype=str)
    )
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise PartySchemaError(f"{what} file {path} is missing column(s): {', '.join(missing)}")
    return frame


def match_command(
    input: Path = typer.Argument(..., help="party records: .parquet or .csv"),
    output: Path = typer.Argument(..., help="assignments to write (.parquet)"),
    previous: Path | None = typer.Option(
        None, "--previous", help="last run's assignments, for stable golden ids"
    ),
    previous_aliases: Path | None = typer.Option(None, "--previous-aliases", help="last run's aliases"),
    aliases: Path | None = typer.Option(
        None, "--aliases", help="write alias_id -> golden_id here (.parquet)"
    ),
    cross_references: Path | None = typer.Option(
        None,
        "--cross-references",
        help="explicit pairs: source_system_l, source_id_l, source_system_r, source_id_r",
    ),
    deterministic_only: bool = typer.Option(
        False, "--deterministic-only", help="skip the probabilistic model"
    ),
) -> None:
    """Match party records and assign stable golden ids."""
    from identity.deterministic import CROSS_REFERENCE_COLUMNS
    from identity.match import match_parties

    try:
        with console.status("reading input") as status:
            parties = read_parties(input)
            prev = (
                _read_table(previous, "previous", ["source_system", "source_id", "golden_id"])
                if previous
                else None
            )
            prev_aliases = (
                _read_table(previous_aliases, "previous aliases", ["alias_id", "golden_id"])
                if previous_aliases
                else None
            )
            xref = (
                _read_table(cross_references, "cross-references", CROSS_REFERENCE_COLUMNS)
                if cross_references
                else None
            )
            console.log(f"read {len(parties):,} party records from {input}")

            def progress(message: str) -> None:
                status.update(message)
                console.log(message)

            result = match_parties(
                parties,
                previous=prev,
                cross_references=xref,
                previous_aliases=prev_aliases,
                probabilistic=not deterministic_only,
                progress=progress,
            )
    except PartySchemaError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    if output.suffix.lower() not in (".parquet", ".pq"):
        console.print(f"[red]error:[/red] OUTPUT must be a .parquet file, got {output}")
        raise typer.Exit(code=2)
    output.parent.mkdir(parents=True, exist_ok=True)
    result.assignments.to_parquet(output, index=False)
    if aliases:
        aliases.parent.mkdir(parents=True, exist_ok=True)
        result.aliases.to_parquet(aliases, index=False)
    rules = result.assignments["match_rule"].value_counts().to_dict()
    console.log(
        f"wrote {len(result.assignments):,} assignments ({result.assignments['golden_id'].nunique():,} golden ids, "
        f"{len(result.aliases):,} aliases) to {output}; rules: {rules}"
    )


@app.callback()
def _group() -> None:
    """Identity resolution: party records to stable golden ids."""


app.command("match")(match_command)
