"""A real OpenID Connect provider on 127.0.0.1 for the single sign-on tests, built from Authlib's server parts:
the authorization code grant with OpenID Connect's `OpenIDCode` extension and PKCE (`CodeChallenge`, S256), the
refresh token grant, a bearer-protected userinfo endpoint, discovery and a JWKS with an RSA key made for the run.

The test controls who exists and what they belong to (`add_user`, `remove_user`), and can make the provider
misbehave the ways a forged answer would (`tamper`: "wrong_key" signs the ID token with another key under the
same key id, "wrong_audience" issues it to another client, "wrong_nonce" echoes a nonce nobody sent).
Its sign-in page is a plain form (username, password) that a test client or Playwright fills in.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector, current_token
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server

KEY_ID = "test-key-1"


@dataclass
class Person:
    username: str
    password: str
    groups: list[str]
    email: str | None = None
    email_verified: bool = True
    name: str | None = None
    sub: str = field(default_factory=lambda: secrets.token_hex(8))


@dataclass
class _Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email", "groups"))

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class _Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    username: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_acr(self):
        return None

    def get_amr(self):
        return None


@dataclass
class _Token(TokenMixin):
    client_id: str
    username: str
    access_token: str
    refresh_token: str | None
    scope: str
    issued_at: int
    expires_in: int
    revoked: bool = False

    def check_client(self, client):
        return client.get_client_id() == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.username

    def get_client(self):
        return None


@functools.cache
def _keys() -> tuple[RSAKey, RSAKey]:
    """The provider's signing key and the forger's (same key id), made once per test process."""
    return (RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"}, private=True),
            RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "alg": "RS256"}, private=True))


class LocalProvider:
    """provider = LocalProvider(); provider.start(); ...; provider.stop(). `issuer` is its base URL."""

    def __init__(self, client_id: str = "collabflow", client_secret: str = "collabflow-secret"):
        self.key, self.other_key = _keys()
        self.client = _Client(client_id, client_secret, [])
        self.people: dict[str, Person] = {}
        self.codes: dict[str, _Code] = {}
        self.tokens: list[_Token] = []
        self.tamper: str | None = None
        self.access_token_seconds = 3600
        self.lock = threading.Lock()
        self.issuer = ""
        self._server = self._thread = None
        self.app = self._make_app()

    # ------------------------------------------------------------------------------------------ what tests control
    def add_user(self, username: str, *, groups: list[str], password: str = "provider-password",
                 email: str | None = None, email_verified: bool = True, name: str | None = None) -> Person:
        person = Person(username, password, list(groups), email, email_verified, name or username.title())
        with self.lock:
            self.people[username] = person
        return person

    def remove_user(self, username: str) -> None:
        """The person is gone from the provider: their tokens stop working, their refresh tokens too."""
        with self.lock:
            self.people.pop(username, None)
            for token in self.tokens:
                if token.username == username:
                    token.revoked = True

    def expire_access_tokens(self, username: str) -> None:
        """Their access tokens are past their lifetime (refresh tokens still work, as at a real provider)."""
        with self.lock:
            for token in self.tokens:
                if token.username == username:
                    token.issued_at -= token.expires_in + 1

    def allow_redirect(self, uri: str) -> None:
        self.client.redirect_uris.append(uri)

    # ------------------------------------------------------------------------------------------ serving
    def start(self) -> LocalProvider:
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _make_app(self) -> Flask:
        provider = self
        app = Flask("local_oidc_provider")
        app.config["OAUTH2_REFRESH_TOKEN_GENERATOR"] = True
        server = AuthorizationServer(app, query_client=self._query_client, save_token=self._save_token)
        server.register_grant(_CodeGrant, [_OpenIDCode(self, require_nonce=True), CodeChallenge(required=True)])
        server.register_grant(_RefreshGrant)
        server.provider = self
        protect = ResourceProtector()
        protect.register_token_validator(_Bearer(self))

        @app.get("/.well-known/openid-configuration")
        def discovery():
            base = provider.issuer
            return jsonify({
                "issuer": base, "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
                "userinfo_endpoint": f"{base}/userinfo", "jwks_uri": f"{base}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", "profile", "email", "groups"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "grant_types_supported": ["authorization_code", "refresh_token"]})

        @app.get("/jwks")
        def jwks():
            return jsonify({"keys": [provider.key.as_dict(private=False)]})

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            if request.method == "GET":
                try:
                    server.get_consent_grant(end_user=None)
                except Exception as exc:  # noqa: BLE001 - the provider's own error page, as a real one shows
                    return f"<h1>Bad authorization request</h1><p>{escape(str(exc))}</p>", 400
                return _login_page(error=None)
            person = provider.people.get(request.form.get("username", ""))
            if person is None or not secrets.compare_digest(person.password, request.form.get("password", "")):
                return _login_page(error="Wrong username or password at the provider."), 401
            grant = server.get_consent_grant(end_user=person)
            return server.create_authorization_response(grant=grant, grant_user=person)

        @app.post("/token")
        def token():
            return server.create_token_response()

        @app.get("/userinfo")
        @protect()
        def userinfo():
            person = provider.people.get(current_token.username)
            if person is None:
                return jsonify({"error": "invalid_token"}), 401
            return jsonify(dict(_claims(person, current_token.scope)))

        return app

    def _query_client(self, client_id):
        return self.client if client_id == self.client.client_id else None

    def _save_token(self, token, request):
        username = request.user.username if request.user else None
        with self.lock:
            self.tokens.append(_Token(request.client.client_id, username, token["access_token"],
                                      token.get("refresh_token"), token.get("scope", ""), int(time.time()),
                                      int(token.get("expires_in", self.access_token_seconds))))


def _login_page(error: str | None) -> str:
    notice = f'<p role="alert" id="provider-error">{escape(error)}</p>' if error else ""
    return (f"<!doctype html><title>Local provider: sign in</title><h1>Local provider</h1>{notice}"
            f'<form method="post" action="{escape(request.full_path)}">'
            '<label for="provider-username">Provider username</label> <input id="provider-username" name="username">'
            '<label for="provider-password">Provider password</label> '
            '<input id="provider-password" name="password" type="password">'
            '<button type="submit">Continue</button></form>')


def _claims(person: Person, scope: str) -> UserInfo:
    info = UserInfo(sub=person.sub, groups=list(person.groups))
    if "profile" in scope.split():
        info.update(name=person.name, preferred_username=person.username)
    if "email" in scope.split() and person.email:
        info.update(email=person.email, email_verified=person.email_verified)
    return info


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, request):
        data = request.payload.data
        provider = self.server.provider
        with provider.lock:
            provider.codes[code] = _Code(code, request.client.client_id, request.payload.redirect_uri, request.scope,
                                         request.user.username, data.get("nonce"), data.get("code_challenge"),
                                         data.get("code_challenge_method"), int(time.time()))

    def query_authorization_code(self, code, client):
        found = self.server.provider.codes.get(code)
        return found if found is not None and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code):
        self.server.provider.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return self.server.provider.people.get(authorization_code.username)


class _RefreshGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token):
        for token in self.server.provider.tokens:
            if token.refresh_token == refresh_token and not token.revoked:
                return token
        return None

    def authenticate_user(self, refresh_token):
        return self.server.provider.people.get(refresh_token.username)

    def revoke_old_credential(self, refresh_token):
        refresh_token.revoked = True


class _OpenIDCode(OpenIDCode):
    def __init__(self, provider: LocalProvider, require_nonce: bool):
        super().__init__(require_nonce=require_nonce)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return any(code.nonce == nonce for code in self.provider.codes.values())

    def resolve_client_private_key(self, client):
        return self.provider.other_key if self.provider.tamper == "wrong_key" else self.provider.key

    def get_client_algorithm(self, client):
        return "RS256"

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": KEY_ID}

    def get_client_claims(self, client):
        audience = "another-client" if self.provider.tamper == "wrong_audience" else client.get_client_id()
        return {"iss": self.provider.issuer, "aud": [audience]}

    def get_authorization_code_claims(self, authorization_code):
        claims = super().get_authorization_code_claims(authorization_code)
        if self.provider.tamper == "wrong_nonce":
            claims["nonce"] = "a-nonce-nobody-sent"
        return claims

    def generate_user_info(self, user, scope):
        return _claims(user, scope)


class _Bearer(BearerTokenValidator):
    def __init__(self, provider: LocalProvider):
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string):
        for token in self.provider.tokens:
            if token.access_token == token_string:
                return token
        return None


def sign_in_through(client, provider: LocalProvider, username: str, password: str = "provider-password",
                    next_path: str | None = None):
    """A test client signs in at the provider's own page (a real HTTP form post to it) and comes back -> the
    callback's response from our app."""
    started = client.get("/sign-in/sso" + (f"?next={next_path}" if next_path else ""))
    assert started.status_code == 302, started.get_data(as_text=True)[:300]
    at_provider = started.headers["Location"]
    assert at_provider.startswith(provider.issuer + "/authorize?")
    answered = requests.post(at_provider, data={"username": username, "password": password},
                             allow_redirects=False, timeout=10)
    assert answered.status_code == 302, answered.text[:300]
    back = urlsplit(answered.headers["Location"])
    return client.get(f"{back.path}?{back.query}")


GROUP_ROLES = {"cf-staff": ["staff"], "cf-ser": ["ser"], "cf-admins": ["admin", "staff"], "partner-sers": ["ser"]}
GROUP_ORGANISATIONS = {"partner-sers": "Partner Ltd", "cf-staff": "Us"}


def app_settings(provider: LocalProvider, **overrides) -> dict:
    """The app's single sign-on settings for `provider`: its groups mapped to roles and organisations, accounts
    created at first sign-in, the provider asked at every request."""
    return {"OIDC_ISSUER": provider.issuer, "OIDC_CLIENT_ID": provider.client.client_id,
            "OIDC_CLIENT_SECRET": provider.client.client_secret, "OIDC_PROVIDER_NAME": "Local provider",
            "OIDC_GROUP_ROLES": GROUP_ROLES, "OIDC_GROUP_ORGANISATIONS": GROUP_ORGANISATIONS,
            "OIDC_DEFAULT_ORGANISATION": "Us", "OIDC_CREATE_USERS": True, "OIDC_CHECK_SECONDS": 0, **overrides}
