"""`make bench` / `python -m bench [--scale N] [--large]
[--only sandbox|ingestion|transform|identity|matching|reverse_etl|operations]`: JSON lines.

`--only matching` scores the matcher on labelled public people and company sets beside the sandbox
figure (`bench/matching_bench.py`); the generated-data matcher bench is `bench/bench_matcher.py`.
"""

from __future__ import annotations

import argparse

from bench import (
    identity_bench,
    ingestion_bench,
    matching_bench,
    operations_bench,
    reverse_etl_bench,
    sandbox_bench,
    transform_bench,
)
from bench.common import emit


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--scale", type=int, default=10_000, help="sandbox scale for the benchmarks (default 10k)"
    )
    parser.add_argument("--large", action="store_true", help="also run at scale 100k (minutes)")
    benches = ["sandbox", "ingestion", "transform", "identity", "matching", "reverse_etl", "operations"]
    parser.add_argument("--only", choices=benches, action="append")
    args = parser.parse_args()
    only = set(args.only or benches)
    scales = [args.scale] + ([100_000] if args.large else [])

    served = None
    if "sandbox" in only:
        for scale in scales:
            sandbox_bench.bench_generation(scale)
        served = sandbox_bench.bench_serving(args.scale)
    if "ingestion" in only:
        for scale in scales:
            consumed = ingestion_bench.run(scale)["ingestion_pages_per_s"]
            if served and scale == args.scale:
                headroom = min(served.values()) / consumed
                emit(
                    "sandbox_headroom",
                    scale=scale,
                    served_pages_per_s=round(min(served.values()), 1),
                    consumed_pages_per_s=round(consumed, 1),
                    ratio=round(headroom, 1),
                    target=5,
                    pass_=headroom >= 5,
                )
    if "transform" in only:
        transform_bench.run_scales(scales)
    if "identity" in only:
        for scale in scales:
            identity_bench.run(scale)
    if "matching" in only:
        matching_bench.run(args.scale, sandbox="identity" not in only)
    if "reverse_etl" in only:
        reverse_etl_bench.run(first_sync=100_000 if args.large else args.scale)
    if "operations" in only:
        operations_bench.run(min(args.scale, 1_000))  # B6/B8 at the demo's scale


if __name__ == "__main__":
    main()
