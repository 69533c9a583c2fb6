"""The same four pipelines into PostgreSQL give the same counts as the sandbox truth."""

from __future__ import annotations

import pytest

from sandbox.settings import SYSTEMS
from tests.ingestion.conftest import Runner
from tests.postgres import temporary_database
from warehouse import Warehouse

pytestmark = pytest.mark.postgres


def test_full_ingestion_into_postgres_matches_truth(sandbox, fresh_sandbox, tmp_path) -> None:
    with temporary_database() as dsn:
        warehouse = Warehouse(kind="postgres", postgres_dsn=dsn)
        run = Runner(sandbox.settings, warehouse, tmp_path / "dlt")
        counts = fresh_sandbox.truth("counts")
        for system in SYSTEMS:
            run(system)
            for table, expected in counts[system].items():
                assert run.count(system, table) == expected, f"raw_{system}.{table}"


def test_run_summary_counts_rows_not_bytes_on_postgres(sandbox, fresh_sandbox, tmp_path) -> None:
    """The per-table rows reported for a CSV (COPY) load equal the rows loaded."""
    with temporary_database() as dsn:
        run = Runner(sandbox.settings, Warehouse(kind="postgres", postgres_dsn=dsn), tmp_path / "dlt")
        result = run("billing")
        counts = fresh_sandbox.truth("counts")["billing"]
        assert result.rows["invoices"] == counts["invoices"]
