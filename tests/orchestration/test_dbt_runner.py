"""The Dagster dbt assets run dbt the way `syncline transform` does (transform/dbt_session.py, in this
process): a second materialization leaves unchanged seeds out, a Dagster subset builds only what it
selected, and a failed model fails the step with dbt's message while its tests show as failed checks.

No sandbox: seeds need no raw data, and a staging model over a missing raw table is the failure."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from transform.dbt_cli import last_build_state_path
from warehouse import Warehouse


@pytest.fixture
def dbt_assets_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Warehouse:
    monkeypatch.setenv("SYNCLINE_WAREHOUSE", "duckdb")
    monkeypatch.setenv("SYNCLINE_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SYNCLINE_DBT_TARGET_PATH", str(tmp_path / "target"))
    return Warehouse.from_env()


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    """asset key -> metadata of its materialization in the run."""
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.materialization
        found[materialization.asset_key.to_user_string()] = {
            key: value.value for key, value in materialization.metadata.items()
        }
    return found


def test_a_second_materialization_leaves_unchanged_seeds_out(dbt_assets_env: Warehouse) -> None:
    from orchestration.defs.transform import dbt_pre_identity

    seeds = dg.AssetSelection.groups("reference")
    seed_keys = {key.to_user_string() for key in seeds.resolve([dbt_pre_identity])}
    assert len(seed_keys) == 6

    first = dg.materialize([dbt_pre_identity], selection=seeds, instance=dg.DagsterInstance.ephemeral())
    assert first.success
    built = materializations(first)
    assert set(built) == seed_keys  # the subset: seeds only, no staging model
    assert {meta["status"] for meta in built.values()} == {"success"}
    assert all(meta["rebuilt"] for meta in built.values())
    checks = first.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)
    # the state the CLI compares with, written by the Dagster run
    assert (last_build_state_path(dbt_assets_env) / "manifest.json").exists()

    second = dg.materialize([dbt_pre_identity], selection=seeds, instance=dg.DagsterInstance.ephemeral())
    assert second.success
    again = materializations(second)
    assert set(again) == seed_keys  # still reported, so downstream steps run
    assert {meta["status"] for meta in again.values()} == {"unchanged"}
    assert not any(meta["rebuilt"] for meta in again.values())


def test_a_failed_model_fails_the_step_and_its_tests_fail_their_checks(dbt_assets_env: Warehouse) -> None:
    from orchestration.defs.transform import dbt_pre_identity

    [model] = [key for key in dbt_pre_identity.keys if key.path[-1] == "stg_billing__customers"]
    result = dg.materialize(
        [dbt_pre_identity],
        selection=dg.AssetSelection.assets(model),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert not result.success
    [failure] = [event for event in result.all_events if event.is_step_failure]
    message = failure.step_failure_data.user_failure_data.description
    assert "model.syncline.stg_billing__customers" in message
    assert "customers" in message.lower()  # dbt's own error names the missing raw table
    assert result.get_asset_materialization_events() == []  # nothing else was built
    checks = [c for c in result.get_asset_check_evaluations() if c.asset_key == model]
    assert checks and not any(check.passed for check in checks)
    assert {check.metadata["status"].value for check in checks} == {"skipped"}
