"""HTTP plumbing shared by the sources: dlt's REST client with retries, correlation ids and page checks.

Retries (429 honouring Retry-After, 5xx, timeouts, dropped connections) come from dlt's requests
client (tenacity under the hood), tuned with dlt's runtime settings, e.g.
`RUNTIME__REQUEST_MAX_ATTEMPTS=8`. This module adds what dlt does not: every request carries a
correlation id, and a page that is not JSON or breaks the resource's record contract fails with an
error naming source, resource, page and URL instead of a KeyError deep in normalisation.

Each page body is parsed once, with orjson: dlt's client reads `response.json()` for the data selector
and every paginator reads it again for its cursor, and requests parses with simplejson when that is
installed, which cost more than everything else in extraction on wide pages (Stripe invoices). The
data selector is compiled once per process, not once per page.
"""

from __future__ import annotations

import base64
import contextvars
import functools
import re
import uuid
from collections.abc import Iterator
from typing import Any

import orjson
from dlt.common.configuration import resolve_configuration
from dlt.common.configuration.specs import RuntimeConfiguration
from dlt.common.jsonpath import JSONPath, compile_path
from dlt.sources.helpers.requests.retry import Client
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from pydantic import BaseModel, ValidationError
from requests import HTTPError, JSONDecodeError, PreparedRequest, Response
from requests.auth import AuthBase
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

from ingestion.config import credential_settings
from ingestion.errors import CredentialsRejectedError, MalformedPageError, SourceUnavailableError

CORRELATION_HEADER = "X-Correlation-Id"
# Redaction of credentials echoed in error bodies: words (no blanks, quotes or separators) and the
# shortest piece of a credential worth hiding (Stripe shows a refused key's last 4 characters).
WORD = re.compile(r"[^\s\"',;()\[\]{}]+")
MIN_SECRET_PIECE = 4
_correlation_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "syncline_correlation_id", default=None
)


def new_correlation_id(prefix: str = "ing") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:20]}"


def set_correlation_id(value: str) -> contextvars.Token:
    return _correlation_id.set(value)


def reset_correlation_id(token: contextvars.Token) -> None:
    _correlation_id.reset(token)


def correlation_id() -> str:
    value = _correlation_id.get()
    if value is None:
        value = new_correlation_id()
        _correlation_id.set(value)
    return value


class CorrelationIdAuth(AuthBase):
    """Stamps the current correlation id on every request (sources are built once, runs vary)."""

    def __init__(self, inner: AuthBase | None) -> None:
        self.inner = inner

    def __call__(self, request: PreparedRequest) -> PreparedRequest:
        request.headers[CORRELATION_HEADER] = correlation_id()
        return self.inner(request) if self.inner is not None else request


def make_client(
    base_url: str, *, auth: AuthBase | None = None, headers: dict[str, str] | None = None
) -> RESTClient:
    default_headers = {"User-Agent": "syncline-ingestion/0.1", "Accept": "application/json"}
    # dlt's retrying client, configured from RUNTIME__REQUEST_* (attempts, backoff, max delay, timeout).
    runtime = resolve_configuration(RuntimeConfiguration())
    http = Client(raise_for_status=False)
    http.update_from_config(runtime)
    return RESTClient(
        base_url=base_url.rstrip("/"),
        auth=CorrelationIdAuth(auth),
        headers=default_headers | (headers or {}),
        session=http.session,
        config=runtime,
    )


class _PageTracker:
    """Response hook: remembers the last URL, raises for error statuses (so dlt's retry sees them) and
    makes `response.json()` parse the body once, with orjson."""

    def __init__(self) -> None:
        self.url = ""

    def __call__(self, response: Response, *args: Any, **kwargs: Any) -> None:
        self.url = response.url
        response.raise_for_status()
        parse_json_once(response)


