"""Serve all four vendor imitations from one process (one store, one event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import uvicorn

from sandbox.admin import admin_routes
from sandbox.core import Sandbox
from sandbox.settings import SYSTEMS, SandboxSettings
from sandbox.vendor import build_app

log = logging.getLogger("sandbox")


class _QuietServer(uvicorn.Server):
    """Signals are handled once for all four servers, not by each uvicorn instance."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def describe(sb: Sandbox) -> str:
    settings = sb.settings
    lines = [
        f"Syncline sandbox: seed={settings.seed} scale={settings.scale} data_dir={settings.data_dir} "
        f"(generated in {sb.generation_seconds:.1f}s)"
    ]
    for system in SYSTEMS:
        vendor = sb.vendors[system]
        creds = ", ".join(f"{k}={v}" for k, v in settings.credentials[system].items())
        lines.append(f"  {system:<8} {vendor.title:<22} {settings.base_url(system)}   {creds}")
    lines.append(f"  ERP API root: {settings.erp_api_root()}")
    lines.append(
        f"  admin: header X-Syncline-Admin-Token: {settings.admin_token}  (GET /_admin/credentials on any port)"
    )
    return "\n".join(lines)


async def _serve_all(servers: list[uvicorn.Server]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve() for server in servers))


def serve(settings: SandboxSettings, *, fresh: bool = False) -> None:
    sb = Sandbox.open(settings, fresh=fresh)
    servers = []
    for system in SYSTEMS:
        vendor = sb.vendors[system]
        app = build_app(vendor, admin_routes(sb, vendor))
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.ports[system],
            log_level="warning",
            access_log=False,
            lifespan="off",
        )
        servers.append(_QuietServer(config))
    print(describe(sb), flush=True)
    try:
        asyncio.run(_serve_all(servers))
    finally:
        sb.close()
        print("Syncline sandbox stopped; state is in", settings.data_dir, file=sys.stderr, flush=True)
