"""In-memory tables with sorted indexes, made durable by an append-only journal.

State = deterministic generation from (seed, scale) + replay of the journal of accepted writes.
Every accepted write is appended and flushed to the journal before the response leaves, so a
restart (or a crash) never loses it. Regenerating instead of snapshotting keeps the data dir small.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from sortedcontainers import SortedList

JOURNAL_FILE = "journal.jsonl"


class Table:
    """Rows keyed by a primary key, with optional sorted indexes on (field, key)."""

    def __init__(self, name: str, key: str = "id", indexes: Iterable[str] = ()) -> None:
        self.name = name
        self.key = key
        self.rows: dict[Any, dict] = {}
        self.indexes: dict[str, SortedList] = {field: SortedList() for field in indexes}

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, key: Any) -> dict | None:
        return self.rows.get(key)

    def _put(self, row: dict) -> None:
        key = row[self.key]
        old = self.rows.get(key)
        for field, index in self.indexes.items():
            if old is not None and old.get(field) is not None:
                index.discard((old[field], key))
            if row.get(field) is not None:
                index.add((row[field], key))
        self.rows[key] = row

    def _delete(self, key: Any) -> None:
        old = self.rows.pop(key, None)
        if old is None:
            return
        for field, index in self.indexes.items():
            if old.get(field) is not None:
                index.discard((old[field], key))

    def bulk_load(self, rows: Iterable[dict]) -> None:
        """Fast path for generation: build indexes once instead of per row."""
        for row in rows:
            self.rows[row[self.key]] = row
        for field in self.indexes:
            self.indexes[field] = SortedList(
                (r[field], k) for k, r in self.rows.items() if r.get(field) is not None
            )

    def scan(
        self,
        field: str,
        *,
        after: tuple | None = None,
        lower: Any = None,
        lower_inclusive: bool = True,
        upper: Any = None,
        descending: bool = False,
        before: tuple | None = None,
    ) -> Iterator[dict]:
        """Iterate rows ordered by (field, key), resuming strictly after/before a position.

        `lower`/`upper` bound the field value; `after` (ascending) or `before` (descending) is a
        position tuple (value, key) from a previous page, which is how every vendor cursor works.
        """
        index = self.indexes[field]
        if not descending:
            if after is not None:
                start = index.bisect_right(after)
            elif lower is not None:
                start = index.bisect_left((lower,)) if lower_inclusive else index.bisect_right((lower, _MAX))
            else:
                start = 0
            for pos in range(start, len(index)):
                value, key = index[pos]
                if upper is not None and value > upper:
                    return
                if lower is not None and (value < lower or (not lower_inclusive and value == lower)):
                    continue
                yield self.rows[key]
        else:
            if before is not None:
                end = index.bisect_left(before)
            elif upper is not None:
                end = index.bisect_right((upper, _MAX))
            else:
                end = len(index)
            for pos in range(end - 1, -1, -1):
                value, key = index[pos]
                if lower is not None and (value < lower or (not lower_inclusive and value == lower)):
                    return
                if upper is not None and value > upper:
                    continue
                yield self.rows[key]


class _Max:
    """Sorts after every key, so (value, _MAX) bounds all rows with that value."""

    def __lt__(self, other: Any) -> bool:
        return False

    def __gt__(self, other: Any) -> bool:
        return True

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, _Max)

    def __hash__(self) -> int:
        return 0


_MAX = _Max()


class Store:
    """All tables of all four systems, one journal; the single source of sandbox state."""

    def __init__(self, data_dir: Path | None) -> None:
        self.tables: dict[str, Table] = {}
        self.meta: dict[str, Any] = {}
        self.lock = threading.RLock()
        self.data_dir = data_dir
        self._journal = None
        self._replaying = False

    # -- schema -----------------------------------------------------------------------------
    def table(self, name: str, key: str = "id", indexes: Iterable[str] = ()) -> Table:
        if name not in self.tables:
            self.tables[name] = Table(name, key, indexes)
        return self.tables[name]

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    # -- writes (journaled) -----------------------------------------------------------------
    def put(self, table: str, row: dict) -> dict:
        with self.lock:
            self.tables[table]._put(row)
            self._append({"op": "put", "t": table, "r": row})
        return row

    def delete(self, table: str, key: Any) -> None:
        with self.lock:
            self.tables[table]._delete(key)
            self._append({"op": "del", "t": table, "k": key})

    def set_meta(self, key: str, value: Any) -> None:
        with self.lock:
            self.meta[key] = value
            self._append({"op": "meta", "k": key, "v": value})

    def next_seq(self, name: str, start: int = 1) -> int:
        """Durable counter for new ids (survives restarts through the journal)."""
        with self.lock:
            value = int(self.meta.get(f"seq:{name}", start - 1)) + 1
            self.set_meta(f"seq:{name}", value)
            return value

    # -- journal ----------------------------------------------------------------------------
    @property
    def journal_path(self) -> Path | None:
        return self.data_dir / JOURNAL_FILE if self.data_dir else None

    def open_journal(self) -> int:
        """Replay existing journal entries, then keep the file open for appends. Returns entries."""
        if self.journal_path is None:
            return 0
        self.data_dir.mkdir(parents=True, exist_ok=True)
        replayed = 0
        if self.journal_path.exists():
            self._replaying = True
            try:
                with open(self.journal_path, "rb") as fh:
                    for line in fh:
                        if not line.endswith(b"\n"):
                            break  # a torn last line was never acknowledged to a client
                        entry = orjson.loads(line)
                        self._apply(entry)
                        replayed += 1
            finally:
                self._replaying = False
        self._journal = open(self.journal_path, "ab")
        return replayed

    def truncate_journal(self) -> None:
        if self._journal is not None:
            self._journal.close()
        if self.journal_path is not None:
            self.journal_path.unlink(missing_ok=True)
            self._journal = open(self.journal_path, "ab")

    def close(self) -> None:
        if self._journal is not None:
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._journal.close()
            self._journal = None

    def _apply(self, entry: dict) -> None:
        op = entry["op"]
        if op == "put":
            self.tables[entry["t"]]._put(entry["r"])
        elif op == "del":
            self.tables[entry["t"]]._delete(entry["k"])
        elif op == "meta":
            self.meta[entry["k"]] = entry["v"]

    def _append(self, entry: dict) -> None:
        if self._replaying or self._journal is None:
            return
        self._journal.write(orjson.dumps(entry, option=orjson.OPT_NON_STR_KEYS) + b"\n")
        self._journal.flush()
