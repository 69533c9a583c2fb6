"""`syncline transform` as users run it: dbt in this process around the identity step, then the read copy.

One warehouse loaded from the sandbox goes through `transform.build.transform` several times: a full
build; an incremental one after the sources changed (seeds unchanged since the last build are not
reloaded, and the fingerprint-incremental survivorship tables equal a rebuild from scratch); one after
an ownership rule changed in the seed table (every golden customer chooses again); one after a seed
table was lost (the seeds come back); and one over a raw table that breaks a dbt test (the error names
the test and nothing is published). The read-only copy is opened the way analysts open it. The
PostgreSQL run builds the same in-process.
"""

from __future__ import annotations

import csv
import time

import duckdb
import pytest

from sandbox.client import SandboxAdmin
from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from tests.transform.compare import copy_warehouse, differing_rows
from transform.build import DbtBuildFailed, transform
from transform.dbt_cli import PROJECT_DIR
from warehouse import Warehouse

SEEDS = {
    "country_codes",
    "field_ownership",
    "fx_rates",
    "plan_tiers",
    "sla_policies",
    "support_field_mapping",
}
# incremental on dlt load ids, and on fingerprints of their inputs (int_customer_attribute_records,
# macros/survivorship.sql)
INCREMENTAL_TABLES = [
    "intermediate.int_party_records",
    "intermediate.int_person_records",
    "intermediate.int_customer_attribute_candidates",
    "marts.golden_customer_attributes",
    "marts.golden_customers",
]


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
    assert full.identity is not None
    assert {"dbt parse", "dbt pre-identity", "identity", "dbt marts", "publish"} <= set(full.seconds)
    assert any("nodes done" in s for s in steps), steps[:5]  # node-level progress for the CLI
    # Analysts' copy: opens read-only while the warehouse file could be written, same golden rows.
    with duckdb.connect(full.published, read_only=True) as con:
        published = con.execute("select count(*) from marts.golden_customers").fetchone()[0]
    # one golden customer per golden id the identity step gave (the count itself is the probabilistic
    # matcher's, held to its budget against the truth in test_golden_customers.py)
    assert published == warehouse.query("select count(*) from marts.golden_customers")[0][0]
    assert published == full.identity.golden_ids


def leave_their_systems(warehouse: Warehouse) -> dict[str, str]:
    """Flags records as gone the way a later dlt load would write them (a new `_dlt_load_id`): a
    deleted billing customer and an archived CRM company, each from a golden customer with other
    records, an archived CRM contact, a Zendesk end-user who became an agent. Returns their ids."""
    shared = (
        "select min(source_id) from marts.customer_crosswalk x where source_system = '{system}' and"
        " (select count(*) from marts.customer_crosswalk o where o.golden_customer_id = x.golden_customer_id) > 1"
    )
    [(billing,)] = warehouse.query(shared.format(system="billing"))
    [(company,)] = warehouse.query(shared.format(system="crm"))
    [(contact,)] = warehouse.query(
        "select min(source_id) from intermediate.int_person_records where source_system = 'crm'"
    )
    [(user,)] = warehouse.query(
        "select min(source_id) from intermediate.int_person_records where source_system = 'support'"
    )
    load = f"'{time.time():.6f}'"
    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        con.execute("alter table raw_billing.customers add column if not exists deleted boolean")
        con.execute(
            f"update raw_billing.customers set deleted = true, _dlt_load_id = {load} where id = ?", [billing]
        )
        for table, key in (("companies", company), ("contacts", contact)):
            con.execute(
                f"update raw_crm.{table} set archived = true, _dlt_load_id = {load} where id = ?", [key]
            )
        con.execute(
            f"update raw_support.users set role = 'agent', _dlt_load_id = {load} where id = ?", [int(user)]
        )
    return {"billing": billing, "crm": company, "crm_contact": contact, "support_user": user}


