"""`syncline.record_hash` (dbt_project/macros/record_hash.sql) hashes the same row to the same value on
DuckDB and PostgreSQL, and that value is the documented one (what the reverse ETL can recompute)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from transform.dbt_cli import dbt_args, dbt_env
from warehouse import Warehouse

# one column of every type the sync models hash, with NULL and '' side by side
COLUMNS = [
    "'Ab|c'",
    "''",
    "cast(null as varchar)",
    "cast(42 as bigint)",
    "cast(12.5 as decimal(18, 2))",
    "cast('2024-02-29' as date)",
    "cast('2024-02-29 13:45:06' as timestamp)",
    "true",
    "'Zürich'",
]
TEXTS = ["Ab|c", "", None, "42", "12.50", "2024-02-29", "2024-02-29 13:45:06", "true", "Zürich"]
EXPECTED = hashlib.md5("\x1f".join("\x1e" if v is None else v for v in TEXTS).encode()).hexdigest()
# the same values with the NULL and the '' swapped must not collide
SWAPPED = [COLUMNS[0], COLUMNS[2], COLUMNS[1], *COLUMNS[3:]]


def hashes_in(warehouse: Warehouse, target: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    from dbt.cli.main import dbtRunner

    for name, value in dbt_env(warehouse).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SYNCLINE_DBT_TARGET_PATH", str(target))
    sql = (
        f"select {{{{ syncline.record_hash({COLUMNS!r}) }}}} as record_hash,"
        f" {{{{ syncline.record_hash({SWAPPED!r}) }}}} as swapped"
    )
    try:
        result = dbtRunner().invoke(dbt_args("show") + ["--inline", sql, "--quiet"])
    finally:
        if warehouse.kind == "duckdb":
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager

            DuckDBConnectionManager.close_all_connections()
    assert result.success, result.exception
    [row] = result.result.results[0].agate_table.rows
    return row["record_hash"], row["swapped"]


def test_record_hash_is_the_same_on_duckdb_and_postgres(tmp_path: Path, monkeypatch) -> None:
    from tests.postgres import temporary_database

    duckdb_hash, duckdb_swapped = hashes_in(
        Warehouse(kind="duckdb", duckdb_path=str(tmp_path / "w.duckdb")), tmp_path / "duckdb", monkeypatch
    )
    with temporary_database() as dsn:
        postgres_hash, postgres_swapped = hashes_in(
            Warehouse(kind="postgres", postgres_dsn=dsn), tmp_path / "postgres", monkeypatch
        )
    assert duckdb_hash == postgres_hash == EXPECTED
    assert duckdb_swapped == postgres_swapped != EXPECTED
