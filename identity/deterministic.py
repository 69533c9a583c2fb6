"""Deterministic links: keys that, when equal, make two records one party without scoring.

Rules (each only between records of the same kind, person or organisation; a record of uncertain
kind, 'either', takes part as both):
- `tax_id`: equal normalised tax id, and the same country when both countries are known, between
  records that are organisations for sure: a person's tax id is strong evidence for the model, not
  a key, because household members' ids get copied between their records (the model weighs names
  and dates too);
- `email`: equal exact (normalised) email address (for organisations not at a free-mail provider);
- `domain`: equal web/email domain for organisations (free-mail and platform domains never count);
- `cross_reference`: explicit pairs from the caller (e.g. the ERP number stored in the CRM).

Equal-key groups are emitted as star edges to the group's smallest uid, so a key shared by k
records costs k-1 edges, not k^2/2; connected components are the same.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from identity.normalize import is_free_mail, records_of_kind

EDGE_COLUMNS = ["uid_l", "uid_r", "match_probability", "match_rule"]
CROSS_REFERENCE_COLUMNS = ["source_system_l", "source_id_l", "source_system_r", "source_id_r"]

# Hosting and social platforms: many unrelated organisations share these "domains".
PLATFORM_DOMAINS: frozenset[str] = frozenset(
    """
    facebook.com linkedin.com twitter.com x.com instagram.com youtube.com tiktok.com wixsite.com wix.com
    blogspot.com wordpress.com squarespace.com godaddysites.com weebly.com yelp.com google.com
    sites.google.com github.io github.com gitlab.io medium.com substack.com shopify.com myshopify.com
    linktr.ee carrd.co webnode.com jimdo.com strikingly.com business.site amazonaws.com herokuapp.com
    netlify.app vercel.app
    """.split()
)
# Mailbox names that are placeholders rather than identities.
PLACEHOLDER_EMAIL_USERS: frozenset[str] = frozenset(
    {
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "none",
        "na",
        "n/a",
        "null",
        "test",
        "unknown",
        "nobody",
    }
)


def empty_edges() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "uid_l": pd.Series(dtype="int64"),
            "uid_r": pd.Series(dtype="int64"),
            "match_probability": pd.Series(dtype="float64"),
            "match_rule": pd.Series(dtype="string"),
        }
    )


def _star_edges(uids: pd.Series, keys: pd.Series, rule: str, max_group_size: int | None) -> pd.DataFrame:
    frame = pd.DataFrame({"uid": uids.to_numpy(), "key": keys.to_numpy()}).dropna()
    if frame.empty:
        return empty_edges()
    size = frame.groupby("key")["uid"].transform("size")
    frame = frame[size > 1]
    if max_group_size:
        frame = frame[frame.groupby("key")["uid"].transform("size") <= max_group_size]
    if frame.empty:
        return empty_edges()
    root = frame.groupby("key")["uid"].transform("min")
    edges = pd.DataFrame({"uid_l": root.to_numpy(), "uid_r": frame["uid"].to_numpy()})
    edges = edges[edges.uid_l != edges.uid_r].astype("int64")
    edges["match_probability"] = 1.0
    edges["match_rule"] = pd.Series(rule, index=edges.index, dtype="string")
    return edges


def tax_id_keys(norm: pd.DataFrame) -> pd.Series:
    """kind|tax_id|country; a record without a country borrows the country of its tax-id group when
    that group has exactly one known country (and stays out when it has several)."""
    tax = norm["tax_id_norm"]
    country = norm["country_norm"]
    base = norm["kind"] + "|" + tax
    known = pd.DataFrame({"base": base, "country": country}).dropna()
    countries = known.groupby("base")["country"].agg(lambda s: s.unique().tolist())
    single = countries[countries.map(len) == 1].map(lambda v: v[0])
    borrowed = base.map(single).astype("string")
    filled = country.fillna(borrowed)
    ambiguous = country.isna() & borrowed.isna() & base.isin(countries.index)
    key = (base + "|" + filled.fillna("")).mask(ambiguous, pd.NA)
    return key.astype("string")


def cross_reference_edges(
    norm: pd.DataFrame, cross_references: pd.DataFrame | Iterable | None
) -> pd.DataFrame:
    """Edges for explicit (source_system_l, source_id_l, source_system_r, source_id_r) pairs; pairs that
    name a record not in the input are ignored."""
    if cross_references is None:
        return empty_edges()
    xref = (
        cross_references
        if isinstance(cross_references, pd.DataFrame)
        else pd.DataFrame(list(cross_references), columns=CROSS_REFERENCE_COLUMNS)
    )
    missing = [c for c in CROSS_REFERENCE_COLUMNS if c not in xref.columns]
    if missing:
        raise ValueError(f"cross_references is missing column(s): {', '.join(missing)}")
    if xref.empty:
        return empty_edges()
    index = pd.Series(
        norm["uid"].to_numpy(),
        index=pd.MultiIndex.from_arrays([norm["source_system"].astype(str), norm["source_id"].astype(str)]),
    )

    def lookup(system: pd.Series, ident: pd.Series) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([system.astype(str), ident.astype(str)])
        return pd.Series(index.reindex(keys).to_numpy(), index=xref.index)

    left = lookup(xref["source_system_l"], xref["source_id_l"])
    right = lookup(xref["source_system_r"], xref["source_id_r"])
    ok = left.notna() & right.notna() & (left != right)
    lo = pd.concat([left[ok], right[ok]], axis=1).min(axis=1).astype("int64")
    hi = pd.concat([left[ok], right[ok]], axis=1).max(axis=1).astype("int64")
    edges = pd.DataFrame({"uid_l": lo.to_numpy(), "uid_r": hi.to_numpy()}).drop_duplicates()
    edges["match_probability"] = 1.0
    edges["match_rule"] = pd.Series("cross_reference", index=edges.index, dtype="string")
    return edges


def deterministic_links(
    norm: pd.DataFrame,
    cross_references: pd.DataFrame | Iterable | None = None,
    *,
    max_group_size: int | None = 1000,
) -> pd.DataFrame:
    """All deterministic edges (uid_l, uid_r, match_probability=1.0, match_rule).

    `max_group_size` skips a key shared by more records than this (a shared placeholder email or a
    reseller's domain is not one party); None disables the guard.
    """
    orgs = records_of_kind(norm, "org")
    people = records_of_kind(norm, "person")
    # Tax ids key organisations only; a record that may be a person (household members' ids get
    # copied between their records) leaves its tax id to the models.
    firm = norm[norm["kind"] == "org"]
    parts = [_star_edges(firm["uid"], tax_id_keys(firm), "tax_id", max_group_size)]
    for kind, view in (("org", orgs), ("person", people)):
        mail = view["email_norm"].mask(view["email_user"].isin(PLACEHOLDER_EMAIL_USERS).fillna(False), pd.NA)
        # For organisations a shared free-mail mailbox (a bookkeeper's gmail used for several small
        # companies) is evidence for the model, not a deterministic key; for people it is a key.
        if kind == "org":
            mail = mail.mask(is_free_mail(view["email_domain"]), pd.NA)
        parts.append(_star_edges(view["uid"], kind + "|" + mail, "email", max_group_size))

    domain = orgs["domain_norm"].mask(orgs["domain_norm"].isin(PLATFORM_DOMAINS).fillna(False), pd.NA)
    parts.append(_star_edges(orgs["uid"], domain, "domain", max_group_size))

    parts.append(cross_reference_edges(norm, cross_references))
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_edges()
    edges = pd.concat(parts, ignore_index=True)
    # One row per pair; keep the first rule in priority order above.
    return edges.drop_duplicates(["uid_l", "uid_r"], keep="first").reset_index(drop=True)
