"""RegistrySession against a fake registry and token server on loopback (tests/registry_fake.py).

Each flow is checked by what the servers were asked (the token request's method,
form, scopes and credentials), not only by the request succeeding.
"""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from anchore.errors import DigestMismatchError
from anchore.net import ClientOptions, HttpClient
from anchore.registry import (
    CredentialError,
    Credentials,
    Keychain,
    RegistryAuthError,
    RegistryConnectionError,
    RegistryNotFoundError,
    RegistryOptions,
    RegistryRateLimitedError,
    RegistryResponseError,
    RegistrySession,
    RegistryTLSError,
)
from anchore.registry.auth_realm import check_realm
from anchore.registry.challenge import Challenge, parse_challenges
from registry_fake import FakeRegistry, TokenServer, running
from tlsca import TestCA

MANIFEST = b'{"schemaVersion": 2}'
BLOB = b"layer bytes " * 1000
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
CONTENT = {
    "/v2/team/app/manifests/1.0": MANIFEST,
    f"/v2/team/app/blobs/{BLOB_DIGEST}": BLOB,
}
SECRET = "pa55-w0rd-never-printed"


def _options(tmp_path: Path, **kw: object) -> RegistryOptions:
    """Options whose environment has no credentials but what a test puts there."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin"}
    kw.setdefault("retries", 0)
    kw.setdefault("timeout", 5.0)
    return RegistryOptions(environ=env, **kw)  # type: ignore[arg-type]


def _session(registry: FakeRegistry, options: RegistryOptions) -> RegistrySession:
    return RegistrySession(registry.address, options=options)


def _manifest(session: RegistrySession, reference: str = "team/app:1.0") -> bytes:
    response = session.request("GET", "team/app", "/v2/team/app/manifests/1.0", reference=reference)
    assert response.status == 200
    return response.body


def _basic_user(header: str | None) -> str | None:
    if not header or not header.startswith("Basic "):
        return None
    return base64.b64decode(header[6:]).decode().partition(":")[0]


# -- challenges ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
            'scope="repository:library/python:pull,push"',
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "https://auth.docker.io/token",
                        "service": "registry.docker.io",
                        "scope": "repository:library/python:pull,push",
                    },
                )
            ],
        ),
        (
            'Basic realm="a, b", BEARER Realm=t ,error="insufficient_scope"',
            [
                Challenge("basic", {"realm": "a, b"}),
                Challenge("bearer", {"realm": "t", "error": "insufficient_scope"}),
            ],
        ),
        ('Bearer realm="with \\"quote\\""', [Challenge("bearer", {"realm": 'with "quote"'})]),
        ("Negotiate abc==, Basic", [Challenge("negotiate", {}, "abc=="), Challenge("basic")]),
    ],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    assert parse_challenges([header]) == expected


def test_parse_challenges_over_several_headers_and_malformed() -> None:
    assert parse_challenges(['Basic realm="r"', "Bearer realm=t"]) == [
        Challenge("basic", {"realm": "r"}),
        Challenge("bearer", {"realm": "t"}),
    ]
    assert parse_challenges(['Bearer realm="never closed']) is None
    assert parse_challenges(["Bearer realm=t junk"]) is None
    assert parse_challenges(["=x"]) is None


# -- anonymous, basic ------------------------------------------------------------


def test_anonymous_registry_over_plain_http_on_loopback(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    with running(registry):
        session = _session(registry, _options(tmp_path))
        assert _manifest(session) == MANIFEST
        assert session.base_url == f"http://{registry.address}"
    paths = [(s.path, s.headers.get("authorization")) for s in registry.requests]
    assert paths == [("/v2/", None), ("/v2/team/app/manifests/1.0", None)]


def test_basic_challenge(tmp_path: Path) -> None:
    registry = FakeRegistry(auth="basic", users={"alice": SECRET}, content=CONTENT)
    creds = {registry.address: Credentials("alice", SECRET, origin="test")}
    with running(registry):
        assert _manifest(_session(registry, _options(tmp_path, credentials=creds))) == MANIFEST
    last = registry.requests[-1]
    assert _basic_user(last.headers.get("authorization")) == "alice"


def test_basic_wrong_password_names_the_places_not_the_password(tmp_path: Path) -> None:
    registry = FakeRegistry(auth="basic", users={"alice": "right"}, content=CONTENT)
    options = _options(tmp_path)
    config = Path(options.env()["HOME"]) / ".docker" / "config.json"
    config.parent.mkdir()
    auth = base64.b64encode(f"alice:{SECRET}".encode()).decode()
    config.write_text(json.dumps({"auths": {registry.address: {"auth": auth}}}))
    with running(registry):
        session = _session(registry, options)
        with pytest.raises(RegistryAuthError) as caught:
            _manifest(session, reference="my-ref")
    message = str(caught.value)
    assert SECRET not in message and auth not in message
    assert str(config) in message
    assert registry.address in message and "my-ref" in message
    assert caught.value.registry == registry.address
    assert caught.value.reference == "my-ref"
    # the same credentials are not sent twice: one failed request
    assert len(registry.registry_requests("/v2/team/app/manifests/1.0")) == 1


def test_basic_without_credentials(tmp_path: Path) -> None:
    registry = FakeRegistry(auth="basic", users={"alice": "right"}, content=CONTENT)
    with (
        running(registry),
        pytest.raises(RegistryAuthError, match="credentials were looked for in"),
    ):
        _manifest(_session(registry, _options(tmp_path)))


# -- bearer ----------------------------------------------------------------------


def test_anonymous_bearer_token_by_get(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        assert _manifest(session) == MANIFEST
        assert _manifest(session) == MANIFEST  # the token is reused
    [asked] = tokens.token_requests()
    assert asked.method == "GET"
    assert asked.query == {"service": ["fake-registry"], "scope": ["repository:team/app:pull"]}
    assert "authorization" not in asked.headers
    sent = registry.registry_requests("/v2/team/app/manifests/1.0")
    assert len(sent) == 2
    assert all(s.headers["authorization"].startswith("Bearer ") for s in sent)


@pytest.mark.parametrize("post_status", [404, 405])
def test_realm_refusing_post_falls_back_to_get_with_basic(tmp_path: Path, post_status: int) -> None:
    """An identity token is POSTed; a realm without OAuth2 (404/405) is asked by GET."""
    tokens = TokenServer(users={"bob": SECRET}, anonymous=False, post_status=post_status)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    creds = {registry.address: Credentials("bob", SECRET, identity_token="refresh-abc")}
    with running(tokens, registry):
        assert _manifest(_session(registry, _options(tmp_path, credentials=creds))) == MANIFEST
    post, get = tokens.token_requests()
    assert (post.method, get.method) == ("POST", "GET")
    assert _basic_user(get.headers.get("authorization")) == "bob"
    assert get.query["scope"] == ["repository:team/app:pull"]


def test_password_goes_to_the_realm_by_get_with_basic(tmp_path: Path) -> None:
    """As docker and go-containerregistry do: a user and password are sent to the realm
    as Basic auth on a GET (``?service=&scope=``), never in an OAuth2 password form
    (realms like Harbor's, Quay's or GitLab's do not take one)."""
    tokens = TokenServer(users={"carol": SECRET}, anonymous=False)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    creds = {registry.address: Credentials("carol", SECRET)}
    with running(tokens, registry):
        assert _manifest(_session(registry, _options(tmp_path, credentials=creds))) == MANIFEST
    [get] = tokens.token_requests()
    assert get.method == "GET"
    assert _basic_user(get.headers.get("authorization")) == "carol"
    assert get.query == {"service": ["fake-registry"], "scope": ["repository:team/app:pull"]}


def test_oauth2_post_refresh_token_from_identity_token(tmp_path: Path) -> None:
    tokens = TokenServer(refresh_tokens={"refresh-abc": "dave"}, anonymous=False)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    creds = {registry.address: Credentials(identity_token="refresh-abc")}
    with running(tokens, registry):
        assert _manifest(_session(registry, _options(tmp_path, credentials=creds))) == MANIFEST
    [post] = tokens.token_requests()
    assert post.form["grant_type"] == ["refresh_token"]
    assert post.form["refresh_token"] == ["refresh-abc"]
    assert post.form["client_id"] == ["anchore"]


def test_bearer_wrong_password_names_the_places_not_the_password(tmp_path: Path) -> None:
    tokens = TokenServer(users={"bob": "right"}, anonymous=False, post_status=405)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    options = _options(tmp_path)
    auth_file = tmp_path / "auth.json"
    auth = base64.b64encode(f"bob:{SECRET}".encode()).decode()
    auth_file.write_text(json.dumps({"auths": {registry.address: {"auth": auth}}}))
    options = _options(tmp_path, auth_file=str(auth_file))
    with running(tokens, registry), pytest.raises(RegistryAuthError) as caught:
        _manifest(_session(registry, options), reference="team/app:1.0")
    message = str(caught.value)
    assert SECRET not in message and auth not in message
    assert str(auth_file) in message
    assert tokens.realm in message and "bob" in message and "team/app:1.0" in message


def test_insufficient_scope_adds_the_scope_and_asks_once_more(tmp_path: Path) -> None:
    tokens = TokenServer()
    blob_path = f"/v2/team/app/blobs/{BLOB_DIGEST}"
    registry = FakeRegistry(
        auth="bearer",
        token_server=tokens,
        content=CONTENT,
        extra_scopes={blob_path: "repository:team/base:pull"},
    )
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        response = session.request("GET", "team/app", blob_path, reference="team/app:1.0")
        assert response.body == BLOB
        # the accumulated scopes are kept for the repository: no third token request
        session.request("GET", "team/app", blob_path, reference="team/app:1.0")
    first, second = tokens.token_requests()
    assert first.query["scope"] == ["repository:team/app:pull"]
    assert sorted(second.query["scope"]) == [
        "repository:team/app:pull",
        "repository:team/base:pull",
    ]
    assert len(registry.registry_requests(blob_path)) == 3


def test_a_third_401_is_an_auth_error_after_one_reauth(tmp_path: Path) -> None:
    tokens = TokenServer()
    blob_path = f"/v2/team/app/blobs/{BLOB_DIGEST}"
    # the registry wants a scope the token server never grants (it grants what is
    # asked, so ask for one the challenge does not name: a revoked token each time)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        _manifest(session)
        original = tokens._issue

        def issue_and_revoke(*args: object, **kw: object) -> None:
            original(*args, **kw)  # type: ignore[arg-type]
            registry.revoke()

        tokens._issue = issue_and_revoke  # type: ignore[method-assign]
        registry.revoke()
        with pytest.raises(RegistryAuthError, match="refused access to team/app"):
            session.request("GET", "team/app", blob_path, reference="team/app")
    assert len(registry.registry_requests(blob_path)) == 2
    assert len(tokens.token_requests()) == 2


def test_revoked_token_is_fetched_anew_once(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        _manifest(session)
        registry.revoke()
        assert _manifest(session) == MANIFEST
    assert len(tokens.token_requests()) == 2


def test_token_expiry_fetches_a_new_one(tmp_path: Path) -> None:
    tokens = TokenServer(expires_in=1)
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        _manifest(session)
        _manifest(session)
        assert len(tokens.token_requests()) == 1
        time.sleep(1.0)
        _manifest(session)
    assert len(tokens.token_requests()) == 2
    # renewed before the registry saw an expired token: no 401 on the manifest
    manifest_401s = [
        s
        for s in registry.registry_requests("/v2/team/app/manifests/1.0")
        if not s.headers.get("authorization")
    ]
    assert manifest_401s == []
    assert len(registry.registry_requests("/v2/team/app/manifests/1.0")) == 3


def test_parallel_requests_share_one_token(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    errors: list[BaseException] = []
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))

        def pull() -> None:
            try:
                _manifest(session)
            except BaseException as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=pull) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert errors == []
    assert len(tokens.token_requests()) == 1
    assert len(registry.registry_requests("/v2/")) == 1


