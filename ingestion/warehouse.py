"""The warehouse: one DuckDB file by default, PostgreSQL by configuration.

`SYNCLINE_WAREHOUSE=duckdb|postgres`, `SYNCLINE_DUCKDB_PATH` (default .syncline/warehouse.duckdb),
`SYNCLINE_POSTGRES_DSN` (default postgresql://postgres@127.0.0.1:5432/postgres). dlt, dbt and every
reader use this one definition, so they never disagree about where the data is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dlt

DEFAULT_DUCKDB_PATH = Path(".syncline/warehouse.duckdb")
DEFAULT_POSTGRES_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Warehouse:
    kind: str = "duckdb"  # duckdb | postgres
    duckdb_path: Path = DEFAULT_DUCKDB_PATH
    postgres_dsn: str = DEFAULT_POSTGRES_DSN

    @classmethod
    def from_env(cls) -> Warehouse:
        kind = os.environ.get("SYNCLINE_WAREHOUSE", "duckdb").lower()
        if kind not in ("duckdb", "postgres"):
            raise ValueError(f"SYNCLINE_WAREHOUSE must be duckdb or postgres, not {kind!r}")
        return cls(
            kind=kind,
            duckdb_path=Path(os.environ.get("SYNCLINE_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)),
            postgres_dsn=os.environ.get("SYNCLINE_POSTGRES_DSN", DEFAULT_POSTGRES_DSN),
        )

    def destination(self) -> Any:
        if self.kind == "duckdb":
            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            return dlt.destinations.duckdb(str(self.duckdb_path.resolve()))
        return dlt.destinations.postgres(self.postgres_dsn)

    @property
    def loader_file_format(self) -> str:
        # DuckDB's default insert_values loader is ~30x slower than parquet; Postgres loads CSV by COPY.
        return "parquet" if self.kind == "duckdb" else "csv"

    def describe(self) -> str:
        if self.kind == "duckdb":
            return f"duckdb:{self.duckdb_path}"
        return "postgres:" + self.postgres_dsn.split("@")[-1]  # never print credentials

    def query(self, sql: str) -> list[tuple]:
        """Run a read query (tests, summaries). Opens and closes its own connection."""
        if self.kind == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                return con.execute(sql).fetchall()
        import psycopg2

        with psycopg2.connect(self.postgres_dsn) as con, con.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()
