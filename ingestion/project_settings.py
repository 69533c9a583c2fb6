"""Syncline's dlt settings live in the project's `.dlt/` folder, whatever the working directory.

dlt reads `.dlt/config.toml` and `.dlt/secrets.toml` from the working directory (or `DLT_PROJECT_DIR`).
`syncline`, `dagster dev` and pytest may start anywhere, so `use_project_settings()` also registers the
project's own two files as dlt config providers, after dlt's own: env vars first, then the working
directory's `.dlt/` (when it is another folder), then the project's `.dlt/secrets.toml`, then its
`.dlt/config.toml` (checked in: the local sandbox's base URLs and public demo credentials).
"""

from __future__ import annotations

from pathlib import Path

import dlt
from dlt.common.configuration.providers import CONFIG_TOML, SECRETS_TOML, SettingsTomlProvider

PROJECT_DIR = Path(__file__).resolve().parents[1]
SETTINGS_DIR = PROJECT_DIR / ".dlt"
# (provider name, file, may hold secrets), in lookup order; names differ from dlt's own providers.
PROJECT_PROVIDERS = (
    (f"syncline project {SECRETS_TOML}", SECRETS_TOML, True),
    (f"syncline project {CONFIG_TOML}", CONFIG_TOML, False),
)


def use_project_settings() -> None:
    """Make dlt read the project's `.dlt/` files (idempotent; cheap after the first call)."""
    if _same_dir(dlt.current.run_context().settings_dir, SETTINGS_DIR):
        return  # dlt's own providers already read these files
    registered = {provider.name for provider in dlt.config.config_providers}
    for name, file_name, secrets in PROJECT_PROVIDERS:
        if name not in registered:
            dlt.config.register_provider(SettingsTomlProvider(name, secrets, file_name, [str(SETTINGS_DIR)]))


def _same_dir(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False
