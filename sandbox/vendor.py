"""What every imitated vendor provides, and the request pipeline shared by all four.

A vendor module subclasses `Vendor`: it declares its tables, renders the world into them, serves its
API routes and shapes errors the way the real vendor does. `build_app` wraps each route with the
shared pipeline: outage -> latency -> auth -> rate limit -> injected 5xx -> handler -> malformed body
-> request log; unknown paths and unexpected exceptions get the vendor's error envelope.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.faults import FaultState, malform

if TYPE_CHECKING:
    from sandbox.core import Sandbox
    from sandbox.store import Store
    from sandbox.world import Contract, Customer, Invoice, World

log = logging.getLogger("sandbox")

Handler = Callable[[Request], Awaitable[Response]]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class JSONResponse(Response):
    """orjson-backed JSON response (the stdlib encoder is the bottleneck for big pages)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


class Vendor(ABC):
    system: str  # billing | support | crm | erp
    title: str

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox
        self.faults = FaultState()

    # -- conveniences --------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        return self.sb.store

    @property
    def credentials(self) -> dict[str, str]:
        return self.sb.settings.credentials[self.system]

    @property
    def base_url(self) -> str:
        return self.sb.settings.base_url(self.system)

    def now(self) -> int:
        return self.sb.now()

    # -- what each vendor implements -----------------------------------------------------------
    @abstractmethod
    def declare_tables(self, store: Store) -> None:
        """Create this vendor's tables (with the sorted indexes its cursors need)."""

    @abstractmethod
    def generate(self, world: World, rng: random.Random) -> None:
        """Render the world into this vendor's tables (bulk_load), adding realistic mess."""

    @abstractmethod
    def routes(self) -> list[tuple[str, Handler, list[str]]]:
        """(path, async handler, methods) for the vendor API, paths at the root of the base URL."""

    @abstractmethod
    def authenticate(self, request: Request) -> Response | None:
        """None when credentials are right, else the vendor's own 401/403 response."""

    @abstractmethod
    def error(self, status: int, code: str, message: str) -> Response:
        """The vendor's error envelope."""

    def rate_limit_headers(self, quota: int, remaining: int, reset_s: float) -> dict[str, str]:
        return {}

    def response_headers(self) -> dict[str, str]:
        return {}

    # Simulation hooks: called by sandbox.simulate with a seeded rng. Each returns change dicts
    # {"system", "table", "id", "kind"} for what it modified, so tests can check incremental reads.
    def simulation_kinds(self) -> dict[str, Callable[[random.Random], list[dict]]]:
        return {}

    # Kinds that run only when asked for by name: adding a kind to the default mix would change what
    # every existing seeded `simulate(n, seed=...)` does.
    opt_in_simulation_kinds: frozenset[str] = frozenset()

    def on_new_customer(
        self, customer: Customer, contracts: list[Contract], invoices: list[Invoice], rng: random.Random
    ) -> list[dict]:
        return []

    # Ground truth hooks.
    def truth_parties(self) -> list[dict]:
        """[{system, table, source_id, customer_key}] for every party record (incl. duplicates)."""
        return []

    def counts(self) -> dict[str, int]:
        """Records per API collection, as a full ingestion would see them."""
        return {}

    def truth_tables(self) -> dict[str, Callable[[], list[dict]]]:
        """Further truth served at /_admin/truth/{name}, e.g. ERP "invoices", support "entitlements"."""
        return {}


def build_app(vendor: Vendor, admin_routes: list[Route]) -> Starlette:
    sb = vendor.sb

    def wrap(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            received_at = time.time()
            started = time.perf_counter()
            request_id = request.headers.get("x-correlation-id") or f"req_{uuid.uuid4().hex[:16]}"
            response = await _pipeline(request, handler)
            response.headers["request-id"] = request_id
            for name, value in vendor.response_headers().items():
                response.headers.setdefault(name, value)
            if request.method in WRITE_METHODS:
                sb.log_request(
                    vendor.system,
                    request,
                    response.status_code,
                    time.perf_counter() - started,
                    request_id,
                    received_at,
                )
            return response

        return endpoint

    async def _pipeline(request: Request, handler: Handler) -> Response:
        faults = vendor.faults
        applies = faults.applies(request.url.path)
        cfg = faults.config
        if applies and cfg.outage:
            faults.count("outage")
            return vendor.error(503, "service_unavailable", f"{vendor.title} is temporarily unavailable.")
        if applies and cfg.latency_ms:
            faults.count("latency")
            await asyncio.sleep(cfg.latency_ms / 1000)
        denied = vendor.authenticate(request)
        if denied is not None:
            return denied
        limited, quota, remaining, reset = faults.rate_limit() if applies else (False, 0, 0, 0.0)
        if limited:
            faults.count("rate_limited")
            response = vendor.error(
                429, "rate_limited", "Too many requests. Please retry after the indicated delay."
            )
            response.headers["Retry-After"] = str(max(1, int(reset + 0.999)))
            response.headers.update(vendor.rate_limit_headers(quota, 0, reset))
            return response
        if applies and cfg.error_rate and faults.rng.random() < cfg.error_rate:
            faults.count("error")
            status = cfg.error_status
            return vendor.error(
                status,
                "server_error" if status >= 500 else "injected",
                "An unexpected error occurred (injected).",
            )
        try:
            with sb.store.lock:
                response = await handler(request)
        except HTTPException as exc:
            return vendor.error(exc.status_code, "http_error", str(exc.detail))
        except _BadRequest as exc:
            return vendor.error(exc.status, exc.code, exc.message)
        except Exception:  # never leak a stack trace to a client
            log.exception("%s handler failed for %s %s", vendor.system, request.method, request.url.path)
            return vendor.error(500, "internal_error", "An internal error occurred.")
        if quota:
            response.headers.update(vendor.rate_limit_headers(quota, remaining, reset))
        if (
            applies
            and cfg.malformed
            and response.status_code < 300
            and faults.rng.random() < cfg.malformed_rate
        ):
            faults.count("malformed")
            body = bytes(response.body)
            corrupted = malform(body, orjson.loads(body), cfg.malformed, cfg.malformed_field)
            response.body = corrupted
            response.headers["content-length"] = str(len(corrupted))
        return response

    async def not_found(request: Request, exc: Exception) -> Response:
        status = getattr(exc, "status_code", 404)
        if status == 405:
            return vendor.error(
                405, "method_not_allowed", f"Method {request.method} is not allowed on {request.url.path}."
            )
        return vendor.error(
            404, "resource_missing", f"Unrecognized request URL ({request.method}: {request.url.path})."
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        return vendor.error(500, "internal_error", "An internal error occurred.")

    routes = [Route(path, wrap(handler), methods=methods) for path, handler, methods in vendor.routes()]
    return Starlette(
        routes=admin_routes + routes,
        exception_handlers={404: not_found, 405: not_found, 500: server_error},
    )


class _BadRequest(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def bad_request(message: str, code: str = "invalid_request", status: int = 400) -> _BadRequest:
    """Raise from a handler to answer with the vendor's error envelope: `raise bad_request(...)`."""
    return _BadRequest(status, code, message)


async def json_body(request: Request) -> Any:
    """Parse a JSON body or answer 400 in the vendor's envelope (never a stack trace)."""
    raw = await request.body()
    if not raw:
        return {}
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"Invalid JSON body: {exc}") from None
