"""The `collabflow` command, run the way README runs it."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import func, select

from app.cli import DEMO_USERS, main
from app.processes.models import ProcessVersion
from tests.support.bundles import DATA
from tests.support.cli import invoke, script_info


def test_init_db_deploy_and_seed_are_idempotent(app, session):
    assert invoke(app, "init-db").exit_code == 0
    first = invoke(app, "deploy", str(DATA), "--forms", str(DATA / "forms"), "-m", "first")
    only = session.scalar(select(ProcessVersion.id))  # its id: PostgreSQL's sequences outlive rolled-back tests
    assert first.exit_code == 0 and f"deployed version {only} " in first.output
    again = invoke(app, "deploy", str(DATA), "--forms", str(DATA / "forms"))
    assert again.exit_code == 0 and "unchanged" in again.output
    seeded = invoke(app, "seed-demo")
    assert seeded.exit_code == 0 and all(u[0] in seeded.output for u in DEMO_USERS)
    assert invoke(app, "seed-demo").exit_code == 0
    from app.auth.services import get_user, verify_password
    assert verify_password(get_user(session, "ser").password_hash, "collabflow-demo")
    assert get_user(session, "partner-ser").is_partner


def test_a_rejected_deploy_exits_non_zero_and_lists_problems(app, session, tmp_path):
    (tmp_path / "bad.bpmn").write_text('<?xml version="1.0"?>\n<definitions>\n<oops></definitions>')
    result = CliRunner().invoke(main, ["deploy", str(tmp_path), "--forms", str(tmp_path)], obj=script_info(app))
    assert result.exit_code == 1
    assert "refused: nothing was deployed" in result.output and "bad.bpmn:3" in result.output
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 0


def test_create_user_refuses_a_taken_name(app):
    assert invoke(app, "create-user", "pat", "--role", "staff", "--password", "pw").exit_code == 0
    result = CliRunner().invoke(main, ["create-user", "pat", "--role", "staff", "--password", "pw"],
                                obj=script_info(app))
    assert result.exit_code == 1 and "taken" in result.output


def test_reset_second_factor_removes_it_and_ends_the_sessions(app, session, users):
    import pyotp

    from app.auth import second_factor, user_sessions
    from app.db import utcnow
    now = utcnow()
    enrolment = second_factor.start(session, users["admin"], now=now)
    second_factor.confirm(session, users["admin"], pyotp.TOTP(enrolment.secret).at(now), now=now)
    secret = user_sessions.begin(session, users["admin"], now=now)
    result = invoke(app, "reset-second-factor", "admin")
    assert result.exit_code == 0 and "removed" in result.output
    assert not second_factor.enabled(session, users["admin"])
    assert user_sessions.current(session, secret, now=utcnow(), limits=user_sessions.Limits()) is None
    again = CliRunner().invoke(main, ["reset-second-factor", "admin"], obj=script_info(app))
    assert again.exit_code == 1 and "no two-step sign-in" in again.output
    nobody = CliRunner().invoke(main, ["reset-second-factor", "nobody"], obj=script_info(app))
    assert nobody.exit_code == 1 and "no user" in nobody.output
