"""Identity quality against the sandbox truth, and golden-id stability.

Loads the sandbox at `--scale` (default 10k) through the real pipelines, builds the pre-identity dbt
layers, runs the identity step, and prints JSON lines:
- identity_quality: pairwise P/R/F1 and B-cubed F1 of the golden ids vs the true customers (company
  records of all four systems), the duplicate customer record rate found vs the true rate. Target F1 >= 0.98.
- identity_stability: the first run sees 90% of the records; the second sees all of them shuffled
  (10% new) with the first run's assignments; share of first-run records keeping their golden id
  (target >= 99.5%).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.common import emit, progress
from identity.metrics import scores
from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from sandbox.settings import SYSTEMS
from tests.conftest import make_settings
from tests.ingestion.conftest import Runner
from transform.dbt_cli import PRE_IDENTITY_SELECTION, dbt_args, dbt_env
from warehouse import Warehouse

PARTY_TABLES = {
    ("billing", "customers"),
    ("crm", "companies"),
    ("erp", "customers"),
    ("support", "organizations"),
}


def build_party_records(scale: int, work: Path) -> tuple[Warehouse, pd.DataFrame]:
    settings = make_settings(work / "sandbox", seed=42, scale=scale)
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    with SandboxProcess(settings, fresh=True):
        runner = Runner(settings, warehouse, work / "dlt")
        for system in SYSTEMS:
            progress(f"ingesting {system} ...")
            runner(system)
        truth = pd.DataFrame(SandboxAdmin(settings).truth("customers"))
    progress("dbt build (pre-identity) ...")
    args = dbt_args("build", select=PRE_IDENTITY_SELECTION) + ["--target-path", str(work / "target")]
    subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args],
        env=os.environ | dbt_env(warehouse),
        check=True,
        capture_output=True,
    )
    truth = truth[[(s, t) in PARTY_TABLES for s, t in zip(truth["system"], truth["table"], strict=True)]]
    return warehouse, truth.rename(columns={"system": "source_system"})[
        ["source_system", "source_id", "customer_key"]
    ]


def run(scale: int, stability: bool = True) -> None:
    from identity.match import match_parties
    from identity.schema import PARTY_COLUMNS

    with tempfile.TemporaryDirectory() as tmp:
        warehouse, truth = build_party_records(scale, Path(tmp))
        parties = warehouse.read_frame("select * from intermediate.int_party_records")
        xrefs = warehouse.read_frame("select * from intermediate.int_party_cross_references")
    parties = parties[[c for c in PARTY_COLUMNS if c in parties.columns]]
    progress(f"matching {len(parties):,} party records ...")
    started = time.perf_counter()
    result = match_parties(parties, cross_references=xrefs if len(xrefs) else None)
    seconds = time.perf_counter() - started
    joined = result.assignments.astype({"source_id": str}).merge(
        truth.astype({"source_id": str}), on=["source_system", "source_id"]
    )
    quality = scores(joined["customer_key"], joined["golden_id"])
    found_rate = 1 - joined["golden_id"].nunique() / len(joined)
    true_rate = 1 - joined["customer_key"].nunique() / len(joined)
    emit(
        "identity_quality",
        scale=scale,
        records=len(parties),
        evaluated=len(joined),
        seconds=round(seconds, 1),
        records_per_s=round(len(parties) / seconds),
        duplicate_rate_found=round(found_rate, 4),
        duplicate_rate_true=round(true_rate, 4),
        target_f1=0.98,
        pass_=quality["pairwise_f1"] >= 0.98,
        **quality,
    )

    if not stability:
        return
    shuffled = parties.sample(frac=1.0, random_state=1).reset_index(drop=True)
    first_part = shuffled.iloc[: int(len(shuffled) * 0.9)]
    first = match_parties(first_part, cross_references=xrefs if len(xrefs) else None)
    second = match_parties(
        shuffled.sample(frac=1.0, random_state=2),
        previous=first.assignments,
        cross_references=xrefs if len(xrefs) else None,
        previous_aliases=first.aliases,
    )
    both = first.assignments.merge(
        second.assignments, on=["source_system", "source_id"], suffixes=("_1", "_2")
    )
    kept = float((both["golden_id_1"] == both["golden_id_2"]).mean())
    emit(
        "identity_stability",
        scale=scale,
        records=len(both),
        kept_share=round(kept, 5),
        target=0.995,
        pass_=kept >= 0.995,
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.identity_bench", description=__doc__)
    parser.add_argument("--scale", type=int, default=10_000)
    run(parser.parse_args().scale)


if __name__ == "__main__":
    main()
