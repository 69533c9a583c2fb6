"""The PostgreSQL warehouse the transform tests share.

Loading the sandbox into PostgreSQL and building every layer takes about half a minute; each layer's
PostgreSQL checks read one warehouse built once per session (ingestion, then `syncline transform` in
full and once more incrementally) instead of loading and building their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from warehouse import Warehouse

TRUTHS = ("customers", "invoices", "entitlements", "counts")


class TruthSnapshot:
    """The sandbox's truth as it was when the warehouse was loaded: later tests change the sandbox.
    Answers `truth(name)` like `SandboxAdmin`, so the tests' helpers take either."""

    def __init__(self, admin: Any) -> None:
        self._truths = {name: admin.truth(name) for name in TRUTHS}

    def truth(self, name: str) -> Any:
        return self._truths[name]


@dataclass
class PostgresBuild:
    warehouse: Warehouse
    admin: TruthSnapshot
    full: Any  # transform.build.TransformRun
    incremental: Any


@pytest.fixture(scope="session")
def postgres_built(sandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresBuild]:
    from sandbox.client import SandboxAdmin
    from tests.postgres import temporary_database
    from transform.build import transform

    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("postgres_build")
    with temporary_database() as dsn:
        warehouse = Warehouse(kind="postgres", postgres_dsn=dsn)
        run = Runner(sandbox.settings, warehouse, work / "dlt")
        for system in SYSTEMS:
            run(system)
        truth = TruthSnapshot(admin)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SYNCLINE_DBT_TARGET_PATH", str(work / "target"))
            full = transform(warehouse, full_refresh=True)
            incremental = transform(warehouse)  # the incremental paths compile and run on PostgreSQL too
        yield PostgresBuild(warehouse, truth, full, incremental)
