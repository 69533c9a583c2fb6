"""The outbound batch of a sync: its dbt model's desired state minus the rows caught before sending.

Where it is read: on DuckDB from the analysts' read-only copy (`warehouse_read.duckdb`, published
atomically after every successful build), so a sync never waits for, or blocks, dlt and dbt writing the
warehouse file; if no copy was published yet, from the warehouse file itself. On PostgreSQL from the
`marts` schema.

What is held back (error class *invalid*, never sent): rows that break the model's pandera schema at
row level (the same schema as its blocking gate, `quality/schemas.py`), with the rule and reason. A
table-level failure (missing column, duplicate keys) blocks the whole sync, as the gate does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from quality.gates import evaluate
from quality.registry import GATES
from reverse_etl.syncs import SyncSpec
from warehouse import Warehouse


class OutboundUnavailable(RuntimeError):
    """The desired state cannot be read (not built yet, or the warehouse is locked)."""


class OutboundBlocked(RuntimeError):
    """The sync model fails its table-level gate: nothing of it may be sent."""


@dataclass
class OutboundBatch:
    spec: SyncSpec
    rows: pd.DataFrame  # valid desired-state rows
    invalid: pd.DataFrame  # quarantine rows: record_key, rule, column_name, failure_value, reason
    source: str
    total: int = 0
    keys_held_back: set[str] = field(default_factory=set)


def snapshot_path(warehouse: Warehouse) -> Path:
    """The DuckDB file a sync reads: the published read-only copy if there is one."""
    from transform.publish import read_only_path

    copy = read_only_path(warehouse)
    return copy if copy.exists() else Path(warehouse.duckdb_path)


def read_desired(warehouse: Warehouse, model: str) -> tuple[pd.DataFrame, str]:
    return read_published(warehouse, f"select * from marts.{model}", model=f"marts.{model}")


def read_published(warehouse: Warehouse, sql: str, *, model: str = "the model") -> tuple[pd.DataFrame, str]:
    """Run a query on what the last build published (DuckDB: the read-only copy, never the live file)."""
    if warehouse.kind != "duckdb":
        return warehouse.read_frame(sql), warehouse.describe()
    import duckdb

    path = snapshot_path(warehouse)
    if not path.exists():
        raise OutboundUnavailable(
            f"no warehouse at {path}: run `syncline ingest` and `syncline transform` first"
        )
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return con.execute(sql).df(), str(path)
    except duckdb.CatalogException as exc:
        raise OutboundUnavailable(f"{model} is not built in {path}: run `syncline transform`") from exc
    except duckdb.IOException as exc:
        raise OutboundUnavailable(
            f"{path} is locked by a writer and no read-only copy is published yet: "
            "run `syncline transform` (it publishes one) or wait for the writer"
        ) from exc


def read_outbound(warehouse: Warehouse, spec: SyncSpec, frame: pd.DataFrame | None = None) -> OutboundBatch:
    """The batch to send: desired rows that pass the model's row rules (the others quarantined)."""
    if frame is None:
        frame, source = read_desired(warehouse, spec.model)
    else:
        source = "given frame"
    gate = next((g for g in GATES if g.table == spec.model), None)
    invalid = pd.DataFrame(columns=["record_key", "rule", "column_name", "failure_value", "reason"])
    rows = frame
    if gate is not None and len(frame):
        result = evaluate(frame, gate.schema(), spec.model, spec.key)
        if not result.passed:
            raise OutboundBlocked(f"{spec.model} fails its gate: " + "; ".join(result.table_failures))
        if len(result.quarantine):
            invalid = result.quarantine[["record_key", "rule", "column_name", "failure_value", "reason"]]
            rows = frame[~frame[spec.key].astype(str).isin(result.quarantined_keys)]
    return OutboundBatch(
        spec=spec,
        rows=rows.reset_index(drop=True),
        invalid=invalid.reset_index(drop=True),
        source=source,
        total=len(frame),
        keys_held_back=set(invalid["record_key"].astype(str)),
    )
