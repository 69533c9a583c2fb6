"""Stripe imitation (API version 2023-08-16): customers, catalog, subscriptions, invoices,
charges, credit notes and events, served at `/v1/...` for the official `stripe` SDK.

Modules: `catalog` (products/prices/tax rates), `rows` + `generate` (world -> compact rows),
`events` (event rows), `render` (rows -> API objects), `params` + `errors` (Stripe's request and
error conventions), `api` (HTTP handlers), `writes` (journaled changes), `simulation` (activity).
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from sandbox.store import Store
from sandbox.vendor import Vendor
from sandbox.world import Contract, Customer, Invoice, World

from .api import IDEMPOTENCY_TABLE, BillingApi
from .catalog import price_rows, product_rows
from .errors import NO_KEY_MESSAGE, error_response, masked_key
from .events import EVENT_WINDOW, HistoryEvents
from .generate import BillingRows, generate_rows, render_customer
from .render import API_VERSION, Renderer
from .simulation import BillingSimulation
from .writes import TABLE_PREFIX, BillingWriter

# table -> sorted indexes; `_by_customer` / `_by_subscription` serve the filtered lists.
TABLES = {
    "customers": ("created",),
    "products": ("created",),
    "prices": ("created",),
    "subscriptions": ("created", "_by_customer", "current_period_end"),
    "invoices": ("created", "_by_customer", "_by_subscription", "status"),
    "charges": ("created", "_by_customer"),
    "credit_notes": ("created", "_by_customer"),
    "events": ("created",),
}


class BillingVendor(Vendor):
    system = "billing"
    title = "Stripe"

    def __init__(self, sandbox) -> None:
        super().__init__(sandbox)
        self.renderer = Renderer(self.store_ref, TABLE_PREFIX)
        self.writer = BillingWriter(self.store_ref, self.renderer, self.now)

    def store_ref(self) -> Store:
        return self.store  # the sandbox swaps its store on reset; always read it fresh

    # -- tables and generation ---------------------------------------------------------------------
    def declare_tables(self, store: Store) -> None:
        for name, indexes in TABLES.items():
            store.table(TABLE_PREFIX + name, key="id", indexes=indexes)
        store.table(IDEMPOTENCY_TABLE, key="key")

    def generate(self, world: World, rng: random.Random) -> None:
        self.store[TABLE_PREFIX + "products"].bulk_load(product_rows())
        self.store[TABLE_PREFIX + "prices"].bulk_load(price_rows())
        rows = generate_rows(world, rng, self.renderer)
        for name in ("customers", "subscriptions", "invoices", "charges", "credit_notes", "events"):
            self.store[TABLE_PREFIX + name].bulk_load(getattr(rows, name))

    # -- HTTP ------------------------------------------------------------------------------------
    def routes(self):
        return BillingApi(self).routes()

    def authenticate(self, request: Request) -> Response | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        key = ""
        if scheme.lower() == "bearer":
            key = value.strip()
        elif scheme.lower() == "basic":  # the key as the user name, empty password
            try:
                key = base64.b64decode(value.strip()).decode().split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = value.strip()
        if not key:
            return error_response(401, NO_KEY_MESSAGE, type_="invalid_request_error")
        if key != self.credentials["api_key"]:
            return error_response(
                401, f"Invalid API Key provided: {masked_key(key)}", type_="invalid_request_error"
            )
        return None

    def error(self, status: int, code: str, message: str) -> Response:
        if status == 429:
            return error_response(
                429,
                "Request rate limit exceeded. Learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.",
                type_="invalid_request_error",
                code="rate_limit",
            )
        if status >= 500:
            return error_response(status, message, type_="api_error")
        if status == 404 and code == "resource_missing" and message.startswith("Unrecognized request URL"):
            message = f"{message.rstrip('.')}. Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
            return error_response(404, message, type_="invalid_request_error")
        return error_response(status, message, type_="invalid_request_error", code=code)

    def response_headers(self) -> dict[str, str]:
        return {"Stripe-Version": API_VERSION}

    # -- simulation ------------------------------------------------------------------------------
    def simulation_kinds(self) -> dict[str, Callable[[random.Random], list[dict]]]:
        return BillingSimulation(self.writer).kinds()

    def on_new_customer(
        self, customer: Customer, contracts: list[Contract], invoices: list[Invoice], rng: random.Random
    ) -> list[dict]:
        now = self.now()
        by_contract: dict[str, list[Invoice]] = {}
        for invoice in invoices:
            by_contract.setdefault(invoice.contract_key, []).append(invoice)
        rows = BillingRows()
        events = HistoryEvents(window_start=now - EVENT_WINDOW)
        render_customer(
            customer, contracts, by_contract, rng, now, self.renderer, rows, events, allow_duplicate=False
        )
        changes = []
        for name in ("customers", "subscriptions", "invoices", "charges", "credit_notes"):
            for row in getattr(rows, name):
                self.store.put(TABLE_PREFIX + name, row)
                changes.append({"system": "billing", "table": name, "id": row["id"]})
        for event in events.rows:
            self.store.put(TABLE_PREFIX + "events", dict(event, snapshot=dict(event["snapshot"])))
        return changes

    # -- truth -----------------------------------------------------------------------------------
    def truth_parties(self) -> list[dict]:
        return [
            {
                "system": "billing",
                "table": "customers",
                "source_id": row["id"],
                "customer_key": row["_customer"],
            }
            for row in self.store[TABLE_PREFIX + "customers"].rows.values()
            if row.get("_customer")
        ]

    def counts(self) -> dict[str, int]:
        table = lambda name: self.store[TABLE_PREFIX + name]  # noqa: E731
        subscriptions = len(table("subscriptions"))
        invoices = len(table("invoices"))
        now = self.now()
        events = table("events").indexes["created"]
        visible_events = events.bisect_right((now, _AFTER_ALL)) - events.bisect_left((now - EVENT_WINDOW,))
        return {
            "customers": len(table("customers")),
            "products": len(table("products")),
            "prices": len(table("prices")),
            "subscriptions": subscriptions,
            "subscription_items": subscriptions,  # one item per subscription
            "invoices": invoices,
            "invoice_lines": invoices,  # one subscription line per invoice
            "charges": len(table("charges")),
            "credit_notes": len(table("credit_notes")),
            "events": visible_events,
        }


class _AfterAll:
    """Sorts after every id, so (ts, _AFTER_ALL) bounds all rows created at `ts`."""

    def __lt__(self, other) -> bool:
        return False

    def __gt__(self, other) -> bool:
        return True


_AFTER_ALL = _AfterAll()
