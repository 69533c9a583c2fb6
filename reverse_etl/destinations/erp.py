"""Business Central (API v2.0): customers through JSON `$batch`, sales documents one by one.

BC has no upsert by external key, so creates are guarded by look-ups:
- customers: a create left unconfirmed by a crash (intent) or a retried batch is looked up by its
  business key (`number`, else `displayName` + `email`) before it is sent again;
- documents: always looked up by `externalDocumentNumber` (the billing document id) first; a draft
  left by an interrupted run is posted, a posted one is reported as already there.
Updates are `PATCH` with `If-Match` (the ETag last read). On 409/412 the record is read again: if a
field Syncline writes was changed by someone else since Syncline last saw it, that is a conflict,
reported and not overwritten; otherwise (someone changed a field the ERP owns) the PATCH is repeated
with the new ETag.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from reverse_etl.destinations.base import (
    DestinationError,
    HttpDestination,
    Operation,
    Outcome,
    apply_one_by_one,
    error_text,
    guarded,
)
from reverse_etl.resilience import CallStats, CircuitOpenError, TransientError

MAX_BATCH = 100  # BC's limit of requests per $batch
CONFLICT_STATUSES = (409, 412)
DOCUMENT_LINES = {"salesInvoices": "salesInvoiceLines", "salesCreditMemos": "salesCreditMemoLines"}
DOCUMENT_DATE = {"salesInvoices": "invoiceDate", "salesCreditMemos": "creditMemoDate"}


def odata_literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def api_root(base_url: str, tenant: str, environment: str) -> str:
    """The API v2.0 root: `$batch` lives here, entities under `companies({id})/`."""
    return f"{base_url.rstrip('/')}/v2.0/{tenant}/{environment}/api/v2.0"


class ErpDestination(HttpDestination):
    batch_size = MAX_BATCH

    def __init__(
        self,
        *args: Any,
        company_id: str,
        baseline_reader: Callable[[str], dict[str, Any]] | None = None,
        customer_id_for: Callable[[str], str | None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.company = f"companies({company_id})"
        # the ERP's values as last ingested (conflict baseline when Syncline never wrote the record)
        self.baseline_reader = baseline_reader or (lambda erp_id: {})
        # ERP customer id of a golden customer created by the customer sync (not yet ingested)
        self.customer_id_for = customer_id_for or (lambda golden_id: None)

    def apply(self, sync_name: str, operations: list[Operation]) -> list[Outcome]:
        if sync_name == "erp_customers":
            return self._customers(operations)
        if sync_name == "erp_invoices":
            return apply_one_by_one(operations, self._document)
        raise ValueError(f"the ERP destination has no sync {sync_name!r}")

    # -- customers ---------------------------------------------------------------------------------
    def _find_customer(self, op: Operation) -> dict | None:
        payload = op.payload
        if payload.get("number"):
            query = f"number eq {odata_literal(payload['number'])}"
        elif payload.get("displayName"):
            query = f"displayName eq {odata_literal(payload['displayName'])}"
        else:
            return None
        response = self.request("GET", f"/{self.company}/customers", params={"$filter": query})
        if response.status_code != 200:
            raise DestinationError(f"customer look-up failed: {error_text(response)}")
        for entity in response.json().get("value", []):
            if payload.get("number") or entity.get("email") == payload.get("email"):
                return entity
        return None

    def _customers(self, operations: list[Operation]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        to_send: list[Operation] = []
        try:
            for op in operations:
                if op.operation == "insert" and op.resumed:
                    found = guarded(op, lambda stats, op=op: self._adopt_found(op))
                    if found.status == "created":
                        outcomes.append(found)
                        continue
                to_send.append(op)
            if to_send:
                outcomes.extend(self._send_customer_batch(to_send))
        except CircuitOpenError as exc:
            done = {o.record_key for o in outcomes}
            outcomes.extend(
                Outcome(op.record_key, "queued", message=str(exc))
                for op in operations
                if op.record_key not in done
            )
        return outcomes

    def _adopt_found(self, op: Operation) -> Outcome:
        entity = self._find_customer(op)
        if entity is None:
            return Outcome(op.record_key, "not_found")
        return self._written(op, "created", 200, entity, "found by its business key after an interrupted run")

    def _written(
        self, op: Operation, status: str, http_status: int, entity: dict, message: str | None = None
    ):
        return Outcome(
            op.record_key,
            status,
            http_status=http_status,
            destination_id=entity.get("id"),
            etag=entity.get("@odata.etag"),
            written={prop: entity.get(prop) for prop in op.payload},
            message=message,
        )

    def _customer_request(self, index: int, op: Operation) -> dict:
        if op.operation == "insert":
            return {
                "id": str(index),
                "method": "POST",
                "url": f"{self.company}/customers",
                "body": op.payload,
                "headers": {"Content-Type": "application/json"},
            }
        return {
            "id": str(index),
            "method": "PATCH",
            "url": f"{self.company}/customers({op.destination_id})",
            "body": op.payload,
            "headers": {"Content-Type": "application/json", "If-Match": op.etag or "*"},
        }

    def _send_customer_batch(self, operations: list[Operation]) -> list[Outcome]:
        stats = CallStats()
        started = time.perf_counter()
        pending = list(operations)
        recovered: list[Outcome] = []

        def send() -> httpx.Response:
            nonlocal pending
            if stats.attempts > 1:
                # the previous attempt may have been applied before it failed: look creates up first
                still = []
                for op in pending:
                    entity = self._find_customer(op) if op.operation == "insert" else None
                    if entity is None:
                        still.append(op)
                    else:
                        recovered.append(
                            self._written(op, "created", 200, entity, "found after a retried batch")
                        )
                pending = still
            body = {"requests": [self._customer_request(i, op) for i, op in enumerate(pending)]}
            return self.client.post(
                "/$batch",
                json=body,
                headers={"X-Correlation-Id": self._correlation(), "Content-Type": "application/json"},
            )

        try:
            response = self.resilience.call(send, stats)
        except TransientError as exc:
            return recovered + [
                Outcome(
                    op.record_key,
                    "transient",
                    http_status=exc.status,
                    message=str(exc),
                    attempts=stats.attempts,
                )
                for op in pending
            ]
        elapsed = round((time.perf_counter() - started) * 1000, 2)  # a record waits for its whole request
        if response.status_code != 200:
            reason = error_text(response)
            return recovered + [
                Outcome(op.record_key, "rejected", http_status=response.status_code, message=reason)
                for op in pending
            ]
        answers = {r.get("id"): r for r in response.json().get("responses", [])}
        outcomes = list(recovered)
        for index, op in enumerate(pending):
            answer = answers.get(str(index)) or {}
            status = int(answer.get("status") or 0)
            body = answer.get("body") or {}
            if status in (200, 201):
                outcome = self._written(
                    op, "created" if op.operation == "insert" else "updated", status, body
                )
            elif status in CONFLICT_STATUSES and op.operation == "update":
                outcome = self._follow_up(op, self._resolve_conflict)
            elif status == 429 or status >= 500:
                outcome = self._follow_up(op, self._send_one)
            else:
                outcome = Outcome(op.record_key, "rejected", http_status=status, message=f"{status} {body}")
            outcome.attempts = max(outcome.attempts, stats.attempts)  # the batch's attempts
            outcome.latency_ms = outcome.latency_ms or elapsed
            outcomes.append(outcome)
        for outcome in recovered:
            outcome.attempts, outcome.latency_ms = stats.attempts, elapsed
        return outcomes

    def _follow_up(self, op: Operation, write: Callable[[Operation, CallStats], Outcome]) -> Outcome:
        """A single-record request after the batch; an opening circuit parks it (intent kept)."""
        try:
            return guarded(op, lambda stats: write(op, stats))
        except CircuitOpenError as exc:
            return Outcome(op.record_key, "transient", message=str(exc))

    def _correlation(self) -> str:
        from reverse_etl.destinations.base import current_correlation_id

        return current_correlation_id()

    def _send_one(self, op: Operation, stats: CallStats) -> Outcome:
        if op.operation == "insert":
            entity = self._find_customer(op)
            if entity is not None:
                return self._written(op, "created", 200, entity, "found by its business key")
            response = self.request("POST", f"/{self.company}/customers", stats, json=op.payload)
        else:
            response = self.request(
                "PATCH",
                f"/{self.company}/customers({op.destination_id})",
                stats,
                json=op.payload,
                headers={"If-Match": op.etag or "*"},
            )
            if response.status_code in CONFLICT_STATUSES:
                return self._resolve_conflict(op, stats)
        if response.status_code in (200, 201):
            return self._written(
                op,
                "created" if op.operation == "insert" else "updated",
                response.status_code,
                response.json(),
            )
        return Outcome(
            op.record_key, "rejected", http_status=response.status_code, message=error_text(response)
        )

    def _resolve_conflict(self, op: Operation, stats: CallStats) -> Outcome:
        """The ETag was stale: someone wrote the record since we read it. Whose field changed?"""
        response = self.request("GET", f"/{self.company}/customers({op.destination_id})", stats)
        if response.status_code != 200:
            return Outcome(
                op.record_key, "rejected", http_status=response.status_code, message=error_text(response)
            )
        current = response.json()
        baseline = op.baseline or self.baseline_reader(op.destination_id or "")
        edited = {
            prop: (baseline.get(prop), current.get(prop))
            for prop, value in op.payload.items()
            if current.get(prop) != value and _text(current.get(prop)) != _text(baseline.get(prop))
        }
        if edited:
            detail = ", ".join(
                f"{prop} was {old!r}, now {new!r}" for prop, (old, new) in sorted(edited.items())
            )
            return Outcome(
                op.record_key,
                "conflict",
                http_status=409,
                destination_id=current.get("id"),
                etag=current.get("@odata.etag"),
                written={prop: current.get(prop) for prop in op.payload},
                message=f"changed in the ERP since Syncline last read it, not overwritten: {detail}",
            )
        # only fields the ERP owns (or none we write) changed: write ours with the fresh ETag
        retry = self.request(
            "PATCH",
            f"/{self.company}/customers({op.destination_id})",
            stats,
            json=op.payload,
            headers={"If-Match": current.get("@odata.etag", "*")},
        )
        if retry.status_code == 200:
            return self._written(
                op, "updated", 200, retry.json(), "re-read after a stale ETag; ERP-owned edits kept"
            )
        return Outcome(op.record_key, "rejected", http_status=retry.status_code, message=error_text(retry))

    # -- documents ---------------------------------------------------------------------------------
    def _document(self, op: Operation, stats: CallStats) -> Outcome:
        row = op.row
        entity_set = row["erp_entity_set"]
        external = row["external_document_number"]
        lookup = self.request(
            "GET",
            f"/{self.company}/{entity_set}",
            stats,
            params={"$filter": f"externalDocumentNumber eq {odata_literal(external)}"},
        )
        if lookup.status_code != 200:
            return Outcome(
                op.record_key, "rejected", http_status=lookup.status_code, message=error_text(lookup)
            )
        existing = lookup.json().get("value", [])
        if existing:
            document = existing[0]
            if document.get("status") == "Draft":
                return self._post(op, entity_set, document, stats, "draft of an interrupted run posted")
            return Outcome(
                op.record_key,
                "unchanged",
                http_status=200,
                destination_id=document.get("id"),
                message=f"already in the ERP as {document.get('number')}",
            )
        customer_id = row.get("erp_customer_id") or self.customer_id_for(row.get("golden_customer_id") or "")
        if not customer_id:
            return Outcome(
                op.record_key,
                "transient",
                message=(
                    f"no ERP customer for {row.get('golden_customer_id')} yet: the erp_customers sync creates it first"
                ),
            )
        body = self._document_body(row, entity_set, customer_id)
        created = self.request("POST", f"/{self.company}/{entity_set}", stats, json=body)
        if created.status_code != 201:
            return Outcome(
                op.record_key, "rejected", http_status=created.status_code, message=error_text(created)
            )
        return self._post(op, entity_set, created.json(), stats, None)

    def _post(
        self, op: Operation, entity_set: str, document: dict, stats: CallStats, note: str | None
    ) -> Outcome:
        posted = self.request(
            "POST", f"/{self.company}/{entity_set}({document['id']})/Microsoft.NAV.post", stats
        )
        if posted.status_code not in (200, 204):
            return Outcome(
                op.record_key,
                "rejected",
                http_status=posted.status_code,
                message=error_text(posted),
                destination_id=document.get("id"),
            )
        return Outcome(
            op.record_key,
            "created",
            http_status=posted.status_code,
            destination_id=document["id"],
            message=note,
            written=op.payload,
        )

    @staticmethod
    def _document_body(row: dict, entity_set: str, customer_id: str) -> dict:
        excluding = float(row.get("amount_excluding_tax") or 0)
        tax = float(row.get("tax_amount") or 0)
        line = {
            "description": (row.get("line_description") or row["external_document_number"])[:100],
            "quantity": int(row.get("line_quantity") or 1),
            "unitPrice": float(row.get("line_unit_price") or 0),
            "discountAmount": float(row.get("line_discount_amount") or 0),
            "taxPercent": round(tax / excluding * 100, 6) if excluding else 0,
        }
        body: dict[str, Any] = {
            "externalDocumentNumber": row["external_document_number"],
            "customerId": customer_id,
            DOCUMENT_LINES[entity_set]: [line],
        }
        if row.get("document_date"):
            body[DOCUMENT_DATE[entity_set]] = str(row["document_date"])[:10]
        if row.get("erp_currency_code"):
            body["currencyCode"] = row["erp_currency_code"]
        if entity_set == "salesCreditMemos" and row.get("applies_to_erp_invoice_id"):
            body["invoiceId"] = row["applies_to_erp_invoice_id"]
        return body


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()
