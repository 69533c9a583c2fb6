"""Credit notes written through the Stripe imitation: validation, invoice bookkeeping, idempotency."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import stripe

from sandbox.client import SandboxAdmin
from sandbox.process import SandboxProcess
from tests.conftest import make_settings
from tests.sandbox.stripe_schema import schema_errors


@pytest.fixture(scope="module")
def creds(admin) -> dict:
    return admin.credentials()["billing"]


@pytest.fixture(scope="module")
def http(creds):
    with httpx.Client(
        base_url=creds["base_url"], headers={"Authorization": f"Bearer {creds['api_key']}"}, timeout=30
    ) as c:
        yield c


def uncredited(http: httpx.Client, status: str) -> dict:
    """An invoice with the status and no credit note yet."""
    page = http.get("/v1/invoices", params={"status": status, "limit": 100}).json()["data"]
    for invoice in page:
        if (
            invoice["total"] > 1000
            and not invoice["pre_payment_credit_notes_amount"]
            and not invoice["post_payment_credit_notes_amount"]
        ):
            return invoice
    raise AssertionError(f"no uncredited {status} invoice in the first page")


def error(response: httpx.Response) -> dict:
    assert response.status_code == 400, response.text
    return response.json()["error"]


def test_credit_note_on_open_invoice_lowers_amount_due_and_is_listed(fresh_sandbox, http, shared_dir: Path):
    invoice = uncredited(http, "open")
    part = invoice["total"] // 3
    form = {
        "invoice": invoice["id"],
        "amount": str(part),
        "reason": "order_change",
        "memo": "ERP credit memo CM-1001",
        "metadata[erp_credit_memo]": "CM-1001",
    }
    created = http.post("/v1/credit_notes", data=form, headers={"Idempotency-Key": "cn-1"})
    assert created.status_code == 200, created.text
    note = created.json()
    assert schema_errors(shared_dir, "credit_note", note) == []
    assert note["type"] == "pre_payment" and note["total"] == note["amount"] == part
    assert note["subtotal"] + sum(t["amount"] for t in note["tax_amounts"]) == part
    assert note["metadata"] == {"erp_credit_memo": "CM-1001"} and note["memo"] == "ERP credit memo CM-1001"
    assert note["number"].startswith(invoice["number"] + "-CN-")

    after = http.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["pre_payment_credit_notes_amount"] == part
    assert after["amount_due"] == invoice["amount_due"] - part and after["status"] == "open"
    listed = http.get("/v1/credit_notes", params={"invoice": invoice["id"]}).json()["data"]
    assert [cn["id"] for cn in listed] == [note["id"]]
    assert http.get(f"/v1/credit_notes/{note['id']}").json() == note
    events = http.get("/v1/events", params={"type": "credit_note.created", "limit": 5}).json()["data"]
    assert events[0]["data"]["object"]["id"] == note["id"]
    assert events[0]["request"]["idempotency_key"] == "cn-1"
    assert schema_errors(shared_dir, "event", events[0]) == []
    assert schema_errors(shared_dir, "credit_note", events[0]["data"]["object"]) == []

    # Same key + same parameters (in another order) replays; other parameters are refused.
    replay = http.post(
        "/v1/credit_notes", data=dict(reversed(list(form.items()))), headers={"Idempotency-Key": "cn-1"}
    )
    assert replay.json()["id"] == note["id"] and replay.headers["idempotent-replayed"] == "true"
    conflict = http.post(
        "/v1/credit_notes", data={**form, "amount": "1"}, headers={"Idempotency-Key": "cn-1"}
    )
    assert error(conflict)["type"] == "idempotency_error"
    elsewhere = http.post("/v1/customers", data={"name": "x"}, headers={"Idempotency-Key": "cn-1"})
    assert error(elsewhere)["type"] == "idempotency_error" and "same endpoint" in error(elsewhere)["message"]
    assert len(http.get("/v1/credit_notes", params={"invoice": invoice["id"]}).json()["data"]) == 1

    # The sum of credit notes never exceeds the invoice total; crediting the rest marks it paid.
    rest = invoice["total"] - part
    too_much = error(http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": str(rest + 1)}))
    assert too_much["param"] == "amount" and too_much["type"] == "invalid_request_error"
    second = http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": str(rest)})
    assert second.status_code == 200, second.text
    assert second.json()["number"] != note["number"]
    paid = http.get(f"/v1/invoices/{invoice['id']}").json()
    assert paid["status"] == "paid" and paid["amount_due"] == 0
    assert paid["pre_payment_credit_notes_amount"] == invoice["total"]
    exhausted = error(http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "1"}))
    assert exhausted["param"] == "amount"
    updated = http.get("/v1/events", params={"type": "invoice.updated", "limit": 2}).json()["data"]
    assert updated[-1]["data"]["previous_attributes"] == {"pre_payment_credit_notes_amount": 0}


def test_paid_invoice_needs_the_post_payment_split_and_takes_lines(fresh_sandbox, http, shared_dir: Path):
    invoice = uncredited(http, "paid")
    line_id = invoice["lines"]["data"][0]["id"]
    lines = {
        "invoice": invoice["id"],
        "lines[0][type]": "invoice_line_item",
        "lines[0][invoice_line_item]": line_id,
        "lines[0][quantity]": "1",
        "lines[1][type]": "custom_line_item",
        "lines[1][unit_amount]": "500",
        "lines[1][quantity]": "2",
        "lines[1][description]": "Goodwill",
    }
    unsettled = error(http.post("/v1/credit_notes", data=lines))
    assert "out of band amount" in unsettled["message"]
    seats = invoice["lines"]["data"][0]["quantity"]
    taxable = invoice["subtotal"] - sum(d["amount"] for d in invoice["lines"]["data"][0]["discount_amounts"])
    line_amount = taxable * 1 // seats
    tax = round(line_amount * invoice["tax"] / taxable) if invoice["tax"] else 0
    total = line_amount + tax + 1000
    created = http.post("/v1/credit_notes", data={**lines, "out_of_band_amount": str(total)})
    assert created.status_code == 200, created.text
    note = created.json()
    assert schema_errors(shared_dir, "credit_note", note) == []
    assert note["type"] == "post_payment" and note["amount"] == total and note["out_of_band_amount"] == total
    kinds = [(line["type"], line["amount"]) for line in note["lines"]["data"]]
    assert kinds == [("invoice_line_item", line_amount), ("custom_line_item", 1000)]
    paged = http.get(f"/v1/credit_notes/{note['id']}/lines", params={"limit": 1}).json()
    assert paged["has_more"] is True and paged["data"] == note["lines"]["data"][:1]
    rest = http.get(f"/v1/credit_notes/{note['id']}/lines", params={"starting_after": paged["data"][0]["id"]})
    assert rest.json()["data"] == note["lines"]["data"][1:]
    for line in note["lines"]["data"]:
        assert schema_errors(shared_dir, "credit_note_line_item", line) == []
    after = http.get(f"/v1/invoices/{invoice['id']}").json()
    assert after["post_payment_credit_notes_amount"] == total and after["amount_due"] == invoice["amount_due"]


def test_credit_note_validation_errors(fresh_sandbox, http):
    invoice = uncredited(http, "open")
    unknown = error(
        http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "5", "colour": "x"})
    )
    assert unknown["code"] == "parameter_unknown" and unknown["param"] == "colour"
    assert error(http.post("/v1/credit_notes", data={"amount": "5"}))["code"] == "parameter_missing"
    nothing = error(http.post("/v1/credit_notes", data={"invoice": invoice["id"]}))
    assert nothing["code"] == "parameter_missing"
    zero = error(http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "0"}))
    assert zero["param"] == "amount"
    reason = error(
        http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "5", "reason": "oops"})
    )
    assert reason["param"] == "reason"
    absent = http.post("/v1/credit_notes", data={"invoice": "in_nope", "amount": "5"})
    assert absent.status_code == 404 and absent.json()["error"]["code"] == "resource_missing"
    wrong_line = {"invoice": invoice["id"], "lines[0][type]": "invoice_line_item"}
    assert error(http.post("/v1/credit_notes", data={**wrong_line, "lines[0][invoice_line_item]": "il_x"}))
    voided = http.post(f"/v1/invoices/{invoice['id']}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "void"
    on_void = error(http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "5"}))
    assert on_void["param"] == "invoice" and on_void["type"] == "invalid_request_error"
    assert http.get("/v1/credit_notes", params={"invoice": invoice["id"]}).json()["data"] == []


def test_update_memo_and_metadata_through_the_sdk(fresh_sandbox, creds, http):
    client = stripe.StripeClient(
        creds["api_key"], base_addresses={"api": creds["base_url"]}, max_network_retries=0
    )
    invoice = uncredited(http, "open")
    note = client.v1.credit_notes.create(
        params={"invoice": invoice["id"], "amount": 700, "metadata": {"a": "1", "b": "2"}}
    )
    changed = client.v1.credit_notes.update(note.id, params={"memo": "fixed", "metadata": {"a": ""}})
    assert changed.memo == "fixed" and changed.metadata.to_dict() == {"b": "2"}
    event = client.v1.events.list(params={"type": "credit_note.updated", "limit": 1}).data[0]
    assert event.data.object.id == note.id
    assert event.data.previous_attributes.to_dict() == {"memo": None, "metadata": {"a": "1"}}
    bad = http.post(f"/v1/credit_notes/{note.id}", data={"amount": "5"})
    assert error(bad)["code"] == "parameter_unknown"
    assert http.post("/v1/credit_notes/cn_nope", data={"memo": "x"}).status_code == 404


def test_idempotency_keys_expire_after_a_day(fresh_sandbox, http):
    invoice = uncredited(http, "open")
    headers = {"Idempotency-Key": "cn-expiring"}
    first = http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "300"}, headers=headers)
    fresh_sandbox.advance_clock(23 * 3600)
    held = http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "400"}, headers=headers)
    assert error(held)["type"] == "idempotency_error"
    fresh_sandbox.advance_clock(3600)
    reused = http.post("/v1/credit_notes", data={"invoice": invoice["id"], "amount": "400"}, headers=headers)
    assert reused.status_code == 200 and reused.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in reused.headers


def test_credit_notes_survive_a_restart(tmp_path):
    settings = make_settings(tmp_path / "sbx", scale=40)
    headers = {"Authorization": f"Bearer {settings.credentials['billing']['api_key']}"}
    base = settings.base_url("billing")
    with SandboxProcess(settings, fresh=True):
        with httpx.Client(base_url=base, headers=headers) as http:
            invoice = uncredited(http, "paid")
            note = http.post(
                "/v1/credit_notes",
                data={"invoice": invoice["id"], "amount": "250", "out_of_band_amount": "250"},
                headers={"Idempotency-Key": "restart-key"},
            ).json()
    with SandboxProcess(settings), httpx.Client(base_url=base, headers=headers) as http:
        assert http.get(f"/v1/credit_notes/{note['id']}").json() == note
        replay = http.post(
            "/v1/credit_notes",
            data={"invoice": invoice["id"], "amount": "250", "out_of_band_amount": "250"},
            headers={"Idempotency-Key": "restart-key"},
        )
        assert replay.json()["id"] == note["id"] and replay.headers["idempotent-replayed"] == "true"
        assert http.get(f"/v1/invoices/{invoice['id']}").json()["post_payment_credit_notes_amount"] == 250
        listed = http.get("/v1/credit_notes", params={"invoice": invoice["id"]}).json()["data"]
        assert [cn["id"] for cn in listed] == [note["id"]]
        assert SandboxAdmin(settings).requests(system="billing")[-1]["idempotency_key"] == "restart-key"
