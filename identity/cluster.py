"""Transitive clusters from deterministic and probabilistic links (connected components).

Connected components run in DuckDB through Splink's maintained clustering
(`splink.clustering.cluster_pairwise_predictions_at_threshold`).
"""

from __future__ import annotations

import pandas as pd

from identity.deterministic import EDGE_COLUMNS

LINK_COLUMNS = [*EDGE_COLUMNS, "match_weight", "model", "evidence"]


def combine_links(
    deterministic: pd.DataFrame, probabilistic: pd.DataFrame, threshold: float | dict[str, float]
) -> pd.DataFrame:
    """Deterministic edges (probability 1.0) plus probabilistic edges at or above the threshold.

    `threshold` may be one number or {kind: number} when `probabilistic` carries a `kind` column
    (the model that scored the pair). A pair found both ways keeps the deterministic rule; a pair
    both models accepted (two records of uncertain kind) keeps the more confident model.
    Columns: uid_l, uid_r, match_probability, match_rule, match_weight, model, evidence.
    """
    prob = probabilistic
    if len(prob):
        if isinstance(threshold, dict):
            limit = prob["kind"].map(threshold).astype("float64")
        else:
            limit = float(threshold)
        prob = prob[prob["match_probability"] >= limit]
        prob = prob.assign(
            match_rule=pd.Series("probabilistic", index=prob.index, dtype="string"),
            model=(prob["kind"] if "kind" in prob.columns else pd.Series(pd.NA, index=prob.index)).astype(
                "string"
            ),
        )
        if "evidence" not in prob.columns:
            prob = prob.assign(evidence=pd.Series(pd.NA, index=prob.index, dtype="string"))
        prob = prob.sort_values("match_probability", ascending=False, kind="stable")
    det = deterministic.assign(
        match_weight=float("nan"),
        model=pd.Series(pd.NA, index=deterministic.index, dtype="string"),
        evidence=deterministic["match_rule"].astype("string"),
    )
    parts = [p[LINK_COLUMNS] for p in (det, prob) if len(p)]
    if not parts:
        return det[LINK_COLUMNS].iloc[0:0]
    edges = pd.concat(parts, ignore_index=True)
    lo = edges[["uid_l", "uid_r"]].min(axis=1)
    hi = edges[["uid_l", "uid_r"]].max(axis=1)
    edges = edges.assign(uid_l=lo.astype("int64"), uid_r=hi.astype("int64"))
    return edges.drop_duplicates(["uid_l", "uid_r"], keep="first").reset_index(drop=True)


def connected_components(uids: pd.Series, edges: pd.DataFrame) -> pd.Series:
    """cluster id (the smallest uid of the component) per uid, indexed by uid."""
    uid_values = pd.Series(uids, dtype="int64").to_numpy()
    if len(edges) == 0:
        return pd.Series(uid_values, index=uid_values, name="cluster")
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db_api = DuckDBAPI()
    con = db_api.duckdb_con
    con.execute("SET threads = 2")
    try:
        nodes = pd.DataFrame({"uid": uid_values})
        edge_frame = pd.DataFrame(
            {
                "uid_l": edges["uid_l"].astype("int64").to_numpy(),
                "uid_r": edges["uid_r"].astype("int64").to_numpy(),
            }
        )
        result = cluster_pairwise_predictions_at_threshold(
            nodes, edge_frame, db_api=db_api, node_id_column_name="uid"
        )
        frame = con.sql(f"select uid::BIGINT as uid, cluster_id from {result.physical_name}").df()
    finally:
        con.close()
    # Splink's cluster ids are representative node ids; normalise to the component's smallest uid.
    smallest = frame.groupby("cluster_id")["uid"].transform("min")
    return pd.Series(
        smallest.astype("int64").to_numpy(), index=frame["uid"].to_numpy(), name="cluster"
    ).reindex(uid_values)


def record_probability(uids: pd.Series, clusters: pd.Series, edges: pd.DataFrame) -> pd.DataFrame:
    """Per record: the strongest accepted link touching it (1.0 for deterministic; 1.0 for singletons,
    which are certain to be their own party) and the rule of that link."""
    uid_values = pd.Series(uids, dtype="int64").to_numpy()
    out = pd.DataFrame({"uid": uid_values})
    if len(edges):
        both = pd.concat(
            [
                edges[["uid_l", "match_probability", "match_rule"]].rename(columns={"uid_l": "uid"}),
                edges[["uid_r", "match_probability", "match_rule"]].rename(columns={"uid_r": "uid"}),
            ],
            ignore_index=True,
        )
        best = both.sort_values("match_probability", ascending=False, kind="stable").drop_duplicates("uid")
        out = out.merge(best, on="uid", how="left")
    else:
        out["match_probability"] = pd.Series(float("nan"), index=out.index)
        out["match_rule"] = pd.Series(pd.NA, index=out.index, dtype="string")
    out["match_probability"] = out["match_probability"].fillna(1.0).astype("float64")
    out["match_rule"] = out["match_rule"].astype("string").fillna("singleton")
    out["cluster"] = clusters.reindex(uid_values).to_numpy()
    return out
