"""Vendor-independent sandbox behaviour: admin auth, faults, persistence, determinism, simulate."""

from __future__ import annotations

import httpx
import pytest

from sandbox.client import SandboxAdmin
from sandbox.core import Sandbox
from sandbox.process import SandboxProcess
from sandbox.settings import SandboxSettings
from tests.conftest import make_settings

BILLING_KEY = SandboxSettings().credentials["billing"]["api_key"]


def billing_get(settings: SandboxSettings, path: str = "/v1/customers", **params) -> httpx.Response:
    return httpx.get(
        f"{settings.base_url('billing')}{path}",
        params=params,
        headers={"Authorization": f"Bearer {BILLING_KEY}"},
    )


def test_admin_requires_token(sandbox: SandboxProcess) -> None:
    url = f"{sandbox.settings.base_url('crm')}/_admin/credentials"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"X-Syncline-Admin-Token": "wrong"}).status_code == 401
    creds = SandboxAdmin(sandbox.settings).credentials()
    assert set(creds) >= {"billing", "support", "crm", "erp"}
    assert creds["billing"]["base_url"] == sandbox.settings.base_url("billing")


def test_health_is_open_and_reports_seed(sandbox: SandboxProcess) -> None:
    health = httpx.get(f"{sandbox.settings.base_url('erp')}/_admin/health").json()
    assert health["status"] == "ok" and health["seed"] == sandbox.settings.seed


def test_unknown_fault_setting_is_rejected(fresh_sandbox: SandboxAdmin) -> None:
    with pytest.raises(RuntimeError, match="unknown fault settings"):
        fresh_sandbox.set_faults("billing", explode=True)


def test_outage_latency_and_error_rate(fresh_sandbox: SandboxAdmin) -> None:
    settings = fresh_sandbox.settings
    fresh_sandbox.set_faults("billing", outage=True)
    response = billing_get(settings)
    assert response.status_code == 503 and "error" in response.json()
    fresh_sandbox.set_faults("billing", error_rate=0.5, seed=1)
    statuses = [billing_get(settings, limit=1).status_code for _ in range(40)]
    assert 8 < statuses.count(503) < 32 and statuses.count(200) > 8
    fresh_sandbox.set_faults("billing", latency_ms=150)
    assert billing_get(settings, limit=1).elapsed.total_seconds() >= 0.15
    assert fresh_sandbox.faults("billing")["injected"]["latency"] >= 1


def test_rate_limit_storm_sends_retry_after(fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("billing", rate_limit_quota=3, rate_limit_window_s=30)
    responses = [billing_get(fresh_sandbox.settings, limit=1) for _ in range(5)]
    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    limited = responses[4]
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]


@pytest.mark.parametrize("mode", ["truncate", "rename_field", "retype_field"])
def test_malformed_responses(fresh_sandbox: SandboxAdmin, mode: str) -> None:
    clean = billing_get(fresh_sandbox.settings, limit=3).json()
    fresh_sandbox.set_faults("billing", malformed=mode, malformed_field="created")
    broken = billing_get(fresh_sandbox.settings, limit=3)
    if mode == "truncate":
        with pytest.raises(ValueError):
            broken.json()
        return
    record = broken.json()["data"][0]
    if mode == "rename_field":
        assert "created" not in record and record["created_v2"] == clean["data"][0]["created"]
    else:
        assert isinstance(record["created"], str)


def test_writes_survive_restart_and_reset_drops_them(tmp_path) -> None:
    settings = make_settings(tmp_path / "sbx", scale=40)
    headers = {"Authorization": f"Bearer {BILLING_KEY}"}
    with SandboxProcess(settings, fresh=True):
        created = httpx.post(
            f"{settings.base_url('billing')}/v1/customers", data={"name": "Persisted Ltd"}, headers=headers
        )
        assert created.status_code == 200, created.text
        customer_id = created.json()["id"]
        SandboxAdmin(settings).simulate(5, seed=3)
    with SandboxProcess(settings):  # same data dir, no --fresh: journal replayed
        again = httpx.get(f"{settings.base_url('billing')}/v1/customers/{customer_id}", headers=headers)
        assert again.status_code == 200 and again.json()["name"] == "Persisted Ltd"
        assert len(SandboxAdmin(settings).requests(system="billing")) >= 1
        SandboxAdmin(settings).reset()
        gone = httpx.get(f"{settings.base_url('billing')}/v1/customers/{customer_id}", headers=headers)
        assert gone.status_code == 404


