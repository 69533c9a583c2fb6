"""The Dagster code location: it loads, validates, and materializes the dlt assets for real."""

from __future__ import annotations

import os
import subprocess
import sys

import dagster as dg

from sandbox.settings import SYSTEMS
from tests.orchestration.conftest import ROOT, load_defs


def test_definitions_validate_from_the_cli(code_location_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", str(ROOT / "workspace.yaml")],
        cwd=ROOT,
        env=os.environ | code_location_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "error" not in result.stderr.lower().replace("errors: 0", ""), result.stderr


def test_dlt_asset_keys_equal_dbt_source_keys(code_location_env: dict[str, str]) -> None:
    defs = load_defs()
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    for expected in (
        "raw_billing/invoices",
        "raw_billing/invoice_lines",
        "raw_support/tickets",
        "raw_crm/companies",
        "raw_erp/sales_invoices",
        "raw_erp/sales_invoice_lines",
    ):
        assert expected in keys


def test_materialize_ingestion_assets_into_a_temp_warehouse(
    code_location_env: dict[str, str], fresh_sandbox
) -> None:
    defs = load_defs()
    job = defs.resolve_job_def("ingest_all")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    from warehouse import Warehouse

    warehouse = Warehouse.from_env()
    counts = fresh_sandbox.truth("counts")
    for system in SYSTEMS:
        for table, expected in counts[system].items():
            assert warehouse.query(f"select count(*) from raw_{system}.{table}")[0][0] == expected, (
                f"raw_{system}.{table}"
            )


def test_every_definition_is_described_for_the_ui(code_location_env: dict[str, str]) -> None:
    """What the Dagster UI shows: a description on every asset, check, job, sensor and schedule, and
    definition metadata on every asset (its table, its destination, ...)."""
    defs = load_defs()
    graph = defs.resolve_asset_graph()
    undescribed = [
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).description
    ]
    without_metadata = [
        key.to_user_string() for key in graph.get_all_asset_keys() if not graph.get(key).metadata
    ]
    checks = [spec for assets_def in graph.assets_defs for spec in assets_def.check_specs]
    undescribed += [f"check {spec.key.to_user_string()}" for spec in checks if not spec.description]
    for kind, items in (
        ("job", defs.resolve_all_job_defs()),
        ("sensor", defs.sensors or []),
        ("schedule", defs.schedules or []),
    ):
        undescribed += [
            f"{kind} {item.name}" for item in items if not item.name.startswith("__") and not item.description
        ]
    assert not undescribed, undescribed
    assert not without_metadata, without_metadata
    # every asset in a group named after its system (raw_<system>) or its layer
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert "default" not in groups and "dbt" not in groups, groups
