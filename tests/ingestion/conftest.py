"""Ingestion fixtures: a temp DuckDB warehouse and a runner pointed at the test sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingestion.config import source_config
from ingestion.pipeline import SourceRun, run_source
from sandbox.settings import SandboxSettings
from warehouse import Warehouse


def sandbox_source_config(settings: SandboxSettings, system: str) -> dict[str, Any]:
    config = source_config(system)
    config["base_url"] = settings.base_url(system)
    return config


class Runner:
    def __init__(self, settings: SandboxSettings, warehouse: Warehouse, pipelines_dir: Path) -> None:
        self.settings, self.warehouse, self.pipelines_dir = settings, warehouse, pipelines_dir

    def __call__(self, system: str, **overrides: Any) -> SourceRun:
        config = sandbox_source_config(self.settings, system) | overrides.pop("config", {})
        return run_source(
            system, warehouse=self.warehouse, pipelines_dir=self.pipelines_dir, config=config, **overrides
        )

    def count(self, system: str, table: str) -> int:
        return self.warehouse.query(f"select count(*) from raw_{system}.{table}")[0][0]


@pytest.fixture(autouse=True)
def _fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keep injected-fault tests quick: short backoff, enough attempts for a 20% error rate.
    monkeypatch.setenv("RUNTIME__REQUEST_BACKOFF_FACTOR", "0.05")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "8")
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_RETRY_DELAY", "5")


@pytest.fixture
def warehouse(tmp_path: Path) -> Warehouse:
    return Warehouse(kind="duckdb", duckdb_path=tmp_path / "warehouse.duckdb")


@pytest.fixture
def run(sandbox, warehouse: Warehouse, tmp_path: Path) -> Runner:
    return Runner(sandbox.settings, warehouse, tmp_path / "dlt")
