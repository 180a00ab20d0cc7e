"""Issue 21: single sign-on with OpenID Connect, against a real provider on 127.0.0.1 (Authlib's server parts:
the code grant with PKCE and OpenID Connect, a JWKS with a key made for the run), never a mock of our client.

The person signs in at the provider's own page; collabflow finds (or links, or creates) their account, gives them
the roles their groups map to, and opens a normal server-side session that lives only while the provider still
knows them. A forged answer (another key, another audience, another nonce) signs nobody in."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.auth.models import User, UserSession
from app.auth.services import hash_password
from app.sso.models import SsoIdentity, SsoSession
from tests.support.oidc_provider import sign_in_through

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def events(session, action):
    session.expire_all()
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def user_named(session, username):
    session.expire_all()
    return session.scalar(select(User).where(User.username == username))


def test_the_sign_in_page_offers_the_provider(client_of):
    page = client_of().get("/sign-in").get_data(as_text=True)
    assert "Sign in with Local provider" in page
    assert 'href="/sign-in/sso' in page


def test_first_sign_in_creates_the_account_with_the_roles_and_organisation_its_groups_map_to(
        app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("alice", groups=["cf-staff", "cf-ser", "not-ours"], email="alice@example.com",
                           name="Alice Example")
    client = client_of()
    back = sign_in_through(client, oidc_provider, "alice", next_path="/relationships")
    assert back.status_code == 302 and back.headers["Location"] == "/relationships"
    assert client.get("/inbox").status_code == 200
    alice = user_named(session, "alice")
    assert alice.roles == {"staff", "ser"} and alice.organisation.name == "Us" and not alice.is_partner
    assert alice.display_name == "Alice Example" and alice.email == "alice@example.com"
    assert alice.password_hash is None
    identity = session.scalars(select(SsoIdentity).where(SsoIdentity.user_id == alice.id)).one()
    assert (identity.issuer, identity.subject) == (oidc_provider.issuer, oidc_provider.people["alice"].sub)
    live = session.scalars(select(UserSession).where(UserSession.user_id == alice.id)).one()
    assert live.ended_at is None
    assert session.get(SsoSession, live.id) is not None  # the session remembers it began at the provider
    created, = events(session, "user.created_by_sso")
    assert created.payload["roles"] == ["ser", "staff"] and created.payload["organisation"] == "Us"
    signed, = events(session, "user.sso_signed_in")
    assert signed.actor == "alice" and signed.payload["created"] is True
    session.commit()


def test_a_partner_group_creates_a_partner_user(app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("pat", groups=["partner-sers"])
    assert sign_in_through(client_of(), oidc_provider, "pat").status_code == 302
    pat = user_named(session, "pat")
    assert pat.is_partner and pat.organisation.name == "Partner Ltd" and pat.roles == {"ser"}
    session.commit()


def test_roles_follow_the_providers_groups_at_every_sign_in(app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    assert sign_in_through(client_of(), oidc_provider, "alice").status_code == 302
    assert user_named(session, "alice").roles == {"staff"}
    oidc_provider.people["alice"].groups = ["cf-admins"]
    assert sign_in_through(client_of(), oidc_provider, "alice").status_code == 302
    alice = user_named(session, "alice")
    assert alice.roles == {"admin", "staff"}
    changed, = events(session, "user.roles_changed")
    assert changed.payload["before"] == ["staff"] and changed.payload["after"] == ["admin", "staff"]
    assert len(session.scalars(select(SsoIdentity)).all()) == 1  # found again by (issuer, subject)
    session.commit()


def test_a_person_removed_from_the_provider_cannot_open_the_next_page(app, session, users, oidc_provider,
                                                                      client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    assert client.get("/inbox").status_code == 200
    assert client.get("/api/v1/tasks").status_code == 200
    oidc_provider.remove_user("alice")
    gone = client.get("/relationships")
    assert gone.status_code == 302 and gone.headers["Location"].startswith("/sign-in")
    page = client.get(gone.headers["Location"]).get_data(as_text=True)
    assert "Local provider no longer signs you in" in page
    assert client.get("/inbox").status_code == 302  # the session is over, not just this one request
    alice = user_named(session, "alice")
    row = session.scalars(select(UserSession).where(UserSession.user_id == alice.id)).one()
    assert row.ended_at is not None and row.end_reason == "provider_refused"
    ended, = [e for e in events(session, "user.session_ended") if e.payload["reason"] == "provider_refused"]
    assert ended.actor == "alice" and "401" in ended.payload["provider"]
    session.commit()


def test_an_api_call_with_the_session_of_a_removed_person_is_a_401(app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    oidc_provider.remove_user("alice")
    answer = client.get("/api/v1/tasks")
    assert answer.status_code == 401 and "no longer signs you in" in answer.get_json()["message"]
    session.commit()


def test_an_expired_access_token_is_refreshed_and_the_session_goes_on(app, session, users, oidc_provider,
                                                                      client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    alice = user_named(session, "alice")
    first = session.scalars(select(SsoSession)).one().access_token
    oidc_provider.expire_access_tokens("alice")
    assert client.get("/inbox").status_code == 200
    session.expire_all()
    assert session.scalars(select(SsoSession)).one().access_token != first
    assert session.scalars(select(UserSession).where(UserSession.user_id == alice.id)).one().ended_at is None
    oidc_provider.expire_access_tokens("alice")
    oidc_provider.remove_user("alice")  # now the refresh is refused too
    assert client.get("/inbox").status_code == 302
    session.commit()


def test_a_provider_that_cannot_be_reached_ends_no_session(app, session, users, oidc_provider, client_of, caplog):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    oidc_provider.stop()  # down for maintenance: that says nothing about alice
    assert client.get("/inbox").status_code == 200
    assert "could not ask the provider about alice" in caplog.text
    session.commit()


@pytest.mark.parametrize("sso_overrides", [{"OIDC_CHECK_SECONDS": 3600}])
def test_the_provider_is_asked_at_most_once_in_the_configured_interval(app, session, users, oidc_provider,
                                                                       client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    oidc_provider.remove_user("alice")
    assert client.get("/inbox").status_code == 200  # asked at sign-in; next within the hour
    session.commit()


@pytest.mark.parametrize("tamper, reason", [("wrong_key", "signature"), ("wrong_audience", "aud"),
                                            ("wrong_nonce", "nonce")])
def test_a_tampered_id_token_is_refused_with_a_clear_page_and_no_session(app, session, users, oidc_provider,
                                                                         client_of, tamper, reason):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    oidc_provider.tamper = tamper
    client = client_of()
    back = sign_in_through(client, oidc_provider, "alice")
    assert back.status_code == 401
    page = back.get_data(as_text=True)
    assert "Single sign-on did not sign you in" in page and "failed its checks" in page
    assert client.get("/inbox").status_code == 302
    assert user_named(session, "alice") is None
    assert session.scalars(select(UserSession)).all() == [] and session.scalars(select(SsoSession)).all() == []
    refused, = events(session, "user.sso_refused")
    assert reason in refused.payload["reason"]
    session.commit()


def test_an_answer_with_another_state_is_refused(app, session, users, oidc_provider, client_of):
    client = client_of()
    client.get("/sign-in/sso")
    back = client.get("/sign-in/sso/callback?code=abc&state=forged")
    assert back.status_code == 401 and "does not belong to the sign-in started here" in back.get_data(as_text=True)
    assert client.get("/sign-in/sso/callback?code=abc&state=forged").status_code == 400  # nothing pending now
    assert session.scalars(select(UserSession)).all() == []
    session.commit()


@pytest.mark.parametrize("sso_overrides", [{"OIDC_CREATE_USERS": False}])
def test_without_an_account_and_with_creation_off_the_person_is_refused(app, session, users, oidc_provider,
                                                                        client_of):
    oidc_provider.add_user("stranger", groups=["cf-staff"], email="stranger@example.com")
    client = client_of()
    back = sign_in_through(client, oidc_provider, "stranger")
    assert back.status_code == 403
    assert "no collabflow account belongs to you (stranger@example.com)" in back.get_data(as_text=True)
    assert user_named(session, "stranger") is None and client.get("/inbox").status_code == 302
    assert events(session, "user.sso_refused")[0].payload["reason"] == "no account"
    session.commit()


def test_a_person_in_no_mapped_group_gets_no_account(app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("nobody", groups=["canteen"])
    back = sign_in_through(client_of(), oidc_provider, "nobody")
    assert back.status_code == 403 and "None of your groups" in back.get_data(as_text=True)
    assert user_named(session, "nobody") is None
    session.commit()


@pytest.mark.parametrize("sso_overrides", [{"OIDC_CREATE_USERS": False, "OIDC_LINK_BY_EMAIL": True}])
def test_an_existing_account_is_linked_by_a_verified_address_only(app, session, users, oidc_provider, client_of):
    staff = users["staff"]
    staff.email = "Staff@Example.com"
    session.commit()
    oidc_provider.add_user("s.taff", groups=["cf-staff"], email="staff@example.com", email_verified=False)
    assert sign_in_through(client_of(), oidc_provider, "s.taff").status_code == 403
    oidc_provider.people["s.taff"].email_verified = True
    client = client_of()
    assert sign_in_through(client, oidc_provider, "s.taff").status_code == 302
    assert client.get("/inbox").status_code == 200
    identity = session.scalars(select(SsoIdentity)).one()
    assert identity.user_id == staff.id
    linked, = events(session, "user.sso_linked")
    assert linked.payload["username"] == "staff"
    session.commit()


def test_a_user_deactivated_in_collabflow_is_refused(app, session, users, oidc_provider, client_of):
    oidc_provider.add_user("alice", groups=["cf-staff"])
    sign_in_through(client_of(), oidc_provider, "alice")
    alice = user_named(session, "alice")
    alice.is_active = False
    session.commit()
    back = sign_in_through(client_of(), oidc_provider, "alice")
    assert back.status_code == 403 and "deactivated" in back.get_data(as_text=True)
    session.commit()


def test_no_second_factor_is_asked_of_a_person_signed_in_at_the_provider(app, session, users, oidc_provider,
                                                                         client_of):
    from app.auth import second_factor
    from app.db import utcnow
    second_factor.set_required_roles(session, ["staff"], actor=users["admin"], now=utcnow())
    oidc_provider.add_user("alice", groups=["cf-staff"])
    client = client_of()
    sign_in_through(client, oidc_provider, "alice")
    assert client.get("/inbox").status_code == 200  # not held at the enrolment: the provider asked its own
    session.commit()


@pytest.mark.parametrize("sso_overrides", [{"OIDC_PASSWORDS_OFF_FOR_OWN": True}])
def test_password_sign_in_off_for_our_organisation_still_lets_partners_in(app, session, users, client_of):
    for name in ("staff", "pser"):
        users[name].password_hash = hash_password("a passphrase long enough")
    session.commit()
    ours = client_of()
    form = CSRF.search(ours.get("/sign-in").get_data(as_text=True)).group(1)
    page = ours.get("/sign-in").get_data(as_text=True)
    assert "partners' people sign in with their username and password below" in page
    refused = ours.post("/sign-in", data={"csrf_token": form, "username": "staff",
                                          "password": "a passphrase long enough"})
    assert refused.status_code == 401
    assert "Us signs in with Local provider" in refused.get_data(as_text=True)
    assert ours.get("/inbox").status_code == 302
    partner = client_of()
    form = CSRF.search(partner.get("/sign-in").get_data(as_text=True)).group(1)
    accepted = partner.post("/sign-in", data={"csrf_token": form, "username": "pser",
                                              "password": "a passphrase long enough"})
    assert accepted.status_code == 302 and partner.get("/inbox").status_code == 200
    failed = events(session, "user.sign_in_failed")
    assert [e.payload["reason"] for e in failed] == ["password sign-in is off for our organisation"]
    session.commit()


def test_wrong_settings_stop_the_app_naming_the_variable(sso_config):
    from app.sso.settings import SettingsError, from_config
    with pytest.raises(SettingsError, match="COLLABFLOW_OIDC_GROUP_ROLES.*unknown role.*wizard"):
        from_config({**sso_config, "OIDC_GROUP_ROLES": '{"cf-staff": ["wizard"]}'})
    with pytest.raises(SettingsError, match="COLLABFLOW_OIDC_GROUP_ORGANISATIONS is not valid JSON"):
        from_config({**sso_config, "OIDC_GROUP_ORGANISATIONS": "{nope"})
    with pytest.raises(SettingsError, match="COLLABFLOW_OIDC_CLIENT_ID is required"):
        from_config({**sso_config, "OIDC_CLIENT_ID": ""})
    assert from_config({"OIDC_ISSUER": None}) is None


def test_nothing_of_single_sign_on_shows_while_it_is_not_configured(make_app):
    plain = make_app()
    client = plain.test_client()
    assert "Sign in with" not in client.get("/sign-in").get_data(as_text=True)
    assert client.get("/sign-in/sso").status_code == 404


@pytest.fixture
def client_of(app):
    return app.test_client
