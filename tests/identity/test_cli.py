from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from identity.cli import app

runner = CliRunner()


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_round_trip_and_stable_rerun(tmp_path, parties, suffix):
    src = tmp_path / f"parties.{suffix}"
    parties.to_csv(src, index=False) if suffix == "csv" else parties.to_parquet(src, index=False)
    out = tmp_path / "out.parquet"
    result = runner.invoke(app, ["match", str(src), str(out), "--aliases", str(tmp_path / "aliases.parquet")])
    assert result.exit_code == 0, result.output
    first = pd.read_parquet(out)
    assert {"source_system", "source_id", "golden_id", "match_probability", "match_rule"} <= set(
        first.columns
    )
    assert len(first) == len(parties)
    assert (
        first.loc[first.source_id == "A1", "golden_id"].item()
        == first.loc[first.source_id == "100", "golden_id"].item()
    )

    out2 = tmp_path / "out2.parquet"
    result = runner.invoke(app, ["match", str(src), str(out2), "--previous", str(out)])
    assert result.exit_code == 0, result.output
    second = pd.read_parquet(out2)
    merged = first.merge(second, on=["source_system", "source_id"])
    assert (merged.golden_id_x == merged.golden_id_y).all()


def test_bad_input_exits_with_a_clear_message(tmp_path):
    src = tmp_path / "bad.csv"
    pd.DataFrame({"id": [1], "name": ["x"]}).to_csv(src, index=False)
    result = runner.invoke(app, ["match", str(src), str(tmp_path / "o.parquet")])
    assert result.exit_code == 2
    assert "source_system" in result.output and "bad.csv" in result.output
