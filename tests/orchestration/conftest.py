"""Orchestration fixtures: the code location pointed at the test sandbox and a temp warehouse."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from sandbox.settings import SYSTEMS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def dbt_manifest() -> Path:
    """dagster-dbt loads the manifest at import: parse it from the current models (never a stale one)."""
    import subprocess
    import sys

    from transform.dbt_cli import PROJECT_DIR, dbt_args

    args = dbt_args("parse")
    target = PROJECT_DIR / "target"
    args[args.index("--target-path") + 1] = str(target)
    subprocess.run([str(Path(sys.executable).with_name("dbt")), *args, "--quiet"], check=True, cwd=ROOT)
    return target / "manifest.json"


def load_defs() -> dg.Definitions:
    """Import the code location afresh so it reads the env the test just set."""
    import importlib

    import orchestration.definitions as module
    import orchestration.defs.ingestion
    import orchestration.defs.transform

    importlib.reload(orchestration.defs.ingestion)
    importlib.reload(orchestration.defs.transform)
    return importlib.reload(module).defs


@pytest.fixture
def code_location_env(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point every source at the test sandbox and the warehouse at a temp DuckDB file."""
    env = {
        "SYNCLINE_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
        "SYNCLINE_DLT_DIR": str(tmp_path / "dlt"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "RUNTIME__REQUEST_BACKOFF_FACTOR": "0.05",
    }
    for system in SYSTEMS:
        env[f"SOURCES__{system.upper()}__BASE_URL"] = sandbox.settings.base_url(system)
    Path(env["DAGSTER_HOME"]).mkdir()
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text(
        (ROOT / "orchestration/dagster_home/dagster.yaml").read_text()
    )
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env