# -- realms (SSRF) ---------------------------------------------------------------


def test_realm_on_another_private_host_is_refused_before_any_request(tmp_path: Path) -> None:
    tokens = TokenServer(host="127.0.0.2")
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        with pytest.raises(RegistryAuthError) as caught:
            _manifest(_session(registry, _options(tmp_path)), reference="team/app:1.0")
        assert tokens.requests == []
        message = str(caught.value)
        assert "SSRF" in message and tokens.realm in message and "allowed_realm_hosts" in message
        allowed = _options(tmp_path, allowed_realm_hosts=frozenset({"127.0.0.2"}))
        assert _manifest(_session(registry, allowed)) == MANIFEST
    assert len(tokens.token_requests()) == 1


def test_realm_on_the_registry_host_another_port_is_allowed(tmp_path: Path) -> None:
    tokens = TokenServer(host="127.0.0.1")
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    assert tokens.port != registry.port
    with running(tokens, registry):
        assert _manifest(_session(registry, _options(tmp_path))) == MANIFEST


@pytest.mark.parametrize(
    ("realm", "error", "problem"),
    [
        ("http://169.254.169.254/latest/meta-data", RegistryAuthError, "plain http"),
        ("https://169.254.169.254/latest/meta-data", RegistryAuthError, "SSRF"),
        ("https://10.0.0.8/token", RegistryAuthError, "SSRF"),
        ("https://[fe80::1]/token", RegistryAuthError, "SSRF"),
        ("http://example.com/token", RegistryAuthError, "plain http"),
        ("ftp://example.com/token", RegistryResponseError, "no http(s) URL"),
        ("token", RegistryResponseError, "no http(s) URL"),
    ],
)
def test_realm_checks(realm: str, error: type[Exception], problem: str) -> None:
    with pytest.raises(error, match=problem.replace("(", r"\(").replace(")", r"\)")):
        check_realm(realm, "registry.example.com", RegistryOptions(), "ref")


