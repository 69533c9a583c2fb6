"""The Stripe imitation through the official `stripe` SDK and raw HTTP, against a live sandbox."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
import stripe

from sandbox.core import Sandbox
from sandbox.settings import SandboxSettings
from sandbox.vendors.billing.writes import neighbour_plan
from tests.sandbox.stripe_schema import schema_errors

LISTED = {  # API collection -> schema name
    "customers": "customer",
    "products": "product",
    "prices": "price",
    "subscriptions": "subscription",
    "invoices": "invoice",
    "charges": "charge",
    "credit_notes": "credit_note",
    "events": "event",
}
EVENT_SCHEMAS = {
    "customer": "customer",
    "subscription": "subscription",
    "invoice": "invoice",
    "charge": "charge",
    "credit_note": "credit_note",
}


@pytest.fixture(scope="module")
def creds(admin) -> dict:
    return admin.credentials()["billing"]


@pytest.fixture(scope="module")
def client(creds) -> stripe.StripeClient:
    return stripe.StripeClient(
        creds["api_key"], base_addresses={"api": creds["base_url"]}, max_network_retries=0
    )


@pytest.fixture(scope="module")
def http(creds):
    with httpx.Client(
        base_url=creds["base_url"], headers={"Authorization": f"Bearer {creds['api_key']}"}, timeout=30
    ) as c:
        yield c


def service(client: stripe.StripeClient, name: str):
    return getattr(client.v1, name)


def list_all(client: stripe.StripeClient, name: str, **params) -> list:
    return list(service(client, name).list(params={"limit": 100, **params}).auto_paging_iter())


def raw_list_all(http: httpx.Client, name: str, **params) -> list[dict]:
    items, cursor = [], None
    while True:
        page = http.get(
            f"/v1/{name}", params={"limit": 100, **params, **({"starting_after": cursor} if cursor else {})}
        ).json()
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = page["data"][-1]["id"]


# -- reading everything ------------------------------------------------------------------------------
def test_sdk_reads_every_collection_and_counts_match_truth(fresh_sandbox, client):
    counts = fresh_sandbox.truth("counts")["billing"]
    seen = {}
    for name in LISTED:
        params = {"status": "all"} if name == "subscriptions" else {}
        objects = list_all(client, name, **params)
        ids = [o.id for o in objects]
        assert len(ids) == len(set(ids)), f"{name}: a page repeated an object"
        created = [o.created for o in objects]
        assert created == sorted(created, reverse=True), f"{name}: not newest first"
        seen[name] = objects
    subscriptions, invoices = seen["subscriptions"], seen["invoices"]
    assert {s.status for s in subscriptions} >= {"active", "canceled", "trialing", "past_due"}
    assert {i.status for i in invoices} >= {"paid", "open"}
    assert {c.status for c in seen["charges"]} == {"succeeded", "failed"}
    observed = {name: len(objects) for name, objects in seen.items()}
    observed["subscription_items"] = sum(len(s["items"].data) for s in subscriptions)
    observed["invoice_lines"] = sum(len(i.lines.data) for i in invoices)
    assert observed == counts

    # Nested lists agree with the embedded ones.
    sub = next(s for s in subscriptions if s.status == "canceled")
    items = client.v1.subscription_items.list(params={"subscription": sub.id})
    assert [i.id for i in items.data] == [i.id for i in sub["items"].data]
    lines = client.v1.invoices.line_items.list(invoices[0].id)
    assert [line.id for line in lines.data] == [line.id for line in invoices[0].lines.data]


def test_default_subscription_list_hides_canceled(http):
    default = raw_list_all(http, "subscriptions")
    canceled = raw_list_all(http, "subscriptions", status="canceled")
    everything = raw_list_all(http, "subscriptions", status="all")
    assert all(s["status"] != "canceled" for s in default)
    assert canceled and all(s["status"] == "canceled" for s in canceled)
    assert len(default) + len(canceled) == len(everything)


def test_customer_filters_use_the_customer_index(http):
    invoices = raw_list_all(http, "invoices")
    customer = invoices[len(invoices) // 2]["customer"]
    expected = [i["id"] for i in invoices if i["customer"] == customer]
    assert [i["id"] for i in raw_list_all(http, "invoices", customer=customer, limit=2)] == expected
    subscription = invoices[0]["subscription"]
    assert [i["id"] for i in raw_list_all(http, "invoices", subscription=subscription)] == [
        i["id"] for i in invoices if i["subscription"] == subscription
    ]
    open_invoices = raw_list_all(http, "invoices", status="open")
    assert open_invoices and all(i["status"] == "open" for i in open_invoices)
    charges = raw_list_all(http, "charges", customer=customer)
    assert charges and all(c["customer"] == customer for c in charges)


def test_created_filter_and_ending_before(client, http):
    customers = list_all(client, "customers")
    pivot = customers[len(customers) // 3].created
    newer = list_all(client, "customers", created={"gte": pivot})
    assert [c.id for c in newer] == [c.id for c in customers if c.created >= pivot]
    older = raw_list_all(http, "customers", **{"created[lt]": pivot})
    assert [c["id"] for c in older] == [c.id for c in customers if c.created < pivot]
    exact = http.get("/v1/customers", params={"created": pivot, "limit": 100}).json()["data"]
    assert exact and all(c["created"] == pivot for c in exact)
    # Walking backwards from the 25th object returns the 20 newer ones, still newest first.
    page = http.get("/v1/customers", params={"ending_before": customers[25].id, "limit": 20}).json()
    assert [c["id"] for c in page["data"]] == [c.id for c in customers[5:25]]
    assert page["has_more"] is True


def test_events_window_types_and_wildcards(client, http):
    events = raw_list_all(http, "events")
    clock = http.get("/_admin/health").json()["clock"]
    assert events and all(clock - 30 * 86_400 <= e["created"] <= clock for e in events)
    types = {e["type"] for e in events}
    assert {
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
        "charge.succeeded",
        "customer.subscription.created",
    } <= types
    invoice_events = raw_list_all(http, "events", type="invoice.*")
    assert invoice_events and all(e["type"].startswith("invoice.") for e in invoice_events)
    assert len(invoice_events) == sum(e["type"].startswith("invoice.") for e in events)
    picked = client.v1.events.list(params={"types": ["charge.failed", "charge.succeeded"], "limit": 100})
    assert {e.type for e in picked.auto_paging_iter()} == {"charge.failed", "charge.succeeded"}
    assert len(list(picked.auto_paging_iter())) == sum(e["type"].startswith("charge.") for e in events)
    created = next(e for e in events if e["type"] == "invoice.created")
    assert created["data"]["object"]["status"] == "draft"
    assert client.v1.events.retrieve(created["id"]).id == created["id"]


# -- object shapes -----------------------------------------------------------------------------------
def test_objects_validate_against_the_openapi_schema(http, shared_dir: Path):
    for name, schema in LISTED.items():
        params = {"limit": 40, **({"status": "all"} if name == "subscriptions" else {})}
        objects = http.get(f"/v1/{name}", params=params).json()["data"]
        assert objects, name
        for obj in objects:
            assert not [k for k in obj if k.startswith("_")], f"internal field leaked in {name}"
            assert schema_errors(shared_dir, schema, obj) == [], f"{name} {obj['id']}"
            if name == "events":
                inner = EVENT_SCHEMAS[obj["data"]["object"]["object"]]
                assert schema_errors(shared_dir, inner, obj["data"]["object"]) == [], obj["id"]
    subscription = http.get("/v1/subscriptions", params={"limit": 1}).json()["data"][0]
    item = http.get("/v1/subscription_items", params={"subscription": subscription["id"]}).json()["data"][0]
    assert schema_errors(shared_dir, "subscription_item", item) == []
    invoice = http.get("/v1/invoices", params={"limit": 1}).json()["data"][0]
    line = http.get(f"/v1/invoices/{invoice['id']}/lines").json()["data"][0]
    assert schema_errors(shared_dir, "line_item", line) == []
    # The validator is not vacuous: a wrong type and a bad enum value are caught.
    broken = dict(invoice, created="yesterday", status="settled")
    assert len(schema_errors(shared_dir, "invoice", broken)) == 2


def test_catalog_has_a_graduated_tiered_price(client):
    prices = list_all(client, "prices", expand=["data.tiers"])
    tiered = [p for p in prices if p.billing_scheme == "tiered"]
    assert tiered and all(
        p.tiers_mode == "graduated" and p.unit_amount is None and len(p.tiers) == 2 for p in tiered
    )
    assert len(prices) == 4 * 2 * 4 and len(list_all(client, "products")) == 4


# -- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "params, status, param, message",
    [
        ({"limit": 0}, 400, "limit", "greater than or equal to 1"),
        ({"limit": 101}, 400, "limit", "less than or equal to 100"),
        ({"limit": "ten"}, 400, "limit", "Invalid integer"),
        ({"colour": "blue"}, 400, "colour", "Received unknown parameter: colour"),
        ({"created[since]": 1}, 400, "created[since]", "Received unknown parameter: created[since]"),
        (
            {"starting_after": "cus_doesnotexist"},
            404,
            "starting_after",
            "No such customer: 'cus_doesnotexist'",
        ),
        ({"ending_before": "cus_doesnotexist"}, 404, "ending_before", "No such customer: 'cus_doesnotexist'"),
    ],
)
def test_list_parameter_errors(http, params, status, param, message):
    response = http.get("/v1/customers", params=params)
    assert response.status_code == status
    error = response.json()["error"]
    assert (
        error["type"] == "invalid_request_error" and error["param"] == param and message in error["message"]
    )


def test_errors_through_the_sdk_and_auth(client, creds, http):
    with pytest.raises(stripe.InvalidRequestError) as bad_limit:
        client.v1.customers.list(params={"limit": 500})
    assert bad_limit.value.param == "limit" and bad_limit.value.http_status == 400
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.customers.retrieve("cus_nothere")
    assert missing.value.code == "resource_missing" and missing.value.http_status == 404
    assert "No such customer: 'cus_nothere'" in missing.value.user_message

    wrong = stripe.StripeClient(
        "sk_test_wrongkey1234", base_addresses={"api": creds["base_url"]}, max_network_retries=0
    )
    with pytest.raises(stripe.AuthenticationError) as denied:
        wrong.v1.customers.list()
    assert denied.value.user_message == "Invalid API Key provided: sk_test_********1234"
    anonymous = httpx.get(f"{creds['base_url']}/v1/customers")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["message"].startswith(
        "You did not provide an API key"
    )
    basic = httpx.get(f"{creds['base_url']}/v1/customers", auth=(creds["api_key"], ""), params={"limit": 1})
    assert basic.status_code == 200
    assert basic.headers["stripe-version"] == "2023-08-16" and basic.headers["request-id"]
    unknown = http.get("/v1/widgets")
    assert unknown.status_code == 404 and "Unrecognized request URL" in unknown.json()["error"]["message"]


def test_rate_limit_and_server_errors_use_stripe_envelope(fresh_sandbox, http):
    fresh_sandbox.set_faults("billing", rate_limit_quota=1, rate_limit_window_s=60)
    http.get("/v1/products")
    limited = http.get("/v1/products")
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limit"
    assert limited.headers["stripe-should-retry"] == "true"
    fresh_sandbox.set_faults("billing", error_rate=1.0, error_status=500)
    failed = http.get("/v1/products")
    assert failed.status_code == 500 and failed.json()["error"]["type"] == "api_error"


# -- writes ------------------------------------------------------------------------------------------
def test_idempotency_replay_and_conflict(fresh_sandbox, http, client):
    before = len(list_all(client, "customers"))
    form = {"name": "Idem Corp", "email": "ap@idem.example", "metadata[erp_customer_no]": "C000999"}
    headers = {"Idempotency-Key": "idem-test-1"}
    first = http.post("/v1/customers", data=form, headers=headers)
    replay = http.post("/v1/customers", data=form, headers=headers)
    assert first.status_code == replay.status_code == 200
    assert replay.json() == first.json() and replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    conflict = http.post("/v1/customers", data={**form, "name": "Other Corp"}, headers=headers)
    assert conflict.status_code == 400 and conflict.json()["error"]["type"] == "idempotency_error"
    assert len(list_all(client, "customers")) == before + 1
    logged = [r for r in fresh_sandbox.requests(system="billing") if r["idempotency_key"] == "idem-test-1"]
    assert [r["status"] for r in logged] == [200, 200, 400]

    created = first.json()
    assert created["metadata"] == {"erp_customer_no": "C000999"}
    updated = client.v1.customers.update(
        created["id"], params={"metadata": {"vat_id": "DE123", "erp_customer_no": ""}}
    )
    assert updated.metadata.to_dict() == {"vat_id": "DE123"}
    events = list_all(client, "events", type="customer.updated")
    assert events[0].data.object.id == created["id"]
    assert events[0].data.previous_attributes.metadata.to_dict() == {
        "vat_id": None,
        "erp_customer_no": "C000999",
    }
    bad = http.post("/v1/customers", data={"nickname": "x"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "nickname"


def test_simulated_upgrade_emits_subscription_updated(fresh_sandbox, client):
    clock = fresh_sandbox.health()["clock"]
    result = fresh_sandbox.simulate(3, seed=11, kinds=["upgrade"])
    changed = [c["id"] for c in result["changes"] if c["table"] == "subscriptions"]
    assert changed
    events = list_all(client, "events", type="customer.subscription.updated", created={"gt": clock})
    assert {e.data.object.id for e in events} == set(changed)
    # the plan changes (a proration charge that fails also moves a subscription to past_due)
    for event in [e for e in events if "items" in e.data.previous_attributes]:
        before = event.data.previous_attributes["items"].data[0].price
        after = event.data.object["items"].data[0].price
        assert before.id != after.id and after.product != before.product
        assert client.v1.subscriptions.retrieve(event.data.object.id)["items"].data[0].price.id == after.id


def _unit(price: dict) -> int:
    return price["unit_amount"] if price["unit_amount"] is not None else price["tiers"][0]["unit_amount"]


def _events_since(http: httpx.Client, clock: int) -> list[dict]:
    """Every event after `clock`, oldest first."""
    return raw_list_all(http, "events", **{"created[gt]": clock})[::-1]


def test_an_upgrade_invoices_the_prorated_difference_at_once(fresh_sandbox, http, shared_dir: Path):
    clock = fresh_sandbox.health()["clock"]
    result = fresh_sandbox.simulate(6, seed=11, kinds=["upgrade"])
    events = _events_since(http, clock)
    upgrades = [e for e in events if e["type"] == "customer.subscription.updated"]
    upgrades = [e for e in upgrades if "items" in e["data"]["previous_attributes"]]
    assert len(upgrades) == 6
    invoiced = 0
    for update in upgrades:
        sub = update["data"]["object"]
        new_price = sub["items"]["data"][0]["price"]
        old_price = update["data"]["previous_attributes"]["items"]["data"][0]["price"]
        now = update["created"]
        mine = [
            e for e in events if e["created"] == now and e["data"]["object"].get("subscription") == sub["id"]
        ]
        invoices = {e["data"]["object"]["id"] for e in mine}
        # remaining share of the period x price difference x seats, per seat in whole minor units
        start, end = sub["current_period_start"], sub["current_period_end"]
        per_seat = (_unit(new_price) - _unit(old_price)) * (end - now) // (end - start)
        if sub["status"] == "trialing" or per_seat <= 0:  # a trial costs nothing; a period over, nothing left
            assert not invoices and "latest_invoice" not in update["data"]["previous_attributes"]
            continue
        [invoice_id] = invoices  # exactly one
        invoiced += 1
        invoice = http.get(f"/v1/invoices/{invoice_id}").json()
        assert schema_errors(shared_dir, "invoice", invoice) == []
        assert invoice["billing_reason"] == "subscription_update" and invoice["created"] == now
        assert invoice["status_transitions"]["finalized_at"] == now  # finalized at once, no delay
        assert invoice["status"] in ("paid", "open") and invoice["number"]
        [line] = invoice["lines"]["data"]
        seats = sub["items"]["data"][0]["quantity"]
        assert line["proration"] is True and line["type"] == "invoiceitem"
        assert (
            line["description"].startswith(f"Remaining time on {seats} × ")
            and len(line["description"]) <= 100
        )
        assert line["period"] == {"start": now, "end": end} and line["price"]["id"] == new_price["id"]
        assert int(line["unit_amount_excluding_tax"]) == per_seat > 0
        assert line["amount"] == per_seat * seats == invoice["subtotal"] and line["quantity"] == seats
        percent = int(sub["discount"]["coupon"]["percent_off"]) if sub["discount"] else 0
        discount = invoice["subtotal"] * percent // 100
        assert invoice["subtotal"] - invoice["total_excluding_tax"] == discount
        assert invoice["total"] == invoice["total_excluding_tax"] + (invoice["tax"] or 0)
        assert http.get(f"/v1/subscriptions/{sub['id']}").json()["latest_invoice"] == invoice_id
        assert update["data"]["previous_attributes"]["latest_invoice"] != invoice_id
        listed = http.get("/v1/invoices", params={"subscription": sub["id"], "limit": 10}).json()["data"]
        assert [i for i in listed if i["id"] == invoice_id] == [invoice]
        # in the feed, in the order Stripe sends them, right after the subscription update
        position = events.index(update)
        types = [e["type"] for e in events[position : position + 5]]
        assert types[:3] == ["customer.subscription.updated", "invoice.created", "invoice.finalized"]
        paid = invoice["status"] == "paid"
        assert types[3:] == (
            ["charge.succeeded", "invoice.paid"] if paid else ["charge.failed", "invoice.payment_failed"]
        )
        created = events[position + 1]["data"]["object"]
        assert created["status"] == "draft" and created["billing_reason"] == "subscription_update"
    assert invoiced
    # finalized and not void: one of the invoices that must reach the ERP
    truth = {t["billing_document_id"]: t for t in fresh_sandbox.truth("invoices")}
    for change in result["changes"]:
        if change["table"] == "invoices":
            assert truth[change["id"]]["expected_status"] == "missing_in_erp"
    counts = fresh_sandbox.truth("counts")["billing"]
    assert len(raw_list_all(http, "invoices")) == counts["invoices"]
    assert len(raw_list_all(http, "events")) == counts["events"]


def test_a_downgrade_invoices_nothing(fresh_sandbox, http):
    clock = fresh_sandbox.health()["clock"]
    result = fresh_sandbox.simulate(5, seed=11, kinds=["downgrade"])
    assert {c["table"] for c in result["changes"]} == {"subscriptions"}
    events = _events_since(http, clock)
    assert len(events) == 5 and {e["type"] for e in events} == {"customer.subscription.updated"}
    assert all(set(e["data"]["previous_attributes"]) == {"items"} for e in events)


def test_the_simulation_is_deterministic_for_a_seed(fresh_sandbox, http):
    def run() -> tuple[dict, list[dict]]:
        fresh_sandbox.reset()
        clock = fresh_sandbox.health()["clock"]
        return fresh_sandbox.simulate(12, seed=4, kinds=["upgrade", "downgrade", "payment"]), _events_since(
            http, clock
        )

    first, again = run(), run()
    assert first == again
    assert any(c["table"] == "invoices" and c["kind"] == "upgrade" for c in first[0]["changes"])


def test_no_proration_for_a_trial_or_a_period_already_over(tmp_path):
    sb = Sandbox(SandboxSettings(seed=21, scale=60, data_dir=tmp_path))
    sb._generate()
    writer = sb.vendors["billing"].writer
    subscriptions = sb.store["billing_subscriptions"].rows.values()
    upgradable = [
        s for s in subscriptions if neighbour_plan(s["_plan"], +1) and not s["cancel_at_period_end"]
    ]
    trial = next(s for s in upgradable if s["status"] == "trialing")
    active = next(s for s in upgradable if s["status"] == "active")
    rng = random.Random(0)
    changes = writer.change_plan(trial, neighbour_plan(trial["_plan"], +1), rng, "upgrade")
    assert [c["table"] for c in changes] == ["subscriptions"]
    sb.advance(
        max(0, active["current_period_end"] - sb.now())
    )  # the period ends now: nothing left to prorate
    changes = writer.change_plan(active, neighbour_plan(active["_plan"], +1), rng, "upgrade")
    assert [c["table"] for c in changes] == ["subscriptions"]
    assert sb.store["billing_subscriptions"].get(active["id"])["latest_invoice"] == active["latest_invoice"]


def test_renewal_cancellation_and_payment_keep_counts_consistent(fresh_sandbox, client, http):
    fresh_sandbox.advance_clock(31 * 86_400)  # every monthly period has ended
    result = fresh_sandbox.simulate(12, seed=5, kinds=["renewal", "cancellation", "payment"])
    kinds = {c["kind"] for c in result["changes"]}
    assert "renewal" in kinds and "cancellation" in kinds
    renewed = [c["id"] for c in result["changes"] if c["kind"] == "renewal" and c["table"] == "invoices"]
    assert renewed
    invoice = client.v1.invoices.retrieve(renewed[0])
    assert invoice.billing_reason == "subscription_cycle" and invoice.status in ("paid", "open")
    assert invoice.created == result["clock"] or invoice.created <= result["clock"]
    counts = fresh_sandbox.truth("counts")["billing"]
    assert len(raw_list_all(http, "invoices")) == counts["invoices"]
    assert len(raw_list_all(http, "charges")) == counts["charges"]
    assert len(raw_list_all(http, "events")) == counts["events"]


def test_new_customer_signs_up_in_billing(fresh_sandbox, client):
    clock = fresh_sandbox.health()["clock"]
    fresh_sandbox.simulate(1, seed=3, kinds=["new_customer"])
    created = list_all(client, "customers", created={"gt": clock})
    assert len(created) == 1
    subs = list_all(client, "subscriptions", customer=created[0].id)
    assert subs and all(s.status == "active" for s in subs)
    assert {e.type for e in list_all(client, "events", created={"gt": clock})} >= {
        "customer.created",
        "customer.subscription.created",
    }
    parties = {p["source_id"]: p for p in fresh_sandbox.truth("customers") if p["system"] == "billing"}
    assert created[0].id in parties


# -- generation --------------------------------------------------------------------------------------
def _rendered_customers(tmp_path: Path, seed: int) -> list[dict]:
    sb = Sandbox(SandboxSettings(seed=seed, scale=60, data_dir=tmp_path))
    sb._generate()
    billing = sb.vendors["billing"]
    return [billing.renderer.customer(row) for row in sb.store["billing_customers"].rows.values()]


def test_generation_is_deterministic(tmp_path):
    first = _rendered_customers(tmp_path / "a", seed=21)
    assert first == _rendered_customers(tmp_path / "b", seed=21)
    assert first != _rendered_customers(tmp_path / "c", seed=22)


def test_truth_parties_cover_duplicates(admin):
    parties = [p for p in admin.truth("customers") if p["system"] == "billing"]
    keys = [p["customer_key"] for p in parties]
    assert len(set(keys)) < len(keys), "some customers are duplicated in billing"
    assert all(p["source_id"].startswith("cus_") and p["table"] == "customers" for p in parties)
    rng = random.Random(0)
    assert all(k.startswith("C") for k in rng.sample(keys, 10))


def test_an_upgrade_after_the_clock_jumped_renews_the_ended_periods_then_prorates(fresh_sandbox, client):
    # at the wall clock every seeded period has ended: Stripe would have renewed them; so does the upgrade
    result = fresh_sandbox.simulate(1, seed=3, kinds=["upgrade"], at_wall_clock=True)
    invoices = list(dict.fromkeys(c["id"] for c in result["changes"] if c["table"] == "invoices"))
    reasons = [client.v1.invoices.retrieve(i).billing_reason for i in invoices]
    assert reasons[-1] == "subscription_update" and set(reasons[:-1]) <= {"subscription_cycle"}
    sub_id = next(
        c["id"] for c in result["changes"] if c["table"] == "subscriptions" and c["kind"] == "upgrade"
    )
    subscription = client.v1.subscriptions.retrieve(sub_id)
    assert subscription.current_period_end > result["clock"] >= subscription.current_period_start
