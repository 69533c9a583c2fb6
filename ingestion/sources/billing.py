"""Stripe billing source (API version 2023-08-16): customers, catalog, subscriptions, invoices, charges,
credit notes and events, one resource per raw table.

Works unchanged against api.stripe.com (`base_url=https://api.stripe.com`, a secret or restricted key);
every request sends `Stripe-Version: 2023-08-16`, the version the sandbox imitates. Stripe renders an
event's `data.object` in the account's default API version of the event's day, whatever the header
says: keep the account on 2023-08-16, or a changed field fails its page's contract (loudly).

Incremental design. An object's `created` never changes, so a `created[gte]` list filter finds new
objects but never updates; Stripe reports updates only as events (`data.object` = the whole object as
of the event, `data.previous_attributes` on updates), kept for 30 days. Hence, per object resource:
- Full listing when the resource has no feed state (first run, `full_refresh`) or when its cursor
  has left the event window (probe: is any event at or before the cursor still listed?). Before
  listing, the newest event (`GET /v1/events?limit=100`) becomes the cursor, so changes made while
  the lists are paged are read again by the next run (merge on `id` makes that harmless).
- Otherwise a change feed: `GET /v1/events?created[gte]=<cursor>&types[n]=<the object's event
  types>` (newest first). The newest version of each object wins; the events already applied at the
  cursor's second are skipped by id. Two events for one object within the same second have no
  defined order, so such an object is re-read with `GET /v1/<collection>/<id>`. A `*.deleted`
  event (customers, products, prices, draft invoices) keeps the row with `deleted = true`.
  The cursor (newest event `created` + the ids of the events at that second) lives in
  `dlt.current.resource_state()`, committed only when the load succeeds.
- `dlt.sources.incremental` is not used on the object resources: it would filter out updates to
  objects whose `created` is older than the cursor. The `events` table itself is an append-only
  stream with `dlt.sources.incremental[int]("created")` passed as `created[gte]` (dlt drops the
  boundary rows it already has), merged on `id` so a replay is idempotent.

Child tables. `subscription_items` and `invoice_lines` are transformers fed by `subscriptions` and
`invoices` (one Dagster asset per resource), so the parents are fetched once. The parent resource
moves the nested list out of each object (`items` / `lines`; completing it from
`/v1/subscription_items` / `/v1/invoices/{id}/lines` when Stripe says `has_more`, real Stripe embeds
only the first 10 lines) and hands it to the transformer as the page's dlt `meta`: the parent row
stays compact (no duplicate JSON of every line) and each child row carries its parent id
(`subscription`, `invoice`). A parent and its children are written by the same load (when both are
selected), so a child whose `_dlt_load_id` differs from its parent's was removed from that parent.

Types: the epoch `created` stays (it is the cursor) and each record that has one gets a typed
`created_at` (timestamp, UTC; invoice lines have none); other epoch fields stay integers for staging
to convert. Nested objects are JSON columns (`max_table_nesting=0`).

Every resource yields Arrow tables of a few pages each (`ingestion.arrow`), typed as dlt types the
same records from JSON: Stripe objects are wide (an invoice has ~80 fields, most nested or null) and
dlt's row-by-row JSON normalizer cost more than reading them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

import dlt
from dlt.extract.hints import HintsMeta
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator, SinglePagePaginator
from pydantic import BaseModel, ConfigDict, ValidationError
from requests import HTTPError, Request, Response

from ingestion.arrow import MixedColumnError, batched, page_table, with_json_hints
from ingestion.errors import MalformedPageError
from ingestion.http import iter_pages, make_client

log = logging.getLogger(__name__)

SOURCE = "billing"
API_VERSION = "2023-08-16"
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
MAX_PAGE_SIZE = 100  # Stripe's `limit` is 1..100
FEED_STATE = "events_feed"
CREATED_AT = {"created_at": {"data_type": "timestamp"}}
DELETABLE = CREATED_AT | {"deleted": {"data_type": "bool"}}

T = TypeVar("T")


# -- record contracts: the fields the models rely on, typed; anything else passes through ---------
class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class StripeList(_Record, Generic[T]):
    """A list embedded in an object (`subscription.items`, `invoice.lines`)."""

    data: list[T]
    has_more: bool


class CustomerRecord(_Record):
    id: str
    created: int
    email: str | None
    name: str | None
    currency: str | None
    balance: int
    delinquent: bool | None


class ProductRecord(_Record):
    id: str
    created: int
    name: str
    active: bool


class PriceRecord(_Record):
    id: str
    created: int
    product: str
    currency: str
    unit_amount: int | None
    active: bool
    type: str


class SubscriptionItemRecord(_Record):
    id: str
    created: int
    subscription: str
    quantity: int | None
    price: dict[str, Any]


class SubscriptionRecord(_Record):
    id: str
    created: int
    customer: str
    status: str
    current_period_start: int
    current_period_end: int
    cancel_at_period_end: bool
    canceled_at: int | None
    items: StripeList[SubscriptionItemRecord]


class InvoiceLineRecord(_Record):
    id: str
    amount: int
    currency: str
    quantity: int | None
    period: dict[str, Any]
    subscription: str | None


class InvoiceRecord(_Record):
    id: str
    created: int
    customer: str
    subscription: str | None
    status: str | None
    currency: str
    amount_due: int
    amount_paid: int
    amount_remaining: int
    subtotal: int
    total: int
    lines: StripeList[InvoiceLineRecord]


class ChargeRecord(_Record):
    id: str
    created: int
    customer: str | None
    invoice: str | None
    amount: int
    amount_captured: int
    amount_refunded: int
    currency: str
    status: str
    paid: bool


class CreditNoteRecord(_Record):
    id: str
    created: int
    customer: str
    invoice: str
    amount: int
    total: int
    currency: str
    status: str


class EventData(_Record, Generic[T]):
    object: T
    previous_attributes: dict[str, Any] | None = None


class EventRecord(_Record, Generic[T]):
    """An event; `EventRecord[InvoiceRecord]` also holds `data.object` to the invoice contract."""

    id: str
    type: str
    created: int
    data: EventData[T]


# -- what each resource reads ------------------------------------------------------------------------
@dataclass(frozen=True)
class Nested:
    """A list embedded in the parent object that becomes its own table."""

    field: str  # key of the embedded list in the parent object
    table: str  # child resource / raw table
    parent_key: str  # column carrying the parent id
    model: type[BaseModel]
    path: str  # where to page the rest of the list, `{id}` = parent id
    parent_param: str | None = None  # or pass the parent id as this query parameter


@dataclass(frozen=True)
class Collection:
    name: str  # resource = raw table = `/v1/<name>`
    object: str  # Stripe's `object` value
    model: type[BaseModel]
    event_types: tuple[str, ...]  # explicit: `types[]` takes no wildcards (max 20)
    deleted_type: str | None = None  # the event that deletes the object (row kept, `deleted = true`)
    list_params: Mapping[str, Any] = field(default_factory=dict)
    nested: Nested | None = None


COLLECTIONS = {
    c.name: c
    for c in [
        Collection(
            "customers",
            "customer",
            CustomerRecord,
            ("customer.created", "customer.updated", "customer.deleted"),
            deleted_type="customer.deleted",
        ),
        Collection(
            "products",
            "product",
            ProductRecord,
            ("product.created", "product.updated", "product.deleted"),
            deleted_type="product.deleted",
        ),
        Collection(
            "prices",
            "price",
            PriceRecord,
            ("price.created", "price.updated", "price.deleted"),
            deleted_type="price.deleted",
        ),
        Collection(
            "subscriptions",
            "subscription",
            SubscriptionRecord,
            (
                "customer.subscription.created",
                "customer.subscription.updated",
                "customer.subscription.deleted",  # = canceled; the object stays listable (status=all)
                "customer.subscription.paused",
                "customer.subscription.resumed",
                "customer.subscription.pending_update_applied",
                "customer.subscription.pending_update_expired",
                "customer.subscription.trial_will_end",
            ),
            list_params={"status": "all"},  # the default hides canceled subscriptions
            nested=Nested(
                "items",
                "subscription_items",
                "subscription",
                SubscriptionItemRecord,
                "/v1/subscription_items",
                parent_param="subscription",
            ),
        ),
        Collection(
            "invoices",
            "invoice",
            InvoiceRecord,
            (  # not invoice.upcoming: its object is a preview without an id
                "invoice.created",
                "invoice.updated",
                "invoice.deleted",
                "invoice.finalized",
                "invoice.finalization_failed",
                "invoice.sent",
                "invoice.paid",
                "invoice.payment_succeeded",
                "invoice.payment_failed",
                "invoice.payment_action_required",
                "invoice.marked_uncollectible",
                "invoice.voided",
            ),
            deleted_type="invoice.deleted",
            nested=Nested("lines", "invoice_lines", "invoice", InvoiceLineRecord, "/v1/invoices/{id}/lines"),
        ),
        Collection(
            "charges",
            "charge",
            ChargeRecord,
            (  # not charge.dispute.* / charge.refund.*: their object is a dispute / refund
                "charge.succeeded",
                "charge.failed",
                "charge.pending",
                "charge.captured",
                "charge.expired",
                "charge.refunded",
                "charge.updated",
            ),
        ),
        Collection(
            "credit_notes",
            "credit_note",
            CreditNoteRecord,
            ("credit_note.created", "credit_note.updated", "credit_note.voided"),
        ),
    ]
}


# -- pagination ------------------------------------------------------------------------------------
class StripeListPaginator(BasePaginator):
    """Stripe lists: newest first, `starting_after=<last id on the page>` while `has_more`.

    The envelope is checked here (before the page is yielded and validated): a body that is not a
    Stripe list would otherwise read as an empty last page and silently truncate the resource.
    """

    def __init__(self, resource: str, starting_after: str | None = None) -> None:
        super().__init__()
        self.resource = resource
        self.starting_after = starting_after
        self.page = 0

    def init_request(self, request: Request) -> None:
        if self.starting_after:
            request.params = {**(request.params or {}), "starting_after": self.starting_after}

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        self.page += 1
        body = response.json()
        if not (
            isinstance(body, dict)
            and isinstance(body.get("data"), list)
            and isinstance(body.get("has_more"), bool)
        ):
            keys = sorted(body)[:8] if isinstance(body, dict) else type(body).__name__
            raise MalformedPageError(
                SOURCE, self.resource, self.page, response.url, f"not a Stripe list: {keys}"
            )
        if not body["has_more"]:
            self._has_next_page = False
            return
        if not body["data"]:
            raise MalformedPageError(
                SOURCE, self.resource, self.page, response.url, "has_more on an empty page"
            )
        last = body["data"][-1]
        last_id = last.get("id") if isinstance(last, dict) else None
        if isinstance(last_id, str):
            self.starting_after = last_id
        else:  # a record without a string id fails the page's validation right after this
            self._has_next_page = False

    def update_request(self, request: Request) -> None:
        request.params = {**(request.params or {}), "starting_after": self.starting_after}


# -- reading -----------------------------------------------------------------------------------------
class ChildRows(HintsMeta):
    """dlt `meta` of a parent page: the rows of the child table per parent id (and, as any `HintsMeta`,
    the hints of the parent page: its JSON columns, see `ingestion.arrow.with_json_hints`)."""

    def __init__(self, table: str, by_parent: dict[str, list[dict]], page: int = 0, path: str = "") -> None:
        super().__init__({}, create_table_variant=False)
        self.table = table
        self.by_parent = by_parent
        self.page = page  # where the parent page came from, for errors
        self.path = path

    def __repr__(self) -> str:
        return f"ChildRows({self.table!r}, {len(self.by_parent)} parents, page {self.page} of {self.path})"


@dataclass
class _Version:
    """The newest version of an object seen in the change feed so far."""

    second: int
    obj: dict
    deleted: bool
    ambiguous: bool  # another event for the object in the same second: order unknown


def arrow_page(records: list[dict], resource: str, page: int, path: str) -> Any:
    """`page_table`, failing like a malformed page when a column mixes value types."""
    try:
        return page_table(records)
    except MixedColumnError as exc:
        raise MalformedPageError(SOURCE, resource, page, path, str(exc)) from None


def with_created_at(record: dict) -> dict:
    created = record.get("created")
    if isinstance(created, int):
        record["created_at"] = datetime.fromtimestamp(created, UTC)
    return record


class StripeReader:
    def __init__(self, client: RESTClient, page_size: int) -> None:
        self.client = client
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))

    def pages(
        self,
        resource: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        model: type[BaseModel] | None = None,
        *,
        starting_after: str | None = None,
    ) -> Iterator[list[dict]]:
        yield from iter_pages(
            self.client,
            source=SOURCE,
            resource=resource,
            path=path,
            paginator=StripeListPaginator(resource, starting_after),
            data_selector="data",
            params={"limit": self.page_size, **(params or {})},
            model=model,
        )

    def first_page(
        self, resource: str, path: str, params: Mapping[str, Any], model: type[BaseModel]
    ) -> list[dict]:
        pages = self.pages(resource, path, params, model)
        try:
            return next(pages, [])
        finally:
            pages.close()

    # -- object resources: full listing or change feed -----------------------------------------
    def objects(self, spec: Collection) -> Iterator[Any]:
        state = dlt.current.resource_state()
        feed = state.get(FEED_STATE)
        if feed and self._retained(spec.name, feed["cursor"]):
            new_feed = yield from self._changes(spec, feed)
        else:
            reason = "no feed state" if not feed else f"cursor {feed['cursor']} left the 30-day event window"
            log.info("%s.%s: full listing (%s)", SOURCE, spec.name, reason)
            new_feed = yield from self._full(spec)
        if new_feed is None:
            state.pop(FEED_STATE, None)  # no event in the account yet: list again next time
        else:
            state[FEED_STATE] = new_feed

    def _retained(self, resource: str, cursor: int) -> bool:
        """Events since `cursor` are complete while some event at or before it is still listed."""
        return bool(
            self.first_page(resource, "/v1/events", {"created[lte]": cursor, "limit": 1}, EventRecord[dict])
        )

    def _full(self, spec: Collection) -> Iterator[Any]:
        newest = self.first_page(spec.name, "/v1/events", {"limit": MAX_PAGE_SIZE}, EventRecord[dict])
        feed = None
        if newest:
            cursor = newest[0]["created"]
            feed = {"cursor": cursor, "seen": [e["id"] for e in newest if e["created"] == cursor]}
        path = f"/v1/{spec.name}"
        pages = self.pages(spec.name, path, spec.list_params, spec.model)
        for number, objects in batched(pages):
            yield self._emit(spec, objects, number, path)
        return feed

    def _changes(self, spec: Collection, feed: dict) -> Iterator[Any]:
        cursor, seen_at_cursor = feed["cursor"], set(feed["seen"])
        params: dict[str, Any] = {"created[gte]": cursor}
        params.update({f"types[{i}]": t for i, t in enumerate(spec.event_types)})
        newest: int | None = None
        newest_ids: list[str] = []
        done: set[str] = set()  # objects whose newest version was taken
        pending: dict[str, _Version] = {}
        events = changed = 0
        number = 0
        for number, page in enumerate(
            self.pages(spec.name, "/v1/events", params, EventRecord[spec.model]), 1
        ):
            for event in page:
                if event["id"] in seen_at_cursor:
                    continue
                events += 1
                second = event["created"]
                if newest is None:
                    newest = second
                if second == newest:
                    newest_ids.append(event["id"])
                obj = event["data"]["object"]
                if obj.get("object") != spec.object:
                    continue
                object_id = obj["id"]
                version = pending.get(object_id)
                if version is not None:  # an older event of an object already seen (newest first)
                    if second == version.second:
                        version.ambiguous = True
                        version.deleted |= event["type"] == spec.deleted_type
                    continue
                if object_id in done:
                    continue
                pending[object_id] = _Version(
                    second,
                    obj,
                    deleted=event["type"] == spec.deleted_type,
                    ambiguous=second == cursor and bool(seen_at_cursor),
                )
            # events come newest first: every object last changed after this page's oldest second
            # has all its versions of that second in hand
            horizon = page[-1]["created"] if page else None
            ready = [oid for oid, v in pending.items() if horizon is None or v.second > horizon]
            if ready:
                changed += len(ready)
                yield self._emit(spec, self._settle(spec, ready, pending, done), number, "/v1/events")
        if pending:
            changed += len(pending)
            yield self._emit(spec, self._settle(spec, list(pending), pending, done), number, "/v1/events")
        log.info(
            "%s.%s: %d changed objects from %d events since %s", SOURCE, spec.name, changed, events, cursor
        )
        if newest is None:
            return feed
        if newest == cursor:  # only more events in the cursor's second
            newest_ids = sorted(seen_at_cursor) + newest_ids
        return {"cursor": newest, "seen": newest_ids}

    def _settle(
        self, spec: Collection, ready: list[str], pending: dict[str, _Version], done: set[str]
    ) -> list[dict]:
        objects = []
        for object_id in ready:
            version = pending.pop(object_id)
            done.add(object_id)
            obj = version.obj
            if version.deleted:
                obj = dict(obj, deleted=True)
            elif version.ambiguous:
                obj = self._retrieve(spec, object_id) or obj
            objects.append(obj)
        return objects

    def _retrieve(self, spec: Collection, object_id: str) -> dict | None:
        """The current object, or None if it is gone (deleted since: the event's copy stands)."""
        path = f"/v1/{spec.name}/{object_id}"
        single = iter_pages(
            self.client,
            source=SOURCE,
            resource=spec.name,
            path=path,
            paginator=SinglePagePaginator(),
            data_selector="$",
        )
        try:
            page = next(single, [])
        except HTTPError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return None
            raise
        finally:
            single.close()
        obj = page[0] if page and isinstance(page[0], dict) else {}
        if obj.get("deleted"):
            return None
        try:
            spec.model.model_validate(obj)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            raise MalformedPageError(
                SOURCE, spec.name, 1, path, f"object breaks the contract: {problems}"
            ) from None
        return obj

    def _emit(self, spec: Collection, objects: list[dict], page: int, path: str) -> Any:
        """A page of objects as an Arrow table; with its child rows as dlt `meta` if it has some."""
        for obj in objects:
            with_created_at(obj)
        children = None
        if spec.nested is not None:
            children = {obj["id"]: self._children(spec.nested, obj) for obj in objects}
        table = arrow_page(objects, spec.name, page, path)
        if spec.nested is None:
            return with_json_hints(table)
        return with_json_hints(table, ChildRows(spec.nested.table, children, page, path))

    def _children(self, nested: Nested, parent: dict) -> list[dict]:
        """Move the embedded list out of `parent`, completed from its own endpoint if truncated."""
        embedded = parent.pop(nested.field)
        rows = list(embedded["data"])
        if embedded["has_more"]:
            path = nested.path.format(id=parent["id"])
            params = {nested.parent_param: parent["id"]} if nested.parent_param else {}
            after = rows[-1]["id"] if rows else None
            for page in self.pages(nested.table, path, params, nested.model, starting_after=after):
                rows.extend(page)
        for row in rows:
            row[nested.parent_key] = parent["id"]
            with_created_at(row)
        return rows


def child_rows(parents: Any, meta: Any, table: str) -> Iterator[Any]:
    """The child rows of the parents on this page (an Arrow table of the parent resource's page)."""
    if not isinstance(meta, ChildRows) or meta.table != table:
        raise TypeError(f"{SOURCE}.{table}: parent page arrived without its child rows (meta={meta!r})")
    rows = [
        row for parent_id in parents.column("id").to_pylist() for row in meta.by_parent.get(parent_id, [])
    ]
    if rows:
        yield with_json_hints(arrow_page(rows, table, meta.page, meta.path))


def _object_resource(reader: StripeReader, spec: Collection) -> Any:
    """The merge resource of one list endpoint (`COLLECTIONS`); objects Stripe deletes keep their row
    with `deleted = true`, hence the flag's column hint."""

    def read() -> Iterator[Any]:
        yield from reader.objects(spec)

    return dlt.resource(
        read,
        name=spec.name,
        primary_key="id",
        write_disposition="merge",
        columns=DELETABLE if spec.deleted_type else CREATED_AT,
    )


@dlt.source(name=SOURCE, max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def billing_source(base_url: str, api_key: str, page_size: int = 100) -> Any:
    """`page_size` is Stripe's `limit` (1..100)."""
    client = make_client(base_url, auth=BearerTokenAuth(api_key), headers={"Stripe-Version": API_VERSION})
    reader = StripeReader(client, page_size)

    objects = {name: _object_resource(reader, spec) for name, spec in COLLECTIONS.items()}

    @dlt.transformer(
        data_from=objects["subscriptions"],
        name="subscription_items",
        primary_key="id",
        write_disposition="merge",
        columns=CREATED_AT,
    )
    def subscription_items(parents: Any, meta: Any = None) -> Iterator[Any]:
        yield from child_rows(parents, meta, "subscription_items")

    @dlt.transformer(
        data_from=objects["invoices"], name="invoice_lines", primary_key="id", write_disposition="merge"
    )
    def invoice_lines(parents: Any, meta: Any = None) -> Iterator[Any]:
        yield from child_rows(parents, meta, "invoice_lines")

    @dlt.resource(name="events", primary_key="id", write_disposition="merge", columns=CREATED_AT)
    def events(
        created: dlt.sources.incremental[int] = dlt.sources.incremental("created", initial_value=0),
    ) -> Iterator[Any]:
        pages = reader.pages("events", "/v1/events", {"created[gte]": created.start_value}, EventRecord[dict])
        for number, page in batched(pages):
            table = arrow_page([with_created_at(event) for event in page], "events", number, "/v1/events")
            yield with_json_hints(table)

    return (
        objects["customers"],
        objects["products"],
        objects["prices"],
        objects["subscriptions"],
        subscription_items,
        objects["invoices"],
        invoice_lines,
        objects["charges"],
        objects["credit_notes"],
        events,
    )
