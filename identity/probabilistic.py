"""Probabilistic links with Splink 5 on DuckDB, trained without labels.

People and organisations get separate models (own comparisons, blocking rules and thresholds); a
record of uncertain kind ('either': a bare personal name) is scored by both:
- organisations: name (whole, sorted tokens, containment, shared token) with its m-probabilities at
  the priors; domain; phone and location (address, postal code, city as one comparison) as soft
  evidence, floored at SOFT_FLOOR_BITS, since one company has several sites; email, country, tax id.
- people: first name (TF), surname and household as one comparison (TF on a bare surname match),
  date of birth, email, country, tax id; disagreement on first name, birth date and tax id keeps a
  fixed, strong penalty, as these are what tell relatives apart.

Every comparison level carries prior m/u values, so the model is usable on tiny inputs. With enough
records it is trained: lambda from deterministic rules, u by random sampling (then corrected for the
matches among random pairs), m by EM on a few blocking rules; term frequencies are counted over
distinct names. A training step that fails (e.g. no pairs under a rule) keeps the priors.
"""

from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from identity.normalize import records_of_kind

logger = logging.getLogger(__name__)

# Columns handed to Splink (the rest of the normalised frame stays in pandas).
MODEL_COLUMNS = [
    "uid",
    "name_norm",
    "name_sorted",
    "name_tok1",
    "name_tok_last",
    "name_prefix",
    "first_name_norm",
    "last_name_norm",
    "email_norm",
    "email_user",
    "domain_norm",
    "phone_norm",
    "address_norm",
    "address_num",
    "city_norm",
    "postal_norm",
    "postal_prefix",
    "country_norm",
    "tax_id_norm",
    "dob_norm",
]


@dataclass
class ModelConfig:
    """Knobs of one model (one per party kind)."""

    threshold: float = 0.9
    min_records_to_train: int = 1_000
    u_max_pairs: float = 2e6
    em_max_pairs: float = 1e6
    prior_recall: float = 0.6
    seed: int = 42
    threads: int = 2
    memory_limit: str | None = None
    predict_floor: float = 0.05  # pairs below this are not even returned
    extra: dict = field(default_factory=dict)


def _null(col: str) -> dict:
    return {
        "sql_condition": f'"{col}_l" IS NULL OR "{col}_r" IS NULL',
        "label_for_charts": "null",
        "is_null_level": True,
    }


def _level(sql: str, label: str, m: float, u: float, tf: str | None = None) -> dict:
    level = {"sql_condition": sql, "label_for_charts": label, "m_probability": m, "u_probability": u}
    if tf:
        level["tf_adjustment_column"] = tf
        level["tf_adjustment_weight"] = 1.0
    return level


def _else(m: float, u: float, fix_m: bool = False) -> dict:
    level = {"sql_condition": "ELSE", "label_for_charts": "else", "m_probability": m, "u_probability": u}
    if fix_m:
        level["fix_m_probability"] = True
    return level


def _exact(col: str, m: float, u: float, tf: bool = False) -> dict:
    return _level(f'"{col}_l" = "{col}_r"', "exact", m, u, tf=col if tf else None)


