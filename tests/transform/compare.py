"""Incremental builds against rebuilds from scratch: the rows two DuckDB relations disagree on, as multisets."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb

from warehouse import Warehouse


def copy_warehouse(warehouse: Warehouse, path: Path) -> Warehouse:
    """A DuckDB warehouse at `path` holding a copy of `warehouse` (closed), to rebuild or break apart."""
    shutil.copy(warehouse.duckdb_path, path)
    return Warehouse(kind="duckdb", duckdb_path=path)


def differing_rows(warehouse: Warehouse, other: Warehouse, table: str) -> int:
    """Rows of `table` in one warehouse and not the other, either way; the identity step's run times
    (first_seen_at / last_seen_at: when it saw a record) differ by nature and are left out."""
    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        con.execute(f"attach '{other.duckdb_path}' as other (read_only)")
        schema, name = table.split(".")
        columns = ", ".join(
            f'"{column}"'
            for (column,) in con.execute(
                "select column_name from information_schema.columns where table_catalog = current_database()"
                " and table_schema = ? and table_name = ? and column_name not like '%\\_seen\\_at' escape '\\'"
                " order by ordinal_position",
                [schema, name],
            ).fetchall()
        )
        return multiset_difference(con, table, f"other.{table}", columns)


def multiset_difference(con: duckdb.DuckDBPyConnection, a: str, b: str, columns: str = "*") -> int:
    """Rows of relation `a` missing from `b` plus rows of `b` missing from `a`, counted as multisets
    (`except all`): a row twice in one and once in the other counts once, where `except` would see
    no difference."""
    return sum(
        con.execute(
            f"select count(*) from (select {columns} from {x} except all select {columns} from {y})"
        ).fetchone()[0]
        for x, y in ((a, b), (b, a))
    )
