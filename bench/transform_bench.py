"""B3, B4 and B5: the dbt build against the same SQL run raw, incremental vs full, pandera vs reading.

Loads the sandbox at `--scale` (default 10k) through the real pipelines into a temp DuckDB warehouse,
runs the pipeline-shaped build once (dbt pre-identity -> identity step -> dbt marts) so every table
exists, then prints JSON lines:
- B3_dbt_overhead: one `dbt build --full-refresh` of all layers (seeds, models, dbt tests; the identity
  tables it reads were written by the identity step before and are not rebuilt) vs `dbt parse` (the
  fixed cost of starting dbt) and vs the compiled SQL of every model (`dbt compile --full-refresh`,
  `manifest.json` `compiled_code`) executed in dependency order as `create or replace table|view ... as`
  through the duckdb Python API on a copy of the warehouse (seeds loaded with `read_csv`), then every
  dbt test's compiled query counted; both with dbt's concurrency (profile threads, dependency
  order). Ratio full / raw; per-model overhead (full - raw models - raw tests - parse) / n_models,
  target <= 50 ms.
- B4_incremental_vs_full: after `simulate(scale // 100)` and an incremental ingestion,
  `transform.build.transform` (what `syncline transform` runs: dbt in this process, parse once, build
  pre-identity, identity step, build marts) without `--full-refresh` vs the same with it. dbt time:
  parse + both builds (the warm-up build imported dbt); the identity step is reported separately,
  not counted. Target <= 0.5, falling with scale (`B4_trend` when several scales run).
- B5_pandera_vs_read: `quality.gates.evaluate` over every gate in `quality.registry.GATES` vs reading
  those tables into DataFrames (`Warehouse.read_frame`). Target <= 1.0.
B3 runs dbt in a subprocess per command, as the dbt CLI is used; times are medians.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from bench.common import emit, median_time, progress
from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from sandbox.settings import SYSTEMS
from tests.conftest import make_settings
from tests.ingestion.conftest import Runner
from transform.dbt_cli import PROJECT_DIR, dbt_args, dbt_env
from warehouse import Warehouse

DBT = Path(sys.executable).with_name("dbt")
OVERHEAD_TARGET_MS = 50
B4_TARGET = 0.5
B5_TARGET = 1.0


class Dbt:
    """dbt in a subprocess against one warehouse, with its own target and log dirs."""

    def __init__(self, warehouse: Warehouse, work: Path) -> None:
        self.env = os.environ | dbt_env(warehouse)
        self.target, self.logs = work / "target", work / "logs"

    def __call__(
        self, command: str, *, select: list[str] | None = None, full_refresh: bool = False
    ) -> dict[str, Any]:
        args = dbt_args(command, select=select, full_refresh=full_refresh)
        if full_refresh and command == "compile":
            args.append("--full-refresh")  # compile the non-incremental branch of incremental models
        args += ["--target-path", str(self.target), "--log-path", str(self.logs)]
        started = time.perf_counter()
        completed = subprocess.run([str(DBT), *args], env=self.env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise RuntimeError(
                f"dbt {command} failed:\n{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}"
            )
        results = self.target / "run_results.json"
        nodes = json.loads(results.read_text())["results"] if command != "parse" and results.exists() else []
        return {"seconds": seconds, "nodes": nodes}

    def manifest(self) -> dict[str, Any]:
        return json.loads((self.target / "manifest.json").read_text())


def node_summary(nodes: list[dict[str, Any]], top: int = 6) -> dict[str, Any]:
    """Summed node execution times by kind (threads=2, so sums can exceed wall time) and the slowest models."""
    by_kind: dict[str, float] = {}
    models = []
    for node in nodes:
        kind = node["unique_id"].split(".")[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + node["execution_time"]
        if kind == "model":
            models.append((node["execution_time"], node["unique_id"].split(".")[-1]))
    return {
        "node_s": {k: round(v, 2) for k, v in sorted(by_kind.items())},
        "nodes": {k: sum(1 for n in nodes if n["unique_id"].startswith(k + ".")) for k in by_kind},
        "slowest_models": [
            {"model": name, "s": round(s, 2)} for s, name in sorted(models, reverse=True)[:top]
        ],
    }


def raw_statements(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(unique_id, SQL) for every seed and model, in dependency order, as plain DuckDB DDL."""
    nodes = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    graph = {uid: [d for d in n["depends_on"].get("nodes", []) if d in nodes] for uid, n in nodes.items()}
    statements = []
    for uid in TopologicalSorter(graph).static_order():
        node = nodes[uid]
        relation = node["relation_name"]
        if node["resource_type"] == "seed":
            path = Path(node["root_path"]) / node["original_file_path"]
            types = node["config"].get("column_types") or {}
            typed = ", types={" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}" if types else ""
            sql = (
                f"create or replace table {relation} as select * from read_csv('{path}', header=true{typed})"
            )
        else:
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            if node["config"]["materialized"] not in ("view", "table", "incremental"):
                raise ValueError(f"{uid}: materialization {node['config']['materialized']} not handled")
            sql = f"create or replace {kind} {relation} as (\n{node['compiled_code']}\n)"
        statements.append((uid, sql))
    return statements


