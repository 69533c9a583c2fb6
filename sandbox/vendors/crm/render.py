"""Compact internal rows -> HubSpot CRM v3 objects, at serve time.

A company row holds its id, the truth key, ms timestamps and only the properties that are messy or
were written; everything else comes from the truth customer. Every property value is a string (or
null), as HubSpot returns them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from sandbox.ids import numeric_id
from sandbox.vendors.crm.schema import INDUSTRY_CODES, ObjectType
from sandbox.world import Customer


def iso_ms(ms: int) -> str:
    """Epoch ms -> HubSpot's ISO 8601 with milliseconds, e.g. 2026-06-01T10:20:30.123Z."""
    seconds, millis = divmod(int(ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def owner_id(owner: str) -> str:
    """Truth owner handle (owner07) -> the numeric HubSpot owner id."""
    return str(numeric_id(f"owner:{owner}", digits=9))


def company_id(customer_key: str) -> int:
    return numeric_id(f"company:{customer_key}")


def contact_id(customer_key: str, index: int) -> int:
    return numeric_id(f"contact:{customer_key}:{index}")


def company_defaults(customer: Customer) -> dict[str, str | None]:
    """Properties a company record takes straight from the truth customer."""
    return {
        "phone": customer.phone,
        "address": customer.address_line1,
        "city": customer.city,
        "zip": customer.postal_code,
        "state": customer.region,
        "industry": INDUSTRY_CODES.get(customer.industry, customer.industry.upper()),
        "numberofemployees": str(customer.employees),
    }


def contact_defaults(customer: Customer, index: int) -> dict[str, str | None]:
    person = customer.contacts[index]
    return {
        "firstname": person["first_name"],
        "lastname": person["last_name"],
        "phone": person["phone"],
        "jobtitle": person["title"],
        "company": customer.brand,
    }


class Renderer:
    """Renders rows of one object type; `customer_of` resolves truth keys (None for new customers)."""

    def __init__(self, otype: ObjectType, customer_of: Callable[[str], Customer | None]) -> None:
        self.otype = otype
        self.customer_of = customer_of

    def property_value(self, row: dict, prop: str) -> str | None:
        """One property as HubSpot shows it: row value, else the value derived from the truth."""
        if prop == "hs_object_id":
            return str(row["id"])
        if prop == "createdate":
            return iso_ms(row["_created"])
        if prop == self.otype.modified_property:
            return iso_ms(row["_modified"])
        if prop in row:
            return row[prop]
        customer = self.customer_of(row["_customer"])
        if customer is None:
            return None
        if self.otype.name == "companies":
            return company_defaults(customer).get(prop)
        return contact_defaults(customer, row["_contact"]).get(prop) if "_contact" in row else None

    def properties(self, row: dict, names: Iterable[str]) -> dict[str, str | None]:
        return {name: self.property_value(row, name) for name in names if self.otype.is_known(name)}

    def render(
        self, row: dict, names: Iterable[str], associations: dict[str, list[dict]] | None = None
    ) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": str(row["id"]),
            "properties": self.properties(row, names),
            "createdAt": iso_ms(row["_created"]),
            "updatedAt": iso_ms(row["_modified"]),
            "archived": False,
        }
        if associations:
            obj["associations"] = {
                kind: {"results": results} for kind, results in associations.items() if results
            }
            if not obj["associations"]:
                del obj["associations"]
        return obj
