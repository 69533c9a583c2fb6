"""HubSpot CRM v3 (and the v4 association read) routes over the companies and contacts tables."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from sandbox.vendor import JSONResponse, bad_request, json_body
from sandbox.vendors.crm.errors import batch_error, error_response
from sandbox.vendors.crm.properties import account_details, properties
from sandbox.vendors.crm.records import PropertyError, Records, UniqueConflict
from sandbox.vendors.crm.render import Renderer, iso_ms
from sandbox.vendors.crm.schema import (
    OBJECT_TYPES,
    PRIMARY_ASSOCIATION_TYPE_ID,
    UNLABELED_ASSOCIATION_TYPE_ID,
    ObjectType,
)
from sandbox.vendors.crm.search import Search

if TYPE_CHECKING:
    from sandbox.vendors.crm import CrmVendor

MAX_PAGE = 100
MAX_BATCH = 100
# HubSpot returns these with every object, whichever properties were asked for.
ALWAYS_RETURNED = ("createdate", "hs_object_id")


def invalid(message: str) -> Exception:
    return bad_request(message, "VALIDATION_ERROR")


class CrmApi:
    def __init__(self, vendor: CrmVendor) -> None:
        self.vendor = vendor

    def routes(self) -> list[tuple[str, Any, list[str]]]:
        objects = "/crm/v3/objects/{object_type}"
        return [
            (f"{objects}/search", self.search, ["POST"]),
            (f"{objects}/batch/upsert", self.batch_upsert, ["POST"]),
            (f"{objects}/batch/read", self.batch_read, ["POST"]),
            (objects, self.list_objects, ["GET"]),
            (objects, self.create_object, ["POST"]),
            (f"{objects}/{{object_id}}", self.get_object, ["GET"]),
            (f"{objects}/{{object_id}}", self.update_object, ["PATCH"]),
            (
                "/crm/v4/objects/{object_type}/{object_id}/associations/{to_type}",
                self.v4_associations,
                ["GET"],
            ),
            ("/crm/v3/associations/{object_type}/{to_type}/batch/read", self.v3_batch_associations, ["POST"]),
            ("/crm/v3/properties/{object_type}", self.list_properties, ["GET"]),
            ("/account-info/v3/details", self.account_info, ["GET"]),
        ]

    async def list_properties(self, request: Request) -> Response:
        return JSONResponse(properties(self._otype(request)))

    async def account_info(self, request: Request) -> Response:
        return JSONResponse(account_details())

    # -- helpers ---------------------------------------------------------------------------------
    def _otype(self, request: Request, param: str = "object_type") -> ObjectType:
        name = request.path_params[param]
        otype = OBJECT_TYPES.get(name)
        if otype is None:
            raise invalid(f"Unable to infer object type from: {name}")
        return otype

    def _records(self, otype: ObjectType) -> Records:
        return self.vendor.records[otype.name]

    def _renderer(self, otype: ObjectType) -> Renderer:
        return self.vendor.renderers[otype.name]

    def _property_names(self, otype: ObjectType, requested: list[str] | None) -> list[str]:
        names = list(requested) if requested else list(otype.default_properties)
        for always in (*ALWAYS_RETURNED, otype.modified_property):
            if always not in names:
                names.append(always)
        return names

    @staticmethod
    def _query_list(request: Request, name: str) -> list[str]:
        """Repeated (`?properties=a&properties=b`, as the official clients send) or comma lists."""
        return [
            item.strip()
            for raw in request.query_params.getlist(name)
            for item in raw.split(",")
            if item.strip()
        ]

    def associations_of(self, otype: ObjectType, row: dict, to_names: list[str]) -> dict[str, list[dict]]:
        """v3 `associations.{type}.results` of one record: contacts <-> companies only."""
        found: dict[str, list[dict]] = {}
        for to_name in to_names:
            if (otype.name, to_name) == ("contacts", "companies"):
                ids = [row["_company"]] if row.get("_company") is not None else []
                found[to_name] = [{"id": str(i), "type": "contact_to_company"} for i in ids]
            elif (otype.name, to_name) == ("companies", "contacts"):
                found[to_name] = [
                    {"id": str(c["id"]), "type": "company_to_contact"}
                    for c in self.vendor.contacts_of_company(row["id"])
                ]
        return found

    def _associated_ids(self, otype: ObjectType, row: dict, to_name: str) -> list[int]:
        return [int(a["id"]) for a in self.associations_of(otype, row, [to_name]).get(to_name, [])]

    def _render(
        self, otype: ObjectType, row: dict, names: list[str], association_names: list[str] = ()
    ) -> dict[str, Any]:
        associations = (
            self.associations_of(otype, row, list(association_names)) if association_names else None
        )
        return self._renderer(otype).render(row, names, associations)

    def _not_found(self, otype: ObjectType, object_id: str) -> Response:
        return error_response(
            404,
            "OBJECT_NOT_FOUND",
            "Object not found.  objectId are usually numeric.",
            context={"id": [object_id]},
        )

    def _batch_envelope(self, results: list[dict], errors: list[dict]) -> Response:
        now = iso_ms(self.vendor.clock_ms())
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": now,
            "completedAt": now,
        }
        if errors:
            body["numErrors"] = len(errors)
            body["errors"] = errors
        return JSONResponse(body, status_code=207 if errors else 200)

    @staticmethod
    def _batch_inputs(body: Any) -> list[Any]:
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            raise invalid("Invalid input JSON: inputs must be a list.")
        if len(inputs) > MAX_BATCH:
            raise invalid(
                f"Batch input limit exceeded: {len(inputs)} inputs given, the maximum is {MAX_BATCH}."
            )
        return inputs

    # -- list, read, write ------------------------------------------------------------------------
    async def list_objects(self, request: Request) -> Response:
        otype = self._otype(request)
        params = request.query_params
        limit = _int_param(params.get("limit", "10"), "limit")
        if not 1 <= limit <= MAX_PAGE:
            raise invalid(f"limit must be between 1 and {MAX_PAGE}; got {limit}.")
        after = params.get("after")
        if after is not None and not after.isdigit():
            raise invalid(f"after must be the cursor from paging.next.after; got {after!r}.")
        if params.get("archived", "false").lower() == "true":
            return JSONResponse({"results": []})  # nothing is ever archived in the sandbox
        names = self._property_names(otype, self._query_list(request, "properties"))
        association_names = self._query_list(request, "associations")
        # Cursor = the id of the next record (inclusive), resolved by bisecting the id index.
        rows = list(
            islice(self._records(otype).table.scan("id", lower=int(after) if after else None), limit + 1)
        )
        body: dict[str, Any] = {
            "results": [self._render(otype, row, names, association_names) for row in rows[:limit]]
        }
        if len(rows) > limit:
            next_after = str(rows[limit]["id"])
            body["paging"] = {
                "next": {"after": next_after, "link": str(request.url.include_query_params(after=next_after))}
            }
        return JSONResponse(body)

    async def get_object(self, request: Request) -> Response:
        otype = self._otype(request)
        object_id = request.path_params["object_id"]
        id_property = request.query_params.get("idProperty") or "hs_object_id"
        records = self._records(otype)
        if id_property not in records.id_properties():
            raise invalid(f"{id_property} is not a unique identifier property of {otype.name}.")
        matches = records.find(id_property, object_id)
        if len(matches) != 1:
            return self._not_found(otype, object_id)
        names = self._property_names(otype, self._query_list(request, "properties"))
        return JSONResponse(self._render(otype, matches[0], names, self._query_list(request, "associations")))

    async def update_object(self, request: Request) -> Response:
        otype = self._otype(request)
        object_id = request.path_params["object_id"]
        records = self._records(otype)
        row = records.get(object_id)
        if row is None:
            return self._not_found(otype, object_id)
        body = await json_body(request)
        properties = _cleaned(records, body.get("properties") if isinstance(body, dict) else None)
        try:
            row = records.update(row, properties)
        except UniqueConflict as exc:
            return error_response(409, "CONFLICT", str(exc))
        return JSONResponse(
            self._render(otype, row, self._property_names(otype, [*otype.default_properties, *properties]))
        )

    async def create_object(self, request: Request) -> Response:
        otype = self._otype(request)
        records = self._records(otype)
        body = await json_body(request)
        if not isinstance(body, dict):
            raise invalid("Invalid input JSON: expected an object with properties.")
        properties = _cleaned(records, body.get("properties") or {})
        company_id = self._company_from_associations(otype, body.get("associations") or [])
        try:
            row = records.create(
                properties,
                customer_key=self.vendor.customer_key_for(otype, properties, company_id),
                company_id=company_id,
            )
        except UniqueConflict as exc:
            return error_response(409, "CONFLICT", str(exc))
        names = self._property_names(otype, [*otype.default_properties, *properties])
        return JSONResponse(self._render(otype, row, names), status_code=201)

    def _company_from_associations(self, otype: ObjectType, associations: Any) -> int | None:
        """A contact created with `associations: [{to: {id}, types: [...]}]` to a company."""
        if not associations:
            return None
        if otype.name != "contacts" or not isinstance(associations, list):
            raise invalid("Only contact -> company associations can be set on create in this portal.")
        target = associations[0].get("to", {}).get("id") if isinstance(associations[0], dict) else None
        company = self.vendor.records["companies"].get(target)
        if company is None:
            raise invalid(f"Association target company {target!r} does not exist.")
        return company["id"]

    # -- search ----------------------------------------------------------------------------------
    async def search(self, request: Request) -> Response:
        otype = self._otype(request)
        search: Search = self.vendor.searches[otype.name]
        plan = search.parse(await json_body(request))
        total, rows = search.run(plan)
        names = self._property_names(otype, plan.properties)
        body: dict[str, Any] = {"total": total, "results": [self._render(otype, row, names) for row in rows]}
        next_offset = plan.offset + len(rows)
        if rows and next_offset < total:
            body["paging"] = {"next": {"after": str(next_offset)}}
        return JSONResponse(body)

    # -- batches ---------------------------------------------------------------------------------
    async def batch_upsert(self, request: Request) -> Response:
        """Upsert on a unique property; invalid inputs become errors[] (207) and the rest apply."""
        otype = self._otype(request)
        records = self._records(otype)
        inputs = self._batch_inputs(await json_body(request))
        keys = [
            (i.get("idProperty"), i.get("id"))
            for i in inputs
            if isinstance(i, dict) and i.get("id") is not None
        ]
        duplicated = sorted({str(v) for k, v in keys if keys.count((k, v)) > 1})
        if duplicated:
            raise invalid(f"Duplicate IDs found in batch input: {duplicated}. IDs must be unique.")
        results, errors = [], []
        for item in inputs:
            outcome = self._upsert_one(otype, records, item)
            (results if "id" in outcome else errors).append(outcome)
        return self._batch_envelope(results, errors)

    def _upsert_one(self, otype: ObjectType, records: Records, item: Any) -> dict[str, Any]:
        if not isinstance(item, dict):
            return batch_error(
                "VALIDATION_ERROR", "Each input must be an object with idProperty, id and properties.", {}
            )
        id_property, value = item.get("idProperty") or "hs_object_id", item.get("id")
        context = {"ids": [str(value)]}
        if value is None or str(value).strip() == "":
            return batch_error(
                "VALIDATION_ERROR",
                "Missing id: each upsert input needs the value of its idProperty.",
                {"ids": []},
            )
        if id_property not in records.id_properties():
            return batch_error(
                "VALIDATION_ERROR",
                f"{id_property} is not a unique property of {otype.name}; use one of {list(records.id_properties())}.",
                context,
            )
        try:
            properties = records.clean(item.get("properties") or {})
        except PropertyError as exc:
            return batch_error("VALIDATION_ERROR", str(exc), context)
        matches = records.find(id_property, value)
        if len(matches) > 1:
            return batch_error(
                "VALIDATION_ERROR",
                f"{len(matches)} {otype.name} have {id_property}={value}; upsert needs a unique match.",
                context,
            )
        try:
            if matches:
                row, created = records.update(matches[0], properties), False
            elif id_property == "hs_object_id":
                return batch_error(
                    "OBJECT_NOT_FOUND",
                    f"No {otype.singular} with id {value}; upsert by hs_object_id cannot create.",
                    context,
                )
            else:
                properties[id_property] = records.clean({id_property: value})[id_property]
                row = records.create(
                    properties, customer_key=self.vendor.customer_key_for(otype, properties, None)
                )
                created = True
        except UniqueConflict as exc:
            return batch_error("CONFLICT", str(exc), context)
        names = self._property_names(otype, [*otype.default_properties, *properties])
        return {**self._render(otype, row, names), "new": created}

    async def batch_read(self, request: Request) -> Response:
        otype = self._otype(request)
        records = self._records(otype)
        body = await json_body(request)
        inputs = self._batch_inputs(body)
        id_property = body.get("idProperty") or "hs_object_id"
        if id_property not in records.id_properties():
            raise invalid(f"{id_property} is not a unique identifier property of {otype.name}.")
        names = self._property_names(otype, body.get("properties") or None)
        results, missing = [], []
        for item in inputs:
            value = item.get("id") if isinstance(item, dict) else None
            matches = records.find(id_property, value) if value is not None else []
            if len(matches) == 1:
                results.append(self._render(otype, matches[0], names))
            else:
                missing.append(str(value))
        errors = []
        if missing:
            message = f"Could not get some {otype.singular.upper()} objects, they may be deleted or not exist. Check that ids are valid."
            errors.append(batch_error("OBJECT_NOT_FOUND", message, {"ids": missing}))
        return self._batch_envelope(results, errors)

    # -- associations ----------------------------------------------------------------------------
    async def v4_associations(self, request: Request) -> Response:
        otype = self._otype(request)
        to_type = self._otype(request, "to_type")
        object_id = request.path_params["object_id"]
        row = self._records(otype).get(object_id)
        if row is None:
            return self._not_found(otype, object_id)
        types = (
            [
                {
                    "category": "HUBSPOT_DEFINED",
                    "typeId": PRIMARY_ASSOCIATION_TYPE_ID[otype.name],
                    "label": "Primary",
                },
                {
                    "category": "HUBSPOT_DEFINED",
                    "typeId": UNLABELED_ASSOCIATION_TYPE_ID[otype.name],
                    "label": None,
                },
            ]
            if otype.name in PRIMARY_ASSOCIATION_TYPE_ID and otype != to_type
            else []
        )
        ids = self._associated_ids(otype, row, to_type.name)
        return JSONResponse({"results": [{"toObjectId": i, "associationTypes": types} for i in ids]})

    async def v3_batch_associations(self, request: Request) -> Response:
        otype = self._otype(request)
        to_type = self._otype(request, "to_type")
        records = self._records(otype)
        results, missing = [], []
        for item in self._batch_inputs(await json_body(request)):
            value = item.get("id") if isinstance(item, dict) else None
            row = records.get(value)
            if row is None:
                missing.append(str(value))
                continue
            to = self.associations_of(otype, row, [to_type.name]).get(to_type.name, [])
            if to:
                results.append({"from": {"id": str(row["id"])}, "to": to})
        errors = (
            [batch_error("OBJECT_NOT_FOUND", f"No {otype.singular} with ids {missing}.", {"ids": missing})]
            if missing
            else []
        )
        return self._batch_envelope(results, errors)


def _cleaned(records: Records, properties: Any) -> dict[str, str | None]:
    if properties is None:
        raise invalid("Invalid input JSON: properties is required.")
    try:
        return records.clean(properties)
    except PropertyError as exc:
        raise invalid(str(exc)) from None


def _int_param(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(f"{name} must be an integer; got {value!r}.") from None
