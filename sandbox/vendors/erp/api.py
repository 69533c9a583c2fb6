"""The Business Central API v2.0 surface: OData URL routing, collections with server-driven paging,
entity reads and writes with etags, the `Microsoft.NAV.post` action, `$metadata` and JSON `$batch`.

`ErpApi.dispatch` answers one OData request against an `ErpData` and returns an `ODataResult`;
plain HTTP requests and the inner requests of a `$batch` both go through it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from sandbox.vendors.erp.metadata import edmx
from sandbox.vendors.erp.odata import LAST_MODIFIED_PROPERTY, ODataError, Query, encode_skiptoken, parse_query
from sandbox.vendors.erp.render import etag, iso_ms, render_customer, render_document, render_lines
from sandbox.vendors.erp.repository import ErpData, StagedData
from sandbox.vendors.erp.schema import ENTITY_SETS, LAST_MODIFIED, NUMBER, EntitySet
from sandbox.vendors.erp.writes import ErpWriter
from sandbox.world import SIM_START

if TYPE_CHECKING:
    from sandbox.vendors.erp import ErpVendor

MAX_PAGE_SIZE = 20_000  # BC online: the default and the ceiling of odata.maxpagesize
MAX_BATCH_REQUESTS = 100
JSON_TYPE = "application/json; odata.metadata=minimal; odata.streaming=true"
POST_ACTION = "Microsoft.NAV.post"
RECORD_NAMES = {
    "customers": "Customer",
    "salesInvoices": "Sales Invoice Header",
    "salesCreditMemos": "Sales Cr.Memo Header",
}
_SEGMENT = re.compile(r"^(?P<name>[A-Za-z$][A-Za-z0-9_.$]*)(?:\((?P<key>[^()]*)\))?$")
_MAXPAGESIZE = re.compile(r"odata\.maxpagesize\s*=\s*(\d+)", re.IGNORECASE)


@dataclass
class ODataResult:
    status: int
    body: Any = None  # dict -> JSON, str -> XML, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


def error_body(code: str, message: str) -> dict:
    """BC's error envelope; the service appends the correlation id to every message."""
    return {"error": {"code": code, "message": f"{message}  CorrelationId:  {uuid.uuid4()}."}}


def _parse_key(raw: str) -> str:
    try:
        return str(uuid.UUID(raw.strip("'")))
    except ValueError:
        raise ODataError(
            400,
            "BadRequest_NotFound",
            f"Bad Request - Error in query syntax. '{raw}' is not a valid GUID key.",
        ) from None


def _page_size(headers: Mapping[str, str]) -> tuple[int, str | None]:
    """(page size, Preference-Applied value) from `Prefer: odata.maxpagesize=N`."""
    match = _MAXPAGESIZE.search(headers.get("prefer", ""))
    if not match or int(match.group(1)) == 0:
        return MAX_PAGE_SIZE, None
    size = min(int(match.group(1)), MAX_PAGE_SIZE)
    return size, f"odata.maxpagesize={size}"


def _render_for(entity_set: EntitySet) -> Callable[[dict], dict]:
    return render_customer if entity_set.name == "customers" else render_document


def _project(entity: dict, select: list[str] | None) -> dict:
    if not select:
        return entity
    return {"@odata.etag": entity["@odata.etag"]} | {p: entity[p] for p in select if p in entity}


def _index_bounds(query: Query, index: str) -> tuple[Any, bool, Any]:
    """(lower, lower_inclusive, upper) on the index from the top-level comparisons of $filter."""
    lower, inclusive, upper = None, True, None
    prop = LAST_MODIFIED_PROPERTY if index == LAST_MODIFIED else index
    for name, op, value in query.filter.conjuncts if query.filter else []:
        if name != prop or value is None or op == "ne":
            continue
        if op in ("eq", "ge", "gt") and (lower is None or value > lower or (value == lower and op == "gt")):
            lower, inclusive = value, op != "gt"
        if op in ("eq", "le") and (upper is None or value < upper):
            upper = value
        if op == "lt" and isinstance(value, int) and (upper is None or value - 1 < upper):
            upper = value - 1
    return lower, inclusive, upper