def _jw(col: str, t: float, m: float, u: float) -> dict:
    return _level(f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {t}', f"jaro-winkler >= {t}", m, u)


def _comparison(name: str, levels: list[dict]) -> dict:
    return {"output_column_name": name, "comparison_description": name, "comparison_levels": levels}


def _tokens(col: str, side: str) -> str:
    return f"string_split(\"{col}_{side}\", ' ')"


def _location() -> dict:
    """Address, postal code and city as one comparison: one site is one piece of evidence, not three
    (the same street address implies the same postal code and city)."""
    return _comparison(
        "location",
        [
            {
                "sql_condition": " AND ".join(
                    f'("{c}_l" IS NULL OR "{c}_r" IS NULL)'
                    for c in ("address_norm", "postal_norm", "city_norm")
                ),
                "label_for_charts": "null",
                "is_null_level": True,
            },
            _exact("address_norm", 0.6, 0.0005),
            _level(
                '"address_num_l" = "address_num_r" AND '
                'jaro_winkler_similarity("address_norm_l", "address_norm_r") >= 0.85',
                "same number, similar street",
                0.15,
                0.001,
            ),
            _level('"postal_norm_l" = "postal_norm_r"', "same postal code", 0.1, 0.005),
            _level(
                '"postal_prefix_l" = "postal_prefix_r" OR jaro_winkler_similarity("city_norm_l", "city_norm_r") >= 0.9',
                "same area",
                0.05,
                0.03,
            ),
            _else(0.1, 0.9635),
        ],
    )


def _shared_comparisons() -> list[dict]:
    """Contact, place and tax-id comparisons (organisations use all; people email, country, tax id)."""
    return [
        _comparison(
            "email",
            [
                _null("email_norm"),
                _exact("email_norm", 0.6, 0.0005),
                _level('"email_user_l" = "email_user_r"', "same mailbox name", 0.1, 0.002),
                _else(0.3, 0.9975),
            ],
        ),
        _comparison("phone", [_null("phone_norm"), _exact("phone_norm", 0.7, 0.0005), _else(0.3, 0.9995)]),
        _location(),
        _comparison("country", [_null("country_norm"), _exact("country_norm", 0.97, 0.2), _else(0.03, 0.8)]),
        _comparison(
            "tax_id",
            [
                _null("tax_id_norm"),
                _exact("tax_id_norm", 0.9, 0.00001),
                _level(
                    'damerau_levenshtein("tax_id_norm_l", "tax_id_norm_r") <= 1', "one edit", 0.05, 0.0005
                ),
                # One party has one tax id: EM on name blocks would learn namesakes' different ids
                # as normal for a match, so the prior stands.
                _else(0.05, 0.99949, fix_m=True),
            ],
        ),
    ]


def org_comparisons() -> list[dict]:
    l_tok, r_tok = _tokens("name_norm", "l"), _tokens("name_norm", "r")
    name = _comparison(
        "name",
        [
            _null("name_norm"),
            # Normalised (legal form, case, accents, '&' gone), most records of one company carry
            # the same name.
            _exact("name_norm", 0.7, 0.0005),
            _level(
                '"name_sorted_l" = "name_sorted_r" OR '
                'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.95',
                "same tokens or jw >= 0.95",
                0.12,
                0.001,
            ),
            _level(
                f'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.88 OR '
                f"list_has_all({l_tok}, {r_tok}) OR list_has_all({r_tok}, {l_tok})",
                "jw >= 0.88 or one name contains the other",
                0.1,
                0.005,
            ),
            _level(
                f"len(list_intersect({l_tok}, {r_tok})) >= 1 OR "
                'jaro_winkler_similarity("name_norm_l", "name_norm_r") >= 0.75',
                "a shared token or jw >= 0.75",
                0.05,
                0.05,
            ),
            # A company is known by its name: an unrelated name is strong evidence against.
            _else(0.003, 0.9435),
        ],
    )
    # The name's m-probabilities stay at the priors (u is still estimated): EM cannot learn them
    # for organisations, on name blocks it never sees a disagreement, on location blocks it learns
    # 'same site' (and shared buildings) rather than 'same company'.
    for level in name["comparison_levels"]:
        if not level.get("is_null_level"):
            level["fix_m_probability"] = True
    domain = _comparison(
        "domain",
        [
            _null("domain_norm"),
            _exact("domain_norm", 0.7, 0.0001),
            _level(
                "split_part(\"domain_norm_l\", '.', 1) = split_part(\"domain_norm_r\", '.', 1)",
                "same label, other TLD",
                0.1,
                0.0005,
            ),
            _else(0.2, 0.9994),
        ],
    )
    return [name, domain, *_shared_comparisons()]


# One company has several sites (and a phone per site): for organisations a different location or
# phone is weak evidence against, never a veto. EM on pairs that share a name learns 'same site'
# rather than 'same company', so after training the disagreement levels of these comparisons are
# floored at SOFT_FLOOR_BITS (agreement keeps its full weight).
ORG_SOFT_COMPARISONS = ("phone", "location")
SOFT_FLOOR_BITS = -1.0


def _surname_household() -> dict:
    """Surname, address, phone, postal code and city of a person as one comparison.

    Relatives living together share all of them: scored as independent comparisons they add up to
    a match on their own. As one comparison, the weight of 'same surname at the same address' is
    estimated from how often random pairs share both (a household), not the product of the two;
    only a bare surname match gets the surname's term frequency (within a household it says
    nothing more)."""
    same_address = (
        '("address_norm_l" = "address_norm_r" OR "phone_norm_l" = "phone_norm_r" OR '
        '("address_num_l" = "address_num_r" AND '
        'jaro_winkler_similarity("address_norm_l", "address_norm_r") >= 0.85))'
    )
    same_area = '("postal_norm_l" = "postal_norm_r" OR "city_norm_l" = "city_norm_r")'
    same_surname = '"last_name_norm_l" = "last_name_norm_r"'
    close_surname = (
        '(jaro_winkler_similarity("last_name_norm_l", "last_name_norm_r") >= 0.92 OR '
        '(least(length("last_name_norm_l"), length("last_name_norm_r")) >= 4 AND '
        '(contains("last_name_norm_l", "last_name_norm_r") OR contains("last_name_norm_r", "last_name_norm_l"))))'
    )
    some_surname = 'jaro_winkler_similarity("last_name_norm_l", "last_name_norm_r") >= 0.8'
    swapped = '"first_name_norm_l" = "last_name_norm_r" AND "last_name_norm_l" = "first_name_norm_r"'
    nulls = " AND ".join(
        f'("{c}_l" IS NULL OR "{c}_r" IS NULL)'
        for c in ("last_name_norm", "address_norm", "phone_norm", "postal_norm", "city_norm")
    )
    return _comparison(
        "surname_household",
        [
            {"sql_condition": nulls, "label_for_charts": "null", "is_null_level": True},
            _level(
                f"{same_surname} AND {same_address}",
                "same surname, same address",
                0.45,
                0.0005,
            ),
            _level(
                f"{same_surname} AND {same_area}", "same surname, same area", 0.2, 0.002, "last_name_norm"
            ),
            _level(same_surname, "same surname", 0.2, 0.003, "last_name_norm"),
            _level(f"{swapped} AND {same_address}", "swapped names, same address", 0.01, 0.0001),
            # Otherwise counted once, in first_name (which checks both names): neutral here.
            {
                **_level(swapped, "swapped with first name", 0.001, 0.001),
                "fix_m_probability": True,
                "fix_u_probability": True,
            },
            _level(f"{close_surname} AND {same_address}", "similar surname, same address", 0.04, 0.0002),
            _level(f"{close_surname} AND {same_area}", "similar surname, same area", 0.03, 0.0005),
            _level(close_surname, "similar surname", 0.04, 0.003),
            _level(f"({some_surname}) OR {same_address}", "jw >= 0.8 or same address", 0.02, 0.03),
            _else(0.03, 0.9613),
        ],
    )


def person_comparisons() -> list[dict]:
    """First name, date of birth and tax id are what tell relatives apart (they share surname,
    address and phone). Their 'else' (entirely different) m-probabilities are fixed at the priors:
    EM on blocks full of households would learn that relatives are matches whose first names and
    birth dates differ, and make these disagreements nearly free. An unrelated first name costs
    about 9 bits: enough to keep namesakes' relatives apart on surname and address, not always
    enough against a shared birth date or tax id (twins; household members whose records carry
    each other's), which a first name replaced or mistyped beyond recognition also shows."""
    first = _comparison(
        "first_name",
        [
            _null("first_name_norm"),
            _exact("first_name_norm", 0.8, 0.01, tf=True),
            _level(
                '"first_name_norm_l" = "last_name_norm_r" AND "last_name_norm_l" = "first_name_norm_r"',
                "swapped with surname",
                0.02,
                0.0001,
            ),
            _jw("first_name_norm", 0.92, 0.1, 0.005),
            _jw("first_name_norm", 0.8, 0.04, 0.03),
            _level(
                'left("first_name_norm_l", 1) = left("first_name_norm_r", 1) AND '
                '(length("first_name_norm_l") = 1 OR length("first_name_norm_r") = 1)',
                "initial",
                0.02,
                0.02,
            ),
            _else(0.002, 0.9349, fix_m=True),
        ],
    )
    dob = _comparison(
        "date_of_birth",
        [
            _null("dob_norm"),
            _exact("dob_norm", 0.85, 0.0003),
            _level('damerau_levenshtein("dob_norm_l", "dob_norm_r") <= 1', "one edit", 0.08, 0.005),
            _level(
                'left("dob_norm_l", 4) = left("dob_norm_r", 4) OR '
                'damerau_levenshtein("dob_norm_l", "dob_norm_r") <= 2',
                "same year or two edits",
                0.04,
                0.05,
            ),
            _else(0.03, 0.9447, fix_m=True),
        ],
    )
    shared = {c["output_column_name"]: c for c in _shared_comparisons()}
    tax_id = shared["tax_id"]
    tax_id["comparison_levels"][-1].update(m_probability=0.01, fix_m_probability=True)
    return [first, _surname_household(), dob, shared["email"], shared["country"], tax_id]


def _rules(*specs: str) -> list[str]:
    return list(specs)


def _eq(*cols: str) -> str:
    return " AND ".join(f'l."{c}" = r."{c}"' for c in cols)


ORG_PREDICT_RULES = _rules(
    _eq("name_norm"),
    _eq("name_sorted"),
    _eq("domain_norm"),
    _eq("phone_norm"),
    _eq("email_norm"),
    _eq("tax_id_norm"),
    _eq("name_tok1", "postal_norm"),
    _eq("name_tok1", "city_norm"),
    _eq("name_tok_last", "postal_norm"),
    _eq("name_prefix", "postal_prefix"),
    _eq("address_num", "postal_norm"),
)
ORG_PRIOR_RULES = _rules(
    _eq("name_norm", "postal_norm"),
    _eq("domain_norm"),
    _eq("tax_id_norm"),
    _eq("name_norm", "phone_norm"),
)
ORG_EM_RULES = _rules(_eq("name_norm"), _eq("postal_norm"), _eq("phone_norm"), _eq("domain_norm"))

PERSON_PREDICT_RULES = _rules(
    _eq("first_name_norm", "last_name_norm"),
    _eq("last_name_norm", "dob_norm"),
    _eq("first_name_norm", "dob_norm"),
    _eq("dob_norm", "postal_norm"),
    _eq("email_norm"),
    _eq("phone_norm"),
    _eq("tax_id_norm"),
    _eq("last_name_norm", "postal_norm"),
    'l."first_name_norm" = r."last_name_norm" AND l."last_name_norm" = r."first_name_norm"',
    'l."postal_norm" = r."postal_norm" AND left(l."first_name_norm", 2) = left(r."first_name_norm", 2)',
    _eq("address_norm"),
    _eq("last_name_norm", "city_norm"),
)
PERSON_PRIOR_RULES = _rules(
    _eq("first_name_norm", "last_name_norm", "dob_norm"),
    _eq("email_norm"),
    _eq("tax_id_norm"),
)
PERSON_EM_RULES = _rules(_eq("first_name_norm", "last_name_norm"), _eq("dob_norm"), _eq("tax_id_norm"))


@dataclass
class KindModel:
    comparisons: list[dict]
    predict_rules: list[str]
    prior_rules: list[str]
    em_rules: list[str]
    soft_comparisons: tuple[str, ...] = ()


MODELS: dict[str, KindModel] = {
    "org": KindModel(
        org_comparisons(), ORG_PREDICT_RULES, ORG_PRIOR_RULES, ORG_EM_RULES, ORG_SOFT_COMPARISONS
    ),
    "person": KindModel(person_comparisons(), PERSON_PREDICT_RULES, PERSON_PRIOR_RULES, PERSON_EM_RULES),
}


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uid_l": pd.Series(dtype="int64"),
            "uid_r": pd.Series(dtype="int64"),
            "match_probability": pd.Series(dtype="float64"),
            "match_weight": pd.Series(dtype="float64"),
            "evidence": pd.Series(dtype="string"),
            "name_weight": pd.Series(dtype="float64"),
            "match_weight_without_name": pd.Series(dtype="float64"),
        }
    )


