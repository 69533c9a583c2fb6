"""dbt inside this process: the project parsed once, then each selection built against that manifest.

The one way Syncline runs dbt. `syncline transform` builds twice around the identity step through one
session (dbt's programmatic runner, `dbtRunner`: importing dbt and loading the project is paid once);
the Dagster dbt assets (orchestration/defs/transform.py) run their selection through a session too and
turn its results into Dagster events. Either way, seeds unchanged since the last build are not reloaded.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
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


@dataclass
class DbtBuild:
    """What one `dbt build` did: dbt's result per node (`dbt.artifacts...RunResult`: node, status,
    message, failures, execution_time, adapter_response)."""

    step: str
    success: bool
    results: list[Any] = field(default_factory=list)
    # seeds as at the last successful build were left out (`state:unmodified`): not in `results`
    unchanged_seeds_left_out: bool = False
    error: str | None = None  # dbt's exception when it stopped before running the nodes

    def statuses(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for result in self.results:
            status = node_status(result)
            counts[status] = counts.get(status, 0) + 1
        return counts

    def failures(self) -> list[str]:
        """`unique_id: dbt's message` of every node that errored or failed, and what a failing test
        means when the project describes it."""
        return [
            f"{result.node.unique_id}: {(result.message or '').strip()[:300]}" + _what_it_means(result.node)
            for result in self.results
            if node_status(result) in FAILED
        ]

    def raise_on_failure(self) -> None:
        if not self.success:
            detail = "; ".join(self.failures()[:5]) or str(self.error)
            raise DbtBuildFailed(f"{self.step} failed: {detail}")


def _what_it_means(node: Any) -> str:
    description = " ".join((getattr(node, "description", "") or "").split())
    return f" ({description})" if description and getattr(node, "resource_type", None) == "test" else ""


def node_status(result: Any) -> str:
    return str(getattr(result.status, "value", result.status))


class DbtSession:
    """One warehouse, one parsed project, several `dbt build` selections in a row."""

    def __init__(self, warehouse: Warehouse, progress: Callable[[str], None] | None = None) -> None:
        self.warehouse = warehouse
        self.say = progress or (lambda message: None)
        self.seconds: dict[str, float] = {}  # step -> wall time, for `syncline transform` and the bench
        self.node_seconds: dict[str, float] = {}  # unique_id -> execution time of the last build of it
        self._manifest: Any = None
        self._all_seeds_built = False  # a successful build this session selected every seed
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
        build = self.run(step, select, full_refresh=full_refresh)
        build.raise_on_failure()
        return build.statuses()

    def run(
        self, step: str, select: list[str], *, exclude: list[str] | None = None, full_refresh: bool = False
    ) -> DbtBuild:
        """`dbt build --select ... [--exclude ...]` with dbt's result per node; failures are returned,
        not raised. Selected seeds unchanged since the last remembered build are left out."""
        if self._manifest is None:
            self.parse()
        from dbt.cli.main import dbtRunner

        started = time.perf_counter()
        self._step, self._finished = step, 0
        runner = dbtRunner(manifest=self._manifest, callbacks=[self._on_event])
        exclude = list(exclude or [])
        skip_unchanged_seeds = not full_refresh and self._selects_seeds(select) and self._seeds_in_place()
        state_args = []
        if skip_unchanged_seeds:
            state_args = ["--state", str(self.state_path)]
            exclude.append(UNCHANGED_SEEDS)
        args = dbt_args("build", select=select, exclude=exclude, full_refresh=full_refresh)
        args += state_args + QUIET + NO_ARTIFACTS
        try:
            with self._environment():
                result = runner.invoke(args)
        finally:
            self.release()
        self.seconds[step] = time.perf_counter() - started
        results = list(getattr(result.result, "results", None) or [])
        for node in results:
            self.node_seconds[node.node.unique_id] = node.execution_time
        if result.success and self._selects_every_seed(select, exclude):
            self._all_seeds_built = True
        return DbtBuild(
            step=step,
            success=result.success,
            results=results,
            unchanged_seeds_left_out=skip_unchanged_seeds,
            error=None if result.exception is None else str(result.exception),
        )

    @property
    def state_path(self) -> Path:
        return last_build_state_path(self.warehouse)

    def remember_build(self) -> None:
        """After every step succeeded: keep this manifest as the state the next run compares with.
        Only once a build loaded (or kept as unchanged) every seed: a run that selected some seeds
        must not vouch for the others."""
        if not self._all_seeds_built:
            return
        self.state_path.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target_path() / "manifest.json", self.state_path / "manifest.json")

    def _seed_selectors(self) -> dict[str, set[str]]:
        """Seed unique_id -> the selectors naming it alone (its fqn, as Dagster subsets select)."""
        return {
            n.unique_id: {"fqn:" + ".".join(n.fqn), ".".join(n.fqn)}
            for n in self._manifest.nodes.values()
            if n.resource_type == "seed"
        }

    def _selects_seeds(self, select: list[str]) -> bool:
        named = set().union(*self._seed_selectors().values())
        return any(s.startswith(("path:seeds", "resource_type:seed")) or s in named for s in select)

    def _selects_every_seed(self, select: list[str], exclude: list[str]) -> bool:
        if any(s.startswith(("path:seeds", "resource_type:seed")) for s in select):
            named_out = set().union(*self._seed_selectors().values())
            return not any(e in named_out for e in exclude)
        return all(selectors & set(select) for selectors in self._seed_selectors().values())

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
