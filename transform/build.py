"""The full transformation outside Dagster: dbt (pre-identity) -> identity -> dbt (marts) -> publish."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.warehouse import Warehouse
from transform.dbt_cli import (
    POST_IDENTITY_SELECTION,
    PRE_IDENTITY_SELECTION,
    apply_dbt_env,
    dbt_args,
    target_path,
)
from transform.identity_step import IdentityRun, resolve_identities
from transform.publish import publish_read_copy


class DbtBuildFailed(RuntimeError):
    pass


@dataclass
class TransformRun:
    identity: IdentityRun | None = None
    dbt_results: dict[str, int] = field(default_factory=dict)  # status -> count
    published: str | None = None


def run_dbt(args: list[str]) -> dict[str, int]:
    """Run dbt in its own process (as dagster-dbt does: dbt-duckdb keeps the file open in-process);
    raise DbtBuildFailed naming the failing nodes."""
    dbt = Path(sys.executable).with_name("dbt")
    completed = subprocess.run([str(dbt), *args], capture_output=True, text=True)
    results_path = target_path() / "run_results.json"
    statuses: dict[str, int] = {}
    failed = []
    if results_path.exists():
        for node in json.loads(results_path.read_text()).get("results", []):
            statuses[node["status"]] = statuses.get(node["status"], 0) + 1
            if node["status"] in ("error", "fail"):
                failed.append(f"{node['unique_id']}: {(node.get('message') or '').strip()[:300]}")
    if completed.returncode != 0:
        tail = "\n".join(completed.stdout.strip().splitlines()[-15:])
        detail = "; ".join(failed[:5]) or tail
        raise DbtBuildFailed(f"dbt {args[0]} failed: {detail}")
    return statuses


def transform(
    warehouse: Warehouse | None = None,
    *,
    full_refresh: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TransformRun:
    warehouse = warehouse or Warehouse.from_env()
    say = progress or (lambda message: None)
    apply_dbt_env(warehouse)
    run = TransformRun()
    say("dbt build: seeds, staging, intermediate ...")
    _merge(
        run.dbt_results, run_dbt(dbt_args("build", select=PRE_IDENTITY_SELECTION, full_refresh=full_refresh))
    )
    say("identity resolution ...")
    run.identity = resolve_identities(warehouse, progress=say)
    say("dbt build: marts ...")
    _merge(
        run.dbt_results, run_dbt(dbt_args("build", select=POST_IDENTITY_SELECTION, full_refresh=full_refresh))
    )
    published = publish_read_copy(warehouse)
    run.published = str(published) if published else None
    return run


def _merge(total: dict[str, int], part: dict[str, int]) -> None:
    for key, value in part.items():
        total[key] = total.get(key, 0) + value
