"""Shared fixtures: a real sandbox over loopback HTTP on free ports, with its data in a temp dir."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from sandbox.settings import SYSTEMS, SandboxSettings

TEST_SEED = 7
TEST_SCALE = 300
SHARED = Path(__file__).resolve().parents[2] / "shared"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_settings(data_dir: Path, *, seed: int = TEST_SEED, scale: int = TEST_SCALE) -> SandboxSettings:
    settings = SandboxSettings(seed=seed, scale=scale, data_dir=data_dir)
    settings.ports = {system: free_port() for system in SYSTEMS}
    return settings


@pytest.fixture(scope="session")
def sandbox_settings(tmp_path_factory: pytest.TempPathFactory) -> SandboxSettings:
    return make_settings(tmp_path_factory.mktemp("sandbox"))


@pytest.fixture(scope="session")
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[SandboxProcess]:
    """One sandbox for the session; tests that write call `fresh_sandbox` to reset it first."""
    with SandboxProcess(sandbox_settings, fresh=True) as proc:
        yield proc


@pytest.fixture(scope="session")
def admin(sandbox: SandboxProcess) -> SandboxAdmin:
    return SandboxAdmin(sandbox.settings)


@pytest.fixture
def fresh_sandbox(admin: SandboxAdmin) -> SandboxAdmin:
    """Reset to the seed and clear faults before the test (and clear faults after)."""
    admin.clear_faults()
    admin.reset()
    yield admin
    admin.clear_faults()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.exists():
        pytest.fail(f"../shared not found at {SHARED}: CI lays it beside the checkout")
    return SHARED
