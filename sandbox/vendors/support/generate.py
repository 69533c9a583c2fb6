"""Render the world into Zendesk: organizations (with messy names and stale entitlements), users, tickets.

Rows are compact (epoch ints, short keys); `render.py` builds the full Zendesk objects at serve time.
Every row that stands for a real customer carries `_customer`, the truth key.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable

from sandbox.ids import numeric_id, stripe_id
from sandbox.world import DAY, PLAN_RANK, PLANS, SIM_NOW, Contract, Customer, World, entitlement_for

from .entitlements import NO_ENTITLEMENT, SLA_POLICY, entitlement_of, live_plan_in_world

STALE_SHARE = 0.10
ORG_SHARE = 0.80
DUPLICATE_SHARE = 0.03
AGENT_COUNT = 20

GROUP_IDS = [numeric_id(f"group:{name}") for name in ("tier-1", "tier-2", "billing-support")]
ORG_TAGS = ["vip", "churn-risk", "onboarding", "partner", "reference", "migration"]
AGENT_NAMES = [
    ("Ava", "Lindqvist"),
    ("Ben", "Okafor"),
    ("Chloe", "Martin"),
    ("Diego", "Ramos"),
    ("Elif", "Demir"),
    ("Finn", "Becker"),
    ("Grace", "Liu"),
    ("Hugo", "Moreau"),
    ("Isla", "Murphy"),
    ("Jonas", "Vogel"),
    ("Kira", "Tanaka"),
    ("Liam", "Walsh"),
    ("Maya", "Patel"),
    ("Noah", "Jansen"),
    ("Olga", "Ivanova"),
    ("Pablo", "Ortega"),
    ("Quinn", "Harper"),
    ("Rosa", "Costa"),
    ("Sami", "Haddad"),
    ("Tess", "Nguyen"),
]
TICKET_TOPICS = [
    (
        "question",
        "How do I export {thing}?",
        "We need to export {thing} for our quarterly review. Is there a way?",
    ),
    ("problem", "{thing} not loading", "Since this morning {thing} does not load for several of our users."),
    ("incident", "Outage: {thing} returns errors", "All requests to {thing} fail with a server error."),
    (
        "task",
        "Please update our billing contact",
        "Our finance contact changed; please update it on the account.",
    ),
    (
        "question",
        "Upgrade options for {thing}",
        "We are considering more seats. What would {thing} cost on a higher plan?",
    ),
    ("problem", "SSO login fails", "Users get redirected in a loop when signing in with SSO."),
    (
        "question",
        "Invoice copy for last month",
        "Could you send a copy of last month's invoice to accounts payable?",
    ),
]
THINGS = [
    "the dashboard",
    "reports",
    "the API",
    "user management",
    "the mobile app",
    "webhooks",
    "audit logs",
]
TICKET_FLOW = ["new", "open", "pending", "solved", "closed"]


def org_id_for(customer_key: str, duplicate: int = 0) -> int:
    return numeric_id(f"org:{customer_key}" + (f":dup{duplicate}" if duplicate else ""))


def erp_customer_number(customer_key: str) -> str:
    return f"C{int(customer_key[1:]):06d}"


def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i in range(len(name) - 1) if name[i].isalpha() and name[i + 1].isalpha()]
    if not letters:
        return name
    i = rng.choice(letters)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def name_variant(customer: Customer, rng: random.Random) -> str:
    """How an agent typed the company when the org was created: brand, legal name, casing, typo."""
    roll = rng.random()
    if roll < 0.45:
        return customer.brand
    if roll < 0.65:
        return customer.legal_name
    if roll < 0.75:
        return customer.brand.upper() if rng.random() < 0.3 else customer.brand.lower()
    if roll < 0.85:
        suffix = customer.legal_name[len(customer.brand) :].strip().replace(".", "")
        return f"{customer.brand}, {suffix}"
    if roll < 0.93:
        return _typo(customer.brand, rng)
    return f"{customer.brand} ({customer.country})"


class UniqueNames:
    """Zendesk rejects two organizations with the same name (case-insensitively): keep them distinct."""

    def __init__(self, exists: Callable[[str], bool] = lambda name_key: False) -> None:
        self.taken: set[str] = set()
        self.exists = exists  # names already in the store (for orgs created after generation)

    def claim(self, name: str, customer: Customer) -> str:
        for candidate in (name, f"{name} - {customer.city}", f"{name} ({customer.key})"):
            if candidate.casefold() not in self.taken and not self.exists(candidate.casefold()):
                self.taken.add(candidate.casefold())
                return candidate
        raise AssertionError("customer keys are unique")


def shown_entitlement(contracts: list[Contract], stale: bool) -> tuple[str | None, str]:
    """(plan, entitlement) the org shows; stale orgs show an older or lower one than billing grants."""
    live = live_plan_in_world(contracts)
    if not stale:
        return live, entitlement_of(live)
    if live is None:  # canceled, but support still shows what the last plan granted
        last = max(contracts, key=lambda c: c.start).plan if contracts else None
        return last, entitlement_of(last)
    changed = next((c for c in contracts if c.changes and c.status != "canceled"), None)
    if changed is not None and changed.plan != live:
        return changed.plan, entitlement_for(changed.plan)
    rank = PLAN_RANK[live]
    if rank == 0:
        return None, NO_ENTITLEMENT  # never filled in
    lower = PLANS[rank - 1][0]
    return lower, entitlement_for(lower)


def organization_row(
    customer: Customer,
    contracts: list[Contract],
    rng: random.Random,
    names: UniqueNames,
    *,
    created: int,
    updated: int,
    duplicate: int = 0,
) -> dict:
    stale = rng.random() < (0.5 if duplicate else STALE_SHARE)
    plan, entitlement = shown_entitlement(contracts, stale)
    roll = rng.random()
    domains = (
        []
        if roll < 0.1
        else [customer.domain]
        if roll < 0.9
        else [customer.domain, f"mail.{customer.domain}"]
    )
    external_id = stripe_id("cus", customer.key) if not duplicate and rng.random() < 0.45 else None
    live_seats = sum(c.seats for c in contracts if c.status != "canceled")
    fields = {
        "plan": plan,
        "support_entitlement": entitlement,
        "sla_policy": SLA_POLICY[entitlement],
        "erp_customer_number": erp_customer_number(customer.key) if rng.random() < 0.6 else None,
        "seats": live_seats if live_seats and rng.random() < 0.9 else None,
    }
    tags = sorted(set(rng.sample(ORG_TAGS, rng.choice([0, 0, 1, 2])) + ([plan] if plan else [])))
    name = names.claim(name_variant(customer, rng), customer)
    return {
        "id": org_id_for(customer.key, duplicate),
        "name": name,
        "name_key": name.casefold(),
        "domains": domains,
        "external_id": external_id,
        "external_key": external_id.casefold() if external_id else None,
        "details": f"{customer.address_line1}, {customer.city}" if rng.random() < 0.5 else "",
        "notes": "" if rng.random() < 0.8 else f"Account owner: {customer.owner}",
        "tags": tags,
        "group_id": rng.choice(GROUP_IDS) if rng.random() < 0.7 else None,
        "shared": rng.random() < 0.2,
        "fields": fields,
        "created": created,
        "updated": updated,
        "_customer": customer.key,
    }


def end_user_rows(
    customer: Customer, org_id: int, org_created: int, rng: random.Random, *, signed_up: int | None = None
) -> list[dict]:
    """The customer's contacts as end-users; `signed_up` stamps users created after generation."""
    users = []
    for n, contact in enumerate(customer.contacts):
        created = signed_up or min(SIM_NOW - 3600, org_created + rng.randint(0, 60) * DAY)
        users.append(
            {
                "id": numeric_id(f"user:{customer.key}:{n}"),
                "name": f"{contact['first_name']} {contact['last_name']}",
                "email": contact["email"],
                "phone": contact["phone"] if rng.random() < 0.6 else None,
                "role": "end-user",
                "organization_id": org_id,
                "created": created,
                "updated": signed_up or rng.randint(created, SIM_NOW - 3600),
                "_customer": customer.key,
            }
        )
    return users


