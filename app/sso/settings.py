"""The single sign-on settings (COLLABFLOW_OIDC_*), read and checked once when the app is made: a mapping that
names an unknown role, or JSON that does not parse, stops the app at start with the variable named, never at the
first sign-in."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from ..auth.models import ROLES


class SettingsError(ValueError):
    """A single sign-on setting is wrong; the message names the environment variable."""


@dataclass(frozen=True)
class Settings:
    issuer: str
    client_id: str
    client_secret: str | None
    provider_name: str = "your organisation's account"
    scopes: str = "openid profile email"
    groups_claim: str = "groups"
    group_roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group_organisations: dict[str, str] = field(default_factory=dict)  # in the order given: the first match wins
    default_organisation: str | None = None
    create_users: bool = False
    link_by_email: bool = False
    passwords_off_for_own: bool = False
    check_every: timedelta = timedelta(0)
    timeout: float = 5.0


def from_config(config) -> Settings | None:
    """The settings from the app's config, or None when no issuer is set (single sign-on is off). Raises
    SettingsError naming the variable that is wrong."""
    issuer = config.get("OIDC_ISSUER")
    if not issuer:
        return None
    if not config.get("OIDC_CLIENT_ID"):
        raise SettingsError("COLLABFLOW_OIDC_CLIENT_ID is required when COLLABFLOW_OIDC_ISSUER is set")
    return Settings(
        issuer=issuer, client_id=config["OIDC_CLIENT_ID"], client_secret=config.get("OIDC_CLIENT_SECRET") or None,
        provider_name=config.get("OIDC_PROVIDER_NAME") or "your organisation's account",
        scopes=config.get("OIDC_SCOPES") or "openid profile email",
        groups_claim=config.get("OIDC_GROUPS_CLAIM") or "groups",
        group_roles=_group_roles(config.get("OIDC_GROUP_ROLES")),
        group_organisations=_group_organisations(config.get("OIDC_GROUP_ORGANISATIONS")),
        default_organisation=config.get("OIDC_DEFAULT_ORGANISATION") or None,
        create_users=bool(config.get("OIDC_CREATE_USERS")), link_by_email=bool(config.get("OIDC_LINK_BY_EMAIL")),
        passwords_off_for_own=bool(config.get("OIDC_PASSWORDS_OFF_FOR_OWN")),
        check_every=timedelta(seconds=float(config.get("OIDC_CHECK_SECONDS") or 0)),
        timeout=float(config.get("OIDC_TIMEOUT_SECONDS") or 5))


def _json_object(value, variable: str) -> dict:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value or "{}")
    except ValueError as exc:
        raise SettingsError(f"{variable} is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise SettingsError(f"{variable} must be a JSON object: {{\"group\": ...}}")
    return parsed


def _group_roles(value) -> dict[str, tuple[str, ...]]:
    variable = "COLLABFLOW_OIDC_GROUP_ROLES"
    mapping = {}
    for group, roles in _json_object(value, variable).items():
        roles = [roles] if isinstance(roles, str) else roles
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise SettingsError(f"{variable}: the group {group!r} must map to a role or a list of roles")
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise SettingsError(f"{variable}: the group {group!r} names unknown role(s) {', '.join(unknown)}; "
                                f"roles are {', '.join(ROLES)}")
        mapping[group] = tuple(roles)
    return mapping


def _group_organisations(value) -> dict[str, str]:
    variable = "COLLABFLOW_OIDC_GROUP_ORGANISATIONS"
    mapping = _json_object(value, variable)
    for group, name in mapping.items():
        if not isinstance(name, str) or not name.strip():
            raise SettingsError(f"{variable}: the group {group!r} must map to an organisation's name")
    return dict(mapping)
