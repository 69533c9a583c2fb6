"""The same syncs with a PostgreSQL warehouse: desired state read from its `marts` schema, state,
ledger and DLQ in its `ops` schema (the default store when the warehouse is PostgreSQL)."""

from __future__ import annotations

import pytest

from reverse_etl.runner import run_syncs
from reverse_etl.state import OpsStore, default_ops_dsn
from tests.reverse_etl.conftest import Retl

pytestmark = pytest.mark.postgres


def test_syncs_run_on_a_postgres_warehouse_with_their_store_in_its_ops_schema(
    retl: Retl,
    postgres_built,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the PostgreSQL warehouse was built from the same seed and scale as this test's (reset) sandbox
    monkeypatch.delenv("SYNCLINE_OPS_DSN")
    warehouse = postgres_built.warehouse
    assert default_ops_dsn(warehouse).startswith("postgresql")
    names = ["erp_customers", "support_organizations"]
    first = {r.sync: r for r in run_syncs(names, warehouse=warehouse, connections=retl.connections)}
    assert first["erp_customers"].counts["created"] > 0, first["erp_customers"].as_dict()
    support = first["support_organizations"]
    assert support.counts["created"] + support.counts["updated"] > 0, str(support.as_dict())
    store = OpsStore.for_warehouse(warehouse)
    written = store.ledger_rows(sync_name="erp_customers")
    assert written and {r["status"] for r in written} <= {"created", "updated", "rejected", "conflict"}
    assert warehouse.query("select count(*) from ops.ledger")[0][0] == len(store.ledger_rows())

    seq = retl.last_request_seq()
    again = {r.sync: r for r in run_syncs(names, warehouse=warehouse, connections=retl.connections)}
    assert retl.writes(None, since=seq) == []
    assert all(sum(r.planned.values()) == 0 for r in again.values())
