"""Render the world into Stripe rows: catalog, customers (with duplicates), subscriptions,
invoices, charges, credit notes and the last 30 days of events."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from sandbox.ids import stripe_id
from sandbox.world import SIM_NOW, Contract, Customer, Invoice, World, plan_at

from .catalog import price_id
from .events import EVENT_WINDOW, HistoryEvents
from .render import Renderer
from .rows import customer_row, invoice_rows, subscription_row

DUPLICATE_SHARE = 0.03
DUPLICATE_DELAY_DAYS = (20, 400)


@dataclass
class BillingRows:
    """Rows for one batch of customers, ready for bulk_load (generation) or store.put (sign-ups)."""

    customers: list[dict] = field(default_factory=list)
    subscriptions: list[dict] = field(default_factory=list)
    invoices: list[dict] = field(default_factory=list)
    charges: list[dict] = field(default_factory=list)
    credit_notes: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)


def items_list(renderer: Renderer, row: dict, price: str) -> dict:
    return {
        "object": "list",
        "data": [renderer.subscription_item(row, price_id=price)],
        "has_more": False,
        "total_count": 1,
        "url": f"/v1/subscription_items?subscription={row['id']}",
    }


def render_customer(
    customer: Customer,
    contracts: list[Contract],
    invoices_by_contract: dict[str, list[Invoice]],
    rng: random.Random,
    now: int,
    renderer: Renderer,
    out: BillingRows,
    events: HistoryEvents,
    *,
    allow_duplicate: bool = True,
) -> None:
    cus = customer_row(customer, rng)
    out.customers.append(cus)
    events.customer(cus)
    if allow_duplicate and rng.random() < DUPLICATE_SHARE:
        created = min(now - 1, customer.created + rng.randint(*DUPLICATE_DELAY_DAYS) * 86_400)
        dup = customer_row(customer, rng, duplicate=True, created=created)
        out.customers.append(dup)
        events.customer(dup)

    # Invoice numbers run per customer in creation order, across all its subscriptions.
    everything = sorted(
        (inv for c in contracts for inv in invoices_by_contract.get(c.key, [])),
        key=lambda i: (i.created, i.key),
    )
    first_of_contract = {
        invoices_by_contract[c.key][0].key for c in contracts if invoices_by_contract.get(c.key)
    }
    failed_at_by_contract: dict[str, int] = {}
    subscription_ids = {c.key: stripe_id("sub", c.key) for c in contracts}
    for seq, invoice in enumerate(everything, start=1):
        row, charges, credit_note = invoice_rows(
            invoice,
            cus,
            subscription_ids[invoice.contract_key],
            seq,
            invoice.key in first_of_contract,
            rng,
            now,
        )
        out.invoices.append(row)
        out.charges.extend(charges)
        if credit_note is not None:
            out.credit_notes.append(credit_note)
        events.invoice(row, charges, credit_note)
        failed = [c["created"] for c in charges if c["status"] == "failed"]
        if failed and row["status"] != "paid":
            failed_at_by_contract[invoice.contract_key] = failed[0]
    cus["next_invoice_sequence"] = len(everything) + 1

    for contract in contracts:
        invoices = invoices_by_contract.get(contract.key, [])
        sub = subscription_row(customer, contract, invoices, rng, now)
        out.subscriptions.append(sub)
        changes = [
            (when, price_id(plan_at(contract, when - 1), contract.interval, customer.currency))
            for when, _plan in contract.changes
            if when <= now
        ]
        events.subscription(
            sub, changes, lambda r, p: items_list(renderer, r, p), failed_at_by_contract.get(contract.key)
        )


def generate_rows(world: World, rng: random.Random, renderer: Renderer) -> BillingRows:
    contracts_by_customer: dict[str, list[Contract]] = defaultdict(list)
    for contract in world.contracts:
        contracts_by_customer[contract.customer_key].append(contract)
    invoices_by_contract: dict[str, list[Invoice]] = defaultdict(list)
    for invoice in world.invoices:
        invoices_by_contract[invoice.contract_key].append(invoice)
    out = BillingRows()
    events = HistoryEvents(window_start=SIM_NOW - EVENT_WINDOW)
    for customer in world.customers:
        render_customer(
            customer,
            contracts_by_customer[customer.key],
            invoices_by_contract,
            rng,
            SIM_NOW,
            renderer,
            out,
            events,
        )
    out.events = events.rows
    return out
