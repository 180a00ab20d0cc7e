"""The `collabflow` command: set up the database, deploy diagrams, manage users, serve.

Every command is idempotent where that makes sense, so README's one-line setup can be re-run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from workflows import ValidationFailed, read_directory
from workflows.scenarios import SCENARIO_FOLDER, read_scenarios

from .auth.models import ROLES

DEMO_PASSWORD = "collabflow-demo"
DEMO_USERS = [
    # username, display name, roles, organisation, kind
    ("staff", "Sam Staff", ["staff"], "Our organisation", "own"),
    ("ser", "Sasha SER", ["ser"], "Our organisation", "own"),
    ("ser2", "Robin Deputy SER", ["ser"], "Our organisation", "own"),
    ("jmt", "Jo Joint-Team", ["jmt", "staff"], "Our organisation", "own"),
    ("owner", "Pat Process-Owner", ["process_owner"], "Our organisation", "own"),
    ("assessor", "Alex Assessor", ["assessor"], "Our organisation", "own"),
    ("admin", "Ada Admin", ["admin"], "Our organisation", "own"),
    ("top", "Terry Top-Management", ["top_management"], "Our organisation", "own"),
    ("partner-ser", "Morgan Partner SER", ["ser"], "Tailspin Toys", "partner"),
    ("partner-jmt", "Kim Partner Joint-Team", ["jmt"], "Tailspin Toys", "partner"),
]


def _create_app(*_args, **_kwargs) -> Flask:
    from . import create_app
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False)
def main():
    """collabflow: BS 11000 / ISO 44001 collaborative relationships as executable BPMN."""


def _services():
    from .extensions import services
    return services()


@main.command("init-db")
@with_appcontext
def init_db():
    """Create or upgrade the database schema (Alembic migrations)."""
    from .migrate import upgrade
    url = current_app.config["DATABASE_URL"]
    upgrade(url)
    click.echo(f"database is at the latest schema ({_safe_url(url)})")


@main.command("deploy")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of form files (default: the configured forms folder).")
@click.option("-m", "--message", default=None, help="What changed, for the version history.")
@click.option("--author", default=None, help="Username recorded as the author.")
@click.option("--force", is_flag=True, help="Deploy even if the latest version has identical content.")
@with_appcontext
def deploy(path, forms_dir, message, author, force):
    """Validate and deploy the diagrams in PATH (default: bundled bpmn/) with forms as a new version."""
    from .auth.services import get_user
    from .processes.services import deploy_version
    path = path or Path(current_app.config["BPMN_DIR"])
    forms_dir = forms_dir or Path(current_app.config["FORMS_DIR"])
    files, forms = read_directory(path, forms_dir)
    scenarios = read_scenarios(path / SCENARIO_FOLDER)
    svc = _services()
    with svc.sessions() as session:
        user = get_user(session, author) if author else None
        if author and user is None:
            raise click.UsageError(f"no user named {author!r}")
        try:
            version, warnings, created = deploy_version(
                session, svc.workflows, files, forms, user=user, message=message or f"deployed from {path}",
                skip_if_unchanged=not force, scenarios=scenarios)
        except ValidationFailed as exc:
            click.echo(f"refused: nothing was deployed. {len(exc.problems)} problem(s):", err=True)
            for problem in exc.problems:
                click.echo(f"  {problem}", err=True)
            sys.exit(1)
    for warning in warnings:
        click.echo(f"  {warning}")
    if created:
        click.echo(f"deployed version {version.id} ({version.content_hash[:12]}): {len(files)} diagrams, "
                   f"{len(forms)} form files, {len(scenarios)} scenarios, processes {', '.join(version.process_ids)}")
    else:
        click.echo(f"unchanged: version {version.id} already has this content (use --force to redeploy)")


@main.command("create-user")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(ROLES))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--name", "display_name", default=None)
@click.option("--email", default=None)
@click.option("--organisation", default="Our organisation")
@click.option("--partner", is_flag=True, help="The organisation is a partner, not ours.")
@with_appcontext
def create_user_command(username, roles, password, display_name, email, organisation, partner):
    """Create a user with one or more roles."""
    from .auth.services import create_user
    from .errors import AppError
    with _services().sessions() as session:
        try:
            create_user(session, username, password=password, roles=list(roles), organisation=organisation,
                        organisation_kind="partner" if partner else "own", display_name=display_name,
                        email=email)
        except AppError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"created {username} ({', '.join(roles)})")


@main.command("reset-second-factor")
@click.argument("username")
@with_appcontext
def reset_second_factor_command(username):
    """Remove a user's two-step sign-in (a lost phone, and no administrator left to reset it) and end their
    sessions: they sign in with their password and set it up again."""
    from .admin.services import reset_second_factor
    from .auth.services import get_user
    from .db import utcnow
    from .errors import AppError
    with _services().sessions() as session:
        user = get_user(session, username)
        if user is None:
            raise click.ClickException(f"no user {username!r}")
        try:
            reset_second_factor(session, None, user.id, now=utcnow())
        except AppError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"two-step sign-in of {username} removed; their sessions have ended")


@main.command("seed-demo")
@with_appcontext
def seed_demo():
    """Create one demo user per role (ours and the partner's), then, when a lifecycle is deployed, a few demo
    relationships at different stages; skips what exists."""
    from .auth.services import create_user, get_user
    from .db import utcnow
    from .relationships.demo import seed_relationships
    svc = _services()
    with svc.sessions() as session:
        for username, name, roles, org, kind in DEMO_USERS:
            if get_user(session, username) is None:
                create_user(session, username, password=DEMO_PASSWORD, roles=roles, organisation=org,
                            organisation_kind=kind, display_name=name)
                click.echo(f"  {username:12} {', '.join(roles):20} {org}")
        click.echo(f"demo users ready; each signs in with the password {DEMO_PASSWORD!r}")
        people = [get_user(session, u[0]) for u in DEMO_USERS if u[0] not in ("assessor", "owner")]
        started = seed_relationships(session, svc.workflows, people, now=utcnow(), report=click.echo)
    from .relationships.services import lifecycle_deployed
    with svc.sessions() as session:
        if not lifecycle_deployed(session):
            click.echo("no lifecycle process is deployed: demo relationships skipped (run collabflow deploy)")
        elif started:
            click.echo(f"{started} demo relationship(s) started")


@main.command("upgrade-management-system")
@click.option("--apply", "do_it", is_flag=True, help="Carry the plan out (without it: a dry run that changes nothing).")
@with_appcontext
def upgrade_management_system(do_it):
    """For an installation made before the management system: start the organisation's management system, let the
    newest stage 3 approved in a relationship count until the organisation's own is approved, and move the running
    relationships the new lifecycle can take (the others finish on their version). A dry run unless --apply."""
    from .db import utcnow
    from .management import upgrade
    svc = _services()
    with svc.sessions() as session:
        found = upgrade.apply(session, svc.workflows, now=utcnow()) if do_it else upgrade.plan(session, svc.workflows)
        for problem in found.problems:
            raise click.ClickException(problem)
        click.echo(f"management system: {'#' + str(found.management_system_id) if found.management_system_id else 'to be started'}")
        for label, gate in (("stage 1 (set-up)", found.legacy_set_up), ("stage 3 (assessment)", found.legacy_assessment)):
            click.echo(f"  newest {label} approved in a relationship: "
                       + (f"{gate.completed_at:%d %b %Y} (task {gate.id})" if gate else "none"))
        for step in found.relationships:
            what = ("moved to version " + str(found.latest_version_id)) if step.moved else (
                "stays on its version: " + "; ".join(step.reasons) if step.moved is False or not step.movable
                else f"can move to version {found.latest_version_id}")
            click.echo(f"  #{step.relationship_id} {step.title[:40]:40} v{step.version_id}: {what}")
        click.echo("applied" if do_it else "dry run: nothing changed (add --apply)")


@main.command("scheduler")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@with_appcontext
def scheduler_command(once):
    """Fire timers: run beside `serve --no-scheduler`, or several of them; each timer fires once."""
    import signal
    import threading

    from .jobs.scheduler import TimerScheduler
    timers = TimerScheduler(_services(), safety_interval=current_app.config["SCHEDULER_SAFETY_SECONDS"])
    if once:
        click.echo(f"fired the due timers of {timers.fire_due()} instance(s)")
        return
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    timers.start()
    click.echo("timer scheduler running; Ctrl+C stops it")
    stop.wait()
    timers.shutdown()


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="gunicorn worker processes.")
@click.option("--threads", default=4, show_default=True, type=int, help="Threads per worker.")
@click.option("--scheduler/--no-scheduler", default=True, show_default=True,
              help="Fire timers inside the web workers (off when `collabflow scheduler` runs separately).")
def serve(host, port, workers, threads, scheduler):
    """Serve collabflow with gunicorn (timers fire inside it unless --no-scheduler)."""
    import os
    os.environ["COLLABFLOW_SCHEDULER"] = "1" if scheduler else "0"
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("accesslog", "-")

        def load(self):
            from . import create_app
            pooled = os.environ.get("COLLABFLOW_DATABASE_POOL_SIZE")
            return create_app(None if pooled else {"DATABASE_POOL_SIZE": threads + 1})

    click.echo(f"collabflow on http://{host}:{port}/ ({workers} worker(s) x {threads} threads)")
    _Server().run()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)

