"""B7: reverse-ETL throughput against the destination's quota, and the first sync at scale.

`python -m bench --only reverse_etl [--large]` (or `python -m bench.reverse_etl_bench`). JSON lines.

- **b7_throughput**: the sandbox ERP's quota set to R requests/s (fixed window, 429 beyond it) and the
  engine's limiter to the same R. The `erp_customers` sync creates N = R x 100 x T customers in
  `$batch` requests of 100. Ceiling: R x 100 records/s. Targets: >= 0.95 x ceiling, and >= 50 x a
  pooled one-record-per-request loop (the same client, limiter and retries, one POST per customer)
  measured in the same run. Reported with p50/p95 per-record latency (a record's latency is its
  request's round trip) and the engine's CPU time.
- **b7_first_sync**: the first sync of N customers (all creates, no quota) with its wall time, records/s,
  CPU time and the process's peak RSS.

The desired state is a generated `sync_erp_customers` frame (valid for the model's gate), so the bench
measures the reverse ETL, not the transform that would produce it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.common import emit, progress


def desired_customers(count: int, prefix: str) -> pd.DataFrame:
    ids = range(1, count + 1)
    return pd.DataFrame(
        {
            "golden_customer_id": [f"GC{900_000_000 + i:09d}" for i in ids],
            "erp_customer_id": [None] * count,
            "erp_customer_number": [f"{prefix}{i:07d}" for i in ids],
            "operation": ["insert"] * count,
            "changed_fields": [None] * count,
            "display_name": [f"Bench Customer {prefix} {i}" for i in ids],
            "address_line1": [f"{i} Bench Street" for i in ids],
            "address_line2": [None] * count,
            "city": ["Springfield"] * count,
            "state": ["IL"] * count,
            "postal_code": [f"{62_700 + i % 100}" for i in ids],
            "country": ["US"] * count,
            "email": [f"ap{i}@bench{prefix.lower()}.example" for i in ids],
            "phone_number": [f"+1 217 555 {i % 10_000:04d}" for i in ids],
            "website": [f"bench{prefix.lower()}{i}.example" for i in ids],
            "salesperson_code": ["OWNER1"] * count,
            "currency_code": ["USD"] * count,
            "is_local_currency": [True] * count,
            "odata_etag": [None] * count,
            "erp_last_modified_at": [None] * count,
            "record_hash": [f"h{prefix}{i}" for i in ids],
        }
    )


def _run(frame: pd.DataFrame, work: Path, erp_connection: dict, requests_per_second: float):
    from reverse_etl.engine import run_sync
    from reverse_etl.runner import sync_context
    from reverse_etl.syncs import SYNCS
    from warehouse import Warehouse

    os.environ["SYNCLINE_ERP_REQUESTS_PER_SECOND"] = str(requests_per_second)
    os.environ["SYNCLINE_OPS_DSN"] = f"sqlite:///{work / f'ops_{time.time_ns()}.sqlite'}"
    spec = SYNCS["erp_customers"]
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "unused.duckdb")
    with sync_context(warehouse, [spec], connections={"erp": erp_connection}) as context:
        cpu, started = time.process_time(), time.perf_counter()
        result = run_sync(spec, context, frame=frame)
        return result, time.perf_counter() - started, time.process_time() - cpu


def _loop(frame: pd.DataFrame, work: Path, erp_connection: dict, requests_per_second: float) -> float:
    """The baseline: one POST per customer through the same client, limiter and retries."""
    from reverse_etl.destinations import build_destination
    from reverse_etl.engine import records
    from reverse_etl.resilience import ResiliencePolicy
    from reverse_etl.syncs import SYNCS

    spec = SYNCS["erp_customers"]
    destination = build_destination(
        "erp",
        limiter_dir=work / f"loop_{time.time_ns()}",
        config=erp_connection,
        policy=ResiliencePolicy(requests_per_second=requests_per_second),
    )
    started = time.perf_counter()
    for row in records(frame):
        response = destination.request(
            "POST", f"/{destination.company}/customers", json=spec.payload(row, "insert")
        )
        assert response.status_code == 201, response.text
    destination.close()
    return len(frame) / (time.perf_counter() - started)


def run(quota: int = 4, seconds: float = 10.0, first_sync: int = 10_000) -> None:
    from sandbox.client import SandboxAdmin
    from sandbox.process import SandboxProcess
    from tests.conftest import make_settings

    with tempfile.TemporaryDirectory(prefix="bench_retl_") as tmp:
        work = Path(tmp)
        settings = make_settings(work / "sandbox", seed=11, scale=200)
        with SandboxProcess(settings, fresh=True):
            admin = SandboxAdmin(settings)
            from ingestion.config import source_config

            erp = source_config("erp") | {"base_url": settings.base_url("erp")}

            admin.set_faults("erp", rate_limit_quota=quota, rate_limit_window_s=1.0)
            count = int(quota * 100 * seconds)
            progress(f"B7: {count} creates at a quota of {quota} requests/s ...")
            result, wall, cpu = _run(desired_customers(count, "T"), work, erp, quota)
            assert result.counts["created"] == count, result.as_dict()
            throughput = count / wall
            ceiling = quota * 100
            progress("B7: the one-record-per-request loop ...")
            loop = _loop(desired_customers(int(quota * 3), "L"), work, erp, quota)
            emit(
                "b7_throughput",
                quota_rps=quota,
                batch=100,
                records=count,
                seconds=round(wall, 2),
                records_per_s=round(throughput, 1),
                ceiling_records_per_s=ceiling,
                ratio_to_ceiling=round(throughput / ceiling, 3),
                loop_records_per_s=round(loop, 2),
                ratio_to_loop=round(throughput / loop, 1),
                p50_ms=result.percentile(0.5),
                p95_ms=result.percentile(0.95),
                cpu_s=round(cpu, 2),
                cpu_ms_per_record=round(cpu * 1000 / count, 3),
                rate_limited_retries=result.retried,
                target_ceiling=0.95,
                target_loop=50,
                pass_=throughput >= 0.95 * ceiling and throughput >= 50 * loop,
            )
            admin.clear_faults()
            progress(f"B7: first sync of {first_sync} customers (all creates, no quota) ...")
            result, wall, cpu = _run(desired_customers(first_sync, "F"), work, erp, 1000)
            assert result.counts["created"] == first_sync, result.as_dict()
            emit(
                "b7_first_sync",
                records=first_sync,
                seconds=round(wall, 2),
                records_per_s=round(first_sync / wall, 1),
                cpu_s=round(cpu, 2),
                p50_ms=result.percentile(0.5),
                p95_ms=result.percentile(0.95),
                peak_rss_mib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quota", type=int, default=4, help="sandbox ERP quota, requests/s")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the throughput run")
    parser.add_argument(
        "--first-sync", type=int, default=10_000, help="records of the first sync (100000 at scale)"
    )
    args = parser.parse_args()
    run(args.quota, args.seconds, args.first_sync)


if __name__ == "__main__":
    main()
