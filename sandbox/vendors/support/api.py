"""Zendesk Support API routes: lists, incremental exports, organizations reads and writes, job statuses."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.vendor import JSONResponse, bad_request, json_body

from .jobs import OrganizationJobs
from .metadata import account_settings, current_user, ticket_fields
from .pagination import base_of, cursor_export, cursor_list, offset_list, time_export, wants_cursor_pagination
from .render import (
    DROPDOWN_OPTIONS,
    FIELD_TYPES,
    render_job_status,
    render_organization,
    render_organization_field,
    render_ticket,
    render_user,
)
from .tables import FIELDS, ORGS, TICKETS, USERS

if TYPE_CHECKING:
    from . import SupportVendor

UPDATE_MANY_MAX = 100
CREATED_ID_BASE = 900_000_000_000
WRITABLE = {
    # request attribute -> compact row field
    "name": "name",
    "domain_names": "domains",
    "external_id": "external_id",
    "details": "details",
    "notes": "notes",
    "tags": "tags",
    "group_id": "group_id",
    "shared_tickets": "shared",
}


class RecordInvalid(Exception):
    """A 422 with Zendesk's `details` ({field: [{description, error}]})."""

    def __init__(self, details: dict[str, list[dict]]) -> None:
        super().__init__(details)
        self.details = details

    def response(self) -> Response:
        body = {"error": "RecordInvalid", "description": "Record validation errors", "details": self.details}
        return JSONResponse(body, status_code=422)

    def summary(self) -> str:
        return "; ".join(e["description"] for errors in self.details.values() for e in errors)

    def first_error(self) -> str:
        return next(e["error"] for errors in self.details.values() for e in errors)


def not_found() -> Response:
    return JSONResponse({"error": "RecordNotFound", "description": "Not found"}, status_code=404)


def with_json_suffix(path: str) -> list[str]:
    """Zendesk answers every path with and without `.json` (suffixed first: `{id}` would eat it)."""
    return [f"{path}.json", path]


