"""Matcher quality on labelled public data (people and companies) beside the sandbox figure.

`python -m bench --only matching [--scale N]` prints one JSON line per data set of
`bench.matching_data` (pairwise precision / recall / F1, B-cubed precision / recall / F1, seconds)
and one for the sandbox (`identity_quality`, the four systems' company records at `--scale`).
Targets (issue 15): people pairwise F1 and B-cubed F1 >= 0.98, companies >= 0.95, sandbox F1 >= 0.98.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench import matching_data
from bench.common import emit, progress
from bench.matching_data import DATASETS
from identity.metrics import scores

TARGETS = {"people": 0.98, "companies": 0.95}


def run_dataset(name: str) -> dict:
    from identity.match import match_parties

    kind, load = DATASETS[name]
    data = load()
    progress(f"matching {name}: {len(data):,} records ...")
    started = time.perf_counter()
    result = match_parties(data.drop(columns=["truth"]))
    seconds = time.perf_counter() - started
    pred = data[["source_system", "source_id", "truth"]].merge(
        result.assignments[["source_system", "source_id", "golden_id"]],
        on=["source_system", "source_id"],
    )
    quality = scores(pred["truth"], pred["golden_id"])
    target = TARGETS[kind]
    row = dict(
        dataset=name,
        kind=kind,
        records=len(data),
        entities=int(data["truth"].nunique()),
        golden_ids=int(pred["golden_id"].nunique()),
        seconds=round(seconds, 1),
        target=target,
        pass_=quality["pairwise_f1"] >= target and quality["bcubed_f1"] >= target,
        thresholds=result.thresholds,
        **quality,
    )
    emit("matching", **row)
    return row


def run(scale: int, datasets: list[str] | None = None, sandbox: bool = True) -> None:
    for name in datasets or list(DATASETS):
        run_dataset(name)
    if sandbox:
        from bench import identity_bench

        identity_bench.run(scale, stability=False)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.matching_bench", description=__doc__)
    parser.add_argument("--scale", type=int, default=10_000, help="sandbox scale (default 10k)")
    parser.add_argument("--dataset", choices=list(DATASETS), action="append")
    parser.add_argument("--no-sandbox", action="store_true", help="public sets only")
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="pseudopeople extracts from elsewhere (a held-out pair)"
    )
    args = parser.parse_args()
    if args.data_dir:
        matching_data.DATA = args.data_dir
    run(args.scale, args.dataset, sandbox=not args.no_sandbox)


if __name__ == "__main__":
    main()
