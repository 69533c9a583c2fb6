"""Credit memos finance issues in the ERP itself, against the ERP invoice of a billing invoice.

Billing never heard of them: a two-way sync must create the billing credit note. They apply to a
posted ERP invoice that reconciles with billing (`matched`) and has no credit note on either side,
carry that invoice's `invoiceId` / `invoiceNumber` as BC does, credit at most its amount, and have
an `externalDocumentNumber` that is not a billing id (blank, or finance's own reference).
Generation picks a few per seed; the `erp_credit_memo` simulation posts one more.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sandbox.ids import guid, stripe_id
from sandbox.vendors.erp.schema import CREDIT_MEMOS_TABLE, INVOICES_TABLE
from sandbox.world import DAY, SIM_NOW, World

SHARE = 0.01  # of the eligible invoices, with at least MINIMUM per world
MINIMUM = 3
FRACTIONS = (0.1, 0.2, 0.25, 0.5, 1.0)
REASONS = ("Service outage goodwill", "Price correction", "Returned seats", "Duplicate billing")
ORIGIN = "_origin"  # "erp" on these rows


def document_total(row: dict) -> int:
    """Amount including tax of a document row, in minor units."""
    return sum(
        round(line["quantity"] * line["unitPrice"]) - line["discountAmount"] + line["totalTaxAmount"]
        for line in row.get("lines", ())
    )


def credited_billing_invoices(world: World) -> set[str]:
    return {stripe_id("in", invoice.key) for invoice in world.invoices if invoice.credit_note_amount}


def eligible(invoice_row: dict, credited_billing: set[str], credited_erp: set[str]) -> bool:
    return (
        invoice_row.get("_expected") == "matched"
        and invoice_row.get("_billing") is not None
        and invoice_row["_billing"] not in credited_billing
        and invoice_row["id"] not in credited_erp
        and document_total(invoice_row) > 0
    )


def memo_row(invoice_row: dict, posting_ts: int, last_modified_ms: int, rng: random.Random, seq: int) -> dict:
    total = document_total(invoice_row)
    amount = max(1, round(total * rng.choice(FRACTIONS)))
    tax_percent = invoice_row["lines"][0]["taxPercent"]
    excluding = round(amount / (1 + tax_percent / 100))
    reason = rng.choice(REASONS)
    external = "" if rng.random() < 0.5 else f"FIN-CR-{seq:05d}"
    date = _date(posting_ts)
    return {
        "id": guid(f"erp:financeCreditMemo:{invoice_row['id']}:{seq}"),
        "externalDocumentNumber": external,
        "creditMemoDate": date,
        "postingDate": date,
        "dueDate": date,
        "customerId": invoice_row["customerId"],
        "customerNumber": invoice_row["customerNumber"],
        "customerName": invoice_row["customerName"],
        "currencyCode": invoice_row["currencyCode"],
        "invoiceId": invoice_row["id"],
        "invoiceNumber": invoice_row.get("number"),
        "status": "Open",
        "lastModified": last_modified_ms,
        "lines": [
            {
                "description": f"Credit: {reason}",
                "quantity": 1,
                "unitPrice": excluding,
                "discountAmount": 0,
                "totalTaxAmount": amount - excluding,
                "taxPercent": tax_percent,
            }
        ],
        "_customer": invoice_row["_customer"],
        "_billing_invoice": invoice_row["_billing"],
        ORIGIN: "erp",
    }


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


def generate(invoices: list[dict], credit_memos: list[dict], world: World, rng: random.Random) -> list[dict]:
    """A few memos for generation; rows still carry `_posting_ts` (numbering happens after)."""
    credited_billing = credited_billing_invoices(world)
    credited_erp = {memo["invoiceId"] for memo in credit_memos}
    candidates = [
        row
        for row in invoices
        if eligible(row, credited_billing, credited_erp) and row["_posting_ts"] < SIM_NOW - 2 * DAY
    ]
    if not candidates:
        return []
    count = min(len(candidates), max(MINIMUM, round(len(candidates) * SHARE)))
    memos = []
    for seq, invoice_row in enumerate(sorted(rng.sample(candidates, count), key=lambda r: r["id"]), start=1):
        posting_ts = min(SIM_NOW - DAY, invoice_row["_posting_ts"] + rng.randint(DAY, 40 * DAY))
        row = memo_row(invoice_row, posting_ts, posting_ts * 1000 + rng.randint(0, 599_999), rng, seq)
        row["_posting_ts"] = posting_ts
        memos.append(row)
    return memos


def simulate_one(vendor, rng: random.Random) -> list[dict]:
    """Finance posts one more credit memo in the ERP (numbered from the posted series)."""
    store = vendor.store
    credited_billing = credited_billing_invoices(vendor.sb.world)
    billing_invoices = store["billing_invoices"]
    memos = store[CREDIT_MEMOS_TABLE].rows.values()
    credited_erp = {memo.get("invoiceId") for memo in memos}
    candidates = sorted(
        (
            row
            for row in store[INVOICES_TABLE].rows.values()
            if eligible(row, credited_billing, credited_erp)
            and row.get("status") != "Draft"
            and _billing_creditable(billing_invoices.get(row["_billing"]))
        ),
        key=lambda r: r["id"],
    )
    if not candidates:
        return []
    invoice_row = rng.choice(candidates)
    data = vendor.api.data()
    seq = store.next_seq("erp:finance_credit_memo", start=1000)
    row = memo_row(invoice_row, vendor.now(), data.stamp(), rng, seq)
    row["number"] = data.next_number(
        "posted:salesCreditMemos", vendor.posted_series_start["salesCreditMemos"]
    )
    data.put(CREDIT_MEMOS_TABLE, row)
    return [{"system": "erp", "table": "sales_credit_memos", "id": row["id"]}]


def _billing_creditable(billing_invoice: dict | None) -> bool:
    """Billing can still take a credit note for it (finalized, nothing credited yet)."""
    return (
        billing_invoice is not None
        and billing_invoice["status"] in ("open", "paid", "uncollectible")
        and not billing_invoice["pre_payment_credit_notes_amount"]
        and not billing_invoice["post_payment_credit_notes_amount"]
    )


def truth(store) -> list[dict]:
    """Every ERP credit memo: what it credits, for how much, and whether billing must receive it."""
    invoices = store[INVOICES_TABLE]
    rows = []
    for memo in store[CREDIT_MEMOS_TABLE].rows.values():
        invoice = invoices.get(memo.get("invoiceId") or "") or {}
        origin = memo.get(ORIGIN) or ("billing" if memo.get("_billing") else "api")
        rows.append(
            {
                "erp_credit_memo_id": memo["id"],
                "erp_credit_memo_number": memo.get("number"),
                "status": memo.get("status"),
                "external_document_number": memo.get("externalDocumentNumber"),
                "erp_invoice_id": memo.get("invoiceId"),
                "erp_invoice_number": memo.get("invoiceNumber"),
                "billing_invoice_id": memo.get("_billing_invoice") or invoice.get("_billing"),
                "billing_credit_note_id": memo.get("_billing"),
                "customer_key": memo.get("_customer"),
                "currency": memo.get("currencyCode"),
                "amount": document_total(memo),
                "origin": origin,
                "billing_must_receive": origin == "erp",
            }
        )
    return sorted(rows, key=lambda r: r["erp_credit_memo_id"])
