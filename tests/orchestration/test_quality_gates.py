"""Blocking gates in Dagster: a broken table stops its sync; bad rows are only quarantined.

The gate check and the sync asset (in dry-run mode: nothing is sent) are the real definitions; the `marts/sync_erp_customers`
producer is a stand-in that writes a table we control (the real one is a dbt model, built in the
end-to-end test), so each case can hand the gate exactly the breakage it is about.
"""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from orchestration.defs.quality import _gate_check
from orchestration.defs.reverse_etl import build_sync_asset, destination_resources
from quality.registry import GATES
from reverse_etl.syncs import SYNCS
from warehouse import Warehouse

GATE = next(g for g in GATES if g.table == "sync_erp_customers")


def desired_rows() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "golden_customer_id": ["GC000000001", "GC000000002", "GC000000003"],
            "erp_customer_id": [None, "e-2", "e-3"],
            "operation": ["insert", "update", "noop"],
            "display_name": ["Acme GmbH", None, None],
            "country": ["DE", None, None],
            "currency_code": ["EUR", None, None],
            "email": ["ap@acme.de", "billing@globex.example", None],
            "record_hash": ["h1", "h2", "h3"],
        }
    )


def run_with(table: pd.DataFrame, warehouse: Warehouse) -> dg.ExecuteInProcessResult:
    @dg.asset(key=["marts", "sync_erp_customers"])
    def sync_erp_customers() -> None:
        warehouse.write_frame(table, "marts", "sync_erp_customers")

    @dg.asset(key=["marts", "golden_customers"])
    def golden_customers() -> None:  # upstream of the outbound batch; its own gate is not under test
        return None

    return dg.materialize(
        [sync_erp_customers, golden_customers, _gate_check(GATE), build_sync_asset(SYNCS["erp_customers"])],
        raise_on_error=False,
        instance=dg.DagsterInstance.ephemeral(),
        resources=destination_resources(),
        run_config={"ops": {"reverse_etl__erp_customers": {"config": {"dry_run": True}}}},
    )


@pytest.fixture
def warehouse(tmp_path, monkeypatch) -> Warehouse:
    monkeypatch.setenv("SYNCLINE_DUCKDB_PATH", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("SYNCLINE_WAREHOUSE", "duckdb")
    return Warehouse.from_env()


def test_a_bad_row_is_quarantined_and_the_rest_goes_out(warehouse: Warehouse) -> None:
    table = desired_rows()
    table.loc[1, "email"] = "not-an-email"
    result = run_with(table, warehouse)
    assert result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.passed and evaluation.metadata["quarantined_rows"].value == 1
    [sync] = [e for e in result.get_asset_materialization_events() if e.asset_key.path[0] == "reverse_etl"]
    metadata = sync.materialization.metadata
    # the bad row (the update) is held back as invalid; the insert is planned, the noop left alone
    assert metadata["invalid"].value == 1
    assert metadata["planned"].value == {"insert": 1}
    reason = warehouse.read_frame("select rule, reason from quality.quarantine")
    assert reason["rule"].tolist() == ["email_format"] and "not-an-email" in reason["reason"].iloc[0]


@pytest.mark.parametrize(
    "breakage",
    [lambda t: t.drop(columns=["record_hash"]), lambda t: pd.concat([t, t.iloc[[0]]], ignore_index=True)],
    ids=["contract_break", "duplicate_keys"],
)
def test_a_broken_table_blocks_the_sync(warehouse: Warehouse, breakage) -> None:
    result = run_with(breakage(desired_rows()), warehouse)
    [evaluation] = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "reverse_etl/erp_customers" not in materialized
