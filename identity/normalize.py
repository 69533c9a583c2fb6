"""Pure, vectorised normalisation of party records into comparable keys.

Input: a frame that passed `schema.validate_parties`. Output: one row per record with a dense
integer `uid` and the normalised columns the deterministic and probabilistic stages compare.
Every function here is pure (no I/O, no global state) and works on whole columns.
"""

from __future__ import annotations

import re

import pandas as pd

# Legal forms stripped from the end of organisation names (after dots are removed and the text is
# lower-cased, so "B.V." is "bv" and "S.A.R.L." is "sarl").
LEGAL_SUFFIXES: frozenset[str] = frozenset(
    """
    inc incorporated corp corporation co company cos llc llp lp lllp pllc pc plc ltd limited ltda
    gmbh mbh ag kg kgaa ohg ug eg ev gbr se sa sas sasu sarl eurl snc sca scs sci sc srl spa sapa
    bv nv vof cv sl slu sll sau sa de cv ab as asa aps oy oyj ks pty pte bhd sdn kk
    gk zrt kft sro spzoo spolka zoo doo dd ad ood eood oao ooo zao pjsc jsc ojsc
    holding holdings
    """.split()
)
# Short generic words that carry no identity in an organisation name.
NAME_STOPWORDS: frozenset[str] = frozenset({"the", "and", "und", "et", "of", "de", "la", "le", "der", "die"})

FREE_MAIL_LABELS: frozenset[str] = frozenset(
    """
    gmail googlemail yahoo ymail rocketmail hotmail outlook live msn aol icloud me mac gmx web
    yandex ya mail email protonmail proton pm zoho orange free wanadoo laposte libero btinternet
    comcast verizon att sbcglobal bellsouth cox charter earthlink juno netzero optonline t-online
    freenet arcor qq 163 126 sina sohu naver hanmail daum rediffmail seznam wp o2 interia onet
    virgilio tiscali alice sfr noos voila club-internet neuf bbox telefonica terra bigpond shaw
    rogers sympatico videotron example test hey fastmail tutanota tuta posteo mailbox bluewin ziggo
    kpnmail planet xs4all home chello telenet skynet lycos inbox gmx-topmail hushmail mailinator
    """.split()
)
_FREE_MAIL_RE = re.compile(
    r"^(?:" + "|".join(re.escape(x) for x in sorted(FREE_MAIL_LABELS)) + r")\."
    r"(?:[a-z]{2,3}|co\.[a-z]{2}|com\.[a-z]{2}|net\.[a-z]{2}|org\.[a-z]{2})$"
)

