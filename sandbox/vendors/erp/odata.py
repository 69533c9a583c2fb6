"""OData v4 query options as Business Central answers them: `$filter` (comparisons joined by and/or,
parentheses), `$top`, `$skip`, `$select`, `$expand`, `$orderby`, and the opaque `$skiptoken` of
server-driven paging. Errors carry BC's codes (see dynamics-error-codes.md)."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson

from sandbox.vendors.erp.schema import LAST_MODIFIED, NUMBER, EntitySet

LAST_MODIFIED_PROPERTY = "lastModifiedDateTime"
KNOWN_OPTIONS = {
    "$filter",
    "$top",
    "$skip",
    "$select",
    "$expand",
    "$orderby",
    "$skiptoken",
    "$count",
    "$format",
    "$schemaversion",
}
COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}


class ODataError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def syntax_error(detail: str) -> ODataError:
    return ODataError(400, "BadRequest_NotFound", f"Bad Request - Error in query syntax. {detail}")


# -- $filter -------------------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^']|'')*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:\d{2}))
    | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<paren>[()])
    )""",
    re.VERBOSE,
)


@dataclass(frozen=True)
class Comparison:
    prop: str
    op: str
    literal: tuple[str, Any]  # (token kind, raw value)


@dataclass(frozen=True)
class Junction:
    op: str  # and | or
    parts: tuple[Any, ...]


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise syntax_error(f"Unexpected character at position {pos} in '{text}'.")
        kind = match.lastgroup
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


