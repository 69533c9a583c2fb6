"""Which support entitlement a customer should have, from the world at generation and from billing later.

An organization shows `organization_fields.support_entitlement`; the correct value follows the best
plan among the customer's live subscriptions. Generation reads the world's contracts; the truth table
reads billing's subscription rows, so billing activity (upgrades, cancellations) makes orgs stale.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sandbox.world import PLAN_RANK, PLANS, SIM_NOW, Contract, entitlement_for, plan_at

if TYPE_CHECKING:
    from sandbox.store import Store
    from sandbox.world import World

NO_ENTITLEMENT = "none"
LIVE_STATUSES = frozenset({"active", "trialing", "past_due"})
ENTITLEMENTS = [NO_ENTITLEMENT] + [p[3] for p in PLANS]
SLA_POLICY = {
    NO_ENTITLEMENT: None,
    "standard": "Standard (48h)",
    "priority": "Priority (8h)",
    "premium": "Premium (4h)",
    "premium_24x7": "Premium 24x7 (1h)",
}
BILLING_SUBSCRIPTIONS = "billing_subscriptions"


def best_plan(plans: Iterable[str]) -> str | None:
    ranked = sorted(plans, key=PLAN_RANK.__getitem__)
    return ranked[-1] if ranked else None


def entitlement_of(plan: str | None) -> str:
    return entitlement_for(plan) if plan else NO_ENTITLEMENT


def live_plan_in_world(contracts: list[Contract], at: int = SIM_NOW) -> str | None:
    return best_plan(plan_at(c, at) for c in contracts if c.status in LIVE_STATUSES)


def correct_entitlements(store: Store, world: World) -> dict[str, str]:
    """customer key -> entitlement its live subscriptions grant (customers absent get "none").

    Read from billing's subscriptions once that table exists; until then from the world's contracts.
    One pass over the subscriptions, so the truth table stays linear at 100k customers.
    """
    plans: dict[str, list[str]] = defaultdict(list)
    if BILLING_SUBSCRIPTIONS in store.tables:
        for sub in store[BILLING_SUBSCRIPTIONS].rows.values():
            if sub.get("status") in LIVE_STATUSES and sub.get("_plan") in PLAN_RANK:
                plans[sub["_customer"]].append(sub["_plan"])
    else:
        for contract in world.contracts:
            if contract.status in LIVE_STATUSES:
                plans[contract.customer_key].append(plan_at(contract, SIM_NOW))
    return {customer: entitlement_of(best_plan(p)) for customer, p in plans.items()}