def _used_columns(model: KindModel, frame: pd.DataFrame) -> tuple[list[dict], list[str]]:
    """Drop comparisons whose columns are entirely null (no evidence either way; EM cannot train them)
    and blocking rules on such columns."""
    empty = {c for c in MODEL_COLUMNS if c != "uid" and frame[c].isna().all()}

    def mentions_empty(sql: str) -> bool:
        return any(f'"{c}' in sql for c in empty)

    comps = [
        c
        for c in model.comparisons
        if not all(
            mentions_empty(lv["sql_condition"])
            for lv in c["comparison_levels"]
            if lv["sql_condition"] != "ELSE"
        )
    ]
    rules = [r for r in model.predict_rules if not mentions_empty(r)]
    return comps, rules


def _tf_columns(comparisons: list[dict]) -> list[str]:
    return sorted(
        {
            lv["tf_adjustment_column"]
            for c in comparisons
            for lv in c["comparison_levels"]
            if lv.get("tf_adjustment_column")
        }
    )


def _without_tf(comparisons: list[dict]) -> list[dict]:
    out = copy.deepcopy(comparisons)
    for comp in out:
        for level in comp["comparison_levels"]:
            level.pop("tf_adjustment_column", None)
            level.pop("tf_adjustment_weight", None)
    return out


