from __future__ import annotations

import pandas as pd
import pytest

from identity.schema import OPTIONAL_COLUMNS, PartySchemaError, read_parties, validate_parties


def test_missing_required_columns_are_named():
    with pytest.raises(PartySchemaError, match="source_id"):
        validate_parties(pd.DataFrame({"source_system": ["crm"], "name": ["Acme"]}))


def test_missing_columns_error_names_the_file(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"id": [1], "name": ["Acme"]}).to_csv(path, index=False)
    with pytest.raises(PartySchemaError) as err:
        read_parties(path)
    assert "bad.csv" in str(err.value) and "source_system" in str(err.value) and "source_id" in str(err.value)


def test_nothing_to_match_on():
    with pytest.raises(PartySchemaError, match="identifying"):
        validate_parties(pd.DataFrame({"source_system": ["crm"], "source_id": ["1"], "city": ["Paris"]}))


def test_null_and_duplicate_keys():
    with pytest.raises(PartySchemaError, match="null source_id"):
        validate_parties(pd.DataFrame({"source_system": ["crm"], "source_id": [None], "name": ["x"]}))
    with pytest.raises(PartySchemaError, match="duplicate"):
        validate_parties(
            pd.DataFrame({"source_system": ["crm", "crm"], "source_id": ["1", "1"], "name": ["a", "b"]})
        )


def test_optional_columns_added_as_null_strings():
    out = validate_parties(pd.DataFrame({"source_system": ["crm"], "source_id": [7], "Name": ["  Acme "]}))
    assert list(out.columns)[:2] == ["source_system", "source_id"]
    assert set(OPTIONAL_COLUMNS) <= set(out.columns)
    assert out.loc[0, "source_id"] == "7" and out.loc[0, "name"] == "Acme"
    assert pd.isna(out.loc[0, "email"]) and pd.isna(out.loc[0, "tax_id"])


def test_blank_strings_are_null_and_float_ids_are_integers():
    out = validate_parties(
        pd.DataFrame({"source_system": ["a", "a"], "source_id": [1.0, 2.0], "name": ["", "x"]})
    )
    assert out["source_id"].tolist() == ["1", "2"]
    assert pd.isna(out.loc[0, "name"])


def test_unsupported_extension(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{}")
    with pytest.raises(PartySchemaError, match="unsupported"):
        read_parties(path)
