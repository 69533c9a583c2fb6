"""The HubSpot source against the sandbox: exact full loads, incremental search, re-windowing, faults."""

from __future__ import annotations

import json

import pytest
from requests import Response

from ingestion.errors import MalformedPageError, find_cause
from ingestion.sources import crm
from sandbox.client import SandboxAdmin

TABLES = ("companies", "contacts", "contact_company_associations")


def _table_counts(run) -> dict[str, int]:
    return {table: run.count("crm", table) for table in TABLES}


def _changed(changes: list[dict], table: str) -> set[str]:
    return {c["id"] for c in changes if c["system"] == "crm" and c["table"] == table}


def test_full_load_matches_sandbox_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    result = run("crm", config={"page_size": 50})
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}
    assert result.rows == {table: counts[table] for table in TABLES}
    # Properties flattened into typed columns; the explicit property list brought the non-defaults.
    (row,) = run.warehouse.query(
        "select count(*), count(hubspot_owner_id), count(address), min(typeof(hs_lastmodifieddate)),"
        " min(typeof(created_at)) from raw_crm.companies"
    )
    assert row[0] == counts["companies"] and row[1] > row[0] * 0.9 and row[2] > row[0] * 0.9
    assert row[3].startswith("TIMESTAMP") and row[4].startswith("TIMESTAMP")
    (orphans,) = run.warehouse.query(
        "select count(*) from raw_crm.contact_company_associations a"
        " left join raw_crm.companies c on c.id = a.company_id where c.id is null"
    )
    assert orphans == (0,)


def test_second_run_extracts_only_changed_records(run, fresh_sandbox: SandboxAdmin) -> None:
    run("crm")
    changes = fresh_sandbox.simulate(
        8, kinds=["crm_address_change", "crm_owner_change", "new_customer"], seed=3
    )["changes"]
    companies, contacts = _changed(changes, "companies"), _changed(changes, "contacts")
    assert companies and contacts

    second = run("crm")
    assert second.rows.get("companies") == len(companies)
    assert second.rows.get("contacts") == len(contacts)
    # Associations re-read (batch association read) for exactly the new contacts.
    (with_company,) = run.warehouse.query(
        "select count(*) from raw_crm.contact_company_associations where contact_id in ("
        + ",".join(f"'{c}'" for c in contacts)
        + ")"
    )
    assert second.rows.get("contact_company_associations") == with_company[0] == len(contacts)
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}

    third = run("crm")  # nothing changed: the boundary records of the last run are not re-extracted
    assert not any(third.rows.values())


def test_search_rewindows_at_the_result_cap(run, fresh_sandbox: SandboxAdmin, monkeypatch) -> None:
    windows: list[tuple[int, str | None]] = []
    update_request = crm.SearchPaginator.update_request

    def spy(self, request) -> None:
        update_request(self, request)
        windows.append((self.window_ms, request.json.get("after")))

    monkeypatch.setattr(crm.SearchPaginator, "update_request", spy)
    run("crm")
    changes = fresh_sandbox.simulate(
        70, kinds=["crm_address_change", "crm_owner_change", "new_customer"], seed=11
    )["changes"]
    companies, contacts = _changed(changes, "companies"), _changed(changes, "contacts")
    # precondition: more changes than the search cap below (the changes are the truth the run must match)
    assert len(companies) > 10 and len(contacts) > 10

    second = run("crm", config={"search_page_size": 7, "search_result_cap": 20})
    assert second.rows.get("companies") == len(companies)  # none lost, none twice
    assert second.rows.get("contacts") == len(contacts)
    assert max(int(after) for _, after in windows if after is not None) < 20
    # several windows per resource: how many follows the paginator's halving, not the data (no truth)
    assert len({window for window, _ in windows}) >= 4
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}
    (latest,) = run.warehouse.query("select count(distinct id) from raw_crm.companies")
    assert latest == (counts["companies"],)


def test_search_window_stuck_on_one_timestamp_fails_clearly() -> None:
    """More results than the cap at one timestamp: re-windowing cannot progress, so it says so."""
    paginator = crm.SearchPaginator("hs_lastmodifieddate", since_ms=1_000, cap=2)
    response = Response()
    response._content = json.dumps({"paging": {"next": {"after": "2"}}}).encode()
    page = [{"id": str(i), "properties": {"hs_lastmodifieddate": crm.iso_ms(1_000)}} for i in range(2)]
    with pytest.raises(crm.SearchWindowError, match="share hs_lastmodifieddate"):
        paginator.update_state(response, page)


def test_injected_server_errors_still_give_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("crm", error_rate=0.2, seed=4)
    run("crm", config={"page_size": 20})  # list path
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("crm")["injected"].get("error", 0) > 0
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}

    fresh_sandbox.simulate(12, kinds=["crm_owner_change", "new_customer"], seed=6)
    run("crm", config={"search_page_size": 3})  # search path and batch association reads
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}


def test_rate_limit_storm_still_gives_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    run("crm")
    fresh_sandbox.simulate(5, kinds=["new_customer"], seed=8)
    fresh_sandbox.set_faults("crm", rate_limit_quota=5, rate_limit_window_s=1)
    run("crm", config={"search_page_size": 2})  # search + batch association reads under the quota
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert sum(fresh_sandbox.faults("crm")["injected"].values()) > 0
    counts = fresh_sandbox.truth("counts")["crm"]
    assert _table_counts(run) == {table: counts[table] for table in TABLES}


def test_malformed_page_fails_clearly_and_keeps_loaded_data(run, fresh_sandbox: SandboxAdmin) -> None:
    run("crm")
    loaded = _table_counts(run)
    fresh_sandbox.simulate(3, kinds=["new_customer"], seed=9)
    fresh_sandbox.set_faults("crm", malformed="retype_field", path_prefix="/crm/v3/objects/contacts/search")
    with pytest.raises(Exception) as failure:
        run("crm")
    malformed = find_cause(failure.value, MalformedPageError)
    assert malformed is not None and malformed.resource == "contacts"
    assert "id" in malformed.detail
    assert _table_counts(run) == loaded
