"""Stripe's form encoding: `metadata[erp]=x`, `expand[]=a`, `types[0]=a`, `created[gte]=1`.

Query strings and POST bodies use the same bracket syntax; `parse_params` turns the flat pairs into
nested dicts and lists, and the list helpers validate the parameters Stripe validates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl

from .errors import invalid, unknown_parameter

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
RANGE_OPS = ("gt", "gte", "lt", "lte")
COMMON_LIST_PARAMS = {"limit", "starting_after", "ending_before", "created", "expand"}


def parse_params(raw: str) -> dict:
    """Flat `a[b][]=v` pairs -> nested dicts; dicts whose keys are all indexes become lists."""
    root: dict = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        match = _KEY.match(key)
        if not match:
            raise invalid(f"Invalid parameter name: {key}", param=key)
        parts = [match.group(1)] + re.findall(r"\[([^\[\]]*)\]", match.group(2))
        node = root
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            if part == "":  # `a[]`: append
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                if isinstance(node.get(part), dict):
                    raise invalid(f"Invalid value for {key}: cannot mix a value and a hash", param=key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise invalid(f"Invalid value for {key}: cannot mix a value and a hash", param=key)
                node = child
    return _listify(root)


def _listify(node):
    if not isinstance(node, dict):
        return node
    converted = {k: _listify(v) for k, v in node.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def reject_unknown(params: dict, allowed: set[str]) -> None:
    for name in params:
        if name not in allowed:
            raise unknown_parameter(name)


def as_int(params: dict, name: str, value) -> int:
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value)
    raise invalid(
        f"Invalid integer: {value if isinstance(value, str) else name}",
        param=name,
        code="parameter_invalid_integer",
    )


def as_list(params: dict, name: str) -> list[str]:
    value = params.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise invalid(f"Invalid array: {name}", param=name)


@dataclass
class Page:
    """The validated paging part of a list request."""

    limit: int
    starting_after: str | None
    ending_before: str | None
    created_lower: int | None
    created_upper: int | None
    expand: list[str]


def page_params(params: dict) -> Page:
    limit = 10
    if "limit" in params:
        limit = as_int(params, "limit", params["limit"])
        if limit < 1:
            raise invalid(
                "This value must be greater than or equal to 1.",
                param="limit",
                code="parameter_invalid_integer",
            )
        if limit > 100:
            raise invalid(
                "This value must be less than or equal to 100.",
                param="limit",
                code="parameter_invalid_integer",
            )
    starting_after, ending_before = params.get("starting_after") or None, params.get("ending_before") or None
    if starting_after and ending_before:
        raise invalid(
            "You may only specify one of these parameters: ending_before, starting_after.",
            param="starting_after",
        )
    for name, value in (("starting_after", starting_after), ("ending_before", ending_before)):
        if value is not None and not isinstance(value, str):
            raise invalid(f"Invalid string: {name}", param=name)
    lower, upper = created_bounds(params.get("created"))
    return Page(limit, starting_after, ending_before, lower, upper, as_list(params, "expand"))


def created_bounds(created) -> tuple[int | None, int | None]:
    """`created=<ts>` or `created[gt|gte|lt|lte]=<ts>` -> inclusive (lower, upper)."""
    if created is None:
        return None, None
    if isinstance(created, str):
        ts = as_int({}, "created", created)
        return ts, ts
    if not isinstance(created, dict):
        raise invalid("Invalid created: must be an integer or a hash", param="created")
    lower = upper = None
    for op, raw in created.items():
        if op not in RANGE_OPS:
            raise unknown_parameter(f"created[{op}]")
        ts = as_int({}, f"created[{op}]", raw)
        if op == "gt":
            lower = max(lower or ts + 1, ts + 1)
        elif op == "gte":
            lower = max(lower or ts, ts)
        elif op == "lt":
            upper = min(upper if upper is not None else ts - 1, ts - 1)
        else:
            upper = min(upper if upper is not None else ts, ts)
    return lower, upper
