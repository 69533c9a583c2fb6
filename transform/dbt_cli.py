"""Small pure helpers for dbt CLI arguments and environment, shared by `syncline transform` and Dagster."""

from __future__ import annotations

import os
from pathlib import Path

from warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
# Layers before and after identity resolution (a Python step, see transform/identity_step.py).
PRE_IDENTITY_SELECTION = ["path:seeds", "path:models/staging", "path:models/intermediate"]
POST_IDENTITY_SELECTION = ["path:models/marts"]


def downstream_of_source_into(source: str, models: list[str]) -> list[str]:
    """dbt selectors for the models between a raw source and the given models (and no others): what a
    change in that source can alter in them. `source:raw_billing+,+sync_erp_invoices` is the
    intersection of "downstream of the source" and "upstream of the model"."""
    return [f"source:{source}+,+{model}" for model in models]


def dbt_env(warehouse: Warehouse) -> dict[str, str]:
    """Environment for dbt's profile (profiles.yml reads these): absolute DuckDB path or PG parts."""
    env = {
        "SYNCLINE_WAREHOUSE": warehouse.kind,
        "DBT_PROFILES_DIR": str(PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if warehouse.kind == "duckdb":
        env["SYNCLINE_DUCKDB_PATH"] = str(Path(warehouse.duckdb_path).resolve())
    else:
        env.update(warehouse.postgres_parts())
    return env


def apply_dbt_env(warehouse: Warehouse) -> None:
    os.environ.update(dbt_env(warehouse))


def target_path() -> Path:
    """dbt's target dir; SYNCLINE_DBT_TARGET_PATH lets parallel builds (tests) keep theirs apart."""
    return Path(os.environ.get("SYNCLINE_DBT_TARGET_PATH", PROJECT_DIR / "target"))


def last_build_state_path(warehouse: Warehouse) -> Path:
    """Where the manifest of the last successful build into this warehouse is kept (dbt `--state`).
    Under the target dir: `dbt clean` or a new checkout only costs one reload of the seeds."""
    import hashlib

    where = str(Path(warehouse.duckdb_path).resolve()) if warehouse.kind == "duckdb" else warehouse.describe()
    return target_path() / "last_build" / hashlib.sha1(where.encode()).hexdigest()[:16]


def dbt_args(
    command: str,
    *,
    select: list[str] | None = None,
    exclude: list[str] | None = None,
    full_refresh: bool = False,
    vars: str | None = None,
) -> list[str]:
    args = [command, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR)]
    args += ["--target-path", str(target_path())]
    if select:
        # buildable: a test runs when every model it reads is selected or upstream of the selection,
        # so a marts relationship test to an intermediate model does not run before the marts exist
        args += ["--select", *select, "--indirect-selection", "buildable"]
    if exclude:
        args += ["--exclude", *exclude]
    if full_refresh and command in ("build", "run", "seed"):
        args.append("--full-refresh")
    if vars:
        args += ["--vars", vars]
    return args
