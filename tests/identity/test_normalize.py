from __future__ import annotations

import pandas as pd

from identity.normalize import (
    company_name,
    country,
    date_of_birth,
    email,
    is_free_mail,
    normalize_parties,
    phone,
    postal_code,
    tax_id,
    web_domain,
)
from identity.schema import validate_parties


def s(*values):
    return pd.Series(list(values), dtype="string")


def test_company_suffixes_casing_punctuation_and_accents():
    out = company_name(
        s(
            "Acme Inc.",
            "ACME, INC",
            "acme incorporated",
            "Acme LLC",
            "Acme Ltd",
            "Acme GmbH",
            "Acme AG",
            "Acme SAS",
            "Acme S.A.R.L.",
            "Acme B.V.",
            "Acme S.L.",
            "The Acme Corp.",
            "Acme Pty Ltd",
        )
    )
    assert set(out) == {"acme"}
    assert company_name(s("Müller & Söhne GmbH", "Muller and Sohne"))[0] == "muller sohne"
    assert company_name(s("Muller and Sohne"))[0] == "muller sohne"
    # a name that *is* a legal word is kept
    assert company_name(s("Limited"))[0] == "limited"


def test_nulls_survive_every_normaliser():
    nulls = s(None, "")
    for fn in (company_name, email, web_domain, phone, tax_id, country, postal_code, date_of_birth):
        assert fn(nulls).isna().all(), fn.__name__


def test_email_and_domain():
    assert email(s(" Bob@Acme.COM ", "not-an-email"))[0] == "bob@acme.com"
    assert pd.isna(email(s("not-an-email"))[0])
    assert web_domain(
        s("https://www.Acme.com/about", "acme.com", "www2.acme.co.uk:443", "bob@acme.de")
    ).tolist() == ["acme.com", "acme.com", "acme.co.uk", "acme.de"]
    assert web_domain(s("https://hänelly.de", "löwergroup.co", "not a domain", "-x-.com")).tolist()[:2] == [
        "hänelly.de",
        "löwergroup.co",
    ]
    assert web_domain(s("not a domain", "-x-.com")).isna().all()
    assert is_free_mail(s("gmail.com", "hotmail.co.uk", "web.de", "acme.com", "mail.acme.com")).tolist() == [
        True,
        True,
        True,
        False,
        False,
    ]


def test_phone_tax_country_postal_dob():
    assert phone(s("+1 (212) 555-0100", "212.555.0100 x123", "12")).tolist()[:2] == ["125550100", "125550100"]
    assert pd.isna(phone(s("12"))[0])
    assert tax_id(s("DE 123.456.789", "123456789", "gb-123 456 789")).tolist() == ["123456789"] * 3
    assert country(s("Germany", "deu", "de", "United States", "U.S.A.", "Deutschland")).tolist() == [
        "DE",
        "DE",
        "DE",
        "US",
        "US",
        "DE",
    ]
    assert postal_code(s("sw1a 1aa", "10001-1234", "75 008")).tolist() == ["SW1A1AA", "10001", "75008"]
    assert date_of_birth(s("1980-01-02", "19800102", "02/01/1980")).tolist() == ["19800102"] * 3


def test_normalize_parties_kinds_and_domains():
    df = validate_parties(
        pd.DataFrame(
            [
                dict(source_system="a", source_id="1", name="Acme Inc", email="bob@acme.com"),
                dict(
                    source_system="a",
                    source_id="2",
                    first_name="Bob",
                    last_name="Stone",
                    email="bob@acme.com",
                ),
                dict(source_system="a", source_id="3", name="Initech", email="x@gmail.com"),
                dict(source_system="a", source_id="4", name="Jane Doe", party_type="person"),
            ]
        )
    )
    norm = normalize_parties(df)
    assert norm["kind"].tolist() == ["org", "person", "org", "person"]
    assert norm.loc[0, "domain_norm"] == "acme.com"
    assert pd.isna(norm.loc[1, "domain_norm"])  # a person's work domain is not an identity
    assert pd.isna(norm.loc[2, "domain_norm"])  # free mail
    assert norm.loc[3, "first_name_norm"] == "jane" and norm.loc[3, "last_name_norm"] == "doe"
    assert norm["uid"].tolist() == [0, 1, 2, 3]
