"""`syncline transform` as users run it: dbt in this process around the identity step, then the read copy.

One warehouse loaded from the sandbox goes through `transform.build.transform` several times: a full
build, an incremental one (seeds unchanged since the last build are not reloaded), one after a seed
table was lost (the seeds come back), and one over a raw table that breaks a dbt test (the error names
the test and nothing is published). The read-only copy is opened the way analysts open it. The
PostgreSQL run builds the same in-process.
"""

from __future__ import annotations

import duckdb
import pytest

from ingestion.warehouse import Warehouse
from sandbox.client import SandboxAdmin
from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from transform.build import DbtBuildFailed, transform

SEEDS = {"country_codes", "field_ownership", "fx_rates", "plan_tiers", "support_field_mapping"}


def execute(warehouse: Warehouse, sql: str) -> None:
    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        con.execute(sql)


def seeds_built(run) -> set[str]:
    return {uid.split(".")[-1] for uid in run.node_seconds if uid.startswith("seed.")}


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory: pytest.TempPathFactory, monkeypatch_module):
    """The four sources loaded into a temp DuckDB warehouse and one full `transform`, with its steps."""
    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("transform")
    monkeypatch_module.setenv("SYNCLINE_DBT_TARGET_PATH", str(work / "target"))
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    run = Runner(sandbox.settings, warehouse, work / "dlt")
    for system in SYSTEMS:
        run(system)
    steps: list[str] = []
    full = transform(warehouse, full_refresh=True, progress=steps.append)
    return warehouse, full, steps


def test_full_build_and_the_read_copy(built) -> None:
    warehouse, full, steps = built
    assert set(full.dbt_results) <= {"success", "pass"}, full.dbt_results
    assert seeds_built(full) == SEEDS
    assert full.identity is not None and full.identity.golden_ids > 0
    assert {"dbt parse", "dbt pre-identity", "identity", "dbt marts", "publish"} <= set(full.seconds)
    assert any("nodes done" in s for s in steps), steps[:5]  # node-level progress for the CLI
    # Analysts' copy: opens read-only while the warehouse file could be written, same golden rows.
    with duckdb.connect(full.published, read_only=True) as con:
        published = con.execute("select count(*) from marts.golden_customers").fetchone()[0]
    assert published == warehouse.query("select count(*) from marts.golden_customers")[0][0] > 0


def test_an_incremental_build_skips_unchanged_seeds(built) -> None:
    warehouse, full, _ = built
    incremental = transform(warehouse, publish=False)
    assert set(incremental.dbt_results) <= {"success", "pass"}, incremental.dbt_results
    assert seeds_built(incremental) == set()  # unchanged since the last build
    models = {uid for uid in incremental.node_seconds if uid.startswith("model.")}
    assert models == {uid for uid in full.node_seconds if uid.startswith("model.")}
    # the relationships test from billing products to the plan_tiers seed still runs: products may change
    assert any("ref_plan_tiers" in uid for uid in incremental.node_seconds)


def test_a_lost_seed_table_is_loaded_again(built) -> None:
    warehouse, _, _ = built
    execute(warehouse, "drop table reference.plan_tiers")
    run = transform(warehouse, publish=False)
    assert seeds_built(run) == SEEDS
    assert warehouse.query("select count(*) from reference.plan_tiers")[0][0] > 0


def test_a_failing_dbt_test_names_itself_and_publishes_nothing(built) -> None:
    warehouse, _, _ = built
    copy = warehouse.duckdb_path.with_name("warehouse_read.duckdb")
    copy.unlink(missing_ok=True)
    execute(warehouse, "insert into raw_billing.customers select * from raw_billing.customers limit 1")
    try:
        with pytest.raises(DbtBuildFailed, match="source_unique_raw_billing_customers_id"):
            transform(warehouse)
        assert not copy.exists()
    finally:
        execute(
            warehouse,
            "delete from raw_billing.customers where rowid in (select max(rowid) from raw_billing.customers"
            " group by id having count(*) > 1)",
        )


@pytest.mark.postgres
def test_transform_on_postgres(postgres_built) -> None:
    full, incremental, warehouse = postgres_built.full, postgres_built.incremental, postgres_built.warehouse
    assert full.published is None  # PostgreSQL readers query the warehouse itself
    assert set(full.dbt_results) <= {"success", "pass"}, full.dbt_results
    assert seeds_built(full) == SEEDS
    assert set(incremental.dbt_results) <= {"success", "pass"}, incremental.dbt_results
    assert seeds_built(incremental) == set()
    [(in_crosswalk, golden)] = warehouse.query(
        "select (select count(distinct golden_customer_id) from marts.customer_crosswalk),"
        " (select count(*) from marts.golden_customers)"
    )
    assert in_crosswalk == golden > 0
