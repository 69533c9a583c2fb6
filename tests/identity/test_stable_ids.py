from __future__ import annotations

import pandas as pd

from identity.stable_ids import assign_golden_ids, format_id


def clusters(groups: dict[str, list[str]]) -> pd.DataFrame:
    rows = [
        {"source_system": "s", "source_id": rid, "cluster": label}
        for label, ids in groups.items()
        for rid in ids
    ]
    return pd.DataFrame(rows)


def as_map(assignments: pd.DataFrame) -> dict[str, str]:
    return dict(zip(assignments["source_id"], assignments["golden_id"], strict=True))


def test_first_run_mints_sequential_ids_independent_of_row_order():
    a, aliases = assign_golden_ids(clusters({"x": ["1", "2"], "y": ["3"]}))
    b, _ = assign_golden_ids(clusters({"x": ["1", "2"], "y": ["3"]}).sample(frac=1, random_state=3))
    assert as_map(a) == as_map(b) == {"1": format_id(1), "2": format_id(1), "3": format_id(2)}
    assert aliases.empty


def test_rerun_keeps_ids_even_with_new_cluster_labels():
    first, _ = assign_golden_ids(clusters({"x": ["1", "2"], "y": ["3"]}))
    again, aliases = assign_golden_ids(clusters({"p": ["3"], "q": ["2", "1"]}), previous=first)
    assert as_map(again) == as_map(first) and aliases.empty


def test_majority_id_wins_and_new_records_join():
    prev = pd.DataFrame(
        {"source_system": "s", "source_id": ["1", "2", "3"], "golden_id": ["GC000000005"] * 3}
    )
    out, _ = assign_golden_ids(clusters({"c": ["1", "2", "3", "4"]}), previous=prev)
    assert set(out["golden_id"]) == {"GC000000005"}


def test_merge_oldest_wins_and_the_other_becomes_an_alias():
    prev = pd.DataFrame(
        {
            "source_system": "s",
            "source_id": ["1", "2", "3", "4"],
            "golden_id": ["GC000000007", "GC000000002", "GC000000007", "GC000000007"],
        }
    )
    out, aliases = assign_golden_ids(clusters({"c": ["1", "2", "3", "4"]}), previous=prev)
    assert set(out["golden_id"]) == {"GC000000002"}
    assert aliases.to_dict("records") == [{"alias_id": "GC000000007", "golden_id": "GC000000002"}]


def test_split_keeps_id_on_largest_part_and_mints_for_the_rest():
    prev = pd.DataFrame(
        {"source_system": "s", "source_id": ["1", "2", "3", "4", "5"], "golden_id": ["GC000000003"] * 5}
    )
    out, aliases = assign_golden_ids(
        clusters({"big": ["1", "2", "3"], "small": ["4", "5"], "new": ["6"]}), previous=prev
    )
    ids = as_map(out)
    assert ids["1"] == ids["2"] == ids["3"] == "GC000000003"
    assert ids["4"] == ids["5"] == "GC000000004"  # minted after the largest id seen
    assert ids["6"] == "GC000000005"
    assert aliases.empty


def test_previous_aliases_carry_forward_and_are_repointed():
    prev = pd.DataFrame(
        {"source_system": "s", "source_id": ["1", "2"], "golden_id": ["GC000000002", "GC000000001"]}
    )
    prev_aliases = pd.DataFrame({"alias_id": ["GC000000009"], "golden_id": ["GC000000002"]})
    out, aliases = assign_golden_ids(
        clusters({"c": ["1", "2"], "d": ["3"]}), previous=prev, previous_aliases=prev_aliases
    )
    assert set(as_map(out).values()) == {"GC000000001", "GC000000010"}  # no reuse of the alias number
    assert dict(zip(aliases.alias_id, aliases.golden_id, strict=True)) == {
        "GC000000002": "GC000000001",
        "GC000000009": "GC000000001",
    }