class _FilterParser:
    """Recursive descent: or-expr := and-expr ('or' and-expr)*; and-expr := atom ('and' atom)*."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.pos = 0

    def parse(self) -> Any:
        if not self.tokens:
            raise syntax_error("Expression expected at position 0.")
        node = self.or_expr()
        if self.pos != len(self.tokens):
            raise syntax_error(f"Unexpected '{self.tokens[self.pos][1]}' in '{self.text}'.")
        return node

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise syntax_error(f"Expression expected at end of '{self.text}'.")
        self.pos += 1
        return token

    def junction(self, op: str, operand: Callable[[], Any]) -> Any:
        parts = [operand()]
        while self.peek() == ("name", op):
            self.pos += 1
            parts.append(operand())
        return parts[0] if len(parts) == 1 else Junction(op, tuple(parts))

    def or_expr(self) -> Any:
        return self.junction("or", self.and_expr)

    def and_expr(self) -> Any:
        return self.junction("and", self.atom)

    def atom(self) -> Any:
        kind, value = self.take()
        if (kind, value) == ("paren", "("):
            node = self.or_expr()
            if self.take() != ("paren", ")"):
                raise syntax_error("')' expected.")
            return node
        if kind != "name":
            raise syntax_error(f"Property name expected instead of '{value}'.")
        op_kind, op = self.take()
        if op_kind != "name" or op not in COMPARISONS:
            raise syntax_error(f"Unsupported operator '{op}' after '{value}'.")
        literal = self.take()
        if literal[0] == "paren" or (literal[0] == "name" and literal[1] not in ("true", "false", "null")):
            raise syntax_error(f"Literal expected after '{value} {op}'.")
        return Comparison(value, op, literal)


def _comparisons(node: Any) -> list[Comparison]:
    if isinstance(node, Comparison):
        return [node]
    return [c for part in node.parts for c in _comparisons(part)]


def _parse_datetime_ms(raw: str) -> int:
    text = raw.replace("Z", "+00:00")
    if "." in text:  # Python's fromisoformat wants 0, 3 or 6 fraction digits
        head, _, rest = text.partition(".")
        digits = re.match(r"\d+", rest).group(0)
        text = f"{head}.{digits[:6].ljust(6, '0')}{rest[len(digits) :]}"
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def _typed(prop: str, edm: str, literal: tuple[str, str]) -> Any:
    """The literal converted into the domain the row value is compared in, or a BC 400."""
    kind, raw = literal
    if kind == "name" and raw == "null":
        return None
    try:
        if edm == "Edm.DateTimeOffset":
            if kind == "datetime":
                return _parse_datetime_ms(raw)
            if kind == "date":
                return int(
                    datetime.combine(date.fromisoformat(raw), datetime.min.time(), UTC).timestamp() * 1000
                )
        elif edm == "Edm.Date" and kind in ("date", "datetime"):
            return raw[:10]
        elif edm == "Edm.String" and kind == "string":
            return raw[1:-1].replace("''", "'")
        elif edm == "Edm.Guid" and kind in ("guid", "string"):
            return raw.strip("'").lower()
        elif edm in ("Edm.Decimal", "Edm.Int32") and kind == "number":
            return float(raw)
        elif edm == "Edm.Boolean" and kind == "name":
            return raw == "true"
    except ValueError:
        pass
    raise ODataError(400, "BadRequest", f"Unable to convert the value {raw} to the type of '{prop}' ({edm}).")


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


@dataclass
class Filter:
    """A parsed `$filter`: `matches(row, render)` evaluates it; `conjuncts` lets the planner use an
    index for top-level comparisons that every match must satisfy."""

    node: Any
    values: dict[Comparison, Any]
    types: dict[str, str]

    @property
    def conjuncts(self) -> list[tuple[str, str, Any]]:
        node = self.node
        parts = [node] if isinstance(node, Comparison) else list(node.parts) if node.op == "and" else []
        return [(c.prop, c.op, self.values[c]) for c in parts if isinstance(c, Comparison)]

    def matches(self, row: dict, render: Callable[[dict], dict]) -> bool:
        cache: dict[str, dict] = {}

        def value(prop: str) -> Any:
            if prop == LAST_MODIFIED_PROPERTY:
                return row[LAST_MODIFIED]
            if "entity" not in cache:
                cache["entity"] = render(row)
            found = cache["entity"].get(prop)
            if self.types[prop] == "Edm.Guid" and isinstance(found, str):
                return found.lower()
            if self.types[prop] in ("Edm.Decimal", "Edm.Int32") and found is not None:
                return float(found)
            return found

        def evaluate(node: Any) -> bool:
            if isinstance(node, Comparison):
                return _OPERATORS[node.op](value(node.prop), self.values[node])
            results = (evaluate(part) for part in node.parts)
            return all(results) if node.op == "and" else any(results)

        return evaluate(self.node)


def parse_filter(text: str, entity_set: EntitySet) -> Filter:
    node = _FilterParser(text).parse()
    types = entity_set.entity.types
    values = {}
    for comparison in _comparisons(node):
        if comparison.prop not in types:
            raise ODataError(
                400,
                "BadRequest_NotFound",
                f"Could not find a property named '{comparison.prop}' on type '{entity_set.entity.name}'.",
            )
        values[comparison] = _typed(comparison.prop, types[comparison.prop], comparison.literal)
    return Filter(node, values, types)


# -- query options -------------------------------------------------------------------------------
@dataclass
class Query:
    filter: Filter | None = None
    top: int | None = None
    skip: int = 0
    select: list[str] | None = None
    expand: str | None = None
    order_field: str | None = None  # an index field: lastModified | number
    descending: bool = False
    skiptoken: dict | None = None
    extras: dict[str, str] = field(default_factory=dict)


def _non_negative_int(name: str, raw: str) -> int:
    if not raw.isdigit():
        raise ODataError(
            400, "BadRequest", f"Invalid value '{raw}' for {name}: a non-negative integer is expected."
        )
    return int(raw)


def parse_query(params: dict[str, str], entity_set: EntitySet | None) -> Query:
    query = Query()
    for name in params:
        if name.startswith("$") and name not in KNOWN_OPTIONS:
            raise ODataError(400, "BadRequest", f"The query parameter '{name}' is not supported.")
    if entity_set is None:
        return query
    types = entity_set.entity.types
    if params.get("$filter"):
        query.filter = parse_filter(params["$filter"], entity_set)
    if "$top" in params:
        query.top = _non_negative_int("$top", params["$top"])
    if "$skip" in params:
        query.skip = _non_negative_int("$skip", params["$skip"])
    if params.get("$expand"):
        expand = params["$expand"].strip()
        if expand != entity_set.lines:
            raise ODataError(
                400,
                "BadRequest_NotFound",
                f"Could not find a property named '{expand}' on type '{entity_set.entity.name}'.",
            )
        query.expand = expand
    if params.get("$select"):
        query.select = [p.strip() for p in params["$select"].split(",") if p.strip()]
        for prop in query.select:
            if prop not in types and prop != entity_set.lines:
                raise ODataError(
                    400,
                    "BadRequest_NotFound",
                    f"Could not find a property named '{prop}' on type '{entity_set.entity.name}'.",
                )
    if params.get("$orderby"):
        prop, _, direction = params["$orderby"].strip().partition(" ")
        index = {LAST_MODIFIED_PROPERTY: LAST_MODIFIED, "number": NUMBER}.get(prop)
        if index is None or direction.strip() not in ("", "asc", "desc"):
            raise ODataError(
                400,
                "BadRequest_MethodNotImplemented",
                "An orderby query option did not match the default OrderBy fields: use lastModifiedDateTime or number, asc or desc.",
            )
        query.order_field, query.descending = index, direction.strip() == "desc"
    if params.get("$skiptoken"):
        query.skiptoken = decode_skiptoken(params["$skiptoken"])
    return query


# -- $skiptoken ----------------------------------------------------------------------------------
def encode_skiptoken(position: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(position)).decode().rstrip("=")


def decode_skiptoken(token: str) -> dict:
    try:
        position = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(position, dict) or not {"index", "after", "desc"} <= position.keys():
            raise ValueError("incomplete")
        return position
    except (ValueError, orjson.JSONDecodeError):
        raise ODataError(400, "BadRequest", "The $skiptoken value is not valid for this request.") from None
