"""The Business Central source against the sandbox: exact full loads, incremental runs, faults, drift."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import urlparse

import pytest
import requests

from ingestion.errors import MalformedPageError, SourceUnavailableError, find_cause
from ingestion.sources.erp import _parse_timestamp, _shape, erp_source
from sandbox.client import SandboxAdmin

TABLES = (
    "customers",
    "sales_invoices",
    "sales_invoice_lines",
    "sales_credit_memos",
    "sales_credit_memo_lines",
)
LINES = {"sales_invoices": "sales_invoice_lines", "sales_credit_memos": "sales_credit_memo_lines"}
SMALL_PAGE = 50  # far below every table's size: each is read over several @odata.nextLink pages
CHANGE_KINDS = ["erp_credit_limit_change", "erp_customer_edit", "erp_late_posting"]


def _counts(run) -> dict[str, int]:
    return {table: run.count("erp", table) for table in TABLES}


def _company_path(admin: SandboxAdmin, entity_set: str) -> str:
    """URL path of one collection, for faults scoped with `path_prefix`."""
    company = admin.settings.credentials["erp"]["company_id"]
    return f"{urlparse(admin.settings.erp_api_root()).path}/companies({company})/{entity_set}"


def _count_requests(admin: SandboxAdmin) -> None:
    """A 1 ms latency fault tallies every request the sandbox serves (`faults()["injected"]["latency"]`)."""
    admin.set_faults("erp", latency_ms=1)


def _requests_served(admin: SandboxAdmin) -> int:
    return admin.faults("erp")["injected"].get("latency", 0)


def _simulate_changes(admin: SandboxAdmin, seed: int) -> dict[str, set[str]]:
    changes = admin.simulate(6, kinds=CHANGE_KINDS, seed=seed)["changes"]
    changed = {
        table: {c["id"] for c in changes if c["table"] == table} for table in ("customers", "sales_invoices")
    }
    assert changed["customers"] and changed["sales_invoices"], changes
    return changed


def test_one_resource_per_raw_table() -> None:
    source = erp_source("http://erp.invalid", "token", "tenant", "production", "company")
    assert tuple(source.selected_resources) == TABLES  # Dagster asset keys follow the selected resources


def test_shape_types_bc_values() -> None:
    row = _shape(
        {
            "@odata.etag": 'W/"JzE5OzE7MDA7Jw=="',
            "salesInvoiceLines@odata.context": "https://example/$metadata#lines",
            "lastModifiedDateTime": "2024-03-01T09:30:00.1234567Z",
            "postingDate": "0001-01-01",  # BC's empty date
            "creditLimit": 0,
            "balanceDue": 12.5,
            "sequence": 10000,
            "taxLiable": False,
        }
    )
    assert row == {
        "odata_etag": 'W/"JzE5OzE7MDA7Jw=="',
        "lastModifiedDateTime": datetime(2024, 3, 1, 9, 30, 0, 123456, tzinfo=UTC),
        "postingDate": date(1, 1, 1),
        "creditLimit": Decimal("0"),
        "balanceDue": Decimal("12.5"),
        "sequence": 10000,
        "taxLiable": False,
    }
    assert _parse_timestamp("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=UTC)  # never stamped


def test_full_load_matches_sandbox_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    _count_requests(fresh_sandbox)
    result = run("erp", config={"page_size": SMALL_PAGE})
    counts = fresh_sandbox.truth("counts")["erp"]
    assert all(counts[table] > SMALL_PAGE for table in ("customers", "sales_invoices", "sales_invoice_lines"))
    assert _counts(run) == {table: counts[table] for table in TABLES}
    assert result.rows == {table: counts[table] for table in TABLES}  # nothing read twice across pages
    # One pass over each collection: the lines come with their documents ($expand), not a second read.
    pages = sum(
        math.ceil(counts[table] / SMALL_PAGE)
        for table in ("customers", "sales_invoices", "sales_credit_memos")
    )
    assert _requests_served(fresh_sandbox) == pages

    # Every line belongs to a loaded document of its own kind; etags and typed columns are there.
    for documents, lines in LINES.items():
        orphans = run.warehouse.query(
            f"select count(*) from raw_erp.{lines} l left join raw_erp.{documents} d on d.id = l.document_id"
            " where d.id is null"
        )[0][0]
        assert orphans == 0
    assert (
        run.warehouse.query("select count(*) from raw_erp.customers where odata_etag like 'W/%'")[0][0]
        == counts["customers"]
    )
    types = dict(
        run.warehouse.query(
            "select table_name || '.' || column_name, data_type from information_schema.columns"
            " where table_schema = 'raw_erp'"
        )
    )
    assert types["customers.last_modified_date_time"].startswith("TIMESTAMP")
    assert types["sales_invoices.posting_date"] == "DATE"
    assert types["sales_invoices.total_amount_including_tax"].startswith("DECIMAL")
    assert types["sales_credit_memo_lines.amount_including_tax"].startswith("DECIMAL")
    for documents, lines in LINES.items():  # the expanded lines left the document rows
        assert f"{documents}.{lines}" not in types


def test_second_run_extracts_only_changed_records(run, fresh_sandbox: SandboxAdmin) -> None:
    run("erp", config={"page_size": SMALL_PAGE})
    assert run("erp").rows == {}  # the boundary records re-read by `ge` are dropped by dlt's incremental

    changed = _simulate_changes(fresh_sandbox, seed=3)
    _count_requests(fresh_sandbox)
    second = run("erp", config={"page_size": SMALL_PAGE})
    assert _requests_served(fresh_sandbox) == 3  # filtered server-side: one short page per collection
    posted = ", ".join(f"'{id_}'" for id_ in changed["sales_invoices"])
    posted_lines = run.warehouse.query(
        f"select count(*) from raw_erp.sales_invoice_lines where document_id in ({posted})"
    )[0][0]
    assert second.rows == {
        "customers": len(changed["customers"]),
        "sales_invoices": len(changed["sales_invoices"]),
        "sales_invoice_lines": posted_lines,
    }
    counts = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run) == {table: counts[table] for table in TABLES}

    # The stored etag is the current one: the reverse ETL can PATCH with If-Match.
    customer_id = sorted(changed["customers"])[0]
    credentials = fresh_sandbox.settings.credentials["erp"]
    live = requests.get(
        f"{fresh_sandbox.settings.erp_api_root()}/companies({credentials['company_id']})/customers({customer_id})",
        headers={"Authorization": f"Bearer {credentials['access_token']}"},
        timeout=30,
    ).json()
    stored = run.warehouse.query(
        f"select odata_etag, credit_limit from raw_erp.customers where id = '{customer_id}'"
    )[0]
    assert stored == (live["@odata.etag"], pytest.approx(live["creditLimit"]))


def test_injected_server_errors_still_give_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    fresh_sandbox.set_faults("erp", error_rate=0.2, seed=4)
    run("erp", config={"page_size": SMALL_PAGE})
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("erp")["injected"].get("error", 0) > 0
    counts = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run) == {table: counts[table] for table in TABLES}


def test_rate_limit_storm_still_gives_exact_counts(run, fresh_sandbox: SandboxAdmin) -> None:
    # 3 requests a second for a run of ~10 pages: most pages first get a 429 with Retry-After.
    fresh_sandbox.set_faults("erp", rate_limit_quota=3, rate_limit_window_s=1)
    run("erp", config={"page_size": 200})
    # precondition, not a result: the faults fired (how often follows the request count, which no
    # truth gives); the outcome is compared with the truth exactly below
    assert fresh_sandbox.faults("erp")["injected"].get("rate_limited", 0) > 0
    counts = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run) == {table: counts[table] for table in TABLES}


@pytest.mark.parametrize(
    ("faults", "entity_set", "resource"),
    [
        (
            {"malformed": "retype_field", "malformed_field": "totalAmountIncludingTax"},
            "salesInvoices",
            "sales_invoices",
        ),
        ({"malformed": "retype_field", "malformed_field": "lastModifiedDateTime"}, "customers", "customers"),
        ({"malformed": "truncate"}, "customers", "customers"),
    ],
    ids=["retyped-amount", "retyped-cursor", "truncated-body"],
)
def test_malformed_page_fails_clearly_and_keeps_loaded_data(
    run, fresh_sandbox: SandboxAdmin, faults: dict, entity_set: str, resource: str
) -> None:
    run("erp", config={"page_size": SMALL_PAGE})
    loaded = _counts(run)
    _simulate_changes(fresh_sandbox, seed=9)
    fresh_sandbox.set_faults("erp", path_prefix=_company_path(fresh_sandbox, entity_set), **faults)
    with pytest.raises(Exception) as failure:
        run("erp", config={"page_size": SMALL_PAGE})
    malformed = find_cause(failure.value, MalformedPageError)
    assert malformed is not None, failure.value
    assert (malformed.source, malformed.resource) == ("erp", resource)
    assert _counts(run) == loaded  # nothing of the failed run is loaded, nothing earlier is lost

    fresh_sandbox.clear_faults("erp")  # the vendor fixes its payload: the next run catches up
    run("erp", config={"page_size": SMALL_PAGE})
    counts = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run) == {table: counts[table] for table in TABLES}


def test_outage_fails_the_run_and_a_later_run_catches_up(
    run, fresh_sandbox: SandboxAdmin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__REQUEST_MAX_ATTEMPTS", "2")
    run("erp")
    loaded = _counts(run)
    changed = _simulate_changes(fresh_sandbox, seed=11)
    fresh_sandbox.set_faults("erp", outage=True)
    with pytest.raises(Exception) as failure:
        run("erp")
    unavailable = find_cause(failure.value, SourceUnavailableError)
    assert unavailable is not None and unavailable.source == "erp", failure.value
    assert _counts(run) == loaded

    fresh_sandbox.clear_faults("erp")
    caught_up = run("erp")
    assert caught_up.rows["customers"] == len(changed["customers"])
    assert caught_up.rows["sales_invoices"] == len(changed["sales_invoices"])
    counts = fresh_sandbox.truth("counts")["erp"]
    assert _counts(run) == {table: counts[table] for table in TABLES}