def test_realm_checks_allow() -> None:
    options = RegistryOptions(
        allowed_realm_hosts=frozenset({"10.0.0.8", "192.168.1.2:8443"}),
        insecure_registries=frozenset({"10.0.0.9"}),
    )
    check_realm("https://10.0.0.8/token", "r.example", options, "ref")
    check_realm("https://192.168.1.2:8443/token", "r.example", options, "ref")
    check_realm("https://r.example:5001/token", "r.example:5000", RegistryOptions(), "ref")
    check_realm("http://127.0.0.1:9/token", "127.0.0.1:5000", RegistryOptions(), "ref")
    with pytest.raises(RegistryAuthError):  # insecure allows http, not a private address
        check_realm("http://10.0.0.9/token", "r.example", options, "ref")
    insecure = RegistryOptions(insecure_registries=frozenset({"10.0.0.9:5000"}))
    check_realm("http://10.0.0.9:5001/token", "10.0.0.9:5000", insecure, "ref")
    with pytest.raises(RegistryAuthError, match="plain http"):
        check_realm("http://10.0.0.9:5001/token", "10.0.0.9:5000", RegistryOptions(), "ref")


def test_one_loopback_rule_for_the_session_the_realm_and_the_client(tmp_path: Path) -> None:
    """The registry side asks the client's ``is_loopback_host``: a ``*.localhost`` name
    (which DNS could send anywhere) is not loopback for plain http, anywhere (review A #14)."""
    with pytest.raises(RegistryAuthError, match="plain http"):
        check_realm("http://app.localhost:5001/token", "app.localhost:5000", RegistryOptions(), "r")
    check_realm(
        "http://[::ffff:127.0.0.1]:9/token", "[::ffff:127.0.0.1]:5000", RegistryOptions(), "r"
    )
    session = RegistrySession("app.localhost:5000", options=_options(tmp_path))
    assert not session._plain_http_allowed()
    assert RegistrySession(
        "[::ffff:127.0.0.1]:5000", options=_options(tmp_path)
    )._plain_http_allowed()