# Country names, ISO3 codes and common aliases to ISO 3166-1 alpha-2.
_COUNTRY_ALIASES: dict[str, str] = {
    "united states": "US",
    "united states of america": "US",
    "usa": "US",
    "us": "US",
    "america": "US",
    "u s a": "US",
    "u s": "US",
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "gbr": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "deu": "DE",
    "france": "FR",
    "fra": "FR",
    "netherlands": "NL",
    "the netherlands": "NL",
    "holland": "NL",
    "nederland": "NL",
    "nld": "NL",
    "spain": "ES",
    "espana": "ES",
    "esp": "ES",
    "canada": "CA",
    "can": "CA",
    "italy": "IT",
    "italia": "IT",
    "ita": "IT",
    "portugal": "PT",
    "prt": "PT",
    "belgium": "BE",
    "belgique": "BE",
    "belgie": "BE",
    "bel": "BE",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "che": "CH",
    "austria": "AT",
    "osterreich": "AT",
    "aut": "AT",
    "ireland": "IE",
    "irl": "IE",
    "luxembourg": "LU",
    "lux": "LU",
    "denmark": "DK",
    "danmark": "DK",
    "dnk": "DK",
    "sweden": "SE",
    "sverige": "SE",
    "swe": "SE",
    "norway": "NO",
    "norge": "NO",
    "nor": "NO",
    "finland": "FI",
    "suomi": "FI",
    "fin": "FI",
    "poland": "PL",
    "polska": "PL",
    "pol": "PL",
    "czech republic": "CZ",
    "czechia": "CZ",
    "cze": "CZ",
    "greece": "GR",
    "grc": "GR",
    "hungary": "HU",
    "hun": "HU",
    "romania": "RO",
    "rou": "RO",
    "bulgaria": "BG",
    "bgr": "BG",
    "croatia": "HR",
    "hrv": "HR",
    "slovakia": "SK",
    "svk": "SK",
    "slovenia": "SI",
    "svn": "SI",
    "estonia": "EE",
    "est": "EE",
    "latvia": "LV",
    "lva": "LV",
    "lithuania": "LT",
    "ltu": "LT",
    "australia": "AU",
    "aus": "AU",
    "new zealand": "NZ",
    "nzl": "NZ",
    "mexico": "MX",
    "mex": "MX",
    "brazil": "BR",
    "brasil": "BR",
    "bra": "BR",
    "argentina": "AR",
    "arg": "AR",
    "chile": "CL",
    "chl": "CL",
    "colombia": "CO",
    "col": "CO",
    "peru": "PE",
    "per": "PE",
    "japan": "JP",
    "jpn": "JP",
    "china": "CN",
    "chn": "CN",
    "india": "IN",
    "ind": "IN",
    "singapore": "SG",
    "sgp": "SG",
    "hong kong": "HK",
    "hkg": "HK",
    "south korea": "KR",
    "korea": "KR",
    "republic of korea": "KR",
    "kor": "KR",
    "israel": "IL",
    "isr": "IL",
    "turkey": "TR",
    "turkiye": "TR",
    "tur": "TR",
    "south africa": "ZA",
    "zaf": "ZA",
    "united arab emirates": "AE",
    "uae": "AE",
    "are": "AE",
    "russia": "RU",
    "russian federation": "RU",
    "rus": "RU",
    "ukraine": "UA",
    "ukr": "UA",
}

_STREET_ABBREVIATIONS: dict[str, str] = {
    "street": "st",
    "str": "st",
    "strasse": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "drive": "dr",
    "lane": "ln",
    "boulevard": "blvd",
    "court": "ct",
    "place": "pl",
    "square": "sq",
    "suite": "ste",
    "apartment": "apt",
    "building": "bldg",
    "floor": "fl",
    "highway": "hwy",
    "parkway": "pkwy",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "circle": "cir",
    "terrace": "ter",
    "way": "way",
    "number": "no",
    "nr": "no",
}

PERSON_TYPES = frozenset({"person", "individual", "people", "p", "contact", "human", "natural"})
ORG_TYPES = frozenset({"organization", "organisation", "org", "company", "business", "o", "c", "account"})

NORMALIZED_COLUMNS: tuple[str, ...] = (
    "uid",
    "source_system",
    "source_id",
    "kind",
    "name_norm",
    "name_sorted",
    "name_tok1",
    "name_tok_last",
    "name_prefix",
    "first_name_norm",
    "last_name_norm",
    "email_norm",
    "email_user",
    "email_domain",
    "domain_norm",
    "phone_norm",
    "address_norm",
    "address_num",
    "city_norm",
    "postal_norm",
    "postal_prefix",
    "region_norm",
    "country_norm",
    "tax_id_norm",
    "dob_norm",
)


def _null_if_empty(s: pd.Series) -> pd.Series:
    s = s.astype("string")
    return s.mask(s.str.len().fillna(0) == 0, pd.NA)


def fold(s: pd.Series) -> pd.Series:
    """Lower-case, strip accents (NFKD, ASCII only), keep the null mask."""
    s = s.astype("string").str.lower()
    s = (
        s.str.replace("ß", "ss", regex=False)
        .str.replace("ø", "o", regex=False)
        .str.replace("æ", "ae", regex=False)
    )
    s = (
        s.str.replace("œ", "oe", regex=False)
        .str.replace("ł", "l", regex=False)
        .str.replace("đ", "d", regex=False)
    )
    folded = s.str.normalize("NFKD").str.encode("ascii", errors="ignore").str.decode("ascii")
    return folded.astype("string")


