"""Metadata endpoints open-source connectors call at check / discover time, through official clients."""

from __future__ import annotations

import httpx
import pytest
from hubspot import HubSpot
from zenpy import Zenpy


@pytest.fixture(scope="module")
def zenpy(sandbox) -> Zenpy:
    creds = sandbox.settings.credentials["support"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZENPY_FORCE_SCHEME", "http")
        patch.setenv("ZENPY_FORCE_NETLOC", sandbox.settings.base_url("support").removeprefix("http://"))
        yield Zenpy(
            subdomain=creds["subdomain"], email=creds["email"], token=creds["token"], disable_cache=True
        )


@pytest.fixture(scope="module")
def hubspot(sandbox) -> HubSpot:
    return HubSpot(
        access_token=sandbox.settings.credentials["crm"]["access_token"],
        host=sandbox.settings.base_url("crm"),
    )


def test_zendesk_me_and_ticket_fields(zenpy: Zenpy, sandbox) -> None:
    me = zenpy.users.me()
    assert me.email == sandbox.settings.credentials["support"]["email"] and me.role == "admin"
    fields = list(zenpy.ticket_fields())
    assert {f.type for f in fields} >= {"subject", "description", "status", "priority", "assignee"}
    assert len({f.id for f in fields}) == len(fields)
    base = sandbox.settings.base_url("support")
    assert httpx.get(f"{base}/api/v2/users/me.json").status_code == 401
    creds = sandbox.settings.credentials["support"]
    auth = (f"{creds['email']}/token", creds["token"])
    settings = httpx.get(f"{base}/api/v2/account/settings.json", auth=auth).json()["settings"]
    assert settings["active_features"]["organization_access_enabled"] is True


def test_hubspot_properties_and_account_info(hubspot: HubSpot, sandbox) -> None:
    for object_type, modified in (("companies", "hs_lastmodifieddate"), ("contacts", "lastmodifieddate")):
        definitions = {p.name: p for p in hubspot.crm.properties.core_api.get_all(object_type).results}
        assert definitions[modified].type == "datetime" and definitions["hs_object_id"].type == "number"
        assert definitions["lifecyclestage"].type == "enumeration" and definitions["lifecyclestage"].options
    companies = {p.name: p for p in hubspot.crm.properties.core_api.get_all("companies").results}
    assert (
        companies["erp_customer_number"].has_unique_value
        and not companies["erp_customer_number"].hubspot_defined
    )
    base, token = sandbox.settings.base_url("crm"), sandbox.settings.credentials["crm"]["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    details = httpx.get(f"{base}/account-info/v3/details", headers=headers).json()
    assert isinstance(details["portalId"], int) and details["companyCurrency"] == "USD"
    unknown = httpx.get(f"{base}/crm/v3/properties/widgets", headers=headers)
    assert unknown.status_code == 400 and unknown.json()["category"] == "VALIDATION_ERROR"
    assert httpx.get(f"{base}/account-info/v3/details").status_code == 401