def test_same_seed_same_data(tmp_path) -> None:
    def snapshot(seed: int) -> dict:
        sb = Sandbox.open(
            SandboxSettings(
                seed=seed, scale=60, data_dir=tmp_path / f"s{seed}-{len(list(tmp_path.iterdir()))}"
            ),
            fresh=True,
        )
        try:
            return {name: sorted(map(repr, table.rows.values())) for name, table in sb.store.tables.items()}
        finally:
            sb.close()

    first, second, other = snapshot(11), snapshot(11), snapshot(12)
    assert first == second
    assert first != other


def test_simulate_rejects_unknown_kind(fresh_sandbox: SandboxAdmin) -> None:
    with pytest.raises(RuntimeError, match="unknown simulation kinds"):
        fresh_sandbox.simulate(1, kinds=["teleport"])


def test_simulate_is_deterministic_for_a_seed(fresh_sandbox: SandboxAdmin) -> None:
    first = fresh_sandbox.simulate(8, seed=5)
    fresh_sandbox.reset()
    second = fresh_sandbox.simulate(8, seed=5)
    assert [(c["system"], c["table"], c["id"]) for c in first["changes"]] == [
        (c["system"], c["table"], c["id"]) for c in second["changes"]
    ]


def test_simulate_at_wall_clock_stamps_now_and_never_moves_the_clock_back(
    fresh_sandbox: SandboxAdmin,
) -> None:
    import time

    simulated = fresh_sandbox.simulate(3, seed=5)
    assert simulated["clock"] < time.time() - 86_400  # the seed's world lives in the past
    before = time.time()
    live = fresh_sandbox.simulate(3, seed=5, at_wall_clock=True)
    assert int(before) <= live["clock"] <= time.time()
    # the same changes as the simulated-clock run of that seed, only at another time
    fresh_sandbox.reset()
    again = fresh_sandbox.simulate(3, seed=5, at_wall_clock=True)
    assert [c["id"] for c in again["changes"]] == [c["id"] for c in simulated["changes"]]
    ahead = fresh_sandbox.advance_clock(10_000_000_000 - again["clock"])  # a clock ahead of the wall
    assert fresh_sandbox.simulate(1, seed=6, at_wall_clock=True)["clock"] == ahead


def test_export_truth_cli_writes_parquet(sandbox: SandboxProcess, tmp_path, monkeypatch) -> None:
    import pandas as pd
    from typer.testing import CliRunner

    from sandbox.cli import app

    for system, port in sandbox.settings.ports.items():
        monkeypatch.setenv(f"SYNCLINE_SANDBOX_{system.upper()}_PORT", str(port))
    result = CliRunner().invoke(app, ["export-truth", str(tmp_path / "truth")])
    assert result.exit_code == 0, result.output
    customers = pd.read_parquet(tmp_path / "truth" / "customers.parquet")
    assert set(customers.columns) >= {"system", "table", "source_id", "customer_key"}
    assert set(customers["system"]) == {"billing", "support", "crm", "erp"}
    counts = pd.read_parquet(tmp_path / "truth" / "counts.parquet")
    expected = SandboxAdmin(sandbox.settings).truth("counts")
    assert (
        int(counts.query("system == 'erp' and collection == 'customers'")["count"].iloc[0])
        == expected["erp"]["customers"]
    )
    assert (tmp_path / "truth" / "invoices.parquet").exists() and (
        tmp_path / "truth" / "entitlements.parquet"
    ).exists()


def test_sigterm_stops_cleanly_and_flushes_the_journal(tmp_path) -> None:
    settings = make_settings(tmp_path / "sbx", scale=20)
    proc = SandboxProcess(settings, fresh=True).start()
    SandboxAdmin(settings).simulate(3, seed=1)
    proc.stop()
    assert proc.proc.returncode == 0
    assert (settings.data_dir / "journal.jsonl").stat().st_size > 0
