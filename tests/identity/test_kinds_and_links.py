"""Party kind as evidence, organisations across sites, explainable links, data-driven thresholds."""

from __future__ import annotations

import numpy as np
import pandas as pd

from identity.match import LINK_OUTPUT_COLUMNS, match_parties
from identity.normalize import normalize_parties
from identity.schema import validate_parties
from identity.thresholds import expected_f1_threshold

from .conftest import PEOPLE


def kinds(rows: list[dict]) -> list[str]:
    return normalize_parties(validate_parties(pd.DataFrame(rows)))["kind"].tolist()


def test_bare_personal_name_is_either_and_company_shapes_stay_organisations():
    rows = [
        dict(source_system="billing", source_id="1", name="Jane Doe"),
        dict(source_system="billing", source_id="2", name="Doe Jane"),
        dict(source_system="billing", source_id="3", name="Jane Doe GmbH"),
        dict(source_system="billing", source_id="4", name="Smith, Jones and Brown"),
        dict(source_system="billing", source_id="5", name="Smith Plumbing"),
        dict(source_system="billing", source_id="6", name="Acme 42"),
        dict(source_system="billing", source_id="7", name="Jane Doe", party_type="organization"),
        dict(source_system="crm", source_id="8", first_name="Jane", last_name="Doe"),
    ]
    assert kinds(rows) == ["either", "either", "org", "org", "org", "org", "org", "person"]


def test_a_system_of_people_makes_its_unknown_bare_names_people_too():
    people = [
        dict(source_system="billing", source_id=str(i), name=n)
        for i, n in enumerate(["John Smith", "Mary Jones", "Peter Brown", "Xqzt Vrbl", "Clarke"])
    ]
    firms = [
        dict(source_system="erp", source_id=str(i), name=n)
        for i, n in enumerate(["Sunoco", "Folger", "John Smith", "Initrode"])
    ]
    assert kinds(people) == ["either"] * 5
    assert kinds(firms) == ["org", "org", "either", "org"]


def test_full_name_only_record_is_matched_with_the_person_model():
    billing = dict(
        source_system="billing",
        source_id="b1",
        name="Maria Garcia",
        postal_code="28001",
        city="Madrid",
    )
    result = match_parties(pd.DataFrame([*PEOPLE, billing]))
    out = result.assignments.set_index("source_id")
    assert out.loc["b1", "golden_id"] == out.loc["P2", "golden_id"] == out.loc["u2", "golden_id"]
    links = result.links
    assert list(links.columns) == LINK_OUTPUT_COLUMNS
    accepted = links[(links["source_id_l"] == "b1") | (links["source_id_r"] == "b1")]
    assert len(accepted) and set(accepted["model"]) == {"person"}
    assert accepted["evidence"].str.contains("first_name=exact").all()
    assert result.threshold_sources == {"org": "default", "person": "default"}


def frame(columns: list[str], rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=columns)


def test_the_organisation_model_does_not_link_two_bare_personal_names_on_the_name_alone():
    columns = ["source_system", "source_id", "name", "postal_code", "city", "phone"]
    rows = [
        # Two people of one name: different places and phones.
        ("billing", "1", "John Smith", "10001", "New York", "212 555 0100"),
        ("support", "2", "John Smith", "94105", "Oakland", "510 555 0199"),
        ("crm", "3", "Initech LLC", "94105", "Oakland", None),
        ("crm", "4", "Initech", "10001", "New York", None),
    ]
    result = match_parties(frame(columns, rows), thresholds={"person": 0.999999})
    out = result.assignments.set_index("source_id")["golden_id"]
    assert out["1"] != out["2"]
    # ...while the same name shape with a legal form links across the two sites.
    assert out["3"] == out["4"]
    assert result.threshold_sources["person"] == "given"


def test_company_sites_link_on_a_strong_name_with_the_evidence_recorded():
    columns = ["source_system", "source_id", "name", "address_line1", "city", "postal_code", "phone"]
    sites = [
        ("crm", "1", "Initrode Systems GmbH", "Hauptstrasse 5", "Berlin", "10115", "+49 30 1234567"),
        ("erp", "2", "Initrode Systems", "Rheinallee 80", "Bonn", "53173", "+49 228 7654321"),
        ("support", "3", "INITRODE SYSTEMS GMBH", "Königsallee 1", "Düsseldorf", "40212", None),
        # Another company in the same building.
        ("crm", "4", "Vandelay Industries", "Hauptstrasse 5", "Berlin", "10115", "+49 30 5550000"),
    ]
    result = match_parties(frame(columns, sites).assign(country="DE"))
    out = result.assignments.set_index("source_id")["golden_id"]
    assert out["1"] == out["2"] == out["3"] != out["4"]
    links = result.links
    assert set(links["model"]) == {"org"}
    assert links["evidence"].str.contains(r"location=else\(-1\.0\)").any()


def test_expected_f1_threshold_sits_between_the_populations():
    rng = np.random.default_rng(0)
    non = rng.uniform(0.01, 0.2, 500)
    matches = rng.uniform(0.9, 1.0, 300)
    t = expected_f1_threshold(np.concatenate([non, matches]))
    assert non.max() < t <= matches.min()
    # Pairs the model thinks likelier non-matches are refused, likelier matches accepted (the expected-F1
    # optimum accepts p >= F1/2).
    assert expected_f1_threshold(np.concatenate([non, matches, np.full(200, 0.3)])) > 0.3
    assert expected_f1_threshold(np.concatenate([non, matches, np.full(200, 0.6)])) <= 0.6
    assert expected_f1_threshold(np.array([0.99, 0.1])) is None
