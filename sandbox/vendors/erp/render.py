"""Compact stored rows -> Business Central JSON entities, built at serve time.

Rows keep only what varies (money in minor units, timestamps as epoch milliseconds, document lines
as small dicts); constant properties, totals and line ids are derived here so a 100k-customer world
stays small in memory.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from sandbox.ids import guid
from sandbox.vendors.erp.schema import ZERO_GUID

CUSTOMER_DEFAULTS = {
    "type": "Company",
    "addressLine2": "",
    "state": "",
    "website": "",
    "salespersonCode": "",
    "balanceDue": 0,
    "creditLimit": 0,
    "taxLiable": False,
    "taxAreaId": ZERO_GUID,
    "taxAreaDisplayName": "",
    "taxRegistrationNumber": "",
    "currencyId": ZERO_GUID,
    "currencyCode": "",
    "paymentTermsId": ZERO_GUID,
    "shipmentMethodId": ZERO_GUID,
    "paymentMethodId": ZERO_GUID,
    "blocked": " ",
}
CUSTOMER_ORDER = [
    "id",
    "number",
    "displayName",
    *CUSTOMER_DEFAULTS,
    "phoneNumber",
    "email",
    "lastModifiedDateTime",
]
# An item in the demo company's catalogue that every subscription line points to.
SUBSCRIPTION_ITEM_ID = guid("erp:item:SUBSCRIPTION")


def iso_ms(ms: int) -> str:
    """BC renders lastModifiedDateTime with milliseconds and a Z."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def etag(row: dict) -> str:
    """W/"JzQ0O..." style: base64 of a quoted row-version string, as BC emits. Every write moves
    lastModified (strictly increasing, see repository.ErpData.stamp), so the etag changes too."""
    version = f"{row['lastModified']}1"
    token = f"'{len(version)};{version};00;'"
    return f'W/"{base64.b64encode(token.encode()).decode()}"'


def money(minor: int) -> float:
    return round(minor / 100, 2)


def public(row: dict) -> dict:
    """Row fields a client may see: drop internal `_...` keys and the index-only fields."""
    return {k: v for k, v in row.items() if not k.startswith("_") and k not in ("lastModified", "lines")}


def render_customer(row: dict) -> dict:
    entity = {"@odata.etag": etag(row)} | CUSTOMER_DEFAULTS | public(row)
    entity["lastModifiedDateTime"] = iso_ms(row["lastModified"])
    return entity


def render_lines(row: dict) -> list[dict]:
    """Document lines with BC's derived amounts; ids are stable per (document, sequence)."""
    lines = []
    for n, line in enumerate(row.get("lines", ()), start=1):
        gross = round(line["quantity"] * line["unitPrice"])
        net = gross - line["discountAmount"]
        tax = line["totalTaxAmount"]
        lines.append(
            {
                "@odata.etag": etag(row),
                "id": guid(f"{row['id']}:line:{n}"),
                "documentId": row["id"],
                "sequence": n * 10000,
                "itemId": line.get("itemId", SUBSCRIPTION_ITEM_ID),
                "accountId": ZERO_GUID,
                "lineType": line.get("lineType", "Item"),
                "lineObjectNumber": line.get("lineObjectNumber", "SUBSCRIPTION"),
                "description": line["description"],
                "unitOfMeasureCode": "SEAT",
                "quantity": line["quantity"],
                "unitPrice": money(line["unitPrice"]),
                "discountAmount": money(line["discountAmount"]),
                "discountPercent": round(100 * line["discountAmount"] / gross, 2) if gross else 0,
                "amountExcludingTax": money(net),
                "taxCode": line.get("taxCode", "VAT" if line["taxPercent"] else "NONTAXABLE"),
                "taxPercent": line["taxPercent"],
                "totalTaxAmount": money(tax),
                "amountIncludingTax": money(net + tax),
                "netAmount": money(net),
                "netAmountIncludingTax": money(net + tax),
            }
        )
    return lines


def document_totals(row: dict) -> tuple[int, int, int]:
    """(discount, amount excluding tax, tax) in minor units, summed over the lines."""
    discount = excluding = tax = 0
    for line in row.get("lines", ()):
        discount += line["discountAmount"]
        excluding += round(line["quantity"] * line["unitPrice"]) - line["discountAmount"]
        tax += line["totalTaxAmount"]
    return discount, excluding, tax


def render_document(row: dict, *, lines_property: str | None = None) -> dict:
    """A sales invoice or credit memo; `lines_property` set when the client asked for $expand."""
    discount, excluding, tax = document_totals(row)
    entity = {"@odata.etag": etag(row)} | public(row)
    entity.update(
        {
            "billToCustomerId": row["customerId"],
            "billToCustomerNumber": row["customerNumber"],
            "billToName": row["customerName"],
            "pricesIncludeTax": False,
            "paymentTermsId": row.get("paymentTermsId", ZERO_GUID),
            "discountAmount": money(discount),
            "discountAppliedBeforeTax": True,
            "totalAmountExcludingTax": money(excluding),
            "totalTaxAmount": money(tax),
            "totalAmountIncludingTax": money(excluding + tax),
            "lastModifiedDateTime": iso_ms(row["lastModified"]),
        }
    )
    if "invoiceDate" in row:
        entity["remainingAmount"] = money(excluding + tax) if row["status"] in ("Open", "Draft") else 0
    if lines_property:
        entity[lines_property] = render_lines(row)
    return entity
