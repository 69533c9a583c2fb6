"""A small client for the sandbox admin API, used by the CLI, the tests and the benchmarks."""

from __future__ import annotations

from typing import Any

import httpx

from sandbox.admin import ADMIN_HEADER
from sandbox.settings import SandboxSettings


class SandboxAdmin:
    def __init__(self, settings: SandboxSettings | None = None, timeout: float = 300.0) -> None:
        self.settings = settings or SandboxSettings()
        self.http = httpx.Client(headers={ADMIN_HEADER: self.settings.admin_token}, timeout=timeout)

    def _url(self, system: str, path: str) -> str:
        return f"{self.settings.base_url(system)}/_admin/{path}"

    def _call(self, method: str, system: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, self._url(system, path), **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(
                f"sandbox admin {method} {path} on {system}: {response.status_code} {response.text}"
            )
        return response.json()

    def health(self, system: str = "billing") -> dict:
        return self._call("GET", system, "health")

    def credentials(self) -> dict:
        return self._call("GET", "billing", "credentials")

    def reset(self) -> dict:
        return self._call("POST", "billing", "reset")

    def simulate(
        self,
        changes: int,
        *,
        seed: int | None = None,
        kinds: list[str] | None = None,
        at_wall_clock: bool = False,
    ) -> dict:
        body: dict[str, Any] = {"changes": changes}
        if at_wall_clock:
            body["at_wall_clock"] = True
        if seed is not None:
            body["seed"] = seed
        if kinds:
            body["kinds"] = kinds
        return self._call("POST", "billing", "simulate", json=body)

    def set_faults(self, system: str, **config: Any) -> dict:
        return self._call("POST", system, "faults", json=config)

    def clear_faults(self, system: str | None = None) -> None:
        for name in [system] if system else ["billing", "support", "crm", "erp"]:
            self._call("DELETE", name, "faults")

    def faults(self, system: str) -> dict:
        return self._call("GET", system, "faults")

    def truth(self, name: str) -> Any:
        return self._call("GET", "billing", f"truth/{name}")

    def requests(self, system: str | None = None, since: int = 0) -> list[dict]:
        params: dict[str, Any] = {"since": since}
        if system:
            params["system"] = system
        return self._call("GET", "billing", "requests", params=params)["requests"]

    def advance_clock(self, seconds: int) -> int:
        return self._call("POST", "billing", "clock", json={"seconds": seconds})["clock"]
