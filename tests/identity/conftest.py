"""Small hand-made party frames: companies and people, with the usual mess."""

from __future__ import annotations

import pandas as pd
import pytest

COMPANIES = [
    # Acme: suffix variants, case, a typo, linked partly by domain, partly by name/address/phone.
    dict(
        source_system="crm",
        source_id="A1",
        name="Acme Inc.",
        domain="https://www.acme.com",
        country="US",
        postal_code="10001",
        phone="+1 (212) 555-0100",
        address_line1="12 Main Street",
        city="New York",
    ),
    dict(
        source_system="billing",
        source_id="cus_A",
        name="ACME",
        email="billing@acme.com",
        country="USA",
        postal_code="10001-1234",
    ),
    dict(
        source_system="erp",
        source_id="100",
        name="Acme Incorporated",
        country="United States",
        postal_code="10001",
        phone="212 555 0100",
        address_line1="12 Main St",
        city="new york",
    ),
    dict(
        source_system="support",
        source_id="z1",
        name="Acme Inc",
        country="US",
        postal_code="10001",
        address_line1="12 Main St.",
        city="New York",
        phone="2125550100",
    ),
    # Globex: tax id with and without the country prefix.
    dict(
        source_system="crm",
        source_id="G1",
        name="Globex GmbH",
        country="DE",
        tax_id="DE 123 456 789",
        city="Berlin",
        postal_code="10115",
    ),
    dict(source_system="erp", source_id="200", name="Globex", country="Germany", tax_id="123456789"),
    # Two different companies that both use gmail: must not be linked through the free-mail domain.
    dict(
        source_system="crm",
        source_id="I1",
        name="Initech LLC",
        email="peter@gmail.com",
        country="US",
        postal_code="94105",
        city="San Francisco",
    ),
    dict(
        source_system="crm",
        source_id="H1",
        name="Hooli Ltd",
        email="gavin@gmail.com",
        country="GB",
        postal_code="SW1A 1AA",
        city="London",
    ),
    # Müller & Söhne: accents, '&' vs 'und', legal form.
    dict(
        source_system="crm",
        source_id="M1",
        name="Müller & Söhne GmbH",
        country="DE",
        postal_code="80331",
        city="München",
        address_line1="Hauptstraße 5",
        phone="+49 89 1234567",
    ),
    dict(
        source_system="billing",
        source_id="cus_M",
        name="Muller und Sohne",
        country="Germany",
        postal_code="80331",
        city="Munchen",
        address_line1="Hauptstr. 5",
        phone="089 1234567",
    ),
    # Vandelay: one system refers to the other by an explicit cross-reference only.
    dict(source_system="crm", source_id="V1", name="Vandelay Industries", country="US"),
    dict(source_system="erp", source_id="300", name="Vandelay Imports", country="US"),
]

PEOPLE = [
    dict(
        source_system="crm",
        source_id="P1",
        first_name="Jonathan",
        last_name="Smith",
        date_of_birth="1980-01-02",
        email="jon.smith@example.org",
        postal_code="12345",
        city="Springfield",
    ),
    dict(
        source_system="support",
        source_id="u1",
        first_name="Jonathon",
        last_name="Smith",
        date_of_birth="1980-01-02",
        postal_code="12345",
        city="Springfield",
    ),
    dict(
        source_system="billing",
        source_id="c9",
        first_name="Jon",
        last_name="Smith",
        email="JON.SMITH@example.org",
    ),
    dict(
        source_system="crm",
        source_id="P2",
        first_name="Maria",
        last_name="García",
        date_of_birth="1975-07-30",
        postal_code="28001",
        city="Madrid",
    ),
    dict(
        source_system="support",
        source_id="u2",
        first_name="Maria",
        last_name="Garcia",
        date_of_birth="1975-07-30",
        postal_code="28001",
        city="Madrid",
    ),
    dict(
        source_system="crm",
        source_id="P3",
        first_name="Wei",
        last_name="Zhang",
        date_of_birth="1990-11-11",
        postal_code="94105",
        city="San Francisco",
    ),
]

# Expected groups (source_id sets).
COMPANY_TRUTH = [
    {"A1", "cus_A", "100", "z1"},
    {"G1", "200"},
    {"I1"},
    {"H1"},
    {"M1", "cus_M"},
    {"V1"},
    {"300"},
]
PEOPLE_TRUTH = [{"P1", "u1", "c9"}, {"P2", "u2"}, {"P3"}]


@pytest.fixture
def companies() -> pd.DataFrame:
    return pd.DataFrame(COMPANIES)


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame(PEOPLE)


@pytest.fixture
def parties() -> pd.DataFrame:
    return pd.DataFrame(COMPANIES + PEOPLE)


def groups(assignments: pd.DataFrame) -> list[set[str]]:
    return sorted(
        (set(g) for g in assignments.groupby("golden_id")["source_id"].agg(list)), key=lambda s: sorted(s)
    )


def same_partition(assignments: pd.DataFrame, truth: list[set[str]]) -> bool:
    return groups(assignments) == sorted(truth, key=lambda s: sorted(s))