def _squash(s: pd.Series) -> pd.Series:
    return _null_if_empty(s.str.replace(r"\s+", " ", regex=True).str.strip())


def clean_text(s: pd.Series) -> pd.Series:
    """Folded text with punctuation as spaces, dots and apostrophes dropped (B.V. -> bv, O'Neil -> oneil)."""
    s = fold(s)
    s = s.str.replace(r"[.'`´’]", "", regex=True)
    s = s.str.replace(r"[^a-z0-9&+ ]", " ", regex=True)
    return _squash(s)


def _drop_tokens(tokens: list[str], stop: frozenset[str]) -> list[str]:
    kept = [t for t in tokens if t not in stop]
    return kept or tokens


def company_name(s: pd.Series) -> pd.Series:
    """Organisation name key: folded, '&'/'and' dropped, trailing legal forms stripped."""
    s = clean_text(s)
    s = s.str.replace(r"[&+]", " ", regex=True)
    s = _squash(s.str.replace(r"\b(?:and|und|et)\b", " ", regex=True))
    # "gmbh co kg", "pty ltd", "s a de c v" (single letters come from "S. A." with spaces)
    s = s.str.replace(r"\b([a-z]) (?=[a-z]\b)", r"\1", regex=True)
    suffix = "|".join(sorted(LEGAL_SUFFIXES, key=len, reverse=True))
    for _ in range(3):
        s = s.str.replace(rf"^(.+?)(?:\s+(?:{suffix}))+$", r"\1", regex=True)
    s = s.str.replace(r"^the\s+(?=\S)", "", regex=True)
    return _squash(s)


def person_name(s: pd.Series) -> pd.Series:
    """Person name part: folded, letters and spaces only (hyphens become spaces)."""
    s = fold(s).str.replace(r"[.'`´’]", "", regex=True)
    return _squash(s.str.replace(r"[^a-z ]", " ", regex=True))


def sorted_tokens(s: pd.Series) -> pd.Series:
    """Order-insensitive name key: unique tokens, sorted, space-joined."""
    out = s.map(lambda v: " ".join(sorted(set(v.split()))) if isinstance(v, str) else pd.NA)
    return out.astype("string")


