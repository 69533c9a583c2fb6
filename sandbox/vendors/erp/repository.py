"""Reads and journaled writes of ERP rows, directly or staged for an all-or-nothing `$batch`.

`Isolation: snapshot` batches run every inner request against a `StagedData`: writes land on copies
in an overlay and reach the store (and its journal) only on `commit()`, so a failing request leaves
nothing behind. Collection reads inside a staged batch see the committed store only.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.store import Store

LAST_WRITE_META = "erp:last_write_ms"
_DELETED = object()


class ErpData:
    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        self.store = store
        self.clock = clock

    def get(self, table: str, key: str) -> dict | None:
        return self.store[table].get(key)

    def put(self, table: str, row: dict) -> dict:
        return self.store.put(table, row)

    def delete(self, table: str, key: str) -> None:
        self.store.delete(table, key)

    def next_number(self, series: str, first: int) -> str:
        return str(self.store.next_seq(f"erp:{series}", start=first))

    def _last_write(self) -> int:
        return int(self.store.meta.get(LAST_WRITE_META, 0))

    def _remember_write(self, ms: int) -> None:
        self.store.set_meta(LAST_WRITE_META, ms)

    def stamp(self) -> int:
        """lastModified for a write, in epoch ms: the simulated clock, kept strictly increasing so
        that two writes in the same simulated second still get distinct times and etags."""
        ms = max(self.clock() * 1000, self._last_write() + 1)
        self._remember_write(ms)
        return ms


class StagedData(ErpData):
    def __init__(self, store: Store, clock: Callable[[], int]) -> None:
        super().__init__(store, clock)
        self.overlay: dict[tuple[str, str], object] = {}
        self.last_write: int | None = None

    def get(self, table: str, key: str) -> dict | None:
        staged = self.overlay.get((table, key))
        if staged is _DELETED:
            return None
        return staged if staged is not None else super().get(table, key)

    def put(self, table: str, row: dict) -> dict:
        self.overlay[(table, row["id"])] = row
        return row

    def delete(self, table: str, key: str) -> None:
        self.overlay[(table, key)] = _DELETED

    def _last_write(self) -> int:
        return self.last_write if self.last_write is not None else super()._last_write()

    def _remember_write(self, ms: int) -> None:
        self.last_write = ms

    def commit(self) -> None:
        for (table, key), row in self.overlay.items():
            if row is _DELETED:
                self.store.delete(table, key)
            else:
                self.store.put(table, row)
        if self.last_write is not None:
            self.store.set_meta(LAST_WRITE_META, self.last_write)
        self.overlay.clear()
