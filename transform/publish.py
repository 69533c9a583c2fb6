"""A read-only copy of the DuckDB warehouse for analysts, published after each successful build.

DuckDB admits one writing process, and while it writes no other process can open the file, not even
read-only. Readers therefore query `.syncline/warehouse_read.duckdb`, a copy swapped in atomically
(copy to a temp file, then rename) after a build, so they never block the pipelines and never see a
half-written state. On PostgreSQL readers query the warehouse directly.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from warehouse import Warehouse


def read_only_path(warehouse: Warehouse) -> Path:
    return Path(
        os.environ.get(
            "SYNCLINE_DUCKDB_READ_PATH", Path(warehouse.duckdb_path).with_name("warehouse_read.duckdb")
        )
    )


def publish_read_copy(warehouse: Warehouse) -> Path | None:
    """Copy the (closed) DuckDB file next to it; returns the published path (None on PostgreSQL)."""
    if warehouse.kind != "duckdb":
        return None
    import duckdb

    source = Path(warehouse.duckdb_path)
    target = read_only_path(warehouse)
    with duckdb.connect(str(source)) as con:
        con.execute("checkpoint")  # fold the WAL into the file so the copy is complete
    tmp = target.with_suffix(".tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target
