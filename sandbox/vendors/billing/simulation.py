"""Simulated billing activity: plan changes, renewals, cancellations and payments.

Each kind picks its target with the simulation's seeded rng (sampling row keys, never scanning all
rows), changes it through `BillingWriter` (journaled, with Stripe events) and reports the change.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from .writes import BillingWriter, neighbour_plan

SAMPLE_TRIES = 60  # random picks before concluding nothing qualifies


class BillingSimulation:
    def __init__(self, writer: BillingWriter) -> None:
        self.writer = writer

    def kinds(self) -> dict[str, Callable[[random.Random], list[dict]]]:
        return {
            "upgrade": lambda rng: self.change_plan(rng, +1, "upgrade"),
            "downgrade": lambda rng: self.change_plan(rng, -1, "downgrade"),
            "renewal": self.renewal,
            "cancellation": self.cancellation,
            "payment": self.payment,
        }

    def _pick(self, table: str, rng: random.Random, wanted: Callable[[dict], bool]) -> dict | None:
        rows = self.writer.table(table).rows
        if not rows:
            return None
        keys = list(rows)
        for _ in range(SAMPLE_TRIES):
            row = rows[keys[rng.randrange(len(keys))]]
            if wanted(row):
                return row
        return None

    def change_plan(self, rng: random.Random, step: int, kind: str) -> list[dict]:
        sub = self._pick(
            "subscriptions",
            rng,
            lambda r: (
                r["status"] in ("active", "trialing", "past_due")
                and not r["cancel_at_period_end"]
                and neighbour_plan(r["_plan"], step) is not None
            ),
        )
        if sub is None:
            return []
        changes = self._renew_ended_periods(sub, rng)
        sub = self.writer.table("subscriptions").get(sub["id"])
        if sub["status"] not in ("active", "trialing", "past_due"):
            return changes
        return changes + self.writer.change_plan(sub, neighbour_plan(sub["_plan"], step), rng, kind)

    def _renew_ended_periods(self, sub: dict, rng: random.Random, most: int = 36) -> list[dict]:
        """Stripe renews a subscription at its period end whether or not anyone looks; the simulation
        renews only when asked. Before changing a plan, close the periods that have ended (the clock
        may have jumped, e.g. to the wall clock), so the upgrade prorates the current period."""
        changes: list[dict] = []
        for _ in range(most):
            if (
                sub["status"] not in ("active", "trialing", "past_due")
                or sub["current_period_end"] > self.writer.now()
            ):
                break
            customer = self.writer.table("customers").get(sub["customer"])
            changes += self.writer.renew(sub, customer, rng)
            sub = self.writer.table("subscriptions").get(sub["id"])
        return changes

    def renewal(self, rng: random.Random) -> list[dict]:
        """Close the period that ended first, if any has ended by now.

        A subscription set to cancel at period end ends instead of renewing, as in Stripe.
        """
        now = self.writer.now()
        due = None
        for row in self.writer.table("subscriptions").scan("current_period_end", upper=now):
            if row["status"] in ("active", "trialing", "past_due"):
                due = row
                break
        if due is None:
            return []
        if due["cancel_at_period_end"]:
            row = self.writer.cancel(
                due, at_period_end=False, reason=due["cancellation_reason"] or "cancellation_requested"
            )
            return [self.writer.change("renewal", "subscriptions", row)]
        customer = self.writer.table("customers").get(due["customer"])
        return self.writer.renew(due, customer, rng)

    def cancellation(self, rng: random.Random) -> list[dict]:
        sub = self._pick(
            "subscriptions",
            rng,
            lambda r: r["status"] in ("active", "past_due", "trialing") and not r["cancel_at_period_end"],
        )
        if sub is None:
            return []
        at_period_end = sub["status"] == "active" and rng.random() < 0.5
        reason = "payment_failed" if sub["status"] == "past_due" else "cancellation_requested"
        row = self.writer.cancel(sub, at_period_end, reason)
        return [self.writer.change("cancellation", "subscriptions", row)]

    def payment(self, rng: random.Random) -> list[dict]:
        """Retry an open invoice: most retries succeed, some fail again."""
        open_invoices = list(self.writer.table("invoices").scan("status", lower="open", upper="open"))
        if not open_invoices:
            return []
        invoice = open_invoices[rng.randrange(len(open_invoices))]
        return self.writer.pay(invoice, succeed=rng.random() < 0.7, rng=rng)
