from __future__ import annotations

import pandas as pd
import pytest

from identity.match import ASSIGNMENT_COLUMNS, match_parties

from .conftest import COMPANY_TRUTH, PEOPLE_TRUTH, groups, same_partition

XREF = [("crm", "V1", "erp", "300")]


@pytest.fixture(scope="module")
def first_run():
    from .conftest import COMPANIES, PEOPLE

    return match_parties(pd.DataFrame(COMPANIES + PEOPLE), cross_references=XREF)


def test_companies_and_people_resolve(first_run):
    out = first_run.assignments
    assert list(out.columns) == ASSIGNMENT_COLUMNS
    truth = [g for g in COMPANY_TRUTH if g not in ({"V1"}, {"300"})] + [{"V1", "300"}] + PEOPLE_TRUTH
    assert same_partition(out, truth), groups(out)


def test_probabilities_and_rules(first_run):
    out = first_run.assignments.set_index("source_id")
    assert out["match_probability"].between(0, 1).all()
    assert out.loc["G1", "match_rule"] == "tax_id" and out.loc["G1", "match_probability"] == 1.0
    assert out.loc["V1", "match_rule"] == "cross_reference"
    assert out.loc["I1", "match_rule"] == "singleton"
    assert out.loc["cus_M", "match_rule"] == "probabilistic"
    assert out.loc["cus_M", "match_probability"] >= 0.85


def test_free_mail_does_not_link_different_companies(first_run):
    out = first_run.assignments.set_index("source_id")
    assert out.loc["I1", "golden_id"] != out.loc["H1", "golden_id"]


def test_rerun_on_shuffled_input_keeps_every_id(first_run, parties):
    shuffled = parties.sample(frac=1, random_state=11).reset_index(drop=True)
    again = match_parties(shuffled, previous=first_run.assignments, cross_references=XREF)
    before = first_run.assignments.set_index(["source_system", "source_id"])["golden_id"]
    after = again.assignments.set_index(["source_system", "source_id"])["golden_id"]
    assert after.reindex(before.index).equals(before)
    assert again.aliases.empty


def test_fresh_run_is_order_independent(first_run, parties):
    shuffled = parties.sample(frac=1, random_state=5).reset_index(drop=True)
    again = match_parties(shuffled, cross_references=XREF)
    before = first_run.assignments.set_index(["source_system", "source_id"])["golden_id"]
    after = again.assignments.set_index(["source_system", "source_id"])["golden_id"]
    assert after.reindex(before.index).equals(before)


def test_merge_through_new_record_aliases_the_younger_id(first_run, parties):
    # Without the cross-reference Vandelay is two parties; a new record bridges them.
    split = match_parties(parties)
    ids = split.assignments.set_index("source_id")["golden_id"]
    assert ids["V1"] != ids["300"]
    bridge = pd.DataFrame(
        [
            dict(
                source_system="billing",
                source_id="cus_V",
                name="Vandelay Industries",
                tax_id="98-7654321",
                country="US",
            )
        ]
    )
    more = pd.concat([parties, bridge], ignore_index=True)
    more.loc[more.source_id == "300", "tax_id"] = "987654321"
    merged = match_parties(more, previous=split.assignments)
    new_ids = merged.assignments.set_index("source_id")["golden_id"]
    # cus_V links to V1 by name and to 300 by tax id (same country): one party, oldest id wins.
    assert new_ids["V1"] == new_ids["300"] == new_ids["cus_V"] == min(ids["V1"], ids["300"])
    assert merged.aliases.to_dict("records") == [
        {"alias_id": max(ids["V1"], ids["300"]), "golden_id": min(ids["V1"], ids["300"])}
    ]


def test_minimal_columns_and_all_nulls():
    df = pd.DataFrame(
        {
            "source_system": ["a", "b", "c"],
            "source_id": ["1", "2", "3"],
            "email": ["x@acme.com", "X@ACME.com", None],
        }
    )
    out = match_parties(df).assignments.set_index("source_id")
    assert out.loc["1", "golden_id"] == out.loc["2", "golden_id"] != out.loc["3", "golden_id"]
    empty = match_parties(pd.DataFrame({"source_system": [], "source_id": [], "name": []}))
    assert empty.assignments.empty and list(empty.assignments.columns) == ASSIGNMENT_COLUMNS
