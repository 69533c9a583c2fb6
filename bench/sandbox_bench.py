"""Sandbox benchmarks: generation time and peak memory per scale; pages/s served for 100-item pages."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from bench.common import emit, progress
from sandbox.process import SandboxProcess
from sandbox.settings import SandboxSettings
from tests.conftest import make_settings

GENERATE_SNIPPET = """
import json, resource, sys, time
from sandbox.core import Sandbox
from sandbox.settings import SandboxSettings
started = time.perf_counter()
sb = Sandbox.open(SandboxSettings(seed=42, scale=int(sys.argv[1]), data_dir=sys.argv[2]), fresh=True)
seconds = time.perf_counter() - started
counts = {s: sum(v.counts().values()) for s, v in sb.vendors.items()}
print(json.dumps({"seconds": seconds, "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "records": counts}))
"""


def bench_generation(scale: int) -> None:
    """Generate in a fresh process so peak RSS is the generation's own."""
    import json

    progress(f"generating the sandbox at scale {scale:,} ...")
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            [sys.executable, "-c", GENERATE_SNIPPET, str(scale), tmp],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    emit("sandbox_generation", scale=scale, **result)


# One 100-item page request per vendor collection: (system, path, params, headers)
def page_requests(settings: SandboxSettings) -> dict[str, tuple[str, dict, dict]]:
    creds = settings.credentials
    erp = creds["erp"]
    return {
        "billing": (
            "/v1/invoices",
            {"limit": 100},
            {"Authorization": f"Bearer {creds['billing']['api_key']}"},
        ),
        "support": (
            "/api/v2/organizations",
            {"page[size]": 100},
            {
                "Authorization": "Basic "
                + __import__("base64")
                .b64encode(f"{creds['support']['email']}/token:{creds['support']['token']}".encode())
                .decode()
            },
        ),
        "crm": (
            "/crm/v3/objects/companies",
            {"limit": 100},
            {"Authorization": f"Bearer {creds['crm']['access_token']}"},
        ),
        "erp": (
            f"/v2.0/{erp['tenant']}/{erp['environment']}/api/v2.0/companies({erp['company_id']})/customers",
            {"$top": 100},
            {"Authorization": f"Bearer {erp['access_token']}"},
        ),
    }


def bench_serving(scale: int, pages: int = 300, concurrency: int = 4) -> dict[str, float]:
    """Pages/s served for 100-item pages, per vendor, with `concurrency` client threads."""
    rates = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp), seed=42, scale=scale)
        with SandboxProcess(settings, fresh=True):
            for system, (path, params, headers) in page_requests(settings).items():
                url = settings.base_url(system) + path

                def fetch(_: int, url: str = url, params: dict = params, headers: dict = headers) -> int:
                    with httpx.Client(headers=headers, timeout=60) as client:
                        return sum(
                            client.get(url, params=params).status_code == 200
                            for _ in range(pages // concurrency)
                        )

                started = time.perf_counter()
                with ThreadPoolExecutor(concurrency) as pool:
                    ok = sum(pool.map(fetch, range(concurrency)))
                seconds = time.perf_counter() - started
                rates[system] = ok / seconds
                emit(
                    "sandbox_serving",
                    system=system,
                    scale=scale,
                    pages=ok,
                    pages_per_s=round(ok / seconds, 1),
                    concurrency=concurrency,
                )
    return rates


def run(scales: list[int]) -> None:
    for scale in scales:
        bench_generation(scale)
    bench_serving(min(scales))


if __name__ == "__main__":
    run([int(s) for s in sys.argv[1:]] or [10_000])
