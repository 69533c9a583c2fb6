"""Regenerate the vendored pseudopeople extracts (`pseudopeople_*.parquet`) beside this file.

pseudopeople (IHME, BSD-3-Clause, https://pypi.org/project/pseudopeople/) simulates a fictional US
population and renders it as noisy administrative records with the true `simulant_id` (and the true
`employer_id`) kept, for testing record linkage. Its sample population ships in the wheel. It pins
pandas < 3 and pulls the vivarium stack, so it is not a project dependency: the extracts are made
once, in a throw-away environment, and committed.

    uv run --no-project --python 3.11 --with pseudopeople==1.3.1 python bench/data/make_pseudopeople.py

A held-out pair of extracts (other seeds, other households, other name noise) for a check that
nothing was tuned to these:

    ... make_pseudopeople.py --out /tmp/heldout --seeds 21 22 23 --households-seed 17 \
        --employer-seeds 4 5 6 --name-noise 0.05 0.15 0.05
    .venv/bin/python -m bench.matching_bench --no-sandbox --data-dir /tmp/heldout \
        --dataset pseudopeople_people_3_sources --dataset pseudopeople_employers_multi_site

People: the 2020 census, the 2020 W-2/1099 filings and Social Security, for the members of a random
sample of census households (so relatives, twins and namesakes living together stay in). Employers:
three noisy renderings of the W-2 filings of all tax years (seeds 1-3, one per "system", with
more name noise than the default in two of them); a site is
the employer's true street address in the un-noised sample, which changes over the years, so one
employer has several sites.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import pandas as pd
import pseudopeople as psp

HERE = Path(__file__).resolve().parent
SAMPLE = Path(psp.__file__).resolve().parent / "data" / "sample_datasets"
HOUSEHOLDS = 1500
SITE_RECORDS_PER_SYSTEM = 2


def people(seeds: tuple[int, int, int] = (11, 12, 13), households_seed: int = 7) -> pd.DataFrame:
    census = psp.generate_decennial_census(seed=seeds[0])
    w2 = psp.generate_taxes_w2_and_1099(seed=seeds[1])
    ssa = psp.generate_social_security(seed=seeds[2])
    rng = random.Random(households_seed)
    households = sorted(census["household_id"].dropna().unique())
    chosen = set(rng.sample(households, HOUSEHOLDS))
    census = census[census["household_id"].isin(chosen)]
    members = set(census["simulant_id"])
    # One filing per person (the latest year, first employer): a tax system holds a person once.
    w2 = w2[w2["simulant_id"].isin(members)].sort_values(["simulant_id", "tax_year"], ascending=[True, False])
    w2 = w2.drop_duplicates("simulant_id")
    ssa = ssa[ssa["simulant_id"].isin(members) & (ssa["event_type"] == "creation")]
    frames = [
        census.assign(source="census")[
            [
                "source",
                "simulant_id",
                "household_id",
                "first_name",
                "middle_initial",
                "last_name",
                "date_of_birth",
                "street_number",
                "street_name",
                "unit_number",
                "city",
                "state",
                "zipcode",
            ]
        ],
        w2.assign(source="taxes")[
            [
                "source",
                "simulant_id",
                "household_id",
                "ssn",
                "first_name",
                "middle_initial",
                "last_name",
                "mailing_address_street_number",
                "mailing_address_street_name",
                "mailing_address_unit_number",
                "mailing_address_po_box",
                "mailing_address_city",
                "mailing_address_state",
                "mailing_address_zipcode",
            ]
        ].rename(columns=lambda c: c.replace("mailing_address_", "")),
        ssa.assign(source="social_security")[
            ["source", "simulant_id", "ssn", "first_name", "middle_name", "last_name", "date_of_birth"]
        ],
    ]
    out = pd.concat(frames, ignore_index=True)
    return out.astype({c: "string" for c in out.columns})


def _name_noise(probability: float) -> dict:
    """The default noise, with typos and OCR errors in employer names at `probability` per cell
    (the default, 0.01, leaves almost every name clean; payroll systems are keyed by hand)."""
    noise = {"cell_probability": probability, "token_probability": 0.1}
    return {
        "taxes_w2_and_1099": {
            "column_noise": {"employer_name": {"make_typos": noise, "make_ocr_errors": noise}}
        }
    }


def employers(
    seeds: tuple[int, ...] = (1, 2, 3), name_noise: tuple[float, ...] = (0.01, 0.1, 0.2)
) -> pd.DataFrame:
    raw = pd.read_parquet(SAMPLE / "taxes_w2_and_1099" / "taxes_w2_and_1099.parquet")
    site = raw[["simulant_id", "employer_id", "tax_year", "employer_street_number", "employer_street_name"]]
    site = site.assign(
        site=site["employer_street_number"].astype("string").fillna("")
        + " "
        + site["employer_street_name"].astype("string").fillna("")
    )[["simulant_id", "employer_id", "tax_year", "site"]].astype("string")
    frames = []
    systems = ("payroll_a", "payroll_b", "payroll_c")
    for seed, system, noise in zip(seeds, systems, name_noise, strict=True):
        w2 = psp.generate_taxes_w2_and_1099(seed=seed, year=None, config=_name_noise(noise))
        w2 = w2.astype({"simulant_id": "string", "employer_id": "string", "tax_year": "string"})
        w2 = w2.merge(site, on=["simulant_id", "employer_id", "tax_year"], how="inner")
        # A few filings per true site and system: each system has its own spelling of the employer.
        w2 = (
            w2.sample(frac=1.0, random_state=seed)
            .groupby(["employer_id", "site"])
            .head(SITE_RECORDS_PER_SYSTEM)
        )
        frames.append(
            w2.assign(source=system)[
                [
                    "source",
                    "employer_id",
                    "site",
                    "employer_name",
                    "employer_street_number",
                    "employer_street_name",
                    "employer_unit_number",
                    "employer_city",
                    "employer_state",
                    "employer_zipcode",
                ]
            ]
        )
    out = pd.concat(frames, ignore_index=True)
    return out.astype({c: "string" for c in out.columns})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE)
    ap.add_argument("--seeds", type=int, nargs=3, default=(11, 12, 13), help="census, taxes, SSA")
    ap.add_argument("--households-seed", type=int, default=7)
    ap.add_argument("--employer-seeds", type=int, nargs=3, default=(1, 2, 3))
    ap.add_argument("--name-noise", type=float, nargs=3, default=(0.01, 0.1, 0.2))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    people(tuple(args.seeds), args.households_seed).to_parquet(
        args.out / "pseudopeople_people.parquet", index=False
    )
    employers(tuple(args.employer_seeds), tuple(args.name_noise)).to_parquet(
        args.out / "pseudopeople_employers.parquet", index=False
    )


if __name__ == "__main__":
    main()
