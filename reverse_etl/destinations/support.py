"""Zendesk Support: organizations created by upsert on `external_id`, updated in bulk jobs.

- insert: `POST /api/v2/organizations/create_or_update` matching on `external_id`: sending it twice
  (a retry, a resume after a crash) updates the organization the first call created.
- update: `PUT /api/v2/organizations/update_many` (<= 100 a request) returns a job; the client polls
  `GET /api/v2/job_statuses/{id}` until it completes and maps each item's result (success, or the
  errors Zendesk gives) to an outcome. Setting values is idempotent, so a retried job is harmless.
- `domain_names` is a list Zendesk replaces on update: the golden domain is added to the domains the
  organization has (read with `show_many` just before), never replacing them.
"""

from __future__ import annotations

import time
from typing import Any

from reverse_etl.destinations.base import (
    DestinationError,
    HttpDestination,
    Operation,
    Outcome,
    apply_one_by_one,
    error_text,
)
from reverse_etl.resilience import CallStats, CircuitOpenError, TransientError

MAX_BULK = 100
JOB_POLL_S = 0.2
JOB_TIMEOUT_S = 120.0


def organization_body(payload: dict[str, Any], current_domains: list[str] | None = None) -> dict[str, Any]:
    """Flat `organization_fields.x` properties nested the way Zendesk takes them."""
    body: dict[str, Any] = {}
    for prop, value in payload.items():
        if prop.startswith("organization_fields."):
            body.setdefault("organization_fields", {})[prop.split(".", 1)[1]] = value
        elif prop == "domain_names":
            domains = list(current_domains or [])
            if value not in domains:
                domains.append(value)
            body["domain_names"] = domains
        else:
            body[prop] = value
    return body


class SupportDestination(HttpDestination):
    batch_size = MAX_BULK

    def apply(self, sync_name: str, operations: list[Operation]) -> list[Outcome]:
        if sync_name != "support_organizations":
            raise ValueError(f"the support destination has no sync {sync_name!r}")
        inserts = [op for op in operations if op.operation == "insert" or not op.destination_id]
        updates = [op for op in operations if op not in inserts]
        outcomes = apply_one_by_one(inserts, self._upsert)
        if any(o.status == "queued" for o in outcomes):
            return outcomes + [Outcome(op.record_key, "queued", message="circuit open") for op in updates]
        if updates:
            try:
                outcomes.extend(self._update_many(updates))
            except CircuitOpenError as exc:
                outcomes.extend(Outcome(op.record_key, "queued", message=str(exc)) for op in updates)
        return outcomes

    def _upsert(self, op: Operation, stats: CallStats) -> Outcome:
        response = self.request(
            "POST",
            "/api/v2/organizations/create_or_update",
            stats,
            json={"organization": organization_body(op.payload)},
        )
        if response.status_code not in (200, 201):
            return Outcome(
                op.record_key, "rejected", http_status=response.status_code, message=error_text(response)
            )
        organization = response.json()["organization"]
        return Outcome(
            op.record_key,
            "created" if response.status_code == 201 else "updated",
            http_status=response.status_code,
            destination_id=str(organization["id"]),
            written=op.payload,
        )

    def _current_domains(self, operations: list[Operation], stats: CallStats) -> dict[str, list[str]]:
        if not any("domain_names" in op.payload for op in operations):
            return {}
        ids = ",".join(str(op.destination_id) for op in operations)
        response = self.request("GET", "/api/v2/organizations/show_many", stats, params={"ids": ids})
        if response.status_code != 200:
            raise DestinationError(f"show_many failed: {error_text(response)}")
        return {
            str(o["id"]): list(o.get("domain_names") or []) for o in response.json().get("organizations", [])
        }

    def _update_many(self, operations: list[Operation]) -> list[Outcome]:
        stats = CallStats()
        put_stats = CallStats()  # attempts of the write itself (reads and job polls not counted)
        started = time.perf_counter()
        try:
            domains = self._current_domains(operations, stats)
            items = [
                {
                    "id": int(op.destination_id),
                    **organization_body(op.payload, domains.get(str(op.destination_id))),
                }
                for op in operations
            ]
            response = self.request(
                "PUT", "/api/v2/organizations/update_many", put_stats, json={"organizations": items}
            )
            if response.status_code != 200:
                return [
                    Outcome(
                        op.record_key,
                        "rejected",
                        http_status=response.status_code,
                        message=error_text(response),
                    )
                    for op in operations
                ]
            job = self._wait_for_job(response.json()["job_status"], stats)
        except (TransientError, DestinationError) as exc:
            status = "transient" if isinstance(exc, TransientError) else "rejected"
            return [
                Outcome(op.record_key, status, message=str(exc), attempts=stats.attempts) for op in operations
            ]
        results = {int(r["index"]): r for r in job.get("results") or [] if r.get("index") is not None}
        by_id = {str(r.get("id")): r for r in job.get("results") or []}
        elapsed = round((time.perf_counter() - started) * 1000, 2)  # a record waits for its whole request
        outcomes = []
        for index, op in enumerate(operations):
            result = results.get(index) or by_id.get(str(op.destination_id)) or {}
            ok = result.get("success", result.get("status") in ("Updated", "Created"))
            if ok and result:
                outcome = Outcome(
                    op.record_key,
                    "updated",
                    http_status=200,
                    destination_id=op.destination_id,
                    written=op.payload,
                )
            else:
                reason = (
                    result.get("errors") or result.get("error") or result.get("details") or "no result for it"
                )
                outcome = Outcome(
                    op.record_key, "rejected", http_status=422, message=f"job {job.get('id')}: {reason}"
                )
            outcome.attempts, outcome.latency_ms = 1 + put_stats.retries, elapsed
            outcomes.append(outcome)
        return outcomes

    def _wait_for_job(self, job: dict, stats: CallStats) -> dict:
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while job.get("status") not in ("completed", "failed", "killed"):
            if time.monotonic() > deadline:
                raise TransientError(
                    f"job {job.get('id')} still {job.get('status')} after {JOB_TIMEOUT_S:.0f} s"
                )
            time.sleep(JOB_POLL_S)
            response = self.request("GET", f"/api/v2/job_statuses/{job['id']}", stats)
            if response.status_code != 200:
                raise DestinationError(f"job status {job['id']}: {error_text(response)}")
            job = response.json()["job_status"]
        if job["status"] != "completed":
            raise DestinationError(f"job {job.get('id')} {job['status']}: {job.get('message')}")
        return job
