"""pandera schemas for the golden and outbound tables.

Dtypes are not pinned (DuckDB and PostgreSQL hand pandas different dtypes for the same dbt contract,
and the dbt contract already enforces types at build time); these schemas guard what dbt cannot
express per row: formats, allowed values, cross-column rules. A missing column or a check that cannot
run on a column (a retyped column) is a table-level failure; a value that breaks a rule is row-level.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
from pandera.pandas import Check, Column, DataFrameSchema

from transform.dbt_cli import PROJECT_DIR

# the catalogues come from dbt's seeds, as the dbt tests read them: a company's own entitlements
# (sla_policies.csv) pass the gates once they are listed there
SEEDS_DIR = PROJECT_DIR / "seeds"


def _matches(pattern: str, name: str) -> Check:
    """A named regex rule (pandera's built-in str_matches reports its regex, not a rule name)."""
    return Check(lambda s: s.astype(str).str.fullmatch(pattern), name=name)


def _one_of(values: list[str], name: str) -> Check:
    return Check(lambda s: s.isin(values), name=name)


def seed_values(seed: str, column: str) -> list[str]:
    """The values of one column of a dbt seed (the catalogue it is the source of truth for)."""
    with Path(SEEDS_DIR, f"{seed}.csv").open(newline="") as f:
        return [row[column] for row in csv.DictReader(f)]


SYSTEMS = ["billing", "crm", "erp", "support"]
ISO2 = _matches(r"[A-Z]{2}", "iso_country_code")
ISO3 = _matches(r"[A-Z]{3}", "iso_currency_code")
GOLDEN_ID = _matches(r"GC\d{9}", "golden_id_format")
EMAIL = _matches(r"[^@\s]+@[^@\s]+\.[^@\s]+", "email_format")
SYNC_OPERATIONS = ["insert", "update", "noop", "review", "delete"]
NON_NEGATIVE = Check(lambda s: s >= 0, name="non_negative")


def _text(*checks: Check, nullable: bool = True, unique: bool = False) -> Column:
    return Column(object, checks=list(checks), nullable=nullable, unique=unique, coerce=False, required=True)


def _any(*checks: Check, nullable: bool = True) -> Column:
    return Column(None, checks=list(checks), nullable=nullable, required=True)


def _row_rule(name: str, rule) -> Check:
    """A row-wise cross-column rule: failing rows are quarantined, the rest go on."""
    return Check(rule, name=name, element_wise=False)


def golden_customers() -> DataFrameSchema:
    sources = {
        f"{field}_source": _any(_one_of(SYSTEMS, f"{field}_source_system"))
        for field in ("legal_name", "display_name", "domain", "tax_id", "country", "address")
    }
    return DataFrameSchema(
        {
            "golden_customer_id": _any(GOLDEN_ID, nullable=False),
            "legal_name": _any(),
            "display_name": _any(),
            "country_code": _any(ISO2),
            "currency_code": _any(ISO3),
            "billing_email": _any(EMAIL),
            "lifecycle_status": _any(
                _one_of(["customer", "trial", "churned", "prospect"], "lifecycle_status_values")
            ),
            "credit_limit": _any(NON_NEGATIVE),
            "source_record_count": _any(Check(lambda s: s >= 1, name="has_source_records"), nullable=False),
            **sources,
        },
        checks=[_row_rule("has_a_name", lambda df: df["legal_name"].notna() | df["display_name"].notna())],
        unique=["golden_customer_id"],
        name="golden_customers",
    )


def golden_contracts() -> DataFrameSchema:
    return DataFrameSchema(
        {
            "contract_id": _any(nullable=False),
            "golden_customer_id": _any(GOLDEN_ID, nullable=False),
            "status": _any(
                _one_of(
                    [
                        "active",
                        "trialing",
                        "past_due",
                        "canceled",
                        "unpaid",
                        "incomplete",
                        "incomplete_expired",
                        "paused",
                    ],
                    "subscription_status_values",
                ),
                nullable=False,
            ),
            "term": _any(_one_of(["month", "year", "week", "day"], "term_values")),
            "currency_code": _any(ISO3, nullable=False),
            "mrr": _any(NON_NEGATIVE),
            "arr": _any(NON_NEGATIVE),
            "mrr_reporting": _any(NON_NEGATIVE),
            "seats": _any(Check(lambda s: s >= 1, name="at_least_one_seat")),
            "start_date": _any(nullable=False),
            "renewal_date": _any(),
        },
        checks=[
            _row_rule(
                "renewal_after_start",
                lambda df: (
                    df["renewal_date"].isna()
                    | (pd.to_datetime(df["renewal_date"]) >= pd.to_datetime(df["start_date"]))
                ),
            )
        ],
        unique=["contract_id"],
        name="golden_contracts",
    )


def sync_erp_customers() -> DataFrameSchema:
    return DataFrameSchema(
        {
            "golden_customer_id": _any(GOLDEN_ID, nullable=False),
            "operation": _any(_one_of(SYNC_OPERATIONS, "operation_values"), nullable=False),
            "display_name": _any(),
            "country": _any(ISO2),
            "currency_code": _any(ISO3),
            "email": _any(EMAIL),
            "record_hash": _any(nullable=False),
        },
        checks=[
            _row_rule(
                "insert_has_display_name",
                lambda df: (df["operation"] != "insert") | df["display_name"].notna(),
            ),
            _row_rule(
                "update_has_erp_id", lambda df: (df["operation"] != "update") | df["erp_customer_id"].notna()
            ),
        ],
        unique=["golden_customer_id"],
        name="sync_erp_customers",
    )


def sync_erp_invoices() -> DataFrameSchema:
    return DataFrameSchema(
        {
            "billing_document_id": _any(nullable=False),
            "document_kind": _any(
                _one_of(["invoice", "credit_note"], "document_kind_values"), nullable=False
            ),
            "operation": _any(_one_of(SYNC_OPERATIONS, "operation_values"), nullable=False),
            "currency_code": _any(ISO3, nullable=False),
            "amount_including_tax": _any(nullable=False),
            "record_hash": _any(nullable=False),
        },
        checks=[
            _row_rule(
                "insert_has_customer_or_flag",
                lambda df: (
                    (df["operation"] != "insert")
                    | df["erp_customer_number"].notna()
                    | df["requires_customer"].fillna(False).astype(bool)
                ),
            )
        ],
        unique=["billing_document_id"],
        name="sync_erp_invoices",
    )


def sync_support_organizations() -> DataFrameSchema:
    return DataFrameSchema(
        {
            "record_key": _any(nullable=False),
            "golden_customer_id": _any(GOLDEN_ID, nullable=False),
            "operation": _any(_one_of(SYNC_OPERATIONS, "operation_values"), nullable=False),
            "support_entitlement": _any(
                _one_of(seed_values("sla_policies", "support_entitlement"), "entitlement_values")
            ),
            "seats": _any(NON_NEGATIVE),
            "record_hash": _any(nullable=False),
        },
        checks=[
            _row_rule(
                "update_has_organization_id",
                lambda df: (df["operation"] != "update") | df["support_organization_id"].notna(),
            )
        ],
        unique=["record_key"],
        name="sync_support_organizations",
    )


def sync_billing_credit_notes() -> DataFrameSchema:
    return DataFrameSchema(
        {
            "erp_credit_memo_id": _any(nullable=False),
            "billing_invoice_id": _any(nullable=False),
            "operation": _any(_one_of(SYNC_OPERATIONS, "operation_values"), nullable=False),
            "amount_minor": _any(nullable=True),
            "record_hash": _any(nullable=False),
        },
        checks=[
            _row_rule(
                "insert_has_positive_amount",
                lambda df: (df["operation"] != "insert") | (df["amount_minor"].fillna(0) > 0),
            )
        ],
        unique=["erp_credit_memo_id"],
        name="sync_billing_credit_notes",
    )
