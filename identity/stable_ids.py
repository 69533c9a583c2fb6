"""Stable golden ids across runs (pure functions, no I/O).

Given this run's clusters and the previous run's (source_system, source_id) -> golden_id:
- a cluster keeps the id most of its previously-known members had (ties: the oldest id);
- on a merge (members carried several ids) the oldest id wins; the other ids become aliases of it,
  unless they live on elsewhere (a split part keeps them);
- on a split each previous id stays with its largest part; the other parts get new ids
  (or another previous id they carried);
- new clusters get new ids, minted after the largest id ever seen.

Ids are 'GC' + zero-padded sequence, so string order is age order ('GC0000012' is older than
'GC0000100'). Foreign ids from other schemes are accepted and sorted after same-length strings.
"""

from __future__ import annotations

import re

import pandas as pd

ID_PREFIX = "GC"
ID_WIDTH = 9
_ID_RE = re.compile(rf"^{ID_PREFIX}(\d+)$")


def format_id(seq: int) -> str:
    return f"{ID_PREFIX}{seq:0{ID_WIDTH}d}"


def id_age_key(golden_id: str) -> tuple[int, int, str]:
    """Sort key: smaller is older. Sequence ids by number, anything else after, by text."""
    m = _ID_RE.match(golden_id)
    return (0, int(m.group(1)), "") if m else (1, 0, golden_id)


def _max_sequence(ids: pd.Series) -> int:
    nums = ids.dropna().astype(str).str.extract(rf"^{ID_PREFIX}(\d+)$", expand=False).dropna()
    return int(nums.astype("int64").max()) if len(nums) else 0


def assign_golden_ids(
    clusters: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    previous_aliases: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Golden id per record.

    clusters: source_system, source_id, cluster (any hashable cluster label).
    previous: source_system, source_id, golden_id from the last run (may be None/empty).
    previous_aliases: alias_id, golden_id from the last run; carried forward (re-pointed when the id
        they point at is itself merged away), and their ids are never minted again.

    Returns (assignments: source_system, source_id, golden_id; aliases: alias_id, golden_id).
    Deterministic: the result does not depend on row order.
    """
    keys = ["source_system", "source_id"]
    frame = clusters[keys + ["cluster"]].copy()
    frame["source_system"] = frame["source_system"].astype(str)
    frame["source_id"] = frame["source_id"].astype(str)
    if previous is not None and len(previous):
        prev = previous[keys + ["golden_id"]].copy()
        prev["source_system"] = prev["source_system"].astype(str)
        prev["source_id"] = prev["source_id"].astype(str)
        prev["golden_id"] = prev["golden_id"].astype(str)
        frame = frame.merge(prev.drop_duplicates(keys), on=keys, how="left")
    else:
        frame["golden_id"] = pd.Series(pd.NA, index=frame.index, dtype="object")
    frame["old_id"] = frame.pop("golden_id")

    # Votes: how many members of each cluster carried each previous id.
    known = frame.dropna(subset=["old_id"])
    votes = known.groupby(["cluster", "old_id"]).size().rename("votes").reset_index()
    size = frame.groupby("cluster").size().rename("size")
    votes = votes.join(size, on="cluster")
    votes["age"] = votes["old_id"].map(id_age_key)
    # Smallest cluster label among equal candidates, by a stable representation of the members.
    rep = (
        frame.assign(member=frame["source_system"] + "\x1f" + frame["source_id"])
        .groupby("cluster")["member"]
        .min()
    )
    votes["rep"] = votes["cluster"].map(rep)

    # Each previous id goes to the cluster holding most of its members (a split keeps it on the
    # largest part; ties -> bigger cluster, then a stable member key).
    claims = votes.sort_values(
        ["old_id", "votes", "size", "rep"], ascending=[True, False, False, True], kind="stable"
    )
    owner = claims.drop_duplicates("old_id")[["old_id", "cluster", "votes", "age"]]
    # A cluster that owns several ids (a merge) keeps the one most of its members had, oldest on ties...
    # ...the design says on a merge the oldest id wins, so prefer age over votes among owned ids.
    owned = owner.sort_values(["cluster", "age"], kind="stable")
    kept = owned.drop_duplicates("cluster")
    winners = dict(zip(kept["cluster"], kept["old_id"], strict=True))
    losers = owned[~owned["old_id"].isin(kept["old_id"])]

    # Clusters with no owned id: new ids, in a row-order-independent order.
    next_seq = max(
        _max_sequence(frame["old_id"]),
        _max_sequence(previous_aliases["alias_id"])
        if previous_aliases is not None and len(previous_aliases)
        else 0,
        _max_sequence(previous_aliases["golden_id"])
        if previous_aliases is not None and len(previous_aliases)
        else 0,
    )
    need = rep[~rep.index.isin(list(winners))].sort_values(kind="stable")
    for cluster in need.index:
        next_seq += 1
        winners[cluster] = format_id(next_seq)

    frame["golden_id"] = frame["cluster"].map(winners).astype("string")
    assignments = frame[keys + ["golden_id"]].reset_index(drop=True)

    alias_rows = pd.DataFrame(
        {
            "alias_id": losers["old_id"].astype(str).to_numpy(),
            "golden_id": losers["cluster"].map(winners).astype(str).to_numpy(),
        }
    )
    # Ids that disappeared entirely (no member left in any cluster that claims them) are not aliases;
    # previous aliases carry forward, re-pointed through this run's merges.
    if previous_aliases is not None and len(previous_aliases):
        redirect = dict(zip(alias_rows["alias_id"], alias_rows["golden_id"], strict=True))
        carried = previous_aliases[["alias_id", "golden_id"]].astype(str).copy()
        carried["golden_id"] = carried["golden_id"].map(lambda g: redirect.get(g, g))
        alias_rows = pd.concat([carried, alias_rows], ignore_index=True)
    live = set(assignments["golden_id"].dropna())
    alias_rows = alias_rows[~alias_rows["alias_id"].isin(live)]
    alias_rows = alias_rows.drop_duplicates("alias_id", keep="last")
    alias_rows = alias_rows.sort_values(
        "alias_id", key=lambda s: s.map(id_age_key), kind="stable"
    ).reset_index(drop=True)
    return assignments, alias_rows.astype({"alias_id": "string", "golden_id": "string"})
