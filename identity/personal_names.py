"""Does a bare `name` read as a person's name? Evidence for the party kind, never a verdict.

Given names and surnames come from Faker's per-locale person providers (a project dependency), folded
like our keys. A name reads as personal when it has two to four letter-only tokens, none of them an
organisation word or connector, and one of its tokens is a known given name or surname (either
order, so 'Smith John' and a typo in one part still read as personal).
"""

from __future__ import annotations

import importlib
from functools import lru_cache

import pandas as pd

LOCALES = (
    "en_US", "en_GB", "en_IE", "en_IN", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "es_ES", "es_MX",
    "it_IT", "nl_NL", "nl_BE", "pt_BR", "pt_PT", "pl_PL", "sv_SE", "da_DK", "no_NO", "fi_FI", "cs_CZ",
)  # fmt: skip
# Words that make a name an organisation's even without a legal form ("Smith Plumbing", "Smith,
# Jones and Brown"): trades and connectors.
ORG_WORDS: frozenset[str] = frozenset(
    """
    agency airlines alliance apartments associates association auto bakery bank bar bistro brewery
    builders cafe campground care center centre church city clinic club college community construction
    consulting council county credit dds dental depot design development diner district education
    electric energy engineering enterprises equipment estate express family farm farms financial fitness
    foods foundation fund garage gallery global group health hospital hotel house industries institute
    insurance international investments lab labs landscaping law logistics management manufacturing
    market media medical ministries motors museum network office partners pharmacy plumbing press
    productions properties realty repair research resources restaurant salon school service services
    shop solutions store studio studios supply systems tech technologies trading transport travel
    trust university ventures wireless works
    and und et of the for in at on by
    """.split()
)


@lru_cache(maxsize=1)
def name_lists() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), folded to lower-case ASCII letters."""
    from identity.normalize import person_name

    given: set[str] = set()
    surnames: set[str] = set()
    for locale in LOCALES:
        try:
            provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        except ImportError:
            continue
        for attr, into in (
            ("first_names", given),
            ("first_names_male", given),
            ("first_names_female", given),
            ("last_names", surnames),
        ):
            values = getattr(provider, attr, None) or ()
            into.update(values.keys() if isinstance(values, dict) else values)

    def folded(values: set[str]) -> frozenset[str]:
        keys = person_name(pd.Series(sorted(values), dtype="string")).dropna()
        return frozenset(t for v in keys for t in v.split() if len(t) > 1)

    return folded(given), folded(surnames)


def _tokens(value: object) -> list[str] | None:
    """The tokens of a name that could be a person's (1-4 letter-only tokens, no organisation word
    or connector), else None."""
    if not isinstance(value, str):
        return None
    tokens = value.split()
    if not 1 <= len(tokens) <= 4 or any(not t.isalpha() or t in ORG_WORDS for t in tokens):
        return None
    return tokens


def could_be_person(name: pd.Series) -> pd.Series:
    """True where a (`clean_text`-normalised) name has the shape of a personal name."""
    return name.map(lambda v: _tokens(v) is not None).astype(bool)


def reads_as_person(name: pd.Series) -> pd.Series:
    """True where a (`clean_text`-normalised) name has that shape, two tokens at least, and one of
    them is a known given name or surname."""
    given, surnames = name_lists()

    def check(value: object) -> bool:
        tokens = _tokens(value)
        return bool(tokens) and len(tokens) >= 2 and any(t in given or t in surnames for t in tokens)

    return name.map(check).astype(bool)
