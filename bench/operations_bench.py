"""B6 (event latency) and B8 (orchestration overhead). `python -m bench --only operations`. JSON lines.

- **b6_event_latency**: billing events (upgrades, singles and bursts) -> the writes they cause in the
  ERP and in support. A event's latency is the last of its batch's ERP / support writes as the sandbox
  received them (its request log, `received_at`) minus the wall time just before the event was made
  (the admin call that created it). Two paths over the same sandbox and warehouse:
  - `floor`: the targeted work in this process without Dagster (`run_event_sync` straight after the
    events): the floor of the event path;
  - `dagster`: the real thing: `dagster-daemon` with the billing-events sensor at its README interval
    (`SYNCLINE_EVENT_SENSOR_INTERVAL_S`, 2 s) launching `billing_event_sync` runs.
  Targets (issue 16): p50 <= 5 s, p95 <= 10 s over >= 50 events.
- **b8_orchestration_overhead**: `full_pipeline` executed by Dagster (in-process) vs the sum of its
  parts run standalone (ingest all, transform, syncs, KPIs) on the same data. Target <= 1.3x plus the
  fixed launch cost (measured: a trivial job's in-process execution).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import emit, progress

BURSTS = (1, 1, 1, 1, 1, 5, 5, 10, 1, 5, 10, 1, 1, 5, 3)  # 51 events


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


def _point_at_sandbox(settings: Any, work: Path) -> None:
    """Every setting the product reads, at this sandbox and at a warehouse of its own under `work`."""
    from ingestion.config import SYSTEMS

    work.mkdir(parents=True, exist_ok=True)
    for system in SYSTEMS:
        os.environ[f"SOURCES__{system.upper()}__BASE_URL"] = settings.base_url(system)
    os.environ["SYNCLINE_DUCKDB_PATH"] = str(work / "warehouse.duckdb")
    os.environ["SYNCLINE_DLT_DIR"] = str(work / "dlt")
    os.environ["SYNCLINE_DBT_TARGET_PATH"] = str(work / "dbt_target")
    os.environ["DAGSTER_HOME"] = str(work / "dagster")
    os.environ["SYNCLINE_EVENT_SENSOR_INTERVAL_S"] = os.environ.get("SYNCLINE_EVENT_SENSOR_INTERVAL_S", "2")
    (work / "dagster").mkdir(exist_ok=True)
    template = Path(__file__).resolve().parents[1] / "orchestration" / "dagster_home" / "dagster.yaml"
    (work / "dagster" / "dagster.yaml").write_text(template.read_text())


def _latencies(admin: Any, since_seq: int, made: list[tuple[list[str], float]]) -> dict[str, Any]:
    """Per event: last ERP / support write of its batch (correlation = the batch's first event id)
    minus the time the event was made."""
    writes: dict[str, dict[str, float]] = {}
    for row in admin.requests(since=since_seq):
        correlation = row.get("correlation_id") or ""
        if row["system"] in ("erp", "support") and correlation.startswith("evt_") and row["status"] < 400:
            last = writes.setdefault(correlation, {})
            last[row["system"]] = max(last.get(row["system"], 0.0), row["received_at"])
    order = [event for ids, _ in made for event in ids]
    made_at = {event: at for ids, at in made for event in ids}
    position = {event: i for i, event in enumerate(order)}
    firsts = sorted((position[c], c) for c in writes if c in position)
    support, both = [], []
    for event in order:
        batch = [c for p, c in firsts if p <= position[event]]
        if not batch:
            continue
        seen = writes[batch[-1]]
        if "support" in seen:
            support.append(seen["support"] - made_at[event])
        if "support" in seen and "erp" in seen:
            both.append(max(seen.values()) - made_at[event])
    return {
        "events": len(order),
        "events_with_support_write": len(support),
        "events_with_erp_and_support_writes": len(both),
        "p50_s": _percentile(both or support, 0.5),
        "p95_s": _percentile(both or support, 0.95),
        "support_p50_s": _percentile(support, 0.5),
        "support_p95_s": _percentile(support, 0.95),
    }


def _make_events(admin: Any, size: int, seed: int) -> tuple[list[str], float]:
    """Upgrades made now; their event ids (oldest first) and the wall time before the call."""
    before = _newest_event()
    made_at = time.time()
    admin.simulate(size, kinds=["upgrade"], seed=seed, at_wall_clock=True)
    return _events_after(before), made_at


def _billing():
    from ingestion.config import source_config
    from operations.billing_events import billing_client

    return billing_client(source_config("billing"))


def _newest_event() -> str:
    from operations.billing_events import newest_event_id

    with _billing() as client:
        return newest_event_id(client) or ""


def _events_after(cursor: str) -> list[str]:
    from operations.billing_events import events_after

    with _billing() as client:
        return events_after(client, cursor).ids


def floor_path(admin: Any, seed: int) -> dict[str, Any]:
    from operations.billing_events import events_after
    from operations.event_sync import run_event_sync

    since = admin.requests()[-1]["seq"] if admin.requests() else 0
    made = []
    for i, size in enumerate(BURSTS):
        cursor = _newest_event()
        ids, at = _make_events(admin, size, seed + i)
        with _billing() as client:
            batch = events_after(client, cursor)
        run_event_sync(batch.customers(), correlation_id=batch.ids[0], events=batch.refs())
        made.append((ids, at))
    return _latencies(admin, since, made)


def dagster_path(admin: Any, work: Path, seed: int) -> dict[str, Any]:
    """The daemon ticks the sensor; its runs do the work. Waits for each batch's writes."""
    log = open(work / "daemon.log", "w")  # noqa: SIM115 - closed below
    daemon = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-daemon")), "run", "-w", "workspace.yaml"],
        cwd=Path(__file__).resolve().parents[1],
        env=os.environ.copy(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        progress("B6: waiting for the daemon's first sensor tick ...")
        _wait_for_first_tick()
        since = admin.requests()[-1]["seq"] if admin.requests() else 0
        made = []
        for i, size in enumerate(BURSTS):
            ids, at = _make_events(admin, size, seed + 100 + i)
            made.append((ids, at))
            _wait_for_writes(admin, since, ids, timeout_s=300)
        return _latencies(admin, since, made)
    finally:
        daemon.terminate()
        try:
            daemon.wait(30)
        except subprocess.TimeoutExpired:
            daemon.kill()
        log.close()


def _wait_for_first_tick(timeout_s: float = 600) -> None:
    import dagster as dg

    deadline = time.time() + timeout_s
    with dg.DagsterInstance.get() as instance:
        while time.time() < deadline:
            states = [s for s in instance.all_instigator_state() if s.name == "billing_events_sensor"]
            cursor = states[0].instigator_data.cursor if states and states[0].instigator_data else None
            if cursor:
                return
            time.sleep(1)
    raise TimeoutError("the daemon never ticked billing_events_sensor (see daemon.log)")


def _wait_for_writes(admin: Any, since: int, ids: list[str], timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        correlations = {
            r.get("correlation_id") for r in admin.requests(since=since) if r["system"] == "support"
        }
        if correlations & set(ids):  # a batch's correlation id is its first event's id
            return
        time.sleep(0.25)
    progress(f"B6: no support write for {ids[0]} within {timeout_s:.0f} s")


def b8(settings: Any, admin: Any, work: Path) -> dict[str, Any]:
    """Both sides from the same reset sandbox into an empty warehouse of their own (full loads)."""
    import dagster as dg

    from ingestion.pipeline import run_ingestion
    from operations.kpis import measure_kpis
    from reverse_etl.runner import run_syncs
    from transform.build import transform

    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    instance = dg.DagsterInstance.ephemeral()

    admin.reset()
    _point_at_sandbox(settings, work / "b8_standalone")
    parts: dict[str, float] = {}
    for name, step in (
        ("ingest", lambda: run_ingestion()),
        ("transform", lambda: transform()),
        ("syncs", lambda: run_syncs()),
        ("kpis", lambda: measure_kpis()),
    ):
        started = time.perf_counter()
        step()
        parts[name] = round(time.perf_counter() - started, 2)

    admin.reset()
    _point_at_sandbox(settings, work / "b8_orchestrated")
    from orchestration.definitions import defs  # after the settings: the code location reads them once

    started = time.perf_counter()
    assert (
        defs.resolve_job_def("full_pipeline").execute_in_process(instance=instance, run_config=quiet).success
    )
    orchestrated = time.perf_counter() - started

    @dg.op
    def nothing() -> None:
        pass

    @dg.job
    def trivial() -> None:
        nothing()

    launch = statistics.median(
        _timed(lambda: trivial.execute_in_process(instance=instance, run_config=quiet)) for _ in range(3)
    )
    standalone = sum(parts.values())
    return {
        "orchestrated_s": round(orchestrated, 2),
        "standalone_s": round(standalone, 2),
        "parts_s": parts,
        "launch_s": round(launch, 3),
        "ratio": round(orchestrated / standalone, 3),
        "ratio_after_launch": round((orchestrated - launch) / standalone, 3),
        "target": 1.3,
    }


def _timed(fn: Any) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(scale: int = 300, seed: int = 42, daemon: bool = True, only: set[str] | None = None) -> None:
    from ingestion.pipeline import run_ingestion
    from reverse_etl.runner import run_syncs
    from sandbox.client import SandboxAdmin
    from sandbox.process import SandboxProcess
    from tests.conftest import make_settings
    from transform.build import transform

    only = only or {"b6", "b8"}
    with tempfile.TemporaryDirectory(prefix="bench_ops_") as tmp:
        work = Path(tmp)
        settings = make_settings(work / "sandbox", seed=seed, scale=scale)
        with SandboxProcess(settings, fresh=True):
            admin = SandboxAdmin(settings)
            if "b8" in only:
                progress(f"B8 at scale {scale}: its parts standalone, then full_pipeline in Dagster ...")
                emit("b8_orchestration_overhead", scale=scale, **b8(settings, admin, work))
            if "b6" not in only:
                return
            admin.reset()
            _point_at_sandbox(settings, work / "b6")
            progress("B6: warehouse in agreement with the systems ...")
            run_ingestion()
            transform()
            run_syncs()
            progress(
                f"B6 floor: {sum(BURSTS)} upgrades in {len(BURSTS)} bursts, in-process without Dagster ..."
            )
            emit(
                "b6_event_latency",
                path="floor",
                scale=scale,
                **floor_path(admin, seed),
                target_p50_s=5,
                target_p95_s=10,
            )
            if daemon:
                interval = int(os.environ["SYNCLINE_EVENT_SENSOR_INTERVAL_S"])
                progress(f"B6 dagster: the same through dagster-daemon (sensor every {interval} s) ...")
                emit(
                    "b6_event_latency",
                    path="dagster",
                    scale=scale,
                    sensor_interval_s=interval,
                    **dagster_path(admin, work / "b6", seed),
                    target_p50_s=5,
                    target_p95_s=10,
                )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=300)
    parser.add_argument("--only", choices=["b6", "b8"], action="append")
    parser.add_argument("--no-daemon", action="store_true", help="B6 floor only (no dagster-daemon).")
    args = parser.parse_args()
    run(args.scale, daemon=not args.no_daemon, only=set(args.only or ["b6", "b8"]))


if __name__ == "__main__":
    main()
