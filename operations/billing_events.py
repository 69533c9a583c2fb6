"""The billing event feed (Stripe `/v1/events`) read forward from a cursor, and the customers it touches.

Stripe lists newest first; `ending_before=<id>` returns the page of events just newer than `<id>`. The
feed walks forward page by page (each page's newest id becomes the next cursor) and hands the events
back oldest first, so a consumer that stores the newest id it processed never skips or repeats one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

# The journeys billing events start: subscription change, invoice posting, credit processing,
# customer onboarding (and the entitlement update they cause in support).
RELEVANT_PREFIXES = ("customer.", "invoice.", "credit_note.", "customer.subscription.", "charge.")
PAGE_LIMIT = 100


@dataclass
class EventBatch:
    events: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    cursor: str | None = None  # newest event id seen (the next cursor)

    @property
    def ids(self) -> list[str]:
        return [e["id"] for e in self.events]

    def refs(self) -> list[dict[str, Any]]:
        """What the event path keeps of each event: id, type, vendor timestamp, customer."""
        return [
            {
                "id": e["id"],
                "type": e.get("type", ""),
                "created": int(e["created"]),
                "customer": customer_of(e),
            }
            for e in self.events
        ]

    def customers(self) -> list[str]:
        """Billing customer ids touched by the relevant events, in order of first appearance."""
        seen: dict[str, None] = {}
        for event in self.events:
            customer = customer_of(event)
            if customer and event.get("type", "").startswith(RELEVANT_PREFIXES):
                seen.setdefault(customer, None)
        return list(seen)


def customer_of(event: dict[str, Any]) -> str | None:
    obj = (event.get("data") or {}).get("object") or {}
    if obj.get("object") == "customer":
        return obj.get("id")
    customer = obj.get("customer")
    if isinstance(customer, dict):  # expanded
        return customer.get("id")
    return customer


def billing_client(connection: dict[str, Any], correlation_id: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {connection['api_key']}", "Stripe-Version": "2023-08-16"}
    if correlation_id:
        headers["X-Correlation-Id"] = correlation_id
    return httpx.Client(base_url=connection["base_url"].rstrip("/"), headers=headers, timeout=30)


def newest_event_id(client: httpx.Client) -> str | None:
    response = client.get("/v1/events", params={"limit": 1})
    response.raise_for_status()
    data = response.json()["data"]
    return data[0]["id"] if data else None


def events_after(client: httpx.Client, cursor: str, *, max_events: int = 10_000) -> EventBatch:
    """Every event newer than `cursor`, oldest first (at most `max_events`, the rest next time)."""
    batch = EventBatch(cursor=cursor)
    pages: list[list[dict]] = []
    position = cursor
    while sum(len(p) for p in pages) < max_events:
        response = client.get("/v1/events", params={"limit": PAGE_LIMIT, "ending_before": position})
        response.raise_for_status()
        body = response.json()
        page = body["data"]  # newest first, adjacent to `position`
        if not page:
            break
        pages.append(page)
        position = page[0]["id"]
        if not body.get("has_more"):
            break
    for page in pages:
        batch.events.extend(reversed(page))
    # pages were fetched moving forward in time: page k+1 is newer than page k
    if batch.events:
        batch.cursor = batch.events[-1]["id"]
    return batch


def golden_ids_for(warehouse: Any, billing_customer_ids: Iterable[str]) -> dict[str, str]:
    """billing customer id -> golden customer id, from the published crosswalk."""
    ids = sorted(set(billing_customer_ids))
    if not ids:
        return {}
    listed = ", ".join("'" + i.replace("'", "''") + "'" for i in ids)
    sql = (
        "select source_id, golden_customer_id from marts.customer_crosswalk "
        f"where source_system = 'billing' and source_id in ({listed})"
    )
    from reverse_etl.outbound import read_published

    frame, _ = read_published(warehouse, sql, model="marts.customer_crosswalk")
    return dict(zip(frame["source_id"], frame["golden_customer_id"], strict=True))
