"""The warehouse: one DuckDB file by default, PostgreSQL by configuration.

`SYNCLINE_WAREHOUSE=duckdb|postgres`, `SYNCLINE_DUCKDB_PATH` (default .syncline/warehouse.duckdb),
`SYNCLINE_POSTGRES_DSN` (default postgresql://postgres:postgres@127.0.0.1:5432/postgres). dlt, dbt and every
reader use this one definition, so they never disagree about where the data is.

`SYNCLINE_DUCKDB_MEMORY_LIMIT` (default 1GB) caps DuckDB's buffer memory while dlt loads: its default
(80% of the machine's RAM) let a merge of the billing tables grow with the data (1.4 GB at scale 10k);
above the cap DuckDB spills to `<warehouse>.duckdb.tmp`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

import dlt

STAGING_LAYOUT = "dlt_staging_%s"
DEFAULT_DUCKDB_PATH = Path(".syncline/warehouse.duckdb")
DEFAULT_DUCKDB_MEMORY_LIMIT = "1GB"
# dlt requires a password in the DSN; with the local trust auth any value is accepted.
DEFAULT_POSTGRES_DSN = "postgresql://postgres:postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Warehouse:
    kind: str = "duckdb"  # duckdb | postgres
    duckdb_path: Path = DEFAULT_DUCKDB_PATH
    postgres_dsn: str = DEFAULT_POSTGRES_DSN
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT  # for dlt's loads (DuckDB syntax: 512MB, 2GB)

    def __post_init__(self) -> None:
        object.__setattr__(self, "duckdb_path", Path(self.duckdb_path))  # accept str paths too

    @classmethod
    def from_env(cls) -> Warehouse:
        kind = os.environ.get("SYNCLINE_WAREHOUSE", "duckdb").lower()
        if kind not in ("duckdb", "postgres"):
            raise ValueError(f"SYNCLINE_WAREHOUSE must be duckdb or postgres, not {kind!r}")
        return cls(
            kind=kind,
            duckdb_path=Path(os.environ.get("SYNCLINE_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)),
            postgres_dsn=os.environ.get("SYNCLINE_POSTGRES_DSN", DEFAULT_POSTGRES_DSN),
            duckdb_memory_limit=os.environ.get("SYNCLINE_DUCKDB_MEMORY_LIMIT", DEFAULT_DUCKDB_MEMORY_LIMIT),
        )

    def destination(self) -> Any:
        # dlt's merge staging schemas are named dlt_staging_raw_* so analysts never mistake them for data.
        if self.kind == "duckdb":
            from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

            self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
            credentials = DuckDbCredentials(
                str(self.duckdb_path.resolve()), global_config={"memory_limit": self.duckdb_memory_limit}
            )
            return dlt.destinations.duckdb(credentials, staging_dataset_name_layout=STAGING_LAYOUT)
        return dlt.destinations.postgres(self.postgres_dsn, staging_dataset_name_layout=STAGING_LAYOUT)

    @property
    def loader_file_format(self) -> str:
        # DuckDB's default insert_values loader is ~30x slower than parquet; Postgres loads CSV by COPY.
        return "parquet" if self.kind == "duckdb" else "csv"

    def describe(self) -> str:
        if self.kind == "duckdb":
            return f"duckdb:{self.duckdb_path}"
        return "postgres:" + self.postgres_dsn.split("@")[-1]  # never print credentials

    def postgres_parts(self) -> dict[str, str]:
        """The DSN split into the SYNCLINE_PG_* variables dbt's profile reads."""
        from urllib.parse import unquote, urlparse

        url = urlparse(self.postgres_dsn)
        return {
            "SYNCLINE_PG_HOST": url.hostname or "127.0.0.1",
            "SYNCLINE_PG_PORT": str(url.port or 5432),
            "SYNCLINE_PG_USER": unquote(url.username or "postgres"),
            "SYNCLINE_PG_PASSWORD": unquote(url.password or ""),
            "SYNCLINE_PG_DATABASE": (url.path or "/postgres").lstrip("/") or "postgres",
        }

    def read_frame(self, sql: str) -> pd.DataFrame:
        """A query result as a pandas DataFrame (one short-lived connection)."""
        import pandas as pd

        if self.kind == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
                return con.execute(sql).df()
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.sqlalchemy_url())
        try:
            with engine.connect() as con:
                return pd.read_sql_query(sqlalchemy.text(sql), con)
        finally:
            engine.dispose()

    def write_frame(self, df: pd.DataFrame, schema: str, table: str) -> None:
        """Replace schema.table with df atomically (readers see the old or the new table)."""
        if self.kind == "duckdb":
            import duckdb

            with duckdb.connect(str(self.duckdb_path)) as con:
                con.execute(f"create schema if not exists {schema}")
                con.register("frame", df)
                con.execute("begin")
                con.execute(f"create or replace table {schema}.{table} as select * from frame")
                con.execute("commit")
            return
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.sqlalchemy_url())
        try:
            with engine.begin() as con:
                con.execute(sqlalchemy.text(f"create schema if not exists {schema}"))
                df.to_sql(
                    table,
                    con,
                    schema=schema,
                    if_exists="replace",
                    index=False,
                    method="multi",
                    chunksize=5000,
                )
        finally:
            engine.dispose()

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "select count(*) from information_schema.tables "
            f"where table_schema = '{schema}' and table_name = '{table}'"
        )
        return rows[0][0] > 0

    def sqlalchemy_url(self) -> str:
        return self.postgres_dsn.replace("postgresql://", "postgresql+psycopg2://", 1)

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
