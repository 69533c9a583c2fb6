"""The world rendered as a sales team's HubSpot portal: mostly right, never clean.

Mess added on purpose: ~3% of customers were never entered, ~4% exist twice under another spelling,
names vary between brand and legal name (casing, "&"/"and", "Intl", typos), domains carry "www." or
are missing, countries are sometimes spelled out, the ERP number and billing id custom properties
are only filled in for some companies, and a few customers have a subsidiary record below them.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

from sandbox.ids import stripe_id
from sandbox.vendors.crm.render import company_defaults, company_id, contact_defaults, contact_id, owner_id
from sandbox.vendors.crm.schema import COUNTRY_NAMES
from sandbox.world import DAY, SIM_NOW, Contract, Customer, World

MISSING_SHARE = 0.03
DUPLICATE_SHARE = 0.04
SUBSIDIARY_SHARE = 0.015
ERP_NUMBER_SHARE = 0.5
BILLING_ID_SHARE = 0.4
UNASSOCIATED_CONTACT_SHARE = 0.02
SUBSIDIARY_COUNTRIES = {
    "US": ("CA", "Canada"),
    "GB": ("DE", "GmbH"),
    "DE": ("NL", "B.V."),
    "FR": ("ES", "S.L."),
    "NL": ("DE", "GmbH"),
    "ES": ("FR", "SAS"),
    "CA": ("US", "Inc."),
}


def erp_customer_number(customer_key: str) -> str:
    return f"C{int(customer_key[1:]):06d}"


def lifecycle_stage(contracts: list[Contract]) -> str:
    """customer while any contract is live, opportunity while only trialing, lead once churned."""
    statuses = {c.status for c in contracts}
    if statuses & {"active", "past_due"}:
        return "customer"
    if "trialing" in statuses:
        return "opportunity"
    return "lead"


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i in range(len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()]
    if not letters:
        return name
    i = rng.choice(letters)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def name_variant(customer: Customer, rng: random.Random) -> str:
    """How a sales rep typed the company name."""
    base = customer.brand if rng.random() < 0.6 else customer.legal_name
    roll = rng.random()
    if roll < 0.55:
        return base
    if roll < 0.65:
        return base.upper()
    if roll < 0.72:
        return base.lower()
    if roll < 0.82:
        return base.replace(" & ", " and ") if " & " in base else base.replace(" and ", " & ")
    if roll < 0.9:
        return f"{customer.brand} Intl" if rng.random() < 0.5 else f"{customer.brand} International"
    return _typo(base, rng)


def domain_variant(domain: str, rng: random.Random) -> str | None:
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.2:
        return f"www.{domain}"
    return domain


def country_variant(code: str, rng: random.Random) -> str:
    return COUNTRY_NAMES[code] if rng.random() < 0.35 else code


def _timestamps(created_s: int, rng: random.Random) -> tuple[int, int]:
    """(createdate, last modified) in epoch ms; modified lies between creation and the clock start."""
    created = created_s * 1000 + rng.randint(0, 2 * DAY * 1000)
    modified = created + int(rng.random() * max(0, SIM_NOW * 1000 - created))
    return created, modified


def company_row(
    customer: Customer,
    contracts: list[Contract],
    rng: random.Random,
    *,
    record_id: int | None = None,
    created_s: int | None = None,
) -> dict:
    created, modified = _timestamps(created_s if created_s is not None else customer.created, rng)
    row = {
        "id": record_id if record_id is not None else company_id(customer.key),
        "_customer": customer.key,
        "_created": created,
        "_modified": modified,
        "name": name_variant(customer, rng),
        "domain": domain_variant(customer.domain, rng),
        "country": country_variant(customer.country, rng),
        "hubspot_owner_id": owner_id(customer.owner),
        "lifecyclestage": lifecycle_stage(contracts),
    }
    if rng.random() < ERP_NUMBER_SHARE:
        row["erp_customer_number"] = erp_customer_number(customer.key)
    if customer.tax_id and customer.country not in ("US", "CA") and rng.random() < 0.45:
        row["vat_number"] = (
            customer.tax_id
            if rng.random() < 0.8
            else customer.tax_id.replace(customer.tax_id[:2], customer.tax_id[:2] + " ", 1)
        )
    if rng.random() < BILLING_ID_SHARE:
        row["billing_customer_id"] = stripe_id("cus", customer.key)
    return row


def duplicate_company_row(customer: Customer, original: dict, rng: random.Random) -> dict:
    """A second record for the same customer, entered later by another rep with less care."""
    row = {
        "id": company_id(f"{customer.key}#duplicate"),
        "_customer": customer.key,
        "_created": 0,
        "_modified": 0,
        "name": _typo(customer.brand, rng) if rng.random() < 0.4 else customer.legal_name.upper(),
        "domain": None if rng.random() < 0.5 else f"www.{customer.domain}",
        "country": COUNTRY_NAMES[customer.country]
        if original["country"] == customer.country
        else customer.country,
        "hubspot_owner_id": owner_id(f"owner{rng.randint(1, 24):02d}"),
        "lifecyclestage": "lead",
        "address": None if rng.random() < 0.5 else customer.address_line1.upper(),
    }
    row["_created"], row["_modified"] = _timestamps(customer.created + rng.randint(30, 300) * DAY, rng)
    return row


def subsidiary_company_row(customer: Customer, parent: dict, rng: random.Random) -> dict:
    """A foreign subsidiary filed below the parent record (hs_parent_company_id)."""
    country, suffix = SUBSIDIARY_COUNTRIES[customer.country]
    created, modified = _timestamps(customer.created + rng.randint(10, 200) * DAY, rng)
    return {
        "id": company_id(f"{customer.key}#subsidiary"),
        "_customer": customer.key,
        "_created": created,
        "_modified": modified,
        "name": f"{customer.brand} {suffix}",
        "domain": f"{customer.domain.rsplit('.', 1)[0]}.{country.lower()}",
        "country": country_variant(country, rng),
        "address": None,
        "city": None,
        "zip": None,
        "state": None,
        "hubspot_owner_id": parent["hubspot_owner_id"],
        "lifecyclestage": parent["lifecyclestage"],
        "hs_parent_company_id": str(parent["id"]),
    }


def contact_rows(
    customer: Customer, company: dict | None, duplicate: dict | None, rng: random.Random
) -> Iterator[dict]:
    for index, person in enumerate(customer.contacts):
        created, modified = _timestamps(customer.created + rng.randint(0, 90) * DAY, rng)
        row = {
            "id": contact_id(customer.key, index),
            "_customer": customer.key,
            "_contact": index,
            "_created": created,
            "_modified": modified,
            "email": person["email"],
        }
        # Secondary contacts of duplicated customers were often filed under the duplicate.
        target = duplicate if duplicate is not None and index > 0 and rng.random() < 0.6 else company
        if target is not None and rng.random() >= UNASSOCIATED_CONTACT_SHARE:
            row["_company"] = target["id"]
        yield row


def new_customer_rows(
    customer: Customer, contracts: list[Contract], rng: random.Random
) -> tuple[dict, list[dict]]:
    """Company and contacts for a customer born during simulation: fully materialised rows, since
    such a customer is not part of the regenerated world after a restart (the writer stamps them)."""
    company = company_row(customer, contracts, rng)
    company.update(company_defaults(customer))
    contacts = []
    for row in contact_rows(customer, company, None, rng):
        row.update(contact_defaults(customer, row["_contact"]))
        row["_company"] = company["id"]
        contacts.append(row)
    return company, contacts


def generate_rows(world: World, rng: random.Random) -> tuple[list[dict], list[dict]]:
    contracts_by_customer: dict[str, list[Contract]] = {}
    for contract in world.contracts:
        contracts_by_customer.setdefault(contract.customer_key, []).append(contract)
    companies: list[dict] = []
    contacts: list[dict] = []
    for customer in world.customers:
        if rng.random() < MISSING_SHARE:
            continue
        company = company_row(customer, contracts_by_customer.get(customer.key, []), rng)
        companies.append(company)
        duplicate = None
        if rng.random() < DUPLICATE_SHARE:
            duplicate = duplicate_company_row(customer, company, rng)
            companies.append(duplicate)
        if rng.random() < SUBSIDIARY_SHARE:
            companies.append(subsidiary_company_row(customer, company, rng))
        contacts.extend(contact_rows(customer, company, duplicate, rng))
    return companies, contacts
