"""pandera gates: row-level problems are quarantined with a reason, table-level ones fail the gate."""

from __future__ import annotations

import pandas as pd
import pytest

from quality import schemas
from quality.gates import evaluate, run_gate
from reverse_etl.outbound import read_outbound
from reverse_etl.syncs import SYNCS
from warehouse import Warehouse


def customers(**overrides) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "golden_customer_id": ["GC000000001", "GC000000002", "GC000000003"],
            "legal_name": ["Acme GmbH", "Globex Ltd", "Initech Inc."],
            "display_name": ["Acme", "Globex", "Initech"],
            "country_code": ["DE", "GB", "US"],
            "currency_code": ["EUR", "GBP", "USD"],
            "billing_email": ["ap@acme.de", "billing@globex.co.uk", None],
            "lifecycle_status": ["customer", "trial", "churned"],
            "credit_limit": [1000.0, None, 0.0],
            "source_record_count": [3, 2, 1],
            **{
                f"{f}_source": ["erp", "crm", "billing"]
                for f in ("legal_name", "display_name", "domain", "tax_id", "country", "address")
            },
        }
    )
    for column, values in overrides.items():
        frame[column] = values
    return frame


def test_clean_table_passes_with_nothing_quarantined() -> None:
    result = evaluate(customers(), schemas.golden_customers(), "golden_customers", "golden_customer_id")
    assert result.passed and result.quarantine.empty


def test_bad_rows_are_quarantined_with_rule_and_reason() -> None:
    frame = customers(
        country_code=["DE", "Germany", "US"], billing_email=["ap@acme.de", "not-an-email", None]
    )
    result = evaluate(frame, schemas.golden_customers(), "golden_customers", "golden_customer_id")
    assert result.passed  # row-level: the table goes on
    assert result.quarantined_keys == {"GC000000002"}
    assert set(result.quarantine["rule"]) == {"iso_country_code", "email_format"}
    assert result.quarantine["reason"].str.contains("failed").all()


def test_cross_column_rule_quarantines_only_the_breaking_row() -> None:
    frame = customers(legal_name=["Acme GmbH", None, "Initech Inc."], display_name=["Acme", None, "Initech"])
    result = evaluate(frame, schemas.golden_customers(), "golden_customers", "golden_customer_id")
    assert result.passed and result.quarantined_keys == {"GC000000002"}
    assert "has_a_name" in set(result.quarantine["rule"])


@pytest.mark.parametrize(
    "breakage",
    [
        lambda f: f.drop(columns=["golden_customer_id"]),  # contract break: column gone
        lambda f: f.assign(golden_customer_id=["GC000000001"] * 3),  # duplicate keys
        lambda f: f.iloc[0:0],  # empty table
    ],
    ids=["missing_column", "duplicate_keys", "empty"],
)
def test_table_level_breakage_fails_the_gate(breakage) -> None:
    frame = breakage(customers())
    key = "golden_customer_id" if "golden_customer_id" in frame.columns else "legal_name"
    result = evaluate(frame, schemas.golden_customers(), "golden_customers", key)
    assert not result.passed and result.table_failures


def test_quarantined_rows_are_left_out_of_the_outbound_batch(tmp_path) -> None:
    warehouse = Warehouse(kind="duckdb", duckdb_path=tmp_path / "w.duckdb")
    desired = pd.DataFrame(
        {
            "record_key": ["a", "b"],
            "golden_customer_id": ["GC000000001", "GC000000002"],
            "support_organization_id": [11, 12],
            "operation": ["update", "update"],
            "support_entitlement": ["premium", "platinum"],  # 'platinum' is not an entitlement
            "seats": [3, 4],
            "record_hash": ["h1", "h2"],
        }
    )
    warehouse.write_frame(desired, "marts", "sync_support_organizations")
    result = run_gate(
        warehouse, schemas.sync_support_organizations(), "marts", "sync_support_organizations", "record_key"
    )
    assert result.passed and result.quarantined_keys == {"b"}
    batch = read_outbound(warehouse, SYNCS["support_organizations"])
    assert (batch.total, len(batch.rows), batch.keys_held_back) == (2, 1, {"b"})
    assert batch.rows["record_key"].tolist() == ["a"]
    assert batch.invalid["rule"].tolist() == ["entitlement_values"]
    quarantine = warehouse.read_frame("select * from quality.quarantine")
    assert quarantine["table_name"].tolist() == ["sync_support_organizations"]


def test_an_empty_sync_model_passes_its_gate_but_keeps_its_columns_checked() -> None:
    """Nothing to send is a valid desired state; a missing column still fails."""
    from quality.registry import GATES

    gate = next(g for g in GATES if g.table == "sync_billing_credit_notes")
    empty = pd.DataFrame(
        columns=["erp_credit_memo_id", "billing_invoice_id", "operation", "amount_minor", "record_hash"]
    )
    assert evaluate(empty, gate.schema(), gate.table, gate.key, min_rows=gate.min_rows).passed
    broken = empty.drop(columns=["record_hash"])
    assert not evaluate(broken, gate.schema(), gate.table, gate.key, min_rows=gate.min_rows).passed


def test_entitlements_come_from_the_sla_policies_seed(tmp_path, monkeypatch) -> None:
    """A company's own entitlement passes the gate once its sla_policies seed lists it; one that no
    seed row names is quarantined."""
    (tmp_path / "sla_policies.csv").write_text("support_entitlement,sla_policy\nnone,\ngold,Gold (2h)\n")
    monkeypatch.setattr(schemas, "SEEDS_DIR", tmp_path)
    frame = pd.DataFrame(
        {
            "record_key": ["a", "b", "c"],
            "golden_customer_id": ["GC000000001", "GC000000002", "GC000000003"],
            "support_organization_id": [11, 12, 13],
            "operation": ["update", "update", "update"],
            "support_entitlement": ["gold", "none", "premium"],  # 'premium' is not in this company's seed
            "seats": [3, 4, 5],
            "record_hash": ["h1", "h2", "h3"],
        }
    )
    result = evaluate(frame, schemas.sync_support_organizations(), "sync_support_organizations", "record_key")
    assert result.passed and result.quarantined_keys == {"c"}
    assert result.quarantine["rule"].tolist() == ["entitlement_values"]
