"""Compact internal rows for Stripe objects, built from the world's truth.

Rows hold only what varies; `render.py` expands them into full API objects at serve time. The same
builders serve bulk generation and `on_new_customer`, so a simulated sign-up looks like a seeded one.
Keys starting with `_` are truth or index helpers and never reach a client.
"""

from __future__ import annotations

import random

from sandbox.ids import stripe_id
from sandbox.world import DAY, Contract, Customer, Invoice, plan_at

from .catalog import price_id

MONTH_STEP = 30 * DAY  # the world bills monthly plans every 30 days
YEAR_STEP = 365 * DAY
FINALIZE_DELAY = 3_600  # Stripe finalizes subscription invoices about an hour after creating them
RETRY_GAP = 3 * DAY  # Smart Retries spacing between failed attempts
UNCOLLECTIBLE_AFTER = 45 * DAY  # unpaid invoices older than this were written off
FAILURES = [
    ("card_declined", "Your card was declined."),
    ("insufficient_funds", "Your card has insufficient funds."),
    ("expired_card", "Your card has expired."),
    ("processing_error", "An error occurred while processing your card. Try again in a little bit."),
]
CARD_BRANDS = ["visa", "visa", "visa", "mastercard", "mastercard", "amex"]


def period_step(interval: str) -> int:
    return YEAR_STEP if interval == "year" else MONTH_STEP


def sibling_id(prefix: str, object_id: str) -> str:
    """Ids of objects that only exist inside another one (item of a subscription, line of an
    invoice) reuse its random part: as stable as the parent id, without hashing again."""
    return f"{prefix}_{object_id.split('_', 1)[1]}"


def by_customer(customer_id: str, created: int) -> str:
    """Sort key of the per-customer index: a string, so it survives the JSON journal unchanged."""
    return f"{customer_id}|{created:011d}"


def customer_id_for(customer: Customer, duplicate: bool = False) -> str:
    return stripe_id("cus", customer.key + "#dup" if duplicate else customer.key)


def erp_customer_no(customer: Customer) -> str:
    return f"C{int(customer.key[1:]):06d}"


# -- customers ---------------------------------------------------------------------------------
def _typo(name: str, rng: random.Random) -> str:
    letters = [i for i, ch in enumerate(name[:-1]) if ch.isalpha() and name[i + 1].isalpha()]
    if not letters:
        return name
    i = rng.choice(letters)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # swap two neighbours


def name_variant(customer: Customer, rng: random.Random) -> str:
    """How a sales rep or the customer typed the name at checkout: casing, suffix, typos."""
    roll = rng.random()
    if roll < 0.40:
        return customer.legal_name
    if roll < 0.65:
        return customer.brand  # legal suffix dropped
    if roll < 0.75:
        return customer.legal_name.upper()
    if roll < 0.85:
        return customer.brand.lower()
    if roll < 0.93:
        return customer.legal_name.replace(".", "").replace(" Inc", ", Inc")
    return _typo(customer.legal_name, rng)


def _primary_email(customer: Customer) -> str | None:
    primary = next((c for c in customer.contacts if c.get("primary")), None)
    return primary["email"] if primary else None


def customer_row(
    customer: Customer, rng: random.Random, *, duplicate: bool = False, created: int | None = None
) -> dict:
    number = int(customer.key[1:])
    metadata: dict[str, str] = {}
    if not duplicate and rng.random() < 0.6:
        metadata["erp_customer_no"] = erp_customer_no(customer)
    if customer.tax_id and customer.country not in ("US", "CA") and rng.random() < 0.4:
        metadata["vat_id"] = customer.tax_id
    email = _primary_email(customer)
    if duplicate:
        # The classic duplicate: someone in accounts signed up again with another address.
        email = rng.choice(
            [f"billing@{customer.domain}", f"accounts@{customer.domain}", f"finance@{customer.domain}"]
        )
        name = _typo(customer.brand, rng) if rng.random() < 0.5 else customer.brand.upper()
    else:
        name = name_variant(customer, rng)
        if email and rng.random() < 0.05:
            email = f"billing@{customer.domain}"
    address = None
    if rng.random() > 0.05:
        address = {
            "city": customer.city,
            "country": customer.country,
            "line1": customer.address_line1,
            "line2": None,
            "postal_code": customer.postal_code,
            "state": customer.region,
        }
    tax_exempt = "exempt" if customer.country == "US" and rng.random() < 0.2 else "none"
    created = customer.created if created is None else created
    return {
        "id": customer_id_for(customer, duplicate),
        "created": created,
        "name": name,
        "email": email,
        "phone": customer.phone if rng.random() < 0.7 else None,
        "description": None,
        "address": address,
        "metadata": metadata,
        "tax_exempt": tax_exempt,
        "currency": customer.currency,
        "preferred_locales": [],
        "invoice_prefix": f"SYN{number:06d}{'D' if duplicate else ''}",
        "next_invoice_sequence": 1,
        "_customer": customer.key,
        "_country": customer.country,
        "_updated": created,
    }