# -- scheme and TLS --------------------------------------------------------------


def test_loopback_registry_with_tls_keeps_https(tmp_path: Path) -> None:
    ca = TestCA(tmp_path / "ca")
    pem = ca.server()
    registry = FakeRegistry(content=CONTENT, tls=(str(pem.cert), str(pem.key)))
    with running(registry):
        session = _session(registry, _options(tmp_path, ca_bundle=str(ca.pem.cert)))
        assert _manifest(session) == MANIFEST
        assert session.base_url == f"https://{registry.address}"


class _Recording(HttpClient):
    """An HttpClient noting every URL asked."""

    def __init__(self, options: ClientOptions) -> None:
        super().__init__(options)
        self.asked: list[str] = []

    def request(self, method: str, url: str, **kw: Any) -> Any:
        self.asked.append(url)
        return super().request(method, url, **kw)


def test_untrusted_tls_is_a_tls_error_not_a_plain_http_retry(tmp_path: Path) -> None:
    """A loopback registry that speaks TLS with a certificate we do not trust: the
    server does speak TLS, so plain http is not tried; the error says --ca-bundle."""
    ca = TestCA(tmp_path / "ca")
    pem = ca.server()
    registry = FakeRegistry(content=CONTENT, tls=(str(pem.cert), str(pem.key)))
    options = _options(tmp_path)
    client = _Recording(ClientOptions(environ=options.environ, retries=0))
    with running(registry), pytest.raises(RegistryTLSError) as caught:
        session = RegistrySession(registry.address, options=options, client=client)
        _manifest(session, reference="team/app:1.0")
    assert registry.address in str(caught.value) and "team/app:1.0" in str(caught.value)
    assert "--ca-bundle" in str(caught.value)  # the net error says how to trust a CA
    assert client.asked == [f"https://{registry.address}/v2/"]  # no http:// attempt


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    session = RegistrySession(f"127.0.0.1:{port}", options=_options(tmp_path))
    with pytest.raises(RegistryConnectionError) as caught:
        session.request("GET", "a", "/v2/a/manifests/1", reference="ref-x")
    assert not isinstance(caught.value, RegistryTLSError)
    assert f"127.0.0.1:{port}" in str(caught.value) and "ref-x" in str(caught.value)