def test_an_incremental_build_skips_unchanged_seeds(built, sandbox, tmp_path) -> None:
    """Sources changed (the sandbox's simulated activity, then records that left their systems): the
    incremental build skips the unchanged seeds and its tables equal a rebuild from scratch."""
    warehouse, full, _ = built
    admin = SandboxAdmin(sandbox.settings)
    admin.simulate(60, seed=3)  # new customers, edited addresses / owners / credit limits, plan changes
    run = Runner(sandbox.settings, warehouse, warehouse.duckdb_path.parent / "dlt")
    for system in SYSTEMS:
        run(system)
    gone = leave_their_systems(warehouse)
    incremental = transform(warehouse, publish=False)
    # two warn-level tests flag what the removals leave behind: contacts of the archived company
    # (int_person_records -> int_party_records), the deleted customer's subscriptions (golden_contracts)
    assert set(incremental.dbt_results) <= {"success", "pass", "warn"}, incremental.dbt_results
    assert incremental.dbt_results.get("warn", 0) == 2, incremental.dbt_results
    assert seeds_built(incremental) == set()  # unchanged since the last build
    models = {uid for uid in incremental.node_seconds if uid.startswith("model.")}
    assert models == {uid for uid in full.node_seconds if uid.startswith("model.")}
    # the relationships test from billing products to the plan_tiers seed still runs: products may change
    assert any("ref_plan_tiers" in uid for uid in incremental.node_seconds)
    # The records that left are gone, and the incremental tables equal the warehouse rebuilt from scratch.
    [(parties, people)] = warehouse.query(
        "select (select count(*) from intermediate.int_party_records"
        f" where party_record_id in ('billing:{gone['billing']}', 'crm:{gone['crm']}')),"
        " (select count(*) from intermediate.int_person_records"
        f" where person_record_id in ('crm:{gone['crm_contact']}', 'support:{gone['support_user']}'))"
    )
    assert parties == people == 0
    rebuilt = copy_warehouse(warehouse, tmp_path / "rebuilt.duckdb")
    transform(rebuilt, full_refresh=True, publish=False)
    for table in INCREMENTAL_TABLES:
        assert differing_rows(warehouse, rebuilt, table) == 0, table


def test_a_changed_ownership_rule_reaches_every_golden_customer(built) -> None:
    """The seed's table changes when its CSV changes (the seed is then reloaded): no golden customer's
    survivorship may keep the old rule, though none of its records changed."""
    warehouse, _, _ = built
    rule = "update reference.field_ownership set owner_system = '{owner}', fallback_order = '{fallback}' "
    rule += "where entity = 'customer' and field = 'legal_name'"
    [(owner, fallback)] = warehouse.query(
        "select owner_system, fallback_order from reference.field_ownership "
        "where entity = 'customer' and field = 'legal_name'"
    )
    assert (owner, fallback) == ("erp", "crm|billing|support")
    # Golden customers without an ERP record and with a billing name: the CRM's name wins now, the
    # billing one should after the change.
    count = (
        "select count(*), count(*) filter (where g.legal_name_source = '{system}')"
        " from marts.golden_customers g where g.erp_record_count = 0 and exists ("
        " select 1 from marts.customer_crosswalk x join intermediate.int_customer_attribute_candidates c"
        " on c.party_record_id = x.party_record_id and c.field = 'legal_name' and c.source_system = 'billing'"
        " where x.golden_customer_id = g.golden_customer_id)"
    )
    [(affected, from_crm)] = warehouse.query(count.format(system="crm"))
    assert affected > 0 and from_crm > 0  # precondition: the rule change has customers to move
    execute(warehouse, rule.format(owner=owner, fallback="billing|crm|support"))
    try:
        transform(warehouse, publish=False)
        assert warehouse.query(count.format(system="billing")) == [(affected, affected)]
    finally:
        execute(warehouse, rule.format(owner=owner, fallback=fallback))


def test_a_lost_seed_table_is_loaded_again(built) -> None:
    warehouse, _, _ = built
    execute(warehouse, "drop table reference.plan_tiers")
    run = transform(warehouse, publish=False)
    assert seeds_built(run) == SEEDS
    with (PROJECT_DIR / "seeds" / "plan_tiers.csv").open(newline="") as f:
        plans = sorted((row["plan_code"], int(row["plan_rank"])) for row in csv.DictReader(f))
    assert warehouse.query("select plan_code, plan_rank from reference.plan_tiers order by 1, 2") == plans


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
