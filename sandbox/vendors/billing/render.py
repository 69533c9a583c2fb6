"""Expand compact internal rows into Stripe API objects (API version 2023-08-16) at serve time.

Only the fields that vary are stored; everything else Stripe always sends (livemode, empty lists,
nulls for features this account does not use) is filled in here so objects validate against the
OpenAPI schema. Nothing starting with `_` is ever copied out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .catalog import coupon_id, tax_rates
from .rows import card_for, sibling_id

if TYPE_CHECKING:
    from sandbox.store import Store

API_VERSION = "2023-08-16"
ACCOUNT_COUNTRY = "US"
ACCOUNT_NAME = "Syncline Inc."
HOSTED = "https://invoice.stripe.com/i/acct_1SynclineSandbox"
TAX_RATES = tax_rates()


class Renderer:
    """Row -> API object for each billing table; events render their snapshot through it."""

    def __init__(self, store: Callable[[], Store], table_prefix: str) -> None:
        self.store = store  # a getter: the sandbox replaces its store on reset
        self.prefix = table_prefix
        self.by_table = {
            "customers": self.customer,
            "products": self.product,
            "prices": self.price,
            "subscriptions": self.subscription,
            "invoices": self.invoice,
            "charges": self.charge,
            "credit_notes": self.credit_note,
            "events": self.event,
        }

    @staticmethod
    def tax_rate(country: str | None) -> float:
        """The rate the account charges customers in `country` (0 where it collects no tax)."""
        return TAX_RATES[country]["percentage"] / 100 if country in TAX_RATES else 0.0

    def _row(self, table: str, key: str) -> dict | None:
        return self.store()[self.prefix + table].get(key)

    def render(self, table: str, row: dict) -> dict:
        return self.by_table[table](row)

    # -- catalog ---------------------------------------------------------------------------------
    def product(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "object": "product",
            "active": True,
            "attributes": [],
            "created": row["created"],
            "default_price": row["default_price"],
            "description": row["description"],
            "features": [],
            "images": [],
            "livemode": False,
            "metadata": row["metadata"],
            "name": row["name"],
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": row["unit_label"],
            "updated": row["updated"],
            "url": None,
        }

    def price(self, row: dict) -> dict:
        tiered = row["tiers"] is not None
        unit = row["unit_amount"]
        return {
            "id": row["id"],
            "object": "price",
            "active": True,
            "billing_scheme": "tiered" if tiered else "per_unit",
            "created": row["created"],
            "currency": row["currency"],
            "custom_unit_amount": None,
            "livemode": False,
            "lookup_key": row["lookup_key"],
            "metadata": {},
            "nickname": row["nickname"],
            "product": row["product"],
            "recurring": {
                "aggregate_usage": None,
                "interval": row["interval"],
                "interval_count": 1,
                "trial_period_days": None,
                "usage_type": "licensed",
            },
            "tax_behavior": "exclusive",
            "tiers_mode": "graduated" if tiered else None,
            "transform_quantity": None,
            "type": "recurring",
            "unit_amount": unit,
            "unit_amount_decimal": None if unit is None else str(unit),
        }

    def _price_by_id(self, price_id: str) -> dict:
        row = self._row("prices", price_id)
        rendered = self.price(row)
        if row["tiers"] is not None:
            rendered["tiers"] = row["tiers"]  # nested in items and lines, where readers need the tiers
        return rendered

    # -- customers -------------------------------------------------------------------------------
    def customer(self, row: dict) -> dict:
        return {
            "id": row["id"],
            "object": "customer",
            "address": row["address"],
            "balance": 0,
            "created": row["created"],
            "currency": row["currency"],
            "default_source": None,
            "delinquent": bool(row.get("_delinquent", False)),
            "description": row["description"],
            "discount": None,
            "email": row["email"],
            "invoice_prefix": row["invoice_prefix"],
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": row["metadata"],
            "name": row["name"],
            "next_invoice_sequence": row["next_invoice_sequence"],
            "phone": row["phone"],
            "preferred_locales": row["preferred_locales"],
            "shipping": None,
            "tax_exempt": row["tax_exempt"],
            "test_clock": None,
        }

    # -- subscriptions ---------------------------------------------------------------------------
    def _discount(
        self, percent: int, customer: str, subscription: str, start: int, discount_id: str
    ) -> dict | None:
        if not percent:
            return None
        return {
            "id": discount_id,
            "object": "discount",
            "checkout_session": None,
            "coupon": {
                "id": coupon_id(percent),
                "object": "coupon",
                "amount_off": None,
                "created": start,
                "currency": None,
                "duration": "forever",
                "duration_in_months": None,
                "livemode": False,
                "max_redemptions": None,
                "metadata": {},
                "name": f"{percent}% off",
                "percent_off": float(percent),
                "redeem_by": None,
                "times_redeemed": 1,
                "valid": True,
            },
            "customer": customer,
            "end": None,
            "invoice": None,
            "invoice_item": None,
            "promotion_code": None,
            "start": start,
            "subscription": subscription,
        }

    def subscription_item(self, row: dict, price_id: str | None = None, quantity: int | None = None) -> dict:
        return {
            "id": row["item_id"],
            "object": "subscription_item",
            "billing_thresholds": None,
            "created": row["created"],
            "metadata": {},
            "price": self._price_by_id(price_id or row["price"]),
            "quantity": row["quantity"] if quantity is None else quantity,
            "subscription": row["id"],
            "tax_rates": [],
        }

    def subscription(self, row: dict) -> dict:
        sub_id = row["id"]
        reason = row["cancellation_reason"]
        return {
            "id": sub_id,
            "object": "subscription",
            "application": None,
            "application_fee_percent": None,
            "automatic_tax": {"enabled": False},
            "billing_cycle_anchor": row["billing_cycle_anchor"],
            "billing_thresholds": None,
            "cancel_at": row["cancel_at"],
            "cancel_at_period_end": row["cancel_at_period_end"],
            "canceled_at": row["canceled_at"],
            "cancellation_details": {"comment": None, "feedback": None, "reason": reason},
            "collection_method": "charge_automatically",
            "created": row["created"],
            "currency": row["currency"],
            "current_period_end": row["current_period_end"],
            "current_period_start": row["current_period_start"],
            "customer": row["customer"],
            "days_until_due": None,
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discount": self._discount(
                row["discount_pct"], row["customer"], sub_id, row["start_date"], "di_" + sub_id[4:]
            ),
            "ended_at": row["ended_at"],
            "items": {
                "object": "list",
                "data": [self.subscription_item(row)],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/subscription_items?subscription={sub_id}",
            },
            "latest_invoice": row["latest_invoice"],
            "livemode": False,
            "metadata": {},
            "next_pending_invoice_item_invoice": None,
            "on_behalf_of": None,
            "pause_collection": None,
            "payment_settings": {
                "payment_method_options": None,
                "payment_method_types": None,
                "save_default_payment_method": "off",
            },
            "pending_invoice_item_interval": None,
            "pending_setup_intent": None,
            "pending_update": None,
            "schedule": None,
            "start_date": row["start_date"],
            "status": row["status"],
            "test_clock": None,
            "transfer_data": None,
            "trial_end": row["trial_end"],
            "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
            "trial_start": row["trial_start"],
        }

    # -- invoices --------------------------------------------------------------------------------
    def _tax_amounts(self, country: str | None, tax: int, taxable: int) -> list[dict]:
        if not country or not tax:
            return []
        return [
            {
                "amount": tax,
                "inclusive": False,
                "tax_rate": TAX_RATES[country]["id"],
                "taxability_reason": "standard_rated",
                "taxable_amount": taxable,
            }
        ]

    def line_item(self, row: dict) -> dict:
        discount_id = "di_" + row["subscription"][4:]
        taxable = row["subtotal"] - row["discount"]
        seats = f"{row['quantity']} seat{'s' if row['quantity'] != 1 else ''}"
        prorated_from = row.get("prorated_from")
        line = {
            "id": row["line_id"],
            "object": "line_item",
            "amount": row["subtotal"],
            "amount_excluding_tax": row["subtotal"],
            "currency": row["currency"],
            "description": f"{seats} × {self._product_name(row['price'])}",
            "discount_amounts": [{"amount": row["discount"], "discount": discount_id}]
            if row["discount"]
            else [],
            "discountable": True,
            "discounts": [],
            "invoice": row["id"],
            "livemode": False,
            "metadata": {},
            "period": {"end": row["period_end"], "start": row["period_start"]},
            "price": self._price_by_id(row["price"]),
            "proration": False,
            "proration_details": {"credited_items": None},
            "quantity": row["quantity"],
            "subscription": row["subscription"],
            "subscription_item": row["subscription_item"],
            "tax_amounts": self._tax_amounts(row["tax_country"], row["tax"], taxable),
            "tax_rates": [],
            "type": "subscription",
            "unit_amount_excluding_tax": str(row["unit_amount"]),
        }
        if prorated_from is not None:
            # Stripe bills a plan change as pending invoice items ("Remaining time on ..." and a
            # negative "Unused time on ..."): one net line here, the difference per seat. Worded
            # as Stripe does and within the 100 characters of an ERP line description.
            since = datetime.fromtimestamp(row["period_start"], UTC).strftime("%d %b %Y")
            line.update(
                description=f"Remaining time on {row['quantity']} × {self._product_name(row['price'])} after {since}, "
                f"less unused time on {self._product_name(prorated_from)}",
                invoice_item=sibling_id("ii", row["id"]),
                proration=True,
                type="invoiceitem",
            )
        return line

    def _product_name(self, price_id: str) -> str:
        price = self._row("prices", price_id)
        return self._row("products", price["product"])["name"]

    def invoice(self, row: dict) -> dict:
        inv_id = row["id"]
        customer = self._row("customers", row["customer"]) or {}
        status = row["status"]
        total = row["total"]
        amount_due = total - row["pre_payment_credit_notes_amount"]
        amount_paid = row["amount_paid"]
        taxable = row["subtotal"] - row["discount"]
        discount_id = "di_" + row["subscription"][4:]
        draft = status == "draft"
        return {
            "id": inv_id,
            "object": "invoice",
            "account_country": ACCOUNT_COUNTRY,
            "account_name": ACCOUNT_NAME,
            "account_tax_ids": None,
            "amount_due": amount_due,
            "amount_paid": amount_paid,
            "amount_remaining": 0 if status in ("paid", "void") else amount_due - amount_paid,
            "amount_shipping": 0,
            "application": None,
            "application_fee_amount": None,
            "attempt_count": row["attempt_count"],
            "attempted": row["attempt_count"] > 0,
            "auto_advance": status in ("draft", "open"),
            "automatic_tax": {"enabled": False, "status": None},
            "billing_reason": row["billing_reason"],
            "charge": row["charge"],
            "collection_method": "charge_automatically",
            "created": row["created"],
            "currency": row["currency"],
            "custom_fields": None,
            "customer": row["customer"],
            "customer_address": customer.get("address"),
            "customer_email": customer.get("email"),
            "customer_name": customer.get("name"),
            "customer_phone": customer.get("phone"),
            "customer_shipping": None,
            "customer_tax_exempt": customer.get("tax_exempt", "none"),
            "customer_tax_ids": [],
            "default_payment_method": None,
            "default_source": None,
            "default_tax_rates": [],
            "description": None,
            "discount": self._discount(
                row["discount_pct"], row["customer"], row["subscription"], row["period_start"], discount_id
            )
            if row["discount"]
            else None,
            "discounts": [discount_id] if row["discount"] else [],
            "due_date": None,
            "effective_at": None if draft else row["finalized_at"],
            "ending_balance": None if draft else 0,
            "footer": None,
            "from_invoice": None,
            "hosted_invoice_url": None if draft else f"{HOSTED}/{inv_id}",
            "invoice_pdf": None if draft else f"{HOSTED}/{inv_id}/pdf",
            "last_finalization_error": None,
            "latest_revision": None,
            "lines": {
                "object": "list",
                "data": [self.line_item(row)],
                "has_more": False,
                "total_count": 1,
                "url": f"/v1/invoices/{inv_id}/lines",
            },
            "livemode": False,
            "metadata": {},
            "next_payment_attempt": None,
            "number": None if draft else row["number"],
            "on_behalf_of": None,
            "paid": status == "paid",
            "paid_out_of_band": False,
            "payment_intent": None,
            "payment_settings": {
                "default_mandate": None,
                "payment_method_options": None,
                "payment_method_types": None,
            },
            "period_end": row["period_end"],
            "period_start": row["period_start"],
            "post_payment_credit_notes_amount": row["post_payment_credit_notes_amount"],
            "pre_payment_credit_notes_amount": row["pre_payment_credit_notes_amount"],
            "quote": None,
            "receipt_number": None,
            "rendering_options": None,
            "shipping_cost": None,
            "shipping_details": None,
            "starting_balance": 0,
            "statement_descriptor": None,
            "status": status,
            "status_transitions": {
                "finalized_at": None if draft else row["finalized_at"],
                "marked_uncollectible_at": row["marked_uncollectible_at"],
                "paid_at": row["paid_at"],
                "voided_at": row.get("voided_at"),
            },
            "subscription": row["subscription"],
            "subscription_details": {"metadata": {}},
            "subtotal": row["subtotal"],
            "subtotal_excluding_tax": row["subtotal"],
            "tax": row["tax"] if row["tax_country"] else None,
            "test_clock": None,
            "total": total,
            "total_discount_amounts": [{"amount": row["discount"], "discount": discount_id}]
            if row["discount"]
            else [],
            "total_excluding_tax": total - row["tax"],
            "total_tax_amounts": self._tax_amounts(row["tax_country"], row["tax"], taxable),
            "transfer_data": None,
            "webhooks_delivered_at": None if draft else row["finalized_at"],
        }

    # -- payments --------------------------------------------------------------------------------
    def charge(self, row: dict) -> dict:
        customer = self._row("customers", row["customer"]) or {}
        card = card_for(row["_customer"])
        failed = row["status"] == "failed"
        code = row["failure_code"]
        return {
            "id": row["id"],
            "object": "charge",
            "amount": row["amount"],
            "amount_captured": 0 if failed else row["amount"],
            "amount_refunded": 0,
            "application": None,
            "application_fee": None,
            "application_fee_amount": None,
            "balance_transaction": None if failed else "txn_" + row["id"][3:],
            "billing_details": {
                "address": customer.get("address"),
                "email": customer.get("email"),
                "name": customer.get("name"),
                "phone": None,
            },
            "calculated_statement_descriptor": "SYNCLINE",
            "captured": not failed,
            "created": row["created"],
            "currency": row["currency"],
            "customer": row["customer"],
            "description": "Subscription update" if row["invoice"] else None,
            "disputed": False,
            "failure_balance_transaction": None,
            "failure_code": code,
            "failure_message": row["failure_message"],
            "fraud_details": {},
            "invoice": row["invoice"],
            "livemode": False,
            "metadata": {},
            "on_behalf_of": None,
            "outcome": {
                "network_status": "declined_by_network" if failed else "approved_by_network",
                "reason": code
                if code in ("insufficient_funds", "expired_card")
                else ("generic_decline" if failed else None),
                "risk_level": "normal",
                "risk_score": 20 + len(row["id"]) % 30,
                "seller_message": "The bank did not return any further details with this decline."
                if failed
                else "Payment complete.",
                "type": "issuer_declined" if failed else "authorized",
            },
            "paid": not failed,
            "payment_intent": "pi_" + row["id"][3:],
            "payment_method": "pm_" + row["customer"][4:],
            "payment_method_details": {
                "type": "card",
                "card": {
                    "brand": card["brand"],
                    "checks": None,
                    "country": (customer.get("address") or {}).get("country"),
                    "exp_month": card["exp_month"],
                    "exp_year": card["exp_year"],
                    "fingerprint": "fp" + row["customer"][5:19],
                    "funding": "credit",
                    "installments": None,
                    "last4": card["last4"],
                    "mandate": None,
                    "network": card["brand"],
                    "three_d_secure": None,
                    "wallet": None,
                },
            },
            "receipt_email": customer.get("email"),
            "receipt_number": None,
            "receipt_url": None if failed else f"https://pay.stripe.com/receipts/{row['id']}",
            "refunded": False,
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "total_count": 0,
                "url": f"/v1/charges/{row['id']}/refunds",
            },
            "review": None,
            "shipping": None,
            "source_transfer": None,
            "statement_descriptor": None,
            "statement_descriptor_suffix": None,
            "status": row["status"],
            "transfer_data": None,
            "transfer_group": None,
        }

    def credit_note(self, row: dict) -> dict:
        cn_id = row["id"]
        lines = row.get("lines") or [self._legacy_credit_line(row)]
        rendered = [
            self._credit_line(cn_id, index, line, row["tax_country"]) for index, line in enumerate(lines)
        ]
        subtotal = sum(line["amount"] for line in lines)
        tax_amounts = [t for line in rendered for t in line["tax_amounts"]]
        return {
            "id": cn_id,
            "object": "credit_note",
            "amount": row["amount"],
            "amount_shipping": 0,
            "created": row["created"],
            "currency": row["currency"],
            "customer": row["customer"],
            "customer_balance_transaction": None,
            "discount_amount": 0,
            "discount_amounts": [],
            "effective_at": row.get("effective_at", row["created"]),
            "invoice": row["invoice"],
            "lines": {
                "object": "list",
                "data": rendered,
                "has_more": False,
                "total_count": len(rendered),
                "url": f"/v1/credit_notes/{cn_id}/lines",
            },
            "livemode": False,
            "memo": row.get("memo"),
            "metadata": row.get("metadata") or {},
            "number": row["number"],
            "out_of_band_amount": row.get("out_of_band_amount"),
            "pdf": f"https://pay.stripe.com/credit_notes/acct_1SynclineSandbox/{cn_id}/pdf",
            "reason": row["reason"],
            "refund": None,
            "shipping_cost": None,
            "status": "issued",
            "subtotal": subtotal,
            "subtotal_excluding_tax": subtotal,
            "tax_amounts": tax_amounts,
            "total": row["amount"],
            "total_excluding_tax": subtotal,
            "type": row["type"],
            "voided_at": None,
        }

    @staticmethod
    def _legacy_credit_line(row: dict) -> dict:
        """Generated credit notes store only the amount: credit the tax proportionally, as Stripe
        does for a partial credit on a taxed line."""
        amount = row["amount"]
        tax = round(amount * row["invoice_tax"] / row["invoice_total"]) if row["invoice_total"] else 0
        return {
            "type": "invoice_line_item",
            "amount": amount - tax,
            "tax": tax,
            "quantity": 1,
            "description": "Partial credit",
            "invoice_line_item": row["invoice_line"],
            "unit_amount": None,
            "tax_rate": None,
        }

    @staticmethod
    def _credit_line(cn_id: str, index: int, line: dict, tax_country: str | None) -> dict:
        amount, tax = line["amount"], line["tax"]
        rate_id = line.get("tax_rate") or (TAX_RATES[tax_country]["id"] if tax_country in TAX_RATES else None)
        tax_amounts = (
            [
                {
                    "amount": tax,
                    "inclusive": False,
                    "tax_rate": rate_id,
                    "taxability_reason": "standard_rated",
                    "taxable_amount": amount,
                }
            ]
            if tax and rate_id
            else []
        )
        custom = line["type"] == "custom_line_item"
        return {
            "id": "cnli_" + cn_id[3:] + (f"{index:02d}" if index else ""),
            "object": "credit_note_line_item",
            "amount": amount,
            "amount_excluding_tax": amount,
            "description": line.get("description"),
            "discount_amount": 0,
            "discount_amounts": [],
            **({} if custom else {"invoice_line_item": line["invoice_line_item"]}),
            "livemode": False,
            "quantity": line.get("quantity"),
            "tax_amounts": tax_amounts,
            "tax_rates": [],
            "type": line["type"],
            "unit_amount": line.get("unit_amount"),
            "unit_amount_decimal": str(line["unit_amount"]) if line.get("unit_amount") is not None else None,
            "unit_amount_excluding_tax": str(line["unit_amount"] if custom else amount),
        }

    # -- events ----------------------------------------------------------------------------------
    def event(self, row: dict) -> dict:
        snapshot = row["snapshot"]
        if row["overrides"]:
            snapshot = {**snapshot, **row["overrides"]}
        data: dict = {"object": self.render(row["object_table"], snapshot)}
        if row["previous_attributes"] is not None:
            data["previous_attributes"] = row["previous_attributes"]
        return {
            "id": row["id"],
            "object": "event",
            "api_version": API_VERSION,
            "created": row["created"],
            "data": data,
            "livemode": False,
            "pending_webhooks": 0,
            "request": {"id": row["request_id"], "idempotency_key": row["idempotency_key"]},
            "type": row["type"],
        }
