"""The OpenID Connect relying party: talks to the provider, with Authlib (the OAuth 2 client, PKCE, the ID token's
claims) and joserfc (the signature). No Flask here: the pages keep the browser's side (state, nonce, verifier in
the signed cookie) and pass it in.

- discovery: `<issuer>/.well-known/openid-configuration`, read on first use and kept for an hour; its `issuer` must
  be the configured one, byte for byte (OpenID Connect Discovery 1.0, section 4.3);
- the authorization code flow with PKCE (S256), a random `state` and `nonce` per sign-in;
- the ID token: signed with one of the provider's keys (its JWKS, fetched again once when a token names a key id
  not seen before: key rotation), an asymmetric algorithm, `iss` the issuer, `aud` our client id, `nonce` the one
  we sent, not expired (Authlib's `CodeIDToken` checks `at_hash`, `azp`, `iat`, `exp`);
- still there?: the userinfo endpoint with the session's access token (OpenID Connect Core 5.3): 200 yes,
  401/403 no; when the access token has expired, the refresh token is tried once, and a refused refresh is no.
  A provider that cannot be reached says nothing either way (`Unknown`).
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
METADATA_KEPT = 3600  # seconds the discovery document is kept before it is read again
LEEWAY = 60  # seconds of clock difference allowed on exp / iat


class ProviderError(Exception):
    """The provider refused, or what it sent cannot be trusted. `message` is for the person signing in; `reason`
    for the audit trail."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.message, self.reason = message, reason


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to remember until it comes back (in the signed cookie)."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignedIn:
    """A checked ID token's claims, the userinfo's (when the provider has the endpoint) and the tokens."""

    claims: dict
    access_token: str
    refresh_token: str | None


@dataclass(frozen=True)
class Active:
    access_token: str  # the same, or a new one after a refresh
    refresh_token: str | None
    claims: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Refused:
    reason: str


@dataclass(frozen=True)
class Unknown:
    reason: str


