"""The Dagster UI end to end in headless Chromium (Debian's `chromium`, driven by Playwright).

`dagster-webserver` serves workspace.yaml on a free port, with a temp DAGSTER_HOME and a temp DuckDB
warehouse (`code_location_env`). In the browser: the code location is loaded without error, the asset
groups and their assets are there, with descriptions and metadata, and a materialization launched with the asset page's Materialize
button runs to Success and writes the temp warehouse.

The webserver runs alone, without the daemon, so the sensors and schedules that run by default never
tick during the test; its temp instance launches runs directly (`DefaultRunCoordinator`) instead of
queueing them for a daemon. Playwright never downloads a browser: it starts /usr/bin/chromium
(`apt-get install -y chromium`; `.ci/run` installs it). On a failure, a screenshot of the page and the
webserver's log are in the test's tmp dir.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import free_port
from tests.orchestration.conftest import ROOT

# ~2-4 min on 2 busy cores (the webserver, the run and its step each import the code location);
# a larger cap than the suite's 600 s for a crawling machine.
pytestmark = [pytest.mark.ui, pytest.mark.timeout(900)]

CHROMIUM = Path(os.environ.get("SYNCLINE_CHROMIUM", "/usr/bin/chromium"))
# Without the background-networking flags, Chromium's calls home are refused by the closed network.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The webserver alone (no daemon): runs launched from the UI start at once instead of waiting in a queue.
DIRECT_RUN_LAUNCH = """
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
"""
LOCATION = "syncline"
# A few assets of each group: group -> asset keys the group's page lists.
EXPECTED_ASSETS = {
    "raw_billing": ["raw_billing/customers", "raw_billing/invoices"],
    "raw_crm": ["raw_crm/companies"],
    "raw_erp": ["raw_erp/customers", "raw_erp/sales_invoices"],
    "raw_support": ["raw_support/organizations", "raw_support/tickets"],
    "reference": ["reference/plan_tiers", "reference/field_ownership"],
    "staging": ["staging/stg_billing__customers", "staging/stg_erp__customers"],
    "intermediate": ["intermediate/int_party_records"],
    "identity": ["identity/party_matches"],
    "marts": ["marts/golden_customers", "marts/golden_contracts", "marts/invoice_reconciliation"],
    "reverse_etl": [
        "reverse_etl/erp_customers",
        "reverse_etl/erp_invoices",
        "reverse_etl/support_organizations",
        "reverse_etl/billing_credit_notes",
    ],
}
SEED = "reference/plan_tiers"  # cheap to materialize: one dbt seed and its tests
RUN_TIMEOUT_S = 420
UI_TIMEOUT_MS = 90_000


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium, or a skip that says how to install it (a failure under CI=true)."""
    if CHROMIUM.exists():
        return CHROMIUM
    message = (
        f"{CHROMIUM} not found: the UI test needs Debian's chromium "
        "(as root: `apt-get install -y chromium`; `.ci/run` installs it)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def stop_process_group(proc: subprocess.Popen) -> None:
    """The webserver, its code server and any run it launched share one process group."""
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@contextmanager
def dagster_webserver(log_path: Path, timeout_s: float = 240) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).with_name("dagster-webserver")), "-w", str(ROOT / "workspace.yaml")]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*command, "-h", "127.0.0.1", "-p", str(port)],
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                pytest.fail(
                    f"dagster-webserver exited with {proc.returncode}:\n{log_path.read_text()[-4000:]}"
                )
            try:
                if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"dagster-webserver not serving after {timeout_s}s:\n{log_path.read_text()[-4000:]}"
                )
            time.sleep(0.5)
        yield url
    finally:
        stop_process_group(proc)


@contextmanager
def chromium_page(executable: Path, profile_dir: Path) -> Iterator[Page]:
    expect.set_options(timeout=UI_TIMEOUT_MS)  # pages of a 200-asset location load slowly on 2 busy cores

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile_dir),  # a fresh profile each run
            executable_path=str(executable),
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1600, "height": 1000},
        )
        try:
            context.set_default_timeout(UI_TIMEOUT_MS)
            # The "Join the Dagster community" dialog (shown on localhost only) would cover the page.
            context.add_init_script("window.localStorage.setItem('communityNux', '1')")
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def label(key: str) -> str:
    """An asset key as the UI writes it: `raw_billing / invoices`."""
    return key.replace("/", " / ")


def check_code_location_loaded(page: Page, url: str) -> None:
    page.goto(f"{url}/locations")
    expect(page.get_by_text("1 code location", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(rf"^{LOCATION}(\s|$)"))).to_be_visible()
    expect(page.get_by_text("Loaded", exact=True)).to_be_visible(timeout=120_000)
    for error in ("Failed", "View error"):
        expect(page.get_by_text(error)).to_have_count(0)


