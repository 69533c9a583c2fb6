"""The Stripe catalog derived from world.PLANS: products, prices, tax rates and coupons.

Everything here is small (4 products, 32 prices) and fully determined by the plan list, so ids are
stable across runs and other vendors can name them (`stripe_id("price", "growth:month:usd")`).
"""

from __future__ import annotations

from functools import cache

from sandbox.ids import stripe_id
from sandbox.world import COUNTRIES, FX_TO_USD, PLANS, SIM_START, plan_price

CATALOG_CREATED = SIM_START - 800 * 86_400  # the catalog predates every customer
INTERVALS = ("month", "year")
CURRENCIES = tuple(FX_TO_USD)
# Enterprise is sold on a graduated, tiered price. Both tiers carry the list unit price so an
# invoice still equals unit price x seats (the world's truth); the tier boundary is what finance
# reports on ("seats beyond 25 are committed volume").
TIERED_PLANS = {"enterprise": 25}


@cache
def product_id(plan: str) -> str:
    return stripe_id("prod", plan)


@cache
def price_id(plan: str, interval: str, currency: str) -> str:
    return stripe_id("price", f"{plan}:{interval}:{currency}")


def tax_rate_id(country: str) -> str:
    return stripe_id("txr", country)


def coupon_id(percent: int) -> str:
    return f"SYNC{percent}OFF"


def tax_rates() -> dict[str, dict]:
    """Country -> tax rate facts for countries the world taxes (VAT / GST)."""
    rates = {}
    for code, _locale, _currency, _prefix, rate, _weight in COUNTRIES:
        if rate:
            rates[code] = {
                "id": tax_rate_id(code),
                "percentage": round(rate * 100, 2),
                "display_name": "GST" if code == "CA" else "VAT",
                "tax_type": "gst" if code == "CA" else "vat",
                "country": code,
            }
    return rates


def product_rows() -> list[dict]:
    rows = []
    for rank, (plan, name, _usd, entitlement) in enumerate(PLANS):
        created = CATALOG_CREATED + rank * 3_600
        rows.append(
            {
                "id": product_id(plan),
                "created": created,
                "updated": created,
                "name": f"Syncline {name}",
                "description": f"Syncline {name} plan, billed per seat.",
                "default_price": price_id(plan, "month", "usd"),
                "unit_label": "seat",
                "metadata": {"plan_code": plan, "support_tier": entitlement},
                "_plan": plan,
            }
        )
    return rows


def price_rows() -> list[dict]:
    rows = []
    for rank, (plan, name, _usd, _entitlement) in enumerate(PLANS):
        for i, interval in enumerate(INTERVALS):
            for j, currency in enumerate(CURRENCIES):
                unit = plan_price(plan, interval, currency)
                boundary = TIERED_PLANS.get(plan)
                tiers = (
                    [
                        {
                            "flat_amount": None,
                            "flat_amount_decimal": None,
                            "unit_amount": unit,
                            "unit_amount_decimal": str(unit),
                            "up_to": boundary,
                        },
                        {
                            "flat_amount": None,
                            "flat_amount_decimal": None,
                            "unit_amount": unit,
                            "unit_amount_decimal": str(unit),
                            "up_to": None,
                        },
                    ]
                    if boundary
                    else None
                )
                rows.append(
                    {
                        "id": price_id(plan, interval, currency),
                        "created": CATALOG_CREATED + rank * 3_600 + i * 60 + j,
                        "product": product_id(plan),
                        "currency": currency,
                        "interval": interval,
                        "unit_amount": None if tiers else unit,
                        "tiers": tiers,
                        "nickname": f"{name} {'Monthly' if interval == 'month' else 'Annual'} ({currency.upper()})",
                        "lookup_key": f"{plan}_{interval}ly_{currency}",
                        "_plan": plan,
                        "_unit": unit,
                    }
                )
    return rows
