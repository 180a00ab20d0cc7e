"""A three-party relationship (us, Partner Ltd and Beta Ltd, each partner with an SER and a staff member), for
the alliance tests: its fixtures (`people`, `alliance`) are in conftest.py; `decide` submits a task as a person."""

from __future__ import annotations

from datetime import timedelta

from app.inbox import services as inbox
from app.inbox.binding import declared
from tests.support.driver import Driver, fill_form

PARTNERS = ["Partner Ltd", "Beta Ltd"]


def decide(driver: Driver, user, name_or_row, overrides=None):
    """`user` submits the task as the task page would (its form filled, then `overrides`), through the inbox's
    submit: the path pages and the API take."""
    row = driver.task(name_or_row) if isinstance(name_or_row, str) else name_or_row
    schema = driver.schema_of(row)
    data = fill_form(schema, declared(schema, driver.task_data(row)), overrides)
    driver.now += timedelta(minutes=1)  # people decide one after another (the plan orders decisions by time)
    return inbox.submit(driver.session, driver.svc.workflows, user, row.id, data, now=driver.now)
