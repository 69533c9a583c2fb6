"""Zendesk organization writes the reverse ETL relies on: async bulk jobs, search, upsert, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from tests.conftest import make_settings
from tests.sandbox.zendesk_jobs import wait_for_job


def support_client(settings) -> httpx.Client:
    creds = settings.credentials["support"]
    return httpx.Client(
        base_url=settings.base_url("support"), auth=(f"{creds['email']}/token", creds["token"]), timeout=30
    )


@pytest.fixture(scope="module")
def http(sandbox: SandboxProcess) -> Iterator[httpx.Client]:
    with support_client(sandbox.settings) as client:
        yield client


def an_existing_org(http: httpx.Client) -> dict:
    return http.get("/api/v2/organizations.json", params={"page[size]": 1}).json()["organizations"][0]


def test_create_many_runs_queued_working_completed(http: httpx.Client, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("support", job_stage_ms=1000)
    taken = an_existing_org(http)["name"]
    body = {
        "organizations": [
            {"name": "Bulk One", "external_id": "bulk-1", "organization_fields": {"seats": 5}},
            {"name": "Bulk Two", "external_id": "bulk-2"},
            {"name": taken.upper(), "external_id": "bulk-3"},
            {"name": "bulk one", "external_id": "bulk-4"},
        ]
    }
    accepted = http.post("/api/v2/organizations/create_many.json", json=body)
    assert accepted.status_code == 200, accepted.text
    job = accepted.json()["job_status"]
    assert (job["status"], job["total"], job["progress"], job["results"]) == ("queued", 4, None, None)
    assert job["job_type"] == "Bulk Create Organizations" and job["url"].endswith(
        f"/job_statuses/{job['id']}.json"
    )
    not_yet = http.get("/api/v2/organizations/search.json", params={"external_id": "bulk-1"}).json()
    assert not_yet["organizations"] == []  # nothing is applied while the job is queued

    seen = []
    while not seen or seen[-1] != "completed":
        state = http.get(f"/api/v2/job_statuses/{job['id']}").json()["job_status"]
        if not seen or seen[-1] != state["status"]:
            seen.append(state["status"])
            if state["status"] == "working":
                assert state["progress"] == 2 and state["results"] is None
        time.sleep(0.05)
    assert seen == ["queued", "working", "completed"]
    results = state["results"]
    assert [(r["index"], r["action"], r["success"], r["status"]) for r in results] == [
        (0, "create", True, "Created"),
        (1, "create", True, "Created"),
        (2, "create", False, "Failed"),
        (3, "create", False, "Failed"),
    ]
    assert results[2]["error"] == "DuplicateValue" and "already been taken" in results[2]["details"]
    assert state["progress"] == 4 and state["message"].startswith("Completed at")

    found = http.get("/api/v2/organizations/search", params={"external_id": "bulk-1"}).json()
    assert [o["id"] for o in found["organizations"]] == [results[0]["id"]] and found["count"] == 1
    assert found["organizations"][0]["organization_fields"]["seats"] == 5
    by_name = http.get("/api/v2/organizations/search.json", params={"name": "BULK TWO"}).json()
    assert [o["id"] for o in by_name["organizations"]] == [results[1]["id"]]
    assert (
        http.get("/api/v2/organizations/search.json", params={"external_id": "bulk-4"}).json()["count"] == 0
    )

    second = http.put(
        "/api/v2/organizations/update_many.json",
        json={"organizations": [{"id": results[0]["id"], "notes": "n"}, {"id": 42, "notes": "n"}]},
    ).json()["job_status"]
    many = http.get("/api/v2/job_statuses/show_many.json", params={"ids": f"{job['id']},{second['id']}"})
    assert [j["id"] for j in many.json()["job_statuses"]] == [job["id"], second["id"]]
    done = wait_for_job(http, second["id"])
    assert [(r["status"], r.get("error")) for r in done["results"]] == [
        ("Updated", None),
        ("Failed", "RecordNotFound"),
    ]
    logged = [r for r in fresh_sandbox.requests(system="support") if r["path"].endswith("_many.json")]
    assert [r.get("job_id") for r in logged] == [job["id"], second["id"]]
    assert all(r["received_at"] <= r["at"] for r in logged)


def test_bulk_payload_errors(http: httpx.Client, fresh_sandbox: SandboxAdmin) -> None:
    too_many = http.post(
        "/api/v2/organizations/create_many.json",
        json={"organizations": [{"name": f"o{i}"} for i in range(101)]},
    )
    assert too_many.status_code == 400 and too_many.json()["error"] == "TooManyValues"
    wrong = http.post("/api/v2/organizations/create_many.json", json={"organization": {"name": "x"}})
    assert wrong.status_code == 400 and set(wrong.json()) == {"error", "description"}
    assert http.get("/api/v2/job_statuses/nope.json").json() == {
        "error": "RecordNotFound",
        "description": "Not found",
    }


def test_accepted_job_survives_a_crash(tmp_path) -> None:
    settings = make_settings(tmp_path / "sbx", scale=40)
    proc = SandboxProcess(settings, fresh=True).start()
    try:
        SandboxAdmin(settings).set_faults("support", job_stage_ms=600_000)
        with support_client(settings) as http:
            job = http.post(
                "/api/v2/organizations/create_many.json",
                json={
                    "organizations": [{"name": "Survivor A", "external_id": "surv-a"}, {"name": "Survivor B"}]
                },
            ).json()["job_status"]
        assert job["status"] == "queued"
    finally:
        proc.proc.kill()  # a crash: no clean shutdown
        proc.proc.wait()
    with SandboxProcess(settings), support_client(settings) as http:  # journal replayed, default stages
        done = wait_for_job(http, job["id"])
        assert [r["status"] for r in done["results"]] == ["Created", "Created"]
        found = http.get("/api/v2/organizations/search.json", params={"external_id": "surv-a"}).json()
        assert [o["id"] for o in found["organizations"]] == [done["results"][0]["id"]]
        assert (
            http.get("/api/v2/organizations/search.json", params={"name": "survivor b"}).json()["count"] == 1
        )


def test_create_or_update_put_and_record_invalid(http: httpx.Client, fresh_sandbox: SandboxAdmin) -> None:
    created = http.post(
        "/api/v2/organizations/create_or_update.json",
        json={"organization": {"name": "Upsert Co", "external_id": "ups-1"}},
    )
    assert created.status_code == 201
    renamed = http.post(
        "/api/v2/organizations/create_or_update.json",
        json={"organization": {"name": "Upsert Co Renamed", "external_id": "ups-1"}},
    )
    assert (
        renamed.status_code == 200
        and renamed.json()["organization"]["id"] == created.json()["organization"]["id"]
    )
    org_id = created.json()["organization"]["id"]
    by_id = http.post(
        "/api/v2/organizations/create_or_update.json", json={"organization": {"id": org_id, "notes": "by id"}}
    )
    assert by_id.status_code == 200 and by_id.json()["organization"]["notes"] == "by id"
    searched = http.get("/api/v2/organizations/search.json", params={"external_id": "UPS-1"}).json()
    assert [o["id"] for o in searched["organizations"]] == [org_id]
    taken = an_existing_org(http)["name"]
    clash = http.put(
        f"/api/v2/organizations/{created.json()['organization']['id']}.json",
        json={"organization": {"name": taken}},
    )
    assert clash.status_code == 422
    assert clash.json() == {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {
            "name": [{"description": f"Name: {taken} has already been taken", "error": "DuplicateValue"}]
        },
    }


def test_writes_are_rate_limited_with_zendesk_headers(
    http: httpx.Client, fresh_sandbox: SandboxAdmin
) -> None:
    org = an_existing_org(http)
    fresh_sandbox.set_faults("support", rate_limit_quota=1, rate_limit_window_s=30)
    body = {"organization": {"notes": "limited"}}
    first = http.put(f"/api/v2/organizations/{org['id']}.json", json=body)
    second = http.put(f"/api/v2/organizations/{org['id']}.json", json=body)
    bulk = http.post("/api/v2/organizations/create_many.json", json={"organizations": [{"name": "x"}]})
    assert first.status_code == 200 and first.headers["X-Rate-Limit-Remaining"] == "0"
    for limited in (second, bulk):
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert limited.headers["X-Rate-Limit-Remaining"] == "0"
        assert limited.json()["error"] == "APIRateLimitExceeded"
    assert [r["status"] for r in fresh_sandbox.requests(system="support")[-3:]] == [200, 429, 429]
