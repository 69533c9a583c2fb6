"""The analysts' read-only copy, published while readers in other processes hold the previous one open.

Real DuckDB files and real processes: a build writes version N of a table into the warehouse and
publishes it. One reader process connects to the published copy before the next publishes and keeps
its connection; another opens a fresh connection again and again while the publishes run. Each
version has its own row count and sum, so a reader that sees a half-written file, or a mix of two
versions, fails the comparison (or fails to open the file at all).
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from transform.publish import publish_read_copy, read_only_path
from warehouse import Warehouse

ROWS = 200_000  # a file of a few MB: a copy takes long enough for a torn read to show
PUBLISHES = 6

SNAPSHOT = "select min(version), max(version), count(*), sum(value) from data"

HOLDER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
for line in sys.stdin:
    if line.strip() == "stop":
        break
    print(json.dumps(con.execute(sys.argv[2]).fetchone()), flush=True)
"""

OPENER = """
import json, os, sys, duckdb
seen, errors = [], []
while not os.path.exists(sys.argv[3]):
    try:
        with duckdb.connect(sys.argv[1], read_only=True) as con:
            seen.append(con.execute(sys.argv[2]).fetchone())
    except Exception as exc:  # a half-written or missing file
        errors.append(repr(exc))
print(json.dumps({"seen": seen, "errors": errors[:5], "error_count": len(errors)}), flush=True)
"""


def expected(version: int) -> list[int]:
    """The snapshot of version N: ROWS + N rows, all of version N, value 1..ROWS+N."""
    rows = ROWS + version
    return [version, version, rows, rows * (rows + 1) // 2]


def build(warehouse: Warehouse, version: int) -> None:
    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        con.execute(
            f"create or replace table data as select {version} as version, range + 1 as value"
            f" from range({ROWS + version})"
        )


@pytest.fixture
def warehouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.delenv("SYNCLINE_DUCKDB_READ_PATH", raising=False)
    return Warehouse(kind="duckdb", duckdb_path=tmp_path / "warehouse.duckdb")


def test_a_publish_is_read_only_and_leaves_no_temp_file(warehouse: Warehouse) -> None:
    for version in (1, 2):  # the second replaces a read-only file
        build(warehouse, version)
        published = publish_read_copy(warehouse)
        assert (
            published == read_only_path(warehouse) == warehouse.duckdb_path.with_name("warehouse_read.duckdb")
        )
        assert stat.S_IMODE(published.stat().st_mode) == 0o444
        with duckdb.connect(str(published), read_only=True) as con:
            assert list(con.execute(SNAPSHOT).fetchone()) == expected(version)
    assert sorted(p.name for p in published.parent.iterdir()) == ["warehouse.duckdb", "warehouse_read.duckdb"]


def test_a_failed_publish_keeps_the_previous_copy(warehouse: Warehouse) -> None:
    build(warehouse, 1)
    published = publish_read_copy(warehouse)
    warehouse.duckdb_path.write_bytes(b"not a duckdb file" * 1000)  # a source that cannot be copied
    with pytest.raises(duckdb.Error):
        publish_read_copy(warehouse)
    with duckdb.connect(str(published), read_only=True) as con:
        assert list(con.execute(SNAPSHOT).fetchone()) == expected(1)
    assert sorted(p.name for p in published.parent.iterdir()) == ["warehouse.duckdb", "warehouse_read.duckdb"]


def test_readers_holding_or_opening_the_copy_while_builds_publish(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    build(warehouse, 1)
    published = publish_read_copy(warehouse)
    stop = tmp_path / "stop"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(published), SNAPSHOT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    opener = subprocess.Popen(
        [sys.executable, "-c", OPENER, str(published), SNAPSHOT, str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:

        def holder_reads() -> list[int]:
            holder.stdin.write("read\n")
            holder.stdin.flush()
            return json.loads(holder.stdout.readline())

        assert holder_reads() == expected(1)  # connected to version 1 before the next publish
        for version in range(2, 2 + PUBLISHES):
            build(warehouse, version)
            publish_read_copy(warehouse)
            # the holder keeps reading its own, whole version 1 while the name points elsewhere
            assert holder_reads() == expected(1)
            time.sleep(0.05)  # let the opener connect to this version too
        holder.stdin.write("stop\n")
        holder.stdin.flush()
        assert holder.wait(timeout=60) == 0
        stop.touch()
        report = json.loads(opener.communicate(timeout=60)[0])
    finally:
        for process in (holder, opener):
            if process.poll() is None:
                process.kill()
                process.wait()
    assert report["error_count"] == 0, report["errors"]
    versions = {snapshot[0] for snapshot in report["seen"]}
    assert len(versions) > 1, versions  # the opener did read across the publishes
    for snapshot in report["seen"]:  # every fresh reader saw one whole version
        assert snapshot == expected(snapshot[0]), snapshot
    # a reader that connects now sees the last version
    fresh = subprocess.run(
        [sys.executable, "-c", HOLDER, str(published), SNAPSHOT],
        input="read\nstop\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(fresh.stdout) == expected(1 + PUBLISHES)


def test_in_one_process_a_newer_copy_shows_once_its_connections_are_closed(warehouse: Warehouse) -> None:
    """DuckDB keeps one instance per file path in a process (the README says so to analysts)."""
    build(warehouse, 1)
    published = publish_read_copy(warehouse)
    first = duckdb.connect(str(published), read_only=True)
    build(warehouse, 2)
    publish_read_copy(warehouse)
    second = duckdb.connect(str(published), read_only=True)
    assert list(second.execute(SNAPSHOT).fetchone()) == expected(1)  # the open instance: the old file
    first.close()
    second.close()
    with duckdb.connect(str(published), read_only=True) as third:
        assert list(third.execute(SNAPSHOT).fetchone()) == expected(2)
