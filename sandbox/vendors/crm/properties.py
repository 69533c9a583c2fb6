"""HubSpot metadata connectors read at discover / check time: property definitions and account info."""

from __future__ import annotations

from sandbox.ids import numeric_id
from sandbox.world import DAY, SIM_NOW

from .render import iso_ms
from .schema import INDUSTRY_CODES, ObjectType

DEFINED_AT = iso_ms((SIM_NOW - 1_500 * DAY) * 1000)
CUSTOM = {"erp_customer_number", "vat_number", "billing_customer_id"}  # created by Syncline's setup
UNIQUE_CUSTOM = {"erp_customer_number", "billing_customer_id"}
LIFECYCLE_STAGES = [
    "subscriber",
    "lead",
    "marketingqualifiedlead",
    "salesqualifiedlead",
    "opportunity",
    "customer",
    "evangelist",
    "other",
]
ENUMERATIONS = {
    "lifecyclestage": LIFECYCLE_STAGES,
    "industry": sorted(INDUSTRY_CODES.values()),
}
READ_ONLY = {"hs_object_id", "createdate", "hs_lastmodifieddate", "lastmodifieddate"}


def _label(name: str) -> str:
    return name.replace("hs_", "").replace("_", " ").capitalize()


def _kind(otype: ObjectType, name: str) -> tuple[str, str]:
    """(type, fieldType) as HubSpot defines the property."""
    if name == "hubspot_owner_id" or name in ENUMERATIONS:
        return "enumeration", "select"
    if name in otype.date_properties:
        return "datetime", "date"
    if name in otype.numeric_properties:
        return "number", "number"
    return "string", "text"


def property_definition(otype: ObjectType, name: str, order: int) -> dict:
    kind, field_type = _kind(otype, name)
    options = [
        {"label": value.replace("_", " ").title(), "value": value, "displayOrder": i, "hidden": False}
        for i, value in enumerate(ENUMERATIONS.get(name, []))
    ]
    custom = name in CUSTOM
    definition = {
        "name": name,
        "label": _label(name),
        "type": kind,
        "fieldType": field_type,
        "description": "",
        "groupName": "syncline" if custom else f"{otype.singular}information",
        "options": options,
        "createdAt": DEFINED_AT,
        "updatedAt": DEFINED_AT,
        "displayOrder": order if custom else -1,
        "calculated": False,
        "externalOptions": name == "hubspot_owner_id",
        "hasUniqueValue": name in UNIQUE_CUSTOM,
        "hidden": False,
        "archived": False,
        "formField": name not in READ_ONLY,
        "modificationMetadata": {
            "archivable": custom,
            "readOnlyDefinition": not custom,
            "readOnlyValue": name in READ_ONLY,
        },
    }
    if not custom:
        definition["hubspotDefined"] = True
    if name == "hubspot_owner_id":
        definition["referencedObjectType"] = "OWNER"
    return definition


def properties(otype: ObjectType) -> dict:
    names = sorted(otype.readable_properties)
    return {"results": [property_definition(otype, name, order) for order, name in enumerate(names)]}


def account_details() -> dict:
    return {
        "portalId": numeric_id("crm:portal", digits=8),
        "accountType": "STANDARD",
        "timeZone": "US/Eastern",
        "companyCurrency": "USD",
        "additionalCurrencies": ["EUR", "GBP", "CAD"],
        "utcOffset": "-05:00",
        "utcOffsetMilliseconds": -18_000_000,
        "uiDomain": "app.hubspot.com",
        "dataHostingLocation": "na1",
    }
