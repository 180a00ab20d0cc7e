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
        "BPMN_DIR": env.get("COLLABFLOW_BPMN_DIR", str(ROOT / "bpmn")),
        "FORMS_DIR": env.get("COLLABFLOW_FORMS_DIR", str(ROOT / "forms")),
        # the requirement ids diagrams may name (BS 11000 / ISO 44001 as shipped); a process owner's catalogue
        "MAX_CONTENT_LENGTH": int(env.get("COLLABFLOW_MAX_REQUEST_BYTES", 16 * 1024 * 1024)),
        "UPLOAD_MAX_BYTES": int(env.get("COLLABFLOW_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)),
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
