"""Business Central API v2.0 entity types served by the imitation: one place that drives `$metadata`,
`$select` / `$filter` validation, literal typing and which properties a client may write."""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACE = "Microsoft.NAV"
ZERO_GUID = "00000000-0000-0000-0000-000000000000"

# (property, Edm type, writable)
_CUSTOMER = [
    ("id", "Edm.Guid", False),
    ("number", "Edm.String", True),
    ("displayName", "Edm.String", True),
    ("type", "Edm.String", True),
    ("addressLine1", "Edm.String", True),
    ("addressLine2", "Edm.String", True),
    ("city", "Edm.String", True),
    ("state", "Edm.String", True),
    ("country", "Edm.String", True),
    ("postalCode", "Edm.String", True),
    ("phoneNumber", "Edm.String", True),
    ("email", "Edm.String", True),
    ("website", "Edm.String", True),
    ("salespersonCode", "Edm.String", True),
    ("balanceDue", "Edm.Decimal", False),
    ("creditLimit", "Edm.Decimal", True),
    ("taxLiable", "Edm.Boolean", True),
    ("taxAreaId", "Edm.Guid", True),
    ("taxAreaDisplayName", "Edm.String", False),
    ("taxRegistrationNumber", "Edm.String", True),
    ("currencyId", "Edm.Guid", True),
    ("currencyCode", "Edm.String", True),
    ("paymentTermsId", "Edm.Guid", True),
    ("shipmentMethodId", "Edm.Guid", True),
    ("paymentMethodId", "Edm.Guid", True),
    ("blocked", "Edm.String", True),
    ("lastModifiedDateTime", "Edm.DateTimeOffset", False),
]

_DOCUMENT_HEADER = [
    ("id", "Edm.Guid", False),
    ("number", "Edm.String", False),
    ("externalDocumentNumber", "Edm.String", True),
    ("postingDate", "Edm.Date", True),
    ("dueDate", "Edm.Date", True),
    ("customerId", "Edm.Guid", True),
    ("customerNumber", "Edm.String", True),
    ("customerName", "Edm.String", False),
    ("billToCustomerId", "Edm.Guid", False),
    ("billToCustomerNumber", "Edm.String", False),
    ("billToName", "Edm.String", False),
    ("currencyCode", "Edm.String", True),
    ("pricesIncludeTax", "Edm.Boolean", False),
    ("paymentTermsId", "Edm.Guid", True),
    ("discountAmount", "Edm.Decimal", False),
    ("discountAppliedBeforeTax", "Edm.Boolean", False),
    ("totalAmountExcludingTax", "Edm.Decimal", False),
    ("totalTaxAmount", "Edm.Decimal", False),
    ("totalAmountIncludingTax", "Edm.Decimal", False),
    ("status", "Edm.String", False),
    ("lastModifiedDateTime", "Edm.DateTimeOffset", False),
]

_INVOICE = (
    _DOCUMENT_HEADER[:3]
    + [("invoiceDate", "Edm.Date", True)]
    + _DOCUMENT_HEADER[3:]
    + [("remainingAmount", "Edm.Decimal", False)]
)
_CREDIT_MEMO = (
    _DOCUMENT_HEADER[:3]
    + [("creditMemoDate", "Edm.Date", True)]
    + _DOCUMENT_HEADER[3:]
    + [
        ("invoiceId", "Edm.Guid", True),
        ("invoiceNumber", "Edm.String", True),
    ]
)

_LINE = [
    ("id", "Edm.Guid", False),
    ("documentId", "Edm.Guid", False),
    ("sequence", "Edm.Int32", True),
    ("itemId", "Edm.Guid", True),
    ("accountId", "Edm.Guid", True),
    ("lineType", "Edm.String", True),
    ("lineObjectNumber", "Edm.String", True),
    ("description", "Edm.String", True),
    ("unitOfMeasureCode", "Edm.String", True),
    ("quantity", "Edm.Decimal", True),
    ("unitPrice", "Edm.Decimal", True),
    ("discountAmount", "Edm.Decimal", True),
    ("discountPercent", "Edm.Decimal", True),
    ("amountExcludingTax", "Edm.Decimal", False),
    ("taxCode", "Edm.String", True),
    ("taxPercent", "Edm.Decimal", True),
    ("totalTaxAmount", "Edm.Decimal", False),
    ("amountIncludingTax", "Edm.Decimal", False),
    ("netAmount", "Edm.Decimal", False),
    ("netAmountIncludingTax", "Edm.Decimal", False),
]


