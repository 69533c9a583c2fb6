"""Stripe: credit notes for ERP credit memos, created once thanks to `Idempotency-Key`.

The key is derived from (sync, record key, record version), so a retry, a resume after a crash or a
replay of the same version replays Stripe's saved response instead of creating a second credit note;
a new version of the record (a corrected amount) gets a new key. Before creating, the invoice's
credit notes are listed and one that already carries the ERP document number is taken as the record
(a credit note created by an earlier version of the record, or by hand).
"""

from __future__ import annotations

from typing import Any

from reverse_etl.destinations.base import HttpDestination, Operation, Outcome, apply_one_by_one, error_text
from reverse_etl.resilience import CallStats

ERP_NUMBER_KEY = "erp_document_number"


def form_fields(payload: dict[str, Any]) -> dict[str, str]:
    """Stripe's form encoding: nested keys as `metadata[key]`, numbers and booleans as text."""
    fields: dict[str, str] = {}
    for key, value in payload.items():
        if isinstance(value, dict):
            for inner, inner_value in value.items():
                fields[f"{key}[{inner}]"] = str(inner_value)
        elif isinstance(value, bool):
            fields[key] = "true" if value else "false"
        else:
            fields[key] = str(value)
    return fields


class BillingDestination(HttpDestination):
    batch_size = 100  # no batch endpoint: one request per credit note, 100 between progress reports

    def apply(self, sync_name: str, operations: list[Operation]) -> list[Outcome]:
        if sync_name != "billing_credit_notes":
            raise ValueError(f"the billing destination has no sync {sync_name!r}")
        return apply_one_by_one(operations, self._credit_note)

    def _existing(self, invoice: str, erp_number: str, stats: CallStats) -> dict | None:
        response = self.request("GET", "/v1/credit_notes", stats, params={"invoice": invoice, "limit": 100})
        if response.status_code != 200:
            return None
        for note in response.json().get("data", []):
            if (note.get("metadata") or {}).get(ERP_NUMBER_KEY) == erp_number:
                return note
        return None

    def _credit_note(self, op: Operation, stats: CallStats) -> Outcome:
        payload = dict(op.payload)
        erp_number = str(op.row.get("erp_document_number") or "")
        existing = self._existing(payload["invoice"], erp_number, stats) if erp_number else None
        if existing is not None:
            return Outcome(
                op.record_key,
                "unchanged",
                http_status=200,
                destination_id=existing["id"],
                message=f"{existing['id']} already carries ERP document {erp_number}",
            )
        metadata = {k.split(".", 1)[1]: v for k, v in payload.items() if k.startswith("metadata.")}
        body = {k: v for k, v in payload.items() if not k.startswith("metadata.")}
        if metadata:
            body["metadata"] = metadata
        response = self.request(
            "POST",
            "/v1/credit_notes",
            stats,
            data=form_fields(body),
            headers={"Idempotency-Key": op.idempotency_key},
        )
        if response.status_code != 200:
            return Outcome(
                op.record_key, "rejected", http_status=response.status_code, message=error_text(response)
            )
        note = response.json()
        replayed = response.headers.get("Idempotent-Replayed") == "true"
        return Outcome(
            op.record_key,
            "created",
            http_status=200,
            destination_id=note["id"],
            written=op.payload,
            message="idempotent replay of an earlier attempt" if replayed else None,
        )
