"""dlt's local pipeline state belongs to one warehouse: one pipelines dir per destination.

dlt keeps each pipeline's state (incremental cursors, schemas, pending packages) in a local working dir
and a copy in the destination. A working dir keyed by pipeline name only survived a change of
warehouse, so a new DuckDB file or a PostgreSQL database got only what changed since the last run
elsewhere. Each destination now gets its own dir under the pipelines root, named by a fingerprint of
where the data lives (the DuckDB file's resolved path; PostgreSQL's host, port and database, never
user or password). A warehouse seen for the first time starts with an empty working dir: dlt restores
the state the warehouse holds, or starts over when it holds none (`run_source` syncs before extracting).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from warehouse import Warehouse

DESTINATION_NOTE = "DESTINATION"  # a file naming the warehouse a dir belongs to, for humans


def destination_identity(warehouse: Warehouse) -> str:
    """Where the data lives, without credentials: `duckdb:/abs/path.duckdb`, `postgres:host:port/db`."""
    if warehouse.kind == "duckdb":
        return f"duckdb:{warehouse.duckdb_path.resolve()}"
    parts = warehouse.postgres_parts()
    host, port, database = parts["SYNCLINE_PG_HOST"], parts["SYNCLINE_PG_PORT"], parts["SYNCLINE_PG_DATABASE"]
    return f"postgres:{host.lower()}:{port}/{database}"


def destination_fingerprint(warehouse: Warehouse) -> str:
    """A stable, file-name-safe key of the destination: `duckdb-<16 hex>` / `postgres-<16 hex>`."""
    digest = hashlib.sha256(destination_identity(warehouse).encode()).hexdigest()[:16]
    return f"{warehouse.kind}-{digest}"


def pipelines_dir_for(root: Path, warehouse: Warehouse) -> Path:
    """The pipelines dir for this warehouse under `root` (created, with a note naming the warehouse)."""
    path = Path(root).resolve() / destination_fingerprint(warehouse)
    path.mkdir(parents=True, exist_ok=True)
    note = path / DESTINATION_NOTE
    if not note.exists():
        note.write_text(destination_identity(warehouse) + "\n")
    return path
