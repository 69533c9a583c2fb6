"""ERP activity between syncs: finance changes credit limits, edits customer cards by hand (new etags
the reverse ETL must respect), and posts invoices it was late with."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox.vendors.erp.generate import to_date
from sandbox.vendors.erp.schema import CUSTOMERS_TABLE, INVOICES_TABLE, NUMBER, UNPOSTED_TABLE

if TYPE_CHECKING:
    from sandbox.vendors.erp import ErpVendor

POST_AT = "_post_at"  # unposted late invoices carry when the accountant gets to them
STREETS = ["Market Street", "Harbour Road", "Station Square", "Mill Lane", "Park Avenue", "Kingsway"]


def _random_customers(vendor: ErpVendor, rng: random.Random, count: int) -> list[dict]:
    """Distinct random customer rows, drawn from the number index (no full scan)."""
    index = vendor.store[CUSTOMERS_TABLE].indexes[NUMBER]
    if not index:
        return []
    keys = {index[rng.randrange(len(index))][1] for _ in range(count)}
    return [vendor.store[CUSTOMERS_TABLE].get(key) for key in sorted(keys)]


def _change(table: str, row: dict) -> dict:
    return {"system": "erp", "table": table, "id": row["id"]}


def credit_limit_change(vendor: ErpVendor, rng: random.Random) -> list[dict]:
    data = vendor.api.data()
    changes = []
    for current in _random_customers(vendor, rng, rng.randint(1, 3)):
        row = dict(current)
        row["creditLimit"] = float(
            max(1_000, round(row.get("creditLimit", 0) * rng.choice([0.5, 0.8, 1.25, 1.5, 2]), -3))
        )
        row["lastModified"] = data.stamp()
        data.put(CUSTOMERS_TABLE, row)
        changes.append(_change("customers", row))
    return changes


def customer_edit(vendor: ErpVendor, rng: random.Random) -> list[dict]:
    """A person edits a customer card in the BC client: phone or address."""
    data = vendor.api.data()
    changes = []
    for current in _random_customers(vendor, rng, 1):
        row = dict(current)
        if rng.random() < 0.5:
            row["phoneNumber"] = f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        else:
            row["addressLine1"] = f"{rng.randint(1, 400)} {rng.choice(STREETS)}"
            row["postalCode"] = str(rng.randint(10000, 99999))
        row["lastModified"] = data.stamp()
        data.put(CUSTOMERS_TABLE, row)
        changes.append(_change("customers", row))
    return changes


def late_posting(vendor: ErpVendor, rng: random.Random) -> list[dict]:
    """The accountant posts the oldest invoice that was waiting (truth stays "late", now with an id)."""
    pending = next(vendor.store[UNPOSTED_TABLE].scan(POST_AT), None)
    if pending is None:
        return []
    data = vendor.api.data()
    row = dict(pending["_document"])
    row["number"] = data.next_number("posted:salesInvoices", vendor.posted_series_start["salesInvoices"])
    # dated when the accountant was due to get to it (6-25 days after the invoice: late, as the truth
    # says), or today if that has passed; posting today could make a recent invoice look on time
    row["postingDate"] = to_date(max(vendor.now(), pending[POST_AT]))
    row["lastModified"] = data.stamp()
    data.put(INVOICES_TABLE, row)
    data.delete(UNPOSTED_TABLE, pending["id"])
    return [_change("sales_invoices", row)]
