"""Business Central (API v2.0) source: customers, posted sales invoices and credit memos with their lines.

Works unchanged against a real Business Central online: `base_url=https://api.businesscentral.dynamics.com`,
an Entra ID bearer token, the tenant id, the environment name and the company id. Every collection is
read under `{base_url}/v2.0/{tenant}/{environment}/api/v2.0/companies({company_id})`.

- Paging is server-driven: `Prefer: odata.maxpagesize=<page_size>` asks for pages of that size (BC online
  caps it at 20,000) and each page's opaque `@odata.nextLink` (absolute, with the query options and a
  `$skiptoken`) is followed as is until a page has none.
- Incremental on `lastModifiedDateTime`, sent as `$filter=lastModifiedDateTime ge <cursor>` and walked in
  `$orderby=lastModifiedDateTime` order (see `_collection`). The first run sends no filter: BC reports
  `0001-01-01T00:00:00Z` for records that were never stamped (data migrated from older versions), and
  any lower bound would drop them.
- Lines: the document collections are read once with `$expand=salesInvoiceLines` /
  `salesCreditMemoLines` by an unselected parent resource (`sales_invoice_documents`,
  `sales_credit_memo_documents`) that owns the incremental cursor. Two transformers hang off each parent:
  `sales_invoices` yields the document without its lines, `sales_invoice_lines` yields the lines. dlt
  evaluates the parent once and hands every page to both, so there is one dlt resource per raw table
  (what the Dagster integration maps to asset keys) and no document is fetched twice. The transformers
  only read the shared page; neither mutates it.
- Lines are merged with `delete-insert` on `merge_key=documentId`: a re-read document replaces all its
  stored lines, so a line removed from a document disappears from the warehouse too.
- `@odata.etag` is kept as `odata_etag` (the reverse ETL sends it back as `If-Match`); other
  `@odata.*` annotations are dropped. `lastModifiedDateTime` becomes a UTC `datetime` and the document
  dates (`postingDate`, `dueDate`, `invoiceDate`, `creditMemoDate`) become `date`s.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, NamedTuple

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from pydantic import AfterValidator, BaseModel, ConfigDict

from ingestion.http import iter_pages, make_client

SOURCE = "erp"
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
MAX_PAGE_SIZE = 20_000  # BC online's ceiling for odata.maxpagesize
CURSOR = "lastModifiedDateTime"
ETAG = "@odata.etag"
DOCUMENT_DATES = ("postingDate", "dueDate", "invoiceDate", "creditMemoDate")
# BC's only Edm.Int32 properties on these entities; every other number is an Edm.Decimal (see _shape).
INTEGER_PROPERTIES = frozenset({"sequence"})
TIMESTAMP_COLUMNS = {CURSOR: {"data_type": "timestamp"}}
DOCUMENT_COLUMNS = TIMESTAMP_COLUMNS | {name: {"data_type": "date"} for name in DOCUMENT_DATES}


# -- record contracts: the fields the models rely on, typed; anything else passes through ---------
def _parse_timestamp(value: str) -> datetime:
    """BC's Edm.DateTimeOffset (`2024-03-01T09:30:00.123Z`, up to 7 fraction digits) as a UTC datetime."""
    text = value.replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:  # Python wants at most 6 fraction digits
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:digits][:6].ljust(6, '0')}{rest[digits:]}"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError(f"{value!r} has no UTC offset")
    return parsed.astimezone(UTC)


def _check_timestamp(value: str) -> str:
    _parse_timestamp(value)
    return value


def _check_date(value: str) -> str:
    date.fromisoformat(value)
    return value


