"""Validate rendered objects against Stripe's OpenAPI 3.0 schemas with a JSON Schema 2020-12 validator.

OpenAPI 3.0 marks optional-null with `nullable: true` (also beside `anyOf` / `$ref`), which JSON
Schema does not know; this converts every component schema once and resolves
`#/components/schemas/X` refs as `#/$defs/X`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SPEC_FILE = "vendor-specs/stripe/spec3.2023-09-12.billing-subset.json"
_DROP = {
    "nullable",
    "x-expandableFields",
    "x-resourceId",
    "x-stripeResource",
    "x-stripeBypassValidation",
    "x-expansionResources",
    "discriminator",
    "xml",
    "example",
    "externalDocs",
    "deprecated",
}


def to_json_schema(node: Any) -> Any:
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {k: to_json_schema(v) for k, v in node.items() if k not in _DROP}
    if "$ref" in converted:
        converted["$ref"] = converted["$ref"].replace("#/components/schemas/", "#/$defs/")
    if node.get("nullable"):
        if "type" in converted and not any(k in converted for k in ("anyOf", "oneOf", "allOf", "$ref")):
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:  # a $ref or a combinator: null or whatever it allowed
            converted = {"anyOf": [converted, {"type": "null"}]}
    return converted


@cache
def _definitions(spec_path: str) -> dict:
    spec = json.loads(Path(spec_path).read_text())
    return {name: to_json_schema(schema) for name, schema in spec["components"]["schemas"].items()}


def validator(shared_dir: Path, schema_name: str) -> Draft202012Validator:
    definitions = _definitions(str(shared_dir / SPEC_FILE))
    return Draft202012Validator({"$defs": definitions, "$ref": f"#/$defs/{schema_name}"})


def schema_errors(shared_dir: Path, schema_name: str, obj: dict) -> list[str]:
    errors = validator(shared_dir, schema_name).iter_errors(obj)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors]
