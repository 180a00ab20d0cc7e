"""Fixtures of the relationship tests: a three-party relationship (alliance.py)."""

from __future__ import annotations

import pytest

from tests.support.driver import Driver

from .alliance import PARTNERS


@pytest.fixture
def people(session, users):
    """The test users, with Partner Ltd's staff member and Beta Ltd's SER and staff member."""
    from app.auth.services import create_user
    more = {"pstaff": (["staff"], "Partner Ltd"), "bser": (["ser"], "Beta Ltd"), "bstaff": (["staff"], "Beta Ltd")}
    for name, (roles, organisation) in more.items():
        users[name] = create_user(session, name, password=None, roles=roles, organisation=organisation,
                                  organisation_kind="partner", display_name=name.upper())
    return users


@pytest.fixture
def alliance(session, services, people, bundled):
    """A relationship with two partner organisations, driven into stage 5 -> its Driver."""
    from app.db import utcnow
    from app.lifecycle.services import current_stage
    from app.relationships import services as relationships
    now = utcnow()
    started = relationships.start(session, services.workflows, people["staff"], title="Three-way bid",
                                  partners=PARTNERS, now=now)
    driver = Driver(session, services, people, started.instance_id, now)
    driver.drive(until=lambda d: (current_stage(session, d.instance_id) or 0) >= 5)
    return driver
