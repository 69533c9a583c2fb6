"""Stripe events: compact rows that snapshot the object as of the event.

An event row stores the internal row of its object (`snapshot`), an optional `overrides` dict for
the state the object had at that moment (an invoice is still a draft when `invoice.created` fires),
and `previous_attributes` already rendered. Generated events share the live row dict instead of
copying it (rows are never mutated in place: every write replaces the dict), which keeps a month
of history at 100k customers cheap.
"""

from __future__ import annotations

from collections.abc import Callable

from sandbox.ids import stripe_id
from sandbox.world import DAY

EVENT_WINDOW = 30 * DAY  # GET /v1/events only returns the last 30 days

# The invoice as seen by each lifecycle event before it was paid.
INVOICE_DRAFT = {
    "status": "draft",
    "amount_paid": 0,
    "paid_at": None,
    "attempt_count": 0,
    "charge": None,
    "marked_uncollectible_at": None,
}
INVOICE_FINALIZED = {
    "status": "open",
    "amount_paid": 0,
    "paid_at": None,
    "attempt_count": 0,
    "charge": None,
    "marked_uncollectible_at": None,
}
SUBSCRIPTION_AS_CREATED = {
    "canceled_at": None,
    "ended_at": None,
    "cancel_at": None,
    "cancel_at_period_end": False,
    "cancellation_reason": None,
}


def event_row(
    event_id: str,
    event_type: str,
    created: int,
    table: str,
    snapshot: dict,
    *,
    overrides: dict | None = None,
    previous: dict | None = None,
    request_id: str | None = None,
    idempotency_key: str | None = None,
) -> dict:
    return {
        "id": event_id,
        "type": event_type,
        "created": created,
        "object_table": table,
        "snapshot": snapshot,
        "overrides": overrides,
        "previous_attributes": previous,
        "request_id": request_id,
        "idempotency_key": idempotency_key,
    }


HISTORY_TYPES = [
    "customer.created",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.created",
    "invoice.finalized",
    "invoice.paid",
    "invoice.payment_failed",
    "invoice.marked_uncollectible",
    "charge.succeeded",
    "charge.failed",
    "credit_note.created",
]
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, r = divmod(n, 62)
        chars.append(_BASE62[r])
    return "".join(reversed(chars))


def history_event_id(event_type: str, object_id: str, created: int) -> str:
    """Unique per (object, type, second) without a hash: history has ~3 events per invoice, so
    hashing each id would dominate generation time at 100k customers."""
    type_code = _base62(HISTORY_TYPES.index(event_type), 2)
    return f"evt_{object_id.split('_', 1)[1][:14]}{type_code}{_base62(created, 6)}"


def live_event_id(seq: int) -> str:
    """Events share their `created` second (one change emits several; history ends at the clock's
    start) and lists order ties by id. History ids start "evt_1" (their object's id); live ones
    start "evt_2" and then the sequence, so they list after history and in the order they happened
    (subscription updated, then invoice created, finalized, paid). A hashed tail as in Stripe's."""
    return f"evt_2{_base62(seq, 6)}{stripe_id('evt', f'live:{seq}')[5:13]}"


class HistoryEvents:
    """Events for generated history that falls inside the event window before the sim clock."""

    def __init__(self, window_start: int) -> None:
        self.window_start = window_start
        self.rows: list[dict] = []

    def add(self, event_type: str, created: int, table: str, snapshot: dict, **kwargs) -> None:
        if created >= self.window_start:
            self.rows.append(
                event_row(
                    history_event_id(event_type, snapshot["id"], created),
                    event_type,
                    created,
                    table,
                    snapshot,
                    **kwargs,
                )
            )

    def customer(self, row: dict) -> None:
        self.add("customer.created", row["created"], "customers", row)

    def subscription(
        self,
        row: dict,
        plan_changes: list[tuple[int, str]],
        render_items: Callable[[dict, str], dict],
        failed_at: int | None,
    ) -> None:
        """created / plan changes / scheduled cancellation / past_due / deletion of one subscription.

        `plan_changes` is [(when, price before the change)] in time order.
        """
        created_state = dict(SUBSCRIPTION_AS_CREATED, status="trialing" if row["trial_end"] else "active")
        first_price = plan_changes[0][1] if plan_changes else row["price"]
        for when, previous_price in plan_changes:
            self.add(
                "customer.subscription.updated",
                when,
                "subscriptions",
                row,
                previous={"items": render_items(row, previous_price)},
            )
        self.add(
            "customer.subscription.created",
            row["created"],
            "subscriptions",
            row,
            overrides=dict(created_state, price=first_price),
        )
        if row["cancel_at_period_end"]:
            self.add(
                "customer.subscription.updated",
                row["canceled_at"],
                "subscriptions",
                row,
                previous={
                    "cancel_at": None,
                    "cancel_at_period_end": False,
                    "canceled_at": None,
                    "cancellation_details": {"comment": None, "feedback": None, "reason": None},
                },
            )
        if row["status"] == "past_due" and failed_at is not None:
            self.add(
                "customer.subscription.updated",
                failed_at,
                "subscriptions",
                row,
                previous={"status": "active"},
            )
        if row["status"] == "canceled" and row["ended_at"]:
            self.add("customer.subscription.deleted", row["ended_at"], "subscriptions", row)

    def invoice(self, row: dict, charges: list[dict], credit_note: dict | None) -> None:
        self.add("invoice.created", row["created"], "invoices", row, overrides=INVOICE_DRAFT)
        self.add("invoice.finalized", row["finalized_at"], "invoices", row, overrides=INVOICE_FINALIZED)
        for attempt, charge in enumerate(charges, start=1):
            if charge["status"] == "failed":
                self.add("charge.failed", charge["created"], "charges", charge)
                self.add(
                    "invoice.payment_failed",
                    charge["created"],
                    "invoices",
                    row,
                    overrides=dict(INVOICE_FINALIZED, attempt_count=attempt, charge=charge["id"]),
                )
            else:
                self.add("charge.succeeded", charge["created"], "charges", charge)
                self.add("invoice.paid", charge["created"], "invoices", row)
        if row["status"] == "uncollectible":
            self.add("invoice.marked_uncollectible", row["marked_uncollectible_at"], "invoices", row)
        if credit_note is not None:
            self.add("credit_note.created", credit_note["created"], "credit_notes", credit_note)
