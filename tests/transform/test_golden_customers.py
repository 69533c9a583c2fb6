"""Golden customers and their marts on data the real pipelines loaded from the sandbox.

The four sources are ingested into a temp DuckDB warehouse, dbt builds seeds + staging +
intermediate, the identity step runs, and dbt builds `models/marts/customers` (every dbt test must
pass). The results are checked against the sandbox's truth (which records are one real customer),
against the field ownership seed, across reruns of identity + marts, and through a round trip:
change a CRM company and fix an ERP customer through the vendor APIs, reload, rebuild, and see the
drift and the ERP sync follow.

dbt runs in a subprocess: dbt-duckdb keeps its database open in the process that ran it.
"""

from __future__ import annotations

import csv
import itertools
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from transform.dbt_cli import PRE_IDENTITY_SELECTION, PROJECT_DIR, dbt_args, dbt_env
from transform.identity_step import resolve_identities
from warehouse import Warehouse

DBT = Path(sys.executable).with_name("dbt")
MARTS = ["path:models/marts/customers"]
# Company-shaped truth tables (the truth also lists people: CRM contacts, support users).
COMPANY_TABLES = {
    ("billing", "customers"),
    ("crm", "companies"),
    ("erp", "customers"),
    ("support", "organizations"),
}
# sync_erp_customers column -> customer field of the ownership seed (mirrors macros/erp_customer_fields.sql).
SYNC_COLUMNS = {
    "display_name": "legal_name",
    "address_line1": "address",
    "address_line2": "address",
    "city": "address",
    "state": "address",
    "postal_code": "address",
    "country": "country",
    "email": "billing_email",
    "phone_number": "phone",
    "website": "domain",
    "salesperson_code": "account_owner",
}


