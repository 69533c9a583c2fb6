"""Regenerate the vendored pseudopeople extracts (`pseudopeople_*.parquet`) beside this file.

pseudopeople (IHME, BSD-3-Clause, https://pypi.org/project/pseudopeople/) simulates a fictional US
population and renders it as noisy administrative records with the true `simulant_id` (and the true
`employer_id`) kept, for testing record linkage. Its sample population ships in the wheel. It pins
pandas < 3 and pulls the vivarium stack, so it is not a project dependency: the extracts are made
once, in a throw-away environment, and committed.

    uv run --no-project --python 3.11 --with pseudopeople==1.3.1 python bench/data/make_pseudopeople.py

People: the 2020 census, the 2020 W-2/1099 filings and Social Security, for the members of a random
sample of census households (so relatives, twins and namesakes living together stay in). Employers:
three noisy renderings of the W-2 filings of all tax years (seeds 1-3, one per "system", with
more name noise than the default in two of them); a site is
the employer's true street address in the un-noised sample, which changes over the years, so one
employer has several sites.
"""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import pseudopeople as psp

HERE = Path(__file__).resolve().parent
SAMPLE = Path(psp.__file__).resolve().parent / "data" / "sample_datasets"
HOUSEHOLDS = 1500
SITE_RECORDS_PER_SYSTEM = 2


def people() -> pd.DataFrame:
    census = psp.generate_decennial_census(seed=11)
    w2 = psp.generate_taxes_w2_and_1099(seed=12)
    ssa = psp.generate_social_security(seed=13)
    rng = random.Random(7)
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


def employers() -> pd.DataFrame:
    raw = pd.read_parquet(SAMPLE / "taxes_w2_and_1099" / "taxes_w2_and_1099.parquet")
    site = raw[["simulant_id", "employer_id", "tax_year", "employer_street_number", "employer_street_name"]]
    site = site.assign(
        site=site["employer_street_number"].astype("string").fillna("")
        + " "
        + site["employer_street_name"].astype("string").fillna("")
    )[["simulant_id", "employer_id", "tax_year", "site"]].astype("string")
    frames = []
    for seed, system, name_noise in ((1, "payroll_a", 0.01), (2, "payroll_b", 0.1), (3, "payroll_c", 0.2)):
        w2 = psp.generate_taxes_w2_and_1099(seed=seed, year=None, config=_name_noise(name_noise))
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
    people().to_parquet(HERE / "pseudopeople_people.parquet", index=False)
    employers().to_parquet(HERE / "pseudopeople_employers.parquet", index=False)


if __name__ == "__main__":
    main()
