"""The app's long-lived collaborators, built once per app and found through `app.extensions`."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from workflows import WorkflowEngine

from .db import end_read_only, make_engine, make_session_factory


@dataclass
class Services:
    db_engine: Engine
    sessions: sessionmaker
    workflows: WorkflowEngine
    mail: object = None  # app.notifications.services.MailSettings when SMTP_HOST is set: services are given it
    inbox_options: object = None  # app.inbox.queries.OptionsCache: the inbox drop-downs, shared by the app's requests
    scheduler: object | None = None  # app.jobs.scheduler.TimerScheduler when this process fires timers
    sso: object | None = None  # app.sso.settings.Settings when COLLABFLOW_OIDC_ISSUER is set (else no single sign-on)
    oidc: object | None = None  # app.sso.provider.OpenIdProvider of those settings


def init_app(app: Flask) -> Services:
    db_engine = make_engine(app.config["DATABASE_URL"], pool_size=app.config.get("DATABASE_POOL_SIZE"))
    from .inbox.queries import OptionsCache
    sessions = make_session_factory(db_engine)
    workflows = WorkflowEngine(None, script_time_limit=app.config["SCRIPT_TIME_LIMIT"])
    services = Services(db_engine, sessions, workflows, mail=_mail_settings(app.config), inbox_options=OptionsCache())
    services.sso, services.oidc = _single_sign_on(app.config)
    app.extensions["collabflow"] = services
    app.teardown_appcontext(_close_session)
    if app.config["SCHEDULER_ENABLED"]:
        start_scheduler(services, app.config)
    return services


def start_scheduler(services: Services, config) -> None:
    """Timers fire in this process (one scheduler per process is safe: firing claims each instance)."""
    import atexit
    from datetime import timedelta

    from .jobs.scheduler import TimerScheduler
    services.scheduler = TimerScheduler(
        services, safety_interval=config["SCHEDULER_SAFETY_SECONDS"],
        reminder_lead=timedelta(hours=config["DEADLINE_REMINDER_LEAD_HOURS"])).start()
    atexit.register(services.scheduler.shutdown)


def _single_sign_on(config):
    """The single sign-on settings and the provider they name, or (None, None). Wrong settings stop the app here,
    naming the variable (app.sso.settings.SettingsError); the provider itself is first asked at the first sign-in."""
    from .sso.provider import OpenIdProvider
    from .sso.settings import from_config
    settings = from_config(config)
    if settings is None:
        return None, None
    return settings, OpenIdProvider(settings.issuer, settings.client_id, settings.client_secret,
                                    scopes=settings.scopes, timeout=settings.timeout)


def _mail_settings(config):
    from .notifications.services import MailSettings
    if not config.get("SMTP_HOST"):
        return None
    return MailSettings(host=config["SMTP_HOST"], port=config["SMTP_PORT"], sender=config["MAIL_FROM"],
                        username=config["SMTP_USERNAME"], password=config["SMTP_PASSWORD"],
                        starttls=config["SMTP_STARTTLS"], base_url=config["BASE_URL"])


def services() -> Services:
    return current_app.extensions["collabflow"]


def db_session() -> Session:
    """The request's session, opened on first use and closed when the request ends."""
    if "db_session" not in g:
        g.db_session = services().sessions()
    return g.db_session


def _close_session(exc):
    session = g.pop("db_session", None)
    if session is not None:
        try:
            if exc is None:
                end_read_only(session)
        finally:
            session.close()
