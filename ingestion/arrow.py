"""Pages of records as Arrow tables, typed the way dlt types the same records from JSON.

A source that yields Arrow tables instead of lists of dicts skips dlt's row-by-row normalizer (which
re-parses every extracted row, infers and coerces every value and serialises every nested object
again): the extracted parquet goes to the loader as is. For wide, nested vendor objects (Stripe) that
normalizer cost more than fetching the pages. `page_table` builds one table from the records of one page
(or of a few pages, `batched`), column by column:

- the columns are the union of the records' keys, in first-seen order (a key missing in a record is
  null there; `pa.Table.from_pylist` would keep only the first record's keys);
- a column holding a dict or list anywhere is a `json` column: its objects are serialised as dlt
  serialises them (orjson, strings left as they are) and its Arrow field carries `JSON_METADATA`, which
  `with_json_hints` turns into a `{"data_type": "json"}` hint (Arrow has no JSON type; without the
  hint the column would be `text`);
- other columns take Arrow's inference: int -> bigint, float -> double, bool, str -> text,
  tz-aware datetime -> timestamp (UTC). Unlike dlt's JSON normalizer, no ISO-timestamp detection on
  strings (convert such fields, or declare them, in the source), and `Decimal`s get a per-batch
  precision. A column with only nulls in a batch is dropped by dlt, as the JSON normalizer drops it.
  Values of two kinds in one column (an int beside a string) cannot share a column:
  `MixedColumnError` names the column, where the JSON normalizer would have made a variant column
  that the frozen data-type contract rejects.

Resources yield `with_json_hints(page_table(records))`, and the pipelines (`ingestion.pipeline`) add
`_dlt_load_id` / `_dlt_id` to Arrow items, so the tables look the same as when loaded from lists of
dicts. dlt checks Arrow items against the schema contract too: a column whose type changes from one
run (or page) to the next fails with the frozen data type.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import dlt
import orjson
import pyarrow as pa
from dlt.extract.hints import HintsMeta
from dlt.extract.items import DataItemWithMeta

BATCH_ROWS = 1000
JSON_METADATA = {b"syncline.data_type": b"json"}
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS
_JSON_FIELD_KEY = b"syncline.data_type"


class MixedColumnError(ValueError):
    """A column whose values have types that do not fit one Arrow (dlt) type."""

    def __init__(self, column: str, detail: str) -> None:
        self.column = column
        super().__init__(f"column {column!r} mixes value types ({detail})")


def _columns(records: list[dict]) -> tuple[list[str], list[Any]]:
    """Column names and value sequences. Records of one object type usually share their keys in one
    order (a vendor renders them from one template): then a C-level transpose; otherwise the union."""
    names = tuple(records[0]) if records else ()
    if all(tuple(record) == names for record in records):
        return list(names), list(zip(*(record.values() for record in records), strict=True))
    keys: dict[str, None] = {}
    for record in records:
        keys.update(dict.fromkeys(record))
    return list(keys), [[record.get(key) for record in records] for key in keys]


def page_table(records: list[dict]) -> pa.Table:
    """The records of one page as an Arrow table (see the module docstring for the typing)."""
    names, columns = _columns(records)
    fields: list[pa.Field] = []
    arrays: list[pa.Array] = []
    for name, values in zip(names, columns, strict=True):
        kinds = set(map(type, values))
        if dict in kinds or list in kinds:
            # as dlt's writers serialise JSON values (strings are kept as they are); bytes go to
            # Arrow's string type as UTF-8 without a decode
            texts = [
                v if v is None or type(v) is str else orjson.dumps(v, option=_JSON_OPTIONS) for v in values
            ]
            arrays.append(pa.array(texts, type=pa.string()))
            fields.append(pa.field(name, pa.string(), metadata=JSON_METADATA))
            continue
        try:
            array = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
            raise MixedColumnError(name, str(exc)) from None
        arrays.append(array)
        fields.append(pa.field(name, array.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def batched(pages: Iterable[list[dict]], rows: int = BATCH_ROWS) -> Iterator[tuple[int, list[dict]]]:
    """The records of consecutive pages joined into batches of at least `rows` records (the last one
    may be smaller; no empty batch), each with the number of its last page. dlt computes the table
    schema and checks the contract once per Arrow item: per page of 100 that cost as much as the rest."""
    batch: list[dict] = []
    number = 0
    for number, page in enumerate(pages, 1):
        batch.extend(page)
        if len(batch) >= rows:
            yield number, batch
            batch = []
    if batch:
        yield number, batch


def json_columns(table: Any) -> list[str]:
    """Names of the columns `page_table` marked as JSON."""
    schema = getattr(table, "schema", None)
    if not isinstance(schema, pa.Schema):
        return []
    return [f.name for f in schema if f.metadata and f.metadata.get(_JSON_FIELD_KEY) == b"json"]


def with_json_hints(table: pa.Table, meta: HintsMeta | None = None) -> Any:
    """`table` as a dlt item whose hints type its JSON columns `json` (Arrow has no JSON type; without
    the hint they would be `text`). dlt merges the hints into the resource before it computes the
    table schema from the item. `meta`: a `HintsMeta` subclass to carry (and fill) instead."""
    columns = {name: {"data_type": "json"} for name in json_columns(table)}
    if meta is None:
        return dlt.mark.with_hints(table, dlt.mark.make_hints(columns=columns)) if columns else table
    meta.hints = dlt.mark.make_hints(columns=columns) if columns else {}
    return DataItemWithMeta(meta, table)
