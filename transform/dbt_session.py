"""dbt inside this process: the project parsed once, then each selection built against that manifest.

`syncline transform` builds twice around the identity step. Running both builds through dbt's
programmatic runner (`dbtRunner`) pays for importing dbt and loading the project once instead of per
invocation. Dagster keeps dagster-dbt's `dbt` subprocesses (`DbtCliResource`), one per asset step.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from transform.dbt_cli import dbt_args, dbt_env, last_build_state_path, target_path
from warehouse import Warehouse

# Console output stays with the caller (progress comes from the node events); dbt's own log file keeps
# the detail. Failures are raised as DbtBuildFailed naming the nodes.
QUIET = ["--quiet"]
# The results come back in-process; `dbt parse` has already written target/manifest.json.
NO_ARTIFACTS = ["--no-write-json"]
# A seed whose file and config are as at the last successful build holds the same rows: reloading it
# and re-running its tests would change nothing.
UNCHANGED_SEEDS = "resource_type:seed,state:unmodified"
FAILED = ("error", "fail", "runtime error")


class DbtBuildFailed(RuntimeError):
    pass


class DbtSession:
    """One warehouse, one parsed project, several `dbt build` selections in a row."""

    def __init__(self, warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> None:
        self.warehouse = warehouse
        self.say = progress or (lambda message: None)
        self.seconds: dict[str, float] = {}  # step -> wall time, for `syncline transform` and the bench
        self.node_seconds: dict[str, float] = {}  # unique_id -> execution time of the last build of it
        self._manifest: Any = None
        self._lock = threading.Lock()
        self._finished = 0
        self._step = ""

    def parse(self) -> None:
        started = time.perf_counter()
        from dbt.cli.main import dbtRunner  # importing dbt is part of its fixed cost: time it here

        with self._environment():
            result = dbtRunner().invoke(dbt_args("parse") + QUIET)
        if not result.success:
            raise DbtBuildFailed(f"dbt parse failed: {result.exception}")
        self._manifest = result.result
        self.seconds["dbt parse"] = time.perf_counter() - started

    def build(self, step: str, select: list[str], *, full_refresh: bool = False) -> dict[str, int]:
        """`dbt build --select ...`; returns node status -> count, raises DbtBuildFailed on any failure."""
        if self._manifest is None:
            self.parse()
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        self._step, self._finished = step, 0
        runner = dbtRunner(manifest=self._manifest, callbacks=[self._on_event])
        args = dbt_args("build", select=select, full_refresh=full_refresh) + QUIET + NO_ARTIFACTS
        if not full_refresh and any(s.startswith("path:seeds") for s in select) and self._seeds_in_place():
            args += ["--state", str(self.state_path), "--exclude", UNCHANGED_SEEDS]
        try:
            with self._environment():
                result = runner.invoke(args)
        finally:
            self.release()
        self.seconds[step] = time.perf_counter() - started
        statuses: dict[str, int] = {}
        failed = []
        for node in getattr(result.result, "results", None) or []:
            status = str(getattr(node.status, "value", node.status))
            statuses[status] = statuses.get(status, 0) + 1
            self.node_seconds[node.node.unique_id] = node.execution_time
            if status in FAILED:
                failed.append(f"{node.node.unique_id}: {(node.message or '').strip()[:300]}")
        if not result.success:
            detail = "; ".join(failed[:5]) or str(result.exception)
            raise DbtBuildFailed(f"{step} failed: {detail}")
        return statuses

    @property
    def state_path(self) -> Path:
        return last_build_state_path(self.warehouse)

    def remember_build(self) -> None:
        """After every step succeeded: keep this manifest as the state the next run compares with."""
        self.state_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target_path() / "manifest.json", self.state_path / "manifest.json")

    def _seeds_in_place(self) -> bool:
        """A previous build's manifest exists and every seed table is in the warehouse (a new or
        emptied warehouse at the same path gets its seeds back)."""
        if not (self.state_path / "manifest.json").exists():
            return False
        seeds = {(n.schema, n.alias) for n in self._manifest.nodes.values() if n.resource_type == "seed"}
        schemas = ", ".join(f"'{schema}'" for schema in {schema for schema, _ in seeds})
        present = self.warehouse.query(
            f"select table_schema, table_name from information_schema.tables where table_schema in ({schemas})"
        )
        return seeds <= set(present)

    def release(self) -> None:
        """dbt-duckdb keeps the DuckDB file open in the process that ran it; let it go so the identity
        step and the read-only copy can open the file."""
        if self.warehouse.kind == "duckdb":
            from dbt.adapters.duckdb.connections import DuckDBConnectionManager

            DuckDBConnectionManager.close_all_connections()

    @contextmanager
    def _environment(self) -> Iterator[None]:
        """The profile's variables (warehouse kind, DuckDB path or PostgreSQL parts) for one invocation,
        then the process environment as it was: a session must not redirect later callers."""
        values = dbt_env(self.warehouse)
        saved = {name: os.environ.get(name) for name in values}
        os.environ.update(values)
        try:
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def _on_event(self, event: Any) -> None:
        # Called from dbt's worker threads.
        if event.info.name != "NodeFinished":
            return
        with self._lock:
            self._finished += 1
            node = event.data.node_info.node_name
            self.say(f"{self._step}: {self._finished} nodes done ({node})")
