"""Support activity over simulated time: new tickets, status changes, entitlement fixes, new orgs."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from sandbox.ids import numeric_id
from sandbox.world import Contract, Customer

from .entitlements import SLA_POLICY, correct_entitlements
from .generate import AGENT_COUNT, UniqueNames, end_user_rows, org_id_for, organization_row, ticket_row
from .tables import ORGS, TICKETS, USERS

if TYPE_CHECKING:
    from . import SupportVendor

NEW_CUSTOMER_ORG_SHARE = 0.7  # the rest never get an org: drift between billing and support
PICK_ATTEMPTS = 25
NEXT_STATUS = {"new": "open", "open": "pending", "pending": "solved", "solved": "closed"}


def _random_row(vendor: SupportVendor, table: str, rng: random.Random) -> dict:
    """A uniformly random row through the id index (positional access, no full scan)."""
    index = vendor.store[table].indexes["id"]
    _value, key = index[rng.randrange(len(index))]
    return vendor.store[table].rows[key]


def _change(table: str, row_id: int) -> dict:
    return {"system": "support", "table": table, "id": row_id}


def new_ticket(vendor: SupportVendor, rng: random.Random) -> list[dict]:
    """A customer opens a ticket: requester is one of the org's end-users."""
    users = vendor.store[USERS]
    for _ in range(PICK_ATTEMPTS):
        org = _random_row(vendor, ORGS, rng)
        members = list(users.scan("organization_id", lower=org["id"], upper=org["id"]))
        if members:
            break
    else:
        return []
    now = vendor.now()
    ticket_id = vendor.store.next_seq("support_ticket", start=vendor.generated_ticket_count + 1)
    agent = numeric_id(f"agent:{rng.randrange(AGENT_COUNT)}")
    row = ticket_row(ticket_id, org["id"], rng.choice(members)["id"], agent, now, now, rng)
    row.update(status="new", assignee_id=None, created=now, updated=now)
    vendor.store.put(TICKETS, row)
    return [_change("tickets", ticket_id)]


def ticket_update(vendor: SupportVendor, rng: random.Random) -> list[dict]:
    """An agent moves an unfinished ticket one step along new -> open -> pending -> solved -> closed."""
    for _ in range(PICK_ATTEMPTS):
        ticket = _random_row(vendor, TICKETS, rng)
        if ticket["status"] in NEXT_STATUS:
            break
    else:
        return []
    status = "open" if ticket["status"] == "pending" and rng.random() < 0.2 else NEXT_STATUS[ticket["status"]]
    assignee = ticket["assignee_id"] or numeric_id(f"agent:{rng.randrange(AGENT_COUNT)}")
    vendor.store.put(TICKETS, {**ticket, "status": status, "assignee_id": assignee, "updated": vendor.now()})
    return [_change("tickets", ticket["id"])]


def entitlement_fix(vendor: SupportVendor, rng: random.Random) -> list[dict]:
    """An agent notices one stale organization and sets the entitlement billing grants."""
    correct = correct_entitlements(vendor.store, vendor.sb.world)
    index = vendor.store[ORGS].indexes["id"]
    start = rng.randrange(len(index))
    for pos in range(len(index)):
        _value, key = index[(start + pos) % len(index)]
        org = vendor.store[ORGS].rows[key]
        customer = org.get("_customer")
        if customer is None:
            continue
        should = correct.get(customer, "none")
        if org["fields"].get("support_entitlement") != should:
            fields = {**org["fields"], "support_entitlement": should, "sla_policy": SLA_POLICY[should]}
            vendor.store.put(ORGS, {**org, "fields": fields, "updated": vendor.now()})
            return [_change("organizations", org["id"])]
    return []


def organization_for_new_customer(
    vendor: SupportVendor, customer: Customer, contracts: list[Contract], rng: random.Random
) -> list[dict]:
    if rng.random() >= NEW_CUSTOMER_ORG_SHARE or vendor.store[ORGS].get(org_id_for(customer.key)):
        return []
    orgs = vendor.store[ORGS]
    names = UniqueNames(
        exists=lambda key: next(orgs.scan("name_key", lower=key, upper=key), None) is not None
    )
    now = vendor.now()
    org = organization_row(customer, contracts, rng, names, created=now, updated=now)
    vendor.store.put(ORGS, org)
    changes = [_change("organizations", org["id"])]
    for user in end_user_rows(customer, org["id"], now, rng, signed_up=now):
        vendor.store.put(USERS, user)
        changes.append(_change("users", user["id"]))
    return changes