# -- subscriptions -----------------------------------------------------------------------------
def subscription_row(
    customer: Customer, contract: Contract, invoices: list[Invoice], rng: random.Random, now: int
) -> dict:
    """The subscription as it stands at `now`, with its one item."""
    step = period_step(contract.interval)
    ended = contract.status == "canceled"
    reference = contract.canceled_at if ended and contract.canceled_at else now
    periods = max(0, (reference - contract.start) // step)
    period_start = contract.start + periods * step
    period_end = period_start + step
    trial_start = trial_end = None
    anchor = contract.start
    if contract.status == "trialing":
        trial_start, trial_end = contract.start, contract.trial_end
        period_start, period_end, anchor = contract.start, contract.trial_end, contract.trial_end
    plan = plan_at(contract, reference)
    canceled_at = contract.canceled_at if ended else None
    cancel_at = None
    cancel_at_period_end = False
    cancellation_reason = None
    if ended:
        cancellation_reason = "payment_failed" if rng.random() < 0.2 else "cancellation_requested"
    elif contract.status == "active" and rng.random() < 0.04:
        # Cancellation scheduled for the period end: still active (and still entitled) until then.
        cancel_at_period_end, cancel_at = True, period_end
        canceled_at = max(period_start, now - rng.randint(1, 20) * DAY)
        cancellation_reason = "cancellation_requested"
    updated = max([contract.start, canceled_at or 0] + [when for when, _ in contract.changes if when <= now])
    customer_id = customer_id_for(customer)
    sub_id = stripe_id("sub", contract.key)
    return {
        "id": sub_id,
        "created": contract.start,
        "customer": customer_id,
        "status": contract.status,
        "price": price_id(plan, contract.interval, customer.currency),
        "quantity": contract.seats,
        "interval": contract.interval,
        "currency": customer.currency,
        "start_date": contract.start,
        "billing_cycle_anchor": anchor,
        "current_period_start": period_start,
        "current_period_end": period_end,
        "trial_start": trial_start,
        "trial_end": trial_end,
        "canceled_at": canceled_at,
        "cancel_at": cancel_at,
        "cancel_at_period_end": cancel_at_period_end,
        "ended_at": contract.canceled_at if ended else None,
        "cancellation_reason": cancellation_reason,
        "discount_pct": contract.discount_pct,
        "latest_invoice": stripe_id("in", invoices[-1].key) if invoices else None,
        "item_id": sibling_id("si", sub_id),
        "_customer": customer.key,
        "_key": contract.key,
        "_plan": plan,
        "_invoice_seq": len(invoices),
        "_updated": updated,
        "_by_customer": by_customer(customer_id, contract.start),
    }


# -- invoices, charges, credit notes -----------------------------------------------------------
def card_for(customer_key: str) -> dict:
    """A stable card per customer: same brand and last4 on every charge."""
    rng = random.Random(f"card:{customer_key}")
    return {
        "brand": rng.choice(CARD_BRANDS),
        "last4": f"{rng.randint(0, 9999):04d}",
        "exp_month": rng.randint(1, 12),
        "exp_year": 2027 + rng.randint(0, 4),
    }


def charge_row(invoice_row: dict, charge_id: str, created: int, failure: tuple[str, str] | None) -> dict:
    return {
        "id": charge_id,
        "created": created,
        "customer": invoice_row["customer"],
        "invoice": invoice_row["id"],
        "amount": invoice_row["total"],
        "currency": invoice_row["currency"],
        "status": "failed" if failure else "succeeded",
        "failure_code": failure[0] if failure else None,
        "failure_message": failure[1] if failure else None,
        "_customer": invoice_row["_customer"],
        "_updated": created,
        "_by_customer": by_customer(invoice_row["customer"], created),
    }


def credit_note_row(invoice: Invoice, invoice_row: dict, created: int, rng: random.Random) -> dict:
    return {
        "id": stripe_id("cn", invoice.key),
        "created": created,
        "customer": invoice_row["customer"],
        "invoice": invoice_row["id"],
        "number": f"{invoice_row['number']}-CN-01",
        "amount": invoice.credit_note_amount,
        "currency": invoice.currency,
        "type": "post_payment" if invoice_row["status"] == "paid" else "pre_payment",
        "reason": rng.choice(["product_unsatisfactory", "order_change", "duplicate"]),
        "invoice_total": invoice.total,
        "invoice_tax": invoice.tax,
        "invoice_line": invoice_row["line_id"],
        "tax_country": invoice_row["tax_country"],
        "_customer": invoice.customer_key,
        "_key": invoice.key,
        "_updated": created,
        "_by_customer": by_customer(invoice_row["customer"], created),
    }


def invoice_rows(
    invoice: Invoice,
    customer_row_: dict,
    subscription_id: str,
    number_seq: int,
    first_of_contract: bool,
    rng: random.Random,
    now: int,
) -> tuple[dict, list[dict], dict | None]:
    """-> (invoice row, charge rows oldest first, credit note row or None)."""
    customer_id = customer_row_["id"]
    invoice_id = stripe_id("in", invoice.key)
    finalized_at = invoice.created + FINALIZE_DELAY
    interval = "year" if invoice.period_end - invoice.period_start > MONTH_STEP else "month"
    row = {
        "id": invoice_id,
        "created": invoice.created,
        "customer": customer_id,
        "subscription": subscription_id,
        "subscription_item": sibling_id("si", subscription_id),
        "line_id": sibling_id("il", invoice_id),
        "number": f"{customer_row_['invoice_prefix']}-{number_seq:04d}",
        "billing_reason": "subscription_create" if first_of_contract else "subscription_cycle",
        "currency": invoice.currency,
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "price": price_id(invoice.plan, interval, invoice.currency),
        "quantity": invoice.seats,
        "unit_amount": invoice.unit_amount,
        "subtotal": invoice.subtotal,
        "discount": invoice.discount,
        "discount_pct": round(100 * invoice.discount / invoice.subtotal) if invoice.subtotal else 0,
        "tax": invoice.tax,
        "tax_country": customer_row_["_country"] if invoice.tax else None,
        "total": invoice.total,
        "status": "open",
        "amount_paid": 0,
        "attempt_count": 0,
        "charge": None,
        "finalized_at": finalized_at,
        "paid_at": None,
        "marked_uncollectible_at": None,
        "pre_payment_credit_notes_amount": 0,
        "post_payment_credit_notes_amount": 0,
        "_customer": invoice.customer_key,
        "_key": invoice.key,
        "_updated": finalized_at,
        "_by_customer": by_customer(customer_id, invoice.created),
        "_by_subscription": by_customer(subscription_id, invoice.created),
    }
    charges: list[dict] = []
    if invoice.total > 0:
        failed_attempts = (1 + (rng.random() < 0.5)) if invoice.payment_failed else 0
        for attempt in range(1, failed_attempts + 1):
            failure = rng.choice(FAILURES)
            charges.append(
                charge_row(
                    row,
                    stripe_id("ch", f"{invoice.key}#{attempt}"),
                    finalized_at + (attempt - 1) * RETRY_GAP,
                    failure,
                )
            )
        if invoice.paid:
            paid_at = finalized_at + failed_attempts * RETRY_GAP + rng.randint(1, 30)
            charges.append(charge_row(row, stripe_id("ch", invoice.key), paid_at, None))
        row["attempt_count"] = len(charges)
        row["charge"] = charges[-1]["id"] if charges else None
    if invoice.paid:
        row["status"], row["amount_paid"] = "paid", invoice.total
        row["paid_at"] = charges[-1]["created"] if charges else finalized_at
        row["_updated"] = row["paid_at"]
    elif now - invoice.created > UNCOLLECTIBLE_AFTER:
        row["status"] = "uncollectible"
        row["marked_uncollectible_at"] = row["_updated"] = invoice.created + UNCOLLECTIBLE_AFTER
    credit_note = None
    if invoice.credit_note_amount:
        issued = min(now, (row["paid_at"] or finalized_at) + rng.randint(1, 20) * DAY)
        credit_note = credit_note_row(invoice, row, issued, rng)
        field = (
            "post_payment_credit_notes_amount"
            if credit_note["type"] == "post_payment"
            else "pre_payment_credit_notes_amount"
        )
        row[field] = invoice.credit_note_amount
    return row, charges, credit_note
