"""Reverse-ETL fixtures: a sandbox of its own (the syncs write into it), a DuckDB warehouse built from
it once per session (ingestion + `syncline transform`), and per test a reset sandbox and an empty ops
store, so every test starts from the seed's state and a sync that has never run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from reverse_etl.engine import SyncResult
from reverse_etl.runner import replay_dlq, run_syncs
from reverse_etl.state import OpsStore
from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from sandbox.settings import SYSTEMS, SandboxSettings
from tests.conftest import make_settings
from tests.ingestion.conftest import Runner, sandbox_source_config
from tests.transform.conftest import postgres_built  # noqa: F401 (the PostgreSQL build, shared)
from warehouse import Warehouse

DESTINATIONS = ("erp", "support", "billing")


@pytest.fixture(autouse=True)
def _fast_resilience(monkeypatch: pytest.MonkeyPatch) -> None:
    # Short backoffs and a generous local quota: the tests are about outcomes, not waiting.
    for system in DESTINATIONS:
        prefix = f"SYNCLINE_{system.upper()}_"
        monkeypatch.setenv(prefix + "REQUESTS_PER_SECOND", "1000")
        monkeypatch.setenv(prefix + "BACKOFF_INITIAL_S", "0.02")
        monkeypatch.setenv(prefix + "MAX_ATTEMPTS", "6")
        monkeypatch.setenv(prefix + "BREAKER_FAIL_MAX", "8")
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")


@pytest.fixture(scope="session")
def retl_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxProcess]:
    with SandboxProcess(make_settings(tmp_path_factory.mktemp("retl_sandbox")), fresh=True) as proc:
        yield proc


@dataclass
class Built:
    settings: SandboxSettings
    warehouse: Warehouse
    connections: dict[str, dict[str, Any]]


@pytest.fixture(scope="session")
def retl_built(retl_sandbox: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> Built:
    """The seed's data ingested and transformed once; the syncs read its published read-only copy."""
    from transform.build import transform

    work = tmp_path_factory.mktemp("retl_warehouse")
    warehouse = Warehouse(kind="duckdb", duckdb_path=work / "warehouse.duckdb")
    runner = Runner(retl_sandbox.settings, warehouse, work / "dlt")
    for system in SYSTEMS:
        runner(system)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SYNCLINE_DBT_TARGET_PATH", str(work / "target"))
        transform(warehouse, full_refresh=True)
    connections = {s: sandbox_source_config(retl_sandbox.settings, s) for s in SYSTEMS}
    return Built(retl_sandbox.settings, warehouse, connections)


class Retl:
    """One test's view: the reset sandbox, its admin API, an empty ops store, and read-back clients."""

    def __init__(self, built: Built, ops_dsn: str) -> None:
        self.built = built
        self.warehouse = built.warehouse
        self.connections = built.connections
        self.admin = SandboxAdmin(built.settings)
        self.ops_dsn = ops_dsn
        erp = built.connections["erp"]
        self.erp = httpx.Client(
            base_url=f"{built.settings.erp_api_root()}/companies({erp['company_id']})",
            headers={"Authorization": f"Bearer {erp['access_token']}"},
            timeout=60,
        )
        support = built.connections["support"]
        self.support = httpx.Client(
            base_url=support["base_url"], auth=(f"{support['email']}/token", support["token"]), timeout=60
        )

    def run(self, names: list[str] | None = None, **kwargs: Any) -> dict[str, SyncResult]:
        results = run_syncs(names, warehouse=self.warehouse, connections=self.connections, **kwargs)
        return {r.sync: r for r in results}

    def replay(self, **kwargs: Any) -> dict[str, SyncResult]:
        results = replay_dlq(warehouse=self.warehouse, connections=self.connections, **kwargs)
        return {r.sync: r for r in results}

    def store(self) -> OpsStore:
        return OpsStore(self.ops_dsn)

    def writes(self, system: str, since: int = 0) -> list[dict]:
        return self.admin.requests(system, since=since)

    def last_request_seq(self) -> int:
        log = self.admin.requests(None)
        return max((r["seq"] for r in log), default=0)

    def erp_all(self, entity_set: str, **params: Any) -> list[dict]:
        rows, url = [], f"/{entity_set}"
        query = dict(params)
        while url:
            response = self.erp.get(url, params=query)
            response.raise_for_status()
            body = response.json()
            rows.extend(body["value"])
            url, query = body.get("@odata.nextLink"), None
        return rows

    def support_organizations(self, ids: list[str]) -> dict[str, dict]:
        found: dict[str, dict] = {}
        for start in range(0, len(ids), 100):
            response = self.support.get(
                "/api/v2/organizations/show_many", params={"ids": ",".join(ids[start : start + 100])}
            )
            response.raise_for_status()
            found.update({str(o["id"]): o for o in response.json()["organizations"]})
        return found


@pytest.fixture
def retl(retl_built: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Retl]:
    ops_dsn = f"sqlite:///{tmp_path / 'ops.sqlite'}"
    monkeypatch.setenv("SYNCLINE_OPS_DSN", ops_dsn)
    helper = Retl(retl_built, ops_dsn)
    helper.admin.clear_faults()
    helper.admin.reset()
    yield helper
    helper.admin.clear_faults()
