"""Which tables are gated, by which schema and key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandera.pandas as pa

from quality import schemas


@dataclass(frozen=True)
class Gate:
    table: str
    key: str
    schema: Callable[[], pa.DataFrameSchema]
    schema_name: str = "marts"
    min_rows: int = 1  # golden tables must not be empty; a sync model is empty when nothing is to send


GATES = [
    Gate("golden_customers", "golden_customer_id", schemas.golden_customers),
    Gate("golden_contracts", "contract_id", schemas.golden_contracts),
    Gate("sync_erp_customers", "golden_customer_id", schemas.sync_erp_customers),
    Gate("sync_erp_invoices", "billing_document_id", schemas.sync_erp_invoices),
    Gate("sync_support_organizations", "record_key", schemas.sync_support_organizations),
    Gate("sync_billing_credit_notes", "erp_credit_memo_id", schemas.sync_billing_credit_notes, min_rows=0),
]
