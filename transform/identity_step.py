"""Identity resolution between the dbt layers: party records in, golden ids out.

Reads `intermediate.int_party_records` (+ `intermediate.int_party_cross_references`), calls the one
matcher (`identity.match_parties`) with last run's assignments so golden ids stay stable, and writes
`identity.party_matches`, `identity.golden_id_aliases` and `identity.party_links`, which the marts read
as dbt sources. Works on DuckDB and PostgreSQL through `Warehouse`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from warehouse import Warehouse

SCHEMA = "identity"
PARTIES = ("intermediate", "int_party_records")
CROSS_REFERENCES = ("intermediate", "int_party_cross_references")


@dataclass
class IdentityRun:
    records: int
    golden_ids: int
    aliases: int
    links: int
    seconds: float
    rules: dict[str, int]
    # Probability threshold per model and how it was chosen (identity.thresholds).
    thresholds: dict[str, str] = field(default_factory=dict)


def resolve_identities(warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> IdentityRun:
    from identity.match import match_parties
    from identity.schema import PARTY_COLUMNS

    started = time.perf_counter()
    # a fixed order: Splink's EM estimates depend slightly on row order, which an incrementally built
    # table does not keep, and a rerun over the same records should give the same probabilities
    parties = warehouse.read_frame(
        f"select * from {PARTIES[0]}.{PARTIES[1]} order by source_system, source_id"
    )
    parties = parties[[c for c in PARTY_COLUMNS if c in parties.columns]]
    xrefs = _optional(warehouse, *CROSS_REFERENCES)
    previous = _optional(warehouse, SCHEMA, "party_matches")
    previous_aliases = _optional(warehouse, SCHEMA, "golden_id_aliases")

    result = match_parties(
        parties,
        previous=previous,
        cross_references=xrefs if xrefs is not None and len(xrefs) else None,
        previous_aliases=previous_aliases,
        progress=progress,
    )
    now = pd.Timestamp.now(tz="UTC").floor("s").tz_localize(None)
    matches = result.assignments.copy()
    matches["first_seen_at"] = now
    if previous is not None and "first_seen_at" in previous.columns:
        seen = previous[["source_system", "source_id", "first_seen_at"]].astype(
            {"source_system": str, "source_id": str}
        )
        matches = matches.drop(columns="first_seen_at").merge(
            seen, on=["source_system", "source_id"], how="left"
        )
        matches["first_seen_at"] = matches["first_seen_at"].fillna(now)
    matches["last_seen_at"] = now
    warehouse.write_frame(matches, SCHEMA, "party_matches")
    aliases = result.aliases.assign(retired_at=now)
    if previous_aliases is not None and len(previous_aliases) and "retired_at" in previous_aliases.columns:
        # An alias carried forward keeps the time it was retired, not the time of this run.
        retired = (
            previous_aliases[["alias_id", "retired_at"]].astype({"alias_id": str}).drop_duplicates("alias_id")
        )
        aliases = (
            aliases.astype({"alias_id": str})
            .drop(columns="retired_at")
            .merge(retired, on="alias_id", how="left")
        )
        aliases["retired_at"] = pd.to_datetime(aliases["retired_at"]).fillna(now)
        aliases = aliases.astype({"alias_id": "string", "golden_id": "string"})
    warehouse.write_frame(aliases, SCHEMA, "golden_id_aliases")
    warehouse.write_frame(result.links, SCHEMA, "party_links")
    return IdentityRun(
        records=len(matches),
        golden_ids=int(matches["golden_id"].nunique()),
        aliases=len(result.aliases),
        links=len(result.links),
        seconds=time.perf_counter() - started,
        rules={str(k): int(v) for k, v in matches["match_rule"].value_counts().items()},
        thresholds={
            kind: f"{value:.4f} ({result.threshold_sources.get(kind, 'default')})"
            for kind, value in result.thresholds.items()
        },
    )


def _optional(warehouse: Warehouse, schema: str, table: str) -> pd.DataFrame | None:
    if not warehouse.table_exists(schema, table):
        return None
    return warehouse.read_frame(f"select * from {schema}.{table}")
