"""Sales-team activity in the CRM: companies move offices and change owners; new customers appear."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from faker import Faker

from sandbox.vendors.crm.generate import new_customer_rows
from sandbox.vendors.crm.render import owner_id
from sandbox.world import COUNTRIES, OWNERS, Contract, Customer, Invoice

if TYPE_CHECKING:
    from sandbox.vendors.crm import CrmVendor

LOCALE_BY_COUNTRY = {code: locale for code, locale, *_ in COUNTRIES}


class CrmSimulation:
    def __init__(self, vendor: CrmVendor) -> None:
        self.vendor = vendor
        self._fakers: dict[str, Faker] = {}

    def kinds(self) -> dict:
        return {"crm_address_change": self.address_change, "crm_owner_change": self.owner_change}

    def _faker(self, country: str, rng: random.Random) -> Faker:
        locale = LOCALE_BY_COUNTRY.get(country, "en_US")
        if locale not in self._fakers:
            self._fakers[locale] = Faker(locale)
        fake = self._fakers[locale]
        fake.seed_instance(rng.getrandbits(32))  # same simulation seed -> same addresses
        return fake

    def _random_company(self, rng: random.Random) -> dict | None:
        index = self.vendor.records["companies"].table.indexes["id"]
        if not len(index):
            return None
        return self.vendor.records["companies"].get(index[rng.randrange(len(index))][1])

    def _change(self, row: dict) -> list[dict]:
        return [{"system": "crm", "table": "companies", "id": str(row["id"])}]

    def address_change(self, rng: random.Random) -> list[dict]:
        """The company moved: new street, city and postcode in the same country."""
        row = self._random_company(rng)
        if row is None:
            return []
        customer = self.vendor.customer_of(row["_customer"])
        fake = self._faker(customer.country if customer else "US", rng)
        records = self.vendor.records["companies"]
        records.update(
            row,
            {
                "address": fake.street_address().replace("\n", " "),
                "city": fake.city(),
                "zip": fake.postcode(),
            },
        )
        return self._change(row)

    def owner_change(self, rng: random.Random) -> list[dict]:
        """Territories were reassigned: the company gets another account owner."""
        row = self._random_company(rng)
        if row is None:
            return []
        current = row.get("hubspot_owner_id")
        candidates = [owner_id(o) for o in OWNERS if owner_id(o) != current]
        self.vendor.records["companies"].update(row, {"hubspot_owner_id": rng.choice(candidates)})
        return self._change(row)

    def new_customer(
        self, customer: Customer, contracts: list[Contract], invoices: list[Invoice], rng: random.Random
    ) -> list[dict]:
        """Sales entered the new customer's company and people (rows complete: not in the world)."""
        company, contacts = new_customer_rows(customer, contracts, rng)
        self.vendor.records["companies"].put_generated(company)
        for contact in contacts:
            self.vendor.records["contacts"].put_generated(contact)
        return [{"system": "crm", "table": "companies", "id": str(company["id"])}] + [
            {"system": "crm", "table": "contacts", "id": str(c["id"])} for c in contacts
        ]
