"""Credit memos finance issues in the ERP against a billing invoice's ERP invoice: billing lacks them."""

from __future__ import annotations

import httpx
import pytest

from sandbox.core import Sandbox
from sandbox.settings import SandboxSettings


@pytest.fixture(scope="module")
def company(sandbox) -> str:
    return f"companies({sandbox.settings.credentials['erp']['company_id']})"


@pytest.fixture
def erp(sandbox):
    token = sandbox.settings.credentials["erp"]["access_token"]
    with httpx.Client(
        base_url=sandbox.settings.erp_api_root() + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        yield client


@pytest.fixture
def billing(sandbox):
    settings = sandbox.settings
    key = settings.credentials["billing"]["api_key"]
    with httpx.Client(base_url=settings.base_url("billing"), headers={"Authorization": f"Bearer {key}"}) as c:
        yield c


def check_memo(truth_row: dict, erp: httpx.Client, billing: httpx.Client, company: str) -> dict:
    """The memo as the ERP serves it agrees with the truth, and billing has nothing for it yet."""
    memo = erp.get(f"{company}/salesCreditMemos({truth_row['erp_credit_memo_id']})").json()
    invoice = erp.get(f"{company}/salesInvoices({memo['invoiceId']})").json()
    assert memo["status"] != "Draft" and memo["number"] == truth_row["erp_credit_memo_number"]
    assert (memo["invoiceId"], memo["invoiceNumber"]) == (invoice["id"], invoice["number"])
    assert (truth_row["erp_invoice_id"], truth_row["erp_invoice_number"]) == (
        invoice["id"],
        invoice["number"],
    )
    assert invoice["externalDocumentNumber"] == truth_row["billing_invoice_id"]
    assert not memo["externalDocumentNumber"].startswith(("cn_", "in_"))
    assert 0 < memo["totalAmountIncludingTax"] <= invoice["totalAmountIncludingTax"]
    assert round(memo["totalAmountIncludingTax"] * 100) == truth_row["amount"]
    assert memo["customerId"] == invoice["customerId"] and memo["currencyCode"] == invoice["currencyCode"]
    billed = billing.get(f"/v1/invoices/{truth_row['billing_invoice_id']}").json()
    assert truth_row["amount"] <= billed["total"] and billed["currency"].upper() == (
        memo["currencyCode"] or "USD"
    )
    assert billing.get("/v1/credit_notes", params={"invoice": billed["id"]}).json()["data"] == []
    return billed


def test_generated_finance_memos_are_missing_in_billing(fresh_sandbox, erp, billing, company):
    truth = fresh_sandbox.truth("credit_memos")
    finance = [row for row in truth if row["origin"] == "erp"]
    assert len(finance) >= 3 and all(row["billing_must_receive"] for row in finance)
    mirrored = [row for row in truth if row["origin"] == "billing"]
    assert mirrored and not any(row["billing_must_receive"] for row in mirrored)
    assert all(row["billing_credit_note_id"].startswith("cn_") for row in mirrored)
    assert {row["external_document_number"] != "" for row in finance} == {True, False}
    assert len(truth) == fresh_sandbox.truth("counts")["erp"]["sales_credit_memos"]
    invoice_truth = {row["billing_document_id"] for row in fresh_sandbox.truth("invoices")}
    assert not {row["erp_credit_memo_id"] for row in finance} & invoice_truth

    # What a sync would do: issue the billing credit note for it, which billing accepts.
    row = finance[0]
    billed = check_memo(row, erp, billing, company)
    form = {
        "invoice": billed["id"],
        "amount": str(row["amount"]),
        "memo": f"ERP credit memo {row['erp_credit_memo_number']}",
    }
    if billed["status"] == "paid":
        form["out_of_band_amount"] = str(row["amount"])
    created = billing.post("/v1/credit_notes", data=form)
    assert created.status_code == 200, created.text
    for row in finance[1:]:
        check_memo(row, erp, billing, company)


def test_simulated_finance_memo(fresh_sandbox, erp, billing, company):
    before = {row["erp_credit_memo_id"] for row in fresh_sandbox.truth("credit_memos")}
    result = fresh_sandbox.simulate(1, seed=3, kinds=["erp_credit_memo"])
    [change] = result["changes"]
    assert change["table"] == "sales_credit_memos" and change["id"] not in before
    [row] = [r for r in fresh_sandbox.truth("credit_memos") if r["erp_credit_memo_id"] == change["id"]]
    assert row["origin"] == "erp" and row["billing_must_receive"]
    check_memo(row, erp, billing, company)
    # Opt-in: the default mix of a seeded simulation stays what it was before this kind existed.
    mixed = fresh_sandbox.simulate(40, seed=4)
    assert "erp_credit_memo" not in mixed["kinds"] and len(mixed["kinds"]) > 5


def test_finance_memos_are_deterministic(tmp_path):
    def truth(name: str) -> list[dict]:
        sb = Sandbox.open(SandboxSettings(seed=11, scale=150, data_dir=tmp_path / name), fresh=True)
        try:
            return [r for r in sb.truth("credit_memos") if r["origin"] == "erp"]
        finally:
            sb.close()

    first = truth("a")
    assert first and first == truth("b")
