"""The CRM system: an imitation of HubSpot's CRM v3 API (companies, contacts, their associations).

Modules: `schema` (object types and properties), `generate` (world -> messy rows), `render`
(rows -> HubSpot objects), `records` (look-ups and journaled writes), `search` (filterGroups on
sorted indexes), `api` (routes), `simulation` (sales activity), `errors`, `ratelimit`.
"""

from __future__ import annotations

import random
from functools import cached_property
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from sandbox.ids import stripe_id
from sandbox.vendor import Vendor
from sandbox.vendors.crm.api import CrmApi
from sandbox.vendors.crm.errors import AUTH_MESSAGE, category_for, error_response
from sandbox.vendors.crm.generate import generate_rows
from sandbox.vendors.crm.ratelimit import RateLimitCounter
from sandbox.vendors.crm.records import Records
from sandbox.vendors.crm.render import Renderer
from sandbox.vendors.crm.schema import (
    COMPANIES,
    COMPANY_INDEXES,
    CONTACT_INDEXES,
    CONTACTS,
    OBJECT_TYPES,
    ObjectType,
)
from sandbox.vendors.crm.search import Search
from sandbox.vendors.crm.simulation import CrmSimulation

if TYPE_CHECKING:
    from sandbox.store import Store
    from sandbox.world import Contract, Customer, Invoice, World


class CrmVendor(Vendor):
    system = "crm"
    title = "HubSpot"

    def __init__(self, sandbox) -> None:
        super().__init__(sandbox)
        # Everything below reads the sandbox's current store and world through `self.sb`: a reset
        # replaces both while the served app keeps this instance.
        self.records = {
            name: Records(lambda: self.store, otype, self.clock_ms) for name, otype in OBJECT_TYPES.items()
        }
        self.renderers = {name: Renderer(otype, self.customer_of) for name, otype in OBJECT_TYPES.items()}
        self.searches = {
            name: Search(otype, self.records[name], self.renderers[name])
            for name, otype in OBJECT_TYPES.items()
        }
        self.rate_limits = RateLimitCounter()
        self.simulation = CrmSimulation(self)
        self.api = CrmApi(self)

    # -- shared helpers ----------------------------------------------------------------------------
    def clock_ms(self) -> int:
        return self.now() * 1000

    def customer_of(self, key: str | None) -> Customer | None:
        """The truth customer behind a row; None for customers born in simulation or API-created."""
        world = self.sb.world
        return world._by_key.get(key) if world is not None and key else None

    def contacts_of_company(self, company_id: int) -> list[dict]:
        return list(self.store[CONTACTS.table].scan("_company", lower=company_id, upper=company_id))

    @cached_property
    def _customer_by_billing_id(self) -> dict[str, str]:
        # Safe to keep across resets: the world is regenerated from the same seed and scale.
        return {stripe_id("cus", c.key): c.key for c in self.sb.world.customers}

    def customer_key_for(self, otype: ObjectType, properties: dict, company_id: int | None) -> str | None:
        """Truth for records a client creates: recognised from the ids it carries, when it does."""
        if otype is CONTACTS:
            company = self.records["companies"].get(company_id) if company_id is not None else None
            return company["_customer"] if company else None
        erp_number = properties.get("erp_customer_number") or ""
        if erp_number[1:].isdigit():
            key = f"C{int(erp_number[1:]):07d}"
            if self.customer_of(key) is not None:
                return key
        return self._customer_by_billing_id.get(properties.get("billing_customer_id") or "")

    # -- Vendor contract ---------------------------------------------------------------------------
    def declare_tables(self, store: Store) -> None:
        store.table(COMPANIES.table, key="id", indexes=COMPANY_INDEXES)
        store.table(CONTACTS.table, key="id", indexes=CONTACT_INDEXES)

    def generate(self, world: World, rng: random.Random) -> None:
        companies, contacts = generate_rows(world, rng)
        self.store[COMPANIES.table].bulk_load(companies)
        self.store[CONTACTS.table].bulk_load(contacts)

    def routes(self):
        return self.api.routes()

    def authenticate(self, request: Request) -> Response | None:
        expected = f"Bearer {self.credentials['access_token']}"
        if request.headers.get("authorization") == expected:
            return None
        return error_response(401, "INVALID_AUTHENTICATION", AUTH_MESSAGE)

    def error(self, status: int, code: str, message: str) -> Response:
        return error_response(status, category_for(status, code), message)

    def rate_limit_headers(self, quota: int, remaining: int, reset_s: float) -> dict[str, str]:
        window_ms = int(self.faults.config.rate_limit_window_s * 1000)
        return self.rate_limits.headers(burst_max=quota, burst_remaining=remaining, interval_ms=window_ms)

    def response_headers(self) -> dict[str, str]:
        self.rate_limits.record()
        return self.rate_limits.headers()

    def simulation_kinds(self):
        return self.simulation.kinds()

    def on_new_customer(
        self, customer: Customer, contracts: list[Contract], invoices: list[Invoice], rng: random.Random
    ) -> list[dict]:
        return self.simulation.new_customer(customer, contracts, invoices, rng)

    # -- truth ---------------------------------------------------------------------------------------
    def truth_parties(self) -> list[dict]:
        return [
            {
                "system": "crm",
                "table": otype.name,
                "source_id": str(row["id"]),
                "customer_key": row["_customer"],
            }
            for otype in (COMPANIES, CONTACTS)
            for row in self.store[otype.table].rows.values()
        ]

    def counts(self) -> dict[str, int]:
        return {
            "companies": len(self.store[COMPANIES.table]),
            "contacts": len(self.store[CONTACTS.table]),
            "contact_company_associations": len(self.store[CONTACTS.table].indexes["_company"]),
        }
