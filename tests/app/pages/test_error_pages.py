"""Issue 18: an id in the query string too big for the database is a 400 naming the parameter (it was a 500 on
PostgreSQL, "integer out of range"), and the error page itself never fails: a request that breaks its database
session still gets a readable 500 page, and nothing it did is kept."""

from __future__ import annotations

import pytest
from sqlalchemy import text

TOO_BIG = 2**31


@pytest.mark.parametrize("value", [str(TOO_BIG), "99999999999999999999", "0", "-1", "abc", "1e3"])
def test_the_agenda_refuses_an_id_the_database_cannot_hold(signed_in, lifecycle, value):
    staff = signed_in("staff")
    response = staff.get(f"/agenda?relationship={value}")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    assert "relationship must be an id" in page and "<strong>relationship</strong>" in page
    assert staff.get("/agenda?relationship=2147483647").status_code == 200  # the largest id is only not found
    assert staff.get("/agenda?relationship=").status_code == 200  # every relationship


def test_the_api_refuses_the_same_value(signed_in, lifecycle):
    response = signed_in("staff").get(f"/api/v1/agenda?relationship={TOO_BIG}")
    assert response.status_code == 422 and "relationship" in response.get_json()["errors"]


def test_the_workbench_refuses_ids_too_big_in_its_query_strings(signed_in, lifecycle):
    owner = signed_in("owner")
    assert owner.get(f"/processes/migrate?to={TOO_BIG}").status_code == 400
    assert owner.get(f"/processes/diagrams/web_lifecycle.bpmn?version={TOO_BIG}").status_code == 400
    assert owner.get(f"/processes/diagrams/web_lifecycle.bpmn/xml?version={TOO_BIG}").status_code == 400


def test_a_request_that_breaks_its_database_session_gets_a_plain_500_page(app, browser_client, session, users):
    from app.auth.models import User
    from app.extensions import db_session

    def broken():
        db = db_session()
        db.get(User, users["staff"].id).display_name = "changed by a failed request"
        db.flush()
        db.execute(text("SELECT no_such_column FROM no_such_table"))  # PostgreSQL: the transaction is aborted
        return "never"

    app.add_url_rule("/test-broken", "test_broken", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: the error handler answers
    from app.auth.services import hash_password
    users["staff"].password_hash = hash_password("a long enough passphrase")
    session.merge(users["staff"])
    session.commit()
    assert browser_client.sign_in("staff", "a long enough passphrase").status_code == 302
    response = browser_client.get("/test-broken")
    assert response.status_code == 500
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.get_data(as_text=True)
    assert "The server failed to handle this request" in page and "Internal Server Error" not in page
    session.expire_all()
    assert session.get(User, users["staff"].id).display_name == "staff"  # rolled back
    assert browser_client.get("/inbox").status_code == 200  # and the next request is fine


def test_an_error_raised_after_the_session_broke_still_gets_its_page(app, browser_client, session, users):
    """A view that swallows a database error and then answers 404: on PostgreSQL the session's transaction is
    aborted, so the full page (which counts the inbox) cannot render; the plain page answers instead."""
    from sqlalchemy.exc import DBAPIError

    from app.errors import NotFound
    from app.extensions import db_session

    def swallowed():
        try:
            db_session().execute(text("SELECT no_such_column FROM no_such_table"))
        except DBAPIError:
            pass
        raise NotFound("nothing here, and the session is broken")

    app.add_url_rule("/test-swallowed", "test_swallowed", swallowed)
    from app.auth.services import hash_password
    users["staff"].password_hash = hash_password("a long enough passphrase")
    session.merge(users["staff"])
    session.commit()
    assert browser_client.sign_in("staff", "a long enough passphrase").status_code == 302
    response = browser_client.get("/test-swallowed")
    assert response.status_code == 404
    assert "nothing here, and the session is broken" in response.get_data(as_text=True)
    assert browser_client.get("/inbox").status_code == 200