IsoTimestamp = Annotated[str, AfterValidator(_check_timestamp)]
IsoDate = Annotated[str, AfterValidator(_check_date)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class CustomerRecord(_Record):
    id: str
    number: str
    displayName: str
    balanceDue: float
    creditLimit: float
    lastModifiedDateTime: IsoTimestamp


class DocumentLineRecord(_Record):
    id: str
    documentId: str
    sequence: int
    quantity: float
    unitPrice: float
    amountExcludingTax: float
    amountIncludingTax: float


class _DocumentRecord(_Record):
    id: str
    number: str
    customerId: str
    customerNumber: str
    status: str
    postingDate: IsoDate
    totalAmountExcludingTax: float
    totalTaxAmount: float
    totalAmountIncludingTax: float
    lastModifiedDateTime: IsoTimestamp


class SalesInvoiceRecord(_DocumentRecord):
    invoiceDate: IsoDate
    remainingAmount: float
    salesInvoiceLines: list[DocumentLineRecord]


class SalesCreditMemoRecord(_DocumentRecord):
    creditMemoDate: IsoDate
    salesCreditMemoLines: list[DocumentLineRecord]


# -- record shaping --------------------------------------------------------------------------------
def _shape(record: dict) -> dict:
    """A copy for the warehouse: etag as `odata_etag`, other annotations dropped, typed values.

    Edm.Decimal amounts become `Decimal`s: BC writes them as JSON numbers, `0` or `1200` without a
    fraction and `12.5` with one, so type inference would see bigint on one page and double on the
    next, which the frozen data-type contract rejects.
    """
    row: dict[str, Any] = {"odata_etag": record.get(ETAG)}
    for key, value in record.items():
        if "@odata." in key or key.startswith("@"):  # annotations, e.g. `salesInvoiceLines@odata.context`
            continue
        row[key] = value
    for key, value in row.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in INTEGER_PROPERTIES:
            row[key] = Decimal(str(value))
    if isinstance(row.get(CURSOR), str):
        row[CURSOR] = _parse_timestamp(row[CURSOR])
    for name in DOCUMENT_DATES:
        if isinstance(row.get(name), str):
            row[name] = date.fromisoformat(row[name])
    return row


def _odata_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _collection(
    client: RESTClient,
    *,
    resource: str,
    entity_set: str,
    since: datetime | None,
    page_size: int,
    model: type[BaseModel],
    expand: str | None = None,
) -> Iterator[list[dict]]:
    """Pages of one collection changed at or after `since` (everything when None), shaped for loading.

    `ge`, not `gt`: BC stamps lastModifiedDateTime in milliseconds and several records can share one
    (a posting batch); one committed just after our read with the cursor's millisecond would be lost
    forever with `gt`. With `ge` the boundary records are read again and dlt's incremental drops those
    already loaded (it keeps their primary-key hashes in the state). `$orderby=lastModifiedDateTime`
    makes paging follow the cursor: a record edited while we page moves behind the pages still to
    come, so the cursor can never pass an edit we did not read (in key order, a later page could
    carry a newer stamp than an edit on a page already read).
    """
    params: dict[str, Any] = {"$orderby": f"{CURSOR} asc"}
    if since is not None:
        params["$filter"] = f"{CURSOR} ge {_odata_timestamp(since)}"
    if expand:
        params["$expand"] = expand
    for page in iter_pages(
        client,
        source=SOURCE,
        resource=resource,
        path=f"/{entity_set}",
        paginator=JSONLinkPaginator(next_url_path="['@odata.nextLink']"),
        data_selector="value",
        params=params,
        headers={"Prefer": f"odata.maxpagesize={page_size}"},
        model=model,
    ):
        yield [_shape(record) for record in page]


def _cursor() -> Any:
    """No initial value: the first run reads everything, unfiltered (see the module docstring)."""
    return dlt.sources.incremental(CURSOR)


class _Documents(NamedTuple):
    """One document kind: its unselected parent resource and the two tables read from its pages."""

    parent: str  # the parent resource, owner of the incremental cursor
    table: str  # documents table (also the parent's name in logs and metrics)
    lines_table: str
    entity_set: str
    lines_property: str  # `$expand`ed, the lines' key in a document
    model: type[BaseModel]


DOCUMENTS = (
    _Documents(
        parent="sales_invoice_documents",
        table="sales_invoices",
        lines_table="sales_invoice_lines",
        entity_set="salesInvoices",
        lines_property="salesInvoiceLines",
        model=SalesInvoiceRecord,
    ),
    _Documents(
        parent="sales_credit_memo_documents",
        table="sales_credit_memos",
        lines_table="sales_credit_memo_lines",
        entity_set="salesCreditMemos",
        lines_property="salesCreditMemoLines",
        model=SalesCreditMemoRecord,
    ),
)


def _collection_resource(
    client: RESTClient,
    page_size: int,
    *,
    name: str,
    entity_set: str,
    model: type[BaseModel],
    resource: str | None = None,
    expand: str | None = None,
    **hints: Any,
) -> Any:
    """A resource reading one collection incrementally on `lastModifiedDateTime` (`hints` go to dlt).

    `resource` names the collection in logs and metrics (default: `name`).
    """

    def read(modified: dlt.sources.incremental[datetime] = _cursor()) -> Iterator[list[dict]]:
        yield from _collection(
            client,
            resource=resource or name,
            entity_set=entity_set,
            since=modified.start_value,
            page_size=page_size,
            model=model,
            expand=expand,
        )

    return dlt.resource(read, name=name, primary_key="id", **hints)


@dlt.source(name=SOURCE, max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def erp_source(
    base_url: str,
    access_token: str,
    tenant: str,
    environment: str,
    company_id: str,
    page_size: int = 1000,
) -> Any:
    root = f"{base_url.rstrip('/')}/v2.0/{tenant}/{environment}/api/v2.0/companies({company_id})"
    client = make_client(root, auth=BearerTokenAuth(access_token))
    size = max(1, min(page_size, MAX_PAGE_SIZE))

    customers = _collection_resource(
        client,
        size,
        name="customers",
        entity_set="customers",
        model=CustomerRecord,
        write_disposition="merge",
        columns=TIMESTAMP_COLUMNS,
    )
    document_tables = []
    for kind in DOCUMENTS:
        # Documents with their lines expanded: the shared parent of the kind's two tables.
        parent = _collection_resource(
            client,
            size,
            name=kind.parent,
            resource=kind.table,
            entity_set=kind.entity_set,
            model=kind.model,
            expand=kind.lines_property,
            selected=False,
        )
        document_tables.extend(_document_tables(parent, kind))
    return (customers, *document_tables)


def _document_tables(parent: Any, kind: _Documents) -> tuple[Any, Any]:
    """The document and line transformers reading one parent's pages."""
    lines_property = kind.lines_property

    @dlt.transformer(
        data_from=parent,
        name=kind.table,
        primary_key="id",
        write_disposition="merge",
        columns=DOCUMENT_COLUMNS,
    )
    def documents(page: list[dict]) -> Iterator[list[dict]]:
        yield [{k: v for k, v in document.items() if k != lines_property} for document in page]

    @dlt.transformer(
        data_from=parent,
        name=kind.lines_table,
        primary_key="id",
        merge_key="documentId",
        write_disposition={"disposition": "merge", "strategy": "delete-insert"},
    )
    def lines(page: list[dict]) -> Iterator[list[dict]]:
        # BC returns documentId on every line; set it from the parent all the same (the merge key).
        yield [
            _shape(line) | {"documentId": line.get("documentId") or document["id"]}
            for document in page
            for line in document.get(lines_property) or ()
        ]

    return documents, lines
