"""B1 and B2: our dlt ingestion against a bare httpx + pyarrow + DuckDB baseline, in one run.

B1: full ingestion of all four sources vs a baseline that fetches the very same pages (the URLs our
run requested, recorded) with httpx and inserts them through pyarrow into DuckDB. Target <= 2.5.
B2: an incremental run after 1% of customers changed vs the full run. Target <= 0.15 at 100k.
Each side runs in its own process so its peak RSS is its own (target: ours < 2 GiB at 100k).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.common import emit, progress
from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from tests.conftest import make_settings

OURS = r"""
import json, os, resource, sys, time
import requests
from ingestion.pipeline import run_source
from ingestion.config import source_config
from warehouse import Warehouse
from sandbox.client import SandboxAdmin
from sandbox.settings import SandboxSettings

args = json.loads(sys.argv[1])
settings = SandboxSettings(seed=args["seed"], scale=args["scale"], data_dir=args["data_dir"])
settings.ports = args["ports"]
warehouse = Warehouse(kind="duckdb", duckdb_path=args["tmp"] + "/ours.duckdb")
fetched = []  # every successful page request, replayed by the baseline
_send = requests.Session.send
def send(self, request, **kw):
    response = _send(self, request, **kw)
    if response.status_code == 200:
        fetched.append({"method": request.method, "url": request.url, "body": request.body.decode() if isinstance(request.body, bytes) else request.body, "headers": {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type", "prefer")}})
    return response
requests.Session.send = send

def run_all(label):
    runs = {}
    started = time.perf_counter()
    for system in ("billing", "support", "crm", "erp"):
        config = source_config(system) | {"base_url": settings.base_url(system)}
        run = run_source(system, warehouse=warehouse, pipelines_dir=args["tmp"] + "/dlt", config=config)
        runs[system] = {"seconds": run.seconds, "extract_s": run.extract_s, "normalize_s": run.normalize_s, "load_s": run.load_s, "rows": sum(run.rows.values())}
    return time.perf_counter() - started, runs

full_s, full = run_all("full")
pages = list(fetched)
SandboxAdmin(settings).simulate(max(1, args["scale"] // 100), seed=1)
incremental_s, incremental = run_all("incremental")
json.dump({"full_s": full_s, "full": full, "incremental_s": incremental_s, "incremental": incremental, "pages": pages,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}, open(args["tmp"] + "/ours.json", "w"))
"""

BASELINE = r"""
import json, resource, sys, time
from collections import defaultdict
import duckdb, httpx, orjson, pyarrow as pa

args = json.loads(sys.argv[1])
pages = json.load(open(args["tmp"] + "/ours.json"))["pages"]

def records(body):
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, list) and (not value or isinstance(value[0], dict)):
                return key, value
    return None, []

def flat(record):  # nested values as JSON text, like max_table_nesting=0
    return {k: (orjson.dumps(v).decode() if isinstance(v, (dict, list)) else v) for k, v in record.items()}

started = time.perf_counter()
tables = defaultdict(list)
with httpx.Client(timeout=120) as client:
    for page in pages:
        response = client.request(page["method"], page["url"], content=page["body"], headers=page["headers"])
        path = page["url"].split("?")[0].rstrip("/").split("/")[-1]
        key, rows = records(orjson.loads(response.content))
        if rows:
            tables[f"{path}_{key}"].append(pa.Table.from_pylist([flat(r) for r in rows]))
con = duckdb.connect(args["tmp"] + "/baseline.duckdb")
for i, (name, parts) in enumerate(tables.items()):
    arrow = pa.concat_tables(parts, promote_options="permissive")
    con.register("page", arrow)
    con.execute(f"create or replace table t{i} as select * from page")
    con.unregister("page")
con.close()
print(json.dumps({"seconds": time.perf_counter() - started, "pages": len(pages), "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(scale: int = 10_000, seed: int = 42) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "sandbox", seed=seed, scale=scale)
        progress(f"B1/B2 at scale {scale:,}: starting the sandbox ...")
        with SandboxProcess(settings, fresh=True):
            args = json.dumps(
                {
                    "seed": seed,
                    "scale": scale,
                    "data_dir": str(settings.data_dir),
                    "ports": settings.ports,
                    "tmp": tmp,
                }
            )
            progress("ours: full ingestion, simulate 1%, incremental ingestion ...")
            subprocess.run([sys.executable, "-c", OURS, args], check=True)
            ours = json.loads(Path(tmp, "ours.json").read_text())
            SandboxAdmin(settings).reset()
            progress(f"baseline: replaying {len(ours['pages'])} pages with httpx + pyarrow + DuckDB ...")
            out = subprocess.run(
                [sys.executable, "-c", BASELINE, args], check=True, capture_output=True, text=True
            )
            baseline = json.loads(out.stdout.strip().splitlines()[-1])
    split = {
        k: round(sum(r[k] for r in ours["full"].values()), 2) for k in ("extract_s", "normalize_s", "load_s")
    }
    b1 = ours["full_s"] / baseline["seconds"]
    b2 = ours["incremental_s"] / ours["full_s"]
    pages_per_s = len(ours["pages"]) / ours["full_s"]
    emit(
        "B1_full_ingestion",
        scale=scale,
        ours_s=round(ours["full_s"], 2),
        baseline_s=round(baseline["seconds"], 2),
        ratio=round(b1, 2),
        target=2.5,
        pass_=b1 <= 2.5,
        pages=len(ours["pages"]),
        pages_per_s=round(pages_per_s, 1),
        split=split,
        per_source=ours["full"],
        peak_rss_mib=round(ours["peak_rss_mib"]),
        baseline_peak_rss_mib=round(baseline["peak_rss_mib"]),
    )
    emit(
        "B2_incremental_vs_full",
        scale=scale,
        incremental_s=round(ours["incremental_s"], 2),
        full_s=round(ours["full_s"], 2),
        ratio=round(b2, 3),
        target=0.15,
        pass_=b2 <= 0.15,
        rows=sum(r["rows"] for r in ours["incremental"].values()),
    )
    return {"ingestion_pages_per_s": pages_per_s}
