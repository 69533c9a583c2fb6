"""Where each source lives and how to authenticate: dlt config/secrets first, sandbox defaults last.

Point a source at a real vendor with dlt's usual names, as env vars or in `.dlt/secrets.toml`:
`SOURCES__BILLING__BASE_URL=https://api.stripe.com`, `SOURCES__BILLING__API_KEY=sk_live_...`.
"""

from __future__ import annotations

from typing import Any

import dlt

from sandbox.settings import DEFAULT_CREDENTIALS, DEFAULT_PORTS

SYSTEMS = ("billing", "support", "crm", "erp")

# (key, is secret) per source; the sandbox's demo credentials are the defaults.
SOURCE_KEYS: dict[str, list[tuple[str, bool]]] = {
    "billing": [("api_key", True)],
    "support": [("email", False), ("token", True)],
    "crm": [("access_token", True)],
    "erp": [("access_token", True), ("tenant", False), ("environment", False), ("company_id", False)],
}


def sandbox_base_url(system: str, host: str = "127.0.0.1") -> str:
    return f"http://{host}:{DEFAULT_PORTS[system]}"


def source_config(system: str) -> dict[str, Any]:
    """Keyword arguments for `<system>_source(...)`, resolved from dlt config, else the sandbox."""
    if system not in SOURCE_KEYS:
        raise ValueError(f"unknown source {system!r}; known: {', '.join(SYSTEMS)}")
    config: dict[str, Any] = {
        "base_url": dlt.config.get(f"sources.{system}.base_url", str) or sandbox_base_url(system),
    }
    page_size = dlt.config.get(f"sources.{system}.page_size", int)
    if page_size:
        config["page_size"] = page_size
    for key, secret in SOURCE_KEYS[system]:
        provider = dlt.secrets if secret else dlt.config
        config[key] = provider.get(f"sources.{system}.{key}", str) or DEFAULT_CREDENTIALS[system][key]
    return config
