"""Simulated business activity: each change advances the clock and touches last-modified fields."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING, Any

from sandbox.world import _Names, fakers_for, make_contracts, make_customer, make_invoices

if TYPE_CHECKING:
    from sandbox.core import Sandbox


def new_customer(sb: Sandbox, rng: random.Random) -> list[dict]:
    """A brand-new real customer, signed up in billing and propagated like the seeded ones."""
    index = sb.settings.scale + sb.store.next_seq("new_customer")
    now = sb.now()
    customer = make_customer(index, rng, fakers_for(sb.settings.seed + index), _Names(rng), now)
    contracts = make_contracts(customer, rng, now + 1)
    for contract in contracts:
        contract.start, contract.status, contract.canceled_at, contract.changes = now, "active", None, []
    invoices = [inv for c in contracts for inv in make_invoices(customer, c, rng, now)]
    changes: list[dict] = []
    for system in ("billing", "crm", "erp", "support"):
        changes.extend(sb.vendors[system].on_new_customer(customer, contracts, invoices, rng))
    return changes


def simulate(
    sb: Sandbox,
    changes: int,
    *,
    seed: int | None = None,
    kinds: list[str] | None = None,
    at_wall_clock: bool = False,
) -> dict[str, Any]:
    """Apply `changes` random business changes. Each one advances the simulated clock 1-15 minutes,
    or, `at_wall_clock`, moves it to the wall clock (never backwards): the changes happen now, so the
    vendors' timestamps (Stripe event `created`) measure real latency downstream."""
    run = sb.store.next_seq("simulation")
    rng = random.Random(seed if seed is not None else f"{sb.settings.seed}:simulation:{run}")
    available: dict[str, Any] = {"new_customer": lambda r: new_customer(sb, r)}
    opt_in: set[str] = set()
    for vendor in sb.vendors.values():
        available.update(vendor.simulation_kinds())
        opt_in |= vendor.opt_in_simulation_kinds
    unknown = set(kinds or ()) - set(available)
    if unknown:
        raise ValueError(f"unknown simulation kinds {sorted(unknown)}; known: {sorted(available)}")
    pool = sorted(kinds or set(available) - opt_in)
    applied: list[dict] = []
    counts: dict[str, int] = {}
    for _ in range(changes):
        step = rng.randint(60, 900)  # drawn either way: a seed gives the same changes in both modes
        sb.advance(max(0, int(time.time()) - sb.now()) if at_wall_clock else step)
        kind = rng.choice(pool)
        result = available[kind](rng)
        counts[kind] = counts.get(kind, 0) + 1
        for change in result:
            change.setdefault("kind", kind)
        applied.extend(result)
    return {"run": run, "clock": sb.now(), "kinds": counts, "changes": applied}
