"""The warehouse every layer shares: where dlt loads, dbt builds, and the reverse ETL reads.

One definition (DuckDB file by default, PostgreSQL by configuration) imported by `ingestion/`,
`transform/`, `quality/`, `reverse_etl/` and `orchestration/`, so they never disagree about where the
data is.
"""

from warehouse.connection import Warehouse

__all__ = ["Warehouse"]
