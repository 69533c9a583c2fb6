"""dbt sources, staging and intermediate models on data the real pipelines loaded from the sandbox.

The four sources are ingested into a temp warehouse, dbt builds seeds + staging + intermediate (every
dbt test must pass), and the results are checked against the sandbox's truth: cross references link
records of the same customer, the entitlement billing grants is the one support should show, ERP
documents join the billing documents they were posted from. The incremental models must equal a
full rebuild after business activity. The same build runs on PostgreSQL.

dbt runs in a subprocess: dbt-duckdb keeps its database open in the process that ran it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from tests.transform.compare import copy_warehouse, differing_rows
from transform.dbt_cli import PRE_IDENTITY_SELECTION, dbt_args, dbt_env
from warehouse import Warehouse

DBT = Path(sys.executable).with_name("dbt")
INCREMENTAL = [
    "staging.stg_billing__invoices",
    "staging.stg_billing__invoice_lines",
    "staging.stg_billing__events",
    "intermediate.int_billing_documents",
    "intermediate.int_erp_documents",
    "intermediate.int_party_records",
    "intermediate.int_person_records",
    "intermediate.int_customer_attribute_candidates",
]


def dbt_build(warehouse: Warehouse, work: Path, *, full_refresh: bool = False) -> subprocess.CompletedProcess:
    args = dbt_args("build", select=PRE_IDENTITY_SELECTION, full_refresh=full_refresh)
    args += ["--target-path", str(work / "target"), "--log-path", str(work / "logs")]
    env = os.environ | dbt_env(warehouse)
    result = subprocess.run([str(DBT), *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result


def ingest_all(run: Runner) -> None:
    for system in SYSTEMS:
        run(system)


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory: pytest.TempPathFactory):
    """A DuckDB warehouse with all four sources loaded and the pre-identity dbt layers built."""
    from sandbox.client import SandboxAdmin

    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("dbt")
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    run = Runner(sandbox.settings, warehouse, work / "dlt")
    ingest_all(run)
    dbt_build(warehouse, work)
    return admin, warehouse, run, work


def frame(warehouse: Warehouse, sql: str):
    return warehouse.read_frame(sql)


def truth_keys(admin) -> dict[tuple[str, str], str]:
    return {(row["system"], str(row["source_id"])): row["customer_key"] for row in admin.truth("customers")}


def test_every_raw_table_has_its_staging_model(built) -> None:
    admin, warehouse, _, _ = built
    counts = admin.truth("counts")
    staged = {
        (system, table)
        for system, table in (
            name.removeprefix("stg_").split("__", 1)
            for (name,) in warehouse.query(
                "select table_name from information_schema.tables where table_schema = 'staging'"
            )
        )
    }
    needed = {(system, table) for system, tables in counts.items() for table in tables}
    assert needed <= staged, needed - staged


def test_party_records_cover_every_company_record_once(built) -> None:
    admin, warehouse, _, _ = built
    counts = admin.truth("counts")
    rows = dict(
        warehouse.query("select source_system, count(*) from intermediate.int_party_records group by 1")
    )
    assert rows["crm"] == counts["crm"]["companies"]
    assert rows["erp"] == counts["erp"]["customers"]
    assert rows["support"] == counts["support"]["organizations"]
    assert rows["billing"] == counts["billing"]["customers"]  # none deleted in a fresh sandbox
    keys = truth_keys(admin)
    parties = frame(warehouse, "select source_system, source_id from intermediate.int_party_records")
    assert all((s, i) in keys for s, i in zip(parties["source_system"], parties["source_id"], strict=True))


def test_cross_references_link_records_of_one_customer(built) -> None:
    admin, warehouse, _, _ = built
    keys = truth_keys(admin)
    xref = frame(warehouse, "select * from intermediate.int_party_cross_references")
    # which records carry a reference is not in the truth: each link is checked against it instead
    assert len(xref) > 100
    for row in xref.itertuples(index=False):
        left, right = (
            keys[(row.source_system_l, row.source_id_l)],
            keys[(row.source_system_r, row.source_id_r)],
        )
        assert left == right, row
    assert set(xref["reference_type"]) == {
        "billing.erp_customer_number",
        "crm.erp_customer_number",
        "crm.billing_customer_id",
        "support.billing_customer_id",
        "support.erp_customer_number",
    }


def test_billing_entitlement_is_what_support_should_show(built) -> None:
    admin, warehouse, _, _ = built
    truth = {row["organization_id"]: row["correct_entitlement"] for row in admin.truth("entitlements")}
    granted = frame(
        warehouse,
        "select o.support_organization_id, s.support_entitlement "
        "from staging.stg_support__organizations o "
        "join intermediate.int_billing_customer_subscriptions s using (billing_customer_id)",
    )
    # the truth does not say which organizations name a billing customer: each one that does is checked
    assert len(granted) > 50
    for org_id, entitlement in zip(
        granted["support_organization_id"], granted["support_entitlement"], strict=True
    ):
        assert truth[int(org_id)] == entitlement


def test_erp_documents_join_the_billing_documents_they_were_posted_from(built) -> None:
    admin, warehouse, _, _ = built
    joined = frame(
        warehouse,
        "select b.billing_document_id, e.erp_document_id from intermediate.int_billing_documents b "
        "left join intermediate.int_erp_documents e "
        "on e.billing_document_id = b.billing_document_id and e.document_kind = b.document_kind",
    )
    erp_of = dict(zip(joined["billing_document_id"], joined["erp_document_id"], strict=True))
    truth = admin.truth("invoices")
    for row in truth:
        if row["erp_document_id"] is not None:  # posted (matched or with a mismatch to report)
            assert erp_of[row["billing_document_id"]] == row["erp_document_id"], row


def test_amounts_are_major_units_and_add_up(built) -> None:
    _, warehouse, _, _ = built
    [(bad,)] = warehouse.query(
        "select count(*) from staging.stg_billing__invoices "
        "where total_amount <> total_excluding_tax + tax_amount or subtotal - discount_amount <> total_excluding_tax"
    )
    assert bad == 0
    raw, staged = warehouse.query(
        "select (select sum(total) from raw_billing.invoices), (select sum(total_amount) * 100 from staging.stg_billing__invoices)"
    )[0]
    assert raw == staged


def test_incremental_models_equal_a_full_rebuild(built, tmp_path: Path) -> None:
    admin, warehouse, run, work = built
    admin.simulate(120, seed=5)
    ingest_all(run)
    dbt_build(warehouse, work)  # incremental
    copy = copy_warehouse(warehouse, tmp_path / "full.duckdb")
    dbt_build(copy, tmp_path, full_refresh=True)
    for table in INCREMENTAL:
        assert differing_rows(warehouse, copy, table) == 0, table


@pytest.mark.postgres
def test_models_build_on_postgres(postgres_built) -> None:
    warehouse, keys = postgres_built.warehouse, truth_keys(postgres_built.admin)
    xref = warehouse.read_frame("select * from intermediate.int_party_cross_references")
    assert len(xref) > 100  # each link checked against the truth below, as on DuckDB
    assert all(
        keys[(r.source_system_l, r.source_id_l)] == keys[(r.source_system_r, r.source_id_r)]
        for r in xref.itertuples(index=False)
    )