# -- errors, stream, download -------------------------------------------------------


def test_not_found_names_registry_and_reference(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    with running(registry):
        session = _session(registry, _options(tmp_path))
        with pytest.raises(RegistryNotFoundError) as caught:
            session.request("GET", "team/app", "/v2/team/app/manifests/9", reference="team/app:9")
        response = session.request(
            "GET", "team/app", "/v2/team/app/manifests/9", reference="team/app:9", ok=(404,)
        )
    assert response.status == 404
    assert caught.value.registry == registry.address
    assert caught.value.reference == "team/app:9"
    assert registry.address in str(caught.value) and "team/app:9" in str(caught.value)


def test_rate_limited(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    registry.status["/v2/team/app/manifests/1.0"] = (429, {"Retry-After": "1000"})
    with running(registry), pytest.raises(RegistryRateLimitedError) as caught:
        _manifest(_session(registry, _options(tmp_path)))
    assert caught.value.status == 429


def test_server_error_is_a_response_error(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    registry.status["/v2/team/app/manifests/1.0"] = (501, {})
    with running(registry), pytest.raises(RegistryResponseError, match="HTTP 501"):
        _manifest(_session(registry, _options(tmp_path)))


def test_ping_404_is_not_a_registry(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    registry.status["/v2/"] = (404, {})
    with (
        running(registry),
        pytest.raises(RegistryResponseError, match="does not answer as an OCI distribution"),
    ):
        _manifest(_session(registry, _options(tmp_path)))


def test_stream_and_download_authenticated(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    blob_path = f"/v2/team/app/blobs/{BLOB_DIGEST}"
    with running(tokens, registry), HttpClient(ClientOptions(retries=0)) as client:
        session = RegistrySession(registry.address, options=_options(tmp_path), client=client)
        head, chunks = session.stream("team/app", blob_path, reference="team/app")
        assert head.status == 200
        assert b"".join(chunks) == BLOB
        registry.revoke()  # the download re-authenticates once
        dest = tmp_path / "blob"
        done = session.download(
            "team/app",
            blob_path,
            str(dest),
            reference="team/app",
            expected_digest=BLOB_DIGEST,
            expected_size=len(BLOB),
        )
        assert done.digest == BLOB_DIGEST and dest.read_bytes() == BLOB
        with pytest.raises(DigestMismatchError) as caught:
            session.download(
                "team/app",
                blob_path,
                str(tmp_path / "bad"),
                reference="team/app:bad",
                expected_digest="sha256:" + "0" * 64,
            )
    assert registry.address in str(caught.value) and "team/app:bad" in str(caught.value)
    assert not (tmp_path / "bad").exists()
    assert len(tokens.token_requests()) == 2


def test_stream_reauthenticates_after_a_revoked_token(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        _manifest(session)
        registry.revoke()
        _head, chunks = session.stream("team/app", "/v2/team/app/manifests/1.0", reference="r")
        assert b"".join(chunks) == MANIFEST
    assert len(tokens.token_requests()) == 2


def test_keychain_is_consulted_lazily_and_once(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    options = _options(tmp_path)
    keychain = Keychain(options)
    with running(tokens, registry):
        session = RegistrySession(registry.address, options=options, keychain=keychain)
        _manifest(session)
        _manifest(session)
    assert any("config.json" in place for place in keychain.searched())


def test_credential_error_names_the_registry_and_reference(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path, auth_file=str(broken)))
        with pytest.raises(CredentialError) as caught:
            _manifest(session, reference="team/app:1.0")
    assert str(broken) in str(caught.value)
    assert (caught.value.registry, caught.value.reference) == (registry.address, "team/app:1.0")
    assert tokens.requests == []


def test_denied_403_is_an_auth_error_naming_the_places(tmp_path: Path) -> None:
    registry = FakeRegistry(content=CONTENT)
    registry.status["/v2/team/app/manifests/1.0"] = (403, {})
    with running(registry), pytest.raises(RegistryAuthError) as caught:
        _manifest(_session(registry, _options(tmp_path)), reference="team/app:1.0")
    assert caught.value.status == 403
    assert "HTTP 403" in str(caught.value) and "credentials were looked for in" in str(caught.value)


def test_two_challenge_headers_bearer_is_chosen(tmp_path: Path) -> None:
    tokens = TokenServer()
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    # a registry offering Basic first and Bearer in a second header (as some proxies do)
    original = registry._bearer_challenge

    def both(scopes: set[str], error: str | None = None) -> dict[str, str]:
        headers = original(scopes, error)
        headers["WWW-Authenticate"] = 'Basic realm="x", ' + headers["WWW-Authenticate"]
        return headers

    registry._bearer_challenge = both  # type: ignore[method-assign]
    with running(tokens, registry):
        assert _manifest(_session(registry, _options(tmp_path))) == MANIFEST
    assert len(tokens.token_requests()) == 1


def test_realm_with_a_query_keeps_it(tmp_path: Path) -> None:
    tokens = TokenServer(expires_in=None)  # no expires_in: kept 60 s
    registry = FakeRegistry(auth="bearer", token_server=tokens, content=CONTENT)
    registry.realm = tokens.realm + "?account=ci"
    with running(tokens, registry):
        session = _session(registry, _options(tmp_path))
        _manifest(session)
        _manifest(session)
    [asked] = tokens.token_requests()
    assert asked.query == {
        "account": ["ci"],
        "service": ["fake-registry"],
        "scope": ["repository:team/app:pull"],
    }


@pytest.mark.parametrize("name", ["docker.io", "registry-1.docker.io", "Index.Docker.IO"])
def test_docker_hub_names_are_one_registry(name: str) -> None:
    assert RegistrySession(name).registry == "index.docker.io"


# -- secrets in reprs and messages (review A #9, #10) ------------------------------------


def test_option_reprs_hide_the_environment_and_credentials() -> None:
    environ = {"ANCHORE_REGISTRY_PASSWORD": "hunter2", "HTTPS_PROXY": "http://u:pw@proxy:3128"}
    creds = {"r.example": Credentials("alice", "hunter3", identity_token="tok-4")}
    shown = repr(RegistryOptions(environ=environ, credentials=creds))
    shown += repr(ClientOptions(environ=environ))
    for secret in ("hunter2", "u:pw", "hunter3", "tok-4"):
        assert secret not in shown
    assert "2 variables" in shown and "r.example" in shown


def test_refused_message_hides_a_presigned_urls_signature(tmp_path: Path) -> None:
    from anchore.registry.auth_errors import Translator
    from anchore.registry.keychain import Keychain

    translator = Translator("r.example", Keychain(_options(tmp_path)))
    url = "https://bucket.s3.example/blob?X-Amz-Signature=deadbeef&X-Amz-Credential=AKIA1"
    message = str(translator.refused(url, "r.example/a:1", 401))
    assert "deadbeef" not in message and "AKIA1" not in message
    assert "bucket.s3.example/blob" in message


def test_download_refused_with_nothing_new_to_offer_is_asked_once(tmp_path: Path) -> None:
    """request, stream and download share one authenticate-and-retry loop (review A
    #14): a download refused under Basic auth, with the same credentials to offer
    again, is a RegistryAuthError at once, as a manifest request is, not sent twice."""
    registry = FakeRegistry(auth="basic", users={"alice": SECRET}, content=CONTENT)
    blob_path = f"/v2/team/app/blobs/{BLOB_DIGEST}"
    registry.status[blob_path] = (401, {"WWW-Authenticate": 'Basic realm="fake registry"'})
    creds = {registry.address: Credentials("alice", SECRET)}
    with running(registry), HttpClient(ClientOptions(retries=0, environ={})) as client:
        options = _options(tmp_path, credentials=creds)
        session = RegistrySession(registry.address, options=options, client=client)
        with pytest.raises(RegistryAuthError, match="refused access"):
            session.download("team/app", blob_path, str(tmp_path / "b"), reference="team/app:1")
    assert len(registry.registry_requests(blob_path)) == 1
