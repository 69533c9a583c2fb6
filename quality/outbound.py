"""Outbound batches: the desired-state rows a sync may send, minus the rows the gates quarantined."""

from __future__ import annotations

from dataclasses import dataclass, field

from quality.gates import QUARANTINE_SCHEMA, QUARANTINE_TABLE
from warehouse import Warehouse

OUTBOUND_SCHEMA = "outbound"


@dataclass
class OutboundBatch:
    model: str
    rows: int
    excluded: int
    operations: dict[str, int] = field(default_factory=dict)


def build_outbound_batch(warehouse: Warehouse, model: str, key: str, schema: str = "marts") -> OutboundBatch:
    desired = warehouse.read_frame(f"select * from {schema}.{model}")
    quarantined: set[str] = set()
    if warehouse.table_exists(QUARANTINE_SCHEMA, QUARANTINE_TABLE):
        rows = warehouse.read_frame(
            f"select record_key from {QUARANTINE_SCHEMA}.{QUARANTINE_TABLE} where table_name = '{model}'"
        )
        quarantined = set(rows["record_key"].astype(str))
    keep = ~desired[key].astype(str).isin(quarantined)
    batch = desired[keep].reset_index(drop=True)
    warehouse.write_frame(batch, OUTBOUND_SCHEMA, model)
    operations = (
        batch["operation"].astype(str).value_counts().to_dict() if "operation" in batch.columns else {}
    )
    return OutboundBatch(
        model=model,
        rows=len(batch),
        excluded=int((~keep).sum()),
        operations={str(k): int(v) for k, v in operations.items()},
    )
