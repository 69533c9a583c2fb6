"""Chaos and crashes: 5xx, a 429 storm, an ERP outage mid-run, a SIGKILL mid-batch. After recovery
(and a DLQ replay) the destinations hold the desired state, with no duplicate create and nothing lost."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from tests.reverse_etl.conftest import Retl

ROOT = Path(__file__).resolve().parents[2]


def assert_no_duplicates(retl: Retl) -> None:
    customers = retl.erp_all("customers")
    numbers = Counter(c["number"] for c in customers)
    assert not [n for n, k in numbers.items() if k > 1], "duplicate ERP customer numbers"
    created = [c for c in customers if c["number"].startswith("CUST")]  # numbers BC assigned to our creates
    names = Counter((c["displayName"], c.get("email")) for c in created)
    assert not [n for n, k in names.items() if k > 1], "the same customer created twice"
    for entity_set in ("salesInvoices", "salesCreditMemos"):
        external = Counter(d["externalDocumentNumber"] for d in retl.erp_all(entity_set))
        doubled = [e for e, k in external.items() if k > 1 and e.startswith(("in_", "cn_"))]
        assert not doubled, f"documents posted twice: {doubled[:5]}"


def assert_settled(retl: Retl, reference: dict[str, dict[str, str]]) -> None:
    """Every record a clean run wrote is written; only records the destination rejects stay in the DLQ."""
    store = retl.store()
    for sync, statuses in reference.items():
        state = store.load_state(sync)
        for key, status in statuses.items():
            if status == "rejected":
                continue
            assert key in state and state[key].status in ("written", "adopted"), (sync, key)
    for entry in store.open_dlq():
        assert entry.error_class == "rejected", entry
        assert reference[entry.sync_name].get(entry.record_key) == "rejected", entry


def clean_reference(retl: Retl) -> dict[str, dict[str, str]]:
    """What a fault-free run does with each record (then the sandbox and the ops store start over)."""
    results = retl.run()
    store = retl.store()
    reference = {
        sync: {row["record_key"]: row["status"] for row in store.ledger_rows(sync_name=sync)}
        for sync in results
    }
    retl.admin.reset()
    store.engine.dispose()
    Path(retl.ops_dsn.removeprefix("sqlite:///")).unlink()
    return reference


def test_chaos_then_recovery_reaches_the_desired_state_without_duplicates(retl: Retl) -> None:
    reference = clean_reference(retl)
    retl.admin.set_faults("erp", error_rate=0.2, error_status=503, seed=3)
    retl.admin.set_faults("support", rate_limit_quota=15, rate_limit_window_s=1.0)  # a 429 storm
    support = retl.run(["support_organizations"])["support_organizations"]
    assert support.retried > 0 and support.counts["transient"] == 0  # 429s wait, they do not fail

    # the ERP fails 20% of requests, then goes down in the middle of the run
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(retl.run(["erp_customers", "erp_invoices"])))
    worker.start()
    _wait_for_writes(retl, "Microsoft.NAV.post", 5, worker)
    retl.admin.set_faults("erp", outage=True)
    worker.join(timeout=600)
    invoices = outcome["erp_invoices"]
    assert outcome["erp_customers"].retried > 0 or invoices.retried > 0
    assert invoices.circuit_open and invoices.counts["queued"] > 0  # stopped cleanly, the rest queued

    retl.admin.clear_faults()
    retl.run()
    retl.replay()  # dead-lettered records now, without waiting for their backoff
    assert_settled(retl, reference)
    assert_no_duplicates(retl)


def _sync_process(retl: Retl, names: list[str], tmp_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "SYNCLINE_WAREHOUSE": "duckdb",
        "SYNCLINE_DUCKDB_PATH": str(retl.warehouse.duckdb_path),
        "SYNCLINE_OPS_DSN": retl.ops_dsn,
        "SYNCLINE_ERP_REQUESTS_PER_SECOND": "1000",
    }
    for system, config in retl.connections.items():
        env[f"SOURCES__{system.upper()}__BASE_URL"] = config["base_url"]
    log = (tmp_path / "sync.log").open("w")
    return subprocess.Popen(
        [str(Path(sys.executable).with_name("syncline")), "sync", *names, "--json"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _wait_for_writes(
    retl: Retl, path_part: str, count: int, worker: subprocess.Popen | threading.Thread
) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen = [w for w in retl.writes("erp") if path_part in w["path"]]
        if len(seen) >= count:
            return
        running = worker.is_alive() if isinstance(worker, threading.Thread) else worker.poll() is None
        assert running, "the sync finished before the fault could hit it"
        time.sleep(0.05)
    raise AssertionError(f"no {count} writes to {path_part} within 300 s")


def test_a_sigkill_mid_batch_then_a_rerun_duplicates_nothing(retl: Retl, tmp_path: Path) -> None:
    reference = clean_reference(retl)
    # customers go in $batch requests: kill the process while the ERP works on the first batch
    retl.admin.set_faults("erp", latency_ms=1500, path_prefix="/v2.0")
    process = _sync_process(retl, ["erp_customers"], tmp_path)
    _wait_for_writes(retl, "$batch", 1, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    time.sleep(2)  # the ERP finishes the batch the dead client sent
    retl.admin.clear_faults()
    assert retl.store().pending_intents("erp_customers"), "the killed run left its intents behind"

    # documents one by one: kill after a few were posted
    retl.admin.set_faults("erp", latency_ms=40)
    process = _sync_process(retl, ["erp_customers", "erp_invoices"], tmp_path)
    _wait_for_writes(retl, "Microsoft.NAV.post", 5, process)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    retl.admin.clear_faults()

    retl.run()
    retl.replay()
    assert_settled(retl, reference)
    assert_no_duplicates(retl)