def parse_json_once(response: Response) -> Response:
    """Replace `response.json` by an orjson parse of the body, cached: the client's data selector and
    the paginator share one parse. A body that is not JSON (or not UTF-8) raises requests'
    `JSONDecodeError`, as `Response.json` does."""
    parsed: list[Any] = []

    def json(**kwargs: Any) -> Any:
        if not parsed:
            try:
                parsed.append(orjson.loads(response.content))
            except orjson.JSONDecodeError as exc:
                doc = exc.doc if isinstance(exc.doc, str) else bytes(exc.doc).decode("utf-8", "replace")
                raise JSONDecodeError(exc.msg, doc, exc.pos) from None
        return parsed[0]

    response.json = json  # type: ignore[method-assign]
    return response


def iter_pages(
    client: RESTClient,
    *,
    source: str,
    resource: str,
    path: str,
    paginator: BasePaginator,
    data_selector: str,
    params: dict[str, Any] | None = None,
    method: str = "GET",
    json: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    model: type[BaseModel] | None = None,
) -> Iterator[list[dict]]:
    """Yield pages of records; validate each against `model` (pydantic, extra fields allowed)."""
    tracker = _PageTracker()
    pages = client.paginate(
        path,
        method=method,  # type: ignore[arg-type]
        params=params,
        json=json,
        headers=headers,
        paginator=paginator,
        data_selector=_compiled(data_selector),
        hooks={"response": [tracker]},
    )
    number = 0
    while True:
        number += 1
        try:
            page = next(pages)
        except StopIteration:
            return
        except JSONDecodeError as exc:
            raise MalformedPageError(
                source, resource, number, tracker.url, f"response is not valid JSON ({exc})"
            ) from exc
        except HTTPError as exc:
            response = exc.response
            status = response.status_code if response is not None else None
            body = redact_credentials(response.text[:300], response.request) if response is not None else exc
            if status in (401, 403):
                raise CredentialsRejectedError(
                    source,
                    resource,
                    status,
                    tracker.url.split("?")[0],
                    str(body),
                    credential_settings(source),
                ) from exc
            if status is None or status == 429 or status >= 500:
                detail = f"HTTP {status}: {body}"
                raise SourceUnavailableError(source, resource, number, tracker.url, detail) from exc
            raise
        except (RequestsConnectionError, Timeout) as exc:
            raise SourceUnavailableError(source, resource, number, tracker.url, str(exc)) from exc
        records = list(page)
        if model is not None:
            _validate(records, model, source, resource, number, tracker.url)
        yield records


def redact_credentials(text: str, request: PreparedRequest | None) -> str:
    """`text` without the credentials the request carried. Vendors echo a refused key in their error,
    whole or masked (Stripe: `sk_live_********abcd`): a word made of pieces of a credential goes too."""
    header = request.headers.get("Authorization", "") if request is not None else ""
    scheme, _, value = header.partition(" ")
    secrets = {value.strip()}
    if scheme.lower() == "basic":  # user:password, both may be tokens (Zendesk: email/token:api_token)
        try:
            secrets |= set(base64.b64decode(value).decode().split(":", 1))
        except (ValueError, UnicodeDecodeError):
            pass
    secrets = {secret for secret in secrets if len(secret) >= MIN_SECRET_PIECE}

    def redact(word: re.Match[str]) -> str:
        pieces = [piece for piece in word.group().split("*") if len(piece) >= MIN_SECRET_PIECE]
        leaks = any(piece in secret for piece in pieces for secret in secrets)
        return "***" if leaks else word.group()

    return WORD.sub(redact, text) if secrets else text


@functools.lru_cache(maxsize=256)
def _compiled(data_selector: str) -> JSONPath:
    """The selector compiled once: dlt's client compiles a string selector for every page (a ply
    parser is built each time, ~1 ms per page)."""
    return compile_path(data_selector)


def _validate(
    records: list[dict], model: type[BaseModel], source: str, resource: str, page: int, url: str
) -> None:
    for position, record in enumerate(records):
        if not isinstance(record, dict):
            raise MalformedPageError(
                source, resource, page, url, f"record {position} is {type(record).__name__}, not an object"
            )
        try:
            model.model_validate(record)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            raise MalformedPageError(
                source, resource, page, url, f"record {position} breaks the contract: {problems}"
            ) from None
