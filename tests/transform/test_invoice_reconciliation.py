"""Invoice reconciliation, the ERP invoice sync model and the invoice exception KPI against sandbox truth.

The four sources are ingested into a temp warehouse, dbt builds the seeds, staging and intermediate
models that the identity step and these marts read, the identity step writes golden ids, and dbt builds `models/marts/reconciliation` (every dbt test must
pass). Statuses are compared with the sandbox's invoice truth; the sync model must post every missing
document on the right customer; a late posting in the ERP must turn the document late through an
incremental run, and the incremental model must equal a full rebuild. The same build runs on
PostgreSQL.

Every document's status must equal the truth's but for two known kinds of disagreement, each checked
for its reason: invoices the accountant will post late but has not posted yet are missing_in_erp
here (truth already knows they will be late, and has no ERP document for them), and the sandbox posts
some credit memos more than `late_posting_days` after the credit note (the model calls them late, the
truth matched).

dbt runs in a subprocess: dbt-duckdb keeps its database open in the process that ran it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from tests.transform.compare import copy_warehouse, multiset_difference
from transform.dbt_cli import dbt_args, dbt_env
from transform.identity_step import CROSS_REFERENCES, PARTIES, resolve_identities
from warehouse import Warehouse

DBT = Path(sys.executable).with_name("dbt")
RECONCILIATION = ["path:models/marts/reconciliation"]
# What the identity step and these marts read, upstream of the marts (half of the pre-identity layers).
UPSTREAM = [f"+{PARTIES[1]}", f"+{CROSS_REFERENCES[1]}", *(f"+{path}" for path in RECONCILIATION)]
MODELS = ["invoice_reconciliation", "sync_erp_invoices", "kpi_invoice_exceptions"]
LATE_POSTING_DAYS = 5  # dbt var late_posting_days (dbt_project.yml)


def dbt(
    warehouse: Warehouse,
    work: Path,
    command: str,
    select: list[str],
    *,
    full_refresh: bool = False,
    exclude: list[str] | None = None,
    extra: list[str] | None = None,
) -> None:
    args = dbt_args(command, select=select, exclude=exclude, full_refresh=full_refresh)
    args += ["--target-path", str(work / "target"), "--log-path", str(work / "logs"), *(extra or [])]
    result = subprocess.run(
        [str(DBT), *args], env=os.environ | dbt_env(warehouse), capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]


def transform(warehouse: Warehouse, work: Path, *, full_refresh: bool = False) -> None:
    # Seeds and models upstream, without their tests: those have their own test file, and eager
    # indirect selection would also pick up other marts' tests that touch staging.
    dbt(
        warehouse,
        work,
        "build",
        UPSTREAM,
        exclude=["path:models/marts"],
        full_refresh=full_refresh,
        extra=["--resource-type", "seed", "--resource-type", "model"],
    )
    resolve_identities(warehouse)
    dbt(warehouse, work, "build", RECONCILIATION, full_refresh=full_refresh)


def load_and_build(sandbox, warehouse: Warehouse, work: Path) -> Runner:
    run = Runner(sandbox.settings, warehouse, work / "dlt")
    for system in SYSTEMS:
        run(system)
    transform(warehouse, work)
    return run


def reconciliation(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.read_frame("select * from marts.invoice_reconciliation")


def unexplained_disagreements(model: pd.DataFrame, truth: list[dict]) -> pd.DataFrame:
    """Truth documents whose status the model got wrong, other than the two known kinds (module
    docstring): late in truth but not posted yet (missing_in_erp here), and credit notes the sandbox
    matched that were posted more than late_posting_days after the credit note (late here)."""
    expected = pd.DataFrame(truth)[["billing_document_id", "kind", "expected_status", "erp_document_id"]]
    joined = expected.merge(
        model[["billing_document_id", "reconciliation_status", "days_to_post"]],
        on="billing_document_id",
        how="left",
    )
    joined["reconciliation_status"] = joined["reconciliation_status"].fillna("<absent>")
    wrong = joined[joined["expected_status"] != joined["reconciliation_status"]]
    not_posted_yet = (
        (wrong["expected_status"] == "late")
        & (wrong["reconciliation_status"] == "missing_in_erp")
        & wrong["erp_document_id"].isna()
    )
    credit_memo_posted_late = (
        (wrong["kind"] == "credit_note")
        & (wrong["expected_status"] == "matched")
        & (wrong["reconciliation_status"] == "late")
        & (wrong["days_to_post"] > LATE_POSTING_DAYS)
    )
    return wrong[~(not_posted_yet | credit_memo_posted_late)]


def expected_missing(truth: list[dict]) -> set[str]:
    """Documents the ERP lacks now: missing in truth, or to be posted late and not posted yet."""
    return {
        row["billing_document_id"]
        for row in truth
        if row["expected_status"] == "missing_in_erp"
        or (row["expected_status"] == "late" and row["erp_document_id"] is None)
    }


@pytest.fixture(scope="module")
def built(sandbox, tmp_path_factory: pytest.TempPathFactory):
    from sandbox.client import SandboxAdmin

    admin = SandboxAdmin(sandbox.settings)
    admin.clear_faults()
    admin.reset()
    work = tmp_path_factory.mktemp("reconciliation")
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    run = load_and_build(sandbox, warehouse, work)
    return admin, warehouse, run, work


def test_status_agrees_with_truth(built) -> None:
    admin, warehouse, _, _ = built
    truth = admin.truth("invoices")
    model = reconciliation(warehouse)
    wrong = unexplained_disagreements(model, truth)
    assert wrong.empty, wrong.to_string()
    # the seed's data has every status, and the model finds each (on the documents truth gives it)
    assert set(model["reconciliation_status"]) == {row["expected_status"] for row in truth}
    # one row per billing document, and every truth document is there
    assert model["billing_document_id"].is_unique
    assert {row["billing_document_id"] for row in truth} <= set(model["billing_document_id"])


def test_wrong_customer_means_another_real_customer(built) -> None:
    """A document posted on a duplicate ERP record of its own customer is not a wrong customer."""
    admin, warehouse, _, _ = built
    keys = {(row["system"], str(row["source_id"])): row["customer_key"] for row in admin.truth("customers")}
    posted = reconciliation(warehouse).dropna(subset=["erp_customer_id"])
    same = [
        keys[("billing", b)] == keys[("erp", e)]
        for b, e in zip(posted["billing_customer_id"], posted["erp_customer_id"], strict=True)
    ]
    wrong = (posted["reconciliation_status"] == "wrong_customer").tolist()
    mistakes = [
        (doc, s, w) for doc, s, w in zip(posted["billing_document_id"], same, wrong, strict=True) if s == w
    ]
    assert not mistakes, mistakes[:10]


def test_missing_documents_are_inserted_on_the_right_customer(built) -> None:
    admin, warehouse, _, _ = built
    model = reconciliation(warehouse)
    sync = warehouse.read_frame("select * from marts.sync_erp_invoices").set_index("billing_document_id")
    missing = model.loc[model["reconciliation_status"] == "missing_in_erp", "billing_document_id"]
    assert set(missing) == expected_missing(admin.truth("invoices"))
    assert set(missing) <= set(sync.index)
    assert (sync.loc[list(missing), "operation"] == "insert").all()
    # mismatches are reported for review, never written
    assert set(sync.loc[sync["reconciliation_status"] != "missing_in_erp", "operation"]) <= {"review"}
    # the ERP customer posted to is the document's own real customer; none -> the customer is created first
    keys = {(row["system"], str(row["source_id"])): row["customer_key"] for row in admin.truth("customers")}
    in_erp = {key for (system, _), key in keys.items() if system == "erp"}
    for doc, row in sync.iterrows():
        own = keys[("billing", row["billing_customer_id"])]
        assert bool(row["requires_customer"]) == (own not in in_erp), doc
        if not row["requires_customer"]:
            assert keys[("erp", row["erp_customer_id"])] == own, doc
    # payload: external document number is the billing id, amounts add up, line amounts match the total
    inserts = sync[sync["operation"] == "insert"]
    assert (inserts["external_document_number"] == inserts.index).all()
    cents = (
        inserts[
            [
                "amount_excluding_tax",
                "tax_amount",
                "amount_including_tax",
                "line_unit_price",
                "line_discount_amount",
            ]
        ]
        .astype(float)
        .mul(100)
        .round()
        .astype("int64")
    )
    assert (cents["amount_excluding_tax"] + cents["tax_amount"] == cents["amount_including_tax"]).all()
    line_net = (
        inserts["line_quantity"].astype("int64") * cents["line_unit_price"] - cents["line_discount_amount"]
    )
    assert (line_net == cents["amount_excluding_tax"]).all()
    assert sync["record_hash"].is_unique


def test_kpi_counts_the_reconciliation(built) -> None:
    _, warehouse, _, _ = built
    model = reconciliation(warehouse)
    [kpi] = warehouse.read_frame("select * from marts.kpi_invoice_exceptions").to_dict("records")
    checked = model[model["is_postable"] | model["erp_document_id"].notna()]
    assert kpi["documents_checked"] == len(checked)
    assert kpi["exceptions"] == int(checked["is_exception"].sum())
    assert abs(float(kpi["invoice_exception_rate"]) - kpi["exceptions"] / len(checked)) < 1e-4
    for status, count in Counter(checked["reconciliation_status"]).items():
        assert kpi[f"{status}_count"] == count


def test_late_posting_turns_late_incrementally_and_equals_a_full_rebuild(built) -> None:
    admin, warehouse, run, work = built
    before = reconciliation(warehouse).set_index("billing_document_id")
    result = admin.simulate(1, kinds=["erp_late_posting"])
    [change] = result["changes"]
    admin.simulate(40, seed=11)  # and some ordinary business activity for the incremental run
    for system in ("billing", "erp"):  # the documents' systems (the others only feed identity)
        run(system)
    transform(warehouse, work)

    truth = {row["erp_document_id"]: row for row in admin.truth("invoices") if row["erp_document_id"]}
    posted = truth[change["id"]]
    assert posted["expected_status"] == "late"
    after = reconciliation(warehouse).set_index("billing_document_id")
    document = posted["billing_document_id"]
    assert before.loc[document, "reconciliation_status"] == "missing_in_erp"
    assert after.loc[document, "reconciliation_status"] == "late"
    assert after.loc[document, "erp_document_id"] == change["id"]
    # the definition of late; the delay itself is the simulator's random choice, which no truth gives
    assert after.loc[document, "days_to_post"] > LATE_POSTING_DAYS
    sync = warehouse.read_frame("select billing_document_id from marts.sync_erp_invoices")
    assert document not in set(sync["billing_document_id"])  # posted: nothing left to send
    wrong = unexplained_disagreements(after.reset_index(), admin.truth("invoices"))
    assert wrong.empty, wrong.to_string()

    # the incremental result equals a full rebuild: keep it aside, rebuild in place (same dbt profile,
    # so dbt's partial parsing applies), compare both ways
    import duckdb

    with duckdb.connect(str(warehouse.duckdb_path)) as con:
        con.execute("create schema if not exists incremental_copy")
        for model in MODELS:
            con.execute(f"create or replace table incremental_copy.{model} as select * from marts.{model}")
    dbt(warehouse, work, "run", RECONCILIATION, full_refresh=True)
    with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
        for model in MODELS:
            differing = multiset_difference(con, f"incremental_copy.{model}", f"marts.{model}")
            assert differing == 0, f"{model}: {differing} rows differ between incremental and rebuild"


def test_void_documents_are_not_postable(built, tmp_path: Path) -> None:
    """The sandbox cannot void an invoice: void two in a copy of the warehouse (as a reload would, with
    a newer dlt load id) and rebuild incrementally. Void and never posted: not_postable, no exception,
    nothing to send. Void but posted: not_postable, an exception for review."""
    import duckdb

    _, warehouse, _, work = built
    copy = copy_warehouse(warehouse, tmp_path / "void.duckdb")
    with duckdb.connect(str(copy.duckdb_path)) as con:
        [(unposted,)] = con.execute(
            "select min(billing_document_id) from marts.invoice_reconciliation where reconciliation_status = 'missing_in_erp'"
        ).fetchall()
        [(posted,)] = con.execute(
            "select min(billing_document_id) from marts.invoice_reconciliation where reconciliation_status = 'matched'"
        ).fetchall()
        con.execute(
            "update intermediate.int_billing_documents set status = 'void', is_postable = false, "
            "_dlt_load_id = (select cast(max(cast(_dlt_load_id as decimal(20, 6))) + 1 as varchar) "
            "from intermediate.int_billing_documents) "
            "where billing_document_id in (?, ?)",
            [unposted, posted],
        )
    dbt(copy, work, "run", RECONCILIATION)
    rows = reconciliation(copy).set_index("billing_document_id")
    assert rows.loc[unposted, ["reconciliation_status", "action_needed", "is_exception"]].tolist() == [
        "not_postable",
        "none",
        False,
    ]
    assert rows.loc[posted, ["reconciliation_status", "action_needed", "is_exception"]].tolist() == [
        "not_postable",
        "review",
        True,
    ]
    sync = copy.read_frame("select billing_document_id, operation from marts.sync_erp_invoices").set_index(
        "billing_document_id"
    )
    assert unposted not in sync.index
    assert sync.loc[posted, "operation"] == "review"


def test_a_prorated_upgrade_invoice_is_posted_to_the_erp(built) -> None:
    """An upgrade invoices the prorated difference at once (billing_reason subscription_update, one
    proration line): finalized, so postable, and sent as one line at the subtotal (its unit amount
    is not the price's)."""
    admin, warehouse, run, work = built
    for seed in range(20, 30):  # the first seeded upgrade of a subscription not on trial
        result = admin.simulate(1, seed=seed, kinds=["upgrade"])
        invoices = {c["id"] for c in result["changes"] if c["table"] == "invoices"}
        if invoices:
            break
    [invoice_id] = invoices
    run("billing")
    transform(warehouse, work)
    row = reconciliation(warehouse).set_index("billing_document_id").loc[invoice_id]
    assert row["is_postable"] and row["billing_status"] in ("open", "paid")
    assert (row["reconciliation_status"], row["action_needed"]) == ("missing_in_erp", "post_to_erp")
    truth = {t["billing_document_id"]: t["expected_status"] for t in admin.truth("invoices")}
    assert truth[invoice_id] == "missing_in_erp"
    sync = warehouse.read_frame(
        f"select * from marts.sync_erp_invoices where billing_document_id = '{invoice_id}'"
    ).to_dict("records")
    [document] = sync
    [(subtotal, discount, total)] = warehouse.query(
        f"select subtotal, discount_amount, amount_including_tax from intermediate.int_billing_documents "
        f"where billing_document_id = '{invoice_id}'"
    )
    assert document["operation"] == "insert" and document["line_description"].startswith("Remaining time on ")
    assert document["line_quantity"] == 1
    sent = [document[k] for k in ("line_unit_price", "line_discount_amount", "amount_including_tax")]
    assert sent == pytest.approx([float(subtotal), float(discount), float(total)])


@pytest.mark.postgres
def test_reconciliation_builds_on_postgres(postgres_built) -> None:
    warehouse = postgres_built.warehouse
    truth = postgres_built.admin.truth("invoices")
    wrong = unexplained_disagreements(reconciliation(warehouse), truth)
    assert wrong.empty, wrong.to_string()
    [(inserts,)] = warehouse.query("select count(*) from marts.sync_erp_invoices where operation = 'insert'")
    [(missing,)] = warehouse.query(
        "select count(*) from marts.invoice_reconciliation where reconciliation_status = 'missing_in_erp'"
    )
    assert inserts == missing == len(expected_missing(truth))
