"""`match_parties`: the one code path from party records to golden ids."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from identity.cluster import combine_links, connected_components, record_probability
from identity.deterministic import deterministic_links
from identity.normalize import normalize_parties
from identity.probabilistic import SOFT_FLOOR_BITS, ModelConfig, probabilistic_links
from identity.schema import validate_parties
from identity.stable_ids import assign_golden_ids
from identity.thresholds import choose_threshold

logger = logging.getLogger(__name__)

ASSIGNMENT_COLUMNS = ["source_system", "source_id", "golden_id", "match_probability", "match_rule"]
# model: which model accepted a probabilistic link (person | org); evidence: its comparisons and
# their weights in bits (or the deterministic rule); match_weight: the model's total in bits (null
# for a deterministic link).
LINK_OUTPUT_COLUMNS = [
    "source_system_l",
    "source_id_l",
    "source_system_r",
    "source_id_r",
    "match_probability",
    "match_rule",
    "match_weight",
    "model",
    "evidence",
]
DEFAULT_THRESHOLDS = {"org": 0.85, "person": 0.9}


@dataclass
class MatchResult:
    """assignments: one row per input record (source_system, source_id, golden_id, match_probability,
    match_rule); aliases: alias_id -> golden_id for ids merged away (this run and carried forward);
    links: the accepted pairwise links (source keys both sides, probability, rule, weight, the model
    that accepted it and the evidence), for audit; thresholds: the probability threshold each model
    used; threshold_sources: how it was chosen (given | expected_f1 | default)."""

    assignments: pd.DataFrame
    aliases: pd.DataFrame
    links: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)
    threshold_sources: dict[str, str] = field(default_factory=dict)


def match_parties(
    df: pd.DataFrame,
    previous: pd.DataFrame | None = None,
    cross_references: pd.DataFrame | Iterable | None = None,
    *,
    previous_aliases: pd.DataFrame | None = None,
    thresholds: dict[str, float] | None = None,
    probabilistic: bool = True,
    config: dict[str, ModelConfig] | None = None,
    progress: Callable[[str], None] | None = None,
) -> MatchResult:
    """Resolve party records (see `identity.schema`) into golden ids.

    previous: last run's assignments (source_system, source_id, golden_id) for stable ids.
    cross_references: explicit same-party pairs (source_system_l, source_id_l, source_system_r,
        source_id_r), e.g. the ERP number referenced from the CRM.
    thresholds: match probability needed for a probabilistic link, per kind ("org", "person");
        without one, each model's threshold is read off its own match weights (identity.thresholds).
    match_probability per record: 1.0 for a deterministic link or a singleton, else the strongest
    accepted probabilistic link of the record. match_rule: tax_id | email | domain |
    cross_reference | probabilistic | singleton.
    """
    say = progress or (lambda msg: logger.info(msg))
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    parties = validate_parties(df)
    norm = normalize_parties(parties)
    timings["normalize"] = time.perf_counter() - t0
    say(f"normalised {len(norm):,} records")

    t = time.perf_counter()
    det = deterministic_links(norm, cross_references)
    timings["deterministic"] = time.perf_counter() - t
    say(f"{len(det):,} deterministic links")

    # A threshold the caller gives is kept; otherwise each model's is read off its own match
    # probabilities on this data (identity.thresholds), the default standing only for tiny inputs.
    limits = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    chosen = {kind: "given" if kind in (thresholds or {}) else "default" for kind in DEFAULT_THRESHOLDS}
    config = config or {}
    scored = []
    if probabilistic:
        for kind in ("org", "person"):
            count = int(((norm["kind"] == kind) | (norm["kind"] == "either")).sum())
            if count < 2:
                continue
            t = time.perf_counter()
            say(f"scoring {count:,} {kind} records with Splink")
            pairs = probabilistic_links(norm, kind, config.get(kind))
            if kind == "org":
                # Two bare personal names: the organisation model may link them only when the names
                # agree and nothing else speaks against it beyond one other site (a second
                # disagreement: another phone, tax id, ...). It takes a shared tax id or address as
                # the company's, which for two members of one household is no evidence.
                either = norm.loc[norm["kind"] == "either", "uid"]
                both = pairs["uid_l"].isin(either) & pairs["uid_r"].isin(either)
                corroborated = (pairs["name_weight"] > 0) & (
                    pairs["match_weight_without_name"] >= SOFT_FLOOR_BITS
                )
                pairs = pairs[~both | corroborated]
            timings[f"probabilistic_{kind}"] = time.perf_counter() - t
            if chosen[kind] != "given":
                limits[kind], chosen[kind] = choose_threshold(pairs["match_probability"], limits[kind])
            scored.append(pairs.assign(kind=kind))
            say(
                f"{int((pairs['match_probability'] >= limits[kind]).sum()):,} {kind} pairs above "
                f"{limits[kind]:.4f} ({chosen.get(kind, 'default')})"
            )
    prob = (
        pd.concat(scored, ignore_index=True)
        if scored
        else pd.DataFrame(columns=["uid_l", "uid_r", "match_probability", "match_weight", "evidence", "kind"])
    )

    t = time.perf_counter()
    edges = combine_links(det, prob, limits)
    clusters = connected_components(norm["uid"], edges)
    per_record = record_probability(norm["uid"], clusters, edges)
    timings["cluster"] = time.perf_counter() - t

    keyed = norm[["uid", "source_system", "source_id"]].merge(per_record, on="uid", how="left")
    assignments, aliases = assign_golden_ids(keyed, previous, previous_aliases)
    out = keyed.merge(assignments, on=["source_system", "source_id"], how="left")
    out = out[ASSIGNMENT_COLUMNS].astype(
        {"source_system": "string", "source_id": "string", "golden_id": "string", "match_rule": "string"}
    )
    key_of = norm.set_index("uid")[["source_system", "source_id"]]
    links = edges.join(key_of.add_suffix("_l"), on="uid_l").join(key_of.add_suffix("_r"), on="uid_r")
    links = links[LINK_OUTPUT_COLUMNS]
    timings["total"] = time.perf_counter() - t0
    say(f"{out['golden_id'].nunique():,} golden ids for {len(out):,} records")
    return MatchResult(
        assignments=out.reset_index(drop=True),
        aliases=aliases,
        links=links.reset_index(drop=True),
        timings=timings,
        thresholds=limits,
        threshold_sources=chosen,
    )
