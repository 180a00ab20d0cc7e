"""Calendar feeds as a calendar app sees them: made on the account page (shown once), fetched over HTTP with no
session, parsed with `icalendar`; a rescheduled review moves (same UID); a partner's feed holds nothing internal;
a revoked feed, or a deactivated person's, answers 404."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.audit.models import AuditEvent
from app.inbox import services as inbox
from app.processes.models import HumanTask, ProcessInstance, Timer
from tests.support.calendar import events, feed_url_in, fetch, path_of


def _reviews(session, relationship_id):
    """The relationship's waiting review timers, earliest first: (timer row, review instance)."""
    session.expire_all()
    return session.execute(select(Timer, ProcessInstance).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
                           .where(ProcessInstance.root_id == relationship_id,
                                  ProcessInstance.process_id == "periodic_review",
                                  ProcessInstance.status == "running")
                           .order_by(Timer.due_at, Timer.id)).all()


def _make_feed(browser, page="/account", action="/account/calendar-feed") -> str:
    response = browser.post(action, page=page)
    assert response.status_code == 200
    return feed_url_in(response.get_data(as_text=True))


def test_a_persons_feed_holds_their_next_review_and_the_event_moves_when_it_is_rescheduled(
        working_together, signed_in, app, session, users, host):
    working_together.drive(until=lambda d: d.linked("periodic_review"))  # stage 5 schedules its reviews
    relationship = working_together.instance_id
    staff = signed_in("staff")
    url = _make_feed(staff)
    assert "/calendar/cal_" in url and url.endswith(".ics")
    assert url not in staff.get("/account").get_data(as_text=True)  # shown once, never again

    calendar_app = app.test_client()  # a calendar app: no cookie, only the address
    feed = events(fetch(calendar_app, url))
    timer, review = _reviews(session, relationship)[0]
    uid = f"timer-{review.id}-{timer.bpmn_id}@{host}"
    assert uid in feed, sorted(feed)
    event = feed[uid]
    assert event.decoded("DTSTART") == timer.due_at.replace(microsecond=0)
    assert review.title in str(event["SUMMARY"]) and "Tailspin partnership" in str(event["SUMMARY"])
    assert str(event["URL"]).endswith(f"/relationships/{relationship}")
    assert event.decoded("DTSTAMP") and event.decoded("LAST-MODIFIED")

    # the deadlines are exactly the tasks in the person's inbox that have a due date (not a JMT's, not an SER gate)
    session.expire_all()
    ready = session.scalars(select(HumanTask).where(HumanTask.state == "ready", HumanTask.due_at.is_not(None))).all()
    mine = {f"task-{t.id}@{host}" for t in ready if t.assignee_id == users["staff"].id or (
        t.assignee_id is None and t.role == "staff" and not t.partner_side)}
    assert {u for u in feed if u.startswith("task-")} == mine
    assert any(t.role != "staff" for t in ready)  # someone else's work exists, and stays out

    # the review is rescheduled (its timer moves): the same event moves, nothing is added
    moved = timer.due_at + timedelta(days=3, hours=2)
    session.execute(update(Timer).where(Timer.id == timer.id).values(due_at=moved))
    session.commit()
    again = events(fetch(calendar_app, url))
    assert set(again) == set(feed)
    assert again[uid].decoded("DTSTART") == moved.replace(microsecond=0)
    assert [e for e in again.values() if str(e["SUMMARY"]) == str(event["SUMMARY"])] == [again[uid]]

    # a deadline set, then moved, through the product (an SER sets a task's due date): one event, and it moves
    issue = working_together.raise_issue("Late drawings")
    (logged,) = issue.ready()
    task_uid = f"task-{logged.id}@{host}"
    due = working_together.now + timedelta(days=2)
    inbox.set_due(session, users["ser"], logged.id, due, now=working_together.now)
    third = events(fetch(calendar_app, url))
    assert third[task_uid].decoded("DTSTART") == due.replace(microsecond=0)
    later = due + timedelta(days=5)
    inbox.set_due(session, users["ser"], logged.id, later, now=working_together.now)
    fourth = events(fetch(calendar_app, url))
    assert set(fourth) == set(third)
    assert fourth[task_uid].decoded("DTSTART") == later.replace(microsecond=0)