class SupportApi:
    def __init__(self, vendor: SupportVendor) -> None:
        self.vendor = vendor
        self.jobs = OrganizationJobs(self)

    @property
    def store(self):
        return self.vendor.store

    def routes(self) -> list[tuple[str, Any, list[str]]]:
        # Literal paths before `{id}` ones so `update_many` is never taken for an id.
        table = [
            ("/api/v2/incremental/tickets/cursor", self.export_tickets, ["GET"]),
            ("/api/v2/incremental/users/cursor", self.export_users_cursor, ["GET"]),
            ("/api/v2/incremental/users", self.export_users, ["GET"]),
            ("/api/v2/incremental/organizations", self.export_organizations, ["GET"]),
            ("/api/v2/organizations/create_or_update", self.create_or_update_organization, ["POST"]),
            ("/api/v2/organizations/create_many", self.create_many_organizations, ["POST"]),
            ("/api/v2/organizations/update_many", self.update_many_organizations, ["PUT"]),
            ("/api/v2/organizations/show_many", self.show_many_organizations, ["GET"]),
            ("/api/v2/organizations/search", self.search_organizations, ["GET"]),
            ("/api/v2/organizations", self.organizations, ["GET", "POST"]),
            ("/api/v2/organizations/{id:int}", self.organization, ["GET", "PUT"]),
            ("/api/v2/users/me", self.show_me, ["GET"]),
            ("/api/v2/users", self.list_users, ["GET"]),
            ("/api/v2/users/{id:int}", self.show_user, ["GET"]),
            ("/api/v2/tickets", self.list_tickets, ["GET"]),
            ("/api/v2/tickets/{id:int}", self.show_ticket, ["GET"]),
            ("/api/v2/organization_fields", self.list_organization_fields, ["GET"]),
            ("/api/v2/ticket_fields", self.list_ticket_fields, ["GET"]),
            ("/api/v2/account/settings", self.show_account_settings, ["GET"]),
            ("/api/v2/job_statuses/show_many", self.show_many_job_statuses, ["GET"]),
            ("/api/v2/job_statuses/{id}", self.show_job_status, ["GET"]),
        ]
        routes = []
        for path, handler, methods in table:
            advancing = self._advancing_jobs(handler)
            routes.extend((variant, advancing, methods) for variant in with_json_suffix(path))
        return routes

    def _advancing_jobs(self, handler):
        """Every request first lets due bulk jobs progress (this is what resumes them after a restart)."""

        @wraps(handler)
        async def endpoint(request: Request) -> Response:
            self.jobs.advance_due()
            return await handler(request)

        return endpoint

    # -- lists and exports ------------------------------------------------------------------------
    def _list(self, request: Request, table: str, collection: str, render) -> Response:
        if wants_cursor_pagination(request):
            return JSONResponse(cursor_list(request, self.store[table], collection, render))
        return JSONResponse(offset_list(request, self.store[table], collection, render))

    async def list_users(self, request: Request) -> Response:
        return self._list(request, USERS, "users", render_user)

    async def list_tickets(self, request: Request) -> Response:
        return self._list(request, TICKETS, "tickets", render_ticket)

    async def list_organization_fields(self, request: Request) -> Response:
        return self._list(request, FIELDS, "organization_fields", render_organization_field)

    async def export_tickets(self, request: Request) -> Response:
        return JSONResponse(
            cursor_export(request, self.store[TICKETS], "tickets", render_ticket, self.vendor.now())
        )

    async def export_users_cursor(self, request: Request) -> Response:
        return JSONResponse(
            cursor_export(request, self.store[USERS], "users", render_user, self.vendor.now())
        )

    async def export_users(self, request: Request) -> Response:
        return JSONResponse(time_export(request, self.store[USERS], "users", render_user, self.vendor.now()))

    async def export_organizations(self, request: Request) -> Response:
        return JSONResponse(
            time_export(request, self.store[ORGS], "organizations", render_organization, self.vendor.now())
        )

    # -- single records ---------------------------------------------------------------------------
    def _show(self, request: Request, table: str, singular: str, render) -> Response:
        row = self.store[table].get(request.path_params["id"])
        if row is None:
            return not_found()
        return JSONResponse({singular: render(row, base_of(request))})

    async def show_me(self, request: Request) -> Response:
        return JSONResponse(current_user(self.vendor.credentials["email"], base_of(request)))

    async def show_account_settings(self, request: Request) -> Response:
        return JSONResponse(account_settings())

    async def list_ticket_fields(self, request: Request) -> Response:
        return JSONResponse(ticket_fields(base_of(request)))

    async def show_user(self, request: Request) -> Response:
        return self._show(request, USERS, "user", render_user)

    async def show_ticket(self, request: Request) -> Response:
        return self._show(request, TICKETS, "ticket", render_ticket)

    async def show_many_organizations(self, request: Request) -> Response:
        raw = request.query_params.get("ids", "")
        try:
            ids = [int(part) for part in raw.split(",") if part.strip()]
        except ValueError:
            raise bad_request("ids must be a comma-separated list of integers", "InvalidValue") from None
        if len(ids) > UPDATE_MANY_MAX:
            raise bad_request(f"At most {UPDATE_MANY_MAX} ids are allowed", "TooManyValues")
        table, base = self.store[ORGS], base_of(request)
        found = [table.get(i) for i in ids]
        return JSONResponse({"organizations": [render_organization(r, base) for r in found if r is not None]})

    async def show_job_status(self, request: Request) -> Response:
        row = self.jobs.find(request.path_params["id"])
        if row is None:
            return not_found()
        return JSONResponse({"job_status": render_job_status(row, base_of(request))})

    async def show_many_job_statuses(self, request: Request) -> Response:
        ids = [part.strip() for part in request.query_params.get("ids", "").split(",") if part.strip()]
        if not ids:
            raise bad_request("ids is required", "InvalidValue")
        if len(ids) > UPDATE_MANY_MAX:
            raise bad_request(f"At most {UPDATE_MANY_MAX} ids are allowed", "TooManyValues")
        base = base_of(request)
        found = [self.jobs.find(job_id) for job_id in ids]
        return JSONResponse({"job_statuses": [render_job_status(r, base) for r in found if r is not None]})

    async def search_organizations(self, request: Request) -> Response:
        """`?external_id=` (exact) or `?name=` (exact, case-insensitive), as Zendesk documents it."""
        params = request.query_params
        if params.get("external_id"):
            key = params["external_id"].casefold()
            rows = list(self.store[ORGS].scan("external_key", lower=key, upper=key))
        elif params.get("name"):
            key = params["name"].strip().casefold()
            rows = list(self.store[ORGS].scan("name_key", lower=key, upper=key))
        else:
            raise bad_request("Provide external_id or name", "InvalidValue")
        base = base_of(request)
        return JSONResponse(
            {
                "organizations": [render_organization(row, base) for row in rows],
                "next_page": None,
                "previous_page": None,
                "count": len(rows),
            }
        )

    # -- organization writes ----------------------------------------------------------------------
    async def organizations(self, request: Request) -> Response:
        if request.method == "GET":
            return self._list(request, ORGS, "organizations", render_organization)
        attrs = await self._organization_payload(request)
        try:
            row = self.create_organization(attrs)
        except RecordInvalid as invalid:
            return invalid.response()
        return JSONResponse({"organization": render_organization(row, base_of(request))}, status_code=201)

    async def organization(self, request: Request) -> Response:
        row = self.store[ORGS].get(request.path_params["id"])
        if row is None:
            return not_found()
        if request.method == "GET":
            return JSONResponse({"organization": render_organization(row, base_of(request))})
        attrs = await self._organization_payload(request)
        try:
            row = self.update_organization(row, attrs)
        except RecordInvalid as invalid:
            return invalid.response()
        return JSONResponse({"organization": render_organization(row, base_of(request))})

    async def create_or_update_organization(self, request: Request) -> Response:
        """Updates the organization identified by `id` or else `external_id` (case-insensitive), else
        creates one (201); as in Zendesk, a name alone never matches: an existing name is a 422."""
        attrs = await self._organization_payload(request)
        existing = None
        if attrs.get("id") is not None:
            try:
                existing = self.store[ORGS].get(int(attrs["id"]))
            except (TypeError, ValueError):
                existing = None
            if existing is None:
                return not_found()
        elif attrs.get("external_id"):
            existing = self.find_one("external_key", str(attrs["external_id"]).casefold())
        try:
            if existing is None:
                row, status = self.create_organization(attrs), 201
            else:
                row, status = self.update_organization(existing, attrs), 200
        except RecordInvalid as invalid:
            return invalid.response()
        return JSONResponse({"organization": render_organization(row, base_of(request))}, status_code=status)

    async def create_many_organizations(self, request: Request) -> Response:
        """Bulk create as an asynchronous job (at most 100 organizations)."""
        body = await json_body(request)
        items = body.get("organizations") if isinstance(body, dict) else None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise bad_request('Expected {"organizations": [...]}', "InvalidValue")
        return self._job_response(request, "create", items)

    async def update_many_organizations(self, request: Request) -> Response:
        """Bulk update as an asynchronous job: `{"organizations": [...]}` or `?ids=` + one change."""
        body = await json_body(request)
        if not isinstance(body, dict):
            raise bad_request("Body must be a JSON object", "InvalidValue")
        if "organizations" in body:
            items = body["organizations"]
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise bad_request("organizations must be a list of objects", "InvalidValue")
        elif "ids" in request.query_params and isinstance(body.get("organization"), dict):
            ids = [part for part in request.query_params["ids"].split(",") if part.strip()]
            items = [{**body["organization"], "id": part} for part in ids]
        else:
            raise bad_request(
                'Expected {"organizations": [...]} or ?ids= with {"organization": {...}}', "InvalidValue"
            )
        return self._job_response(request, "update", items)

    def _job_response(self, request: Request, action: str, items: list[dict]) -> Response:
        if len(items) > UPDATE_MANY_MAX:
            raise bad_request(
                f"Too many organizations: at most {UPDATE_MANY_MAX} per request", "TooManyValues"
            )
        if not items:
            raise bad_request("organizations must not be empty", "InvalidValue")
        job = self.jobs.accept(action, items)
        request.state.log_extra = {"job_id": job["id"]}
        return JSONResponse({"job_status": render_job_status(job, base_of(request))})

    @staticmethod
    def _failed(index: int, org_id, action: str, error: str, details: str) -> dict:
        return {
            "index": index,
            "id": org_id,
            "action": action,
            "success": False,
            "status": "Failed",
            "error": error,
            "details": details,
        }

    def create_one_in_job(self, index: int, item: dict) -> dict:
        org_id = item["_reserved_id"]
        attrs = {k: v for k, v in item.items() if k != "_reserved_id"}
        if self.store[ORGS].get(org_id) is None:  # else applied before a restart: report it again
            try:
                self.create_organization(attrs, org_id=org_id)
            except RecordInvalid as invalid:
                return self._failed(index, None, "create", invalid.first_error(), invalid.summary())
        return {"index": index, "id": org_id, "action": "create", "success": True, "status": "Created"}

    def update_one_in_job(self, index: int, item: dict) -> dict:
        try:
            org_id = int(item.get("id"))
        except (TypeError, ValueError):
            return self._failed(index, item.get("id"), "update", "InvalidValue", "Id: is required")
        row = self.store[ORGS].get(org_id)
        if row is None:
            return self._failed(index, org_id, "update", "RecordNotFound", "Not found")
        try:
            self.update_organization(row, {k: v for k, v in item.items() if k != "id"})
        except RecordInvalid as invalid:
            return self._failed(index, org_id, "update", invalid.first_error(), invalid.summary())
        return {"index": index, "id": org_id, "action": "update", "success": True, "status": "Updated"}

    async def _organization_payload(self, request: Request) -> dict:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("organization"), dict):
            raise bad_request('Expected a body like {"organization": {...}}', "InvalidValue")
        return body["organization"]

    def find_one(self, field: str, value: str) -> dict | None:
        return next(self.store[ORGS].scan(field, lower=value, upper=value), None)

    def reserve_organization_id(self) -> int:
        return CREATED_ID_BASE + self.store.next_seq("support_org")  # 12 digits: never a generated id

    def create_organization(self, attrs: dict, org_id: int | None = None) -> dict:
        if not isinstance(attrs.get("name"), str) or not attrs["name"].strip():
            raise RecordInvalid({"name": [{"description": "Name: cannot be blank", "error": "BlankValue"}]})
        now = self.vendor.now()
        row = {
            "id": org_id if org_id is not None else self.reserve_organization_id(),
            "name": "",
            "name_key": "",
            "domains": [],
            "external_id": None,
            "external_key": None,
            "details": "",
            "notes": "",
            "tags": [],
            "group_id": None,
            "shared": False,
            "fields": {},
            "created": now,
            "updated": now,
        }
        return self._apply(row, attrs, creating=True)

    def update_organization(self, row: dict, attrs: dict) -> dict:
        return self._apply(dict(row), attrs, creating=False)

    def _apply(self, row: dict, attrs: dict, *, creating: bool) -> dict:
        """Validate and merge request attributes into a row copy, then write it (journaled)."""
        errors: dict[str, list[dict]] = {}
        for attr, field in WRITABLE.items():
            if attr in attrs:
                row[field] = attrs[attr]
        if "name" in attrs:
            name = attrs["name"]
            if not isinstance(name, str) or not name.strip():
                errors["name"] = [{"description": "Name: cannot be blank", "error": "BlankValue"}]
            else:
                row["name"] = name.strip()
                row["name_key"] = row["name"].casefold()
                clash = self.find_one("name_key", row["name_key"])
                if clash is not None and (creating or clash["id"] != row["id"]):
                    errors["name"] = [
                        {
                            "description": f"Name: {row['name']} has already been taken",
                            "error": "DuplicateValue",
                        }
                    ]
        if row.get("external_id") is not None:
            row["external_id"] = str(row["external_id"])
        row["external_key"] = row["external_id"].casefold() if row.get("external_id") else None
        if not isinstance(row["domains"], list) or not all(isinstance(d, str) for d in row["domains"]):
            errors["domain_names"] = [
                {"description": "Domain names: must be a list of strings", "error": "InvalidValue"}
            ]
        if not isinstance(row["tags"], list):
            errors["tags"] = [{"description": "Tags: must be a list", "error": "InvalidValue"}]
        custom = attrs.get("organization_fields")
        if custom is not None:
            if not isinstance(custom, dict):
                errors["organization_fields"] = [
                    {"description": "Organization fields: must be an object", "error": "InvalidValue"}
                ]
            else:
                row["fields"] = {**row["fields"], **self._validated_fields(custom, errors)}
        if errors:
            raise RecordInvalid(errors)
        row["updated"] = self.vendor.now()
        return self.store.put(ORGS, row)

    @staticmethod
    def _validated_fields(custom: dict, errors: dict[str, list[dict]]) -> dict:
        """Keys that are not defined organization fields are ignored, as Zendesk does."""
        accepted = {}
        for key, value in custom.items():
            kind = FIELD_TYPES.get(key)
            if kind is None:
                continue
            if value is not None and kind == "dropdown" and value not in DROPDOWN_OPTIONS[key]:
                errors.setdefault(key, []).append(
                    {"description": f"{key}: {value!r} is not a valid option", "error": "InvalidValue"}
                )
            elif (
                value is not None
                and kind == "integer"
                and not (isinstance(value, int) and not isinstance(value, bool))
            ):
                errors.setdefault(key, []).append(
                    {"description": f"{key}: must be an integer", "error": "InvalidValue"}
                )
            elif value is not None and kind == "text" and not isinstance(value, str):
                errors.setdefault(key, []).append(
                    {"description": f"{key}: must be text", "error": "InvalidValue"}
                )
            else:
                accepted[key] = value
        return accepted