def check_asset_graph(page: Page, url: str) -> None:
    page.goto(f"{url}/asset-groups")  # the global lineage: one node per group
    for group in EXPECTED_ASSETS:
        expect(page.get_by_text(group, exact=True).first).to_be_visible()
    for group, keys in EXPECTED_ASSETS.items():  # each group's catalog page lists its assets
        page.goto(f"{url}/locations/{LOCATION}/asset-groups/{group}/list")
        for key in keys:
            # (a "/" escaped: Playwright hands the pattern to the browser as a /.../ literal)
            name = re.escape(label(key)).replace("/", r"\/")
            link = page.get_by_role("link", name=re.compile(rf"^{name}(\s|$)"))
            expect(link.first).to_be_visible()
    page.goto(f"{url}/locations/{LOCATION}/asset-groups/reverse_etl/lineage")
    for key in EXPECTED_ASSETS["reverse_etl"]:  # the graph's nodes, with their sync models upstream
        expect(page.get_by_text(key.split("/")[1], exact=True).first).to_be_visible()
    expect(page.get_by_text("sync_erp_customers", exact=True).first).to_be_visible()


def check_descriptions_and_metadata(page: Page, url: str) -> None:
    """A sensor's page shows its description, a dbt test check says what it asserts, a sync asset its
    definition metadata."""
    from orchestration.defs.operations import billing_events_sensor

    page.goto(f"{url}/locations/{LOCATION}/sensors/{billing_events_sensor.name}")
    expect(page.get_by_text(billing_events_sensor.description, exact=True)).to_be_visible()
    page.goto(f"{url}/assets/{SEED}?view=checks")
    # the first check of the seed, its description rendered as Markdown (the backticks as code)
    expect(
        page.get_by_text(re.compile(r"^dbt not_null test on plan_code \(severity error")).first
    ).to_be_visible()
    expect(page.get_by_text("No description provided")).to_have_count(0)
    page.goto(f"{url}/assets/reverse_etl/erp_customers")
    metadata_row = page.get_by_role("row").filter(has=page.get_by_text("desired_state", exact=True))
    expect(metadata_row).to_contain_text("marts.sync_erp_customers")


def materialize_from_asset_page(page: Page, url: str, key: str) -> str:
    """Click the asset page's Materialize button, follow the launched run to its end: its status."""
    page.goto(f"{url}/assets/{key}")
    expect(page.get_by_text("Never materialized").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"(^|\s)Materialize$")).click()
    toast = page.get_by_role("region", name=re.compile("Notifications"))
    run_link = toast.get_by_role("link", name="View")
    expect(run_link).to_have_attribute("href", re.compile(r"/runs/[0-9a-f-]{36}$"), timeout=120_000)
    page.goto(url + run_link.get_attribute("href"))
    final = page.get_by_text(re.compile(r"^(Success|Failure|Canceled)$")).first
    expect(final).to_be_visible(timeout=RUN_TIMEOUT_S * 1000)
    return final.inner_text()


@contextmanager
def ui_step(
    page: Page, name: str, seconds: dict[str, float], tmp_path: Path, log_path: Path
) -> Iterator[None]:
    """Time a step; on a failure, keep a screenshot of the page and show the webserver's log."""
    start = time.monotonic()
    try:
        yield
    except BaseException:
        shot = tmp_path / ("failure-" + re.sub(r"\W+", "_", name) + ".png")
        page.screenshot(path=str(shot), full_page=True)
        print(f"UI test failed at '{name}': screenshot {shot}, webserver log {log_path}")
        print(log_path.read_text()[-6000:])
        raise
    finally:
        seconds[name] = round(time.monotonic() - start, 1)


def test_dagster_ui_in_chromium(chromium: Path, code_location_env: dict[str, str], tmp_path: Path) -> None:
    with (Path(code_location_env["DAGSTER_HOME"]) / "dagster.yaml").open("a") as instance_yaml:
        instance_yaml.write(DIRECT_RUN_LAUNCH)
    log_path = tmp_path / "dagster-webserver.log"
    seconds: dict[str, float] = {}
    start = time.monotonic()
    with dagster_webserver(log_path) as url, chromium_page(chromium, tmp_path / "chromium-profile") as page:
        seconds["webserver and browser up"] = round(time.monotonic() - start, 1)
        with ui_step(page, "code location loaded", seconds, tmp_path, log_path):
            check_code_location_loaded(page, url)
        with ui_step(page, "asset graph", seconds, tmp_path, log_path):
            check_asset_graph(page, url)
        with ui_step(page, "descriptions and metadata", seconds, tmp_path, log_path):
            check_descriptions_and_metadata(page, url)
        with ui_step(page, f"materialize {SEED}", seconds, tmp_path, log_path):
            status = materialize_from_asset_page(page, url, SEED)
            assert status == "Success", f"the run launched from the UI ended in {status}"
            page.goto(f"{url}/assets/{SEED}")
            expect(page.get_by_text("Never materialized")).to_have_count(0)
    print(f"UI test seconds per step: {seconds}")

    from warehouse import Warehouse

    schema, table = SEED.split("/")
    assert Warehouse.from_env().query(f"select count(*) from {schema}.{table}")[0][0] > 0
