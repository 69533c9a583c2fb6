"""`POST /v1/credit_notes` and `POST /v1/credit_notes/{id}`: Stripe's validation and bookkeeping.

A credit note adjusts a finalized invoice (open, uncollectible or paid; never draft or void). On an
unpaid invoice it is `pre_payment` and lowers `amount_due` (a fully credited invoice becomes paid);
on a paid invoice it is `post_payment`, and `refund_amount + credit_amount + out_of_band_amount`
must equal it. The credit notes of one invoice never add up to more than its total.
"""

from __future__ import annotations

from dataclasses import dataclass

from sandbox.ids import stripe_id

from .catalog import tax_rates
from .errors import invalid, missing
from .params import as_int, as_list, reject_unknown
from .rows import by_customer
from .writes import BillingWriter

CREATE_PARAMS = {
    "invoice",
    "amount",
    "lines",
    "reason",
    "memo",
    "metadata",
    "expand",
    "credit_amount",
    "refund_amount",
    "out_of_band_amount",
    "effective_at",
    "refund",
}
UPDATE_PARAMS = {"memo", "metadata", "expand"}
LINE_PARAMS = {
    "type",
    "amount",
    "description",
    "invoice_line_item",
    "quantity",
    "tax_rates",
    "unit_amount",
    "unit_amount_decimal",
}
REASONS = ("duplicate", "fraudulent", "order_change", "product_unsatisfactory")
CREDITABLE = ("open", "uncollectible", "paid")
TAX_RATES_BY_ID = {rate["id"]: rate for rate in tax_rates().values()}


@dataclass
class CreditLine:
    """One credited line as stored: its amount excluding tax and the tax credited on it."""

    type: str
    amount: int
    tax: int
    quantity: int
    description: str | None
    invoice_line_item: str | None = None
    unit_amount: int | None = None
    tax_rate: str | None = None

    def row(self) -> dict:
        return dict(self.__dict__)


def _int_param(params: dict, name: str, *, minimum: int = 0) -> int | None:
    if name not in params:
        return None
    value = as_int(params, name, params[name])
    if value < minimum:
        raise invalid(
            f"This value must be greater than or equal to {minimum}.",
            param=name,
            code="parameter_invalid_integer",
        )
    return value


def validate_metadata(value, param: str = "metadata") -> dict | str | None:
    if value is None or value == "":
        return value
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise invalid("Invalid hash: metadata", param=param)
    for k, v in value.items():
        if len(k) > 40:
            raise invalid("Metadata keys can have up to 40 characters.", param=f"metadata[{k}]")
        if len(v) > 500:
            raise invalid("Metadata values can have up to 500 characters.", param=f"metadata[{k}]")
    return value


def merge_metadata(old: dict, value) -> dict:
    """Stripe's metadata update: "" unsets everything, a key posted empty unsets that key."""
    merged = {} if value == "" else dict(old)
    if isinstance(value, dict):
        for key, v in value.items():
            if v == "":
                merged.pop(key, None)
            else:
                merged[key] = v
    return merged