@dataclass(frozen=True)
class EntityType:
    name: str  # e.g. "customer"
    properties: tuple[tuple[str, str, bool], ...]
    navigation: dict[str, str] = field(default_factory=dict)  # property -> entity set of the lines

    @property
    def types(self) -> dict[str, str]:
        return {name: edm for name, edm, _w in self.properties}

    @property
    def writable(self) -> frozenset[str]:
        return frozenset(name for name, _e, w in self.properties if w)


@dataclass(frozen=True)
class EntitySet:
    """An API collection: its type, the store table, and the indexes a cursor can walk."""

    name: str  # URL segment, e.g. "salesInvoices"
    entity: EntityType
    table: str
    lines: str | None = None  # entity set name of the document lines (navigation property)
    # $filter eq on these properties is answered from a sorted index instead of a scan
    eq_indexes: tuple[str, ...] = ()


CUSTOMER = EntityType("customer", tuple(_CUSTOMER))
SALES_INVOICE_LINE = EntityType("salesInvoiceLine", tuple(_LINE))
SALES_INVOICE = EntityType("salesInvoice", tuple(_INVOICE), {"salesInvoiceLines": "salesInvoiceLine"})
SALES_CREDIT_MEMO_LINE = EntityType("salesCreditMemoLine", tuple(_LINE))
SALES_CREDIT_MEMO = EntityType(
    "salesCreditMemo", tuple(_CREDIT_MEMO), {"salesCreditMemoLines": "salesCreditMemoLine"}
)
COMPANY = EntityType(
    "company",
    (
        ("id", "Edm.Guid", False),
        ("systemVersion", "Edm.String", False),
        ("name", "Edm.String", False),
        ("displayName", "Edm.String", False),
        ("businessProfileId", "Edm.String", False),
        ("systemCreatedAt", "Edm.DateTimeOffset", False),
        ("systemCreatedBy", "Edm.Guid", False),
        ("systemModifiedAt", "Edm.DateTimeOffset", False),
        ("systemModifiedBy", "Edm.Guid", False),
    ),
)
ENTITY_TYPES = [
    COMPANY,
    CUSTOMER,
    SALES_INVOICE,
    SALES_INVOICE_LINE,
    SALES_CREDIT_MEMO,
    SALES_CREDIT_MEMO_LINE,
]

CUSTOMERS_TABLE = "erp_customers"
INVOICES_TABLE = "erp_sales_invoices"
CREDIT_MEMOS_TABLE = "erp_sales_credit_memos"
# Billing documents that have no ERP posting (yet): missing ones and late ones still to be posted.
UNPOSTED_TABLE = "erp_unposted_documents"

# Both index fields every document/customer table keeps for cursors and ordering.
LAST_MODIFIED = "lastModified"  # int epoch milliseconds behind lastModifiedDateTime
NUMBER = "number"

ENTITY_SETS = {
    "customers": EntitySet(
        "customers", CUSTOMER, CUSTOMERS_TABLE, eq_indexes=("number", "email", "taxRegistrationNumber")
    ),
    "salesInvoices": EntitySet(
        "salesInvoices",
        SALES_INVOICE,
        INVOICES_TABLE,
        lines="salesInvoiceLines",
        eq_indexes=("number", "externalDocumentNumber"),
    ),
    "salesCreditMemos": EntitySet(
        "salesCreditMemos",
        SALES_CREDIT_MEMO,
        CREDIT_MEMOS_TABLE,
        lines="salesCreditMemoLines",
        eq_indexes=("number", "externalDocumentNumber"),
    ),
}
LINE_TYPES = {"salesInvoiceLines": SALES_INVOICE_LINE, "salesCreditMemoLines": SALES_CREDIT_MEMO_LINE}
