"""Validated writes: create and update customers, create draft sales documents (with deep-inserted
lines), update drafts and post them. Every write stamps lastModified (and so a new etag)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sandbox.vendors.erp.odata import ODataError
from sandbox.vendors.erp.repository import ErpData
from sandbox.vendors.erp.schema import CUSTOMER, CUSTOMERS_TABLE, LINE_TYPES, NUMBER, EntitySet, EntityType

BLOCKED_OPTIONS = (" ", "Ship", "Invoice", "All")
MAX_TEXT = {
    "number": 20,
    "displayName": 100,
    "addressLine1": 100,
    "addressLine2": 50,
    "city": 30,
    "state": 30,
    "country": 10,
    "postalCode": 20,
    "phoneNumber": 30,
    "email": 80,
    "website": 80,
    "salespersonCode": 20,
    "taxRegistrationNumber": 20,
    "currencyCode": 10,
    "externalDocumentNumber": 35,
    "description": 100,
}
DOCUMENT_DATE = {"salesInvoices": "invoiceDate", "salesCreditMemos": "creditMemoDate"}
DRAFT_SERIES = {"salesInvoices": ("S-INV", 100001), "salesCreditMemos": ("S-CR", 100001)}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _invalid_body(message: str) -> ODataError:
    return ODataError(400, "BadRequest", f"Invalid Request Body. {message}")


def _check_value(entity: EntityType, prop: str, edm: str, value: object) -> object:
    """Type-check one body property the way BC's OData layer does, returning the stored form."""
    if value is None:
        raise _invalid_body(f"Property '{prop}' cannot be null.")
    if edm == "Edm.String":
        if not isinstance(value, str):
            raise _invalid_body(
                f"Cannot convert the literal '{value}' to the expected type 'Edm.String' of '{prop}'."
            )
        limit = MAX_TEXT.get(prop)
        if limit and len(value) > limit:
            raise ODataError(
                400,
                "Application_StringExceededLength",
                f"The length of the string is {len(value)}, but it must be less than or equal to {limit} characters. Value: {value}",
            )
        return value
    if edm == "Edm.Guid":
        try:
            return str(uuid.UUID(str(value)))
        except ValueError:
            raise ODataError(
                400,
                "Application_InvalidGUID",
                "Invalid format of GUID string. The correct format of the GUID string is: CDEF7890-ABCD-0123-1234-567890ABCDEF where 0-9, A-F symbolizes hexadecimal digits.",
            ) from None
    if edm in ("Edm.Decimal", "Edm.Int32"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _invalid_body(
                f"Cannot convert the literal '{value}' to the expected type '{edm}' of '{prop}'."
            )
        return value
    if edm == "Edm.Boolean":
        if not isinstance(value, bool):
            raise _invalid_body(
                f"Cannot convert the literal '{value}' to the expected type 'Edm.Boolean' of '{prop}'."
            )
        return value
    if edm == "Edm.Date":
        if not isinstance(value, str) or not _DATE.match(value):
            raise ODataError(400, "BadRequest", f"Unable to convert value '{value}' of '{prop}' to Date.")
        return value
    raise _invalid_body(f"Property '{prop}' cannot be written.")


def validated(body: object, entity: EntityType, *, navigation: str | None = None) -> dict:
    """Body properties checked against the entity type: unknown -> BadRequest, read-only ->
    BadRequest_InvalidOperation, wrong type -> BadRequest / Application_* codes."""
    if not isinstance(body, dict):
        raise _invalid_body("A JSON object is expected.")
    types, writable = entity.types, entity.writable
    clean = {}
    for prop, value in body.items():
        if prop.startswith("@odata."):
            continue
        if prop == navigation:
            clean[prop] = value
            continue
        if prop not in types:
            raise ODataError(
                400,
                "BadRequest",
                f"The property '{prop}' does not exist on type 'Microsoft.NAV.{entity.name}'. Make sure to only use property names that are defined by the type.",
            )
        if prop not in writable:
            raise ODataError(400, "BadRequest_InvalidOperation", f"The property '{prop}' is read-only.")
        clean[prop] = _check_value(entity, prop, types[prop], value)
    return clean


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class ErpWriter:
    data: ErpData
    # first number of each posted series after the generated documents (regenerated identically)
    posted_series_start: dict[str, int]

    # -- customers --------------------------------------------------------------------------------
    def _number_taken(self, number: str, own_id: str | None) -> bool:
        for row in self.data.store[CUSTOMERS_TABLE].scan(NUMBER, lower=number, upper=number):
            if row["id"] != own_id:
                return True
        return False

    def _apply_customer_fields(self, row: dict, fields: dict) -> None:
        if "blocked" in fields and fields["blocked"] not in BLOCKED_OPTIONS:
            raise ODataError(
                400,
                "Application_EvaluateException",
                f'The value "{fields["blocked"]}" can\'t be evaluated into type Option. The existing options are: {",".join(BLOCKED_OPTIONS)}',
            )
        if "displayName" in fields and not fields["displayName"].strip():
            raise ODataError(
                400, "BadRequest_RequiredParamNotProvided", "Field 'displayName' must not be blank or empty."
            )
        if "number" in fields and self._number_taken(fields["number"], row.get("id")):
            raise ODataError(
                400,
                "Internal_EntityWithSameKeyExists",
                f"The Customer already exists. Identification fields and values: No.='{fields['number']}'",
            )
        row.update(fields)
        row["lastModified"] = self.data.stamp()

    def create_customer(self, body: object) -> dict:
        fields = validated(body, CUSTOMER)
        if not fields.get("displayName", "").strip():
            raise ODataError(
                400, "BadRequest_RequiredParamNotProvided", "Field 'displayName' must not be blank or empty."
            )
        row = {"id": str(uuid.uuid4()), "_customer": None}
        if "number" not in fields:  # the customer No. Series, apart from the numbers finance keyed in
            fields["number"] = f"CUST{self.data.next_number('customer', 1).rjust(5, '0')}"
        self._apply_customer_fields(row, fields)
        return self.data.put(CUSTOMERS_TABLE, row)

    def update_customer(self, current: dict, body: object) -> dict:
        row = dict(current)
        self._apply_customer_fields(row, validated(body, CUSTOMER))
        return self.data.put(CUSTOMERS_TABLE, row)

    # -- sales documents --------------------------------------------------------------------------
    def _customer_for(self, fields: dict) -> dict:
        if "customerId" in fields:
            customer = self.data.get(CUSTOMERS_TABLE, fields["customerId"])
            ident = f"Id='{fields['customerId']}'"
        elif "customerNumber" in fields:
            customer = next(
                self.data.store[CUSTOMERS_TABLE].scan(
                    NUMBER, lower=fields["customerNumber"], upper=fields["customerNumber"]
                ),
                None,
            )
            ident = f"No.='{fields['customerNumber']}'"
        else:
            raise ODataError(
                400, "Application_DialogException", "A customerNumber or a customerID must be provided."
            )
        if customer is None:
            raise ODataError(
                400,
                "Internal_RecordNotFound",
                f"The Customer does not exist. Identification fields and values: {ident}",
            )
        return customer

    def _lines(self, entity_set: EntitySet, raw: object) -> list[dict]:
        if not isinstance(raw, list):
            raise _invalid_body(f"'{entity_set.lines}' must be an array of lines.")
        lines = []
        for item in raw:
            fields = validated(item, LINE_TYPES[entity_set.lines])
            if fields.get("lineType", "Item") not in ("Item", "Account", "Comment", "Resource"):
                raise ODataError(
                    400,
                    "Application_EvaluateException",
                    f'The value "{fields["lineType"]}" can\'t be evaluated into type Option.',
                )
            quantity = fields.get("quantity", 0)
            unit = round(fields.get("unitPrice", 0) * 100)
            gross = round(quantity * unit)
            discount = (
                round(fields["discountAmount"] * 100)
                if "discountAmount" in fields
                else round(gross * fields.get("discountPercent", 0) / 100)
            )
            tax_percent = fields.get("taxPercent", 0)
            line = {
                "description": fields.get("description", ""),
                "quantity": quantity,
                "unitPrice": unit,
                "discountAmount": discount,
                "totalTaxAmount": round((gross - discount) * tax_percent / 100),
                "taxPercent": tax_percent,
            }
            for optional in ("lineType", "lineObjectNumber", "itemId", "taxCode"):
                if optional in fields:
                    line[optional] = fields[optional]
            lines.append(line)
        return lines

    def _set_customer(self, row: dict, customer: dict, operation: str, entity_set: EntitySet) -> None:
        blocked = customer.get("blocked", " ")
        if blocked == "All" or (blocked == "Invoice" and entity_set.name == "salesInvoices"):
            raise ODataError(
                400,
                "Application_DialogException",
                f"You cannot {operation} this type of document when Customer {customer['number']} is blocked with type {blocked}.",
            )
        row.update(
            customerId=customer["id"],
            customerNumber=customer["number"],
            customerName=customer["displayName"],
            _customer=customer.get("_customer"),
        )

    def create_document(self, entity_set: EntitySet, body: object) -> dict:
        fields = validated(body, entity_set.entity, navigation=entity_set.lines)
        if not fields.get("externalDocumentNumber"):
            raise ODataError(
                400,
                "BadRequest_RequiredParamNotProvided",
                "Field 'externalDocumentNumber' must not be blank or empty.",
            )
        customer = self._customer_for(fields)
        today = _date(self.data.clock())
        document_date = fields.get(DOCUMENT_DATE[entity_set.name], today)
        prefix, first = DRAFT_SERIES[entity_set.name]
        row = {
            "id": str(uuid.uuid4()),
            "number": f"{prefix}{self.data.next_number(f'draft:{entity_set.name}', first)}",
            "externalDocumentNumber": fields["externalDocumentNumber"],
            DOCUMENT_DATE[entity_set.name]: document_date,
            "postingDate": fields.get("postingDate", document_date),
            "dueDate": fields.get("dueDate", document_date),
            "currencyCode": fields.get("currencyCode", customer.get("currencyCode", "")),
            "status": "Draft",
            "lines": self._lines(entity_set, fields.get(entity_set.lines, [])),
        }
        for optional in ("paymentTermsId", "invoiceId", "invoiceNumber"):
            if optional in fields:
                row[optional] = fields[optional]
        self._set_customer(row, customer, "create", entity_set)
        row["lastModified"] = self.data.stamp()
        return self.data.put(entity_set.table, row)

    def update_document(self, entity_set: EntitySet, current: dict, body: object) -> dict:
        fields = validated(body, entity_set.entity)
        if current["status"] != "Draft":
            raise ODataError(
                400,
                "Application_DialogException",
                f"The document {current['number']} has been posted and cannot be modified. Issue a credit memo instead.",
            )
        row = dict(current)
        if "customerId" in fields or "customerNumber" in fields:
            self._set_customer(row, self._customer_for(fields), "update", entity_set)
        row.update({k: v for k, v in fields.items() if k not in ("customerId", "customerNumber")})
        row["lastModified"] = self.data.stamp()
        return self.data.put(entity_set.table, row)

    def post_document(self, entity_set: EntitySet, current: dict) -> dict:
        """The bound action Microsoft.NAV.post: the draft becomes a posted, open document."""
        if current["status"] != "Draft":
            raise ODataError(
                400,
                "Application_DialogException",
                f"The document {current['number']} has already been posted.",
            )
        if not current.get("lines"):
            raise ODataError(400, "Application_DialogException", "There is nothing to post.")
        row = dict(current)
        row["number"] = self.data.next_number(
            f"posted:{entity_set.name}", self.posted_series_start[entity_set.name]
        )
        row["status"] = "Open"
        row["postingDate"] = _date(self.data.clock())
        row["lastModified"] = self.data.stamp()
        return self.data.put(entity_set.table, row)
