"""Zendesk bulk jobs (`create_many`, `update_many`): accepted now, applied later, observed by polling.

Accepting a job journals it with its payload (status `queued`), so a crash never loses it. The job
becomes `working` after one stage (`job_stage_ms` in the support fault settings, read when the job
advances, so a job accepted before a restart follows the current setting) and applies the
first half of its items, then `completed` after a second stage with the rest applied; writes become
visible as the job applies them, as in Zendesk. Progress is driven by event-loop timers and, for jobs
accepted before a restart, by the next support request: both call `advance_due`, which is
idempotent. Organizations created by a job get ids reserved at acceptance, so a job resumed after a
crash never creates an organization twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from .tables import JOBS

if TYPE_CHECKING:
    from .api import SupportApi

JOB_TYPES = {"create": "Bulk Create Organizations", "update": "Bulk Update Organizations"}
PENDING = ("queued", "working")


class OrganizationJobs:
    def __init__(self, api: SupportApi) -> None:
        self.api = api

    @property
    def store(self):
        return self.api.store

    def stage_seconds(self) -> float:
        return max(0, self.api.vendor.faults.config.job_stage_ms) / 1000

    def accept(self, action: str, items: list[dict]) -> dict:
        seq = self.store.next_seq("support_job")
        if action == "create":  # reserve ids now: a resumed job recognises what it already created
            items = [{**item, "_reserved_id": self.api.reserve_organization_id()} for item in items]
        stage = self.stage_seconds()
        job = {
            "id": hashlib.blake2b(f"support-job:{seq}".encode(), digest_size=16).hexdigest(),
            "action": action,
            "total": len(items),
            "items": items,
            "status": "queued",
            "progress": 0,
            "results": [],
            "accepted_at": time.time(),
            "completed": None,
        }
        self.store.put(JOBS, job)
        self._schedule(stage)
        return job

    def _schedule(self, stage: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not serving (e.g. a direct call): the next request advances it
            return
        for delay in (stage, 2 * stage):
            loop.call_later(delay + 0.005, self.advance_due)

    def advance_due(self) -> None:
        """Move every pending job as far as its age allows (safe to call any number of times)."""
        with self.store.lock:
            pending = [job for job in self.store[JOBS].rows.values() if job["status"] in PENDING]
            now, stage = time.time(), self.stage_seconds()
            for job in pending:
                age = now - job["accepted_at"]
                if age >= 2 * stage:
                    self._run(job, job["total"], "completed")
                elif age >= stage and job["status"] == "queued":
                    self._run(job, (job["total"] + 1) // 2, "working")

    def _run(self, job: dict, upto: int, status: str) -> None:
        results = list(job["results"])
        for index in range(len(results), upto):
            results.append(self._apply(job["action"], index, job["items"][index]))
        updated = dict(job, results=results, progress=len(results), status=status)
        if status == "completed":
            updated["completed"] = self.api.vendor.now()
        self.store.put(JOBS, updated)

    def _apply(self, action: str, index: int, item: dict) -> dict:
        apply: Callable[[int, dict], dict] = (
            self.api.create_one_in_job if action == "create" else self.api.update_one_in_job
        )
        return apply(index, item)

    def find(self, job_id: str) -> dict | None:
        return self.store[JOBS].get(job_id)
