"""The syncs, declared as data: source model, destination, object, key, field mapping, mode.

Every mapped field names the field of the ownership seed (`dbt_project/seeds/field_ownership.csv`)
it carries. `check_ownership` enforces the seed before anything is sent: a field written on update
must not be owned by the destination and must list the destination in `sync_targets`. Fields marked
`create_only` fill a record the destination does not have yet (a new ERP customer needs its name and
address); they are never sent on update, so they never overwrite what the destination owns.

The desired state comes from the dbt sync models (`marts.<model>`), each with an `operation` column
(insert | update | noop | review) and a `record_hash` of the mapped fields (`syncline.record_hash`).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

OWNERSHIP_SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "field_ownership.csv"


@dataclass(frozen=True)
class FieldMap:
    prop: str  # destination property (a dotted path for nested objects: organization_fields.plan)
    column: str  # column of the sync model
    owned_field: str  # "<entity>.<field>" of the ownership seed
    create_only: bool = False


@dataclass(frozen=True)
class SyncSpec:
    name: str
    model: str  # dbt model in schema marts
    destination: str  # erp | support | billing
    object: str  # the destination's object / entity set
    key: str  # record key column (one row per record)
    fields: tuple[FieldMap, ...]
    mode: str  # upsert: insert + update; insert: create once, never update
    description: str
    depends_on: tuple[str, ...] = field(default_factory=tuple)  # syncs that must run first

    def payload(self, row: dict, operation: str) -> dict:
        """Destination properties to send for this row: mapped, non-null, allowed for the operation."""
        values = {}
        for f in self.fields:
            if f.create_only and operation != "insert":
                continue
            value = row.get(f.column)
            if value is None or (isinstance(value, float) and value != value):  # NULL = do not send
                continue
            values[f.prop] = value
        return values


SYNCS: dict[str, SyncSpec] = {
    spec.name: spec
    for spec in (
        SyncSpec(
            name="erp_customers",
            model="sync_erp_customers",
            destination="erp",
            object="customers",
            key="golden_customer_id",
            mode="upsert",
            description="ERP customer master: create customers that bill but have no ERP record; update "
            "the fields the ERP does not own when they drift (PATCH with If-Match).",
            fields=(
                FieldMap("number", "erp_customer_number", "customer.erp_customer_number", create_only=True),
                FieldMap("displayName", "display_name", "customer.legal_name", create_only=True),
                FieldMap("addressLine1", "address_line1", "customer.address", create_only=True),
                FieldMap("addressLine2", "address_line2", "customer.address", create_only=True),
                FieldMap("city", "city", "customer.address", create_only=True),
                FieldMap("state", "state", "customer.address", create_only=True),
                FieldMap("postalCode", "postal_code", "customer.address", create_only=True),
                FieldMap("country", "country", "customer.country", create_only=True),
                FieldMap("currencyCode", "currency_code", "customer.currency", create_only=True),
                FieldMap("email", "email", "customer.billing_email"),
                FieldMap("phoneNumber", "phone_number", "customer.phone"),
                FieldMap("website", "website", "customer.domain"),
                FieldMap("salespersonCode", "salesperson_code", "customer.account_owner"),
            ),
        ),
        SyncSpec(
            name="erp_invoices",
            model="sync_erp_invoices",
            destination="erp",
            object="salesInvoices|salesCreditMemos",
            key="billing_document_id",
            mode="insert",
            description="Billing invoices and credit notes missing in the ERP become posted ERP sales "
            "invoices / credit memos on the right ERP customer (looked up by externalDocumentNumber "
            "first: BC has no upsert).",
            depends_on=("erp_customers",),
            fields=(
                FieldMap("externalDocumentNumber", "external_document_number", "invoice.billing_document"),
                FieldMap("customerId", "erp_customer_id", "invoice.billing_document"),
                FieldMap("documentDate", "document_date", "invoice.billing_document"),
                FieldMap("currencyCode", "erp_currency_code", "invoice.billing_document"),
                FieldMap("lineDescription", "line_description", "invoice.billing_document"),
                FieldMap("lineQuantity", "line_quantity", "invoice.billing_document"),
                FieldMap("lineUnitPrice", "line_unit_price", "invoice.billing_document"),
                FieldMap("lineDiscountAmount", "line_discount_amount", "invoice.billing_document"),
            ),
        ),
        SyncSpec(
            name="support_organizations",
            model="sync_support_organizations",
            destination="support",
            object="organizations",
            key="record_key",
            mode="upsert",
            description="Zendesk organizations per golden customer: create_or_update matched on "
            "external_id; plan, seats, entitlement, SLA, payment status, renewal date, ERP number and owner "
            "as organization fields.",
            fields=(
                FieldMap("external_id", "external_id", "customer.support_link", create_only=True),
                FieldMap("name", "name", "customer.display_name"),
                FieldMap("domain_names", "domain", "customer.domain"),
                FieldMap("organization_fields.account_owner", "account_owner", "customer.account_owner"),
                FieldMap(
                    "organization_fields.erp_customer_number",
                    "erp_customer_number",
                    "customer.erp_customer_number",
                ),
                FieldMap("organization_fields.plan", "plan", "contract.plan"),
                FieldMap("organization_fields.seats", "seats", "contract.seats"),
                FieldMap(
                    "organization_fields.support_entitlement",
                    "support_entitlement",
                    "contract.support_entitlement",
                ),
                FieldMap("organization_fields.sla_policy", "sla_policy", "contract.sla_policy"),
                FieldMap("organization_fields.payment_status", "payment_status", "contract.payment_status"),
                FieldMap("organization_fields.renewal_date", "renewal_date", "contract.renewal_date"),
            ),
        ),
        SyncSpec(
            name="billing_credit_notes",
            model="sync_billing_credit_notes",
            destination="billing",
            object="credit_notes",
            key="erp_credit_memo_id",
            mode="insert",
            description="ERP -> billing: a credit memo finance posts in the ERP against a billing invoice "
            "becomes a credit note on that invoice, once (Idempotency-Key from the record version; the ERP "
            "document number kept in metadata).",
            fields=(
                FieldMap("invoice", "billing_invoice_id", "invoice.erp_credit_memo"),
                FieldMap("amount", "amount_minor", "invoice.erp_credit_memo"),
                FieldMap("out_of_band_amount", "out_of_band_amount_minor", "invoice.erp_credit_memo"),
                FieldMap("reason", "reason", "invoice.erp_credit_memo"),
                FieldMap("memo", "memo", "invoice.erp_credit_memo"),
                FieldMap("metadata.erp_document_number", "erp_document_number", "invoice.erp_credit_memo"),
                FieldMap("metadata.erp_credit_memo_id", "erp_credit_memo_id", "invoice.erp_credit_memo"),
            ),
        ),
    )
}


class OwnershipViolation(ValueError):
    pass


def load_ownership(path: Path = OWNERSHIP_SEED) -> dict[str, dict[str, str]]:
    with path.open(newline="") as handle:
        return {f"{row['entity']}.{row['field']}": row for row in csv.DictReader(handle)}


def check_ownership(spec: SyncSpec, ownership: dict[str, dict[str, str]] | None = None) -> None:
    """Refuse a sync whose mapping would write a field into the system that owns it."""
    ownership = ownership if ownership is not None else load_ownership()
    problems = []
    for f in spec.fields:
        if f.create_only:
            continue  # fills a record the destination does not have; never sent on update
        rule = ownership.get(f.owned_field)
        if rule is None:
            problems.append(f"{f.prop}: {f.owned_field} is not in the ownership seed")
            continue
        targets = [t for t in (rule.get("sync_targets") or "").split("|") if t]
        if rule["owner_system"] == spec.destination:
            problems.append(f"{f.prop}: {spec.destination} owns {f.owned_field}")
        elif spec.destination not in targets:
            problems.append(f"{f.prop}: the seed does not let {f.owned_field} sync to {spec.destination}")
    if problems:
        raise OwnershipViolation(f"sync {spec.name} breaks the ownership seed: " + "; ".join(problems))


def resolve(names: list[str] | None) -> list[SyncSpec]:
    """Syncs by name in dependency order (all when `names` is empty)."""
    wanted = list(SYNCS) if not names else names
    unknown = [n for n in wanted if n not in SYNCS]
    if unknown:
        raise KeyError(f"unknown sync(s) {', '.join(unknown)}; known: {', '.join(SYNCS)}")
    ordered: list[SyncSpec] = []
    for name in SYNCS:  # declaration order respects depends_on
        if name in wanted:
            ordered.append(SYNCS[name])
    return ordered