def email(s: pd.Series) -> pd.Series:
    s = s.astype("string").str.strip().str.lower().str.replace(r"^mailto:", "", regex=True)
    s = s.str.replace(r"\s+", "", regex=True)
    return s.where(s.str.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+").fillna(False), pd.NA).astype("string")


def web_domain(s: pd.Series) -> pd.Series:
    """Host name of a URL, domain or email: scheme, 'www.', path, port and user dropped."""
    s = s.astype("string").str.strip().str.lower()
    s = s.str.replace(r"^[a-z][a-z0-9+.-]*://", "", regex=True)
    s = s.str.replace(r"^.*@", "", regex=True)
    s = s.str.replace(r"[/?#:].*$", "", regex=True).str.strip(".")
    s = s.str.replace(r"^www\d*\.", "", regex=True)
    # Internationalised names (hänelly.de) are host names too: any letters or digits per label.
    return s.where(
        s.str.fullmatch(r"[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)+").fillna(False), pd.NA
    ).astype("string")


def is_free_mail(domain: pd.Series) -> pd.Series:
    """True for consumer mailbox providers (gmail.com, web.de, hotmail.co.uk, ...)."""
    return domain.astype("string").str.match(_FREE_MAIL_RE).fillna(False).astype(bool)


def phone(s: pd.Series) -> pd.Series:
    """Last nine digits of a phone number (country and trunk prefixes differ between systems)."""
    s = s.astype("string").str.lower().str.replace(r"\s*(?:x|ext|extension|#)\.?\s*\d+\s*$", "", regex=True)
    digits = s.str.replace(r"\D", "", regex=True)
    return digits.str[-9:].where(digits.str.len() >= 7, pd.NA).astype("string")


def tax_id(s: pd.Series) -> pd.Series:
    """Tax id without spaces/punctuation and without a leading 2-letter country prefix (DE123 -> 123)."""
    s = s.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    s = s.str.replace(r"^[A-Z]{2}(?=[0-9])", "", regex=True)
    return s.where(s.str.len() >= 5, pd.NA).astype("string")


def country(s: pd.Series) -> pd.Series:
    """ISO 3166-1 alpha-2 code from a code, ISO3 code or common name; unknown names pass through upper-cased."""
    key = _squash(clean_text(s).str.replace(r"[&+]", " ", regex=True))
    mapped = key.map(
        lambda v: (
            _COUNTRY_ALIASES.get(v, v.upper() if len(v) == 2 else pd.NA) if isinstance(v, str) else pd.NA
        )
    )
    mapped = mapped.astype("string")
    return mapped.fillna(key.str.upper()).astype("string")


def postal_code(s: pd.Series) -> pd.Series:
    """Upper-case alphanumerics; US ZIP+4 cut to five digits."""
    s = s.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    s = s.str.replace(r"^(\d{5})\d{4}$", r"\1", regex=True)
    return _null_if_empty(s)


def address(s: pd.Series) -> pd.Series:
    s = clean_text(s).str.replace(r"(?<=[a-z])(?:strasse|str)\b", "str", regex=True)
    abbrev = _STREET_ABBREVIATIONS

    def fix(v: object) -> object:
        if not isinstance(v, str):
            return pd.NA
        return " ".join(abbrev.get(t, t) for t in v.split())

    return s.map(fix).astype("string")


def date_of_birth(s: pd.Series) -> pd.Series:
    """YYYYMMDD string from ISO dates, YYYYMMDD digits or other common layouts; unparseable -> null."""
    s = s.astype("string").str.strip()
    iso = pd.to_datetime(
        s.where(s.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}.*").fillna(False)).str[:10],
        errors="coerce",
        format="%Y-%m-%d",
    )
    compact = pd.to_datetime(
        s.where(s.str.fullmatch(r"\d{8}").fillna(False)), errors="coerce", format="%Y%m%d"
    )
    rest = s.where(iso.isna() & compact.isna())
    other = (
        pd.to_datetime(rest, errors="coerce", format="mixed", dayfirst=True) if rest.notna().any() else iso
    )
    parsed = iso.fillna(compact).fillna(other)
    return parsed.dt.strftime("%Y%m%d").astype("string")


def party_kind(df: pd.DataFrame, org_name: pd.Series) -> pd.Series:
    """'person', 'org' or 'either' per record. An explicit party_type wins; else person-only fields
    make a person unless the name carries a legal form. A bare name (no legal form, no person field)
    shaped like a personal name is 'either', compared with both models (a sole trader, an individual
    in billing), when it reads as one ('Jane Doe': a known given name or surname) or when most bare
    names of its system do (a system of people: its 'Jxne Dooe' and 'Smith' are people too).
    Everything else is an organisation."""
    from identity.personal_names import could_be_person, reads_as_person

    explicit = fold(df["party_type"]).str.strip()
    person_fields = df["first_name"].notna() | df["last_name"].notna() | df["date_of_birth"].notna()
    has_suffix = df["name"].notna() & (clean_text(df["name"]) != org_name).fillna(False)
    text = clean_text(df["name"])
    bare = ~person_fields & ~has_suffix & could_be_person(text)
    listed = bare & reads_as_person(text)
    share = listed.groupby(df["source_system"]).transform("sum") / bare.groupby(
        df["source_system"]
    ).transform("sum").clip(lower=1)
    either = listed | (bare & (share > 0.5))
    inferred = pd.Series("org", index=df.index, dtype="string").mask(person_fields & ~has_suffix, "person")
    inferred = inferred.mask(either, "either")
    kind = inferred.mask(explicit.isin(PERSON_TYPES).fillna(False), "person")
    kind = kind.mask(explicit.isin(ORG_TYPES).fillna(False), "org")
    return kind.astype("string")


def records_of_kind(norm: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The records a `kind` ('person' or 'org') model or rule sees: that kind and 'either', the
    latter relabelled as `kind`."""
    view = norm[(norm["kind"] == kind) | (norm["kind"] == "either")]
    return view.assign(kind=pd.Series(kind, index=view.index, dtype="string"))


def normalize_parties(df: pd.DataFrame) -> pd.DataFrame:
    """Normalised comparison keys for validated party records (see `NORMALIZED_COLUMNS`)."""
    out = pd.DataFrame(index=df.index)
    out["uid"] = pd.Series(range(len(df)), index=df.index, dtype="int64")
    out["source_system"] = df["source_system"].astype("string")
    out["source_id"] = df["source_id"].astype("string")

    org_name = company_name(df["name"])
    kind = party_kind(df, org_name)
    is_person = kind == "person"
    # An 'either' record carries both readings: first/last for the person model, the name as
    # written (and a domain) for the organisation model.
    maybe_person = kind != "org"
    out["kind"] = kind

    # Spaces inside a name part are noise more often than signal ("cla rke", "van der berg"/"vanderberg").
    first = person_name(df["first_name"]).str.replace(" ", "", regex=False)
    last = person_name(df["last_name"]).str.replace(" ", "", regex=False)
    full = person_name(df["name"])
    # A person given only a full name: first token is the first name, last token the surname; a
    # lone token is the surname (the given name is the part systems leave out).
    several = full.str.count(" ") >= 1
    first = first.fillna(full.str.split(" ").str[0].where(maybe_person & several))
    last = last.fillna(full.str.split(" ").str[-1].where(maybe_person))
    person_full = _squash(first.fillna("") + " " + last.fillna(""))
    person_full = person_full.fillna(full)
    name = org_name.where(~is_person, person_full)
    name = name.fillna(_squash(first.fillna("") + " " + last.fillna("")))
    out["name_norm"] = name.astype("string")
    out["name_sorted"] = sorted_tokens(name)
    toks = name.str.split(" ")
    out["name_tok1"] = toks.str[0].astype("string")
    out["name_tok_last"] = toks.str[-1].where(name.str.count(" ") >= 1).astype("string")
    out["name_prefix"] = name.str.replace(" ", "", regex=False).str[:4].astype("string")
    out["first_name_norm"] = first.where(maybe_person).astype("string")
    out["last_name_norm"] = last.where(maybe_person).astype("string")

    mail = email(df["email"])
    out["email_norm"] = mail
    out["email_user"] = mail.str.split("@").str[0].astype("string")
    mail_domain = mail.str.split("@").str[-1].astype("string")
    out["email_domain"] = mail_domain
    site = web_domain(df["domain"])
    org_domain = site.fillna(mail_domain.where(~is_free_mail(mail_domain)))
    org_domain = org_domain.where(~is_free_mail(org_domain))
    # A domain identifies an organisation, never a person (colleagues share it).
    out["domain_norm"] = org_domain.where(~is_person).astype("string")
    out["phone_norm"] = phone(df["phone"])
    line = _squash(df["address_line1"].fillna("") + " " + df["address_line2"].fillna(""))
    out["address_norm"] = address(line)
    out["address_num"] = out["address_norm"].str.extract(r"\b(\d+)", expand=False).astype("string")
    out["city_norm"] = clean_text(df["city"])
    postal = postal_code(df["postal_code"])
    out["postal_norm"] = postal
    out["postal_prefix"] = postal.str[:3].astype("string")
    out["region_norm"] = clean_text(df["region"])
    out["country_norm"] = country(df["country"])
    out["tax_id_norm"] = tax_id(df["tax_id"])
    out["dob_norm"] = date_of_birth(df["date_of_birth"])
    return out.reset_index(drop=True)[list(NORMALIZED_COLUMNS)]
