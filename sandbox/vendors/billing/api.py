"""The Stripe HTTP API: list / retrieve for every collection, customer writes, invoice payment.

Lists page newest first over sorted (created, id) indexes -- or (customer|created, id) when a
customer or subscription filter narrows them -- so `starting_after` resumes with a bisect instead of
a scan, at any scale.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from sandbox.vendor import JSONResponse

from .credit_notes import CreditNotes
from .errors import StripeError, from_exception, invalid, missing
from .events import EVENT_WINDOW
from .params import COMMON_LIST_PARAMS, Page, as_list, page_params, parse_params, reject_unknown

if TYPE_CHECKING:
    from . import BillingVendor

IDEMPOTENCY_TABLE = "billing_idempotency_keys"
IDEMPOTENCY_TTL = 24 * 3600  # Stripe prunes keys once they are at least 24 hours old (sim clock)
EXPANDABLE = {
    "customer": "customers",
    "invoice": "invoices",
    "subscription": "subscriptions",
    "latest_invoice": "invoices",
    "charge": "charges",
    "product": "products",
}
CUSTOMER_FIELDS = {
    "address",
    "description",
    "email",
    "metadata",
    "name",
    "phone",
    "preferred_locales",
    "tax_exempt",
}
ADDRESS_FIELDS = {"city", "country", "line1", "line2", "postal_code", "state"}
TAX_EXEMPT = ("exempt", "none", "reverse")
SUBSCRIPTION_STATUSES = {
    "active",
    "all",
    "canceled",
    "ended",
    "incomplete",
    "incomplete_expired",
    "past_due",
    "paused",
    "trialing",
    "unpaid",
}
INVOICE_STATUSES = {"draft", "open", "paid", "uncollectible", "void"}


@dataclass(frozen=True)
class Collection:
    """One listable resource: its path segment (= table suffix), label and extra list filters."""

    name: str
    label: str
    filters: frozenset[str] = field(default_factory=frozenset)


COLLECTIONS = {
    c.name: c
    for c in [
        Collection("customers", "customer", frozenset({"email", "test_clock"})),
        Collection("products", "product", frozenset({"active", "ids", "shippable", "url"})),
        Collection("prices", "price", frozenset({"active", "currency", "product", "type", "lookup_keys"})),
        Collection(
            "subscriptions", "subscription", frozenset({"customer", "price", "status", "collection_method"})
        ),
        Collection(
            "invoices", "invoice", frozenset({"customer", "subscription", "status", "collection_method"})
        ),
        Collection("charges", "charge", frozenset({"customer", "payment_intent"})),
        Collection("credit_notes", "credit note", frozenset({"customer", "invoice"})),
        Collection("events", "event", frozenset({"type", "types", "delivery_success"})),
    ]
}


def _matcher(collection: str, params: dict) -> Callable[[dict], bool]:
    """Row predicate for the filters that no index serves."""
    checks: list[Callable[[dict], bool]] = []
    if collection == "customers" and "email" in params:
        checks.append(lambda r, e=params["email"]: r["email"] == e)
    if collection in ("products", "prices") and "active" in params:
        if params["active"] not in ("true", "false"):
            raise invalid(f"Invalid boolean: {params['active']}", param="active")
        checks.append(lambda r, a=params["active"] == "true": a)  # the catalog has no archived objects
    if collection == "products" and "ids" in params:
        checks.append(lambda r, ids=set(as_list(params, "ids")): r["id"] in ids)
    if collection == "prices":
        for name in ("currency", "product"):
            if name in params:
                checks.append(lambda r, n=name, v=params[name]: r[n] == v)
        if "type" in params:
            checks.append(lambda r, t=params["type"]: t == "recurring")
        if "lookup_keys" in params:
            checks.append(lambda r, keys=set(as_list(params, "lookup_keys")): r["lookup_key"] in keys)
    if collection == "subscriptions":
        status = params.get("status")
        if status is not None and status not in SUBSCRIPTION_STATUSES:
            raise invalid(
                f"Invalid status: must be one of {', '.join(sorted(SUBSCRIPTION_STATUSES))}", param="status"
            )
        if status is None:
            checks.append(lambda r: r["status"] != "canceled")  # Stripe's default hides canceled
        elif status == "ended":
            checks.append(lambda r: r["status"] in ("canceled", "incomplete_expired"))
        elif status != "all":
            checks.append(lambda r, s=status: r["status"] == s)
        if "price" in params:
            checks.append(lambda r, p=params["price"]: r["price"] == p)
    if collection == "invoices" and "status" in params:
        if params["status"] not in INVOICE_STATUSES:
            raise invalid(
                f"Invalid status: must be one of {', '.join(sorted(INVOICE_STATUSES))}", param="status"
            )
        checks.append(lambda r, s=params["status"]: r["status"] == s)
    if collection == "credit_notes" and "invoice" in params:
        checks.append(lambda r, i=params["invoice"]: r["invoice"] == i)
    if collection == "events":
        types = as_list(params, "types") or ([params["type"]] if "type" in params else [])
        if "type" in params and "types" in params:
            raise invalid("You cannot specify both `type` and `types`.", param="types")
        if types:
            exact = {t for t in types if "*" not in t}
            prefixes = tuple(t.split("*", 1)[0] for t in types if "*" in t)
            checks.append(lambda r: r["type"] in exact or (bool(prefixes) and r["type"].startswith(prefixes)))
    return lambda row: all(check(row) for check in checks)


def _take(
    rows: Iterator[dict], keep: Callable[[dict], bool], lower: int | None, upper: int | None, n: int
) -> list[dict]:
    out = []
    for row in rows:
        created = row["created"]
        if (lower is not None and created < lower) or (upper is not None and created > upper):
            continue
        if keep(row):
            out.append(row)
            if len(out) == n:
                break
    return out


def canonical_body(raw: bytes) -> str:
    return hashlib.sha256(b"&".join(sorted(raw.split(b"&")))).hexdigest()


class BillingApi:
    def __init__(self, vendor: BillingVendor) -> None:
        self.vendor = vendor
        self.store = vendor.store_ref
        self.render = vendor.renderer.render
        self.credit_notes = CreditNotes(vendor.writer)

    # -- plumbing --------------------------------------------------------------------------------
    def routes(self) -> list[tuple[str, Callable[[Request], Awaitable[Response]], list[str]]]:
        routes = []
        for name in COLLECTIONS:
            routes.append((f"/v1/{name}", self._stripe(self._list_handler(name)), ["GET"]))
            routes.append((f"/v1/{name}/{{id}}", self._stripe(self._retrieve_handler(name)), ["GET"]))
        routes[0] = ("/v1/customers", self._stripe(self._customers_root), ["GET", "POST"])
        routes[1] = ("/v1/customers/{id}", self._stripe(self._customer_by_id), ["GET", "POST"])
        routes += [
            ("/v1/subscription_items", self._stripe(self.list_subscription_items), ["GET"]),
            ("/v1/invoices/{id}/lines", self._stripe(self.list_invoice_lines), ["GET"]),
            ("/v1/credit_notes/{id}/lines", self._stripe(self.list_credit_note_lines), ["GET"]),
            ("/v1/invoices/{id}/pay", self._stripe(self.pay_invoice), ["POST"]),
            ("/v1/invoices/{id}/void", self._stripe(self.void_invoice), ["POST"]),
            ("/v1/credit_notes", self._stripe(self.create_credit_note), ["POST"]),
            ("/v1/credit_notes/{id}", self._stripe(self.update_credit_note), ["POST"]),
        ]
        return routes

    def _stripe(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except StripeError as exc:
                return from_exception(exc)

        return endpoint

    def table(self, name: str):
        return self.store()["billing_" + name]

    @staticmethod
    def query(request: Request) -> dict:
        return parse_params(request.url.query)

    # -- lists -----------------------------------------------------------------------------------
    def _list_handler(self, name: str):
        async def handler(request: Request) -> Response:
            return JSONResponse(self.list(name, self.query(request), request.url.path))

        return handler

    def list(self, name: str, params: dict, url: str) -> dict:
        collection = COLLECTIONS[name]
        reject_unknown(params, COMMON_LIST_PARAMS | collection.filters)
        page = page_params(params)
        keep = _matcher(name, params)
        table = self.table(name)
        lower, upper = page.created_lower, page.created_upper
        if name == "events":  # only the last 30 days of the sim clock, nothing from its future
            now = self.vendor.now()
            lower = max(lower if lower is not None else 0, now - EVENT_WINDOW)
            upper = min(upper if upper is not None else now, now)
        # Every collection that accepts `customer` (or `subscription`) has a `_by_…` index for it.
        index, index_lower, index_upper = "created", lower, upper
        for narrowing in ("customer", "subscription"):
            if narrowing in params:
                index, index_lower, index_upper = (
                    f"_by_{narrowing}",
                    f"{params[narrowing]}|",
                    f"{params[narrowing]}|~",
                )
                break

        def position(object_id: str, param: str) -> tuple:
            row = table.get(object_id)
            if row is None or index not in row:
                raise missing(collection.label, object_id, param)
            return (row[index], object_id)

        if page.ending_before:
            rows = table.scan(
                index,
                after=position(page.ending_before, "ending_before"),
                lower=index_lower,
                upper=index_upper,
            )
            found = _take(rows, keep, lower, upper, page.limit + 1)
            has_more = len(found) > page.limit
            found = found[: page.limit][::-1]
        else:
            before = position(page.starting_after, "starting_after") if page.starting_after else None
            rows = table.scan(index, before=before, lower=index_lower, upper=index_upper, descending=True)
            found = _take(rows, keep, lower, upper, page.limit + 1)
            has_more = len(found) > page.limit
            found = found[: page.limit]
        data = [self.render(name, row) for row in found]
        self.expand(data, page.expand, prefix="data.")
        return {"object": "list", "data": data, "has_more": has_more, "url": url}

    def expand(self, objects: list[dict], paths: list[str], prefix: str = "") -> None:
        for path in paths:
            attribute = path[len(prefix) :] if path.startswith(prefix) else None
            if attribute == "tiers":  # includable, not expandable: prices omit tiers unless asked
                for obj in objects:
                    if obj.get("object") == "price":
                        obj["tiers"] = self.table("prices").get(obj["id"])["tiers"]
                continue
            if attribute not in EXPANDABLE:
                raise invalid(f"This property cannot be expanded ({path}).", param="expand")
            target = EXPANDABLE[attribute]
            for obj in objects:
                value = obj.get(attribute)
                if isinstance(value, str):
                    row = self.table(target).get(value)
                    if row is not None:
                        obj[attribute] = self.render(target, row)

    # -- retrieve --------------------------------------------------------------------------------
    def _retrieve_handler(self, name: str):
        async def handler(request: Request) -> Response:
            return JSONResponse(self.retrieve(name, request.path_params["id"], self.query(request)))

        return handler

    def retrieve(self, name: str, object_id: str, params: dict) -> dict:
        reject_unknown(params, {"expand"})
        row = self.table(name).get(object_id)
        if row is None or (name == "events" and row["created"] < self.vendor.now() - EVENT_WINDOW):
            raise missing(COLLECTIONS[name].label, object_id, "id")
        obj = self.render(name, row)
        self.expand([obj], as_list(params, "expand"))
        return obj

    # -- nested lists ----------------------------------------------------------------------------
    async def list_subscription_items(self, request: Request) -> Response:
        params = self.query(request)
        reject_unknown(params, {"subscription", "limit", "starting_after", "ending_before", "expand"})
        if "subscription" not in params:
            raise invalid(
                "Missing required param: subscription.", param="subscription", code="parameter_missing"
            )
        sub = self.table("subscriptions").get(params["subscription"])
        if sub is None:
            raise missing("subscription", params["subscription"], "subscription")
        items = [self.vendor.renderer.subscription_item(sub)]
        return JSONResponse(self._static_page(items, params, "/v1/subscription_items", "subscription item"))

    async def list_invoice_lines(self, request: Request) -> Response:
        params = self.query(request)
        reject_unknown(params, {"limit", "starting_after", "ending_before", "expand"})
        invoice_id = request.path_params["id"]
        row = self.table("invoices").get(invoice_id)
        if row is None:
            raise missing("invoice", invoice_id, "invoice")
        lines = [self.vendor.renderer.line_item(row)]
        return JSONResponse(
            self._static_page(lines, params, f"/v1/invoices/{invoice_id}/lines", "invoice line item")
        )

    async def list_credit_note_lines(self, request: Request) -> Response:
        params = self.query(request)
        reject_unknown(params, {"limit", "starting_after", "ending_before", "expand"})
        credit_note_id = request.path_params["id"]
        row = self.table("credit_notes").get(credit_note_id)
        if row is None:
            raise missing("credit note", credit_note_id, "credit_note")
        lines = self.render("credit_notes", row)["lines"]["data"]
        url = f"/v1/credit_notes/{credit_note_id}/lines"
        return JSONResponse(self._static_page(lines, params, url, "credit note line item"))

    @staticmethod
    def _static_page(items: list[dict], params: dict, url: str, label: str) -> dict:
        """Paging over a short in-object list (subscription items, invoice lines), in its own order."""
        page: Page = page_params(params)
        ids = [item["id"] for item in items]
        start, end = 0, len(items)
        if page.starting_after:
            if page.starting_after not in ids:
                raise missing(label, page.starting_after, "starting_after")
            start = ids.index(page.starting_after) + 1
        if page.ending_before:
            if page.ending_before not in ids:
                raise missing(label, page.ending_before, "ending_before")
            end = ids.index(page.ending_before)
            start = max(0, end - page.limit)
        chosen = items[start:end][: page.limit]
        return {"object": "list", "data": chosen, "has_more": start + len(chosen) < end, "url": url}

    # -- writes ----------------------------------------------------------------------------------
    async def _customers_root(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.list("customers", self.query(request), request.url.path))
        return await self._idempotent(request, self._create_customer)

    async def _customer_by_id(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.retrieve("customers", request.path_params["id"], self.query(request)))
        return await self._idempotent(request, self._update_customer)

    async def _form(self, request: Request) -> tuple[bytes, dict]:
        content_type = request.headers.get("content-type", "application/x-www-form-urlencoded")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            raise invalid(
                f"Invalid request: unsupported Content-Type {content_type}. If error persists and you need "
                "assistance, please contact support@stripe.com."
            )
        raw = await request.body()
        try:
            text = raw.decode()
        except UnicodeDecodeError:
            raise invalid("Invalid request: the body is not valid UTF-8.") from None
        return raw, parse_params(text)

    async def _idempotent(
        self, request: Request, handler: Callable[[Request, dict, str | None], JSONResponse]
    ) -> Response:
        """Same key + same request replays the saved response; a different request is an error."""
        raw, params = await self._form(request)
        key = request.headers.get("idempotency-key")
        if not key:
            return handler(request, params, None)
        fingerprint = f"{request.method} {request.url.path} {canonical_body(raw)}"
        saved = self.store()[IDEMPOTENCY_TABLE].get(key)
        if saved is not None and self.vendor.now() - saved["created"] >= IDEMPOTENCY_TTL:
            saved = None  # expired: the key starts afresh
        if saved is not None:
            endpoint = f"{request.method} {request.url.path}"
            if not saved["fingerprint"].startswith(endpoint + " "):
                raise StripeError(
                    400,
                    f"Keys for idempotent requests can only be used for the same endpoint they were first used "
                    f"for ('{saved['fingerprint'].rsplit(' ', 1)[0]}'). Try using a key other than '{key}' if "
                    "you meant to execute a different request.",
                    type_="idempotency_error",
                )
            if saved["fingerprint"] != fingerprint:
                raise StripeError(
                    400,
                    f"Keys for idempotent requests can only be used with the same parameters they were first used with. "
                    f"Try using a key other than '{key}' if you meant to execute a different request.",
                    type_="idempotency_error",
                )
            replay = Response(
                saved["body"].encode(), status_code=saved["status"], media_type="application/json"
            )
            replay.headers["Idempotent-Replayed"] = "true"
            return replay
        response = handler(request, params, key)
        if response.status_code < 500:
            self.store().put(
                IDEMPOTENCY_TABLE,
                {
                    "key": key,
                    "fingerprint": fingerprint,
                    "status": response.status_code,
                    "body": bytes(response.body).decode(),
                    "created": self.vendor.now(),
                },
            )
        return response

    def _create_customer(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        fields = self._customer_fields(params)
        row = self.vendor.writer.create_customer(fields, key)
        return self._respond_object("customers", row, params)

    def _update_customer(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        customer_id = request.path_params["id"]
        old = self.table("customers").get(customer_id)
        if old is None:
            raise missing("customer", customer_id, "id")
        row = self.vendor.writer.update_customer(old, self._customer_fields(params), key)
        return self._respond_object("customers", row, params)

    def _respond_object(self, name: str, row: dict, params: dict) -> JSONResponse:
        obj = self.render(name, row)
        self.expand([obj], as_list(params, "expand"))
        return JSONResponse(obj)

    @staticmethod
    def _customer_fields(params: dict) -> dict:
        reject_unknown(params, CUSTOMER_FIELDS | {"expand"})
        fields = {k: v for k, v in params.items() if k in CUSTOMER_FIELDS}
        for name in ("description", "email", "name", "phone"):
            value = fields.get(name)
            if value is not None and not isinstance(value, str):
                raise invalid(f"Invalid string: {name}", param=name)
            if value == "":
                fields[name] = None  # Stripe unsets a field posted empty
        if fields.get("email") and "@" not in fields["email"]:
            raise invalid(f"Invalid email address: {fields['email']}", param="email", code="email_invalid")
        if "tax_exempt" in fields and fields["tax_exempt"] not in TAX_EXEMPT:
            raise invalid(f"Invalid tax_exempt: must be one of {', '.join(TAX_EXEMPT)}", param="tax_exempt")
        address = fields.get("address")
        if isinstance(address, dict):
            for part in address:
                if part not in ADDRESS_FIELDS:
                    raise invalid(
                        f"Received unknown parameter: address[{part}]",
                        param=f"address[{part}]",
                        code="parameter_unknown",
                    )
            fields["address"] = {part: address.get(part) or None for part in sorted(ADDRESS_FIELDS)}
        elif address == "":
            fields["address"] = None
        elif address is not None:
            raise invalid("Invalid hash: address", param="address")
        metadata = fields.get("metadata")
        if metadata is not None and metadata != "":
            if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
                raise invalid("Invalid hash: metadata", param="metadata")
            for k, v in metadata.items():
                if len(k) > 40:
                    raise invalid("Metadata keys can have up to 40 characters.", param=f"metadata[{k}]")
                if len(v) > 500:
                    raise invalid("Metadata values can have up to 500 characters.", param=f"metadata[{k}]")
        if "preferred_locales" in fields:
            fields["preferred_locales"] = as_list(fields, "preferred_locales")
        return fields

    async def pay_invoice(self, request: Request) -> Response:
        return await self._idempotent(request, self._pay)

    def _pay(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        reject_unknown(
            params,
            {"expand", "paid_out_of_band", "source", "payment_method", "off_session", "forgive", "mandate"},
        )
        invoice_id = request.path_params["id"]
        row = self.table("invoices").get(invoice_id)
        if row is None:
            raise missing("invoice", invoice_id, "id")
        if row["status"] != "open":
            raise invalid(
                f"Invoice is already {row['status']}"
                if row["status"] == "paid"
                else f"You can only pay an invoice that is open; this invoice is {row['status']}.",
                code="invoice_not_editable" if row["status"] != "paid" else "invoice_already_paid",
            )
        # The sandbox card always goes through when a person presses "pay"; simulated retries may fail.
        self.vendor.writer.pay(row, succeed=True, rng=random.Random(invoice_id))
        return self._respond_object("invoices", self.table("invoices").get(invoice_id), params)

    async def void_invoice(self, request: Request) -> Response:
        return await self._idempotent(request, self._void)

    def _void(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        reject_unknown(params, {"expand"})
        invoice_id = request.path_params["id"]
        row = self.table("invoices").get(invoice_id)
        if row is None:
            raise missing("invoice", invoice_id, "id")
        if row["status"] not in ("open", "uncollectible"):
            raise invalid(
                f"You can only void an open or uncollectible invoice; this invoice is {row['status']}.",
                code="invoice_not_editable",
            )
        self.vendor.writer.void(row, key)
        return self._respond_object("invoices", self.table("invoices").get(invoice_id), params)

    # -- credit notes ----------------------------------------------------------------------------
    async def create_credit_note(self, request: Request) -> Response:
        return await self._idempotent(request, self._create_credit_note)

    def _create_credit_note(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        row = self.credit_notes.create(params, key)
        return self._respond_object("credit_notes", row, params)

    async def update_credit_note(self, request: Request) -> Response:
        return await self._idempotent(request, self._update_credit_note)

    def _update_credit_note(self, request: Request, params: dict, key: str | None) -> JSONResponse:
        credit_note_id = request.path_params["id"]
        old = self.table("credit_notes").get(credit_note_id)
        if old is None:
            raise missing("credit note", credit_note_id, "id")
        row = self.credit_notes.update(old, params, key)
        return self._respond_object("credit_notes", row, params)
