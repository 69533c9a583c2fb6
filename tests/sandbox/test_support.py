"""The Zendesk imitation, driven by the official `zenpy` client over loopback HTTP.

zenpy always builds https://{subdomain}.zendesk.com URLs; its documented escape hatches
ZENPY_FORCE_SCHEME / ZENPY_FORCE_NETLOC point it at the sandbox without touching its code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from zenpy import Zenpy
from zenpy.lib.api_objects import Organization
from zenpy.lib.exception import APIException

from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from sandbox.world import SIM_NOW, to_iso
from tests.sandbox.zendesk_jobs import wait_for_job


@pytest.fixture(scope="module")
def creds(sandbox: SandboxProcess) -> dict:
    return sandbox.settings.credentials["support"]


@pytest.fixture(scope="module")
def base_url(sandbox: SandboxProcess) -> str:
    return sandbox.settings.base_url("support")


@pytest.fixture(scope="module")
def zenpy(base_url: str, creds: dict) -> Iterator[Zenpy]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZENPY_FORCE_SCHEME", "http")
        patch.setenv("ZENPY_FORCE_NETLOC", base_url.removeprefix("http://"))
        # No cache: the tests must see what the server answers, not zenpy's copy of an earlier read.
        yield Zenpy(
            subdomain=creds["subdomain"], email=creds["email"], token=creds["token"], disable_cache=True
        )


@pytest.fixture(scope="module")
def http(base_url: str, creds: dict) -> Iterator[httpx.Client]:
    auth = (f"{creds['email']}/token", creds["token"])
    with httpx.Client(base_url=base_url, auth=auth, timeout=30) as client:
        yield client


def test_full_reads_through_zenpy_match_counts(zenpy: Zenpy, admin: SandboxAdmin) -> None:
    organizations = list(zenpy.organizations())
    users = list(zenpy.users())
    export = zenpy.tickets.incremental(start_time=0)
    tickets = list(export)
    fields = list(zenpy.organization_fields())
    counts = admin.truth("counts")["support"]

    assert len({o.id for o in organizations}) == len(organizations) == counts["organizations"]
    assert len({u.id for u in users}) == len(users) == counts["users"]
    assert len({t.id for t in tickets}) == len(tickets) == counts["tickets"]
    assert {f.key for f in fields} == {
        "plan",
        "support_entitlement",
        "sla_policy",
        "erp_customer_number",
        "seats",
        "payment_status",
        "renewal_date",
        "account_owner",
    }
    assert len(fields) == counts["organization_fields"]
    assert export.end_of_stream is True
    assert [(t.updated_at, t.id) for t in tickets] == sorted((t.updated_at, t.id) for t in tickets)
    assert Counter(u.role for u in users)["agent"] + Counter(u.role for u in users)["admin"] == 20
    org = organizations[0]
    assert set(org.organization_fields) >= {"plan", "support_entitlement", "seats"}
    assert org.created_at.endswith("Z") and not hasattr(org, "_customer")


def test_time_based_org_export_repeats_boundary_items(
    zenpy: Zenpy, http: httpx.Client, fresh_sandbox: SandboxAdmin
) -> None:
    since = SIM_NOW - 30 * 86_400
    ids = [
        o["id"]
        for o in http.get("/api/v2/organizations.json", params={"page[size]": 6}).json()["organizations"]
    ]
    job = http.put(
        "/api/v2/organizations/update_many.json",
        json={"organizations": [{"id": i, "notes": "bulk"} for i in ids]},
    )
    assert job.status_code == 200
    wait_for_job(http, job.json()["job_status"]["id"])  # the job applies the six updates later
    touched_at = fresh_sandbox.advance_clock(120) - 120  # the six orgs now share this updated_at
    older = http.get("/api/v2/incremental/organizations.json", params={"start_time": since}).json()
    before_touch = [o for o in older["organizations"] if o["id"] not in ids]
    assert older["end_of_stream"] is True and older["count"] == len(before_touch) + 6

    per_page = len(before_touch) + 3  # page 1 ends in the middle of the six sharing a timestamp
    first = http.get(
        "/api/v2/incremental/organizations.json", params={"start_time": since, "per_page": per_page}
    ).json()
    assert first["count"] == per_page and first["end_of_stream"] is False
    assert first["end_time"] == touched_at
    assert first["next_page"].startswith("http://") and f"start_time={touched_at}" in first["next_page"]
    second = http.get(first["next_page"]).json()
    assert second["end_of_stream"] is True and {o["id"] for o in second["organizations"]} == set(ids)
    repeated = {o["id"] for o in first["organizations"]} & {o["id"] for o in second["organizations"]}
    assert len(repeated) == 3

    # zenpy follows next_page until end_of_stream and so yields the boundary items twice.
    streamed = Counter(o.id for o in zenpy.organizations.incremental(start_time=since, per_page=per_page))
    assert {i for i, n in streamed.items() if n == 2} == repeated
    assert sum(streamed.values()) == len(before_touch) + 6 + 3


def test_cursor_export_resumes_with_exactly_the_changed_tickets(
    zenpy: Zenpy, fresh_sandbox: SandboxAdmin
) -> None:
    export = zenpy.tickets.incremental(start_time=SIM_NOW - 90 * 86_400)
    seen = list(export)
    assert seen and export.end_of_stream is True
    result = fresh_sandbox.simulate(8, kinds=["new_ticket", "ticket_update"], seed=11)
    changed = {c["id"] for c in result["changes"] if c["table"] == "tickets"}
    assert result["kinds"]["new_ticket"] >= 1 and changed

    resumed = list(zenpy.tickets.incremental(cursor=export.after_cursor))
    assert {t.id for t in resumed} == changed
    new = [t for t in resumed if t.status == "new"]
    assert new and all(t.id > max(s.id for s in seen) for t in new)


def test_create_or_update_matches_external_id_never_the_name(
    zenpy: Zenpy, http: httpx.Client, fresh_sandbox: SandboxAdmin
) -> None:
    created = zenpy.organizations.create_or_update(
        Organization(
            name="Brand New Co", external_id="ext-42", organization_fields={"support_entitlement": "priority"}
        )
    )
    updated = zenpy.organizations.create_or_update(
        Organization(name="Brand New Co (renamed)", external_id="ext-42")
    )
    assert updated.id == created.id and updated.name == "Brand New Co (renamed)"
    assert updated.organization_fields["support_entitlement"] == "priority"

    body = {"organization": {"name": "Raw Http Org", "notes": "first"}}
    assert http.post("/api/v2/organizations/create_or_update.json", json=body).status_code == 201
    # Zendesk identifies the organization by id or external_id only: a known name is a conflict.
    again = http.post(
        "/api/v2/organizations/create_or_update",
        json={"organization": {"name": "raw http org", "notes": "second"}},
    )
    assert again.status_code == 422 and again.json()["details"]["name"][0]["error"] == "DuplicateValue"
    by_case = http.post(
        "/api/v2/organizations/create_or_update",
        json={"organization": {"external_id": "EXT-42", "notes": "matched case-insensitively"}},
    )
    assert by_case.status_code == 200 and by_case.json()["organization"]["id"] == created.id

    duplicate = http.post(
        "/api/v2/organizations.json", json={"organization": {"name": "BRAND NEW CO (RENAMED)"}}
    )
    assert duplicate.status_code == 422
    assert (
        duplicate.json()["error"] == "RecordInvalid"
        and duplicate.json()["details"]["name"][0]["error"] == "DuplicateValue"
    )
    missing = http.post("/api/v2/organizations.json", json={"organization": {"notes": "no name"}})
    assert missing.status_code == 422 and "name" in missing.json()["details"]
    with pytest.raises(APIException):
        zenpy.organizations.create(Organization(name="Brand New Co (renamed)"))


def test_update_many_runs_as_a_job_and_put_merges_fields(
    zenpy: Zenpy, http: httpx.Client, fresh_sandbox: SandboxAdmin
) -> None:
    orgs = list(zenpy.organizations())[:3]
    for org in orgs:
        org.notes = "updated in bulk"
    job = zenpy.organizations.update(orgs)
    assert job.status == "queued" and job.total == 3
    done = wait_for_job(http, job.id)
    assert [(r["id"], r["action"], r["success"]) for r in done["results"]] == [
        (o.id, "update", True) for o in orgs
    ]
    assert all(zenpy.organizations(id=o.id).notes == "updated in bulk" for o in orgs)

    missing = http.put(
        "/api/v2/organizations/update_many.json", json={"organizations": [{"id": 1, "notes": "x"}]}
    ).json()
    results = wait_for_job(http, missing["job_status"]["id"])["results"]
    assert results[0]["success"] is False and results[0]["error"] == "RecordNotFound"
    too_many = http.put(
        "/api/v2/organizations/update_many.json", json={"organizations": [{"id": o.id} for o in orgs] * 34}
    )
    assert too_many.status_code == 400

    target = orgs[0]
    before = target.organization_fields
    clock = fresh_sandbox.advance_clock(300)
    put = http.put(
        f"/api/v2/organizations/{target.id}.json",
        json={"organization": {"organization_fields": {"seats": 77}}},
    )
    after = put.json()["organization"]
    assert put.status_code == 200 and after["organization_fields"] == {**before, "seats": 77}
    assert after["updated_at"] == to_iso(clock)
    invalid = http.put(
        f"/api/v2/organizations/{target.id}",
        json={"organization": {"organization_fields": {"support_entitlement": "gold"}}},
    )
    assert invalid.status_code == 422


def test_errors_and_headers_follow_zendesk(
    http: httpx.Client, base_url: str, creds: dict, zenpy: Zenpy
) -> None:
    too_big = http.get("/api/v2/organizations.json", params={"page[size]": 101})
    assert too_big.status_code == 400 and too_big.json()["error"] == "InvalidPaginationParameter"
    assert (
        http.get("/api/v2/incremental/tickets/cursor.json", params={"cursor": "not-a-cursor"}).status_code
        == 400
    )
    assert http.get("/api/v2/organizations", params={"page[after]": "%%%"}).status_code == 400
    recent = http.get("/api/v2/incremental/tickets/cursor.json", params={"start_time": SIM_NOW + 10**6})
    assert recent.status_code == 400 and "start_time" in recent.json()["description"]
    missing = http.get("/api/v2/organizations/12345.json")
    assert missing.status_code == 404 and missing.json() == {
        "error": "RecordNotFound",
        "description": "Not found",
    }

    page = http.get("/api/v2/organizations.json", params={"page[size]": 2})
    assert int(page.headers["X-Rate-Limit"]) == 700 and "X-Rate-Limit-Remaining" in page.headers
    assert page.json()["meta"]["has_more"] is True
    nxt = httpx.get(page.json()["links"]["next"], auth=http.auth)
    assert (
        nxt.status_code == 200
        and nxt.json()["organizations"][0]["id"] > page.json()["organizations"][-1]["id"]
    )
    bearer = httpx.get(
        f"{base_url}/api/v2/organizations.json", headers={"Authorization": f"Bearer {creds['token']}"}
    )
    assert bearer.status_code == 200

    wrong = httpx.get(f"{base_url}/api/v2/organizations.json", auth=(f"{creds['email']}/token", "nope"))
    assert wrong.status_code == 401 and wrong.json() == {"error": "Couldn't authenticate you"}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZENPY_FORCE_SCHEME", "http")
        patch.setenv("ZENPY_FORCE_NETLOC", base_url.removeprefix("http://"))
        intruder = Zenpy(
            subdomain=creds["subdomain"], email=creds["email"], token="wrong", disable_cache=True
        )
        with pytest.raises(APIException) as denied:
            list(intruder.organizations())
    assert denied.value.response.status_code == 401


def test_rate_limit_answers_429_with_retry_after(http: httpx.Client, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("support", rate_limit_quota=2, rate_limit_window_s=30)
    statuses = [http.get("/api/v2/organization_fields.json") for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    limited = statuses[-1]
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-Rate-Limit-Remaining"] == "0"
    assert statuses[0].headers["X-Rate-Limit"] == "2" and statuses[0].headers["X-Rate-Limit-Remaining"] == "1"


def test_entitlement_truth_flags_stale_orgs(http: httpx.Client, fresh_sandbox: SandboxAdmin) -> None:
    truth = fresh_sandbox.truth("entitlements")
    parties = [p for p in fresh_sandbox.truth("customers") if p["system"] == "support"]
    org_parties = [p for p in parties if p["table"] == "organizations"]
    assert len(truth) == len(org_parties) == fresh_sandbox.truth("counts")["support"]["organizations"]
    assert all(row["is_stale"] == (row["current_entitlement"] != row["correct_entitlement"]) for row in truth)
    stale = [row for row in truth if row["is_stale"]]
    assert 0.04 <= len(stale) / len(truth) <= 0.3
    duplicates = Counter(p["customer_key"] for p in org_parties)
    assert any(n > 1 for n in duplicates.values())

    result = fresh_sandbox.simulate(1, kinds=["entitlement_fix"], seed=3)
    fixed_id = result["changes"][0]["id"]
    fixed = next(row for row in fresh_sandbox.truth("entitlements") if row["organization_id"] == fixed_id)
    assert fixed["is_stale"] is False and any(row["organization_id"] == fixed_id for row in stale)
    shown = http.get(f"/api/v2/organizations/{fixed_id}.json").json()["organization"]["organization_fields"]
    assert shown["support_entitlement"] == fixed["correct_entitlement"]
