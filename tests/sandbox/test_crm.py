"""The HubSpot imitation, driven through the official `hubspot-api-client` over loopback HTTP."""

from __future__ import annotations

import re

import httpx
import pytest
from hubspot import HubSpot
from hubspot.crm.companies import ApiException as CompaniesApiException
from hubspot.crm.companies import BatchInputSimplePublicObjectBatchInputUpsert, PublicObjectSearchRequest

from sandbox.vendors.crm.render import iso_ms

ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RATE_LIMIT_HEADERS = (
    "X-HubSpot-RateLimit-Daily",
    "X-HubSpot-RateLimit-Daily-Remaining",
    "X-HubSpot-RateLimit-Interval-Milliseconds",
    "X-HubSpot-RateLimit-Max",
    "X-HubSpot-RateLimit-Remaining",
    "X-HubSpot-RateLimit-Secondly",
    "X-HubSpot-RateLimit-Secondly-Remaining",
)


@pytest.fixture(scope="module")
def base_url(sandbox) -> str:
    return sandbox.settings.base_url("crm")


@pytest.fixture(scope="module")
def token(sandbox) -> str:
    return sandbox.settings.credentials["crm"]["access_token"]


@pytest.fixture(scope="module")
def hubspot(base_url: str, token: str) -> HubSpot:
    # Every discovery property builds a fresh ApiClient from this config, so `host` sticks.
    return HubSpot(access_token=token, host=base_url)


@pytest.fixture
def http(base_url: str, token: str):
    with httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        yield client


def crm_truth(admin, table: str) -> set[str]:
    return {p["source_id"] for p in admin.truth("customers") if p["system"] == "crm" and p["table"] == table}


def page_through(api, **kwargs) -> list:
    results, after = [], None
    while True:
        page = api.get_page(limit=100, after=after, **kwargs)
        results.extend(page.results)
        if page.paging is None or page.paging.next is None:
            return results
        after = page.paging.next.after


def test_get_page_walks_every_company_and_contact(hubspot: HubSpot, admin) -> None:
    counts = admin.truth("counts")["crm"]
    companies = page_through(
        hubspot.crm.companies.basic_api, properties=["name", "domain", "country", "erp_customer_number"]
    )
    assert {c.id for c in companies} == crm_truth(admin, "companies")
    assert len(companies) == counts["companies"]
    assert [int(c.id) for c in companies] == sorted(int(c.id) for c in companies)
    for company in companies:
        assert company.properties["hs_object_id"] == company.id
        assert ISO_MS.match(company.properties["hs_lastmodifieddate"])
        assert all(v is None or isinstance(v, str) for v in company.properties.values())

    contacts = page_through(hubspot.crm.contacts.basic_api, associations=["companies"])
    assert {c.id for c in contacts} == crm_truth(admin, "contacts")
    company_ids = {c.id for c in companies}
    associated = [a.id for c in contacts if c.associations for a in c.associations["companies"].results]
    assert len(associated) == counts["contact_company_associations"] < len(contacts)
    assert set(associated) <= company_ids


def test_get_all_and_the_absolute_next_link(hubspot: HubSpot, http: httpx.Client, admin) -> None:
    assert len(hubspot.crm.contacts.get_all()) == admin.truth("counts")["crm"]["contacts"]
    first = http.get("/crm/v3/objects/companies", params={"limit": 3, "properties": "name"}).json()
    link = first["paging"]["next"]["link"]
    assert link.startswith("http://") and f"after={first['paging']['next']['after']}" in link
    second = http.get(link).json()
    assert len(second["results"]) == 3
    assert int(second["results"][0]["id"]) > int(first["results"][-1]["id"])


def test_duplicates_share_a_customer(admin) -> None:
    companies = [p for p in admin.truth("customers") if p["system"] == "crm" and p["table"] == "companies"]
    keys = [p["customer_key"] for p in companies]
    assert len(set(keys)) < len(keys), "some customers must exist twice in the CRM"
    assert all(re.fullmatch(r"C\d{7}", key) for key in keys)


