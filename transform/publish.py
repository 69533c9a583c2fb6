"""A read-only copy of the DuckDB warehouse for analysts, published after each successful build.

DuckDB admits one writing process, and while it writes no other process can open the file, not even
read-only. Readers therefore query `.syncline/warehouse_read.duckdb`, a copy published after a build
so that they never block the pipelines and never see a half-written file:

- the copy is written to a temp file in the target's own directory (same filesystem), flushed to disk,
  checked to open as a DuckDB database, made read-only (0o444) and only then renamed over the target
  with `os.replace`, which is atomic: a reader opening the path gets the whole old file or the whole
  new one;
- a reader that holds the previous copy open keeps its file (the rename unlinks the name, not the
  open inode) and goes on reading the same consistent data until it reconnects;
- the source is copied while this process holds it open, right after a checkpoint, so no other
  process writes to it during the copy.

On PostgreSQL readers query the warehouse directly.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from pathlib import Path

from warehouse import Warehouse

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH  # 0o444


def read_only_path(warehouse: Warehouse) -> Path:
    return Path(
        os.environ.get(
            "SYNCLINE_DUCKDB_READ_PATH", Path(warehouse.duckdb_path).with_name("warehouse_read.duckdb")
        )
    )


def publish_read_copy(warehouse: Warehouse) -> Path | None:
    """Publish a read-only copy of the DuckDB file; returns the published path (None on PostgreSQL)."""
    if warehouse.kind != "duckdb":
        return None
    import duckdb

    source = Path(warehouse.duckdb_path)
    target = read_only_path(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    # unique per publish, so two publishing processes never write the same temp file
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        with duckdb.connect(str(source)) as con:
            con.execute("checkpoint")  # fold the WAL into the file so the copy is complete
            _copy_durably(source, tmp)
        with duckdb.connect(str(tmp), read_only=True) as con:  # a copy that does not open is not published
            con.execute("select count(*) from information_schema.tables").fetchone()
        os.chmod(tmp, READ_ONLY)
        # a WAL beside the target would be replayed into the new copy: only a writer leaves one
        target.with_name(f"{target.name}.wal").unlink(missing_ok=True)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_directory(target.parent)  # the rename itself survives a crash
    return target


def _copy_durably(source: Path, destination: Path) -> None:
    with source.open("rb") as src, destination.open("wb") as dst:
        shutil.copyfileobj(src, dst, length=1 << 20)
        dst.flush()
        os.fsync(dst.fileno())


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
