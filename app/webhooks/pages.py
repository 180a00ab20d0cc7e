"""Webhook administration pages (`/admin/webhooks`): the subscriptions, a new one with its events ticked (its
secret shown once), a subscription's deliveries log with "send again", pause, resume, rotate the secret, delete."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for

from ..auth.session import me
from ..db import utcnow
from ..errors import BadRequest
from ..extensions import db_session
from . import services as webhooks
from .delivery import MAX_ATTEMPTS
from .events import EVENTS

bp = Blueprint("webhooks", __name__)
_PAGE = re.compile(r"[1-9][0-9]{0,5}")
NO_STORE = {"Cache-Control": "no-store"}  # a page may hold a secret


def _index(*, errors=None, values=None, new=None, status=200):
    rows = webhooks.subscriptions(db_session(), me())
    return render_template("webhooks/index.html", rows=rows, events=EVENTS, errors=errors or {},
                           values=values or {"events": []}, new=new, section="admin"), status, NO_STORE


@bp.get("/admin/webhooks")
def index():
    return _index()


@bp.post("/admin/webhooks")
def create():
    form = request.form
    try:
        made = webhooks.create_subscription(db_session(), me(), url=form.get("url", ""),
                                            events=form.getlist("events"), description=form.get("description", ""),
                                            now=utcnow())
    except BadRequest as exc:
        return _index(errors=exc.errors, values={**form.to_dict(), "events": form.getlist("events")}, status=400)
    return _index(new=made)  # the secret is shown once, here


def _detail(webhook_id: int, *, new=None):
    page = request.args.get("page", "1")
    row, at, items = webhooks.deliveries(db_session(), me(), webhook_id,
                                         page=int(page) if _PAGE.fullmatch(page) else 1)
    return render_template("webhooks/show.html", hook=row, page=at, deliveries=items, events=EVENTS, new=new,
                           max_attempts=MAX_ATTEMPTS, section="admin"), 200, NO_STORE


@bp.get("/admin/webhooks/<id:webhook_id>")
def show(webhook_id: int):
    return _detail(webhook_id)


@bp.post("/admin/webhooks/<id:webhook_id>/secret")
def rotate_secret(webhook_id: int):
    made = webhooks.rotate_secret(db_session(), me(), webhook_id, now=utcnow())
    return _detail(webhook_id, new=made)


@bp.post("/admin/webhooks/<id:webhook_id>/active")
def active(webhook_id: int):
    on = request.form.get("active") == "1"
    webhooks.set_active(db_session(), me(), webhook_id, on, now=utcnow())
    flash("The webhook is on again: waiting deliveries go out in order." if on else
          "The webhook is paused: no new deliveries, and waiting ones wait until you resume it.", "success")
    return redirect(url_for("webhooks.show", webhook_id=webhook_id))


@bp.post("/admin/webhooks/<id:webhook_id>/delete")
def delete(webhook_id: int):
    hook = webhooks.subscription(db_session(), me(), webhook_id)
    url = hook.url
    webhooks.delete_subscription(db_session(), me(), webhook_id, now=utcnow())
    flash(f"The webhook to {url} is deleted, with its deliveries.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/admin/webhooks/deliveries/<id:delivery_id>/resend")
def resend(delivery_id: int):
    try:
        row = webhooks.send_again(db_session(), me(), delivery_id, now=utcnow())
    except BadRequest as exc:
        flash(exc.message[:1].upper() + exc.message[1:] + ".", "error")
        return redirect(url_for("webhooks.index"))
    flash(f"The {row.event_type} delivery goes out again at the scheduler's next pass.", "success")
    return redirect(url_for("webhooks.show", webhook_id=row.subscription_id))
