"""`$metadata`: the EDMX (CSDL 4.0) document describing the served entity types and sets."""

from __future__ import annotations

from functools import cache
from xml.sax.saxutils import quoteattr

from sandbox.vendors.erp.schema import ENTITY_SETS, ENTITY_TYPES, NAMESPACE


@cache
def edmx() -> str:
    out = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">',
        "<edmx:DataServices>",
        f'<Schema Namespace="{NAMESPACE}" xmlns="http://docs.oasis-open.org/odata/ns/edm">',
    ]
    for entity in ENTITY_TYPES:
        out.append(f"<EntityType Name={quoteattr(entity.name)}>")
        out.append('<Key><PropertyRef Name="id" /></Key>')
        for name, edm, _writable in entity.properties:
            nullable = ' Nullable="false"' if name == "id" else ""
            out.append(f"<Property Name={quoteattr(name)} Type={quoteattr(edm)}{nullable} />")
        for prop, target in entity.navigation.items():
            out.append(
                f'<NavigationProperty Name={quoteattr(prop)} Type="Collection({NAMESPACE}.{target})" ContainsTarget="true" />'
            )
        if entity.name == "company":
            for set_name, entity_set in ENTITY_SETS.items():
                out.append(
                    f'<NavigationProperty Name={quoteattr(set_name)} Type="Collection({NAMESPACE}.{entity_set.entity.name})" ContainsTarget="true" />'
                )
        out.append("</EntityType>")
    for entity_set in ENTITY_SETS.values():
        if entity_set.lines:  # documents have the bound action Microsoft.NAV.post
            out.append(
                f'<Action Name="post" IsBound="true"><Parameter Name="bindingParameter" Type="{NAMESPACE}.{entity_set.entity.name}" /></Action>'
            )
    out.append('<EntityContainer Name="NAV">')
    out.append(f'<EntitySet Name="companies" EntityType="{NAMESPACE}.company" />')
    out.append("</EntityContainer>")
    out += ["</Schema>", "</edmx:DataServices>", "</edmx:Edmx>"]
    return "\n".join(out)