def agent_rows(rng: random.Random) -> list[dict]:
    agents = []
    for n, (first, last) in enumerate(AGENT_NAMES[:AGENT_COUNT]):
        created = SIM_NOW - rng.randint(400, 1200) * DAY
        agents.append(
            {
                "id": numeric_id(f"agent:{n}"),
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@syncline-support.example",
                "phone": None,
                "role": "admin" if n < 2 else "agent",
                "organization_id": None,
                "created": created,
                "updated": rng.randint(created, SIM_NOW - DAY),
            }
        )
    return agents


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


# Every (topic, thing) text is built once and shared by all tickets using it: 150k tickets at scale
# 100k would otherwise each hold their own copy of the same strings.
TICKET_TEXTS = {
    (n, thing): (
        kind,
        _capitalized(subject.format(thing=thing)),
        _capitalized(description.format(thing=thing)),
    )
    for n, (kind, subject, description) in enumerate(TICKET_TOPICS)
    for thing in THINGS
}


def ticket_row(
    ticket_id: int,
    org_id: int,
    requester_id: int,
    assignee_id: int,
    created: int,
    now: int,
    rng: random.Random,
) -> dict:
    """A ticket opened at `created`; older tickets are further along the new -> closed flow."""
    kind, subject, description = TICKET_TEXTS[rng.randrange(len(TICKET_TOPICS)), rng.choice(THINGS)]
    age_days = (now - created) / DAY
    step = (
        min(len(TICKET_FLOW) - 1, int(age_days / 7) + rng.randint(0, 1))
        if age_days >= 1
        else rng.randint(0, 1)
    )
    updated = (
        created
        if step == 0
        else min(now - 60, created + rng.randint(600, max(601, int(age_days * DAY * 0.8))))
    )
    return {
        "id": ticket_id,
        "subject": subject,
        "description": description,
        "status": TICKET_FLOW[step],
        "priority": rng.choices(["low", "normal", "high", "urgent"], weights=[20, 55, 20, 5])[0],
        "type": kind,
        "requester_id": requester_id,
        "assignee_id": assignee_id if step > 0 else None,
        "organization_id": org_id,
        "created": created,
        "updated": updated,
    }


