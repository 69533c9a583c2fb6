"""ERP -> billing: every credit memo finance posted in the ERP against a billing invoice becomes a
credit note on that invoice, once, with the ERP document number kept in its metadata."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.reverse_etl.conftest import Retl


def billing_client(retl: Retl) -> httpx.Client:
    billing = retl.connections["billing"]
    return httpx.Client(
        base_url=billing["base_url"], headers={"Authorization": f"Bearer {billing['api_key']}"}, timeout=60
    )


def notes_carrying(client: httpx.Client, invoice: str, erp_number: str) -> list[dict]:
    notes = client.get("/v1/credit_notes", params={"invoice": invoice, "limit": 100}).json()["data"]
    return [n for n in notes if (n.get("metadata") or {}).get("erp_document_number") == erp_number]


def test_erp_credit_memos_reach_billing_once(retl: Retl) -> None:
    must = [m for m in retl.admin.truth("credit_memos") if m["billing_must_receive"]]
    assert must, "the seed has credit memos finance issued in the ERP"
    result = retl.run(["billing_credit_notes"])["billing_credit_notes"]
    assert result.counts["created"] == len(must), result.as_dict()

    client = billing_client(retl)
    for memo in must:
        [note] = notes_carrying(client, memo["billing_invoice_id"], memo["erp_credit_memo_number"])
        assert note["total"] == memo["amount"]
        assert note["metadata"]["erp_credit_memo_id"] == memo["erp_credit_memo_id"]
    # every create carried an idempotency key
    creates = [w for w in retl.writes("billing") if w["path"] == "/v1/credit_notes" and w["method"] == "POST"]
    assert len(creates) == len(must) and all(w["idempotency_key"] for w in creates)

    # the sync forgets it wrote them (a crash before recording): the credit notes are found, not re-created
    store = retl.store()
    store.engine.dispose()
    Path(retl.ops_dsn.removeprefix("sqlite:///")).unlink()
    again = retl.run(["billing_credit_notes"])["billing_credit_notes"]
    assert again.counts["created"] == 0 and again.counts["unchanged"] == len(must), again.as_dict()
    for memo in must:
        assert len(notes_carrying(client, memo["billing_invoice_id"], memo["erp_credit_memo_number"])) == 1
