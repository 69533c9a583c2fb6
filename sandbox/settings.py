"""Sandbox settings: ports, demo credentials and the admin token, overridable from env."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

SYSTEMS = ("billing", "support", "crm", "erp")
DEFAULT_PORTS = {"billing": 8101, "support": 8102, "crm": 8103, "erp": 8104}

# Demo credentials only: they protect nothing but the local imitation. Real deployments pass their
# own through env / dlt secrets (see README "Configuration").
DEFAULT_CREDENTIALS = {
    "billing": {"api_key": "sk_test_syncline_sandbox"},
    "support": {"email": "agent@syncline.example", "token": "zd_sandbox_token", "subdomain": "syncline"},
    "crm": {"access_token": "pat-na1-syncline-sandbox"},
    "erp": {
        "access_token": "bc_sandbox_bearer",
        "tenant": "syncline-tenant",
        "environment": "production",
        "company_id": "5d115c9c-44e3-ea11-bb43-000d3a2feca1",
    },
}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class SandboxSettings:
    seed: int = 42
    scale: int = 1000
    host: str = "127.0.0.1"
    data_dir: Path = field(default_factory=lambda: Path(_env("SYNCLINE_SANDBOX_DIR", ".syncline/sandbox")))
    ports: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_PORTS))
    admin_token: str = field(default_factory=lambda: _env("SYNCLINE_SANDBOX_ADMIN_TOKEN", "sandbox-admin"))
    credentials: dict[str, dict[str, str]] = field(
        default_factory=lambda: {k: dict(v) for k, v in DEFAULT_CREDENTIALS.items()}
    )

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        for system in SYSTEMS:
            port = os.environ.get(f"SYNCLINE_SANDBOX_{system.upper()}_PORT")
            if port:
                self.ports[system] = int(port)

    def base_url(self, system: str) -> str:
        return f"http://{self.host}:{self.ports[system]}"

    def erp_api_root(self) -> str:
        c = self.credentials["erp"]
        return f"{self.base_url('erp')}/v2.0/{c['tenant']}/{c['environment']}/api/v2.0"
