"""The Business Central imitation over loopback HTTP, with httpx as the OData client."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
ALL_STATUSES = {"matched", "missing_in_erp", "late", "amount_mismatch", "currency_mismatch", "wrong_customer"}


@pytest.fixture(scope="module")
def api_root(sandbox) -> str:
    return sandbox.settings.erp_api_root()


@pytest.fixture(scope="module")
def company(sandbox) -> str:
    return f"companies({sandbox.settings.credentials['erp']['company_id']})"


@pytest.fixture
def http(sandbox, api_root: str):
    token = sandbox.settings.credentials["erp"]["access_token"]
    with httpx.Client(
        base_url=api_root + "/", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        yield client


def read_all(http: httpx.Client, url: str, page_size: int = 50, **params) -> list[dict]:
    """Follow @odata.nextLink to the end; every page honours the requested page size."""
    records, pages = [], 0
    response = http.get(url, params=params or None, headers={"Prefer": f"odata.maxpagesize={page_size}"})
    while True:
        assert response.status_code == 200, response.text
        assert response.headers["Preference-Applied"] == f"odata.maxpagesize={page_size}"
        body = response.json()
        assert len(body["value"]) <= page_size
        records.extend(body["value"])
        pages += 1
        if "@odata.nextLink" not in body:
            return records
        assert "$skiptoken=" in body["@odata.nextLink"] and body["@odata.nextLink"].startswith("http")
        response = http.get(body["@odata.nextLink"], headers={"Prefer": f"odata.maxpagesize={page_size}"})


def iso(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_full_read_matches_truth_counts(admin, http, company):
    counts = admin.truth("counts")["erp"]
    customers = read_all(http, f"{company}/customers")
    invoices = read_all(http, f"{company}/salesInvoices", **{"$expand": "salesInvoiceLines"})
    memos = read_all(http, f"{company}/salesCreditMemos", page_size=7, **{"$expand": "salesCreditMemoLines"})
    assert len(customers) == counts["customers"] == len({c["id"] for c in customers})
    assert len(invoices) == counts["sales_invoices"] == len({i["id"] for i in invoices})
    assert sum(len(i["salesInvoiceLines"]) for i in invoices) == counts["sales_invoice_lines"]
    assert len(memos) == counts["sales_credit_memos"]
    assert sum(len(m["salesCreditMemoLines"]) for m in memos) == counts["sales_credit_memo_lines"]
    assert all(
        c["@odata.etag"].startswith('W/"Jz') and c["lastModifiedDateTime"].endswith("Z") for c in customers
    )
    assert not any(key.startswith("_") for c in customers for key in c)
    # The ERP parties are exactly the truth's ERP parties, duplicates included.
    parties = [p for p in admin.truth("customers") if p["system"] == "erp"]
    assert {p["source_id"] for p in parties} == {c["id"] for c in customers}
    per_customer = Counter(p["customer_key"] for p in parties)
    assert max(per_customer.values()) >= 2, "some real customers are keyed in twice"


def test_documents_reference_billing_and_customers(admin, http, company):
    invoices = read_all(http, f"{company}/salesInvoices", page_size=500)
    customers = {c["id"]: c for c in read_all(http, f"{company}/customers", page_size=500)}
    truth = {t["billing_document_id"]: t for t in admin.truth("invoices")}
    for invoice in invoices:
        expected = truth[invoice["externalDocumentNumber"]]
        assert expected["erp_document_id"] == invoice["id"] and expected["kind"] == "invoice"
        assert customers[invoice["customerId"]]["number"] == invoice["customerNumber"]
        assert invoice["totalAmountIncludingTax"] == pytest.approx(
            invoice["totalAmountExcludingTax"] + invoice["totalTaxAmount"]
        )
    assert all(
        t["erp_document_id"] is None for t in truth.values() if t["expected_status"] == "missing_in_erp"
    )


def test_truth_statuses_cover_every_kind(admin):
    truth = admin.truth("invoices")
    statuses = Counter(t["expected_status"] for t in truth if t["kind"] == "invoice")
    assert set(statuses) == ALL_STATUSES
    assert statuses["matched"] > 0.7 * sum(statuses.values())
    assert {t["kind"] for t in truth} == {"invoice", "credit_note"}


def test_filters_select_top_and_orderby(http, company):
    customers = read_all(http, f"{company}/customers", page_size=1000)
    some = next(c for c in customers if c["taxRegistrationNumber"] and c["email"])
    for prop in ("number", "email", "taxRegistrationNumber"):
        quoted = some[prop].replace("'", "''")
        found = http.get(f"{company}/customers", params={"$filter": f"{prop} eq '{quoted}'"}).json()["value"]
        assert some["id"] in {c["id"] for c in found}
        assert all(c[prop] == some[prop] for c in found)
    invoice = http.get(f"{company}/salesInvoices", params={"$top": 1}).json()["value"][0]
    by_ext = http.get(
        f"{company}/salesInvoices",
        params={"$filter": f"externalDocumentNumber eq '{invoice['externalDocumentNumber']}'"},
    )
    assert [i["id"] for i in by_ext.json()["value"]] == [invoice["id"]]
    page = http.get(
        f"{company}/customers",
        params={"$select": "number,displayName", "$top": "5", "$orderby": "lastModifiedDateTime desc"},
        headers={"Prefer": "odata.maxpagesize=2"},
    ).json()
    assert all(set(c) == {"@odata.etag", "number", "displayName"} for c in page["value"])
    rest = read_all(http, page["@odata.nextLink"], page_size=2)
    assert len(page["value"]) + len(rest) == 5
    newest = sorted(customers, key=lambda c: c["lastModifiedDateTime"], reverse=True)[:5]
    assert [c["number"] for c in page["value"] + rest] == [c["number"] for c in newest]
    combined = http.get(
        f"{company}/customers",
        params={"$filter": f"(number eq '{some['number']}' or number eq 'nope') and blocked ne 'x'"},
    )
    assert [c["id"] for c in combined.json()["value"]] == [some["id"]]


def test_incremental_filter_returns_exactly_the_simulated_changes(fresh_sandbox, http, company):
    admin = fresh_sandbox
    before = admin.advance_clock(1)
    result = admin.simulate(6, seed=11, kinds=["erp_credit_limit_change"])
    changed = {c["id"] for c in result["changes"]}
    assert changed and all(c["system"] == "erp" and c["table"] == "customers" for c in result["changes"])
    seen = read_all(
        http, f"{company}/customers", page_size=2, **{"$filter": f"lastModifiedDateTime gt {iso(before)}"}
    )
    assert {c["id"] for c in seen} == changed
    stamps = [c["lastModifiedDateTime"] for c in seen]
    assert stamps == sorted(stamps), "incremental reads walk lastModifiedDateTime in order"
    late = admin.simulate(1, seed=3, kinds=["erp_late_posting"])["changes"]
    assert late and late[0]["table"] == "sales_invoices"
    posted = http.get(f"{company}/salesInvoices({late[0]['id']})").json()
    truth = next(
        t for t in admin.truth("invoices") if t["billing_document_id"] == posted["externalDocumentNumber"]
    )
    assert truth["expected_status"] == "late" and truth["erp_document_id"] == posted["id"]


def test_patch_requires_current_etag(fresh_sandbox, http, company):
    customer = http.get(f"{company}/customers", params={"$top": 1}).json()["value"][0]
    url = f"{company}/customers({customer['id']})"
    missing = http.patch(url, json={"phoneNumber": "+1 555 0100"})
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "BadRequest_InvalidToken"
    updated = http.patch(
        url, json={"phoneNumber": "+1 555 0101"}, headers={"If-Match": customer["@odata.etag"]}
    )
    assert updated.status_code == 200, updated.text
    assert (
        updated.json()["phoneNumber"] == "+1 555 0101"
        and updated.json()["@odata.etag"] != customer["@odata.etag"]
    )
    assert updated.json()["lastModifiedDateTime"] > customer["lastModifiedDateTime"]
    stale = http.patch(
        url, json={"phoneNumber": "+1 555 0102"}, headers={"If-Match": customer["@odata.etag"]}
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "Request_EntityChanged"
    forced = http.patch(url, json={"phoneNumber": "+1 555 0103"}, headers={"If-Match": "*"})
    assert forced.status_code == 200 and forced.json()["phoneNumber"] == "+1 555 0103"
    assert http.get(url).json()["phoneNumber"] == "+1 555 0103"
    read_only = http.patch(url, json={"balanceDue": 1}, headers={"If-Match": "*"})
    assert read_only.status_code == 400 and read_only.json()["error"]["code"] == "BadRequest_InvalidOperation"


def test_post_customer_and_invoice_then_post_action(fresh_sandbox, http, company):
    created = http.post(
        f"{company}/customers",
        json={"displayName": "Newco Ltd", "number": "C777777", "email": "ap@newco.example"},
    )
    assert created.status_code == 201, created.text
    customer = created.json()
    assert (
        customer["number"] == "C777777"
        and customer["@odata.etag"]
        and created.headers["Location"].endswith(f"({customer['id']})")
    )
    duplicate = http.post(f"{company}/customers", json={"displayName": "Again", "number": "C777777"})
    assert (
        duplicate.status_code == 400
        and duplicate.json()["error"]["code"] == "Internal_EntityWithSameKeyExists"
    )
    nameless = http.post(f"{company}/customers", json={"email": "x@y.example"})
    assert (
        nameless.status_code == 400
        and nameless.json()["error"]["code"] == "BadRequest_RequiredParamNotProvided"
    )
    no_customer = http.post(f"{company}/salesInvoices", json={"externalDocumentNumber": "in_test"})
    assert (
        no_customer.status_code == 400
        and "customerNumber or a customerID" in no_customer.json()["error"]["message"]
    )
    invoice = http.post(
        f"{company}/salesInvoices",
        json={
            "externalDocumentNumber": "in_test",
            "customerNumber": "C777777",
            "invoiceDate": "2026-06-01",
            "salesInvoiceLines": [
                {"description": "Growth", "quantity": 3, "unitPrice": 199.0, "taxPercent": 20}
            ],
        },
    )
    assert invoice.status_code == 201, invoice.text
    draft = invoice.json()
    assert draft["status"] == "Draft" and draft["customerId"] == customer["id"]
    assert draft["totalAmountExcludingTax"] == 597.0 and draft["totalAmountIncludingTax"] == pytest.approx(
        716.4
    )
    assert http.post(f"{company}/salesInvoices({draft['id']})/Microsoft.NAV.post").status_code == 204
    posted = http.get(
        f"{company}/salesInvoices", params={"$filter": "externalDocumentNumber eq 'in_test'"}
    ).json()["value"]
    assert [p["status"] for p in posted] == ["Open"] and posted[0]["number"].isdigit()


def test_batch_snapshot_is_all_or_nothing(fresh_sandbox, http, company):
    customers = http.get(f"{company}/customers", params={"$top": 2}).json()["value"]
    requests = [
        {
            "id": "1",
            "method": "PATCH",
            "url": f"{company}/customers({customers[0]['id']})",
            "headers": {"If-Match": "*"},
            "body": {"city": "Batchville"},
        },
        {"id": "2", "method": "POST", "url": f"{company}/customers", "body": {"displayName": "Batch Newco"}},
        {
            "id": "3",
            "method": "PATCH",
            "url": f"{company}/customers({customers[1]['id']})",
            "headers": {"If-Match": 'W/"stale"'},
            "body": {"city": "X"},
        },
    ]
    response = http.post("$batch", json={"requests": requests}, headers={"Isolation": "snapshot"})
    assert response.status_code == 200
    statuses = {r["id"]: r["status"] for r in response.json()["responses"]}
    assert statuses == {"1": 200, "2": 201, "3": 409}
    assert http.get(f"{company}/customers({customers[0]['id']})").json()["city"] == customers[0]["city"]
    assert (
        http.get(f"{company}/customers", params={"$filter": "displayName eq 'Batch Newco'"}).json()["value"]
        == []
    )
    # Without isolation every inner request stands on its own.
    response = http.post("$batch", json={"requests": requests})
    assert [r["status"] for r in response.json()["responses"]] == [200, 201, 409]
    assert http.get(f"{company}/customers({customers[0]['id']})").json()["city"] == "Batchville"
    too_many = [{"id": str(i), "method": "GET", "url": f"{company}/customers?$top=1"} for i in range(101)]
    rejected = http.post("$batch", json={"requests": too_many})
    assert rejected.status_code == 400 and rejected.json()["error"]["code"] == "BadRequest"


@pytest.mark.parametrize(
    ("path", "params", "status", "code"),
    [
        ("customers", {"$filter": "lastModifiedDateTime gt"}, 400, "BadRequest_NotFound"),
        ("customers", {"$filter": "nosuchfield eq 'x'"}, 400, "BadRequest_NotFound"),
        ("customers", {"$filter": "lastModifiedDateTime gt 'yesterday'"}, 400, "BadRequest"),
        ("customers", {"$skiptoken": "garbage!"}, 400, "BadRequest"),
        ("customers(00000000-0000-0000-0000-00000000abcd)", {}, 404, "Internal_RecordNotFound"),
        ("customers(not-a-guid)", {}, 400, "BadRequest_NotFound"),
        ("vendors", {}, 404, "BadRequest_ResourceNotFound"),
    ],
)
def test_errors_have_bc_shape(http, company, path, params, status, code):
    response = http.get(f"{company}/{path}", params=params)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert "CorrelationId" in response.json()["error"]["message"]


def test_bad_token_is_rejected(api_root, company):
    response = httpx.get(f"{api_root}/{company}/customers", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Authentication_InvalidCredentials"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_metadata_is_edmx(http):
    response = http.get("$metadata")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    types = {
        e.get("Name"): {p.get("Name") for p in e.iter(f"{EDM}Property")}
        for e in root.iter(f"{EDM}EntityType")
    }
    assert {"customer", "salesInvoice", "salesInvoiceLine", "salesCreditMemo", "salesCreditMemoLine"} <= set(
        types
    )
    assert {"lastModifiedDateTime", "taxRegistrationNumber", "number"} <= types["customer"]
    assert "externalDocumentNumber" in types["salesInvoice"]