def dbt(warehouse: Warehouse, work: Path, command: str, select: list[str], *extra: str) -> None:
    args = dbt_args(command, select=select) + [
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    args += list(extra)
    result = subprocess.run(
        [str(DBT), *args], env=os.environ | dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def identity_and_marts(warehouse: Warehouse, work: Path) -> None:
    resolve_identities(warehouse)
    dbt(warehouse, work, "build", MARTS)


def build_all(warehouse: Warehouse, run: Runner, work: Path) -> None:
    for system in SYSTEMS:
        run(system)
    # the layers below have their own tests (test_dbt_staging_intermediate.py): build them untested
    dbt(warehouse, work, "build", PRE_IDENTITY_SELECTION, "--exclude-resource-type", "test")
    identity_and_marts(warehouse, work)


def ownership() -> dict[str, dict[str, str]]:
    with open(PROJECT_DIR / "seeds" / "field_ownership.csv", newline="") as handle:
        return {row["field"]: row for row in csv.DictReader(handle) if row["entity"] == "customer"}


def truth_keys(admin) -> dict[tuple[str, str], str]:
    return {
        (row["system"], str(row["source_id"])): row["customer_key"]
        for row in admin.truth("customers")
        if (row["system"], row["table"]) in COMPANY_TABLES
    }


def crosswalk(warehouse: Warehouse) -> dict[tuple[str, str], str]:
    rows = warehouse.query(
        "select source_system, source_id, golden_customer_id from marts.customer_crosswalk"
    )
    return {(system, source_id): golden for system, source_id, golden in rows}


def pairs(assignment: dict) -> set[tuple]:
    groups = defaultdict(list)
    for record, cluster in assignment.items():
        groups[cluster].append(record)
    return {pair for members in groups.values() for pair in itertools.combinations(sorted(members), 2)}


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory: pytest.TempPathFactory):
    """A DuckDB warehouse loaded from a freshly reset sandbox, built through the customer marts."""
    from sandbox.client import SandboxAdmin

    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("golden")
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    run = Runner(sandbox.settings, warehouse, work / "dlt")
    build_all(warehouse, run, work)
    return admin, warehouse, run, work


def customers_in_erp(admin) -> set[str]:
    """The real customers with at least one ERP record (the ERP duplicates some)."""
    return {key for (system, _), key in truth_keys(admin).items() if system == "erp"}


def test_golden_ids_are_real_customers(built) -> None:
    admin, warehouse, _, _ = built
    truth = truth_keys(admin)
    golden = crosswalk(warehouse)
    assert set(golden) == set(truth)  # every company record of every system, once
    # Every golden id stands for one real customer, exactly: no cluster merges two of them (a wrong
    # merge mixes two companies' data and is sent on to their systems).
    real_customers = defaultdict(set)
    for record, golden_id in golden.items():
        real_customers[golden_id].add(truth[record])
    mixed = {golden_id: keys for golden_id, keys in real_customers.items() if len(keys) > 1}
    assert not mixed, list(mixed.items())[:10]
    # Missed merges leave a real customer split over several golden ids: identity resolution is
    # probabilistic (Splink), so against the exact truth the recall and the number of golden
    # customers are a budget (seed 7, scale 300: recall 0.99, 305 golden ids for 300 customers).
    truth_pairs, golden_pairs = pairs(truth), pairs(golden)  # golden pairs are truth pairs: none mixed
    recall = len(golden_pairs) / len(truth_pairs)
    assert recall >= 0.97, recall
    customers = len(set(truth.values()))
    [(golden_count,)] = warehouse.query("select count(*) from marts.golden_customers")
    assert customers <= golden_count <= 1.02 * customers, (golden_count, customers)


def test_survivorship_follows_the_ownership_seed(built) -> None:
    admin, warehouse, _, _ = built
    seed = ownership()
    # The winner of every field comes from the best-ranked system that offered a value (owner, then
    # fallback order, ranked here from the seed itself): nothing of a better rank was passed over.
    ranks = ", ".join(
        f"('{field}', '{system}', {rank})"
        for field, row in seed.items()
        for rank, system in enumerate([row["owner_system"], *filter(None, row["fallback_order"].split("|"))])
    )
    [(passed_over,)] = warehouse.query(
        "select count(*) from marts.golden_customer_attributes a "
        "join marts.customer_crosswalk x on x.golden_customer_id = a.golden_customer_id "
        "join intermediate.int_customer_attribute_candidates c "
        "  on c.party_record_id = x.party_record_id and c.field = a.field "
        f"join (values {ranks}) as seed_rank (field, source_system, ownership_rank) "
        "  on seed_rank.field = c.field and seed_rank.source_system = c.source_system "
        "where seed_rank.ownership_rank < a.ownership_rank"
    )
    assert passed_over == 0
    fields = {
        field for (field,) in warehouse.query("select distinct field from marts.golden_customer_attributes")
    }
    assert fields == set(seed)
    # The ERP owns the legal name: whenever the cluster has an ERP record, it wins.
    assert seed["legal_name"]["owner_system"] == "erp"
    [(with_erp, from_erp)] = warehouse.query(
        "select count(*), count(*) filter (where legal_name_source = 'erp') "
        "from marts.golden_customers where erp_record_count > 0"
    )
    assert with_erp == len(customers_in_erp(admin)) and from_erp == with_erp
    # Every `<field>_source` is the system of the attribute row it was pivoted from.
    golden = warehouse.read_frame("select * from marts.golden_customers")
    attributes = warehouse.read_frame(
        "select golden_customer_id, field, source_system from marts.golden_customer_attributes"
    )
    source_of = {(g, f): s for g, f, s in attributes.itertuples(index=False)}
    for row in golden.to_dict("records"):
        for field in seed:
            column = f"{field}_source"
            expected = source_of.get((row["golden_customer_id"], field))
            assert (row[column] if isinstance(row[column], str) else None) == expected, (
                row["golden_customer_id"],
                field,
            )
    # Owners win where present: CRM owns display_name and phone, billing owns billing_email.
    for field, column in (
        ("display_name", "display_name_source"),
        ("phone", "phone_source"),
        ("billing_email", "billing_email_source"),
    ):
        owner = seed[field]["owner_system"]
        [(bad,)] = warehouse.query(
            f"select count(*) from marts.golden_customers g where {owner}_record_count > 0 and {column} <> '{owner}' "
            f"and exists (select 1 from marts.golden_customer_attributes a join marts.customer_crosswalk x "
            f"on x.golden_customer_id = a.golden_customer_id "
            f"join intermediate.int_customer_attribute_candidates c on c.party_record_id = x.party_record_id "
            f"and c.field = '{field}' and c.source_system = '{owner}' where a.golden_customer_id = g.golden_customer_id)"
        )
        assert bad == 0, field


def test_address_parts_come_from_one_record(built) -> None:
    _, warehouse, _, _ = built
    [(total, mixed)] = warehouse.query(
        "select count(*), count(*) filter (where not ("
        "  g.address_line1 is not distinct from p.address_line1"
        "  and g.address_line2 is not distinct from p.address_line2"
        "  and g.city is not distinct from p.city"
        "  and g.postal_code is not distinct from p.postal_code"
        "  and g.region is not distinct from p.region"
        "  and g.address_source = p.source_system)) "
        "from marts.golden_customers g "
        "join intermediate.int_party_records p on p.party_record_id = g.address_party_record_id"
    )
    assert total > 250 and mixed == 0


def test_one_survivor_id_per_system(built) -> None:
    _, warehouse, _, _ = built
    frame = warehouse.read_frame(
        "select g.golden_customer_id, g.erp_customer_id, g.erp_record_count, x.source_id, x.is_system_survivor "
        "from marts.golden_customers g join marts.customer_crosswalk x "
        "on x.golden_customer_id = g.golden_customer_id and x.source_system = 'erp'"
    )
    survivors = frame[frame["is_system_survivor"]]
    assert (survivors["source_id"] == survivors["erp_customer_id"]).all()
    assert len(survivors) == survivors["golden_customer_id"].nunique()
    assert (frame["erp_record_count"] > 1).any()  # the sandbox duplicates some ERP customers


def test_kpi_duplicates_match_truth(built) -> None:
    admin, warehouse, _, _ = built
    truth = truth_keys(admin)
    kpi = warehouse.read_frame("select * from marts.kpi_duplicate_customers").iloc[0]
    assert kpi["source_record_count"] == len(truth)
    for system in SYSTEMS:
        records = [key for (s, _), key in truth.items() if s == system]
        real_duplicates = len(records) - len(set(records))
        assert kpi[f"{system}_record_count"] == len(records)
        # identity is near-perfect, not perfect: within a few records of the truth
        assert abs(int(kpi[f"{system}_duplicate_record_count"]) - real_duplicates) <= 3, system
    assert 0 < float(kpi["duplicate_record_rate"]) < 0.1


def test_sync_erp_customers_carries_only_what_the_erp_does_not_own(built) -> None:
    _, warehouse, _, _ = built
    seed = ownership()
    sync = warehouse.read_frame("select * from marts.sync_erp_customers")
    assert set(sync["operation"]) == {"insert", "update", "noop"}
    changes = sync[sync["operation"] != "insert"]
    for column, field in SYNC_COLUMNS.items():
        pushable = seed[field]["owner_system"] != "erp" and "erp" in seed[field]["sync_targets"].split("|")
        if not pushable:
            assert changes[column].isna().all(), column
    assert changes["currency_code"].isna().all()
    assert changes["salesperson_code"].notna().any() and changes["email"].notna().any()
    inserts = sync[sync["operation"] == "insert"]
    for column in ("display_name", "address_line1", "city", "country", "email", "currency_code"):
        assert inserts[column].notna().all(), column
    # Scope: every golden customer with an ERP record or a billing relationship, never a prospect.
    golden = warehouse.read_frame("select * from marts.golden_customers")
    expected = set(
        golden.loc[
            golden["erp_customer_id"].notna() | golden["has_billing_relationship"], "golden_customer_id"
        ]
    )
    assert set(sync["golden_customer_id"]) == expected
    prospects = set(
        golden.loc[
            ~golden["has_billing_relationship"] & golden["erp_customer_id"].isna(), "golden_customer_id"
        ]
    )
    # The test world (seed 7, scale 300) has no CRM-only customer: prospects appear only when
    # identity misses a link, and must stay out of the ERP sync then too.
    assert not prospects & set(sync["golden_customer_id"])
    # An update names exactly the survivor's drifted fields.
    drift = warehouse.read_frame(
        "select golden_customer_id, field from marts.master_data_drift where action = 'update_erp'"
    )
    drifted = drift.groupby("golden_customer_id")["field"].apply(lambda s: ",".join(sorted(s))).to_dict()
    updates = sync[sync["operation"] == "update"]
    assert dict(zip(updates["golden_customer_id"], updates["changed_fields"], strict=True)) == drifted
    assert sync["record_hash"].str.fullmatch(r"[0-9a-f]{32}").all()


def test_drift_only_on_fields_the_erp_does_not_own(built) -> None:
    _, warehouse, _, _ = built
    seed = ownership()
    drift = warehouse.read_frame("select * from marts.master_data_drift")
    assert len(drift) > 10  # the sandbox's ERP drifts from the golden values; no truth counts by how much
    for field in set(drift["field"]):
        assert seed[field]["owner_system"] != "erp" and "erp" in seed[field]["sync_targets"].split("|"), field
    assert (drift["erp_value"].fillna("").str.lower() != drift["golden_value"].str.lower()).all()


@pytest.fixture(scope="module")
def rerun(built):
    """Identity + marts run again over the same data, with one twist: as if the previous run had split
    one cluster, part of it carried an older golden id. Everything else must keep its id."""
    import duckdb

    _, warehouse, _, work = built
    before = crosswalk(warehouse)
    hashes = dict(warehouse.query("select golden_customer_id, record_hash from marts.sync_erp_customers"))
    [(merged, members)] = warehouse.query(
        "select golden_customer_id, count(*) from marts.customer_crosswalk "
        "group by 1 having count(distinct source_system) >= 3 order by 1 limit 1"
    )
    older = "GC000000000"  # older than any id the run minted
    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        con.execute(
            f"update identity.party_matches set golden_id = '{older}' where golden_id = '{merged}' "
            f"and source_system = (select min(source_system) from identity.party_matches where golden_id = '{merged}')"
        )
    identity_and_marts(warehouse, work)
    return before, hashes, merged, members, older


def test_golden_ids_are_stable_across_a_rerun(built, rerun) -> None:
    _, warehouse, _, _ = built
    before, hashes, merged, _, older = rerun
    after = crosswalk(warehouse)
    assert set(after) == set(before)
    moved = {record for record in before if after[record] != before[record]}
    assert {before[record] for record in moved} == {merged}
    assert {after[record] for record in moved} == {older}
    new_hashes = dict(warehouse.query("select golden_customer_id, record_hash from marts.sync_erp_customers"))
    assert {g: h for g, h in new_hashes.items() if g != older} == {
        g: h for g, h in hashes.items() if g != merged
    }


def test_a_merge_retires_the_younger_id_as_an_alias(built, rerun) -> None:
    """Two golden ids that are one cluster now: the oldest id survives, the other becomes its alias."""
    _, warehouse, _, _ = built
    _, _, merged, members, older = rerun
    assert warehouse.query("select alias_id, golden_customer_id from marts.golden_customer_aliases") == [
        (merged, older)
    ]
    assert warehouse.query(
        f"select count(*) from marts.golden_customers where golden_customer_id = '{merged}'"
    ) == [(0,)]
    assert warehouse.query(
        f"select source_record_count from marts.golden_customers where golden_customer_id = '{older}'"
    ) == [(members,)]
    [(retired_at,)] = warehouse.query("select retired_at from marts.golden_customer_aliases")
    assert retired_at is not None


def test_drift_and_sync_follow_changes_in_the_sources(built, rerun, sandbox) -> None:
    """A CRM phone change becomes an ERP update; an ERP customer fixed to the golden values becomes a noop."""
    import httpx

    admin, warehouse, run, work = built
    settings = sandbox.settings
    sync = warehouse.read_frame("select * from marts.sync_erp_customers")
    golden = warehouse.read_frame("select * from marts.golden_customers")
    # 1. the CRM (owner of phone) changes the phone of a customer the ERP holds and that is in sync
    target = sync[(sync["operation"] == "noop")].merge(golden, on="golden_customer_id", suffixes=("", "_g"))
    target = target[target["phone_source"] == "crm"].iloc[0]
    new_phone = "+1 555 0100 777"
    crm = httpx.Client(
        base_url=settings.base_url("crm"),
        headers={"Authorization": f"Bearer {settings.credentials['crm']['access_token']}"},
    )
    response = crm.patch(
        f"/crm/v3/objects/companies/{target['crm_company_id']}", json={"properties": {"phone": new_phone}}
    )
    assert response.status_code == 200, response.text
    # 2. the ERP customer of an update gets the golden values, as the reverse ETL would write them
    fixed = sync[sync["operation"] == "update"].iloc[0]
    body = {
        prop: fixed[column]
        for column, prop in (
            ("email", "email"),
            ("phone_number", "phoneNumber"),
            ("website", "website"),
            ("salesperson_code", "salespersonCode"),
        )
        if isinstance(fixed[column], str)
    }
    erp = httpx.Client(headers={"Authorization": f"Bearer {settings.credentials['erp']['access_token']}"})
    company = settings.credentials["erp"]["company_id"]
    response = erp.patch(
        f"{settings.erp_api_root()}/companies({company})/customers({fixed['erp_customer_id']})",
        json=body,
        headers={"If-Match": fixed["odata_etag"]},
    )
    assert response.status_code == 200, response.text

    retired = warehouse.query("select alias_id, retired_at from marts.golden_customer_aliases")
    assert len(retired) == 1  # the merge of the `rerun` fixture
    run("crm")
    run("erp")
    dbt(warehouse, work, "run", ["path:models/intermediate"])  # staging models are views
    identity_and_marts(warehouse, work)
    after = warehouse.read_frame("select * from marts.sync_erp_customers").set_index("golden_customer_id")
    changed = after.loc[target["golden_customer_id"]]
    assert changed["operation"] == "update" and "phone" in changed["changed_fields"].split(",")
    assert changed["phone_number"] == new_phone
    assert changed["record_hash"] != target["record_hash"]
    drift = warehouse.query(
        f"select erp_value, golden_value, golden_source from marts.master_data_drift "
        f"where golden_customer_id = '{target['golden_customer_id']}' and field = 'phone'"
    )
    assert drift == [(target["phone_number"], new_phone, "crm")]
    caught_up = after.loc[fixed["golden_customer_id"]]
    assert caught_up["operation"] == "noop" and pd.isna(caught_up["changed_fields"])
    assert caught_up["record_hash"] == fixed["record_hash"]  # the desired state did not move
    assert caught_up["odata_etag"] != fixed["odata_etag"]
    # aliases from earlier runs are carried forward with the time they were retired
    assert warehouse.query("select alias_id, retired_at from marts.golden_customer_aliases") == retired


@pytest.mark.postgres
def test_customer_marts_build_on_postgres(postgres_built) -> None:
    warehouse = postgres_built.warehouse
    truth = truth_keys(postgres_built.admin)
    golden = crosswalk(warehouse)
    assert set(golden) == set(truth)
    # no wrong merge, exactly; missed merges within the matcher's budget (test_golden_ids_are_real_customers)
    assert pairs(golden) <= pairs(truth)
    assert len(pairs(golden)) / len(pairs(truth)) >= 0.97
    [(with_erp, from_erp)] = warehouse.query(
        "select count(*), count(*) filter (where legal_name_source = 'erp') "
        "from marts.golden_customers where erp_record_count > 0"
    )
    assert with_erp == len(customers_in_erp(postgres_built.admin)) and from_erp == with_erp
    operations = dict(warehouse.query("select operation, count(*) from marts.sync_erp_customers group by 1"))
    assert set(operations) == {"insert", "update", "noop"}
    assert warehouse.query("select count(*) from marts.kpi_duplicate_customers") == [(1,)]
