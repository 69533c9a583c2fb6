"""Zendesk Support source: organizations, users, tickets (incremental exports) and organization fields.

Works unchanged against a real Zendesk (`base_url=https://<subdomain>.zendesk.com`, email + API token).

- organizations: time-based export `/api/v2/incremental/organizations.json?start_time=`; Zendesk
  repeats the items sharing a page's last timestamp on the next page, so ids are de-duplicated here.
- users, tickets: cursor-based exports `/api/v2/incremental/{users,tickets}/cursor.json`.
- organization_fields: the custom-field definitions (small), re-read in full with cursor pagination.

Each export starts at the incremental cursor (`updated_at`); dlt's incremental drops the rows at the
boundary that the previous run already loaded. Zendesk refuses a start_time less than a minute old:
that only happens when nothing can be new yet, so the resource then yields nothing and keeps its state.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BaseNextUrlPaginator
from pydantic import BaseModel, ConfigDict
from requests import HTTPError, Response
from requests.auth import HTTPBasicAuth

from ingestion.http import iter_pages, make_client

log = logging.getLogger(__name__)

SOURCE = "support"
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "freeze"}
EPOCH = "1970-01-01T00:00:00Z"
EXPORT_PAGE_MAX = 1000
TIMESTAMPS = {"created_at": {"data_type": "timestamp"}, "updated_at": {"data_type": "timestamp"}}


# -- record contracts: the fields the models rely on, typed; anything else passes through ---------
class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class OrganizationRecord(_Record):
    id: int
    name: str
    updated_at: str
    organization_fields: dict[str, Any]


class UserRecord(_Record):
    id: int
    email: str | None
    role: str
    organization_id: int | None
    updated_at: str


class TicketRecord(_Record):
    id: int
    status: str
    organization_id: int | None
    requester_id: int | None
    updated_at: str


class OrganizationFieldRecord(_Record):
    id: int
    key: str
    type: str


# -- pagination ------------------------------------------------------------------------------------
class ExportPaginator(BaseNextUrlPaginator):
    """Incremental exports: follow `next_url_key` (next_page / after_url) until `end_of_stream`.

    The next URL is present even on the last page (it is where to resume later), so dlt's
    JSONLinkPaginator would never stop.
    """

    def __init__(self, next_url_key: str) -> None:
        super().__init__()
        self.next_url_key = next_url_key

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        self._next_reference = None if body.get("end_of_stream", True) else body.get(self.next_url_key)


class CursorListPaginator(BaseNextUrlPaginator):
    """Cursor-paginated lists: `links.next` while `meta.has_more` (Zendesk's documented stop signal)."""

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        body = response.json()
        more = (body.get("meta") or {}).get("has_more")
        self._next_reference = (body.get("links") or {}).get("next") if more else None


def to_epoch(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(UTC).timestamp())


def _export(
    client: RESTClient,
    *,
    resource: str,
    path: str,
    next_url_key: str,
    start_time: int,
    page_size: int,
    model: type[BaseModel],
) -> Iterator[list[dict]]:
    try:
        yield from iter_pages(
            client,
            source=SOURCE,
            resource=resource,
            path=path,
            paginator=ExportPaginator(next_url_key),
            data_selector=resource,
            params={"start_time": start_time, "per_page": page_size},
            model=model,
        )
    except HTTPError as exc:
        body = exc.response.text if exc.response is not None else ""
        if exc.response is not None and exc.response.status_code == 400 and "start_time" in body:
            log.info(
                "%s.%s: start_time %s is less than a minute old; nothing to export yet",
                SOURCE,
                resource,
                start_time,
            )
            return
        raise


@dlt.source(name=SOURCE, max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def support_source(
    base_url: str, email: str, token: str, page_size: int = 100, export_page_size: int = EXPORT_PAGE_MAX
) -> Any:
    """`page_size` is for cursor lists (Zendesk max 100), `export_page_size` for exports (max 1000)."""
    client = make_client(base_url, auth=HTTPBasicAuth(f"{email}/token", token))
    export_size = min(export_page_size, EXPORT_PAGE_MAX)

    @dlt.resource(name="organizations", primary_key="id", write_disposition="merge", columns=TIMESTAMPS)
    def organizations(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental("updated_at", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        seen: set[int] = set()  # the time-based export repeats items sharing a page's last timestamp
        for page in _export(
            client,
            resource="organizations",
            path="/api/v2/incremental/organizations.json",
            next_url_key="next_page",
            start_time=to_epoch(updated_at.start_value),
            page_size=export_size,
            model=OrganizationRecord,
        ):
            fresh = [org for org in page if org["id"] not in seen]
            seen.update(org["id"] for org in fresh)
            yield fresh

    @dlt.resource(name="users", primary_key="id", write_disposition="merge", columns=TIMESTAMPS)
    def users(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental("updated_at", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        yield from _export(
            client,
            resource="users",
            path="/api/v2/incremental/users/cursor.json",
            next_url_key="after_url",
            start_time=to_epoch(updated_at.start_value),
            page_size=export_size,
            model=UserRecord,
        )

    @dlt.resource(name="tickets", primary_key="id", write_disposition="merge", columns=TIMESTAMPS)
    def tickets(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental("updated_at", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        yield from _export(
            client,
            resource="tickets",
            path="/api/v2/incremental/tickets/cursor.json",
            next_url_key="after_url",
            start_time=to_epoch(updated_at.start_value),
            page_size=export_size,
            model=TicketRecord,
        )

    @dlt.resource(name="organization_fields", primary_key="id", write_disposition="merge", columns=TIMESTAMPS)
    def organization_fields() -> Iterator[list[dict]]:
        yield from iter_pages(
            client,
            source=SOURCE,
            resource="organization_fields",
            path="/api/v2/organization_fields.json",
            paginator=CursorListPaginator(),
            data_selector="organization_fields",
            params={"page[size]": min(page_size, 100)},
            model=OrganizationFieldRecord,
        )

    return organizations, users, tickets, organization_fields