def _identity_term_frequencies(frame: pd.DataFrame, col: str) -> pd.DataFrame:
    """Term frequencies of a name column counted over distinct names, not records.

    Splink's own table counts records, so a person held by four systems makes their name look four
    times as common. Here each distinct (first name, surname) counts once: a name is common when
    many different people carry it, not when one of them is duplicated."""
    names = frame[["first_name_norm", "last_name_norm"]].drop_duplicates()
    counts = names[col].dropna().value_counts()
    return pd.DataFrame(
        {col: counts.index.astype(str), f"tf_{col}": (counts / max(int(counts.sum()), 1)).to_numpy()}
    )


def _to_arrow(frame: pd.DataFrame) -> pa.Table:
    data = {"uid": pa.array(frame["uid"].to_numpy(), pa.int64())}
    for col in MODEL_COLUMNS[1:]:
        data[col] = pa.array(frame[col].astype(object).where(frame[col].notna(), None).tolist(), pa.string())
    return pa.table(data)


def _level_weights(linker) -> dict[str, list[tuple[str, float]]]:
    """(label, weight in bits) of each non-null level per comparison, as trained."""
    out = {}
    for comp in linker._settings_obj.comparisons:
        out[comp.output_column_name] = [
            (lv.label_for_charts, float(lv._log2_bayes_factor))
            for lv in comp.comparison_levels
            if not lv.is_null_level
        ]
    return out


