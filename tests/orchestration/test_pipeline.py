"""The whole code location, end to end in Dagster: vendor APIs -> raw -> dbt -> identity -> marts ->
gates -> reverse-ETL syncs, on a temp DuckDB warehouse fed by the test sandbox (reset afterwards:
the syncs write into it)."""

from __future__ import annotations

import dagster as dg

from tests.orchestration.conftest import load_defs
from warehouse import Warehouse


def test_full_pipeline_job_end_to_end(code_location_env, fresh_sandbox) -> None:
    defs = load_defs()
    result = defs.resolve_job_def("full_pipeline").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success

    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    for key in (
        "raw_billing/invoices",
        "identity/party_matches",
        "marts/golden_customers",
        "marts/golden_contracts",
        "marts/invoice_reconciliation",
        "reverse_etl/erp_customers",
        "reverse_etl/support_organizations",
    ):
        assert key in materialized

    # the KPIs after the syncs: numeric metadata the UI plots
    kpis = next(
        e.materialization.metadata
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "operations/kpis"
    )
    for label in (
        "support_entitlement_accuracy",
        "failed_transaction_rate",
        "duplicate_customer_record_rate",
    ):
        assert 0 <= kpis[label].value <= 1, label
    assert kpis["manual_reconciliation_volume"].value >= 0 and "| KPI |" in kpis["kpis"].value

    evaluations = result.get_asset_check_evaluations()
    gates = {e.asset_key.to_user_string(): e for e in evaluations if e.check_name == "pandera_gate"}
    assert set(gates) >= {"marts/golden_customers", "marts/golden_contracts", "marts/sync_erp_customers"}
    assert all(e.passed for e in gates.values()), {k: e.metadata for k, e in gates.items() if not e.passed}
    dbt_tests = [e for e in evaluations if e.check_name != "pandera_gate"]
    assert dbt_tests and all(e.passed for e in dbt_tests)

    warehouse = Warehouse.from_env()
    golden = warehouse.query("select count(*) from marts.golden_customers")[0][0]
    real = len({c["customer_key"] for c in fresh_sandbox.truth("customers") if c["customer_key"]})
    assert abs(golden - real) <= 0.03 * real
    read_copy = warehouse.duckdb_path.with_name("warehouse_read.duckdb")
    assert read_copy.exists()  # analysts' copy published after the marts build
    fresh_sandbox.reset()  # the syncs wrote into the shared sandbox: later tests expect the seed
