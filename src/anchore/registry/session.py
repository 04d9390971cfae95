"""Talking to one registry: the scheme, the ``/v2/`` ping and the auth challenge flow.

Modelled on go-containerregistry's ``pkg/v1/remote/transport`` (ping, schemer, basic,
bearer); docs/credentials.md describes the flows for users. The token realm checks
live in :mod:`anchore.registry.auth_realm`, the net-error translation in
:mod:`anchore.registry.auth_errors`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

import attrs

from anchore.errors import DigestMismatchError
from anchore.net import (
    ConnectionFailedError,
    Download,
    HttpClient,
    NetworkError,
    Response,
    TlsError,
    Validators,
    is_loopback_host,
)
from anchore.registry.auth_errors import Translator
from anchore.registry.auth_realm import check_realm, registry_host
from anchore.registry.challenge import Challenge, parse_challenges
from anchore.registry.errors import CredentialError, RegistryAuthError, RegistryResponseError
from anchore.registry.keychain import Keychain
from anchore.registry.options import Credentials, RegistryOptions
from anchore.registry.reference import DOCKER_HUB, DOCKER_HUB_ALIASES
from anchore.registry.transport import http_client

__all__ = ["RegistrySession"]

_T = TypeVar("_T")

#: seconds a token lives when the server does not say (the distribution spec's default)
_DEFAULT_TOKEN_LIFETIME = 60.0
#: a token is renewed this share of its lifetime early, so a slow request does not
#: reach the registry with a token that just expired
_RENEW_EARLY = 0.1
#: the most a ping or token response may hold
_SMALL_BODY = 1024 * 1024
#: what we call ourselves to an OAuth2 token server
_CLIENT_ID = "anchore"


@attrs.frozen
class _Token:
    value: str
    expires: float  # time.monotonic() deadline


def _basic(creds: Credentials) -> str:
    pair = f"{creds.username}:{creds.password}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _close(chunks: Iterator[bytes]) -> None:
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


class RegistrySession:
    """Authenticated requests to one registry, shared by every repository on it.

    The first request pings ``/v2/`` (https; plain http only for loopback or
    ``insecure_registries``). A 401 carries a ``WWW-Authenticate`` challenge:
    ``Basic`` sends the keychain's credentials; ``Bearer realm=...,service=...,scope=...``
    fetches a token from the realm, as docker and go-containerregistry do: GET
    (``?service=&scope=``) with Basic auth when there is a user and password,
    anonymously when there is nothing; with an identity token the OAuth2 POST form
    (``grant_type=refresh_token``, ``service``, ``scope``, ``client_id=anchore``),
    falling back to the GET when the realm answers the POST with 404/405; the
    ``token`` or ``access_token`` is kept per scope until ``expires_in`` (60 s when
    not given). A second 401 naming another
    ``scope`` adds it to the ones asked (``repository:a/b:pull`` and the new one) and
    asks once more; a third 401 is a :class:`RegistryAuthError` naming where
    credentials were looked for. A realm must be https (or plain http on a
    loopback or insecure host) and, when it resolves to a private, loopback or
    link-local address, be the registry's own host or in ``allowed_realm_hosts``
    (else :class:`RegistryAuthError`, SSRF). Network errors are translated to the
    ``anchore.registry.errors`` class naming the registry and ``reference``.
    Thread-safe: layers are fetched in parallel through one session.

    Scheme: a loopback or insecure registry is pinged over https first and over
    plain http when https cannot connect or the server answers it in plain HTTP (as
    go-containerregistry's ping does), so a loopback registry with TLS keeps it;
    a certificate that does not verify is that TLS error, never a retry in clear.
    Any other registry is https only.
    """

    def __init__(
        self,
        registry: str,
        *,
        options: RegistryOptions | None = None,
        client: HttpClient | None = None,
        keychain: Keychain | None = None,
    ) -> None:
        self.registry = registry.lower()
        if self.registry in DOCKER_HUB_ALIASES:
            self.registry = DOCKER_HUB  # one session, one keychain entry for Docker Hub
        self._options = options or RegistryOptions()
        self._client = client or http_client(self._options)
        self._keychain = keychain or Keychain(self._options)
        self._errors = Translator(self.registry, self._keychain)
        self._host = registry_host(self.registry)
        self._lock = threading.RLock()
        self._base_url: str | None = None
        #: the challenge in force (None: the registry answered the ping anonymously)
        self._challenge: Challenge | None = None
        #: scopes asked per repository scope, grown by ``insufficient_scope`` challenges
        self._scopes: dict[str, list[str]] = {}
        self._tokens: dict[tuple[str, str, tuple[str, ...]], _Token] = {}
        self._realms_checked: set[str] = set()

    # -- the ping -------------------------------------------------------------

    def _plain_http_allowed(self) -> bool:
        insecure = self._options.insecure_registries
        return is_loopback_host(self._host) or self.registry in insecure or self._host in insecure

    @property
    def base_url(self) -> str:
        """``https://host[:port]`` (or ``http://`` for a loopback or insecure registry),
        known after the ping."""
        self._ensure_pinged(self.registry)
        assert self._base_url is not None
        return self._base_url

    def _ensure_pinged(self, reference: str) -> None:
        with self._lock:
            if self._base_url is None:
                self._ping(reference)

    def _ping(self, reference: str) -> None:
        schemes = ["https", "http"] if self._plain_http_allowed() else ["https"]
        first: NetworkError | None = None
        for scheme in schemes:
            base = f"{scheme}://{self.registry}"
            try:
                response = self._client.request(
                    "GET", f"{base}/v2/", ok=(401,), max_bytes=_SMALL_BODY
                )
            except TlsError as e:
                first = first or e
                if not e.plain_http:
                    break  # it speaks TLS, with a certificate we do not trust: say so
                continue
            except ConnectionFailedError as e:
                first = first or e
                continue
            except NetworkError as e:
                if first is not None and e.status == 400:
                    break  # plain http to a TLS port: the https failure says why
                raise self._errors.ping(e, reference) from e
            self._base_url = base
            if response.status == 401:
                self._challenge = self._pick(response, reference)
            return
        assert first is not None
        raise self._errors.ping(first, reference) from first

    def _pick(self, response: Response, reference: str) -> Challenge:
        """The challenge to answer: Bearer when offered, else Basic."""
        values = response.header_list.get("www-authenticate", ())
        if not values and response.header("www-authenticate"):
            values = (response.header("www-authenticate") or "",)
        challenges = parse_challenges(values)
        if challenges is None:
            raise RegistryResponseError(
                f"registry {self.registry} sent a malformed WWW-Authenticate challenge for"
                f" {reference}: {', '.join(values)!r}",
                registry=self.registry,
                reference=reference,
                status=401,
            )
        for scheme in ("bearer", "basic"):
            for challenge in challenges:
                if challenge.scheme == scheme:
                    return challenge
        offered = ", ".join(c.scheme for c in challenges) or "no challenge"
        raise RegistryAuthError(
            f"registry {self.registry} asks for authentication for {reference} that we do"
            f" not speak ({offered}; Basic and Bearer are supported)",
            registry=self.registry,
            reference=reference,
            status=401,
        )

    # -- authorization --------------------------------------------------------

    def _credentials(self, reference: str) -> Credentials | None:
        try:
            return self._keychain.resolve(self.registry)
        except CredentialError as e:
            e.registry = e.registry or self.registry
            e.reference = e.reference or reference
            raise

    def _scopes_for(self, repository: str, actions: Sequence[str]) -> tuple[str, ...]:
        base = f"repository:{repository}:{','.join(actions)}"
        with self._lock:
            return tuple(self._scopes.get(base, [base]))

    def _add_scopes(self, repository: str, actions: Sequence[str], challenge: Challenge) -> None:
        base = f"repository:{repository}:{','.join(actions)}"
        named = challenge.params.get("scope", "").split()
        with self._lock:
            scopes = self._scopes.setdefault(base, [base])
            scopes.extend(scope for scope in named if scope not in scopes)

    def _authorization(
        self,
        repository: str,
        actions: Sequence[str],
        reference: str,
        *,
        stale: str | None = None,
    ) -> dict[str, str]:
        """The Authorization header for a request (empty when anonymous). ``stale`` is
        a header the registry refused: a token equal to it is fetched anew."""
        self._ensure_pinged(reference)
        with self._lock:
            challenge = self._challenge
        if challenge is None:
            return {}
        if challenge.scheme == "basic":
            creds = self._credentials(reference)
            if creds is None or not (creds.username or creds.password):
                return {}
            return {"Authorization": _basic(creds)}
        scopes = self._scopes_for(repository, actions)
        token = self._token(challenge, scopes, reference, stale)
        return {"Authorization": f"Bearer {token}"}

    def _token(
        self, challenge: Challenge, scopes: tuple[str, ...], reference: str, stale: str | None
    ) -> str:
        realm = challenge.params.get("realm", "")
        service = challenge.params.get("service", "")
        key = (realm, service, tuple(sorted(scopes)))
        with self._lock:  # one refresh at a time; the others then find it cached
            cached = self._tokens.get(key)
            if (
                cached is not None
                and time.monotonic() < cached.expires
                and f"Bearer {cached.value}" != stale
            ):
                return cached.value
            token = self._fetch_token(realm, service, scopes, reference)
            self._tokens[key] = token
            return token.value

    def _fetch_token(
        self, realm: str, service: str, scopes: tuple[str, ...], reference: str
    ) -> _Token:
        if not realm:
            raise RegistryResponseError(
                f"registry {self.registry} sent a Bearer challenge without a realm for {reference}",
                registry=self.registry,
                reference=reference,
                status=401,
            )
        if realm not in self._realms_checked:
            check_realm(realm, self.registry, self._options, reference)
            self._realms_checked.add(realm)
        creds = self._credentials(reference)
        response: Response | None = None
        try:
            if creds is not None and creds.identity_token:
                response = self._post_token(realm, service, scopes, creds)
            if response is None:
                response = self._get_token(realm, service, scopes, creds)
        except NetworkError as e:
            raise self._errors.token(e, realm, reference, creds) from e
        return self._read_token(response, realm, reference)

    def _post_token(
        self, realm: str, service: str, scopes: tuple[str, ...], creds: Credentials
    ) -> Response | None:
        """The OAuth2 refresh-token form for an identity token; None when the realm does
        not take POST (404/405). A user and password never go in a form: as docker and
        go-containerregistry do, they go to the realm as Basic auth on a GET."""
        fields = {
            "service": service,
            "client_id": _CLIENT_ID,
            "scope": " ".join(scopes),
            "grant_type": "refresh_token",
            "refresh_token": creds.identity_token,
        }
        response = self._client.request(
            "POST", realm, fields=fields, ok=(404, 405), max_bytes=_SMALL_BODY, idempotent=True
        )
        return None if response.status in (404, 405) else response

    def _get_token(
        self, realm: str, service: str, scopes: tuple[str, ...], creds: Credentials | None
    ) -> Response:
        query = ([("service", service)] if service else []) + [("scope", s) for s in scopes]
        url = realm
        if query:
            url += ("&" if urllib.parse.urlsplit(realm).query else "?") + urllib.parse.urlencode(
                query
            )
        headers = {}
        if creds is not None and (creds.username or creds.password):
            headers["Authorization"] = _basic(creds)
        return self._client.request("GET", url, headers=headers, max_bytes=_SMALL_BODY)

    def _read_token(self, response: Response, realm: str, reference: str) -> _Token:
        def malformed(problem: str) -> RegistryResponseError:
            return RegistryResponseError(
                f"the token server {realm} of registry {self.registry} answered {problem}"
                f" (for {reference})",
                registry=self.registry,
                reference=reference,
                status=response.status,
            )

        try:
            data = json.loads(response.body)
        except (ValueError, UnicodeDecodeError):
            raise malformed("something other than JSON") from None
        if not isinstance(data, dict):
            raise malformed("JSON that is not an object")
        value = data.get("token") or data.get("access_token")
        if not isinstance(value, str) or not value:
            raise malformed("no token (neither 'token' nor 'access_token')")
        if any(ch.isspace() or not ch.isprintable() for ch in value):
            raise malformed("a token that cannot go in a header")
        lifetime = data.get("expires_in")
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float)) or lifetime <= 0:
            lifetime = _DEFAULT_TOKEN_LIFETIME
        return _Token(value, time.monotonic() + lifetime * (1 - _RENEW_EARLY))

    def _reauthorize(
        self,
        response: Response | None,
        repository: str,
        actions: Sequence[str],
        reference: str,
        sent: dict[str, str],
    ) -> dict[str, str]:
        """After a 401: answer its challenge (adding the scope it names) once; without
        a response to read (a download's 401), fetch a fresh token for the challenge
        in force."""
        if response is not None:
            challenge = self._pick(response, reference)
            with self._lock:
                self._challenge = challenge
            if challenge.scheme == "bearer":
                self._add_scopes(repository, actions, challenge)
        headers = self._authorization(
            repository, actions, reference, stale=sent.get("Authorization")
        )
        if headers == sent:  # nothing new to offer: Basic with the same credentials
            url = response.url if response is not None else self.base_url
            raise self._errors.refused(url, reference, 401)
        return headers

    def _authorized(
        self,
        repository: str,
        actions: Sequence[str],
        reference: str,
        path: str,
        send: Callable[[dict[str, str]], tuple[_T, Response | None, bool]],
    ) -> _T:
        """The one authenticate-and-retry loop: ``send(auth)`` returns its result, the
        401 response when refused (None when it has no headers to read) and whether it
        was refused. A refusal is answered once; a second is a RegistryAuthError."""
        auth = self._authorization(repository, actions, reference)
        for attempt in (1, 2):
            result, challenge, refused = send(auth)
            if not refused:
                return result
            if attempt == 1:
                auth = self._reauthorize(challenge, repository, actions, reference, auth)
        raise self._errors.refused(self.base_url + path, reference, 401)

    # -- requests -------------------------------------------------------------

    def request(
        self,
        method: str,
        repository: str,
        path: str,
        *,
        reference: str,
        actions: Sequence[str] = ("pull",),
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 16 * 1024 * 1024,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """``method`` ``base_url + path`` (``/v2/<repository>/manifests/<tag>``), with the
        token for ``repository:<repository>:<actions>``; ``reference`` names the image
        in errors. 404 is :class:`RegistryNotFoundError`, 429 (after the retries)
        :class:`RegistryRateLimitedError`, other failures as the class says."""
        challenge_ok = ok if 401 in ok else (*ok, 401)

        def send(auth: dict[str, str]) -> tuple[Response, Response | None, bool]:
            try:
                response = self._client.request(
                    method,
                    self.base_url + path,
                    headers={**(headers or {}), **auth},
                    max_bytes=max_bytes,
                    ok=challenge_ok,
                )
            except NetworkError as e:
                raise self._errors.request(e, reference) from e
            refused = response.status == 401 and 401 not in ok
            return response, response, refused

        return self._authorized(repository, actions, reference, path, send)

    def stream(
        self,
        repository: str,
        path: str,
        *,
        reference: str,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Response, Iterator[bytes]]:
        """GET ``path`` authenticated, streaming the body (see ``HttpClient.stream``)."""

        def send(
            auth: dict[str, str],
        ) -> tuple[tuple[Response, Iterator[bytes]], Response | None, bool]:
            try:
                response, chunks = self._client.stream(
                    self.base_url + path, headers={**(headers or {}), **auth}, ok=(401,)
                )
            except NetworkError as e:
                raise self._errors.request(e, reference) from e
            if response.status == 401:
                _close(chunks)
                return (response, iter(())), response, True
            return (response, self._errors.chunks(chunks, reference)), None, False

        return self._authorized(repository, ("pull",), reference, path, send)

    def download(
        self,
        repository: str,
        path: str,
        dest: str,
        *,
        reference: str,
        expected_digest: str | None = None,
        expected_size: int | None = None,
        validators: Validators | None = None,
    ) -> Download:
        """``HttpClient.download`` of ``path`` authenticated (a blob redirect to another
        host drops our token), errors translated as :meth:`request` does. A 401 mid-pull
        (the token expired or was revoked) fetches one fresh token and resumes the
        partial file."""

        def send(auth: dict[str, str]) -> tuple[Download | None, Response | None, bool]:
            url = self.base_url + path
            try:
                return (
                    self._client.download(
                        url,
                        dest,
                        headers=auth,
                        expected_digest=expected_digest,
                        expected_size=expected_size,
                        validators=validators,
                    ),
                    None,
                    False,
                )
            except DigestMismatchError as e:
                raise self._errors.digest(e, url, reference) from e
            except NetworkError as e:
                if e.status != 401 or not auth:
                    raise self._errors.request(e, reference) from e
                return None, None, True

        done = self._authorized(repository, ("pull",), reference, path, send)
        assert done is not None
        return done
