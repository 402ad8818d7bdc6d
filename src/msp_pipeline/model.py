"""The tenant data model shared by both paths, the generator and the harness.

Three shapes of the same object:
- a Graph payload (`graph_source.payload`, what Microsoft Graph would return);
- normalized data (`entities.normalized_data`, written by the processor via `normalize`);
- a `TenantSnapshot` (what the rules read), built by `TenantSnapshot.from_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal

EntityType = Literal["identities", "groups", "roles", "policies", "licenses"]
ENTITY_TYPES: tuple[EntityType, ...] = ("identities", "groups", "roles", "policies", "licenses")
SECURITY_DEFAULTS_ID = "security-defaults"
NEVER_SIGNED_IN = datetime(1970, 1, 1, tzinfo=timezone.utc)
ADMIN_ROLE_MARKER = "administrator"

RelationshipType = Literal["member_of", "assigned_role", "applies_to", "has_license"]
Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
ALERT_TYPES = (
    "mfa_not_enforced",
    "mfa_partial_enforced",
    "policy_gap",
    "license_waste",
    "license_overuse",
    "stale_user",
)
_POLICY_STATES = {
    "enabled": "enabled",
    "enabledForReportingButNotEnforced": "report-only",
    "disabled": "disabled",
}


class PayloadError(ValueError):
    """A Graph payload that cannot be normalized (wrong type or missing field)."""


def _require(payload: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in payload:
        raise PayloadError(f"payload field {key!r} is missing")
    value = payload[key]
    if not isinstance(value, kind):
        raise PayloadError(f"payload field {key!r} has type {type(value).__name__}")
    return value


def parse_time(value: str | None) -> datetime:
    """ISO 8601 (with Z) to an aware datetime; None means never signed in."""
    if value is None:
        return NEVER_SIGNED_IN
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def format_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize(entity_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """Graph payload -> `entities.normalized_data`. Raises PayloadError on a bad payload."""
    if entity_type == "identities":
        sign_in = payload.get("signInActivity") or {}
        return {
            "name": _require(payload, "displayName", str),
            "email": _require(payload, "userPrincipalName", str),
            "type": "guest" if payload.get("userType") == "Guest" else "member",
            "enabled": bool(_require(payload, "accountEnabled", bool)),
            "licenses": sorted(lic["skuId"] for lic in _require(payload, "assignedLicenses", list)),
            "last_login_at": format_time(parse_time(sign_in.get("lastSignInDateTime"))),
        }
    if entity_type in ("groups", "roles"):
        return {"name": _require(payload, "displayName", str)}
    if entity_type == "policies":
        if payload.get("id") == SECURITY_DEFAULTS_ID:
            return {
                "name": _require(payload, "displayName", str),
                "security_defaults_enabled": bool(_require(payload, "isEnabled", bool)),
            }
        state = _require(payload, "state", str)
        if state not in _POLICY_STATES:
            raise PayloadError(f"policy state {state!r} is not one of {sorted(_POLICY_STATES)}")
        users = _require(payload, "conditions", dict).get("users", {})
        apps = payload["conditions"].get("applications", {})
        return {
            "name": _require(payload, "displayName", str),
            "status": _POLICY_STATES[state],
            "include_users": list(users.get("includeUsers", [])),
            "exclude_users": list(users.get("excludeUsers", [])),
            "include_groups": list(users.get("includeGroups", [])),
            "exclude_groups": list(users.get("excludeGroups", [])),
            "include_applications": list(apps.get("includeApplications", [])),
            "built_in_controls": list(
                (payload.get("grantControls") or {}).get("builtInControls", [])
            ),
        }
    if entity_type == "licenses":
        return {
            "sku_id": _require(payload, "skuId", str),
            "name": _require(payload, "skuPartNumber", str),
            "total_units": int(_require(payload, "prepaidUnits", dict).get("enabled", 0)),
            "consumed_units": int(_require(payload, "consumedUnits", int)),
        }
    raise PayloadError(f"entity type {entity_type!r} is not one of {list(ENTITY_TYPES)}")


def relationships_of(entity_type: str, external_id: str, payload: Mapping[str, Any]) -> list[tuple[str, str, str, str, RelationshipType]]:
    """The relationships a payload declares, as
    (parent_type, parent_external_id, child_type, child_external_id, relationship_type).

    group.members -> member_of; role.members -> assigned_role;
    identity.assignedLicenses -> has_license (license -> identity);
    policy includeUsers/includeGroups (not "All") -> applies_to.
    """
    out: list[tuple[str, str, str, str, RelationshipType]] = []
    if entity_type == "groups":
        out += [("groups", external_id, "identities", m, "member_of") for m in payload.get("members", [])]
    elif entity_type == "roles":
        out += [("roles", external_id, "identities", m, "assigned_role") for m in payload.get("members", [])]
    elif entity_type == "identities":
        out += [("licenses", lic["skuId"], "identities", external_id, "has_license")
                for lic in payload.get("assignedLicenses", [])]
    elif entity_type == "policies" and external_id != SECURITY_DEFAULTS_ID:
        users = (payload.get("conditions") or {}).get("users", {})
        out += [("policies", external_id, "identities", u, "applies_to")
                for u in users.get("includeUsers", []) if u != "All"]
        out += [("policies", external_id, "groups", g, "applies_to") for g in users.get("includeGroups", [])]
    return out


@dataclass(frozen=True)
class Identity:
    external_id: str
    name: str
    email: str
    user_type: str
    enabled: bool
    licenses: tuple[str, ...]
    last_login_at: datetime
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Policy:
    external_id: str
    name: str
    status: str
    include_users: frozenset[str]
    exclude_users: frozenset[str]
    include_groups: frozenset[str]
    exclude_groups: frozenset[str]
    include_applications: frozenset[str]
    built_in_controls: frozenset[str]


@dataclass(frozen=True)
class License:
    external_id: str
    name: str
    total_units: int
    consumed_units: int


@dataclass
class TenantSnapshot:
    """Everything the four rules read about one tenant, keyed by external id."""

    tenant_id: str
    identities: dict[str, Identity]
    policies: dict[str, Policy]
    licenses: dict[str, License]
    security_defaults: bool
    group_names: dict[str, str] = field(default_factory=dict)
    role_names: dict[str, str] = field(default_factory=dict)
    group_members: dict[str, frozenset[str]] = field(default_factory=dict)
    role_members: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._groups_of: dict[str, set[str]] = {}
        for group, members in self.group_members.items():
            for member in members:
                self._groups_of.setdefault(member, set()).add(group)
        self._admins = {
            member
            for role, members in self.role_members.items()
            if ADMIN_ROLE_MARKER in self.role_names.get(role, "").lower()
            for member in members
        }

    def groups_of(self, identity_id: str) -> set[str]:
        return self._groups_of.get(identity_id, set())

    def is_admin(self, identity_id: str) -> bool:
        return identity_id in self._admins

    @classmethod
    def from_rows(
        cls,
        tenant_id: str,
        entities: Iterable[tuple[str, str, Mapping[str, Any], Iterable[str]]],
        memberships: Iterable[tuple[str, str, str]],
    ) -> TenantSnapshot:
        """entities: (entity_type, external_id, normalized_data, tags);
        memberships: (relationship_type, parent_external_id, child_external_id) for
        member_of and assigned_role (others are ignored)."""
        identities: dict[str, Identity] = {}
        policies: dict[str, Policy] = {}
        licenses: dict[str, License] = {}
        groups: dict[str, str] = {}
        roles: dict[str, str] = {}
        security_defaults = False
        for entity_type, ext, data, tags in entities:
            if entity_type == "identities":
                identities[ext] = Identity(
                    ext, data["name"], data["email"], data["type"], bool(data["enabled"]),
                    tuple(data["licenses"]), parse_time(data["last_login_at"]), frozenset(tags),
                )
            elif entity_type == "policies" and ext == SECURITY_DEFAULTS_ID:
                security_defaults = bool(data["security_defaults_enabled"])
            elif entity_type == "policies":
                policies[ext] = Policy(
                    ext, data["name"], data["status"],
                    *(frozenset(data[k]) for k in (
                        "include_users", "exclude_users", "include_groups", "exclude_groups",
                        "include_applications", "built_in_controls",
                    )),
                )
            elif entity_type == "licenses":
                licenses[ext] = License(ext, data["name"], int(data["total_units"]), int(data["consumed_units"]))
            elif entity_type == "groups":
                groups[ext] = data["name"]
            elif entity_type == "roles":
                roles[ext] = data["name"]
        group_members: dict[str, set[str]] = {}
        role_members: dict[str, set[str]] = {}
        for rel_type, parent, child in memberships:
            if rel_type == "member_of":
                group_members.setdefault(parent, set()).add(child)
            elif rel_type == "assigned_role":
                role_members.setdefault(parent, set()).add(child)
        return cls(
            tenant_id, identities, policies, licenses, security_defaults, groups, roles,
            {k: frozenset(v) for k, v in group_members.items()},
            {k: frozenset(v) for k, v in role_members.items()},
        )


@dataclass(frozen=True, order=True)
class Finding:
    """One finding of a rule. `subject` tells apart several findings of one type on one
    entity (the SKU for license_waste); `key` is what comparison and accuracy match on."""

    entity_type: str
    entity_external_id: str
    alert_type: str
    severity: str
    subject: str = ""
    message: str = field(default="", compare=False)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.entity_external_id, self.alert_type, self.severity)


def payload_hash(payload: Mapping[str, Any]) -> str:
    """entities.data_hash: sha256 of the payload's canonical JSON (sorted keys, no spaces)."""
    import hashlib
    import json

    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