def _choose_index(query: Query, entity_set: EntitySet) -> str:
    """Walk lastModified when the filter bounds it, an equality index when one applies, else number."""
    if query.order_field:
        return query.order_field
    conjuncts = query.filter.conjuncts if query.filter else []
    if any(name == LAST_MODIFIED_PROPERTY and op != "ne" for name, op, _v in conjuncts):
        return LAST_MODIFIED
    for name, op, value in conjuncts:
        if op == "eq" and name in entity_set.eq_indexes and isinstance(value, str):
            return name
    return NUMBER


class ErpApi:
    def __init__(self, vendor: ErpVendor) -> None:
        self.vendor = vendor

    @property
    def company_id(self) -> str:
        return self.vendor.credentials["company_id"]

    @property
    def root(self) -> str:
        return self.vendor.sb.settings.erp_api_root()

    def data(self, staged: bool = False) -> ErpData:
        return (StagedData if staged else ErpData)(self.vendor.store, self.vendor.now)

    def writer(self, data: ErpData) -> ErpWriter:
        return ErpWriter(data, self.vendor.posted_series_start)

    # -- routing ----------------------------------------------------------------------------------
    def dispatch(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        body: Any,
        data: ErpData,
    ) -> ODataResult:
        try:
            return self._route(method.upper(), path.strip("/"), params, headers, body, data)
        except ODataError as exc:
            return ODataResult(exc.status, error_body(exc.code, exc.message))

    def _route(
        self,
        method: str,
        path: str,
        params: dict[str, str],
        headers: Mapping[str, str],
        body: Any,
        data: ErpData,
    ) -> ODataResult:
        if path in ("", "$metadata"):
            self._allow(method, {"GET"}, path or "api")
            return ODataResult(200, edmx()) if path else ODataResult(200, self.service_document())
        segments = [_SEGMENT.match(s) for s in path.split("/")]
        if not all(segments):
            raise ODataError(400, "BadRequest_NotFound", "Bad Request - Error in query syntax.")
        names = [(m["name"], m["key"]) for m in segments]
        if names[0][0] != "companies":
            raise ODataError(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{names[0][0]}'."
            )
        if names[0][1] is None:
            self._allow(method, {"GET"}, "companies")
            parse_query(params, None)
            return ODataResult(
                200, {"@odata.context": f"{self.root}/$metadata#companies", "value": [self.company()]}
            )
        if _parse_key(names[0][1]) != self.company_id:
            raise ODataError(404, "Internal_CompanyNotFound", f"The company '{names[0][1]}' can't be found.")
        if len(names) == 1:
            self._allow(method, {"GET"}, "companies")
            return ODataResult(
                200, {"@odata.context": f"{self.root}/$metadata#companies/$entity", **self.company()}
            )
        set_name, key = names[1]
        entity_set = ENTITY_SETS.get(set_name)
        if entity_set is None:
            raise ODataError(
                404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{set_name}'."
            )
        if key is None:
            if len(names) > 2:
                raise ODataError(
                    404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{names[2][0]}'."
                )
            self._allow(method, {"GET", "POST"}, set_name)
            if method == "GET":
                return self.collection(entity_set, params, headers)
            return self.create(entity_set, body, data)
        row = self._row(entity_set, _parse_key(key), data)
        if len(names) == 2:
            self._allow(
                method, {"GET", "PATCH", "DELETE"} if set_name == "customers" else {"GET", "PATCH"}, set_name
            )
            if method == "GET":
                return self.entity(entity_set, row, params)
            return self.update(entity_set, row, headers, body, data, delete=method == "DELETE")
        sub = names[2][0]
        if sub == entity_set.lines and len(names) == 3:
            self._allow(method, {"GET"}, sub)
            parse_query(params, None)  # rejects unknown $options; lines are one document's, unpaged
            context = f"{self.root}/$metadata#companies({self.company_id})/{set_name}({row['id']})/{sub}"
            return ODataResult(200, {"@odata.context": context, "value": render_lines(row)})
        if sub == POST_ACTION and len(names) == 3 and entity_set.lines:
            self._allow(method, {"POST"}, sub)
            self.writer(data).post_document(entity_set, row)
            return ODataResult(204)
        raise ODataError(404, "BadRequest_ResourceNotFound", f"Resource not found for the segment '{sub}'.")

    @staticmethod
    def _allow(method: str, allowed: set[str], segment: str) -> None:
        if method not in allowed:
            raise ODataError(
                405,
                "BadRequest_MethodNotAllowed",
                f"'{method}' requests for '{segment}' of EdmType 'Entity' are not allowed within Microsoft Dynamics NAV OData web services.",
            )

    def _row(self, entity_set: EntitySet, key: str, data: ErpData) -> dict:
        row = data.get(entity_set.table, key)
        if row is None:
            raise ODataError(
                404,
                "Internal_RecordNotFound",
                f"The {RECORD_NAMES[entity_set.name]} does not exist. Identification fields and values: Id='{{{key.upper()}}}'",
            )
        return row

    # -- reads ------------------------------------------------------------------------------------
    def service_document(self) -> dict:
        return {
            "@odata.context": f"{self.root}/$metadata",
            "value": [{"name": "companies", "kind": "EntitySet", "url": "companies"}],
        }

    def company(self) -> dict:
        return {
            "id": self.company_id,
            "systemVersion": "24.0.16410.18056",
            "timestamp": 1,
            "name": "Syncline Demo",
            "displayName": "Syncline Demo Ltd.",
            "businessProfileId": "",
            "systemCreatedAt": iso_ms(SIM_START * 1000 - 400 * 86_400_000),
            "systemCreatedBy": "00000000-0000-0000-0000-000000000001",
            "systemModifiedAt": iso_ms(SIM_START * 1000),
            "systemModifiedBy": "00000000-0000-0000-0000-000000000001",
        }

    def context(self, entity_set: EntitySet, select: list[str] | None) -> str:
        projection = f"({','.join(select)})" if select else ""
        return f"{self.root}/$metadata#companies({self.company_id})/{entity_set.name}{projection}"

    def collection(
        self, entity_set: EntitySet, params: dict[str, str], headers: Mapping[str, str]
    ) -> ODataResult:
        query = parse_query(params, entity_set)
        page_size, applied = _page_size(headers)
        table = self.vendor.store[entity_set.table]
        render = _render_for(entity_set)
        token = query.skiptoken
        if token is not None:
            index, descending, after, remaining = (
                token["index"],
                token["desc"],
                tuple(token["after"]),
                token.get("top"),
            )
            if index not in table.indexes:
                raise ODataError(400, "BadRequest", "The $skiptoken value is not valid for this request.")
            skip = 0
        else:
            index, descending, after, remaining = (
                _choose_index(query, entity_set),
                query.descending,
                None,
                query.top,
            )
            skip = query.skip
        lower, inclusive, upper = _index_bounds(query, index)
        limit = page_size if remaining is None else min(page_size, remaining)
        rows = table.scan(
            index,
            after=None if descending else after,
            before=after if descending else None,
            lower=lower,
            lower_inclusive=inclusive,
            upper=upper,
            descending=descending,
        )
        page: list[dict] = []
        more = False
        for row in rows:
            if query.filter is not None and not query.filter.matches(row, render):
                continue
            if skip:
                skip -= 1
                continue
            if len(page) == limit:
                more = True
                break
            page.append(row)
        if remaining is not None:
            remaining -= len(page)
            more = more and remaining > 0
        expand = query.expand or (
            entity_set.lines if query.select and entity_set.lines in query.select else None
        )
        value = [
            _project(
                self._render(entity_set, row, expand),
                query.select and query.select + ([expand] if expand else []),
            )
            for row in page
        ]
        body: dict[str, Any] = {"@odata.context": self.context(entity_set, query.select), "value": value}
        if more and page:
            last = page[-1]
            position = {
                "index": index,
                "desc": descending,
                "after": [last[index], last["id"]],
                "top": remaining,
            }
            kept = {k: v for k, v in params.items() if k not in ("$skiptoken", "$skip", "$top")}
            kept["$skiptoken"] = encode_skiptoken(position)
            query_string = urlencode(kept, safe="$'(),:")  # keep "$skiptoken" readable, as BC does
            body["@odata.nextLink"] = (
                f"{self.root}/companies({self.company_id})/{entity_set.name}?{query_string}"
            )
        return ODataResult(200, body, {"Preference-Applied": applied} if applied else {})

    def _render(self, entity_set: EntitySet, row: dict, expand: str | None) -> dict:
        if entity_set.name == "customers":
            return render_customer(row)
        return render_document(row, lines_property=expand)

    def entity(self, entity_set: EntitySet, row: dict, params: dict[str, str]) -> ODataResult:
        query = parse_query(params, entity_set)
        entity = _project(
            self._render(entity_set, row, query.expand),
            query.select and query.select + ([query.expand] if query.expand else []),
        )
        body = {"@odata.context": f"{self.context(entity_set, query.select)}/$entity", **entity}
        return ODataResult(200, body, {"ETag": entity["@odata.etag"]})

    # -- writes -----------------------------------------------------------------------------------
    def create(self, entity_set: EntitySet, body: Any, data: ErpData) -> ODataResult:
        writer = self.writer(data)
        row = (
            writer.create_customer(body)
            if entity_set.name == "customers"
            else writer.create_document(entity_set, body)
        )
        entity = self._render(entity_set, row, entity_set.lines)
        location = f"{self.root}/companies({self.company_id})/{entity_set.name}({row['id']})"
        body_out = {"@odata.context": f"{self.context(entity_set, None)}/$entity", **entity}
        return ODataResult(201, body_out, {"ETag": entity["@odata.etag"], "Location": location})

    def update(
        self,
        entity_set: EntitySet,
        row: dict,
        headers: Mapping[str, str],
        body: Any,
        data: ErpData,
        *,
        delete: bool,
    ) -> ODataResult:
        if_match = headers.get("if-match")
        if not if_match:
            raise ODataError(
                400,
                "BadRequest_InvalidToken",
                "Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.",
            )
        tags = {t.strip() for t in if_match.split(",")}
        if "*" not in tags and etag(row) not in tags:
            raise ODataError(409, "Request_EntityChanged", "Another user has already changed the record.")
        if delete:
            data.delete(entity_set.table, row["id"])
            return ODataResult(204)
        writer = self.writer(data)
        updated = (
            writer.update_customer(row, body)
            if entity_set.name == "customers"
            else writer.update_document(entity_set, row, body)
        )
        entity = self._render(entity_set, updated, None)
        return ODataResult(
            200,
            {"@odata.context": f"{self.context(entity_set, None)}/$entity", **entity},
            {"ETag": entity["@odata.etag"]},
        )

    # -- $batch -----------------------------------------------------------------------------------
    def batch(self, body: Any, headers: Mapping[str, str]) -> ODataResult:
        requests = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(requests, list) or not all(isinstance(r, dict) for r in requests):
            return ODataResult(
                400,
                error_body(
                    "BadRequest", "Invalid Request Body. A JSON batch needs a 'requests' array of objects."
                ),
            )
        if len(requests) > MAX_BATCH_REQUESTS:
            return ODataResult(
                400,
                error_body(
                    "BadRequest",
                    f"The number of operations in the batch ({len(requests)}) exceeds the maximum of {MAX_BATCH_REQUESTS}.",
                ),
            )
        snapshot = headers.get("isolation", "").strip().lower() == "snapshot"
        data = self.data(staged=snapshot)
        responses, failed = [], False
        for request in requests:
            result = self._inner(request, data)
            failed = failed or result.status >= 400
            response: dict[str, Any] = {
                "id": request.get("id"),
                "status": result.status,
                "headers": {"content-type": JSON_TYPE, "odata-version": "4.0"}
                | {k.lower(): v for k, v in result.headers.items()}
                if result.body is not None
                else {k.lower(): v for k, v in result.headers.items()},
            }
            if result.body is not None:
                response["body"] = result.body
            responses.append(response)
        if isinstance(data, StagedData) and not failed:
            data.commit()  # all-or-nothing: a failed inner request drops every staged write
        return ODataResult(200, {"responses": responses})

    def _inner(self, request: dict, data: ErpData) -> ODataResult:
        method, url = request.get("method"), request.get("url")
        if not isinstance(method, str) or not isinstance(url, str):
            return ODataResult(
                400,
                error_body("BadRequest", "Invalid Request Body. Every request needs a 'method' and a 'url'."),
            )
        marker = "/api/v2.0/"
        relative = url.split(marker, 1)[1] if marker in url else url
        path, _, query_string = relative.partition("?")
        params = dict(parse_qsl(query_string, keep_blank_values=True))
        headers = {str(k).lower(): str(v) for k, v in (request.get("headers") or {}).items()}
        return self.dispatch(method, path, params, headers, request.get("body"), data)
