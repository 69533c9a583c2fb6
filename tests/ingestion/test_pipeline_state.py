"""Ingestion state belongs to its warehouse: a new warehouse gets a complete load, the old one stays
incremental, whatever the pipelines dir they share."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingestion.pipeline_state import destination_fingerprint, destination_identity, pipelines_dir_for
from sandbox.client import SandboxAdmin
from sandbox.settings import SYSTEMS
from sandbox.world import DAY
from tests.ingestion.conftest import Runner
from tests.postgres import temporary_database
from warehouse import Warehouse


def _counts(run: Runner, system: str, tables: dict[str, int]) -> dict[str, int]:
    return {table: run.count(system, table) for table in tables}


def _duckdb(path: Path) -> Warehouse:
    return Warehouse(kind="duckdb", duckdb_path=path)


@pytest.mark.parametrize("system", SYSTEMS)
def test_second_warehouse_gets_a_complete_load(
    system: str, sandbox, fresh_sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    pipelines = tmp_path / "dlt"  # shared by both warehouses, as `.syncline/dlt` is
    into_a = Runner(sandbox.settings, _duckdb(tmp_path / "a.duckdb"), pipelines)
    into_b = Runner(sandbox.settings, _duckdb(tmp_path / "b.duckdb"), pipelines)
    # Billing reads changes from events: let the generator's future-dated lifecycle events pass (as
    # tests/ingestion/test_billing.py does) so the lists and the events agree.
    fresh_sandbox.advance_clock(2 * DAY)

    into_a(system)
    fresh_sandbox.simulate(12, seed=21)
    fresh_sandbox.advance_clock(2 * DAY)
    truth = fresh_sandbox.truth("counts")[system]

    full = into_b(system)  # empty warehouse B: everything, not what changed since A's run
    assert _counts(into_b, system, truth) == truth

    incremental = into_a(system)  # A keeps its own state: only the changes
    # (the billing event stream is appended to, so A holds the events of both runs)
    objects = {table: count for table, count in truth.items() if (system, table) != ("billing", "events")}
    assert _counts(into_a, system, objects) == objects
    # the load sizes are dlt's row counts per run, which no truth gives; the table counts above are exact
    assert sum(incremental.rows.values()) < sum(full.rows.values()) / 2


@pytest.mark.postgres
def test_postgres_after_duckdb_gets_a_complete_load(
    sandbox, fresh_sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    pipelines = tmp_path / "dlt"
    into_duckdb = Runner(sandbox.settings, _duckdb(tmp_path / "a.duckdb"), pipelines)
    into_duckdb("crm")
    with temporary_database() as dsn:
        into_postgres = Runner(sandbox.settings, Warehouse(kind="postgres", postgres_dsn=dsn), pipelines)
        into_postgres("crm")
        truth = fresh_sandbox.truth("counts")["crm"]
        assert _counts(into_postgres, "crm", truth) == truth


def test_recreated_warehouse_file_gets_a_complete_load(
    sandbox, fresh_sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    """Same path, new file: the warehouse has no state of the pipeline, so the local one is dropped."""
    warehouse = _duckdb(tmp_path / "a.duckdb")
    run = Runner(sandbox.settings, warehouse, tmp_path / "dlt")
    run("erp")
    warehouse.duckdb_path.unlink()
    run("erp")
    truth = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run, "erp", truth) == truth


def test_lost_local_state_is_restored_from_the_warehouse(
    sandbox, fresh_sandbox: SandboxAdmin, tmp_path: Path
) -> None:
    """No local working dir (a new machine, or an upgrade from the old layout): dlt takes the state the
    warehouse holds, and the run stays incremental."""
    run = Runner(sandbox.settings, _duckdb(tmp_path / "a.duckdb"), tmp_path / "dlt")
    full = run("support")
    shutil.rmtree(tmp_path / "dlt")
    changes = fresh_sandbox.simulate(6, kinds=["new_ticket", "ticket_update"], seed=5)["changes"]
    tickets = {c["id"] for c in changes if c["table"] == "tickets"}

    second = run("support")
    assert second.rows.get("tickets") == len(tickets) < full.rows["tickets"]
    truth = fresh_sandbox.truth("counts")["support"]
    assert _counts(run, "support", truth) == truth


def test_fingerprint_names_where_the_data_lives_never_the_password(tmp_path: Path) -> None:
    a, same_a, b = (
        _duckdb(tmp_path / "a.duckdb"),
        _duckdb(tmp_path / "x" / ".." / "a.duckdb"),
        _duckdb(tmp_path / "b.duckdb"),
    )
    assert destination_fingerprint(a) == destination_fingerprint(same_a) != destination_fingerprint(b)

    secret = Warehouse(kind="postgres", postgres_dsn="postgresql://etl:s3cr3t-pw@DB.example:5433/analytics")
    other_user = Warehouse(kind="postgres", postgres_dsn="postgresql://bob:other@db.example:5433/analytics")
    other_db = Warehouse(kind="postgres", postgres_dsn="postgresql://etl:s3cr3t-pw@db.example:5433/sales")
    assert destination_identity(secret) == "postgres:db.example:5433/analytics"
    assert (
        destination_fingerprint(secret)
        == destination_fingerprint(other_user)
        != destination_fingerprint(other_db)
    )

    path = pipelines_dir_for(tmp_path / "dlt", secret)
    assert path.parent == (tmp_path / "dlt").resolve()
    assert "s3cr3t" not in "".join(p.read_text() for p in path.iterdir()) + str(path)
