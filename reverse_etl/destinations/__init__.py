"""One client per vendor API, built from the same connection settings ingestion reads.

`build_destinations(...)` wires each client to its `Resilience` (rate limit, retries, breaker) with the
vendor's documented quota as the default rate (override with `SYNCLINE_<SYSTEM>_REQUESTS_PER_SECOND`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from reverse_etl.destinations.base import Destination
from reverse_etl.resilience import Resilience, ResiliencePolicy

# Documented quotas: Business Central 6,000 requests / 5 min per user; Zendesk Support 700 / min
# (Enterprise); Stripe 100 / s in live mode.
DEFAULT_REQUESTS_PER_SECOND = {"erp": 20.0, "support": 11.0, "billing": 50.0}


def connection(system: str) -> dict[str, Any]:
    from ingestion.config import source_config

    return source_config(system)


def build_destination(
    system: str,
    *,
    limiter_dir: Path,
    config: dict[str, Any] | None = None,
    on_circuit_change: Callable[[str, str], None] | None = None,
    policy: ResiliencePolicy | None = None,
    **extra: Any,
) -> Destination:
    config = config or connection(system)
    policy = policy or ResiliencePolicy.from_env(system, DEFAULT_REQUESTS_PER_SECOND[system])
    resilience = Resilience(system, policy, limiter_dir, on_circuit_change)
    if system == "erp":
        from reverse_etl.destinations.erp import ErpDestination, api_root

        root = api_root(config["base_url"], config["tenant"], config["environment"])
        return ErpDestination(
            "erp", root, _bearer(config["access_token"]), resilience, company_id=config["company_id"], **extra
        )
    if system == "support":
        from reverse_etl.destinations.support import SupportDestination

        auth = httpx.BasicAuth(f"{config['email']}/token", config["token"])
        return SupportDestination("support", config["base_url"], auth, resilience)
    if system == "billing":
        from reverse_etl.destinations.billing import BillingDestination

        return BillingDestination(
            "billing",
            config["base_url"],
            _bearer(config["api_key"]),
            resilience,
            headers={"Stripe-Version": "2023-08-16"},
        )
    raise ValueError(f"no destination client for {system!r}")


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request):
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:  # never print the token
        return "Bearer(***)"


def _bearer(token: str) -> httpx.Auth:
    return _Bearer(token)


def probe(system: str, config: dict[str, Any] | None = None, timeout_s: float = 5.0) -> bool:
    """Is the destination answering (any status below 500 within the timeout)? A cheap read, used
    before replaying its dead-lettered records."""
    config = config or connection(system)
    try:
        if system == "erp":
            from reverse_etl.destinations.erp import api_root

            root = api_root(config["base_url"], config["tenant"], config["environment"])
            response = httpx.get(f"{root}/companies", auth=_bearer(config["access_token"]), timeout=timeout_s)
        elif system == "support":
            auth = httpx.BasicAuth(f"{config['email']}/token", config["token"])
            response = httpx.get(
                f"{config['base_url'].rstrip('/')}/api/v2/organization_fields.json",
                auth=auth,
                timeout=timeout_s,
            )
        else:
            response = httpx.get(
                f"{config['base_url'].rstrip('/')}/v1/events",
                params={"limit": 1},
                auth=_bearer(config["api_key"]),
                timeout=timeout_s,
            )
    except httpx.HTTPError:
        return False
    return response.status_code < 500
