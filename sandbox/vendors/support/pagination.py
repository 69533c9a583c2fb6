"""Zendesk's three pagination styles over sorted indexes (never a full scan per page).

- cursor lists (`page[size]`, `page[after]`, `page[before]`, `meta.has_more`, `links.next`)
- offset lists (`page`, `per_page`, `next_page`, `count`), the default when no `page[...]` is given
- incremental exports: cursor-based (`after_cursor`, `end_of_stream`) and time-based (`end_time`)

Cursors are opaque to clients: base64url of a JSON position (index value, row key) in the table.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from itertools import islice
from urllib.parse import urlencode

import orjson
from starlette.requests import Request

from sandbox.store import Table
from sandbox.vendor import bad_request

LIST_MAX = 100
EXPORT_MAX = 1000
Render = Callable[[dict, str], dict]


def base_of(request: Request) -> str:
    """Absolute URLs in pages follow the host the client used, like Zendesk's subdomain URLs."""
    return str(request.base_url).rstrip("/")


def encode_cursor(position: tuple) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(position))).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple:
    """-> (value, key) position; anything else is a 400 in Zendesk's envelope, never a 500."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = orjson.loads(raw)
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise bad_request("Invalid cursor value.", "InvalidPaginationParameter") from None
    if not (isinstance(position, list) and len(position) == 2 and all(isinstance(p, int) for p in position)):
        raise bad_request("Invalid cursor value.", "InvalidPaginationParameter")
    return tuple(position)


def int_param(request: Request, name: str, default: int, *, low: int = 1, high: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name} must be an integer", "InvalidPaginationParameter") from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise bad_request(f"{name} must be {bound}", "InvalidPaginationParameter")
    return value


def wants_cursor_pagination(request: Request) -> bool:
    return any(name.startswith("page[") for name in request.query_params)


def cursor_list(request: Request, table: Table, collection: str, render: Render) -> dict:
    """One page of a list in id order: {collection, meta: {has_more, after_cursor, before_cursor}, links}."""
    size = int_param(request, "page[size]", LIST_MAX, high=LIST_MAX)
    after, before = request.query_params.get("page[after]"), request.query_params.get("page[before]")
    if before:
        page = list(islice(table.scan("id", before=decode_cursor(before), descending=True), size + 1))
        has_more = len(page) > size
        page = page[:size][::-1]
    else:
        start = decode_cursor(after) if after else None
        page = list(islice(table.scan("id", after=start), size + 1))
        has_more = len(page) > size
        page = page[:size]
    base = base_of(request)
    first = encode_cursor((page[0]["id"], page[0]["id"])) if page else None
    last = encode_cursor((page[-1]["id"], page[-1]["id"])) if page else None
    path = f"{base}{request.url.path}"
    return {
        collection: [render(row, base) for row in page],
        "meta": {"has_more": has_more, "after_cursor": last, "before_cursor": first},
        "links": {
            "prev": f"{path}?{urlencode({'page[size]': size, 'page[before]': first})}" if first else None,
            "next": f"{path}?{urlencode({'page[size]': size, 'page[after]': last})}" if last else None,
        },
    }


def offset_list(request: Request, table: Table, collection: str, render: Render) -> dict:
    """Classic offset pagination; positional access into the id index keeps deep pages cheap."""
    per_page = int_param(request, "per_page", LIST_MAX, high=LIST_MAX)
    page = int_param(request, "page", 1)
    index = table.indexes["id"]
    start = (page - 1) * per_page
    keys = [key for _value, key in index.islice(start, start + per_page)]
    base = base_of(request)
    path = f"{base}{request.url.path}"
    total = len(index)
    return {
        collection: [render(table.rows[key], base) for key in keys],
        "next_page": f"{path}?{urlencode({'page': page + 1, 'per_page': per_page})}"
        if start + per_page < total
        else None,
        "previous_page": f"{path}?{urlencode({'page': page - 1, 'per_page': per_page})}"
        if page > 1
        else None,
        "count": total,
    }


def start_time_param(request: Request, now: int) -> int:
    """Zendesk refuses a start_time less than a minute old (relative to the simulated clock)."""
    raw = request.query_params.get("start_time")
    if raw is None or raw == "":
        raise bad_request("start_time is required", "InvalidValue")
    try:
        start_time = int(raw)
    except ValueError:
        raise bad_request("start_time must be an integer (Unix epoch seconds)", "InvalidValue") from None
    if start_time > now - 60:
        raise bad_request("Too recent start_time. Use a start_time older than 1 minute.", "InvalidValue")
    return max(0, start_time)


def cursor_export(request: Request, table: Table, collection: str, render: Render, now: int) -> dict:
    """Cursor-based incremental export ordered by (updated, id).

    `after_cursor` is the position of the last item returned (or of the start when nothing matched),
    so a client can store it and resume later to get exactly what changed since. Writes stamp the
    simulated clock, which only moves forward, so resuming never skips an item.
    """
    per_page = int_param(request, "per_page", EXPORT_MAX, high=EXPORT_MAX)
    cursor = request.query_params.get("cursor")
    if cursor:
        position = decode_cursor(cursor)
    else:
        position = (start_time_param(request, now), 0)  # ids are positive: (t, 0) precedes every row at t
    backwards = position[1] < 0  # before-cursors carry a negated key so one decoder serves both ways
    if backwards:
        page = list(
            islice(table.scan("updated", before=(position[0], -position[1]), descending=True), per_page + 1)
        )
        more = len(page) > per_page
        page = page[:per_page][::-1]
    else:
        page = list(islice(table.scan("updated", after=position), per_page + 1))
        more = len(page) > per_page
        page = page[:per_page]
    after = (page[-1]["updated"], page[-1]["id"]) if page else position if not backwards else (position[0], 0)
    before = (page[0]["updated"], -page[0]["id"]) if page else (position[0], -1)
    base = base_of(request)
    extra = {"per_page": per_page} if "per_page" in request.query_params else {}
    path = f"{base}{request.url.path}"
    after_cursor, before_cursor = encode_cursor(after), encode_cursor(before)
    return {
        collection: [render(row, base) for row in page],
        "after_url": f"{path}?{urlencode({**extra, 'cursor': after_cursor})}",
        "after_cursor": after_cursor,
        "before_url": f"{path}?{urlencode({**extra, 'cursor': before_cursor})}",
        "before_cursor": before_cursor,
        "end_of_stream": not more if not backwards else True,
    }


def time_export(request: Request, table: Table, collection: str, render: Render, now: int) -> dict:
    """Time-based incremental export: items with updated_at >= start_time, by (updated, id).

    Like Zendesk, a full page ends on a timestamp boundary: `end_time` is the last item's
    updated_at and the next page starts there, so items sharing that timestamp are sent again
    (clients must de-duplicate on id). When a whole page shares one timestamp the page is extended
    over every item with it and end_time moves past it, otherwise the export could never advance.
    """
    per_page = int_param(request, "per_page", EXPORT_MAX, high=EXPORT_MAX)
    start_time = start_time_param(request, now)
    rows = table.scan("updated", lower=start_time)
    page = list(islice(rows, per_page))
    end_time = page[-1]["updated"] if page else start_time
    if len(page) == per_page and end_time == start_time:
        page.extend(row for row in table.scan("updated", after=(end_time, page[-1]["id"]), upper=end_time))
        end_time += 1
    base = base_of(request)
    extra = {"per_page": per_page} if "per_page" in request.query_params else {}
    return {
        collection: [render(row, base) for row in page],
        "next_page": f"{base}{request.url.path}?{urlencode({**extra, 'start_time': end_time})}",
        "end_time": end_time,
        "count": len(page),
        "end_of_stream": len(page) < per_page,
    }
