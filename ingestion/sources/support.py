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
from typing import Any, NamedTuple

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


class _Export(NamedTuple):
    """One incremental export, read from the `updated_at` cursor."""

    name: str  # resource and table, and the key of the page's items
    path: str
    next_url_key: str
    model: type[BaseModel]
    repeats_boundary: bool = False  # time-based: a page's last-timestamp items come again on the next page


EXPORTS = (
    _Export(
        name="organizations",
        path="/api/v2/incremental/organizations.json",
        next_url_key="next_page",
        model=OrganizationRecord,
        repeats_boundary=True,
    ),
    _Export(
        name="users",
        path="/api/v2/incremental/users/cursor.json",
        next_url_key="after_url",
        model=UserRecord,
    ),
    _Export(
        name="tickets",
        path="/api/v2/incremental/tickets/cursor.json",
        next_url_key="after_url",
        model=TicketRecord,
    ),
)


def _unique_by_id(pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """Each item once per run: the time-based export repeats the items sharing a page's last timestamp."""
    seen: set[int] = set()
    for page in pages:
        fresh = [item for item in page if item["id"] not in seen]
        seen.update(item["id"] for item in fresh)
        yield fresh


def _export_resource(client: RESTClient, page_size: int, export: _Export) -> Any:
    """The merge resource of one export (`EXPORTS`), incremental on `updated_at`."""

    def read(
        updated_at: dlt.sources.incremental[str] = dlt.sources.incremental("updated_at", initial_value=EPOCH),
    ) -> Iterator[list[dict]]:
        pages = _export(
            client,
            resource=export.name,
            path=export.path,
            next_url_key=export.next_url_key,
            start_time=to_epoch(updated_at.start_value),
            page_size=page_size,
            model=export.model,
        )
        yield from _unique_by_id(pages) if export.repeats_boundary else pages

    return dlt.resource(
        read, name=export.name, primary_key="id", write_disposition="merge", columns=TIMESTAMPS
    )


@dlt.source(name=SOURCE, max_table_nesting=0, schema_contract=SCHEMA_CONTRACT)
def support_source(
    base_url: str, email: str, token: str, page_size: int = 100, export_page_size: int = EXPORT_PAGE_MAX
) -> Any:
    """`page_size` is for cursor lists (Zendesk max 100), `export_page_size` for exports (max 1000)."""
    client = make_client(base_url, auth=HTTPBasicAuth(f"{email}/token", token))
    export_size = min(export_page_size, EXPORT_PAGE_MAX)

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

    exports = [_export_resource(client, export_size, export) for export in EXPORTS]
    return (*exports, organization_fields)
