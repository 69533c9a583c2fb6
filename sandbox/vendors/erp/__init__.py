"""Microsoft Dynamics 365 Business Central (API v2.0) imitation: the ERP where finance keeps
customers and posted sales documents. Everything lives under
`/v2.0/{tenant}/{environment}/api/v2.0` (see api.py for the OData surface)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date

import orjson
from starlette.requests import Request
from starlette.responses import Response

from sandbox.store import Store
from sandbox.vendor import JSONResponse, Vendor
from sandbox.vendors.erp import finance_memos, simulation
from sandbox.vendors.erp.api import JSON_TYPE, ErpApi, ODataResult, error_body
from sandbox.vendors.erp.generate import (
    FIRST_CREDIT_MEMO_NUMBER,
    FIRST_INVOICE_NUMBER,
    LATE_AFTER,
    ErpGenerator,
    to_date,
)
from sandbox.vendors.erp.schema import (
    CREDIT_MEMOS_TABLE,
    CUSTOMERS_TABLE,
    INVOICES_TABLE,
    LAST_MODIFIED,
    NUMBER,
    UNPOSTED_TABLE,
)
from sandbox.world import DAY, SIM_NOW, World

API_PREFIX = "/v2.0/{tenant}/{environment}/api/v2.0"
# The shared pipeline names its errors generically; BC spells them its own way.
PIPELINE_CODES = {
    "rate_limited": "Application_TooManyRequests",
    "service_unavailable": "Internal_ServiceUnavailable",
    "server_error": "Internal_ServerError",
    "internal_error": "Internal_ServerError",
    "resource_missing": "BadRequest_NotFound",
    "method_not_allowed": "BadRequest_MethodNotAllowed",
    "injected": "BadRequest",
    "http_error": "BadRequest",
    "invalid_request": "BadRequest",
}


class ErpVendor(Vendor):
    system = "erp"
    title = "Dynamics 365 Business Central"

    def __init__(self, sandbox) -> None:
        super().__init__(sandbox)
        self.api = ErpApi(self)
        # Posted number series continue after the generated documents (same on every regeneration).
        self.posted_series_start = {
            "salesInvoices": FIRST_INVOICE_NUMBER,
            "salesCreditMemos": FIRST_CREDIT_MEMO_NUMBER,
        }

    # -- data -------------------------------------------------------------------------------------
    def declare_tables(self, store: Store) -> None:
        store.table(CUSTOMERS_TABLE, indexes=(LAST_MODIFIED, NUMBER, "email", "taxRegistrationNumber"))
        store.table(INVOICES_TABLE, indexes=(LAST_MODIFIED, NUMBER, "externalDocumentNumber"))
        store.table(CREDIT_MEMOS_TABLE, indexes=(LAST_MODIFIED, NUMBER, "externalDocumentNumber"))
        store.table(UNPOSTED_TABLE, indexes=(simulation.POST_AT,))

    def generate(self, world: World, rng: random.Random) -> None:
        ErpGenerator(world, rng).run(self.store)
        self.posted_series_start = {
            "salesInvoices": FIRST_INVOICE_NUMBER + len(self.store[INVOICES_TABLE]),
            "salesCreditMemos": FIRST_CREDIT_MEMO_NUMBER + len(self.store[CREDIT_MEMOS_TABLE]),
        }

    # -- HTTP -------------------------------------------------------------------------------------
    def routes(self):
        return [
            (f"{API_PREFIX}/$batch", self.handle_batch, ["POST"]),
            (API_PREFIX, self.handle_odata, ["GET"]),
            (f"{API_PREFIX}/{{path:path}}", self.handle_odata, ["GET", "POST", "PATCH", "DELETE"]),
        ]

    def _environment_error(self, request: Request) -> Response | None:
        tenant, environment = request.path_params["tenant"], request.path_params["environment"]
        if tenant != self.credentials["tenant"]:
            return self.error(404, "Internal_TenantUnavailable", f"The tenant '{tenant}' is not accessible")
        if environment != self.credentials["environment"]:
            return self.error(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{environment}'."
            )
        return None

    async def _body(self, request: Request) -> object:
        raw = await request.body()
        if not raw:
            return None
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            return _INVALID_BODY

    def respond(self, result: ODataResult) -> Response:
        if result.body is None:
            return Response(status_code=result.status, headers=result.headers)
        if isinstance(result.body, str):
            return Response(
                result.body, status_code=result.status, headers=result.headers, media_type="application/xml"
            )
        return JSONResponse(
            result.body, status_code=result.status, headers=result.headers, media_type=JSON_TYPE
        )

    async def handle_odata(self, request: Request) -> Response:
        denied = self._environment_error(request)
        if denied is not None:
            return denied
        body = await self._body(request) if request.method in ("POST", "PATCH") else None
        if body is _INVALID_BODY:
            return self.error(400, "BadRequest", "Invalid Request Body")
        path = request.path_params.get("path", "")
        result = self.api.dispatch(
            request.method, path, dict(request.query_params), request.headers, body, self.api.data()
        )
        return self.respond(result)

    async def handle_batch(self, request: Request) -> Response:
        denied = self._environment_error(request)
        if denied is not None:
            return denied
        body = await self._body(request)
        if body is _INVALID_BODY:
            return self.error(400, "BadRequest", "Invalid Request Body")
        result = self.api.batch(body, request.headers)
        if result.status == 200:  # the request log lists the inner requests (e.g. to count creates)
            request.state.log_extra = {"batch": batch_log(body["requests"], result.body["responses"])}
        return self.respond(result)

    def authenticate(self, request: Request) -> Response | None:
        if request.headers.get("authorization", "") == f"Bearer {self.credentials['access_token']}":
            return None
        response = self.error(
            401, "Authentication_InvalidCredentials", "The server has rejected the client credentials."
        )
        response.headers["WWW-Authenticate"] = (
            f'Bearer authorization_uri="https://login.microsoftonline.com/{self.credentials["tenant"]}/oauth2/authorize", '
            'resource_id="https://api.businesscentral.dynamics.com"'
        )
        return response

    def error(self, status: int, code: str, message: str) -> Response:
        return JSONResponse(
            error_body(PIPELINE_CODES.get(code, code), message), status_code=status, media_type=JSON_TYPE
        )

    def response_headers(self) -> dict[str, str]:
        return {"OData-Version": "4.0"}

    # -- simulation and truth ---------------------------------------------------------------------
    opt_in_simulation_kinds = frozenset({"erp_credit_memo"})

    def simulation_kinds(self) -> dict[str, Callable[[random.Random], list[dict]]]:
        return {
            "erp_credit_limit_change": lambda rng: simulation.credit_limit_change(self, rng),
            "erp_customer_edit": lambda rng: simulation.customer_edit(self, rng),
            "erp_late_posting": lambda rng: simulation.late_posting(self, rng),
            "erp_credit_memo": lambda rng: finance_memos.simulate_one(self, rng),
        }

    def truth_parties(self) -> list[dict]:
        return [
            {
                "system": "erp",
                "table": "customers",
                "source_id": row["id"],
                "customer_key": row.get("_customer"),
            }
            for row in self.store[CUSTOMERS_TABLE].rows.values()
        ]

    def counts(self) -> dict[str, int]:
        invoices, memos = (
            self.store[INVOICES_TABLE].rows.values(),
            self.store[CREDIT_MEMOS_TABLE].rows.values(),
        )
        return {
            "customers": len(self.store[CUSTOMERS_TABLE]),
            "sales_invoices": len(invoices),
            "sales_invoice_lines": sum(len(row.get("lines", ())) for row in invoices),
            "sales_credit_memos": len(memos),
            "sales_credit_memo_lines": sum(len(row.get("lines", ())) for row in memos),
        }

    def truth_tables(self) -> dict[str, Callable[[], list[dict]]]:
        return {"invoices": self.invoice_truth, "credit_memos": lambda: finance_memos.truth(self.store)}

    def invoice_truth(self) -> list[dict]:
        """How each billing invoice / credit note should reconcile against the ERP."""
        truth = []
        for table, kind in ((INVOICES_TABLE, "invoice"), (CREDIT_MEMOS_TABLE, "credit_note")):
            for row in self.store[table].rows.values():
                if row.get("_billing"):
                    truth.append(
                        _truth_row(row["_billing"], kind, row["_customer"], row["_expected"], row["id"])
                    )
        for row in self.store[UNPOSTED_TABLE].rows.values():
            truth.append(_truth_row(row["id"], row["kind"], row["_customer"], row["_expected"], None))
        return truth + self.live_invoice_truth({row["billing_document_id"] for row in truth})

    def live_invoice_truth(self, known: set[str]) -> list[dict]:
        """Billing invoices issued after generation (renewals, prorated upgrades, sign-ups): finance
        posts none of them, so each finalized one that is not void must reach the ERP through the
        sync: missing until a posted document carries its id, then matched (late if posted more
        than LATE_AFTER after it was finalized).
        """
        truth = []
        documents = self.store[INVOICES_TABLE]
        for row in self.store["billing_invoices"].scan("created", lower=SIM_NOW):
            if row["id"] in known or row["status"] not in ("open", "paid", "uncollectible"):
                continue
            posted = next(
                (
                    document
                    for document in documents.scan("externalDocumentNumber", lower=row["id"], upper=row["id"])
                    if document["status"] != "Draft"  # a draft is not on the ledger yet
                ),
                None,
            )
            expected, erp_id = "missing_in_erp", None
            if posted is not None:
                issued = date.fromisoformat(to_date(row["finalized_at"]))
                days = (date.fromisoformat(posted["postingDate"]) - issued).days
                expected, erp_id = ("late" if days > LATE_AFTER // DAY else "matched"), posted["id"]
            truth.append(_truth_row(row["id"], "invoice", row["_customer"], expected, erp_id))
        return truth


def _truth_row(billing_id: str, kind: str, customer_key: str, expected: str, erp_id: str | None) -> dict:
    return {
        "billing_document_id": billing_id,
        "kind": kind,
        "customer_key": customer_key,
        "expected_status": expected,
        "erp_document_id": erp_id,
    }


_INVALID_BODY = object()


def batch_log(requests: list[dict], responses: list[dict]) -> list[dict]:
    """Method, path (below the API root), status and id of each inner request of a `$batch`."""
    logged = []
    for inner, answer in zip(requests, responses, strict=True):
        url = str(inner.get("url", ""))
        path = url.split("/api/v2.0/", 1)[1] if "/api/v2.0/" in url else url
        logged.append(
            {
                "id": inner.get("id"),
                "method": inner.get("method"),
                "path": path.partition("?")[0],
                "if_match": next(
                    (str(v) for k, v in (inner.get("headers") or {}).items() if k.lower() == "if-match"), None
                ),
                "status": answer["status"],
            }
        )
    return logged
