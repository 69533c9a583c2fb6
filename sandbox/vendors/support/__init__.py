"""Zendesk Support imitation: organizations with custom fields, users, tickets, incremental exports.

Generation lives in `generate.py`, the API in `api.py`, paging in `pagination.py`, rendering in
`render.py` and simulated activity in `simulation.py`; this class wires them into the sandbox.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import random
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from sandbox.ids import numeric_id
from sandbox.store import Store
from sandbox.vendor import JSONResponse, Vendor
from sandbox.world import SIM_NOW, Contract, Customer, Invoice, World

from .api import SupportApi
from .entitlements import correct_entitlements
from .generate import generate_support
from .render import ORGANIZATION_FIELDS
from .simulation import entitlement_fix, new_ticket, organization_for_new_customer, ticket_update
from .tables import FIELDS, INDEXES, ORGS, TICKETS, USERS

NOMINAL_RATE_LIMIT = 700  # requests per minute on a Zendesk Suite Professional plan

# Generic pipeline error codes -> Zendesk's own error names.
ERROR_NAMES = {
    "resource_missing": "InvalidEndpoint",
    "method_not_allowed": "InvalidEndpoint",
    "rate_limited": "APIRateLimitExceeded",
    "service_unavailable": "ServiceUnavailable",
    "internal_error": "InternalServerError",
    "server_error": "InternalServerError",
}


class SupportVendor(Vendor):
    system = "support"
    title = "Zendesk Support"

    def __init__(self, sandbox) -> None:
        super().__init__(sandbox)
        self.api = SupportApi(self)
        self.generated_ticket_count = 0
        self._minute, self._used_this_minute = 0, 0

    # -- data ----------------------------------------------------------------------------------
    def declare_tables(self, store: Store) -> None:
        for name, indexes in INDEXES.items():
            store.table(name, key="id", indexes=indexes)

    def generate(self, world: World, rng: random.Random) -> None:
        orgs, users, tickets = generate_support(world, rng)
        self.store[ORGS].bulk_load(orgs)
        self.store[USERS].bulk_load(users)
        self.store[TICKETS].bulk_load(tickets)
        self.generated_ticket_count = len(tickets)
        created = SIM_NOW - 900 * 86_400
        self.store[FIELDS].bulk_load(
            {
                "id": numeric_id(f"organization_field:{key}"),
                "key": key,
                "type": kind,
                "title": title,
                "description": description,
                "options": options,
                "position": position,
                "created": created,
            }
            for position, (key, kind, title, description, options) in enumerate(ORGANIZATION_FIELDS)
        )

    # -- HTTP ----------------------------------------------------------------------------------
    def routes(self):
        return self.api.routes()

    def authenticate(self, request: Request) -> Response | None:
        """Basic `{email}/token:{api_token}` or an OAuth `Bearer` token; else Zendesk's 401."""
        expected_token = self.credentials["token"]
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            if hmac.compare_digest(decoded, f"{self.credentials['email']}/token:{expected_token}"):
                return None
        elif scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), expected_token):
            return None
        response = JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)
        response.headers["WWW-Authenticate"] = 'Basic realm="Web Password"'
        return response

    def error(self, status: int, code: str, message: str) -> Response:
        if status == 401:
            return JSONResponse({"error": "Couldn't authenticate you"}, status_code=401)
        if status == 404 and code == "resource_missing":
            message = "Not found"
        return JSONResponse(
            {"error": ERROR_NAMES.get(code, code), "description": message}, status_code=status
        )

    def rate_limit_headers(self, quota: int, remaining: int, reset_s: float) -> dict[str, str]:
        return {"X-Rate-Limit": str(quota), "X-Rate-Limit-Remaining": str(remaining)}

    def response_headers(self) -> dict[str, str]:
        """Nominal per-minute budget when no rate-limit fault is injected (fault headers win)."""
        minute = int(time.time() // 60)
        if minute != self._minute:
            self._minute, self._used_this_minute = minute, 0
        self._used_this_minute += 1
        remaining = max(0, NOMINAL_RATE_LIMIT - self._used_this_minute)
        return {"X-Rate-Limit": str(NOMINAL_RATE_LIMIT), "X-Rate-Limit-Remaining": str(remaining)}

    # -- simulation ----------------------------------------------------------------------------
    def simulation_kinds(self) -> dict[str, Callable[[random.Random], list[dict]]]:
        return {
            "new_ticket": lambda rng: new_ticket(self, rng),
            "ticket_update": lambda rng: ticket_update(self, rng),
            "entitlement_fix": lambda rng: entitlement_fix(self, rng),
        }

    def on_new_customer(
        self, customer: Customer, contracts: list[Contract], invoices: list[Invoice], rng: random.Random
    ) -> list[dict]:
        return organization_for_new_customer(self, customer, contracts, rng)

    # -- truth ---------------------------------------------------------------------------------
    def truth_parties(self) -> list[dict]:
        """Organizations (duplicates included) and the end-users that belong to them."""
        parties = [
            {
                "system": "support",
                "table": "organizations",
                "source_id": str(org["id"]),
                "customer_key": org["_customer"],
            }
            for org in self.store[ORGS].rows.values()
            if org.get("_customer")
        ]
        parties.extend(
            {
                "system": "support",
                "table": "users",
                "source_id": str(user["id"]),
                "customer_key": user["_customer"],
            }
            for user in self.store[USERS].rows.values()
            if user["role"] == "end-user" and user["organization_id"] is not None and user.get("_customer")
        )
        return parties

    def counts(self) -> dict[str, int]:
        return {
            "organizations": len(self.store[ORGS]),
            "users": len(self.store[USERS]),
            "tickets": len(self.store[TICKETS]),
            "organization_fields": len(self.store[FIELDS]),
        }

    def truth_tables(self) -> dict[str, Callable[[], list[dict]]]:
        return {"entitlements": self.entitlements_truth}

    def entitlements_truth(self) -> list[dict]:
        """One row per customer organization: what it shows vs. what billing grants right now."""
        correct = correct_entitlements(self.store, self.sb.world)
        rows = []
        for org in self.store[ORGS].rows.values():
            customer = org.get("_customer")
            if customer is None:
                continue  # created through the API: no known customer to compare with
            current = org["fields"].get("support_entitlement")
            should = correct.get(customer, "none")
            rows.append(
                {
                    "organization_id": org["id"],
                    "customer_key": customer,
                    "current_entitlement": current,
                    "correct_entitlement": should,
                    "is_stale": current != should,
                }
            )
        return rows