def test_search_on_last_modified_returns_exactly_the_changed_companies(
    fresh_sandbox, hubspot: HubSpot
) -> None:
    before_ms = fresh_sandbox.advance_clock(0) * 1000
    result = fresh_sandbox.simulate(6, kinds=["crm_address_change"], seed=11)
    changed = {c["id"] for c in result["changes"] if c["table"] == "companies"}
    assert changed
    request = PublicObjectSearchRequest(
        filter_groups=[
            {"filters": [{"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": str(before_ms)}]}
        ],
        sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
        properties=["address", "city", "zip"],
        limit=200,
    )
    found = hubspot.crm.companies.search_api.do_search(public_object_search_request=request)
    assert {r.id for r in found.results} == changed
    assert found.total == len(changed)
    stamps = [r.properties["hs_lastmodifieddate"] for r in found.results]
    assert stamps == sorted(stamps)


def test_search_pages_by_offset_and_caps_at_ten_thousand(hubspot: HubSpot, http: httpx.Client, admin) -> None:
    seen, after = [], None
    while True:
        request = PublicObjectSearchRequest(sorts=["hs_lastmodifieddate"], limit=200, after=after)
        page = hubspot.crm.companies.search_api.do_search(public_object_search_request=request)
        seen.extend(page.results)
        if page.paging is None:
            break
        after = page.paging.next.after
    assert page.total == len(seen) == admin.truth("counts")["crm"]["companies"]
    assert len({r.id for r in seen}) == len(seen)
    too_far = http.post("/crm/v3/objects/companies/search", json={"after": "10000", "limit": 10})
    assert too_far.status_code == 400 and too_far.json()["category"] == "VALIDATION_ERROR"
    too_big = http.post("/crm/v3/objects/contacts/search", json={"limit": 201})
    assert too_big.status_code == 400


def test_batch_upsert_complete_and_partial(fresh_sandbox, hubspot: HubSpot, http: httpx.Client) -> None:
    existing = http.post(
        "/crm/v3/objects/companies/search",
        json={
            "filterGroups": [
                {"filters": [{"propertyName": "erp_customer_number", "operator": "HAS_PROPERTY"}]}
            ],
            "properties": ["erp_customer_number"],
            "limit": 1,
        },
    ).json()["results"][0]
    erp_number = existing["properties"]["erp_customer_number"]
    batch = hubspot.crm.companies.batch_api
    ok = batch.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {
                    "idProperty": "erp_customer_number",
                    "id": erp_number,
                    "properties": {"phone": "+1 555 0100"},
                },
                {
                    "idProperty": "erp_customer_number",
                    "id": "C999001",
                    "properties": {"name": "Brand New GmbH"},
                },
            ]
        )
    )
    assert ok.status == "COMPLETE"
    by_new = {r.new: r for r in ok.results}
    assert by_new[False].id == existing["id"]
    assert (
        hubspot.crm.companies.basic_api.get_by_id(existing["id"], properties=["phone"]).properties["phone"]
        == "+1 555 0100"
    )
    created = http.get(
        "/crm/v3/objects/companies/C999001",
        params={"idProperty": "erp_customer_number", "properties": "name"},
    )
    assert (
        created.json()["id"] == by_new[True].id and created.json()["properties"]["name"] == "Brand New GmbH"
    )

    partial = http.post(
        "/crm/v3/objects/companies/batch/upsert",
        json={
            "inputs": [
                {"idProperty": "erp_customer_number", "id": "C999002", "properties": {"name": "Fine Ltd"}},
                {
                    "idProperty": "erp_customer_number",
                    "id": "C999003",
                    "properties": {"no_such_property": "x"},
                },
                {"idProperty": "erp_customer_number", "properties": {"name": "No id"}},
            ]
        },
    )
    assert partial.status_code == 207
    body = partial.json()
    assert body["status"] == "COMPLETE" and body["numErrors"] == 2 and len(body["results"]) == 1
    assert all(e["status"] == "error" and e["category"] == "VALIDATION_ERROR" for e in body["errors"])
    assert "no_such_property" in body["errors"][0]["message"] and body["errors"][0]["context"] == {
        "ids": ["C999003"]
    }
    # The official client parses the 207 into its WithErrors model.
    parsed = batch.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[{"idProperty": "erp_customer_number", "id": "C999004", "properties": {"bogus": "1"}}]
        )
    )
    assert parsed.num_errors == 1 and parsed.errors[0].category == "VALIDATION_ERROR"

    too_many = http.post(
        "/crm/v3/objects/companies/batch/upsert",
        json={
            "inputs": [
                {"idProperty": "erp_customer_number", "id": f"C9{i:05d}", "properties": {}}
                for i in range(101)
            ]
        },
    )
    assert too_many.status_code == 400 and too_many.json()["category"] == "VALIDATION_ERROR"


