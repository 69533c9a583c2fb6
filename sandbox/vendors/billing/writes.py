"""Journaled state changes of the billing system, each emitting the Stripe events it causes.

Used by the API (customer create/update, invoice pay) and by the simulation (plan changes, renewals,
cancellations, payments, sign-ups). Rows are never mutated in place: each change copies the row,
edits the copy and writes it through `store.put`, so events that share the old dict stay true.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from sandbox.ids import stripe_id
from sandbox.store import Store
from sandbox.world import PLAN_RANK, PLANS

from .catalog import price_id
from .events import INVOICE_DRAFT, INVOICE_FINALIZED, event_row, live_event_id
from .render import Renderer
from .rows import FAILURES, FINALIZE_DELAY, by_customer, charge_row, period_step, sibling_id

TABLE_PREFIX = "billing_"


class BillingWriter:
    def __init__(self, store: Callable[[], Store], renderer: Renderer, now: Callable[[], int]) -> None:
        self._store = store  # a getter: the sandbox replaces its store on reset
        self.renderer = renderer
        self.now = now

    @property
    def store(self) -> Store:
        return self._store()

    def table(self, name: str):
        return self.store[TABLE_PREFIX + name]

    def put(self, table: str, row: dict) -> dict:
        return self.store.put(TABLE_PREFIX + table, row)

    def emit(
        self,
        event_type: str,
        table: str,
        row: dict,
        *,
        previous: dict | None = None,
        overrides: dict | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        seq = self.store.next_seq("billing_event")
        event = event_row(
            live_event_id(seq),
            event_type,
            self.now(),
            table,
            dict(row),
            overrides=overrides,
            previous=previous,
            idempotency_key=idempotency_key,
        )
        self.put("events", event)
        return event

    @staticmethod
    def change(kind: str, table: str, row: dict) -> dict:
        return {"system": "billing", "table": table, "id": row["id"], "kind": kind}

    # -- customers -------------------------------------------------------------------------------
    def create_customer(self, fields: dict, idempotency_key: str | None) -> dict:
        now = self.now()
        seq = self.store.next_seq("billing_api_customer")
        row = {
            "id": stripe_id("cus", f"api:{seq}"),
            "created": now,
            "name": fields.get("name"),
            "email": fields.get("email"),
            "phone": fields.get("phone"),
            "description": fields.get("description"),
            "address": fields.get("address"),
            "metadata": {k: v for k, v in (fields.get("metadata") or {}).items() if v != ""},
            "tax_exempt": fields.get("tax_exempt", "none"),
            "currency": None,
            "preferred_locales": fields.get("preferred_locales", []),
            "invoice_prefix": f"API{seq:06d}",
            "next_invoice_sequence": 1,
            "_customer": None,  # created through the API: no real-world party behind it
            "_country": (fields.get("address") or {}).get("country"),
            "_updated": now,
        }
        self.put("customers", row)
        self.emit("customer.created", "customers", row, idempotency_key=idempotency_key)
        return row

    def update_customer(self, old: dict, fields: dict, idempotency_key: str | None) -> dict:
        row = dict(old)
        previous: dict = {}
        for name, value in fields.items():
            if name == "metadata":
                merged = {} if value == "" else dict(old["metadata"])
                if isinstance(value, dict):
                    for key, v in value.items():
                        if v == "":
                            merged.pop(key, None)
                        else:
                            merged[key] = v
                if merged != old["metadata"]:
                    previous["metadata"] = {
                        k: old["metadata"].get(k)
                        for k in set(merged) | set(old["metadata"])
                        if merged.get(k) != old["metadata"].get(k)
                    }
                row["metadata"] = merged
            elif old.get(name) != value:
                previous[name] = old.get(name)
                row[name] = value
        if not previous:
            return old  # Stripe sends no event for a no-op update
        row["_updated"] = self.now()
        self.put("customers", row)
        self.emit("customer.updated", "customers", row, previous=previous, idempotency_key=idempotency_key)
        return row

    # -- subscriptions ---------------------------------------------------------------------------
    def change_plan(self, old: dict, new_plan: str, rng: random.Random, kind: str) -> list[dict]:
        """Move the subscription to `new_plan` now, as `proration_behavior=always_invoice` does.

        An upgrade invoices the prorated difference at once (created, finalized and charged in the
        same second). A downgrade invoices nothing: Stripe would leave a credit proration for the
        next cycle's invoice, which this imitation does not carry (renewals bill the full new price).
        """
        now = self.now()
        row = dict(old)
        row["price"] = price_id(new_plan, old["interval"], old["currency"])
        row["_plan"] = new_plan
        row["_updated"] = now
        previous: dict = {
            "items": {
                "object": "list",
                "data": [self.renderer.subscription_item(old)],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={old['id']}",
            }
        }
        invoice = None
        unit = self._prorated_unit(old, row["price"])
        if unit > 0:  # an upgrade: a downgrade's difference is negative
            customer = self.table("customers").get(old["customer"])
            invoice = self._subscription_invoice(
                row,
                customer,
                billing_reason="subscription_update",
                period=(now, old["current_period_end"]),
                unit=unit,
                finalized_at=now,
                prorated_from=old["price"],
            )
            previous["latest_invoice"] = old["latest_invoice"]
        self.put("subscriptions", row)
        self.emit("customer.subscription.updated", "subscriptions", row, previous=previous)
        changes = [self.change(kind, "subscriptions", row)]
        if invoice is not None:
            changes += [self.change(kind, "invoices", invoice), *self._issue(invoice, rng)]
        return changes

    def _prorated_unit(self, sub: dict, new_price: str) -> int:
        """Per seat: the price difference for the rest of the current period, in whole minor units
        (rounded down, so unit x seats is the line amount). 0 when there is nothing to charge: a
        trial (its period costs nothing), or a period that is already over."""
        if sub["status"] not in ("active", "past_due"):
            return 0
        start, end = sub["current_period_start"], sub["current_period_end"]
        remaining = end - self.now()
        if remaining <= 0 or end <= start:
            return 0
        prices = self.table("prices")
        difference = prices.get(new_price)["_unit"] - prices.get(sub["price"])["_unit"]
        return difference * min(remaining, end - start) // (end - start)

    def cancel(self, old: dict, at_period_end: bool, reason: str = "cancellation_requested") -> dict:
        now = self.now()
        row = dict(old, canceled_at=now, cancellation_reason=reason, _updated=now)
        details_before = {"comment": None, "feedback": None, "reason": old["cancellation_reason"]}
        if at_period_end:
            row.update(cancel_at_period_end=True, cancel_at=old["current_period_end"])
            self.put("subscriptions", row)
            self.emit(
                "customer.subscription.updated",
                "subscriptions",
                row,
                previous={
                    "cancel_at": old["cancel_at"],
                    "cancel_at_period_end": False,
                    "canceled_at": old["canceled_at"],
                    "cancellation_details": details_before,
                },
            )
        else:
            row.update(status="canceled", ended_at=now, cancel_at_period_end=False, cancel_at=None)
            self.put("subscriptions", row)
            self.emit("customer.subscription.deleted", "subscriptions", row)
        return row

    def set_status(self, old: dict, status: str) -> dict:
        row = dict(old, status=status, _updated=self.now())
        self.put("subscriptions", row)
        self.emit("customer.subscription.updated", "subscriptions", row, previous={"status": old["status"]})
        return row

    def renew(self, old: dict, customer: dict, rng: random.Random) -> list[dict]:
        """Close the period: roll it forward, invoice it and charge the card (or end the trial)."""
        now = self.now()
        step = period_step(old["interval"])
        start = old["current_period_end"]
        sub = dict(old, current_period_start=start, current_period_end=start + step, _updated=now)
        previous = {
            "current_period_start": old["current_period_start"],
            "current_period_end": old["current_period_end"],
            "latest_invoice": old["latest_invoice"],
        }
        if old["status"] == "trialing":
            sub["status"], previous["status"] = "active", "trialing"
        invoice = self._subscription_invoice(
            sub,
            customer,
            billing_reason="subscription_cycle",
            period=(start, start + step),
            unit=self.table("prices").get(old["price"])["_unit"],
            finalized_at=now + FINALIZE_DELAY,
        )
        self.put("subscriptions", sub)
        self.emit("customer.subscription.updated", "subscriptions", sub, previous=previous)
        changes = [self.change("renewal", "subscriptions", sub), self.change("renewal", "invoices", invoice)]
        return changes + self._issue(invoice, rng)

    def _subscription_invoice(
        self,
        sub: dict,
        customer: dict,
        *,
        billing_reason: str,
        period: tuple[int, int],
        unit: int,
        finalized_at: int,
        prorated_from: str | None = None,
    ) -> dict:
        """Store the open invoice of `unit` x seats of the subscription's price for `period`: less
        the subscription's discount, plus the customer's tax, numbered from the customer's sequence.

        `sub` is the caller's new (not yet stored) subscription dict: it gets latest_invoice and the
        invoice counter here, and the caller stores it. `prorated_from` (the price replaced) makes
        the one line a proration.
        """
        now = self.now()
        seq = sub["_invoice_seq"] + 1
        key = f"I{sub['_key'][1:]}-{seq}"
        subtotal = unit * sub["quantity"]
        discount = subtotal * sub["discount_pct"] // 100
        rate = self.renderer.tax_rate(customer.get("_country"))
        tax = round((subtotal - discount) * rate)
        number_seq = customer["next_invoice_sequence"]
        invoice = {
            "id": stripe_id("in", key),
            "created": now,
            "customer": sub["customer"],
            "subscription": sub["id"],
            "subscription_item": sub["item_id"],
            "line_id": sibling_id("il", stripe_id("in", key)),
            "number": f"{customer['invoice_prefix']}-{number_seq:04d}",
            "billing_reason": billing_reason,
            "currency": sub["currency"],
            "period_start": period[0],
            "period_end": period[1],
            "price": sub["price"],
            "quantity": sub["quantity"],
            "unit_amount": unit,
            "subtotal": subtotal,
            "discount": discount,
            "discount_pct": sub["discount_pct"],
            "tax": tax,
            "tax_country": customer.get("_country") if tax else None,
            "total": subtotal - discount + tax,
            "status": "open",
            "amount_paid": 0,
            "attempt_count": 0,
            "charge": None,
            "finalized_at": finalized_at,
            "paid_at": None,
            "marked_uncollectible_at": None,
            "pre_payment_credit_notes_amount": 0,
            "post_payment_credit_notes_amount": 0,
            "_customer": sub["_customer"],
            "_key": key,
            "_updated": now,
            "_by_customer": by_customer(sub["customer"], now),
            "_by_subscription": by_customer(sub["id"], now),
        }
        if prorated_from is not None:
            invoice["prorated_from"] = prorated_from
        sub.update(latest_invoice=invoice["id"], _invoice_seq=seq)
        self.put("customers", dict(customer, next_invoice_sequence=number_seq + 1))
        self.put("invoices", invoice)
        return invoice

    def _issue(self, invoice: dict, rng: random.Random) -> list[dict]:
        """The stored invoice's creation and finalization events, then the automatic charge."""
        self.emit("invoice.created", "invoices", invoice, overrides=INVOICE_DRAFT)
        self.emit("invoice.finalized", "invoices", invoice, overrides=INVOICE_FINALIZED)
        return self.pay(invoice, succeed=rng.random() < 0.93, rng=rng)

    # -- payments --------------------------------------------------------------------------------
    def pay(self, old: dict, *, succeed: bool, rng: random.Random) -> list[dict]:
        """One payment attempt on an open invoice; a failure also puts the subscription past_due."""
        now = self.now()
        attempt = old["attempt_count"] + 1
        charge_id = stripe_id("ch", old["_key"]) if succeed else stripe_id("ch", f"{old['_key']}#{attempt}")
        charge = charge_row(old, charge_id, now, None if succeed else rng.choice(FAILURES))
        invoice = dict(old, attempt_count=attempt, charge=charge_id, _updated=now)
        if succeed:
            invoice.update(
                status="paid", amount_paid=old["total"] - old["pre_payment_credit_notes_amount"], paid_at=now
            )
        self.put("charges", charge)
        self.put("invoices", invoice)
        self.emit("charge.succeeded" if succeed else "charge.failed", "charges", charge)
        self.emit("invoice.paid" if succeed else "invoice.payment_failed", "invoices", invoice)
        changes = [self.change("payment", "charges", charge), self.change("payment", "invoices", invoice)]
        sub = self.table("subscriptions").get(old["subscription"])
        if sub is not None and sub["status"] in ("active", "past_due"):
            if not succeed and sub["status"] == "active":
                changes.append(self.change("payment", "subscriptions", self.set_status(sub, "past_due")))
            elif succeed and sub["status"] == "past_due" and not self.open_invoices(sub["id"]):
                changes.append(self.change("payment", "subscriptions", self.set_status(sub, "active")))
        return changes

    def void(self, old: dict, idempotency_key: str | None) -> dict:
        now = self.now()
        row = dict(old, status="void", voided_at=now, _updated=now)
        self.put("invoices", row)
        self.emit("invoice.voided", "invoices", row, idempotency_key=idempotency_key)
        return row

    def open_invoices(self, subscription_id: str) -> list[dict]:
        rows = self.table("invoices").scan(
            "_by_subscription", lower=f"{subscription_id}|", upper=f"{subscription_id}|~"
        )
        return [r for r in rows if r["status"] == "open"]


def neighbour_plan(plan: str, step: int) -> str | None:
    """The next plan up (+1) or down (-1), or None at the ends of the ladder."""
    rank = PLAN_RANK[plan] + step
    return PLANS[rank][0] if 0 <= rank < len(PLANS) else None
