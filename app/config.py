"""Configuration, read from the environment once, when the app is created."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The product's catalogue of BS 11000 / ISO 44001 requirements: diagrams name its ids, compliance reads it.
REQUIREMENTS_FILE = str(ROOT / "app" / "lifecycle" / "requirements.yaml")


def _bool(value: str | None, default: bool) -> bool:
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def from_environment(instance_path: str) -> dict:
    """Settings from COLLABFLOW_* / standard variables, with embedded defaults (SQLite in the instance folder)."""
    env = os.environ
    secret = env.get("SECRET_KEY") or _instance_secret(instance_path)
    return {
        "SECRET_KEY": secret,
        "DATABASE_URL": env.get("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'collabflow.sqlite3'}",
        # PostgreSQL connections each process keeps open: one per thread serving requests, or connections beyond
        # it are opened and closed on every request (`collabflow serve` sets threads + 1 unless this is given)
        "DATABASE_POOL_SIZE": int(env["COLLABFLOW_DATABASE_POOL_SIZE"]) if env.get(
            "COLLABFLOW_DATABASE_POOL_SIZE") else None,
        "BPMN_DIR": env.get("COLLABFLOW_BPMN_DIR", str(ROOT / "bpmn")),
        "FORMS_DIR": env.get("COLLABFLOW_FORMS_DIR", str(ROOT / "forms")),
        # the requirement ids diagrams may name (BS 11000 / ISO 44001 as shipped); a process owner's catalogue
        "MAX_CONTENT_LENGTH": int(env.get("COLLABFLOW_MAX_REQUEST_BYTES", 16 * 1024 * 1024)),
        "UPLOAD_MAX_BYTES": int(env.get("COLLABFLOW_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
        # a register imported from a spreadsheet: the preview page carries the file back to its confirm button in
        # the form, which Flask's form limit (500 KB) bounds
        "SPREADSHEET_MAX_BYTES": int(env.get("COLLABFLOW_SPREADSHEET_MAX_BYTES", 300 * 1024)),
        "SCRIPT_TIME_LIMIT": float(env.get("COLLABFLOW_SCRIPT_TIME_LIMIT", 1.0)),
        "SCHEDULER_ENABLED": _bool(env.get("COLLABFLOW_SCHEDULER"), False),
        "SCHEDULER_SAFETY_SECONDS": float(env.get("COLLABFLOW_SCHEDULER_SAFETY_SECONDS", 60)),
        "SMTP_HOST": env.get("SMTP_HOST"),
        "SMTP_PORT": int(env.get("SMTP_PORT", 25)),
        "SMTP_USERNAME": env.get("SMTP_USERNAME"),
        "SMTP_PASSWORD": env.get("SMTP_PASSWORD"),
        "SMTP_STARTTLS": _bool(env.get("SMTP_STARTTLS"), False),
        "MAIL_FROM": env.get("MAIL_FROM", "collabflow@localhost"),
        "BASE_URL": env.get("COLLABFLOW_BASE_URL", "http://127.0.0.1:5000"),
        "DEADLINE_REMINDER_LEAD_HOURS": float(env.get("COLLABFLOW_REMINDER_LEAD_HOURS", 24)),
        # signed-in browser sessions (kept on the server): ended after this long without a request, and this
        # long after signing in whatever happens
        "SESSION_IDLE_MINUTES": float(env.get("COLLABFLOW_SESSION_IDLE_MINUTES", 120)),
        "SESSION_MAX_HOURS": float(env.get("COLLABFLOW_SESSION_MAX_HOURS", 12)),
        # single sign-on with OpenID Connect (app/sso; docs/integrations.md): off while no issuer is set
        "OIDC_ISSUER": env.get("COLLABFLOW_OIDC_ISSUER") or None,
        "OIDC_CLIENT_ID": env.get("COLLABFLOW_OIDC_CLIENT_ID"),
        "OIDC_CLIENT_SECRET": env.get("COLLABFLOW_OIDC_CLIENT_SECRET"),
        "OIDC_PROVIDER_NAME": env.get("COLLABFLOW_OIDC_PROVIDER_NAME", "your organisation's account"),
        "OIDC_SCOPES": env.get("COLLABFLOW_OIDC_SCOPES", "openid profile email"),
        "OIDC_GROUPS_CLAIM": env.get("COLLABFLOW_OIDC_GROUPS_CLAIM", "groups"),
        "OIDC_GROUP_ROLES": env.get("COLLABFLOW_OIDC_GROUP_ROLES", "{}"),  # JSON: {"group": ["role", ...]}
        "OIDC_GROUP_ORGANISATIONS": env.get("COLLABFLOW_OIDC_GROUP_ORGANISATIONS", "{}"),  # JSON: {"group": "name"}
        "OIDC_DEFAULT_ORGANISATION": env.get("COLLABFLOW_OIDC_DEFAULT_ORGANISATION") or None,
        "OIDC_CREATE_USERS": _bool(env.get("COLLABFLOW_OIDC_CREATE_USERS"), False),
        "OIDC_LINK_BY_EMAIL": _bool(env.get("COLLABFLOW_OIDC_LINK_BY_EMAIL"), False),
        # our organisation's people sign in only through the provider; partners' people keep their passwords
        "OIDC_PASSWORDS_OFF_FOR_OWN": _bool(env.get("COLLABFLOW_OIDC_PASSWORDS_OFF_FOR_OWN"), False),
        # how often a signed-in SSO session asks the provider whether its person is still there (0: every request)
        "OIDC_CHECK_SECONDS": float(env.get("COLLABFLOW_OIDC_CHECK_SECONDS", 0)),
        "OIDC_TIMEOUT_SECONDS": float(env.get("COLLABFLOW_OIDC_TIMEOUT_SECONDS", 5)),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool(env.get("COLLABFLOW_SECURE_COOKIES"), False),
    }


def _instance_secret(instance_path: str) -> str:
    """A random secret kept in the instance folder, so sessions survive restarts without configuration."""
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