def _evidence(scored: pd.DataFrame, levels: dict[str, list[tuple[str, float]]]) -> pd.Series:
    """Per pair, 'comparison=level(weight)' for every comparison with evidence, weights in bits
    (log2 Bayes factor, term-frequency adjustment included); the prior is the rest of match_weight.
    Splink keeps each comparison's weight, not its level, so the level is the one with that weight
    (a weight of 0 reads as no evidence: the null level)."""
    import numpy as np

    out = pd.Series("", index=scored.index, dtype="string")
    for name, by_level in levels.items():
        if f"mw_{name}" not in scored.columns or not by_level:
            continue
        base = scored[f"mw_{name}"].astype("float64").to_numpy()
        level_w = np.array([w for _, w in by_level])
        nearest = np.abs(base[:, None] - level_w[None, :]).argmin(axis=1)
        label = pd.Series(np.array([lbl for lbl, _ in by_level], dtype=object)[nearest], index=scored.index)
        weight = pd.Series(base, index=scored.index)
        if f"mw_tf_adj_{name}" in scored.columns:
            weight = weight + scored[f"mw_tf_adj_{name}"].astype("float64").fillna(0.0)
        text = (
            name
            + "="
            + label.astype("string")
            + "("
            + weight.map(lambda w: f"{w:+.1f}").astype("string")
            + ") "
        )
        out = out + text.where(base != 0.0, "")
    return out.str.strip()