def generate_support(world: World, rng: random.Random) -> tuple[list[dict], list[dict], list[dict]]:
    """-> (organizations, users, tickets) rows; ticket ids are sequential by creation like Zendesk's."""
    contracts_by_customer: dict[str, list[Contract]] = defaultdict(list)
    for contract in world.contracts:
        contracts_by_customer[contract.customer_key].append(contract)
    names = UniqueNames()
    agents = agent_rows(rng)
    orgs: list[dict] = []
    users: list[dict] = list(agents)
    pending_tickets: list[tuple[int, int, int, int]] = []  # (created, org id, requester id, assignee id)
    for customer in world.customers:
        if rng.random() >= ORG_SHARE:
            continue
        contracts = contracts_by_customer[customer.key]
        created = min(SIM_NOW - 2 * DAY, customer.created + rng.randint(0, 30) * DAY)
        org = organization_row(
            customer, contracts, rng, names, created=created, updated=rng.randint(created, SIM_NOW - 3600)
        )
        orgs.append(org)
        if rng.random() < DUPLICATE_SHARE:
            dup_created = rng.randint(created, SIM_NOW - DAY)
            orgs.append(
                organization_row(
                    customer,
                    contracts,
                    rng,
                    names,
                    created=dup_created,
                    updated=rng.randint(dup_created, SIM_NOW - 3600),
                    duplicate=1,
                )
            )
        members = end_user_rows(customer, org["id"], created, rng)
        users.extend(members)
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            if members:
                opened = rng.randint(created, SIM_NOW - 3600)
                pending_tickets.append(
                    (opened, org["id"], rng.choice(members)["id"], rng.choice(agents)["id"])
                )
    pending_tickets.sort()
    tickets = [
        ticket_row(n, org_id, requester, assignee, opened, SIM_NOW, rng)
        for n, (opened, org_id, requester, assignee) in enumerate(pending_tickets, start=1)
    ]
    return orgs, users, tickets