def raw_tests(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(unique_id, SQL) for every dbt test: its compiled query counted, as dbt's test materialization does."""
    return [
        (uid, f"select count(*) from (\n{n['compiled_code']}\n) dbt_internal_test")
        for uid, n in manifest["nodes"].items()
        if n["resource_type"] == "test"
    ]


def dbt_threads() -> int:
    """The threads dbt runs with (profiles.yml, DuckDB target): the raw run gets as many."""
    import yaml

    profiles = yaml.safe_load((PROJECT_DIR / "profiles.yml").read_text())
    return int(profiles["syncline"]["outputs"]["duckdb"]["threads"])


def run_raw(path: Path, statements: list[tuple[str, str]], manifest: dict[str, Any]) -> float:
    """Run the statements as dbt schedules nodes: each once its upstream ones are done, `dbt_threads()`
    at a time, one cursor each on one connection (dbt-duckdb's way), so the raw side has dbt's concurrency."""
    import duckdb

    sql = dict(statements)
    sorter = TopologicalSorter(
        {uid: [d for d in manifest["nodes"][uid]["depends_on"].get("nodes", []) if d in sql] for uid in sql}
    )
    sorter.prepare()
    started = time.perf_counter()
    with duckdb.connect(str(path)) as con, ThreadPoolExecutor(dbt_threads()) as pool:

        def execute(uid: str) -> str:
            with con.cursor() as cursor:
                cursor.execute(sql[uid]).fetchall()
            return uid

        running: set[Future[str]] = set()
        while sorter.is_active():
            running |= {pool.submit(execute, uid) for uid in sorter.get_ready()}
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                sorter.done(future.result())
    return time.perf_counter() - started


def pipeline_build(warehouse: Warehouse, *, full_refresh: bool) -> dict[str, Any]:
    """`transform.build.transform` itself (in this process, as `syncline transform` runs it), timed per
    step; the read-only copy is not published."""
    from transform.build import transform

    run = transform(warehouse, full_refresh=full_refresh, publish=False)
    return {
        "dbt_s": run.dbt_seconds,
        **{f"{step.replace('dbt ', '').replace('-', '_')}_s": s for step, s in run.seconds.items()},
        "nodes": [{"unique_id": uid, "execution_time": s} for uid, s in run.node_seconds.items()],
    }


def run(scale: int, *, repeat: int = 2, seed: int = 42) -> dict[str, Any]:
    out: dict[str, Any] = {"scale": scale}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        settings = make_settings(work / "sandbox", seed=seed, scale=scale)
        warehouse = Warehouse(kind="duckdb", duckdb_path=work / "wh" / "warehouse.duckdb")
        warehouse.duckdb_path.parent.mkdir()
        dbt = Dbt(warehouse, work)
        # the in-process builds (B4) keep their manifest and last-build state in the temp dir too
        os.environ["SYNCLINE_DBT_TARGET_PATH"] = str(work / "transform_target")
        with SandboxProcess(settings, fresh=True):
            runner = Runner(settings, warehouse, work / "dlt")
            progress(f"B3-B5 at scale {scale:,}: full ingestion ...")
            for system in SYSTEMS:
                runner(system)

            progress("pipeline-shaped full build (warm-up: dbt pre-identity, identity, dbt marts) ...")
            pipeline_build(warehouse, full_refresh=True)

            # B3 ------------------------------------------------------------------------------------
            progress("dbt parse ...")
            parse_s, _ = median_time(lambda: dbt("parse"), repeat=3)
            progress("dbt build --full-refresh (all layers) ...")
            full_s, full = median_time(lambda: dbt("build", full_refresh=True), repeat=repeat)
            full_summary = node_summary(full["nodes"])
            progress("dbt run --full-refresh (all layers, no tests) ...")
            run_s, _ = median_time(lambda: dbt("run", full_refresh=True), repeat=repeat)
            progress("dbt compile --full-refresh, raw DuckDB run of the compiled SQL ...")
            dbt("compile", full_refresh=True)
            manifest = dbt.manifest()
            statements, tests = raw_statements(manifest), raw_tests(manifest)
            n_models = sum(1 for uid, _ in statements if uid.startswith("model."))
            raw_dir = work / "raw"
            raw_dir.mkdir()
            raw_path = raw_dir / warehouse.duckdb_path.name  # same file stem: same catalog name in the SQL
            shutil.copy(warehouse.duckdb_path, raw_path)
            raw_s, _ = median_time(lambda: run_raw(raw_path, statements, manifest), repeat=3)
            raw_tests_s, _ = median_time(lambda: run_raw(raw_path, tests, manifest), repeat=3)
            raw_path.unlink()
            # dbt build runs the models' SQL and the tests' SQL: both are "the same SQL run raw"
            overhead_ms = (full_s - raw_s - raw_tests_s - parse_s) / n_models * 1000
            nodes = len(statements) + len(tests)
            emit(
                "B3_dbt_overhead",
                scale=scale,
                full_s=round(full_s, 2),
                raw_s=round(raw_s, 2),
                parse_s=round(parse_s, 2),
                ratio=round(full_s / (raw_s + raw_tests_s), 2),
                models=n_models,
                per_model_overhead_ms=round(overhead_ms, 1),
                target_ms=OVERHEAD_TARGET_MS,
                pass_=overhead_ms <= OVERHEAD_TARGET_MS,
                # the same split without tests (`dbt run`), and with the tests' SQL run raw too (per node)
                run_s=round(run_s, 2),
                run_per_model_overhead_ms=round((run_s - raw_s - parse_s) / n_models * 1000, 1),
                raw_tests_s=round(raw_tests_s, 2),
                tests=len(tests),
                per_node_overhead_ms=round((full_s - raw_s - raw_tests_s - parse_s) / nodes * 1000, 1),
                **full_summary,
            )

            # B4 ------------------------------------------------------------------------------------
            progress("pipeline-shaped full build (timed) ...")
            full_pipe = pipeline_build(warehouse, full_refresh=True)
            changes = max(1, scale // 100)
            progress(f"simulate {changes} changes, incremental ingestion ...")
            SandboxAdmin(settings).simulate(changes, seed=1)
            started = time.perf_counter()
            for system in SYSTEMS:
                runner(system)
            ingest_s = time.perf_counter() - started
            progress("pipeline-shaped incremental build ...")
            incr = pipeline_build(warehouse, full_refresh=False)
        ratio = incr["dbt_s"] / full_pipe["dbt_s"]
        emit(
            "B4_incremental_vs_full",
            scale=scale,
            changes=changes,
            incremental_s=round(incr["dbt_s"], 2),
            full_s=round(full_pipe["dbt_s"], 2),
            ratio=round(ratio, 3),
            target=B4_TARGET,
            pass_=ratio <= B4_TARGET,
            incremental_parts={k: round(v, 2) for k, v in incr.items() if k.endswith("_s")},
            full_parts={k: round(v, 2) for k, v in full_pipe.items() if k.endswith("_s")},
            incremental_ingestion_s=round(ingest_s, 2),
            incremental_nodes=node_summary(incr["nodes"]),
        )
        out["b4_ratio"] = ratio

        # B5 ----------------------------------------------------------------------------------------
        from quality.gates import evaluate
        from quality.registry import GATES

        progress("pandera gates vs reading the tables ...")
        schemas = {gate.table: gate.schema() for gate in GATES}

        def read_all() -> dict[str, Any]:
            return {g.table: warehouse.read_frame(f"select * from {g.schema_name}.{g.table}") for g in GATES}

        read_s, frames = median_time(read_all, repeat=3)
        per_gate = {}

        def validate_all() -> None:
            for g in GATES:
                started = time.perf_counter()
                evaluate(frames[g.table], schemas[g.table], g.table, g.key)
                per_gate[g.table] = round(time.perf_counter() - started, 3)

        validate_s, _ = median_time(validate_all, repeat=3)
        ratio = validate_s / read_s
        emit(
            "B5_pandera_vs_read",
            scale=scale,
            validate_s=round(validate_s, 3),
            read_s=round(read_s, 3),
            ratio=round(ratio, 2),
            target=B5_TARGET,
            pass_=ratio <= B5_TARGET,
            rows={t: len(f) for t, f in frames.items()},
            validate_per_gate_s=per_gate,
        )
    return out


def run_scales(scales: list[int]) -> None:
    results = [run(scale) for scale in scales]
    if len(results) > 1:
        ratios = [r["b4_ratio"] for r in results]
        falling = all(b <= a for a, b in zip(ratios, ratios[1:], strict=False))
        emit(
            "B4_trend",
            scales=scales,
            ratios=[round(r, 3) for r in ratios],
            falling=falling,
            pass_=falling and ratios[-1] <= B4_TARGET,
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.transform_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale", type=int, action="append", help="repeatable (default 10k); several scales add B4_trend"
    )
    parser.add_argument("--large", action="store_true", help="also run at scale 100k")
    args = parser.parse_args()
    run_scales((args.scale or [10_000]) + ([100_000] if args.large else []))


if __name__ == "__main__":
    main()
