"""Connection settings come from configuration (the project's `.dlt/`), from any working directory;
env vars and secrets override; product code never imports the sandbox."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from ingestion.config import SYSTEMS, source_config
from ingestion.project_settings import PROJECT_DIR, SETTINGS_DIR
from sandbox.client import SandboxAdmin
from sandbox.settings import DEFAULT_CREDENTIALS, DEFAULT_PORTS
from warehouse import Warehouse

# Packages that ship as the product: they run against real vendors and must not need the sandbox.
# (`syncline/` mounts the sandbox's CLI and `syncline demo` starts it; tests and bench use it too.)
PRODUCT_PACKAGES = (
    "ingestion",
    "warehouse",
    "orchestration",
    "reverse_etl",
    "transform",
    "quality",
    "identity",
)
WRONG_SECRET = "sk_test_wrong_7d2e91"


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's env without any dlt source setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOURCES__", "DLT_"))}
    return env | extra


def test_checked_in_config_points_at_the_local_sandbox() -> None:
    sources = tomllib.loads((SETTINGS_DIR / "config.toml").read_text())["sources"]
    for system in SYSTEMS:
        assert sources[system]["base_url"] == f"http://127.0.0.1:{DEFAULT_PORTS[system]}"
        demo = {k: v for k, v in DEFAULT_CREDENTIALS[system].items() if k != "subdomain"}
        assert {k: sources[system][k] for k in demo} == demo, system


def _is_gitignored(path: str) -> bool:
    return subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_DIR).returncode == 0


def test_secrets_toml_is_gitignored() -> None:
    assert _is_gitignored(".dlt/secrets.toml")
    assert not _is_gitignored(".dlt/config.toml")


def test_settings_resolve_from_another_directory_with_overrides(tmp_path: Path) -> None:
    """Run elsewhere: the project's config.toml still answers; env and the working dir's
    `.dlt/secrets.toml` override it."""
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text('[sources.crm]\naccess_token = "pat-from-secrets"\n')
    script = "import json; from ingestion.config import source_config as c; print(json.dumps({s: c(s) for s in ('billing', 'crm', 'erp')}))"
    env = _clean_env(
        SOURCES__BILLING__API_KEY="sk_live_from_env", SOURCES__ERP__BASE_URL="https://bc.example"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    resolved = json.loads(done.stdout)
    assert resolved["billing"] == {"base_url": "http://127.0.0.1:8101", "api_key": "sk_live_from_env"}
    assert resolved["crm"] == {"base_url": "http://127.0.0.1:8103", "access_token": "pat-from-secrets"}
    assert resolved["erp"] == {"base_url": "https://bc.example"} | {
        k: DEFAULT_CREDENTIALS["erp"][k] for k in ("access_token", "tenant", "environment", "company_id")
    }


def test_source_config_keys_stay_stable() -> None:
    """The reverse ETL builds its destination clients from these keys."""
    assert {system: set(source_config(system)) - {"page_size"} for system in SYSTEMS} == {
        "billing": {"base_url", "api_key"},
        "support": {"base_url", "email", "token"},
        "crm": {"base_url", "access_token"},
        "erp": {"base_url", "access_token", "tenant", "environment", "company_id"},
    }


def test_cli_from_another_directory_loads_and_names_a_refused_setting(
    sandbox, fresh_sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    """`syncline ingest` started outside the project: ERP loads with the project's demo credentials;
    billing, given a wrong key, fails naming the setting to fix and not the key; exit code 1."""
    warehouse = Warehouse(kind="duckdb", duckdb_path=tmp_path / "warehouse.duckdb")
    env = _clean_env(
        SYNCLINE_WAREHOUSE="duckdb",
        SYNCLINE_DUCKDB_PATH=str(warehouse.duckdb_path),
        SYNCLINE_DLT_DIR=str(tmp_path / "dlt"),
        SOURCES__ERP__BASE_URL=sandbox.settings.base_url("erp"),
        SOURCES__BILLING__BASE_URL=sandbox.settings.base_url("billing"),
        SOURCES__BILLING__API_KEY=WRONG_SECRET,
        COLUMNS="300",  # rich wraps at 80 columns off a terminal
    )
    syncline = Path(sys.executable).with_name("syncline")
    done = subprocess.run(
        [str(syncline), "ingest", "--source", "erp", "--source", "billing"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "billing failed" in output and "SOURCES__BILLING__API_KEY" in output, output
    assert WRONG_SECRET not in output
    truth = fresh_sandbox.truth("counts")["erp"]
    assert {t: warehouse.query(f"select count(*) from raw_erp.{t}")[0][0] for t in truth} == truth


def test_product_code_does_not_import_the_sandbox() -> None:
    offenders = []
    for package in PRODUCT_PACKAGES:
        for path in sorted((PROJECT_DIR / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                if any(name == "sandbox" or name.startswith("sandbox.") for name in names):
                    offenders.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}")
    assert offenders == []
