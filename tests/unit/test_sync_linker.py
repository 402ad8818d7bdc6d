"""The linker's rules without a database: which type owns which relationship (checked
against model.relationships_of on generated tenants), and the set arithmetic of a page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from msp_pipeline.model import ENTITY_TYPES, relationships_of
from msp_pipeline.sync.linker import (
    DECLARATIONS,
    inbound_declarers,
    owned_relationships,
    plan,
)
from rollout_bench.tenants import generate_tenant, load_profile

AS_OF = datetime(2026, 11, 28, tzinfo=UTC)


@pytest.mark.parametrize("profile", ["small", "worked-example"])
def test_declarations_match_what_payloads_declare(profile: str) -> None:
    tenant = generate_tenant(load_profile(profile), 1, 0, AS_OF)
    by_relationship = {d.relationship: d for d in DECLARATIONS}
    seen = set()
    for entity_type, payloads in tenant.payloads.items():
        for payload in payloads:
            for parent_type, parent, child_type, child, relationship in relationships_of(
                    entity_type, payload["id"], payload):
                declaration = by_relationship[relationship]
                declarer, other_type = ((parent_type, parent), child_type) if declaration.declarer_end == "parent" \
                    else ((child_type, child), parent_type)
                assert declaration.declared_by == entity_type and declarer == (entity_type, payload["id"])
                assert other_type in declaration.other_types
                seen.add((relationship, other_type))
    assert seen == {(d.relationship, t) for d in DECLARATIONS for t in d.other_types}


def test_each_type_owns_and_receives_what_it_should() -> None:
    assert {t: owned_relationships(t) for t in ENTITY_TYPES} == {
        "identities": {"has_license": "child"}, "groups": {"member_of": "parent"},
        "roles": {"assigned_role": "parent"}, "policies": {"applies_to": "parent"}, "licenses": {}}
    assert {t: inbound_declarers(t) for t in ENTITY_TYPES} == {
        "identities": ["groups", "policies", "roles"], "groups": ["policies"], "roles": [], "policies": [],
        "licenses": ["identities"]}


def test_plan_replaces_owned_relationships_and_only_adds_inbound_ones() -> None:
    page = {1, 2}  # two groups
    existing = {(1, 10, "member_of"), (1, 11, "member_of"), (2, 12, "member_of"),
                (30, 1, "applies_to"),  # a policy -> group: the policy owns it
                (3, 13, "member_of")}   # another group's member: not this page's
    wanted_owned = {(1, 10, "member_of"), (2, 14, "member_of")}
    wanted_inbound = {(30, 1, "applies_to"), (31, 2, "applies_to")}

    result = plan(existing, wanted_owned, wanted_inbound, owned_relationships("groups"), page)

    assert result.stale == [(1, 11, "member_of"), (2, 12, "member_of")]
    assert result.missing == [(2, 14, "member_of"), (31, 2, "applies_to")]


def test_plan_for_identities_owns_the_license_end_only() -> None:
    page = {10}
    existing = {(1, 10, "member_of"), (50, 10, "has_license"), (51, 10, "has_license")}
    result = plan(existing, {(50, 10, "has_license")}, {(1, 10, "member_of")}, owned_relationships("identities"),
                  page)
    assert result.stale == [(51, 10, "has_license")]
    assert result.missing == []


def test_plan_of_an_unchanged_page_does_nothing() -> None:
    existing = {(1, 10, "member_of"), (30, 1, "applies_to")}
    result = plan(existing, {(1, 10, "member_of")}, {(30, 1, "applies_to")}, owned_relationships("groups"), {1})
    assert (result.stale, result.missing) == ([], [])
