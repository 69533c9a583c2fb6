"""Run the sandbox in the background for tests, the demo and benchmarks: start, wait, stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from sandbox.settings import SYSTEMS, SandboxSettings


class SandboxProcess:
    """`with SandboxProcess(settings) as sb:` starts `syncline sandbox serve` and waits until healthy."""

    def __init__(
        self, settings: SandboxSettings, *, fresh: bool = False, log_path: Path | None = None
    ) -> None:
        self.settings = settings
        self.fresh = fresh
        self.log_path = log_path or Path(settings.data_dir) / "sandbox.log"
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        s = self.settings
        cmd = [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--seed",
            str(s.seed),
            "--scale",
            str(s.scale),
            "--data-dir",
            str(s.data_dir),
            "--host",
            s.host,
        ]
        for system in SYSTEMS:
            cmd += [f"--{system}-port", str(s.ports[system])]
        if self.fresh:
            cmd.append("--fresh")
        return cmd

    def start(self, timeout: float = 600.0) -> SandboxProcess:
        Path(self.settings.data_dir).mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, SYNCLINE_SANDBOX_ADMIN_TOKEN=self.settings.admin_token)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, env=env)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.proc.returncode}; see {self.log_path}")
            if all(is_healthy(self.settings, system) for system in SYSTEMS):
                return
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"sandbox not healthy after {timeout:.0f}s; see {self.log_path}")

    def stop(self, timeout: float = 30.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def is_healthy(settings: SandboxSettings, system: str) -> bool:
    try:
        return httpx.get(f"{settings.base_url(system)}/_admin/health", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def running_settings(settings: SandboxSettings) -> dict | None:
    """The health of a sandbox already listening on these ports, or None."""
    try:
        response = httpx.get(f"{settings.base_url('billing')}/_admin/health", timeout=1.0)
        return response.json() if response.status_code == 200 else None
    except httpx.HTTPError:
        return None
