"""Connection settings of each vendor system (base URL, credentials, tenant fields), from dlt config.

`source_config(system)` is the one place every layer asks: the ingestion sources, and the reverse
ETL's destination clients. Lookup order (first wins), dlt's usual names:
1. env vars: `SOURCES__BILLING__BASE_URL=https://api.stripe.com`, `SOURCES__BILLING__API_KEY=sk_live_...`;
2. `.dlt/secrets.toml` (gitignored): `[sources.billing]` `api_key = "sk_live_..."`;
3. `.dlt/config.toml` (checked in): the local sandbox's base URLs and public demo credentials.
The project's `.dlt/` is found whatever the working directory (`ingestion/project_settings.py`).
"""

from __future__ import annotations

from typing import Any

import dlt

from ingestion.errors import SettingMissingError
from ingestion.project_settings import use_project_settings

SYSTEMS = ("billing", "support", "crm", "erp")

# What authenticates each system, and (ERP) which tenant / environment / company it addresses.
CREDENTIAL_KEYS: dict[str, tuple[str, ...]] = {
    "billing": ("api_key",),
    "support": ("email", "token"),
    "crm": ("access_token",),
    "erp": ("access_token",),
}
TENANT_KEYS: dict[str, tuple[str, ...]] = {"erp": ("tenant", "environment", "company_id")}
SECRET_KEYS = frozenset({"api_key", "token", "access_token"})


def setting_path(system: str, key: str) -> str:
    """The dlt config key, e.g. `sources.billing.api_key`."""
    return f"sources.{system}.{key}"


def setting_env_var(system: str, key: str) -> str:
    """The env var dlt reads for it, e.g. `SOURCES__BILLING__API_KEY`."""
    return setting_path(system, key).upper().replace(".", "__")


def describe_setting(system: str, key: str) -> str:
    """How to set it: `SOURCES__BILLING__API_KEY` (env) or `sources.billing.api_key` (.dlt/secrets.toml)."""
    where = ".dlt/secrets.toml" if key in SECRET_KEYS else ".dlt/config.toml"
    return f"{setting_env_var(system, key)} (env) or {setting_path(system, key)} ({where})"


def credential_settings(system: str) -> list[str]:
    """`describe_setting` for each credential of the system: what to fix when the vendor says 401/403."""
    return [describe_setting(system, key) for key in CREDENTIAL_KEYS[system]]


def source_config(system: str) -> dict[str, Any]:
    """Keyword arguments for `<system>_source(...)`: `base_url`, the credentials, the tenant fields (ERP)
    and, when configured, `page_size`. Raises `SettingMissingError` naming a setting nobody provides."""
    if system not in CREDENTIAL_KEYS:
        raise ValueError(f"unknown source {system!r}; known: {', '.join(SYSTEMS)}")
    use_project_settings()
    config: dict[str, Any] = {}
    for key in ("base_url", *CREDENTIAL_KEYS[system], *TENANT_KEYS.get(system, ())):
        # dlt.config looks through every provider, secret ones included, in the order above.
        value = dlt.config.get(setting_path(system, key), str)
        if not value:
            raise SettingMissingError(setting_path(system, key), describe_setting(system, key))
        config[key] = value
    page_size = dlt.config.get(setting_path(system, "page_size"), int)
    if page_size:
        config["page_size"] = page_size
    return config
