"""Poll a Zendesk job status until it completes, the way a client of the real API has to."""

from __future__ import annotations

import time

import httpx


def wait_for_job(http: httpx.Client, job_id: str, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        job = http.get(f"/api/v2/job_statuses/{job_id}.json").json()["job_status"]
        if job["status"] in ("completed", "failed"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} still {job['status']} after {timeout_s}s")
        time.sleep(0.05)
