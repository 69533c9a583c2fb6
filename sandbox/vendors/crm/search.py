"""`POST /crm/v3/objects/{type}/search`: HubSpot's filterGroups evaluated on sorted indexes.

The incremental-sync shape (`hs_lastmodifieddate GTE x`, sorted by it) becomes a bisected range of
the (last modified, id) index and the page a positional slice, so every page costs O(log n + limit).
Filters on other properties are evaluated row by row inside the indexed range. `after` is an offset
into the ordered result, as in HubSpot, which is why results past 10,000 are unreachable.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sandbox.store import Table
from sandbox.vendor import bad_request
from sandbox.vendors.crm.records import Records
from sandbox.vendors.crm.render import Renderer
from sandbox.vendors.crm.schema import ObjectType

MAX_LIMIT = 200
MAX_REACHABLE = 10_000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS = 18
RANGE_OPERATORS = {"EQ", "GT", "GTE", "LT", "LTE", "BETWEEN"}
OPERATORS = RANGE_OPERATORS | {
    "NEQ",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
    "CONTAINS_TOKEN",
    "NOT_CONTAINS_TOKEN",
}


def invalid(message: str) -> Exception:
    return bad_request(message, "VALIDATION_ERROR")


@dataclass
class Filter:
    prop: str
    operator: str
    value: Any = None
    high_value: Any = None
    values: tuple = ()


@dataclass
class SearchPlan:
    groups: list[list[Filter]]
    sort_prop: str | None
    descending: bool
    properties: list[str]
    limit: int
    offset: int
    query: str | None


class Search:
    def __init__(self, otype: ObjectType, records: Records, renderer: Renderer) -> None:
        self.otype = otype
        self.records = records
        self.renderer = renderer
        # Properties backed by a sorted index of the table, and the index holding them.
        self.indexed = {"hs_object_id": "id", otype.modified_property: "_modified"}
        self.integer_valued = {
            "hs_object_id": "id",
            "createdate": "_created",
            otype.modified_property: "_modified",
        }

    @property
    def table(self) -> Table:
        return self.records.table

    # -- parsing ---------------------------------------------------------------------------------
    def parse(self, body: Any) -> SearchPlan:
        if not isinstance(body, dict):
            raise invalid("Invalid input JSON: the search request must be an object.")
        groups_in = body.get("filterGroups") or []
        if not isinstance(groups_in, list) or len(groups_in) > MAX_FILTER_GROUPS:
            raise invalid(f"filterGroups must be a list of at most {MAX_FILTER_GROUPS} groups.")
        groups = [self._group(g) for g in groups_in]
        if sum(len(g) for g in groups) > MAX_FILTERS:
            raise invalid(f"A search may use at most {MAX_FILTERS} filters in total.")
        sort_prop, descending = self._sort(body.get("sorts") or [])
        properties = body.get("properties") or list(self.otype.default_properties)
        if not isinstance(properties, list) or not all(isinstance(p, str) for p in properties):
            raise invalid("properties must be a list of property names.")
        limit = _integer(body.get("limit", 10), "limit")
        if not 0 <= limit <= MAX_LIMIT:
            raise invalid(f"limit must be between 0 and {MAX_LIMIT}; got {limit}.")
        offset = _integer(body.get("after") or 0, "after")
        if offset < 0:
            raise invalid("after must be a non-negative offset.")
        if offset >= MAX_REACHABLE:
            raise invalid(
                f"Search results are limited to {MAX_REACHABLE:,} records per query; after={offset} is beyond that. Narrow the filters (for example on {self.otype.modified_property}) instead of paging further."
            )
        query = body.get("query")
        return SearchPlan(
            groups,
            sort_prop,
            descending,
            properties,
            limit,
            offset,
            str(query).strip().lower() if query else None,
        )

    def _group(self, group: Any) -> list[Filter]:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or len(filters) > MAX_FILTERS_PER_GROUP:
            raise invalid(
                f"Each filterGroup needs a filters list of at most {MAX_FILTERS_PER_GROUP} filters."
            )
        return [self._filter(f) for f in filters]

    def _filter(self, raw: Any) -> Filter:
        if not isinstance(raw, dict) or not isinstance(raw.get("propertyName"), str):
            raise invalid("Each filter needs a propertyName.")
        prop, operator = raw["propertyName"], str(raw.get("operator", "EQ")).upper()
        if not self.otype.is_known(prop):
            raise invalid(f'Property "{prop}" does not exist on {self.otype.name}.')
        if operator not in OPERATORS:
            raise invalid(f"Unknown operator {operator!r}; expected one of {sorted(OPERATORS)}.")
        flt = Filter(prop, operator)
        if operator in ("IN", "NOT_IN"):
            values = raw.get("values")
            if not isinstance(values, list) or not values:
                raise invalid(f"Operator {operator} requires a non-empty values list for {prop}.")
            flt.values = tuple(self._coerce(prop, v) for v in values)
        elif operator not in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
            if raw.get("value") is None:
                raise invalid(f"Operator {operator} requires a value for {prop}.")
            flt.value = self._coerce(prop, raw["value"])
            if operator == "BETWEEN":
                if raw.get("highValue") is None:
                    raise invalid(f"Operator BETWEEN requires highValue for {prop}.")
                flt.high_value = self._coerce(prop, raw["highValue"])
        return flt

    def _sort(self, sorts: Any) -> tuple[str | None, bool]:
        if not isinstance(sorts, list) or len(sorts) > 1:
            raise invalid("sorts accepts at most one sort.")
        if not sorts:
            return None, False
        sort = sorts[0]
        if isinstance(sort, str):  # the legacy form: ["hs_lastmodifieddate"]
            prop, direction = sort, "ASCENDING"
        elif isinstance(sort, dict) and isinstance(sort.get("propertyName"), str):
            prop, direction = sort["propertyName"], str(sort.get("direction", "ASCENDING")).upper()
        else:
            raise invalid("Each sort needs a propertyName.")
        if not self.otype.is_known(prop):
            raise invalid(f'Property "{prop}" does not exist on {self.otype.name}.')
        if direction not in ("ASCENDING", "DESCENDING"):
            raise invalid(f"Sort direction must be ASCENDING or DESCENDING; got {direction!r}.")
        return prop, direction == "DESCENDING"

    def _coerce(self, prop: str, value: Any) -> Any:
        """Filter values arrive as strings; dates as epoch ms (ISO 8601 accepted too)."""
        if prop in self.otype.date_properties:
            return epoch_ms(value, prop)
        if prop in self.otype.numeric_properties:
            try:
                return float(value)
            except (TypeError, ValueError):
                raise invalid(f"{value!r} is not a valid number for {prop}.") from None
        return str(value).lower()

    # -- evaluation ------------------------------------------------------------------------------
    def row_value(self, row: dict, prop: str) -> Any:
        if prop in self.integer_valued:
            return row[self.integer_valued[prop]]
        value = self.renderer.property_value(row, prop)
        if value is None or value == "":
            return None
        if prop in self.otype.numeric_properties:
            try:
                return float(value)
            except ValueError:
                return None
        return value.lower()

    def matches(self, row: dict, flt: Filter) -> bool:
        value = self.row_value(row, flt.prop)
        op = flt.operator
        if op == "HAS_PROPERTY":
            return value is not None
        if op == "NOT_HAS_PROPERTY":
            return value is None
        if op == "NEQ":
            return value != flt.value
        if op == "NOT_IN":
            return value not in flt.values
        if op == "NOT_CONTAINS_TOKEN":
            return value is None or str(flt.value).strip("*") not in str(value)
        if value is None:
            return False
        if op == "EQ":
            return value == flt.value
        if op == "IN":
            return value in flt.values
        if op == "CONTAINS_TOKEN":
            return str(flt.value).strip("*") in str(value)
        if isinstance(value, str) != isinstance(flt.value, str):
            return False
        if op == "GT":
            return value > flt.value
        if op == "GTE":
            return value >= flt.value
        if op == "LT":
            return value < flt.value
        if op == "LTE":
            return value <= flt.value
        return flt.value <= value <= flt.high_value  # BETWEEN

    def run(self, plan: SearchPlan) -> tuple[int, list[dict]]:
        """-> (total matches, rows of the requested page)."""
        order_prop = plan.sort_prop or self._ranged_indexed_property(plan) or "hs_object_id"
        field = self.indexed.get(order_prop)
        if field is None:
            return self._run_unindexed(plan)
        lower, upper, groups = self._bounds(plan, order_prop)
        index = self.table.indexes[field]
        lo = index.bisect_left((lower,)) if lower is not None else 0
        hi = index.bisect_left((upper + 1,)) if upper is not None else len(index)
        hi = max(lo, hi)
        residual = bool(groups) or plan.query is not None
        if not residual:
            positions = range(hi - 1, lo - 1, -1) if plan.descending else range(lo, hi)
            page = positions[plan.offset : plan.offset + plan.limit]
            return hi - lo, [self.table.rows[index[p][1]] for p in page]
        positions = range(hi - 1, lo - 1, -1) if plan.descending else range(lo, hi)
        total, page = 0, []
        for p in positions:
            row = self.table.rows[index[p][1]]
            if self._selected(row, groups, plan.query):
                if plan.offset <= total < plan.offset + plan.limit:
                    page.append(row)
                total += 1
        return total, page

    def _ranged_indexed_property(self, plan: SearchPlan) -> str | None:
        """Without sorts, order by an indexed property the (single) filter group bounds, so that
        `hs_lastmodifieddate GTE x` alone is still a range of an index rather than a scan."""
        if len(plan.groups) != 1:
            return None
        return next(
            (f.prop for f in plan.groups[0] if f.prop in self.indexed and f.operator in RANGE_OPERATORS), None
        )

    def _bounds(self, plan: SearchPlan, prop: str) -> tuple[int | None, int | None, list[list[Filter]]]:
        """Turn range filters on the sort property into index bounds (only with one filterGroup,
        since groups are OR-ed); the other filters stay to be checked row by row."""
        if len(plan.groups) != 1:
            return None, None, plan.groups
        lower = upper = None
        rest = []
        for flt in plan.groups[0]:
            if flt.prop != prop or flt.operator not in RANGE_OPERATORS:
                rest.append(flt)
                continue
            lo, hi = _integer_range(flt)
            if lo is not None:
                lower = lo if lower is None else max(lower, lo)
            if hi is not None:
                upper = hi if upper is None else min(upper, hi)
        return lower, upper, [rest] if rest else []

    def _run_unindexed(self, plan: SearchPlan) -> tuple[int, list[dict]]:
        """Sorting on a property without an index: select, then sort in memory (rarely used)."""
        selected = [row for row in self.table.rows.values() if self._selected(row, plan.groups, plan.query)]
        prop = plan.sort_prop
        present = sorted(
            (r for r in selected if self.row_value(r, prop) is not None),
            key=lambda r: (self.row_value(r, prop), r["id"]),
            reverse=plan.descending,
        )
        absent = sorted((r for r in selected if self.row_value(r, prop) is None), key=lambda r: r["id"])
        ordered = present + absent
        return len(ordered), ordered[plan.offset : plan.offset + plan.limit]

    def _selected(self, row: dict, groups: list[list[Filter]], query: str | None) -> bool:
        if groups and not any(all(self.matches(row, f) for f in group) for group in groups):
            return False
        if query is not None:
            return any(
                query in (self.renderer.property_value(row, p) or "").lower()
                for p in self.otype.searchable_text
            )
        return True


def _integer_range(flt: Filter) -> tuple[int | None, int | None]:
    """Inclusive integer bounds for a range filter on an integer-valued index (ids, epoch ms)."""
    value = flt.value
    if flt.operator == "EQ":
        return math.ceil(value), math.floor(value)  # empty when value is not integral
    if flt.operator == "GT":
        return math.floor(value) + 1, None
    if flt.operator == "GTE":
        return math.ceil(value), None
    if flt.operator == "LT":
        return None, math.ceil(value) - 1
    if flt.operator == "LTE":
        return None, math.floor(value)
    return math.ceil(value), math.floor(flt.high_value)  # BETWEEN


def epoch_ms(value: Any, prop: str) -> int:
    """HubSpot date filter values: epoch milliseconds (string or number), or an ISO 8601 string."""
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(
            f"{value!r} is not a valid date for {prop}: use epoch milliseconds or ISO 8601."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _integer(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be an integer; got {value!r}.") from None
