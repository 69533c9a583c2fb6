from __future__ import annotations

import pandas as pd

from identity.deterministic import deterministic_links
from identity.normalize import normalize_parties
from identity.schema import validate_parties


def links(rows, xref=None):
    norm = normalize_parties(validate_parties(pd.DataFrame(rows)))
    edges = deterministic_links(norm, xref)
    ids = norm.set_index("uid")["source_id"]
    return {
        (ids[a], ids[b], rule) for a, b, rule in zip(edges.uid_l, edges.uid_r, edges.match_rule, strict=True)
    }


def test_tax_id_needs_the_same_country_when_known():
    got = links(
        [
            dict(source_system="a", source_id="1", name="X", tax_id="DE123456789", country="DE"),
            dict(source_system="b", source_id="2", name="Y", tax_id="123 456 789"),
            dict(source_system="c", source_id="3", name="Z", tax_id="123456789", country="FR"),
        ]
    )
    # 1 and 2 link (2 has no country, its tax-id group... has two countries: ambiguous, so 2 stays out)
    assert ("1", "3", "tax_id") not in got
    assert all(rule != "tax_id" for *_, rule in got)
    got = links(
        [
            dict(source_system="a", source_id="1", name="X", tax_id="DE123456789", country="DE"),
            dict(source_system="b", source_id="2", name="Y", tax_id="123 456 789"),
        ]
    )
    assert got == {("1", "2", "tax_id")}


def test_email_and_company_domain_but_not_free_mail():
    got = links(
        [
            dict(source_system="a", source_id="1", name="Initech", email="peter@gmail.com"),
            dict(source_system="b", source_id="2", name="Hooli", email="gavin@gmail.com"),
            dict(source_system="a", source_id="3", name="Acme", domain="www.acme.com"),
            dict(source_system="b", source_id="4", name="ACME Corp", email="ap@acme.com"),
            dict(source_system="c", source_id="5", name="Hooli", email="GAVIN@gmail.com"),
        ]
    )
    # a shared free-mail mailbox is evidence for the model, not a deterministic key, for companies...
    assert got == {("3", "4", "domain")}
    # ...but it is a key for people
    got = links(
        [
            dict(
                source_system="a", source_id="1", first_name="Gavin", last_name="B", email="gavin@gmail.com"
            ),
            dict(
                source_system="b", source_id="2", first_name="G", last_name="Belson", email="GAVIN@gmail.com"
            ),
        ]
    )
    assert got == {("1", "2", "email")}


def test_people_do_not_link_on_shared_work_domain():
    got = links(
        [
            dict(source_system="a", source_id="1", first_name="Ann", last_name="Lee", email="ann@acme.com"),
            dict(source_system="a", source_id="2", first_name="Bo", last_name="Chan", email="bo@acme.com"),
        ]
    )
    assert got == set()


def test_cross_references():
    rows = [
        dict(source_system="crm", source_id="V1", name="Vandelay"),
        dict(source_system="erp", source_id="300", name="V"),
    ]
    xref = pd.DataFrame(
        [
            {"source_system_l": "crm", "source_id_l": "V1", "source_system_r": "erp", "source_id_r": "300"},
            {
                "source_system_l": "crm",
                "source_id_l": "missing",
                "source_system_r": "erp",
                "source_id_r": "300",
            },
        ]
    )
    assert links(rows, xref) == {("V1", "300", "cross_reference")}
    assert links(rows, [("erp", "300", "crm", "V1")]) == {("V1", "300", "cross_reference")}
