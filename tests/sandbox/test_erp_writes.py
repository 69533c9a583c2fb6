"""Business Central writes the reverse ETL relies on: look up by business key, draft, post, etags, $batch."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture(scope="module")
def company(sandbox) -> str:
    return f"companies({sandbox.settings.credentials['erp']['company_id']})"


@pytest.fixture
def http(sandbox):
    token = sandbox.settings.credentials["erp"]["access_token"]
    with httpx.Client(
        base_url=sandbox.settings.erp_api_root() + "/",
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    ) as client:
        yield client


def lookup(http: httpx.Client, company: str, entity_set: str, prop: str, value: str) -> list[dict]:
    quoted = value.replace("'", "''")
    response = http.get(f"{company}/{entity_set}", params={"$filter": f"{prop} eq '{quoted}'"})
    assert response.status_code == 200, response.text
    return response.json()["value"]


def test_credit_memo_lookup_draft_post_and_etags(fresh_sandbox, http, company):
    invoice = http.get(f"{company}/salesInvoices", params={"$top": 1, "$filter": "status eq 'Open'"}).json()[
        "value"
    ][0]
    assert (
        lookup(http, company, "customers", "number", invoice["customerNumber"])[0]["id"]
        == invoice["customerId"]
    )
    assert lookup(http, company, "salesCreditMemos", "externalDocumentNumber", "cn_sync_1") == []

    created = http.post(
        f"{company}/salesCreditMemos",
        json={
            "externalDocumentNumber": "cn_sync_1",
            "customerNumber": invoice["customerNumber"],
            "invoiceId": invoice["id"],
            "invoiceNumber": invoice["number"],
            "creditMemoDate": "2026-06-02",
            "salesCreditMemoLines": [{"description": "Credit", "quantity": 1, "unitPrice": 10.0}],
        },
    )
    assert created.status_code == 201, created.text
    draft = created.json()
    assert draft["status"] == "Draft" and draft["invoiceId"] == invoice["id"]
    assert created.headers["ETag"] == draft["@odata.etag"]
    found = lookup(http, company, "salesCreditMemos", "externalDocumentNumber", "cn_sync_1")
    assert [m["id"] for m in found] == [draft["id"]]

    url = f"{company}/salesCreditMemos({draft['id']})"
    no_tag = http.patch(url, json={"dueDate": "2026-06-30"})
    assert no_tag.status_code == 400 and no_tag.json()["error"]["code"] == "BadRequest_InvalidToken"
    patched = http.patch(url, json={"dueDate": "2026-06-30"}, headers={"If-Match": draft["@odata.etag"]})
    assert patched.status_code == 200 and patched.json()["@odata.etag"] != draft["@odata.etag"]
    stale = http.patch(url, json={"dueDate": "2026-07-01"}, headers={"If-Match": draft["@odata.etag"]})
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "Request_EntityChanged"

    assert http.post(f"{url}/Microsoft.NAV.post").status_code == 204
    posted = http.get(url).json()
    assert posted["status"] == "Open" and posted["number"] != draft["number"]
    assert posted["@odata.etag"] not in (draft["@odata.etag"], patched.json()["@odata.etag"])
    again = http.post(f"{url}/Microsoft.NAV.post")
    assert again.status_code == 400 and again.json()["error"]["code"] == "Application_DialogException"


def test_batch_creates_are_logged_per_inner_request(fresh_sandbox, http, company):
    customer = http.get(f"{company}/customers", params={"$top": 1}).json()["value"][0]
    since = fresh_sandbox.requests(system="erp")[-1]["seq"] if fresh_sandbox.requests(system="erp") else 0
    requests = [
        {
            "id": str(n),
            "method": "POST",
            "url": f"{company}/salesInvoices",
            "headers": {"Content-Type": "application/json"},
            "body": {"externalDocumentNumber": f"in_batch_{n}", "customerNumber": customer["number"]},
        }
        for n in (1, 2)
    ] + [
        {
            "id": "3",
            "method": "PATCH",
            "url": f"{company}/customers({customer['id']})",
            "headers": {"If-Match": customer["@odata.etag"]},
            "body": {"city": "Batchburg"},
        }
    ]
    response = http.post("$batch", json={"requests": requests}, headers={"Isolation": "snapshot"})
    assert response.status_code == 200
    answers = response.json()["responses"]
    assert [a["status"] for a in answers] == [201, 201, 200]
    assert all(a["headers"]["etag"] == a["body"]["@odata.etag"] for a in answers)
    logged = [r for r in fresh_sandbox.requests(system="erp", since=since) if r["path"].endswith("$batch")]
    assert len(logged) == 1 and logged[0]["received_at"] <= logged[0]["at"]
    inner = logged[0]["batch"]
    assert [(i["method"], i["path"], i["status"]) for i in inner] == [
        ("POST", f"{company}/salesInvoices", 201),
        ("POST", f"{company}/salesInvoices", 201),
        ("PATCH", f"{company}/customers({customer['id']})", 200),
    ]
    assert inner[2]["if_match"] == customer["@odata.etag"]
    # Replaying the same batch with the now stale etag rolls the whole snapshot back.
    replay = http.post("$batch", json={"requests": requests}, headers={"Isolation": "snapshot"})
    assert [a["status"] for a in replay.json()["responses"]] == [201, 201, 409]
    assert len(lookup(http, company, "salesInvoices", "externalDocumentNumber", "in_batch_1")) == 1
