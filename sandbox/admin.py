"""`/_admin/...` routes served on every port: health, credentials, reset, faults, simulate, truth, log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.faults import FaultConfig
from sandbox.simulate import simulate
from sandbox.vendor import JSONResponse

if TYPE_CHECKING:
    from sandbox.core import Sandbox
    from sandbox.vendor import Vendor

ADMIN_HEADER = "x-syncline-admin-token"


def admin_routes(sb: Sandbox, vendor: Vendor) -> list[Route]:
    def guarded(handler):
        async def endpoint(request: Request) -> Response:
            token = request.headers.get(ADMIN_HEADER)
            if token != sb.settings.admin_token:
                return JSONResponse(
                    {"error": "admin token missing or wrong", "header": ADMIN_HEADER}, status_code=401
                )
            try:
                with sb.store.lock:
                    return await handler(request)
            except (ValueError, TypeError) as exc:
                return JSONResponse({"error": str(exc)}, status_code=400)

        return endpoint

    async def body(request: Request) -> dict:
        raw = await request.body()
        if not raw:
            return {}
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON body: {exc}") from None
        if not isinstance(parsed, dict):
            raise ValueError("body must be a JSON object")
        return parsed

    async def health(request: Request) -> Response:
        return JSONResponse(
            {
                "status": "ok",
                "system": vendor.system,
                "seed": sb.settings.seed,
                "scale": sb.settings.scale,
                "clock": sb.now(),
            }
        )

    async def credentials(request: Request) -> Response:
        return JSONResponse(
            {
                system: {"base_url": sb.settings.base_url(system), **sb.settings.credentials[system]}
                for system in sb.vendors
            }
            | {"erp_api_root": sb.settings.erp_api_root()}
        )

    async def reset(request: Request) -> Response:
        sb.reset()
        return JSONResponse({"status": "reset", "seed": sb.settings.seed, "scale": sb.settings.scale})

    async def faults(request: Request) -> Response:
        if request.method == "POST":
            vendor.faults.configure(FaultConfig.parse(await body(request)))
        elif request.method == "DELETE":
            vendor.faults.configure(FaultConfig())
        return JSONResponse({"system": vendor.system, **vendor.faults.describe()})

    async def simulate_route(request: Request) -> Response:
        params = await body(request)
        result = simulate(
            sb,
            int(params.get("changes", 10)),
            seed=params.get("seed"),
            kinds=params.get("kinds"),
            at_wall_clock=bool(params.get("at_wall_clock", False)),
        )
        return JSONResponse(result)

    async def clock(request: Request) -> Response:
        if request.method == "POST":
            sb.advance(int((await body(request)).get("seconds", 0)))
        return JSONResponse({"clock": sb.now()})

    async def requests(request: Request) -> Response:
        system = request.query_params.get("system")
        since = int(request.query_params.get("since", 0))
        return JSONResponse({"requests": sb.requests(system, since)})

    async def truth(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            return JSONResponse(sb.truth(name))
        except KeyError:
            return JSONResponse(
                {"error": f"unknown truth table {name!r}", "known": sb.truth_names()}, status_code=404
            )

    return [
        Route("/_admin/health", health, methods=["GET"]),
        Route("/_admin/credentials", guarded(credentials), methods=["GET"]),
        Route("/_admin/reset", guarded(reset), methods=["POST"]),
        Route("/_admin/faults", guarded(faults), methods=["GET", "POST", "DELETE"]),
        Route("/_admin/simulate", guarded(simulate_route), methods=["POST"]),
        Route("/_admin/clock", guarded(clock), methods=["GET", "POST"]),
        Route("/_admin/requests", guarded(requests), methods=["GET"]),
        Route("/_admin/truth/{name}", guarded(truth), methods=["GET"]),
    ]