def test_a_partners_feeds_hold_nothing_internal(session, services, users, bundled, signed_in, app, host):
    from app.db import utcnow
    from app.lifecycle.services import current_stage
    from app.management.services import management_system
    from app.relationships import services as relationships
    from tests.support.driver import Driver
    started = relationships.start(session, services.workflows, users["staff"], title="Tailspin partnership",
                                  partner="Partner Ltd", now=utcnow())
    relationship = started.instance_id
    rel = Driver(session, services, users, relationship, utcnow())
    rel.drive(until=lambda d: (current_stage(session, d.instance_id) or 0) >= 4)
    partner, staff = signed_in("pser"), signed_in("staff")
    partner_own = _make_feed(partner)
    partner_rel = _make_feed(partner, f"/relationships/{relationship}/calendar",
                             f"/relationships/{relationship}/calendar")
    staff_rel = _make_feed(staff, f"/relationships/{relationship}/calendar", f"/relationships/{relationship}/calendar")
    staff_own = _make_feed(staff)
    calendar_app = app.test_client()

    # stage 4: our internal preparation has deadlines; our people see them, the partner nothing of them
    session.expire_all()
    internal = {f"task-{t.id}@{host}" for t in session.scalars(select(HumanTask).where(
        HumanTask.state == "ready", HumanTask.due_at.is_not(None), HumanTask.process_id.like("stage4%")))}
    assert internal
    assert internal <= set(events(fetch(calendar_app, staff_rel)))
    assert not internal & set(events(fetch(calendar_app, partner_rel)))
    assert not internal & set(events(fetch(calendar_app, partner_own)))

    # stage 5 and its reviews: the joint reviews reach the partner; the organisation's own reviews and audits never
    rel.drive(until=lambda d: d.linked("periodic_review"))
    organisation = management_system(session).id
    session.expire_all()
    ours = {f"timer-{t.instance_id}-{t.bpmn_id}@{host}" for t in session.scalars(
        select(Timer).join(ProcessInstance, ProcessInstance.id == Timer.instance_id)
        .where(ProcessInstance.root_id == organisation, ProcessInstance.parent_id.is_not(None)))}
    joint = {f"timer-{review.id}-{timer.bpmn_id}@{host}" for timer, review in _reviews(session, relationship)}
    assert ours and joint
    assert ours <= set(events(fetch(calendar_app, staff_own)))
    stage4_tasks = {f"task-{t.id}@{host}" for t in session.scalars(select(HumanTask).where(
        HumanTask.process_id.like("stage4%")))}
    for url in (partner_own, partner_rel):
        feed = events(fetch(calendar_app, url))
        assert joint <= set(feed)
        assert not ours & set(feed)
        assert not stage4_tasks & set(feed)
        assert all("Management" not in str(e["SUMMARY"]) for e in feed.values())
        assert all(f"/relationships/{relationship}" in str(e["URL"]) or "/tasks/" in str(e["URL"])
                   for e in feed.values())
    # the partner learns nothing of the organisation's own calendar
    assert partner.get(f"/relationships/{organisation}/calendar").status_code == 404
    assert partner.post(f"/relationships/{organisation}/calendar",
                        page=f"/relationships/{relationship}/calendar").status_code == 404


def test_a_revoked_feed_and_a_deactivated_persons_feed_answer_404(app, session, users, signed_in):
    from app.admin.services import set_active
    from app.db import utcnow
    staff = signed_in("staff")
    calendar_app = app.test_client()
    first = _make_feed(staff)
    assert len(fetch(calendar_app, first).walk("VEVENT")) == 0  # nothing falls due yet: an empty calendar
    second = _make_feed(staff)  # a new address replaces the old one
    assert calendar_app.get(path_of(first)).status_code == 404
    fetch(calendar_app, second)

    html = staff.get("/account").get_data(as_text=True)
    assert "Revoke the feed" in html and second.split("/calendar/")[1][:10] in html
    from app.calendar.services import feed_of
    revoked = staff.post(f"/account/calendar-feeds/{feed_of(session, users['staff']).id}/revoke", page="/account")
    assert revoked.status_code == 302
    assert calendar_app.get(path_of(second)).status_code == 404  # at once
    assert "You have no calendar feed." in staff.get("/account").get_data(as_text=True)

    third = _make_feed(staff)
    fetch(calendar_app, third)
    set_active(session, users["admin"], users["staff"].id, False, now=utcnow())
    assert calendar_app.get(path_of(third)).status_code == 404
    for secret in ("cal_nothing", "nothing", "cal_" + "x" * 200):
        assert calendar_app.get(f"/calendar/{secret}.ics").status_code == 404

    session.expire_all()
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.action.like("calendar.%"))
                                                 .order_by(AuditEvent.id))]
    assert actions == ["calendar.feed_created", "calendar.feed_revoked", "calendar.feed_created",
                       "calendar.feed_revoked", "calendar.feed_created"]
    session.commit()


def test_the_relationship_page_offers_its_feed(app, signed_in, acme):
    staff = signed_in("staff")
    page = staff.get(f"/relationships/{acme}").get_data(as_text=True)
    assert f'href="/relationships/{acme}/calendar" id="subscribe-calendar"' in page
    subscribe = staff.get(f"/relationships/{acme}/calendar").get_data(as_text=True)
    assert "You have no feed of this relationship." in subscribe
    url = _make_feed(staff, f"/relationships/{acme}/calendar", f"/relationships/{acme}/calendar")
    feed = fetch(app.test_client(), url)
    assert str(feed["X-WR-CALNAME"]) == "collabflow: ACME"
    assert staff.post(f"/relationships/{acme}/calendar/revoke", page=f"/relationships/{acme}/calendar"
                      ).status_code == 302
    assert app.test_client().get(path_of(url)).status_code == 404
    assert staff.get("/relationships/999999/calendar").status_code == 404
