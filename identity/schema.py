"""The party-record input contract and its validation.

A party record is one customer/contact/organisation row from one source system. Only
`source_system` and `source_id` are required; every other column may be absent or null, and a
frame may mix people and companies. An optional `party_type` column ("person"/"organization")
overrides the shape inferred from the populated columns.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

REQUIRED_COLUMNS: tuple[str, ...] = ("source_system", "source_id")
OPTIONAL_COLUMNS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "domain",
    "address_line1",
    "address_line2",
    "city",
    "postal_code",
    "region",
    "country",
    "tax_id",
    "date_of_birth",
    "party_type",
)
PARTY_COLUMNS: tuple[str, ...] = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# At least one of these must exist, or there is nothing to match on.
IDENTIFYING_COLUMNS: tuple[str, ...] = (
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "domain",
    "tax_id",
)


class PartySchemaError(ValueError):
    """The input does not follow the party-record contract."""


def _where(source: str | Path | None) -> str:
    return f" in {source}" if source is not None else ""


def _as_text(series: pd.Series) -> pd.Series:
    """Any column as nullable strings; blank strings become null."""
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series.dt.strftime("%Y-%m-%d")
    elif pd.api.types.is_float_dtype(series):
        # 12345.0 read from CSV is the integer 12345, not "12345.0".
        whole = series.dropna()
        if len(whole) and (whole == whole.round()).all():
            out = series.astype("Int64").astype("string")
        else:
            out = series.astype("string")
    else:
        out = series.astype("string")
    out = out.str.strip()
    return out.mask(out == "", pd.NA)


def validate_parties(df: pd.DataFrame, source: str | Path | None = None) -> pd.DataFrame:
    """Return a copy with every contract column present (as nullable strings), in contract order.

    Raises PartySchemaError naming the missing columns (and the file, when given), duplicate keys
    or null keys. Extra columns are dropped.
    """
    if not isinstance(df, pd.DataFrame):
        raise PartySchemaError(f"expected a pandas DataFrame{_where(source)}, got {type(df).__name__}")
    df = df.rename(columns={c: c.strip().lower() for c in df.columns if isinstance(c, str)})
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise PartySchemaError(
            f"party records{_where(source)} are missing required column(s): {', '.join(missing)} "
            f"(found: {', '.join(map(str, df.columns)) or 'none'})"
        )
    if len(df) and not any(c in df.columns for c in IDENTIFYING_COLUMNS):
        raise PartySchemaError(
            f"party records{_where(source)} have none of the identifying columns "
            f"{', '.join(IDENTIFYING_COLUMNS)}: nothing to match on"
        )
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col in PARTY_COLUMNS:
        if col in df.columns:
            out[col] = _as_text(df[col].reset_index(drop=True))
        else:
            out[col] = pd.Series(pd.NA, index=out.index, dtype="string")
    for col in REQUIRED_COLUMNS:
        nulls = int(out[col].isna().sum())
        if nulls:
            raise PartySchemaError(f"{nulls} record(s){_where(source)} have a null {col}")
    dup = out.duplicated(list(REQUIRED_COLUMNS))
    if dup.any():
        first = out.loc[dup, list(REQUIRED_COLUMNS)].iloc[0].tolist()
        raise PartySchemaError(
            f"{int(dup.sum())} duplicate (source_system, source_id) key(s){_where(source)}, e.g. {first}"
        )
    return out


def read_parties(path: str | Path) -> pd.DataFrame:
    """Read Parquet or CSV (chosen by extension) and validate it."""
    path = Path(path)
    if not path.exists():
        raise PartySchemaError(f"input file not found: {path}")
    suffix = "".join(path.suffixes[-2:]).lower() if path.suffix.lower() == ".gz" else path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        df = pd.read_parquet(path)
    elif suffix in (".csv", ".csv.gz"):
        df = pd.read_csv(path, dtype=str, keep_default_na=True)
    else:
        raise PartySchemaError(f"unsupported input format {path.suffix!r} for {path}: use .parquet or .csv")
    return validate_parties(df, source=path)