class CreditNotes:
    def __init__(self, writer: BillingWriter) -> None:
        self.writer = writer

    # -- create ----------------------------------------------------------------------------------
    def create(self, params: dict, idempotency_key: str | None) -> dict:
        reject_unknown(params, CREATE_PARAMS)
        invoice_id = params.get("invoice")
        if not invoice_id:
            raise invalid("Missing required param: invoice.", param="invoice", code="parameter_missing")
        if not isinstance(invoice_id, str):
            raise invalid("Invalid string: invoice", param="invoice")
        invoice = self.writer.table("invoices").get(invoice_id)
        if invoice is None:
            raise missing("invoice", invoice_id, "invoice")
        if invoice["status"] not in CREDITABLE:
            raise invalid(
                f"You can only create a credit note for a finalized invoice, but invoice {invoice_id} "
                f"has status `{invoice['status']}`.",
                param="invoice",
            )
        reason = params.get("reason")
        if reason is not None and reason not in REASONS:
            raise invalid(f"Invalid reason: must be one of {', '.join(REASONS)}", param="reason")
        memo = params.get("memo")
        if memo is not None and (not isinstance(memo, str) or len(memo) > 5000):
            raise invalid("Invalid string: memo", param="memo")
        metadata = validate_metadata(params.get("metadata"))
        lines = self._lines(params, invoice)
        amount = _int_param(params, "amount")
        lines_total = sum(line.amount + line.tax for line in lines)
        if amount is None and not lines:
            raise invalid(
                "One of `amount`, `lines`, or `shipping_cost` must be provided.",
                param="amount",
                code="parameter_missing",
            )
        if amount is not None and lines and amount != lines_total:
            raise invalid(
                f"The credit note amount ({amount}) must equal the sum of its line amounts ({lines_total}).",
                param="amount",
            )
        total = lines_total if lines else amount
        if total <= 0:
            raise invalid("The credit note amount must be greater than 0.", param="amount")
        credited = invoice["pre_payment_credit_notes_amount"] + invoice["post_payment_credit_notes_amount"]
        creditable = invoice["total"] - credited
        if total > creditable:
            raise invalid(
                f"The sum of all credit note amounts ({credited + total}) cannot exceed the invoice total "
                f"({invoice['total']}); at most {creditable} can still be credited on invoice {invoice_id}.",
                param="amount",
            )
        post_payment = invoice["status"] == "paid"
        settlement = {
            name: _int_param(params, name)
            for name in ("credit_amount", "refund_amount", "out_of_band_amount")
        }
        settled = sum(v or 0 for v in settlement.values())
        required = total if post_payment else 0
        if settled != required:
            raise invalid(
                f"The sum of credit amount, refund amount and out of band amount ({settled}) must equal the "
                f"credit note's post-payment amount ({required}).",
                param="out_of_band_amount" if settlement["out_of_band_amount"] is not None else "amount",
            )
        effective_at = _int_param(params, "effective_at")
        if "refund" in params:
            raise missing("refund", str(params["refund"]), "refund")  # the sandbox issues no refunds
        if not lines:
            lines = [self._amount_line(invoice, total)]
        return self.writer_create(
            invoice,
            lines,
            total,
            post_payment,
            reason,
            memo,
            metadata,
            settlement,
            effective_at,
            idempotency_key,
        )

    def _amount_line(self, invoice: dict, total: int) -> CreditLine:
        """`amount` alone credits the invoice line, tax included, tax split proportionally."""
        tax = round(total * invoice["tax"] / invoice["total"]) if invoice["total"] else 0
        return CreditLine(
            "invoice_line_item", total - tax, tax, 1, "Partial credit", invoice_line_item=invoice["line_id"]
        )

    def _lines(self, params: dict, invoice: dict) -> list[CreditLine]:
        raw = params.get("lines")
        if raw is None:
            return []
        if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
            raise invalid("Invalid array: lines", param="lines")
        taxable = invoice["subtotal"] - invoice["discount"]
        lines = []
        for index, item in enumerate(raw):
            prefix = f"lines[{index}]"
            for name in item:
                if name not in LINE_PARAMS:
                    raise invalid(
                        f"Received unknown parameter: {prefix}[{name}]",
                        param=f"{prefix}[{name}]",
                        code="parameter_unknown",
                    )
            kind = item.get("type")
            if kind not in ("invoice_line_item", "custom_line_item"):
                raise invalid(
                    "Invalid type: must be one of invoice_line_item or custom_line_item",
                    param=f"{prefix}[type]",
                )
            quantity = _int_param(item, "quantity", minimum=1)
            if kind == "invoice_line_item":
                line_id = item.get("invoice_line_item")
                if line_id != invoice["line_id"]:
                    raise invalid(
                        f"No such invoice line item: '{line_id}' on invoice {invoice['id']}",
                        param=f"{prefix}[invoice_line_item]",
                    )
                amount = _int_param(item, "amount")
                if amount is None:
                    if quantity is None:
                        raise invalid(
                            "You must pass either `amount` or `quantity` for an invoice_line_item.",
                            param=f"{prefix}[amount]",
                        )
                    if quantity > invoice["quantity"]:
                        raise invalid(
                            f"The quantity to credit ({quantity}) exceeds the invoice line quantity "
                            f"({invoice['quantity']}).",
                            param=f"{prefix}[quantity]",
                        )
                    amount = taxable * quantity // invoice["quantity"]
                tax = round(amount * invoice["tax"] / taxable) if taxable else 0
                lines.append(CreditLine(kind, amount, tax, quantity or 1, None, invoice_line_item=line_id))
            else:
                unit_amount = _int_param(item, "unit_amount")
                if unit_amount is None and "unit_amount_decimal" in item:
                    try:
                        unit_amount = round(float(item["unit_amount_decimal"]))
                    except (TypeError, ValueError):
                        raise invalid(
                            "Invalid decimal: unit_amount_decimal", param=f"{prefix}[unit_amount_decimal]"
                        ) from None
                if unit_amount is None:
                    raise invalid(
                        "Missing required param: unit_amount.",
                        param=f"{prefix}[unit_amount]",
                        code="parameter_missing",
                    )
                rate_ids = as_list(item, "tax_rates") if item.get("tax_rates") != "" else []
                for rate_id in rate_ids:
                    if rate_id not in TAX_RATES_BY_ID:
                        raise missing("tax_rate", rate_id, f"{prefix}[tax_rates]")
                amount = unit_amount * (quantity or 1)
                rate = TAX_RATES_BY_ID[rate_ids[0]] if rate_ids else None
                tax = round(amount * rate["percentage"] / 100) if rate else 0
                lines.append(
                    CreditLine(
                        kind,
                        amount,
                        tax,
                        quantity or 1,
                        item.get("description"),
                        unit_amount=unit_amount,
                        tax_rate=rate["id"] if rate else None,
                    )
                )
        return lines

    def writer_create(
        self,
        invoice: dict,
        lines: list[CreditLine],
        total: int,
        post_payment: bool,
        reason: str | None,
        memo: str | None,
        metadata,
        settlement: dict,
        effective_at: int | None,
        idempotency_key: str | None,
    ) -> dict:
        w = self.writer
        now = w.now()
        seq = w.store.next_seq("billing_api_credit_note")
        on_invoice = sum(1 for r in w.table("credit_notes").rows.values() if r["invoice"] == invoice["id"])
        row = {
            "id": stripe_id("cn", f"api:{seq}"),
            "created": now,
            "customer": invoice["customer"],
            "invoice": invoice["id"],
            "number": f"{invoice['number']}-CN-{on_invoice + 1:02d}",
            "amount": total,
            "currency": invoice["currency"],
            "type": "post_payment" if post_payment else "pre_payment",
            "reason": reason,
            "invoice_total": invoice["total"],
            "invoice_tax": invoice["tax"],
            "invoice_line": invoice["line_id"],
            "tax_country": invoice["tax_country"],
            "lines": [line.row() for line in lines],
            "memo": memo or None,
            "metadata": merge_metadata({}, metadata) if metadata else {},
            "out_of_band_amount": settlement["out_of_band_amount"],
            "effective_at": effective_at if effective_at is not None else now,
            "_customer": invoice["_customer"],
            "_key": f"api:{seq}",
            "_updated": now,
            "_by_customer": by_customer(invoice["customer"], now),
        }
        field = "post_payment_credit_notes_amount" if post_payment else "pre_payment_credit_notes_amount"
        updated = dict(invoice, _updated=now)
        updated[field] = invoice[field] + total
        previous: dict = {field: invoice[field]}
        fully_credited = not post_payment and updated[field] >= invoice["total"]
        if fully_credited:  # nothing left to pay: Stripe marks the invoice paid
            updated.update(status="paid", paid_at=now)
            previous["status"] = invoice["status"]
        w.put("credit_notes", row)
        w.put("invoices", updated)
        w.emit("credit_note.created", "credit_notes", row, idempotency_key=idempotency_key)
        w.emit("invoice.updated", "invoices", updated, previous=previous, idempotency_key=idempotency_key)
        if fully_credited:
            w.emit("invoice.paid", "invoices", updated, idempotency_key=idempotency_key)
        return row

    # -- update ----------------------------------------------------------------------------------
    def update(self, old: dict, params: dict, idempotency_key: str | None) -> dict:
        reject_unknown(params, UPDATE_PARAMS)
        row = dict(old)
        previous: dict = {}
        if "memo" in params:
            memo = params["memo"]
            if not isinstance(memo, str) or len(memo) > 5000:
                raise invalid("Invalid string: memo", param="memo")
            if (memo or None) != old.get("memo"):
                previous["memo"] = old.get("memo")
                row["memo"] = memo or None
        if "metadata" in params:
            before = old.get("metadata") or {}
            merged = merge_metadata(before, validate_metadata(params["metadata"]))
            if merged != before:
                previous["metadata"] = {
                    k: before.get(k) for k in set(merged) | set(before) if merged.get(k) != before.get(k)
                }
                row["metadata"] = merged
        if not previous:
            return old
        row["_updated"] = self.writer.now()
        self.writer.put("credit_notes", row)
        self.writer.emit(
            "credit_note.updated", "credit_notes", row, previous=previous, idempotency_key=idempotency_key
        )
        return row
