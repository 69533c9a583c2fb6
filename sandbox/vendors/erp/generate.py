"""Render the world into Business Central: customers keyed in by finance, and posted sales documents.

The mess is decided here with the vendor's rng and recorded on the rows as truth (`_expected`):
customers missing or duplicated, names retyped, tax ids reformatted, invoices missing, posted late,
posted with another amount, currency or customer. Billing documents with no posting are kept in
`erp_unposted_documents` (late ones carry the row the accountant will post, see simulation.py).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from functools import cache

from sandbox.ids import guid, stripe_id
from sandbox.store import Store
from sandbox.vendors.erp import finance_memos
from sandbox.vendors.erp.schema import CREDIT_MEMOS_TABLE, CUSTOMERS_TABLE, INVOICES_TABLE, UNPOSTED_TABLE
from sandbox.world import COUNTRIES, DAY, PLANS, SIM_NOW, Customer, Invoice, World

CUSTOMER_COVERAGE = 0.92  # share of invoiced real customers that finance created in the ERP
DUPLICATE_RATE = 0.02
# Cumulative thresholds for how a billing invoice shows up in the ERP; the rest is "matched".
INVOICE_OUTCOMES = [
    ("missing_in_erp", 0.04),
    ("late", 0.09),
    ("amount_mismatch", 0.11),
    ("currency_mismatch", 0.12),
    ("wrong_customer", 0.13),
]
CREDIT_MEMO_MISSING = 0.10
LATE_AFTER = 5 * DAY  # reconciliation calls a posting late beyond this
FIRST_INVOICE_NUMBER = 103001  # BC's posted sales invoice number series
FIRST_CREDIT_MEMO_NUMBER = 104001
FIRST_DUPLICATE_NUMBER = 9_000_001  # a second number series someone used by mistake ("C9000001")
PAYMENT_TERMS = {days: guid(f"erp:paymentTerms:{days}D") for days in (14, 30, 45, 60)}
TAX_RATES = {code: rate for code, _locale, _cur, _prefix, rate, _w in COUNTRIES}
PLAN_NAMES = {code: name for code, name, _price, _ent in PLANS}
SUFFIX_ABBREVIATIONS = {
    "Limited": "Ltd",
    "Corp.": "Corporation",
    "Inc.": "Inc",
    "Ltd": "Limited",
    "GmbH": "Gmbh",
    "B.V.": "BV",
    "S.L.": "SL",
}
CURRENCIES = ["USD", "EUR", "GBP", "CAD"]
CURRENCY_CODES = {code.lower(): code for code in CURRENCIES}


def customer_number(customer_key: str) -> str:
    """The number billing and CRM refer to: "C0000123" -> "C000123"."""
    return f"C{int(customer_key[1:]):06d}"


def document_id(kind: str, billing_key: str) -> str:
    return guid(f"erp:{kind}:{billing_key}")


def to_date(ts: int) -> str:
    return _day(ts // DAY)


@cache
def _day(day: int) -> str:
    """One shared string per calendar day: fast, and half a million rows share them."""
    return datetime.fromtimestamp(day * DAY, tz=UTC).strftime("%Y-%m-%d")


def random_ms(rng: random.Random, start: int, end: int) -> int:
    """An epoch-millisecond instant in [start, end] seconds (start when the range is empty)."""
    return rng.randint(start * 1000, max(start, end) * 1000)


# -- customers -----------------------------------------------------------------------------------
def display_name(customer: Customer, rng: random.Random) -> str:
    roll = rng.random()
    name = customer.legal_name
    if roll < 0.10:
        return name.upper()
    if roll < 0.20:
        head, _, suffix = name.rpartition(" ")
        return f"{head} {SUFFIX_ABBREVIATIONS.get(suffix, suffix.rstrip('.'))}"
    if roll < 0.26:
        return customer.brand
    if roll < 0.30 and len(name) > 6:  # a typo: two letters swapped
        i = rng.randrange(1, len(name) - 3)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    return name


def tax_registration(customer: Customer, rng: random.Random) -> str:
    """Finance rarely types a tax id the way billing stores it."""
    tax_id = customer.tax_id or ""
    roll = rng.random()
    if not tax_id or roll < 0.15:
        return ""
    if roll < 0.30 and tax_id[:2].isalpha():
        return tax_id[2:]  # no country prefix
    if roll < 0.40:
        compact = tax_id.replace("-", "")
        return " ".join(compact[i : i + 3] for i in range(0, len(compact), 3))
    if roll < 0.45:
        return tax_id.replace("-", "")
    return tax_id


def customer_row(customer: Customer, number: str, row_id: str, rng: random.Random) -> dict:
    contact = next((c for c in customer.contacts if c["primary"]), None)
    currency = CURRENCY_CODES[customer.currency]
    roll = rng.random()
    if roll < 0.05:
        currency = ""  # left as the company's local currency
    elif roll < 0.07:
        currency = rng.choice([c for c in CURRENCIES if c != currency])
    website = (
        ""
        if rng.random() < 0.12
        else rng.choice([customer.domain, f"www.{customer.domain}", f"https://{customer.domain}"])
    )
    blocked = rng.choices([" ", "Invoice", "All"], weights=[94, 4, 2])[0]
    row = {
        "id": row_id,
        "number": number,
        "displayName": display_name(customer, rng),
        "addressLine1": customer.address_line1,
        "city": customer.city,
        "country": customer.country,
        "postalCode": customer.postal_code,
        "phoneNumber": customer.phone,
        "email": contact["email"] if contact and rng.random() < 0.7 else f"accounts@{customer.domain}",
        "taxLiable": customer.country != "US",
        "taxRegistrationNumber": tax_registration(customer, rng),
        "currencyCode": currency,
        "creditLimit": float(min(250_000, max(5_000, customer.employees * 500)) // 1000 * 1000),
        "paymentTermsId": PAYMENT_TERMS[rng.choice([14, 30, 30, 30, 45, 60])],
        "salespersonCode": customer.owner.upper(),
        "blocked": blocked,
        "lastModified": random_ms(rng, customer.created, SIM_NOW - DAY),
        "_customer": customer.key,
    }
    if customer.region:
        row["state"] = customer.region
    if rng.random() < 0.15:
        row["addressLine2"] = rng.choice(
            ["Suite 100", "Floor 3", "Unit 7", "Building B", "c/o Accounts Payable"]
        )
    if website:
        row["website"] = website
    return row


# -- documents -----------------------------------------------------------------------------------
def invoice_line(invoice: Invoice, country: str, *, seats_delta: int = 0, price_factor: float = 1.0) -> dict:
    rate = TAX_RATES[country]
    quantity = invoice.seats + seats_delta
    unit = round(invoice.unit_amount * price_factor)
    gross = quantity * unit
    discount = (
        invoice.discount
        if (seats_delta, price_factor) == (0, 1.0)
        else gross * invoice.discount // max(1, invoice.subtotal)
    )
    tax = invoice.tax if (seats_delta, price_factor) == (0, 1.0) else round((gross - discount) * rate)
    period = f"{to_date(invoice.period_start)}..{to_date(invoice.period_end - DAY)}"
    return {
        "description": f"{PLAN_NAMES[invoice.plan]} subscription {period}",
        "quantity": quantity,
        "unitPrice": unit,
        "discountAmount": discount,
        "totalTaxAmount": tax,
        "taxPercent": round(rate * 100, 2),
    }


def credit_memo_line(invoice: Invoice, country: str) -> dict:
    rate = TAX_RATES[country]
    excluding = round(invoice.credit_note_amount / (1 + rate))
    return {
        "description": f"Credit: {PLAN_NAMES[invoice.plan]} subscription {to_date(invoice.period_start)}",
        "quantity": 1,
        "unitPrice": excluding,
        "discountAmount": 0,
        "totalTaxAmount": invoice.credit_note_amount - excluding,
        "taxPercent": round(rate * 100, 2),
    }


def number_documents(rows: list[dict], first: int) -> dict[str, str]:
    """Number series follow posting order, like BC's No. Series. Returns {document id: number}."""
    rows.sort(key=lambda r: r["_posting_ts"])
    numbers = {}
    for n, row in enumerate(rows):
        row["number"] = numbers[row["id"]] = str(first + n)
        del row["_posting_ts"]
    return numbers


