"""Pages as Arrow tables (`ingestion.arrow`): typed as dlt types the same records from JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from dlt.extract.hints import HintsMeta
from dlt.extract.items import DataItemWithMeta

from ingestion.arrow import MixedColumnError, batched, json_columns, page_table, with_json_hints


def test_columns_are_the_union_of_keys_in_first_seen_order() -> None:
    table = page_table([{"id": "a", "amount": 1}, {"id": "b", "deleted": True, "amount": None}])
    assert table.column_names == ["id", "amount", "deleted"]
    assert table.to_pylist() == [
        {"id": "a", "amount": 1, "deleted": None},
        {"id": "b", "amount": None, "deleted": True},
    ]
    assert table.schema.field("amount").type == pa.int64()
    assert table.schema.field("deleted").type == pa.bool_()


def test_nested_values_become_json_text_columns() -> None:
    created = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    table = page_table(
        [
            {"id": "a", "metadata": {"k": "v", "n": 1}, "tags": ["x"], "at": created},
            {"id": "b", "metadata": None, "tags": "already text", "at": None},
        ]
    )
    assert json_columns(table) == ["metadata", "tags"]
    assert table.column("metadata").to_pylist() == ['{"k":"v","n":1}', None]  # as dlt writes JSON
    assert table.column("tags").to_pylist() == ['["x"]', "already text"]
    assert table.schema.field("at").type == pa.timestamp("us", tz="UTC")


def test_a_column_mixing_value_kinds_is_named() -> None:
    with pytest.raises(MixedColumnError) as failure:
        page_table([{"id": "a", "amount": 1}, {"id": "b", "amount": "1 unit"}])
    assert failure.value.column == "amount"


def test_json_columns_travel_as_hints() -> None:
    table = page_table([{"id": "a", "lines": [{"id": "l"}]}])
    item = with_json_hints(table)
    assert isinstance(item, DataItemWithMeta) and isinstance(item.meta, HintsMeta)
    assert item.meta.hints["columns"]["lines"]["data_type"] == "json"
    plain = page_table([{"id": "a"}])
    assert with_json_hints(plain) is plain


def test_batched_joins_pages_up_to_a_row_count() -> None:
    pages = [[{"id": 1}, {"id": 2}], [], [{"id": 3}], [{"id": 4}, {"id": 5}], []]
    assert list(batched(pages, rows=3)) == [
        (3, [{"id": 1}, {"id": 2}, {"id": 3}]),
        (5, [{"id": 4}, {"id": 5}]),
    ]
    assert list(batched([[], []], rows=3)) == []
