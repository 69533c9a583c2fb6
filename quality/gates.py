"""Run a pandera schema over a warehouse table and split the outcome in two.

- Table-level failures (a missing or retyped column, duplicate primary keys, an empty table, a
  dataframe-wide rule) mean the table as a whole cannot be trusted: the gate fails and every sync
  that reads the table is blocked.
- Row-level failures (a null where a value is required, a bad currency code, a renewal before its
  start) quarantine just those rows, with the rule and the reason; the valid rows go on.

Plain Python (pandas + pandera), so the gate runs the same in Dagster checks, tests and the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from warehouse import Warehouse

QUARANTINE_SCHEMA = "quality"
QUARANTINE_TABLE = "quarantine"
QUARANTINE_COLUMNS = [
    "table_name",
    "record_key",
    "rule",
    "column_name",
    "failure_value",
    "reason",
    "detected_at",
]


@dataclass
class GateResult:
    table: str
    rows: int
    table_failures: list[str] = field(default_factory=list)
    quarantine: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=QUARANTINE_COLUMNS))

    @property
    def passed(self) -> bool:
        return not self.table_failures

    @property
    def quarantined_keys(self) -> set[str]:
        return set(self.quarantine["record_key"].astype(str))


def evaluate(
    df: pd.DataFrame, schema: pa.DataFrameSchema, table: str, key: str, *, min_rows: int = 1
) -> GateResult:
    """Validate `df` lazily; classify every failure as table-level or row-level."""
    result = GateResult(table=table, rows=len(df))
    if len(df) < min_rows:
        result.table_failures.append(f"{table} has {len(df)} rows; at least {min_rows} expected")
        return result
    try:
        schema.validate(df, lazy=True)
        return result
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    now = pd.Timestamp.now(tz="UTC").floor("s").tz_localize(None)
    # Row-level: the failure points at a row (a column check or a row-wise cross-column rule).
    row_level = cases["index"].notna() & ~cases["check"].astype(str).str.contains("uniqueness")
    for _, case in cases[~row_level].drop_duplicates(["column", "check"]).iterrows():
        count = int(((cases["column"] == case["column"]) & (cases["check"] == case["check"])).sum())
        result.table_failures.append(
            f"{case['column']}: {case['check']} ({count} failure case(s), e.g. {case['failure_case']!r})"
        )
    rows = cases[row_level]
    if len(rows):
        keys = df[key].astype(str)
        result.quarantine = pd.DataFrame(
            {
                "table_name": table,
                "record_key": [keys.iloc[int(i)] for i in rows["index"]],
                "rule": rows["check"].astype(str).to_numpy(),
                "column_name": rows["column"].astype(str).to_numpy(),
                "failure_value": rows["failure_case"].astype(str).to_numpy(),
                "reason": [
                    f"{column}={value!r} failed {rule}"
                    for column, value, rule in zip(
                        rows["column"], rows["failure_case"], rows["check"], strict=True
                    )
                ],
                "detected_at": now,
            }
        )[QUARANTINE_COLUMNS].drop_duplicates(["record_key", "rule"])
    return result


def run_gate(
    warehouse: Warehouse,
    schema: pa.DataFrameSchema,
    schema_name: str,
    table: str,
    key: str,
    *,
    min_rows: int = 1,
) -> GateResult:
    """Read the table, evaluate it, and replace this table's rows in `quality.quarantine`."""
    df = warehouse.read_frame(f"select * from {schema_name}.{table}")
    result = evaluate(df, schema, table, key, min_rows=min_rows)
    write_quarantine(warehouse, table, result.quarantine)
    return result


def write_quarantine(warehouse: Warehouse, table: str, rows: pd.DataFrame) -> None:
    existing = pd.DataFrame(columns=QUARANTINE_COLUMNS)
    if warehouse.table_exists(QUARANTINE_SCHEMA, QUARANTINE_TABLE):
        existing = warehouse.read_frame(f"select * from {QUARANTINE_SCHEMA}.{QUARANTINE_TABLE}")
        existing = existing[existing["table_name"] != table]
    combined = pd.concat([existing, rows], ignore_index=True) if len(rows) else existing
    combined = combined.astype({c: "string" for c in QUARANTINE_COLUMNS if c != "detected_at"})
    combined["detected_at"] = pd.to_datetime(combined["detected_at"])
    warehouse.write_frame(combined, QUARANTINE_SCHEMA, QUARANTINE_TABLE)
