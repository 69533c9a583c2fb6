"""The Zendesk source against the sandbox: exact full loads, incremental runs, faults, schema drift."""

from __future__ import annotations

import pytest

from ingestion.errors import MalformedPageError, find_cause
from sandbox.client import SandboxAdmin

TABLES = ("organizations", "users", "tickets", "organization_fields")


def test_full_load_matches_sandbox_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    result = run("support", config={"export_page_size": 100})
    counts = fresh_sandbox.truth("counts")["support"]
    assert {table: run.count("support", table) for table in TABLES} == {
        table: counts[table] for table in TABLES
    }
    assert result.rows["organizations"] == counts["organizations"]  # boundary repeats de-duplicated


def test_second_run_extracts_only_changed_records(run, fresh_sandbox: SandboxAdmin) -> None:
    run("support")
    changes = fresh_sandbox.simulate(6, kinds=["new_ticket", "ticket_update", "entitlement_fix"], seed=5)[
        "changes"
    ]
    changed = {
        table: {c["id"] for c in changes if c["table"] == table} for table in ("tickets", "organizations")
    }
    assert changed["tickets"] and changed["organizations"]

    second = run("support")
    assert second.rows.get("tickets") == len(changed["tickets"])
    assert second.rows.get("organizations") == len(changed["organizations"])
    assert "users" not in second.rows
    counts = fresh_sandbox.truth("counts")["support"]
    assert run.count("support", "tickets") == counts["tickets"]

    third = run("support")  # start_time now less than a minute old: nothing new, nothing fails
    assert not third.rows.get("tickets") and not third.rows.get("organizations")


def test_injected_server_errors_still_give_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("support", error_rate=0.2, seed=4)
    run("support", config={"export_page_size": 50, "page_size": 2})
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("support")["injected"].get("error", 0) > 0
    counts = fresh_sandbox.truth("counts")["support"]
    assert {table: run.count("support", table) for table in TABLES} == {
        table: counts[table] for table in TABLES
    }


def test_malformed_page_fails_clearly_and_keeps_loaded_data(run, fresh_sandbox: SandboxAdmin) -> None:
    run("support")
    loaded = run.count("support", "tickets")
    fresh_sandbox.simulate(3, kinds=["new_ticket"], seed=9)
    fresh_sandbox.set_faults("support", malformed="retype_field", path_prefix="/api/v2/incremental/tickets")
    with pytest.raises(Exception) as failure:
        run("support")
    malformed = find_cause(failure.value, MalformedPageError)
    assert malformed is not None and malformed.resource == "tickets"
    assert run.count("support", "tickets") == loaded
