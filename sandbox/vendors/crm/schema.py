"""The two HubSpot object types the sandbox serves, and what HubSpot knows about their properties.

Rows are compact: properties that follow from the truth customer are rendered from it at serve time
(see `render.py`); a row only holds what is messy, written by a client or not derivable.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPANIES_TABLE = "crm_companies"
CONTACTS_TABLE = "crm_contacts"

# Sorted indexes: "id" for list cursors, "_modified" for incremental search, the unique properties
# for upsert look-ups, "_company" for the company -> contacts association. (Search sorted by
# createdate is rare enough to sort in memory; its index would cost more than it saves.)
COMPANY_INDEXES = ("id", "_modified", "domain", "erp_customer_number", "billing_customer_id")
CONTACT_INDEXES = ("id", "_modified", "email", "_company")


@dataclass(frozen=True)
class ObjectType:
    name: str  # companies | contacts, as in the URL
    table: str
    singular: str  # HubSpot's singular in association type names: company, contact
    modified_property: str  # hs_lastmodifieddate on companies, lastmodifieddate on contacts
    default_properties: tuple[str, ...]  # returned when the client names none
    writable_properties: frozenset[str]
    unique_properties: tuple[str, ...]  # allowed as idProperty (besides hs_object_id)
    numeric_properties: frozenset[str]
    searchable_text: tuple[str, ...]  # matched by the free-text `query` of a search

    @property
    def date_properties(self) -> frozenset[str]:
        return frozenset({"createdate", self.modified_property})

    @property
    def readable_properties(self) -> frozenset[str]:
        return self.writable_properties | {"hs_object_id", "createdate", self.modified_property}

    def is_known(self, prop: str) -> bool:
        return prop in self.readable_properties


COMPANIES = ObjectType(
    name="companies",
    table=COMPANIES_TABLE,
    singular="company",
    modified_property="hs_lastmodifieddate",
    default_properties=("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    writable_properties=frozenset(
        {
            "name",
            "domain",
            "phone",
            "address",
            "city",
            "zip",
            "state",
            "country",
            "industry",
            "numberofemployees",
            "hubspot_owner_id",
            "lifecyclestage",
            "description",
            "website",
            "hs_parent_company_id",
            "erp_customer_number",
            "vat_number",
            "billing_customer_id",
        }
    ),
    unique_properties=("erp_customer_number", "billing_customer_id", "domain"),
    numeric_properties=frozenset(
        {"hs_object_id", "numberofemployees", "hubspot_owner_id", "hs_parent_company_id"}
    ),
    searchable_text=("name", "domain", "website", "phone"),
)

CONTACTS = ObjectType(
    name="contacts",
    table=CONTACTS_TABLE,
    singular="contact",
    modified_property="lastmodifieddate",
    default_properties=("createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname"),
    writable_properties=frozenset(
        {
            "firstname",
            "lastname",
            "email",
            "phone",
            "jobtitle",
            "company",
            "lifecyclestage",
            "hubspot_owner_id",
        }
    ),
    unique_properties=("email",),
    numeric_properties=frozenset({"hs_object_id", "hubspot_owner_id"}),
    searchable_text=("firstname", "lastname", "email", "phone", "company"),
)

OBJECT_TYPES = {t.name: t for t in (COMPANIES, CONTACTS)}

# Association type ids HubSpot defines between contacts and companies (v4 API).
PRIMARY_ASSOCIATION_TYPE_ID = {"contacts": 1, "companies": 2}  # contact_to_company / company_to_contact
UNLABELED_ASSOCIATION_TYPE_ID = {"contacts": 279, "companies": 280}

# HubSpot industries are an enumeration, not free text.
INDUSTRY_CODES = {
    "Software": "COMPUTER_SOFTWARE",
    "Manufacturing": "MECHANICAL_OR_INDUSTRIAL_ENGINEERING",
    "Retail": "RETAIL",
    "Healthcare": "HOSPITAL_HEALTH_CARE",
    "Finance": "FINANCIAL_SERVICES",
    "Logistics": "LOGISTICS_AND_SUPPLY_CHAIN",
    "Education": "EDUCATION_MANAGEMENT",
    "Media": "ONLINE_MEDIA",
}

COUNTRY_NAMES = {
    "US": "United States",
    "GB": "United Kingdom",
    "DE": "Germany",
    "FR": "France",
    "NL": "Netherlands",
    "ES": "Spain",
    "CA": "Canada",
}
