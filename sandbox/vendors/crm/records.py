"""Reads and journaled writes of one HubSpot object type: look-ups by id or unique property,
property validation, create / update with last-modified stamping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from sandbox.store import Store, Table
from sandbox.vendors.crm.schema import ObjectType

FIRST_API_ID = 10**11  # ids of records created through the API sort after every generated one


class PropertyError(Exception):
    """Invalid property values, with HubSpot's per-property error list in the message."""

    def __init__(self, problems: list[dict[str, Any]]) -> None:
        self.problems = problems
        super().__init__("Property values were not valid: " + orjson.dumps(problems).decode())


class UniqueConflict(Exception):
    def __init__(self, existing_id: int, prop: str) -> None:
        self.existing_id = existing_id
        self.prop = prop
        super().__init__(f"Object already exists with {prop}. Existing ID: {existing_id}")


class Records:
    def __init__(
        self, current_store: Callable[[], Store], otype: ObjectType, clock_ms: Callable[[], int]
    ) -> None:
        # A getter, not the store: a reset swaps the sandbox's store under the running app.
        self._current_store = current_store
        self.otype = otype
        self.clock_ms = clock_ms

    @property
    def store(self) -> Store:
        return self._current_store()

    @property
    def table(self) -> Table:
        return self.store[self.otype.table]

    # -- reads -----------------------------------------------------------------------------------
    def get(self, record_id: Any) -> dict | None:
        try:
            return self.table.get(int(record_id))
        except (TypeError, ValueError):
            return None

    def find(self, prop: str, value: Any) -> list[dict]:
        """Records whose unique property equals value (hs_object_id = the record id)."""
        if prop == "hs_object_id":
            row = self.get(value)
            return [row] if row is not None else []
        if value is None or value == "":
            return []
        return list(self.table.scan(prop, lower=str(value), upper=str(value)))

    def id_properties(self) -> tuple[str, ...]:
        return ("hs_object_id", *self.otype.unique_properties)

    # -- validation ------------------------------------------------------------------------------
    def clean(self, properties: Any) -> dict[str, str | None]:
        """Client property values -> stored strings (None clears), or PropertyError."""
        if not isinstance(properties, dict):
            raise PropertyError([_problem("properties", "properties must be an object", "INVALID_INPUT")])
        cleaned, problems = {}, []
        for name, value in properties.items():
            if not self.otype.is_known(name):
                problems.append(_problem(name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST"))
            elif name not in self.otype.writable_properties:
                problems.append(
                    _problem(
                        name, f'"{name}" is a read only property; its value cannot be set.', "READ_ONLY_VALUE"
                    )
                )
            elif isinstance(value, (dict, list)):
                problems.append(
                    _problem(
                        name,
                        f'{orjson.dumps(value).decode()} was not a valid value for "{name}"',
                        "INVALID_OPTION",
                    )
                )
            else:
                cleaned[name] = _as_property_string(value)
                if name == "email" and cleaned[name]:
                    cleaned[name] = cleaned[name].strip().lower()  # HubSpot stores emails lower-cased
        if problems:
            raise PropertyError(problems)
        return cleaned

    def check_unique(self, properties: dict[str, str | None], own_id: int | None) -> None:
        """Unique properties HubSpot enforces (email, the custom ids); domain is only a look-up key."""
        for prop in self.otype.unique_properties:
            if prop == "domain" or properties.get(prop) is None:
                continue
            for other in self.find(prop, properties[prop]):
                if other["id"] != own_id:
                    raise UniqueConflict(other["id"], prop)

    # -- writes ----------------------------------------------------------------------------------
    def stamp(self) -> int:
        """Last-modified for a write now: the simulated clock in ms, strictly after the latest
        stamp in the table, so an incremental reader's GTE cursor never skips a later write."""
        index = self.table.indexes["_modified"]
        latest = index[-1][0] if len(index) else 0
        return max(self.clock_ms(), latest + 1)

    def update(self, row: dict, properties: dict[str, str | None]) -> dict:
        self.check_unique(properties, row["id"])
        updated = {**row, **properties, "_modified": self.stamp()}
        return self.store.put(self.otype.table, updated)

    def create(
        self,
        properties: dict[str, str | None],
        *,
        customer_key: str | None = None,
        company_id: int | None = None,
    ) -> dict:
        self.check_unique(properties, None)
        now = self.stamp()
        row: dict[str, Any] = {
            "id": FIRST_API_ID + self.store.next_seq(f"crm:{self.otype.name}"),
            "_customer": customer_key,
            "_created": now,
            "_modified": now,
            **properties,
        }
        if company_id is not None:
            row["_company"] = company_id
        return self.store.put(self.otype.table, row)

    def put_generated(self, row: dict) -> dict:
        """A row built by the simulation (already complete), stamped as written now."""
        row["_created"] = row["_modified"] = self.stamp()
        return self.store.put(self.otype.table, row)


def _as_property_string(value: Any) -> str | None:
    if value is None or value == "":
        return None  # HubSpot clears a property set to ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _problem(name: str, message: str, error: str) -> dict[str, Any]:
    return {
        "isValid": False,
        "message": message,
        "error": error,
        "name": name,
        "localizedErrorMessage": message,
    }