def test_writes_stamp_the_simulated_clock(fresh_sandbox, http: httpx.Client) -> None:
    clock_ms = fresh_sandbox.advance_clock(3600) * 1000
    contact = http.get("/crm/v3/objects/contacts", params={"limit": 1}).json()["results"][0]
    patched = http.patch(
        f"/crm/v3/objects/contacts/{contact['id']}", json={"properties": {"jobtitle": "VP Finance"}}
    )
    assert patched.status_code == 200
    props = patched.json()["properties"]
    assert props["jobtitle"] == "VP Finance" and props["lastmodifieddate"] >= iso_ms(clock_ms)
    rejected = http.patch(
        f"/crm/v3/objects/contacts/{contact['id']}", json={"properties": {"hs_object_id": "1"}}
    )
    assert rejected.status_code == 400 and rejected.json()["category"] == "VALIDATION_ERROR"


def test_errors_have_hubspot_shape(hubspot: HubSpot, http: httpx.Client, base_url: str) -> None:
    with pytest.raises(CompaniesApiException) as too_large:
        hubspot.crm.companies.basic_api.get_page(limit=101)
    assert too_large.value.status == 400

    missing = http.get("/crm/v3/objects/companies/1")
    assert missing.status_code == 404
    assert missing.json()["category"] == "OBJECT_NOT_FOUND" and missing.json()["status"] == "error"

    for headers in ({}, {"Authorization": "Bearer pat-na1-wrong"}):
        denied = httpx.get(f"{base_url}/crm/v3/objects/contacts", headers=headers)
        body = denied.json()
        assert denied.status_code == 401
        assert body["status"] == "error" and body["category"] == "INVALID_AUTHENTICATION"
        assert body["message"].startswith("Authentication credentials not found.")
        assert re.fullmatch(r"[0-9a-f-]{36}", body["correlationId"])

    ok = http.get("/crm/v3/objects/contacts", params={"limit": 1})
    assert all(name in ok.headers for name in RATE_LIMIT_HEADERS)
    assert ok.headers["X-HubSpot-RateLimit-Max"] == "100"


def test_injected_quota_returns_429_with_rate_limit_headers(fresh_sandbox, http: httpx.Client) -> None:
    fresh_sandbox.set_faults("crm", rate_limit_quota=3, rate_limit_window_s=10)
    statuses = [http.get("/crm/v3/objects/companies", params={"limit": 1}) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[1].headers["X-HubSpot-RateLimit-Max"] == "3"
    assert statuses[1].headers["X-HubSpot-RateLimit-Remaining"] == "1"
    limited = statuses[3]
    assert limited.json()["category"] == "RATE_LIMITS" and limited.json()["status"] == "error"
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert int(limited.headers["Retry-After"]) >= 1


def test_new_customers_and_owner_changes_show_up(fresh_sandbox, http: httpx.Client) -> None:
    before = fresh_sandbox.truth("counts")["crm"]
    result = fresh_sandbox.simulate(6, kinds=["new_customer", "crm_owner_change"], seed=5)
    crm = [c for c in result["changes"] if c["system"] == "crm"]
    new_companies = {c["id"] for c in crm if c["kind"] == "new_customer" and c["table"] == "companies"}
    new_contacts = {c["id"] for c in crm if c["kind"] == "new_customer" and c["table"] == "contacts"}
    after = fresh_sandbox.truth("counts")["crm"]
    assert after["companies"] == before["companies"] + len(new_companies)
    assert after["contact_company_associations"] == before["contact_company_associations"] + len(new_contacts)
    for company_id in new_companies:
        company = http.get(
            f"/crm/v3/objects/companies/{company_id}",
            params={"properties": "name,city,lifecyclestage", "associations": "contacts"},
        ).json()
        assert company["properties"]["city"] and company["properties"]["lifecyclestage"] == "customer"
        assert {a["id"] for a in company["associations"]["contacts"]["results"]} <= new_contacts
    owner_changed = {c["id"] for c in crm if c["kind"] == "crm_owner_change"}
    stamps = [http.get(f"/crm/v3/objects/companies/{i}").json()["updatedAt"] for i in owner_changed]
    assert all(s >= iso_ms(result["clock"] * 1000 - 6 * 900_000) for s in stamps)
