"""The `collabflow` command run in-process on a test app, the way README runs it."""

from __future__ import annotations

from click.testing import CliRunner

from app.cli import main


def invoke(app, *args):
    return CliRunner().invoke(main, list(args), obj=script_info(app), catch_exceptions=False)


def script_info(app):
    from flask.cli import ScriptInfo
    return ScriptInfo(create_app=lambda *a, **k: app)
