"""Contract marts on data the real pipelines loaded from the sandbox, checked against its truth.

golden_contracts (one row per billing subscription), entitlement_drift (what Zendesk shows vs. what
billing grants the golden customer), sync_support_organizations (outbound desired state for
Zendesk, only fields the ownership seed lets us write there) and kpi_entitlement_accuracy. The
whole chain runs for real: dlt ingestion -> dbt (seeds, staging, intermediate) -> identity step ->
dbt marts, and again after a simulated upgrade. The same build runs on PostgreSQL.

dbt runs in a subprocess: dbt-duckdb keeps its database open in the process that ran it.
"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from tests.transform.compare import copy_warehouse
from transform.dbt_cli import PRE_IDENTITY_SELECTION, PROJECT_DIR, dbt_args, dbt_env
from transform.identity_step import resolve_identities
from warehouse import Warehouse

DBT = Path(sys.executable).with_name("dbt")
# the contract marts and the marts they read (golden customers), not the rest of the marts layer
CONTRACT_MARTS = ["+path:models/marts/contracts,path:models/marts"]
SEEDS = PROJECT_DIR / "seeds"
# columns of sync_support_organizations that are keys or bookkeeping, not fields written to Zendesk
SYNC_META_COLUMNS = {
    "record_key",
    "golden_customer_id",
    "support_organization_id",
    "external_id",
    "operation",
    "is_primary_organization",
    "changed_fields",
    "has_name_conflict",
    "record_hash",
}
ENTITLEMENT_ORDER = ["none", "standard", "priority", "premium", "premium_24x7"]


def dbt_build(warehouse: Warehouse, work: Path, select: list[str], *, with_tests: bool = True) -> None:
    args = dbt_args("build", select=select)
    args += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    if not with_tests:
        args += ["--exclude-resource-type", "test"]
    env = os.environ | dbt_env(warehouse)
    result = subprocess.run([str(DBT), *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def transform(warehouse: Warehouse, work: Path) -> None:
    """What `syncline transform` does, limited to the marts this file checks. The staging and
    intermediate tests belong to test_dbt_staging_intermediate.py; the marts build runs all of its."""
    dbt_build(warehouse, work, PRE_IDENTITY_SELECTION, with_tests=False)
    resolve_identities(warehouse)
    dbt_build(warehouse, work, CONTRACT_MARTS)


def read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory: pytest.TempPathFactory):
    """A DuckDB warehouse with the four sources loaded and the contract marts built."""
    from sandbox.client import SandboxAdmin

    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("contracts")
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    run = Runner(sandbox.settings, warehouse, work / "dlt")
    for system in SYSTEMS:
        run(system)
    transform(warehouse, work)
    return admin, warehouse, run, work


def frame(warehouse: Warehouse, sql: str) -> pd.DataFrame:
    return warehouse.read_frame(sql)


def truth_keys(admin) -> dict[tuple[str, str], str]:
    return {(row["system"], str(row["source_id"])): row["customer_key"] for row in admin.truth("customers")}


# -- golden_contracts -------------------------------------------------------------------------------


def test_one_contract_per_billing_subscription(built) -> None:
    admin, warehouse, _, _ = built
    contracts = frame(warehouse, "select * from marts.golden_contracts")
    subscriptions = frame(warehouse, "select id from raw_billing.subscriptions")
    assert len(contracts) == admin.truth("counts")["billing"]["subscriptions"] == len(subscriptions)
    assert contracts["contract_id"].is_unique
    assert set(contracts["contract_id"]) == set(subscriptions["id"])
    assert contracts["golden_customer_id"].notna().all()
    assert set(contracts["term"]) <= {"month", "year"}


def test_contracts_belong_to_their_billing_customers_golden_customer(built) -> None:
    admin, warehouse, _, _ = built
    keys = truth_keys(admin)
    contracts = frame(
        warehouse,
        "select billing_customer_id, golden_customer_id, erp_customer_id from marts.golden_contracts",
    )
    matches = frame(
        warehouse, "select source_id, golden_id from identity.party_matches where source_system = 'billing'"
    )
    golden_of = dict(zip(matches["source_id"], matches["golden_id"], strict=True))
    assert all(
        golden_of[b] == g
        for b, g in zip(contracts["billing_customer_id"], contracts["golden_customer_id"], strict=True)
    )
    # a contract names an ERP record exactly when its real customer has one in the ERP, and that record
    # belongs to the same real customer as its billing account
    in_erp = {key for (system, _), key in keys.items() if system == "erp"}
    with_erp = contracts[contracts["erp_customer_id"].notna()]
    assert (
        contracts["erp_customer_id"].notna()
        == contracts["billing_customer_id"].map(lambda b: keys[("billing", b)] in in_erp)
    ).all()
    wrong = [
        (b, e)
        for b, e in zip(with_erp["billing_customer_id"], with_erp["erp_customer_id"], strict=True)
        if keys[("billing", b)] != keys[("erp", e)]
    ]
    assert not wrong, wrong[:10]


def test_recurring_revenue_is_positive_for_paying_contracts_and_zero_otherwise(built) -> None:
    _, warehouse, _, _ = built
    contracts = frame(warehouse, "select * from marts.golden_contracts")
    paying = contracts[contracts["status"].isin(["active", "past_due"])]
    others = contracts[~contracts["status"].isin(["active", "past_due"])]
    # the sandbox has no subscription truth: the statuses billing shows are the truth here
    statuses = dict(warehouse.query("select status, count(*) from raw_billing.subscriptions group by 1"))
    assert len(paying) == statuses.get("active", 0) + statuses.get("past_due", 0)
    assert (contracts["status"] == "canceled").sum() == statuses["canceled"] > 0
    for column in ("mrr", "arr", "mrr_reporting", "arr_reporting"):
        assert (paying[column] > 0).all(), column
        assert (others[column] == 0).all(), column
    assert ((contracts["arr"] - contracts["mrr"] * 12).abs() < 0.005).all()
    # reporting amounts use the seed's reference rate into the reporting currency
    rates = {
        row["currency_code"]: Decimal(row["rate_to_reporting"])
        for row in read_seed("fx_rates")
        if row["reporting_currency_code"] == "USD"
    }
    assert set(contracts["reporting_currency_code"]) == {"USD"}
    for mrr, currency, reported in zip(
        paying["mrr"], paying["currency_code"], paying["mrr_reporting"], strict=True
    ):
        assert abs(Decimal(str(mrr)) * rates[currency] - Decimal(str(reported))) <= Decimal("0.005")
    usd = contracts[contracts["currency_code"] == "USD"]
    assert (usd["mrr_reporting"] == usd["mrr"]).all()


def test_renewal_falls_after_start_everywhere(built) -> None:
    _, warehouse, _, _ = built
    contracts = frame(warehouse, "select * from marts.golden_contracts")
    assert contracts["renewal_after_start"].all()
    renewing = contracts[contracts["is_live"] & ~contracts["cancel_at_period_end"].astype(bool)]
    assert renewing["renewal_date"].notna().all()
    assert (pd.to_datetime(renewing["renewal_date"]) > pd.to_datetime(renewing["start_date"])).all()
    assert contracts.loc[~contracts["is_live"], "renewal_date"].isna().all()


def test_consistency_flags(built) -> None:
    _, warehouse, _, _ = built
    contracts = frame(warehouse, "select * from marts.golden_contracts")
    # an ERP number from billing metadata only stands in without an ERP record
    assert (contracts.loc[contracts["has_erp_customer"], "erp_customer_number_source"] == "erp").all()
    assert (contracts.loc[~contracts["has_erp_customer"], "erp_customer_number_source"] != "erp").all()
    # consistent: billing metadata names no number, or the golden ERP record's
    agree = contracts["billing_erp_customer_number"].isna() | (
        contracts["has_erp_customer"]
        & (contracts["billing_erp_customer_number"] == contracts["erp_customer_number"])
    )
    assert (contracts["erp_number_consistent"] == agree).all()
    # how many agree is the sandbox's mess (no truth counts it); the rule itself is checked exactly above
    assert contracts["erp_number_consistent"].mean() > 0.8
    assert not contracts.loc[~contracts["has_support_organization"], "support_entitlement_matches"].any()
    # one contract per golden customer with a live contract sets its entitlement
    live = contracts[contracts["is_live"]]
    assert live.groupby("golden_customer_id")["is_entitlement_contract"].sum().eq(1).all()
    assert (contracts.loc[~contracts["is_live"], "support_entitlement"] == "none").all()


# -- the plan catalogue comes from data --------------------------------------------------------------

# the models a plan or an entitlement reaches; the seeds are left out, their tables are edited instead
PLAN_MODELS = ["int_subscription_current_plan", "path:models/marts/contracts"]


def test_a_companys_own_plans_build_and_an_unknown_plan_fails_clearly(built, tmp_path, monkeypatch) -> None:
    """In a copy of the warehouse the billing catalogue renames the growth plan to 'team' with a new
    support tier 'gold', and the seed tables list both, as a company's own plan_tiers.csv and
    sla_policies.csv would: the contract marts build and carry them. Then 'team' leaves plan_tiers, and
    later 'gold' leaves sla_policies: each time the build fails on the test that says which seed to
    complete."""
    import duckdb

    from transform.dbt_session import DbtBuildFailed, DbtSession

    _, warehouse, _, _ = built
    copy = copy_warehouse(warehouse, tmp_path / "plans.duckdb")
    monkeypatch.setenv("SYNCLINE_DBT_TARGET_PATH", str(tmp_path / "target"))
    [(growth_live, growth_sync)] = copy.query(
        "select (select count(*) from marts.golden_contracts where plan_code = 'growth' and is_live),"
        " (select count(*) from marts.sync_support_organizations where plan = 'growth')"
    )
    assert growth_live > 0 and growth_sync > 0  # precondition: the renamed plan has live contracts
    with duckdb.connect(str(copy.duckdb_path)) as con:
        con.execute(
            'update raw_billing.products set metadata = \'{"plan_code":"team","support_tier":"gold"}\''
            " where metadata->>'plan_code' = 'growth'"
        )
        con.execute("update reference.plan_tiers set plan_code = 'team' where plan_code = 'growth'")
        con.execute("insert into reference.sla_policies values ('gold', 'Gold (2h)')")

    dbt = DbtSession(copy)
    built_plans = dbt.run("contracts", PLAN_MODELS, exclude=["resource_type:seed"])
    assert built_plans.success, built_plans.failures() or built_plans.error
    contracts = frame(copy, "select * from marts.golden_contracts where is_live")
    assert "growth" not in set(contracts["plan_code"])
    assert (contracts["plan_code"] == "team").sum() == growth_live
    assert set(contracts.loc[contracts["plan_code"] == "team", "support_entitlement"]) == {"gold"}
    sync = frame(copy, "select * from marts.sync_support_organizations where plan = 'team'")
    assert len(sync) == growth_sync
    assert set(sync["support_entitlement"]) == {"gold"} and set(sync["sla_policy"]) == {"Gold (2h)"}

    with duckdb.connect(str(copy.duckdb_path)) as con:
        con.execute("delete from reference.plan_tiers where plan_code = 'team'")
    unknown = dbt.run("contracts", PLAN_MODELS, exclude=["resource_type:seed"])
    assert not unknown.success
    [failure] = unknown.failures()
    assert failure.startswith("test.syncline.live_contract_plan_missing_from_plan_tiers_seed.")
    assert f"Got {growth_live} results" in failure
    assert "add the plan code with its rank to dbt_project/seeds/plan_tiers.csv" in failure
    with pytest.raises(DbtBuildFailed, match="live_contract_plan_missing_from_plan_tiers_seed"):
        unknown.raise_on_failure()

    # the plan is ranked again, but its support tier has no SLA policy
    with duckdb.connect(str(copy.duckdb_path)) as con:
        con.execute("insert into reference.plan_tiers values ('team', 2, 'Team plan')")
        con.execute("delete from reference.sla_policies where support_entitlement = 'gold'")
    no_policy = dbt.run("contracts", PLAN_MODELS, exclude=["resource_type:seed"])
    assert not no_policy.success
    failures = {failure.split(".")[2]: failure for failure in no_policy.failures()}
    failure = failures.pop("contract_entitlement_missing_from_sla_policies_seed")
    assert f"Got {growth_live} results" in failure
    assert "to dbt_project/seeds/sla_policies.csv" in failure
    # the other failures are the same gap, seen on the entitlements derived from the contract's
    assert failures and all(
        name.startswith("relationships_")
        and name.endswith("_entitlement__support_entitlement__ref_sla_policies_")
        for name in failures
    ), failures


# -- entitlement drift and its KPI ----------------------------------------------------------------------


def test_entitlement_drift_agrees_with_truth(built) -> None:
    admin, warehouse, _, _ = built
    truth = {row["organization_id"]: row for row in admin.truth("entitlements")}
    drift = frame(warehouse, "select * from marts.entitlement_drift")
    assert len(drift) == admin.truth("counts")["support"]["organizations"]
    linked = drift[drift["is_linked_to_billing"]]
    # linking an organization to billing goes through the probabilistic identity step: a budget, not
    # exact (the few unlinked ones are its misses)
    assert len(linked) >= 0.95 * len(drift)
    # every linked organization agrees with the truth exactly, and every stale one is linked and found
    disagree = [
        (o, d, e)
        for o, d, e in zip(
            linked["support_organization_id"],
            linked["is_drifted"],
            linked["expected_entitlement"],
            strict=True,
        )
        if (bool(truth[int(o)]["is_stale"]), truth[int(o)]["correct_entitlement"]) != (bool(d), e)
    ]
    assert not disagree, disagree[:10]
    assert linked["is_drifted"].sum() == sum(bool(row["is_stale"]) for row in truth.values()) > 0


def test_drift_kinds_describe_the_difference(built) -> None:
    _, warehouse, _, _ = built
    drift = frame(warehouse, "select * from marts.entitlement_drift")
    rank = {name: i for i, name in enumerate(ENTITLEMENT_ORDER)}
    for row in drift.itertuples(index=False):
        current, expected = row.current_entitlement, row.expected_entitlement
        if not row.is_drifted:
            assert current == expected and pd.isna(row.drift_kind)
        elif pd.isna(current) or current not in rank or (current == "none" and expected != "none"):
            assert row.drift_kind == "missing_entitlement", row
        elif expected == "none":
            assert row.drift_kind == "should_be_none", row
        else:
            assert row.drift_kind == ("stale_lower" if rank[current] < rank[expected] else "stale_higher"), (
                row
            )
    assert {"stale_lower", "missing_entitlement"} <= set(drift["drift_kind"].dropna())


def test_kpi_counts_the_drift(built) -> None:
    _, warehouse, _, _ = built
    drift = frame(warehouse, "select * from marts.entitlement_drift")
    [kpi] = frame(warehouse, "select * from marts.kpi_entitlement_accuracy").to_dict("records")
    linked = drift[drift["is_linked_to_billing"]]
    assert kpi["organizations_checked"] == len(linked)
    assert kpi["organizations_correct"] == int((~linked["is_drifted"]).sum())
    assert float(kpi["entitlement_accuracy"]) == pytest.approx(
        kpi["organizations_correct"] / len(linked), abs=1e-4
    )
    for kind in ("missing_entitlement", "stale_lower", "stale_higher", "should_be_none"):
        assert kpi[f"{kind}_count"] == int((linked["drift_kind"] == kind).sum()), kind
    assert kpi["unlinked_organizations"] == int((~drift["is_linked_to_billing"]).sum())


# -- outbound sync to Zendesk ------------------------------------------------------------------------


def test_sync_carries_only_fields_support_takes(built) -> None:
    _, warehouse, _, _ = built
    columns = set(frame(warehouse, "select * from marts.sync_support_organizations limit 0").columns)
    ownership = {(row["entity"], row["field"]): row for row in read_seed("field_ownership")}
    mapping = {
        (row["entity"], row["field"]): row["sync_column"] for row in read_seed("support_field_mapping")
    }
    to_support = {
        key for key, row in ownership.items() if "support" in (row["sync_targets"] or "").split("|")
    }
    assert to_support, "the ownership seed sends nothing to support"
    assert to_support <= set(mapping), to_support - set(mapping)
    field_columns = columns - SYNC_META_COLUMNS
    assert field_columns == {mapping[key] for key in to_support}
    # nothing support does not take, under any name
    not_to_support = {field for (entity, field) in ownership if (entity, field) not in to_support}
    assert not (field_columns & not_to_support), field_columns & not_to_support
    assert not (field_columns & {"mrr", "status", "tax_id", "legal_name", "billing_email"})


def test_sync_desired_state(built) -> None:
    _, warehouse, _, _ = built
    sync = frame(warehouse, "select * from marts.sync_support_organizations")
    drift = frame(warehouse, "select * from marts.entitlement_drift")
    orgs = frame(warehouse, "select * from staging.stg_support__organizations")
    assert sync["record_key"].is_unique and sync["record_hash"].notna().all()
    # the seed's organizations lack the fields Syncline added (payment status, renewal date, owner), so
    # no organization is a noop before the first sync; the rerun tests in tests/reverse_etl show noops
    assert {"insert", "update"} <= set(sync["operation"]) <= {"insert", "update", "noop"}
    # every organization of a golden customer with a billing account; never the unlinked ones
    linked = drift[drift["is_linked_to_billing"]]
    existing = sync[sync["support_organization_id"].notna()]
    assert set(existing["support_organization_id"].astype(int)) == set(
        linked["support_organization_id"].astype(int)
    )
    # the entitlement to write is the drift's expected one, and every drifted org gets an update with it
    expected = dict(
        zip(linked["support_organization_id"].astype(int), linked["expected_entitlement"], strict=True)
    )
    assert all(
        expected[int(o)] == e
        for o, e in zip(existing["support_organization_id"], existing["support_entitlement"], strict=True)
    )
    drifted = set(linked.loc[linked["is_drifted"], "support_organization_id"].astype(int))
    updates = existing[existing["support_organization_id"].astype(int).isin(drifted)]
    assert (updates["operation"] == "update").all()
    assert updates["changed_fields"].str.split(",").map(lambda f: "support_entitlement" in f).all()
    # noop rows hold what Zendesk shows already
    current = orgs.set_index("support_organization_id")
    for row in existing[existing["operation"] == "noop"].itertuples(index=False):
        org = current.loc[int(row.support_organization_id)]
        assert row.support_entitlement == org["support_entitlement"]
        assert (row.plan if pd.notna(row.plan) else None) == (
            org["plan_code"] if pd.notna(org["plan_code"]) else None
        )
        assert row.name == org["organization_name"]
    # inserts: golden customers with a live contract and no organization, one primary row each
    inserts = sync[sync["operation"] == "insert"]
    assert inserts["support_organization_id"].isna().all()
    assert inserts["external_id"].str.startswith("cus_").all()
    assert (inserts["support_entitlement"] != "none").all() and inserts["name"].notna().all()
    assert inserts["golden_customer_id"].is_unique
    # Zendesk names are unique case-insensitively: no update proposes a name another organization holds
    taken = (
        orgs.groupby(orgs["organization_name"].str.lower())["support_organization_id"].apply(set).to_dict()
    )
    for row in existing.itertuples(index=False):
        holders = taken.get(row.name.lower(), set()) - {row.support_organization_id}
        assert (
            not holders or row.name == current.loc[int(row.support_organization_id), "organization_name"]
        ), row
    flagged = inserts[inserts["has_name_conflict"]]
    assert all(
        name.lower() in taken
        for name in flagged["name"]
        if not (inserts["name"].str.lower() == name.lower()).sum() > 1
    )
    # the golden name goes to one organization per golden customer
    assert existing.groupby("golden_customer_id")["is_primary_organization"].sum().eq(1).all()


# -- business activity flows through (mutates the sandbox: keep last) ---------------------------------


def test_upgrade_changes_the_contract_and_reaches_drift_and_sync(built) -> None:
    admin, warehouse, run, work = built
    before = frame(warehouse, "select * from marts.golden_contracts")
    drift_before = frame(warehouse, "select * from marts.entitlement_drift")
    clean_goldens = set(drift_before.loc[drift_before["is_linked_to_billing"], "golden_customer_id"]) - set(
        drift_before.loc[drift_before["is_drifted"], "golden_customer_id"]
    )
    # candidates: the contract that sets the entitlement of a golden customer whose orgs are in sync
    candidates = before[before["is_entitlement_contract"] & before["golden_customer_id"].isin(clean_goldens)]
    upgraded = None
    for seed in range(40):
        changes = admin.simulate(1, seed=seed, kinds=["upgrade"])["changes"]
        ids = {c["id"] for c in changes if c["table"] == "subscriptions"}
        hit = ids & set(candidates["contract_id"])
        if hit:
            upgraded = hit.pop()
            break
    assert upgraded is not None, "no upgrade hit a contract that sets a synced organization's entitlement"
    run("billing")
    transform(warehouse, work)

    old = before.set_index("contract_id").loc[upgraded]
    new = frame(warehouse, f"select * from marts.golden_contracts where contract_id = '{upgraded}'").iloc[0]
    assert new["plan_rank"] == old["plan_rank"] + 1 and new["plan_code"] != old["plan_code"]
    assert new["support_entitlement"] != old["support_entitlement"]
    assert (
        new["is_entitlement_contract"] and new["customer_support_entitlement"] == new["support_entitlement"]
    )
    assert not new["support_entitlement_matches"]

    drift = frame(
        warehouse,
        f"select * from marts.entitlement_drift where golden_customer_id = '{old['golden_customer_id']}'",
    )
    # exactly the organizations of the upgraded customer, all stale now in the truth too
    key = truth_keys(admin)[("billing", old["billing_customer_id"])]
    orgs = [row for row in admin.truth("entitlements") if row["customer_key"] == key]
    assert set(drift["support_organization_id"].astype(int)) == {row["organization_id"] for row in orgs}
    assert drift["is_drifted"].all() and all(row["is_stale"] for row in orgs)
    assert (drift["drift_kind"] == "stale_lower").all() and (
        drift["expected_entitlement"] == new["support_entitlement"]
    ).all()

    sync = frame(
        warehouse,
        f"select * from marts.sync_support_organizations where golden_customer_id = '{old['golden_customer_id']}'",
    )
    assert set(sync["support_organization_id"].astype(int)) == set(
        drift["support_organization_id"].astype(int)
    )
    assert (sync["operation"] == "update").all()
    assert (sync["support_entitlement"] == new["support_entitlement"]).all() and (
        sync["plan"] == new["plan_code"]
    ).all()
    assert sync["changed_fields"].map(lambda f: {"plan", "support_entitlement"} <= set(f.split(","))).all()


# -- contracts --------------------------------------------------------------------------------------

BREAK_A_CONTRACT_ROW = {
    # column rule (accepted values as a check constraint) -> the text the database error names
    "update marts.golden_contracts set term = 'week' where contract_id = (select min(contract_id) from marts.golden_contracts)": "term",
    # NOT NULL constraint of a contracted intermediate table (the identity step's input)
    "update intermediate.int_party_records set source_system = null where party_record_id = (select min(party_record_id) from intermediate.int_party_records)": "source_system",
    # model-level rule across columns
    "update marts.golden_contracts set renewal_date = start_date - 1 where contract_id = (select min(contract_id) from marts.golden_contracts where renewal_date is not null)": "renewal",
}


@pytest.mark.parametrize("statement", list(BREAK_A_CONTRACT_ROW))
def test_contract_constraints_reject_a_broken_row(built, statement: str) -> None:
    """Row rules of contracted tables are database constraints (DuckDB and PostgreSQL enforce them),
    not dbt tests that run after the fact: a write that breaks one fails and names the rule."""
    import duckdb

    _, warehouse, _, _ = built
    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        with pytest.raises(duckdb.ConstraintException, match=BREAK_A_CONTRACT_ROW[statement]):
            con.execute(statement)


# -- PostgreSQL -------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_contract_marts_build_on_postgres(postgres_built) -> None:
    import psycopg2

    warehouse, admin = postgres_built.warehouse, postgres_built.admin
    [(contracts, subscriptions)] = warehouse.query(
        "select (select count(*) from marts.golden_contracts), (select count(*) from raw_billing.subscriptions)"
    )
    assert contracts == subscriptions
    truth = {row["organization_id"]: row["is_stale"] for row in admin.truth("entitlements")}
    drift = warehouse.read_frame("select * from marts.entitlement_drift where is_linked_to_billing")
    agree = sum(
        truth[int(o)] == bool(d)
        for o, d in zip(drift["support_organization_id"], drift["is_drifted"], strict=True)
    )
    assert agree == len(drift) and drift["is_drifted"].sum() == sum(truth.values())
    columns = set(warehouse.read_frame("select * from marts.sync_support_organizations limit 0").columns)
    assert columns - SYNC_META_COLUMNS == {row["sync_column"] for row in read_seed("support_field_mapping")}
    [(rows,)] = warehouse.query("select count(*) from marts.kpi_entitlement_accuracy")
    assert rows == 1
    for statement, column in BREAK_A_CONTRACT_ROW.items():
        with pytest.raises(psycopg2.IntegrityError, match=column):
            warehouse.query(statement)