def probabilistic_links(norm: pd.DataFrame, kind: str, config: ModelConfig | None = None) -> pd.DataFrame:
    """Scored pairs (uid_l, uid_r, match_probability, match_weight, evidence, name_weight,
    match_weight_without_name: the comparisons' weights split, prior left out) among records the
    `kind` model sees (that kind and 'either'), with match_probability >= config.predict_floor.
    The caller applies the link threshold."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    config = config or ModelConfig()
    model = MODELS[kind]
    frame = records_of_kind(norm, kind)[MODEL_COLUMNS]
    n = len(frame)
    if n < 2:
        return _empty_pairs()
    comparisons, predict_rules = _used_columns(model, frame)
    if not comparisons or not predict_rules:
        return _empty_pairs()
    if n < config.min_records_to_train:
        # Too few records to say which names are common: the priors alone.
        comparisons = _without_tf(comparisons)
    empty = {c for c in MODEL_COLUMNS if c != "uid" and frame[c].isna().all()}

    def usable(rules: list[str]) -> list[str]:
        return [r for r in rules if not any(f'"{c}"' in r for c in empty)]

    db_api = DuckDBAPI()
    con = db_api.duckdb_con
    con.execute(f"SET threads = {int(config.threads)}")
    con.execute("SET preserve_insertion_order = false")
    if config.memory_limit:
        con.execute(f"SET memory_limit = '{config.memory_limit}'")
    try:
        sdf = db_api.register(_to_arrow(frame), table_name=f"parties_{kind}")
        n_pairs = n * (n - 1) / 2
        settings = SettingsCreator(
            link_type="dedupe_only",
            unique_id_column_name="uid",
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=predict_rules,
            probability_two_random_records_match=min(0.5, max(1.0 / n_pairs, min(0.1, 1.0 / n))),
            retain_matching_columns=False,
            retain_intermediate_calculation_columns=True,
            max_iterations=20,
        )
        linker = Linker(sdf, settings, log_level=logging.WARNING)
        for col in _tf_columns(comparisons):
            lookup = pa.Table.from_pandas(_identity_term_frequencies(frame, col), preserve_index=False)
            linker.table_management.register_term_frequency_lookup(
                db_api.register(lookup, table_name=f"tf_{kind}_{col}"), col
            )
        _train(linker, model, n, config, usable)
        pairs = linker.inference.predict(
            threshold_match_probability=config.predict_floor, warning_mode="never"
        )
        names = [c["output_column_name"] for c in comparisons]
        present = set(con.sql(f"select * from {pairs.physical_name} limit 0").columns)
        extra = [f'"{c}"' for name in names for c in (f"mw_{name}", f"mw_tf_adj_{name}") if c in present]
        levels = _level_weights(linker)
        scored = con.sql(
            "select uid_l::BIGINT as uid_l, uid_r::BIGINT as uid_r, "
            "match_probability::DOUBLE as match_probability, match_weight::DOUBLE as match_weight"
            + "".join(f", {c}" for c in extra)
            + f" from {pairs.physical_name}"
        ).df()
    finally:
        con.close()
    out = scored[["uid_l", "uid_r", "match_probability", "match_weight"]].copy()
    out["evidence"] = _evidence(scored, levels)
    # The name's weight and that of everything else, prior left out: whether a name match is
    # corroborated by the other comparisons.
    parts = scored[[c for c in scored.columns if c.startswith("mw_")]].astype("float64").fillna(0.0)
    named = [c for c in parts.columns if c in ("mw_name", "mw_tf_adj_name")]
    out["name_weight"] = parts[named].sum(axis=1) if named else 0.0
    out["match_weight_without_name"] = parts.drop(columns=named).sum(axis=1)
    return out.reset_index(drop=True)


def _train(linker, model: KindModel, n: int, config: ModelConfig, usable) -> None:
    """Unsupervised training; every step is optional and falls back to the priors on failure."""
    prior_rules = usable(model.prior_rules)
    if prior_rules:
        try:
            linker.training.estimate_probability_two_random_records_match(
                prior_rules, recall=config.prior_recall
            )
            lam = linker._settings_obj._probability_two_random_records_match
            floor = 1.0 / (n * (n - 1) / 2)
            if not lam or lam <= floor or math.isnan(lam):
                lam = max(floor, min(0.1, 1.0 / n))
            linker._settings_obj._probability_two_random_records_match = min(0.5, lam)
        except Exception as exc:  # noqa: BLE001 - priors stay
            logger.info("lambda estimation skipped: %s", exc)
    if n < config.min_records_to_train:
        _soften(linker, model.soft_comparisons)
        return
    try:
        linker.training.estimate_u_using_random_sampling(
            max_pairs=min(config.u_max_pairs, n * (n - 1) / 2), seed=config.seed
        )
    except Exception as exc:  # noqa: BLE001
        logger.info("u estimation skipped: %s", exc)
    for rule in usable(model.em_rules):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=config.em_max_pairs, estimate_without_term_frequencies=True
            )
        except Exception as exc:  # noqa: BLE001
            logger.info("EM on %s skipped: %s", rule, exc)
    _deduplicate_u(linker)
    _soften(linker, model.soft_comparisons)


def _soften(linker, names: tuple[str, ...]) -> None:
    """Floor the weight of every level of the named comparisons at SOFT_FLOOR_BITS."""
    for comp in linker._settings_obj.comparisons:
        if comp.output_column_name not in names:
            continue
        for lv in comp.comparison_levels:
            if lv.is_null_level:
                continue
            m, u = float(lv.m_probability), float(lv.u_probability)
            if m <= 0 or math.log2(m / u) < SOFT_FLOOR_BITS:
                lv.m_probability = min(1.0, u * 2.0**SOFT_FLOOR_BITS)


def _deduplicate_u(linker) -> None:
    """Take the true matches out of the u-probabilities.

    u is estimated on random pairs, and when records are heavily duplicated (one company in four
    systems and at several sites) a share lambda of those pairs are matches: u_sampled = lambda * m +
    (1 - lambda) * u. Solving for u keeps a name that repeats only because it is duplicated from
    looking common. The correction is bounded (u shrinks at most 20-fold) so a noisy lambda or m
    cannot make a level infinitely strong."""
    lam = float(linker._settings_obj._probability_two_random_records_match or 0.0)
    if not 0.0 < lam < 0.5:
        return
    for comp in linker._settings_obj.comparisons:
        # Levels with a fixed u (neutral by design) keep it.
        levels = [lv for lv in comp.comparison_levels if not lv.is_null_level and not lv._fix_u_probability]
        try:
            pairs = [(lv, float(lv.m_probability), float(lv.u_probability)) for lv in levels]
        except (TypeError, ValueError):
            continue
        fixed = [max((u - lam * m) / (1.0 - lam), u / 20.0) for _, m, u in pairs]
        total = sum(fixed)
        mass = sum(u for _, _, u in pairs)
        if total <= 0:
            continue
        for (lv, _, _), u in zip(pairs, fixed, strict=True):
            lv.u_probability = min(1.0, u * mass / total)
