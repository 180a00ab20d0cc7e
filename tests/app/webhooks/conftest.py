"""Fixtures for the webhooks' tests: a real receiver on 127.0.0.1, the scheduler's delivery pass, a subscription."""

from __future__ import annotations

import pytest


@pytest.fixture
def receiver():
    """A receiver on 127.0.0.1 answering 200 (set `.answers` for other statuses first)."""
    from tests.support.webhooks import Receiver
    started = Receiver().start()
    yield started
    started.stop()


@pytest.fixture
def deliver(services):
    """deliver(now) -> the scheduler's follow-up pass at `now` (what it runs besides timers: webhook delivery)."""
    from app.jobs.scheduler import TimerScheduler
    scheduler = TimerScheduler(services)  # never started: its passes are called with the test's clock
    return lambda now: scheduler.follow_up(now=now)


@pytest.fixture
def subscribe(session, users):
    """subscribe(url, events) -> NewSecret (the service, as an administrator)."""
    from app.db import utcnow
    from app.webhooks.services import create_subscription
    return lambda url, events: create_subscription(session, users["admin"], url=url, events=events, now=utcnow())