class OpenIdProvider:
    """One configured provider (COLLABFLOW_OIDC_*), shared by the app's requests."""

    def __init__(self, issuer: str, client_id: str, client_secret: str | None, *, scopes: str = "openid profile email",
                 timeout: float = 5.0):
        self.issuer, self.client_id, self.client_secret = issuer, client_id, client_secret
        self.scopes, self.timeout = scopes, timeout
        self._lock = threading.Lock()
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    # ------------------------------------------------------------------------------------------ discovery, keys
    def metadata(self) -> dict:
        """The discovery document. Raises ProviderError when it cannot be read or names another issuer."""
        with self._lock:
            if self._metadata is not None and time.monotonic() - self._metadata_at < METADATA_KEPT:
                return self._metadata
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._get_json(url, "discovery")
        if document.get("issuer") != self.issuer:
            raise ProviderError("The sign-in provider's configuration names another issuer; ask an administrator.",
                                f"discovery names issuer {document.get('issuer')!r}, configured {self.issuer!r}")
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not document.get(k)]
        if missing:
            raise ProviderError("The sign-in provider's configuration is incomplete; ask an administrator.",
                                f"discovery lacks {', '.join(missing)}")
        with self._lock:
            self._metadata, self._metadata_at, self._keys = document, time.monotonic(), None
        return document

    def _key_set(self, *, again: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not again:
                return self._keys
        keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"], "jwks"))
        with self._lock:
            self._keys = keys
        return keys

    def _get_json(self, url: str, what: str) -> dict:
        try:
            response = requests.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            raise ProviderError("The sign-in provider cannot be reached just now; try again in a moment.",
                                f"{what}: {exc.__class__.__name__}: {str(exc)[:200]}") from exc
        if not isinstance(document, dict):
            raise ProviderError("The sign-in provider sent something unexpected; ask an administrator.",
                                f"{what}: not a JSON object")
        return document

    def _client(self, **kwargs) -> OAuth2Session:
        methods = self.metadata().get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = ("none" if not self.client_secret else
                  "client_secret_basic" if "client_secret_basic" in methods else "client_secret_post")
        return OAuth2Session(self.client_id, self.client_secret, scope=self.scopes, code_challenge_method="S256",
                             token_endpoint_auth_method=method, **kwargs)

    # ------------------------------------------------------------------------------------------ signing in
    def authorization(self, redirect_uri: str) -> Authorization:
        """Where to send the browser to sign in: the code flow with PKCE (S256), a fresh state and nonce."""
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        with self._client(redirect_uri=redirect_uri) as client:
            url, _ = client.create_authorization_url(self.metadata()["authorization_endpoint"], state=state,
                                                     nonce=nonce, code_verifier=verifier)
        return Authorization(url, state, nonce, verifier)

    def finish(self, pending: Authorization, redirect_uri: str, answer: dict[str, str], *, now: float) -> SignedIn:
        """The browser came back with `answer` (the callback's query): check the state, exchange the code (with the
        PKCE verifier), check the ID token. Raises ProviderError, naming what was wrong."""
        if answer.get("error"):
            description = (answer.get("error_description") or "")[:200]
            raise ProviderError(f"The sign-in provider did not sign you in ({answer['error'][:60]}"
                                f"{': ' + description if description else ''}).", f"provider error {answer['error'][:60]}")
        if not answer.get("state") or not secrets.compare_digest(answer["state"], pending.state):
            raise ProviderError("This sign-in answer does not belong to the sign-in started here; start again.",
                                "state mismatch")
        if not answer.get("code"):
            raise ProviderError("The sign-in provider sent no authorization code; start again.", "no code")
        try:
            with self._client(redirect_uri=redirect_uri) as client:
                token = client.fetch_token(self.metadata()["token_endpoint"], code=answer["code"],
                                           code_verifier=pending.code_verifier, timeout=self.timeout)
        except AuthlibBaseError as exc:
            raise ProviderError("The sign-in provider refused to finish the sign-in; start again.",
                                f"token endpoint: {exc.error}") from exc
        except requests.RequestException as exc:
            raise ProviderError("The sign-in provider cannot be reached just now; try again in a moment.",
                                f"token endpoint: {exc.__class__.__name__}") from exc
        if not token.get("id_token") or not token.get("access_token"):
            raise ProviderError("The sign-in provider sent no ID token; ask an administrator.", "no id_token")
        claims = self.check_id_token(token["id_token"], nonce=pending.nonce, access_token=token["access_token"],
                                     now=now)
        return SignedIn(claims, token["access_token"], token.get("refresh_token"))

    def check_id_token(self, id_token: str, *, nonce: str, access_token: str | None, now: float) -> dict:
        """The ID token's claims once its signature, issuer, audience, nonce and times are right. Raises
        ProviderError."""
        refused = "The sign-in provider's answer failed its checks, so nobody is signed in; ask an administrator."
        allowed = [a for a in self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
                   if a in SIGNING_ALGORITHMS]
        registry = JWSRegistry(algorithms=allowed or ["RS256"], strict_check_header=False)
        try:
            try:
                decoded = jwt.decode(id_token, self._key_set(), registry=registry)
            except InvalidKeyIdError:  # a key the provider added since we last read its JWKS
                decoded = jwt.decode(id_token, self._key_set(again=True), registry=registry)
        except (JoseError, ValueError) as exc:
            raise ProviderError(refused, f"id_token signature: {exc.__class__.__name__}: {str(exc)[:150]}") from exc
        options = {"iss": {"essential": True, "value": self.issuer},
                   "aud": {"essential": True, "value": self.client_id},
                   "sub": {"essential": True}}
        params = {"nonce": nonce, "client_id": self.client_id}
        if access_token:
            params["access_token"] = access_token
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            claims.validate(now=int(now), leeway=LEEWAY)
        except JoseError as exc:
            raise ProviderError(refused, f"id_token claims: {exc.__class__.__name__}: {str(exc)[:150]}") from exc
        return dict(claims)

    def userinfo(self, access_token: str, subject: str) -> dict:
        """The userinfo endpoint's claims of `subject` (where groups often are), or {} when the provider has no
        such endpoint. Raises ProviderError when it refuses or names someone else (OpenID Connect Core 5.3.2)."""
        endpoint = self.metadata().get("userinfo_endpoint")
        if not endpoint:
            return {}
        answer = self._userinfo(endpoint, access_token)
        if not isinstance(answer, Active):
            raise ProviderError("The sign-in provider did not say who you are; start again.",
                                f"userinfo: {answer.reason}")
        if answer.claims.get("sub") != subject:
            raise ProviderError("The sign-in provider's answer failed its checks, so nobody is signed in; ask an "
                                "administrator.", "userinfo names another subject")
        return answer.claims

    # ------------------------------------------------------------------------------------------ still there?
    def still_active(self, access_token: str, refresh_token: str | None) -> Active | Refused | Unknown:
        """Ask the provider whether the person of a signed-in session is still there: userinfo with the access
        token; after a 401, one refresh (a refused refresh means no), then userinfo again."""
        try:
            endpoint = self.metadata().get("userinfo_endpoint")
        except ProviderError as exc:
            return Unknown(exc.reason)
        if not endpoint:
            return Unknown("the provider has no userinfo endpoint")
        answer = self._userinfo(endpoint, access_token)
        if isinstance(answer, Active):
            return Active(access_token, refresh_token, answer.claims)
        if isinstance(answer, Unknown) or not refresh_token:
            return answer
        try:
            with self._client() as client:
                token = client.refresh_token(self.metadata()["token_endpoint"], refresh_token=refresh_token,
                                             timeout=self.timeout)
        except AuthlibBaseError as exc:
            return Refused(f"{answer.reason}; refresh refused: {exc.error}")
        except (requests.RequestException, ProviderError) as exc:
            return Unknown(f"refresh: {exc.__class__.__name__}")
        renewed = self._userinfo(endpoint, token["access_token"])
        if isinstance(renewed, Active):
            return Active(token["access_token"], token.get("refresh_token") or refresh_token, renewed.claims)
        return renewed

    def _userinfo(self, endpoint: str, access_token: str) -> Active | Refused | Unknown:
        try:
            response = requests.get(endpoint, timeout=self.timeout,
                                    headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"})
        except requests.RequestException as exc:
            return Unknown(f"userinfo: {exc.__class__.__name__}")
        if response.status_code in (401, 403):
            return Refused(f"userinfo answered {response.status_code}")
        if response.status_code != 200:
            return Unknown(f"userinfo answered {response.status_code}")
        try:
            claims = response.json()
        except ValueError:
            return Unknown("userinfo answered no JSON")
        return Active(access_token, None, claims if isinstance(claims, dict) else {})
