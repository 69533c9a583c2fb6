"""HubSpot CRM v3 source: companies, contacts and the contact -> company associations.

Works unchanged against the real HubSpot (`base_url=https://api.hubapi.com`, a private app's access
token, bearer auth).

- companies, contacts: the first run pages the list endpoint `GET /crm/v3/objects/{type}` (`limit`,
  `after` = `paging.next.after`, an explicit `properties` list, since HubSpot returns only a few
  default properties otherwise). Later runs search `POST /crm/v3/objects/{type}/search` with
  `{last modified} GTE <incremental cursor>` sorted ascending by it (`hs_lastmodifieddate` on
  companies, `lastmodifieddate` on contacts). Search pages by offset and refuses offsets past
  10,000 results, so before the offset would reach the cap the paginator starts a new search whose
  GTE is the last modified timestamp seen; the records at that boundary timestamp come back and are
  dropped by id. dlt's incremental drops the records at the previous run's cursor the same way.
  Properties are flattened to columns named after the HubSpot property, beside `id`, `createdAt`,
  `updatedAt` and `archived`; property values stay strings as HubSpot sends them, except the date
  properties, typed as timestamps.
- contact_company_associations: one row per (contact, company), fed by the contacts that the
  contacts resource extracts in this run. On the list path the associations come embedded in the
  list call (`associations=companies`); on the search path (search cannot return associations) they
  are re-read for exactly those contacts with the batch association read
  `POST /crm/v3/associations/contacts/companies/batch/read`. Rows merge on (contact_id, company_id)
  with `contact_id` as merge key, so a re-read contact's associations replace its old ones. A contact
  is re-read when its `lastmodifieddate` changes; a contact whose last association was removed yields
  no rows and keeps its stale row until a full refresh.

429 (Retry-After) and 5xx are retried by the shared client; a refused token or missing scope (401 /
403) fails at once with `CredentialsRejectedError` (from `iter_pages`) carrying HubSpot's message and
naming the setting to fix (`SOURCES__CRM__ACCESS_TOKEN`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import (
    BasePaginator,
    JSONResponseCursorPaginator,
    SinglePagePaginator,
)
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from requests import Request, Response

from ingestion.errors import IngestionError
from ingestion.http import iter_pages, make_client

SOURCE = "crm"
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
LIST_PAGE_MAX = 100
SEARCH_PAGE_MAX = 200
SEARCH_RESULT_CAP = 10_000  # HubSpot search: `after` offsets at or past this are refused
BATCH_MAX = 100
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Everything the sandbox's portal knows (HubSpot ignores requested properties a portal lacks).
COMPANY_PROPERTIES = (
    "hs_object_id",
    "createdate",
    "hs_lastmodifieddate",
    "name",
    "domain",
    "website",
    "phone",
    "address",
    "city",
    "zip",
    "state",
    "country",
    "industry",
    "numberofemployees",
    "description",
    "lifecyclestage",
    "hubspot_owner_id",
    "hs_parent_company_id",
    "erp_customer_number",
    "vat_number",
    "billing_customer_id",
)
CONTACT_PROPERTIES = (
    "hs_object_id",
    "createdate",
    "lastmodifieddate",
    "firstname",
    "lastname",
    "email",
    "phone",
    "jobtitle",
    "company",
    "lifecyclestage",
    "hubspot_owner_id",
)
PRIMARY_ASSOCIATION = "contact_to_company"  # HubSpot also lists the unlabeled type for the same pair


def _columns(properties: tuple[str, ...], modified_property: str) -> dict[str, dict[str, str]]:
    """Every requested property as a text column (materialised even while all values are null),
    the dates as timestamps."""
    dates = ("createdAt", "updatedAt", "createdate", modified_property)
    return {name: {"data_type": "timestamp" if name in dates else "text"} for name in (*properties, *dates)}


# -- timestamps ------------------------------------------------------------------------------------
def parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def to_epoch_ms(value: str) -> int:
    """HubSpot ISO 8601 (`2026-06-01T10:20:30.123Z`) -> epoch ms, exactly (search filter values)."""
    return (parse_iso(value) - EPOCH) // timedelta(milliseconds=1)


def iso_ms(ms: int) -> str:
    """Epoch ms -> the canonical `YYYY-MM-DDTHH:MM:SS.mmmZ`, so cursor strings compare in time order."""
    return (EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _check_iso(value: str) -> str:
    parse_iso(value)
    return value


IsoTimestamp = Annotated[str, AfterValidator(_check_iso)]


# -- record contracts: the fields the models rely on, typed; anything else passes through ---------
class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class CompanyProperties(_Record):
    hs_lastmodifieddate: IsoTimestamp


class ContactProperties(_Record):
    lastmodifieddate: IsoTimestamp


class AssociationRef(_Record):
    id: str
    type: str


class AssociationList(_Record):
    results: list[AssociationRef]


class _CrmObject(_Record):
    id: str
    createdAt: IsoTimestamp
    updatedAt: IsoTimestamp
    archived: bool


class CompanyRecord(_CrmObject):
    properties: CompanyProperties


class ContactRecord(_CrmObject):
    properties: ContactProperties
    associations: dict[str, AssociationList] = {}


class ObjectRef(_Record):
    id: str


class AssociationReadRecord(_Record):
    """One result of the v3 batch association read: {from: {id}, to: [{id, type}]}."""

    from_: ObjectRef = Field(alias="from")
    to: list[AssociationRef]


# -- errors ----------------------------------------------------------------------------------------
class SearchWindowError(IngestionError):
    """More records than the search cap share one last-modified timestamp: no window can page past them."""


# -- pagination ------------------------------------------------------------------------------------
class SearchPaginator(BasePaginator):
    """HubSpot search: offset `after` in the JSON body, `{modified} GTE window` re-windowed at the cap.

    When the next offset would reach `cap`, the next request restarts at offset 0 with GTE = the last
    modified timestamp of the page just read (results are sorted ascending by it). The caller drops
    the records at that boundary timestamp that it has already seen.
    """

    def __init__(self, modified_property: str, since_ms: int, cap: int = SEARCH_RESULT_CAP) -> None:
        super().__init__()
        self.modified_property = modified_property
        self.window_ms = since_ms
        self.cap = cap
        self.after: str | None = None

    def body(self) -> dict[str, Any]:
        """The filter and sort of the current window (properties and limit are the caller's)."""
        return {
            "filterGroups": [
                {
                    "filters": [
                        {
                            "propertyName": self.modified_property,
                            "operator": "GTE",
                            "value": str(self.window_ms),
                        }
                    ]
                }
            ],
            "sorts": [{"propertyName": self.modified_property, "direction": "ASCENDING"}],
        }

    def init_request(self, request: Request) -> None:
        self.update_request(request)

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        # Runs before the page is validated: anything unexpected just stops paging, and the
        # page's validation then reports it as malformed.
        self._has_next_page = False
        try:
            next_after = response.json()["paging"]["next"]["after"]
            offset = int(next_after)
            last_ms = to_epoch_ms(data[-1]["properties"][self.modified_property]) if data else None
        except (KeyError, TypeError, ValueError, AttributeError):
            return
        if last_ms is None:
            return
        if offset < self.cap:
            self.after, self._has_next_page = str(next_after), True
            return
        if last_ms <= self.window_ms:
            raise SearchWindowError(
                f"{SOURCE}: {self.cap:,} search results share {self.modified_property} = {iso_ms(last_ms)}; "
                "cannot page past them by re-windowing"
            )
        self.window_ms, self.after, self._has_next_page = last_ms, None, True

    def update_request(self, request: Request) -> None:
        body = dict(request.json or {})
        body.update(self.body())
        body.pop("after", None)
        if self.after is not None:
            body["after"] = self.after
        request.json = body


class BoundaryDeduplicator:
    """Drops records already seen at the highest last-modified timestamp (results come ascending)."""

    def __init__(self, modified_property: str) -> None:
        self.modified_property = modified_property
        self.boundary_ms: int | None = None
        self.boundary_ids: set[str] = set()

    def fresh(self, records: list[dict]) -> list[dict]:
        kept = []
        for record in records:
            ms = to_epoch_ms(record["properties"][self.modified_property])
            if self.boundary_ms is None or ms > self.boundary_ms:
                self.boundary_ms, self.boundary_ids = ms, set()
            elif ms == self.boundary_ms and record["id"] in self.boundary_ids:
                continue
            if ms == self.boundary_ms:
                self.boundary_ids.add(record["id"])
            kept.append(record)
        return kept


# -- helpers ---------------------------------------------------------------------------------------
def flatten(record: dict, modified_property: str) -> dict[str, Any]:
    """A HubSpot object -> one row: its properties as columns beside id, createdAt, updatedAt, archived."""
    properties = dict(record.get("properties") or {})
    # Canonical form (HubSpot may omit the milliseconds), so the incremental compares strings in time order.
    properties[modified_property] = iso_ms(to_epoch_ms(properties[modified_property]))
    return {
        "id": record["id"],
        **properties,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": record["archived"],
    }


def association_rows(contact_id: str, refs: list[dict]) -> list[dict[str, Any]]:
    """One row per company; HubSpot lists a pair once per association type (primary, unlabeled)."""
    types: dict[str, list[str]] = {}
    for ref in refs:
        types.setdefault(ref["id"], []).append(ref["type"])
    return [
        {
            "contact_id": contact_id,
            "company_id": company_id,
            "association_type": PRIMARY_ASSOCIATION if PRIMARY_ASSOCIATION in kinds else kinds[0],
        }
        for company_id, kinds in types.items()
    ]


@dlt.source(name=SOURCE, max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def crm_source(
    base_url: str,
    access_token: str,
    page_size: int = 100,
    search_page_size: int = SEARCH_PAGE_MAX,
    search_result_cap: int = SEARCH_RESULT_CAP,
) -> Any:
    """`page_size` is for list calls (HubSpot max 100), `search_page_size` for search (max 200);
    `search_result_cap` is HubSpot's 10,000 (lower it only to exercise re-windowing)."""
    client = make_client(base_url, auth=BearerTokenAuth(access_token))
    list_size = max(1, min(page_size, LIST_PAGE_MAX))
    search_size = max(1, min(search_page_size, SEARCH_PAGE_MAX))
    # Contacts read from the list call carry their associations; the transformer takes them from here.
    embedded: dict[str, list[dict]] = {}

    def read_objects(
        object_type: str,
        properties: tuple[str, ...],
        modified_property: str,
        model: type[BaseModel],
        cursor: dlt.sources.incremental[str],
        associations: str | None = None,
    ) -> Iterator[list[dict]]:
        if cursor.start_value is None:
            params: dict[str, Any] = {
                "limit": list_size,
                "properties": ",".join(properties),
                "archived": "false",
            }
            if associations:
                params["associations"] = associations
            pages = iter_pages(
                client,
                source=SOURCE,
                resource=object_type,
                path=f"/crm/v3/objects/{object_type}",
                paginator=JSONResponseCursorPaginator(cursor_path="paging.next.after", cursor_param="after"),
                data_selector="results",
                params=params,
                model=model,
            )
        else:
            dedupe = BoundaryDeduplicator(modified_property)
            pages = (
                dedupe.fresh(page)
                for page in iter_pages(
                    client,
                    source=SOURCE,
                    resource=object_type,
                    path=f"/crm/v3/objects/{object_type}/search",
                    method="POST",
                    json={"properties": list(properties), "limit": search_size},
                    paginator=SearchPaginator(
                        modified_property, to_epoch_ms(cursor.start_value), search_result_cap
                    ),
                    data_selector="results",
                    model=model,
                )
            )
        for page in pages:
            if associations and cursor.start_value is None:
                for record in page:
                    embedded[record["id"]] = (
                        (record.get("associations") or {}).get(associations, {}).get("results", [])
                    )
            yield [flatten(record, modified_property) for record in page]

    @dlt.resource(
        name="companies",
        primary_key="id",
        write_disposition="merge",
        columns=_columns(COMPANY_PROPERTIES, "hs_lastmodifieddate"),
    )
    def companies(
        modified: dlt.sources.incremental[str] = dlt.sources.incremental(
            "hs_lastmodifieddate", initial_value=None
        ),
    ) -> Iterator[list[dict]]:
        yield from read_objects(
            "companies", COMPANY_PROPERTIES, "hs_lastmodifieddate", CompanyRecord, modified
        )

    @dlt.resource(
        name="contacts",
        primary_key="id",
        write_disposition="merge",
        columns=_columns(CONTACT_PROPERTIES, "lastmodifieddate"),
    )
    def contacts(
        modified: dlt.sources.incremental[str] = dlt.sources.incremental(
            "lastmodifieddate", initial_value=None
        ),
    ) -> Iterator[list[dict]]:
        yield from read_objects(
            "contacts",
            CONTACT_PROPERTIES,
            "lastmodifieddate",
            ContactRecord,
            modified,
            associations="companies",
        )

    @dlt.transformer(
        name="contact_company_associations",
        data_from=contacts,
        primary_key=("contact_id", "company_id"),
        merge_key="contact_id",
        write_disposition="merge",
    )
    def contact_company_associations(page: list[dict]) -> Iterator[list[dict]]:
        """The associations of the contacts extracted in this run (after incremental filtering)."""
        rows: list[dict] = []
        missing: list[str] = []
        for contact in page:
            refs = embedded.pop(contact["id"], None)
            if refs is None:
                missing.append(contact["id"])
            else:
                rows.extend(association_rows(contact["id"], refs))
        for start in range(0, len(missing), BATCH_MAX):
            rows.extend(read_associations(client, missing[start : start + BATCH_MAX]))
        if rows:
            yield rows

    return companies, contacts, contact_company_associations


def read_associations(client: RESTClient, contact_ids: list[str]) -> list[dict[str, Any]]:
    """Batch association read (<= 100 contacts): 200, or 207 listing ids that no longer exist."""
    rows: list[dict[str, Any]] = []
    pages = iter_pages(
        client,
        source=SOURCE,
        resource="contact_company_associations",
        path="/crm/v3/associations/contacts/companies/batch/read",
        method="POST",
        json={"inputs": [{"id": contact_id} for contact_id in contact_ids]},
        paginator=SinglePagePaginator(),
        data_selector="results",
        model=AssociationReadRecord,
    )
    for page in pages:
        for result in page:
            rows.extend(association_rows(str(result["from"]["id"]), result["to"]))
    return rows