class ErpGenerator:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.customers: list[dict] = []
        self.primary: dict[str, dict] = {}  # truth customer key -> its (first) ERP customer row
        self.duplicates: dict[str, dict] = {}
        self.invoices: list[dict] = []
        self.credit_memos: list[dict] = []
        self.unposted: list[dict] = []

    def run(self, store: Store) -> None:
        self.make_customers()
        self.make_documents()
        invoice_numbers = number_documents(self.invoices, FIRST_INVOICE_NUMBER)
        number_documents(self.credit_memos, FIRST_CREDIT_MEMO_NUMBER)
        for memo in self.credit_memos:
            memo["invoiceNumber"] = invoice_numbers[memo["invoiceId"]]
        self.settle_balances()
        store[CUSTOMERS_TABLE].bulk_load(self.customers)
        store[INVOICES_TABLE].bulk_load(self.invoices)
        store[CREDIT_MEMOS_TABLE].bulk_load(self.credit_memos)
        store[UNPOSTED_TABLE].bulk_load(self.unposted)

    def make_customers(self) -> None:
        invoiced = {inv.customer_key for inv in self.world.invoices}
        duplicate_seq = FIRST_DUPLICATE_NUMBER
        for customer in self.world.customers:
            if customer.key not in invoiced or self.rng.random() >= CUSTOMER_COVERAGE:
                continue
            row = customer_row(customer, customer_number(customer.key), guid(customer.key), self.rng)
            self.customers.append(row)
            self.primary[customer.key] = row
            if self.rng.random() < DUPLICATE_RATE:
                duplicate = customer_row(
                    customer, f"C{duplicate_seq}", guid(f"{customer.key}:duplicate"), self.rng
                )
                duplicate_seq += 1
                self.customers.append(duplicate)
                self.duplicates[customer.key] = duplicate

    def outcome(self) -> str:
        roll = self.rng.random()
        return next((name for name, upto in INVOICE_OUTCOMES if roll < upto), "matched")

    def posted_to(self, invoice: Invoice, outcome: str) -> dict:
        """The ERP customer an invoice is posted on: its own (sometimes the duplicate) or a wrong one."""
        if outcome == "wrong_customer":
            other = self.customers[self.rng.randrange(len(self.customers))]
            while other["_customer"] == invoice.customer_key:
                other = self.customers[self.rng.randrange(len(self.customers))]
            return other
        duplicate = self.duplicates.get(invoice.customer_key)
        if duplicate is not None and self.rng.random() < 0.3:
            return duplicate
        return self.primary[invoice.customer_key]

    def make_documents(self) -> None:
        for invoice in sorted(self.world.invoices, key=lambda i: i.created):
            billing_id = stripe_id("in", invoice.key)
            customer = self.world.customer(invoice.customer_key)
            if invoice.customer_key not in self.primary:
                self.unposted.append(self.unposted_row(billing_id, "invoice", invoice, "missing_in_erp"))
                if invoice.credit_note_amount:
                    self.unposted.append(
                        self.unposted_row(
                            stripe_id("cn", invoice.key), "credit_note", invoice, "missing_in_erp"
                        )
                    )
                continue
            outcome = self.outcome()
            if outcome == "missing_in_erp":
                self.unposted.append(self.unposted_row(billing_id, "invoice", invoice, outcome))
                if invoice.credit_note_amount:
                    self.unposted.append(
                        self.unposted_row(
                            stripe_id("cn", invoice.key), "credit_note", invoice, "missing_in_erp"
                        )
                    )
                continue
            if outcome == "late":
                posting_ts = invoice.created + self.rng.randint(6 * DAY, 25 * DAY)
            else:  # posted within days, and never after the generation clock
                posting_ts = min(SIM_NOW, invoice.created + self.rng.randint(600, 3 * DAY))
            row = self.invoice_row(invoice, billing_id, customer, outcome, posting_ts)
            if row["_posting_ts"] > SIM_NOW:  # late and not posted yet: the accountant will get to it
                pending = self.unposted_row(billing_id, "invoice", invoice, outcome)
                pending.update({"_post_at": row.pop("_posting_ts"), "_document": row})
                self.unposted.append(pending)
                if invoice.credit_note_amount:
                    self.unposted.append(
                        self.unposted_row(
                            stripe_id("cn", invoice.key), "credit_note", invoice, "missing_in_erp"
                        )
                    )
                continue
            self.invoices.append(row)
            if invoice.credit_note_amount:
                self.make_credit_memo(invoice, customer, row)
        # Drawn last from their own rng, so every document above stays as it was without them.
        finance_rng = random.Random(f"finance-memos:{self.rng.random()}")
        self.credit_memos.extend(
            finance_memos.generate(self.invoices, self.credit_memos, self.world, finance_rng)
        )

    def unposted_row(self, billing_id: str, kind: str, invoice: Invoice, expected: str) -> dict:
        return {"id": billing_id, "kind": kind, "_customer": invoice.customer_key, "_expected": expected}

    def invoice_row(
        self, invoice: Invoice, billing_id: str, customer: Customer, outcome: str, posting_ts: int
    ) -> dict:
        posted_to = self.posted_to(invoice, outcome)
        currency = CURRENCY_CODES[invoice.currency]
        if outcome == "currency_mismatch":
            currency = self.rng.choice([c for c in CURRENCIES if c != currency])
        if outcome == "amount_mismatch":
            line = (
                invoice_line(invoice, customer.country, seats_delta=1)
                if self.rng.random() < 0.5
                else invoice_line(invoice, customer.country, price_factor=self.rng.choice([0.9, 1.1, 1.25]))
            )
        else:
            line = invoice_line(invoice, customer.country)
        paid = invoice.paid and not invoice.payment_failed
        modified_until = min(SIM_NOW, posting_ts + (30 * DAY if paid else 3600))
        return {
            "id": document_id("invoice", invoice.key),
            "externalDocumentNumber": billing_id,
            "invoiceDate": to_date(invoice.created),
            "postingDate": to_date(posting_ts),
            "dueDate": to_date(invoice.created + 30 * DAY),
            "customerId": posted_to["id"],
            "customerNumber": posted_to["number"],
            "customerName": posted_to["displayName"],
            "currencyCode": currency,
            "status": "Paid" if paid else "Open",
            "lastModified": random_ms(self.rng, posting_ts, modified_until),
            "lines": [line],
            "_customer": invoice.customer_key,
            "_billing": billing_id,
            "_expected": outcome,
            "_posting_ts": posting_ts,
        }

    def make_credit_memo(self, invoice: Invoice, customer: Customer, invoice_row: dict) -> None:
        billing_id = stripe_id("cn", invoice.key)
        posting_ts = min(SIM_NOW - 3600, invoice.created + self.rng.randint(5 * DAY, 20 * DAY))
        if self.rng.random() < CREDIT_MEMO_MISSING or posting_ts < invoice_row["_posting_ts"]:
            self.unposted.append(self.unposted_row(billing_id, "credit_note", invoice, "missing_in_erp"))
            return
        self.credit_memos.append(
            {
                "id": document_id("creditMemo", invoice.key),
                "externalDocumentNumber": billing_id,
                "creditMemoDate": to_date(posting_ts),
                "postingDate": to_date(posting_ts),
                "dueDate": to_date(posting_ts),
                "customerId": invoice_row["customerId"],
                "customerNumber": invoice_row["customerNumber"],
                "customerName": invoice_row["customerName"],
                "currencyCode": invoice_row["currencyCode"],
                "invoiceId": invoice_row["id"],
                "status": "Paid",
                "lastModified": random_ms(self.rng, posting_ts, min(SIM_NOW, posting_ts + 600)),
                "lines": [credit_memo_line(invoice, customer.country)],
                "_customer": invoice.customer_key,
                "_billing": billing_id,
                "_expected": "matched",
                "_posting_ts": posting_ts,
            }
        )

    def settle_balances(self) -> None:
        """balanceDue = open posted invoices per ERP customer, so the customer card agrees with them."""
        by_id = {row["id"]: row for row in self.customers}
        for row in self.invoices:
            if row["status"] == "Open":
                line = row["lines"][0]
                total = line["quantity"] * line["unitPrice"] - line["discountAmount"] + line["totalTaxAmount"]
                by_id[row["customerId"]]["balanceDue"] = round(
                    by_id[row["customerId"]].get("balanceDue", 0) + total / 100, 2
                )
