"""anchore.net against real servers on loopback: TLS with a CA made here, retries,
redirects, resumed and verified downloads, conditional requests, proxies.

Names under ``.example.invalid`` are resolved by the ``names`` fixture (a resolver
that answers only them, everything else goes to the real one), so proxies, host
name checks and SSRF rules are tested offline; no request leaves the machine.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from anchore.errors import DigestMismatchError
from anchore.net import (
    ClientOptions,
    ConnectionFailedError,
    HttpClient,
    HttpStatusError,
    InsecureTransportError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RefusedAddressError,
    TlsError,
    TransferError,
    UnauthorizedError,
    Validators,
    is_public_address,
)
from anchore.net.backoff import backoff_delay, parse_decimal, parse_retry_after
from anchore.net.proxies import proxy_for
from net_server import Handler, Proxy, Server, tls_context
from tlsca import TestCA

pytestmark = pytest.mark.timeout(60)

DATA = bytes(range(256)) * 1024  # 256 KiB, every byte value
DIGEST = "sha256:" + hashlib.sha256(DATA).hexdigest()


# -- fixtures -----------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[Server]:
    with Server() as running:
        yield running


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Resolve chosen names (fill the dict: name -> address) without DNS; any other
    ``.example.invalid`` name does not resolve."""
    table: dict[str, str] = {}
    real = socket.getaddrinfo

    def fake(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if isinstance(host, str) and host.endswith(".example.invalid"):
            if host not in table:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
            return real(table[host], port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return table


Make = Callable[..., HttpClient]


@pytest.fixture
def make() -> Iterator[Make]:
    """``make(**options)``: a client whose sleeps are recorded in ``client.waits``."""
    made: list[HttpClient] = []

    def build(**options: Any) -> HttpClient:
        options.setdefault("environ", {})
        options.setdefault("backoff", 0.01)
        client = HttpClient(ClientOptions(**options))
        client.waits = []  # type: ignore[attr-defined]
        client.sleep = client.waits.append  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield build
    for client in made:
        client.close()


@pytest.fixture
def ca(tmp_path: Path) -> TestCA:
    return TestCA(tmp_path / "ca")


def tls_server(ca: TestCA, names: tuple[str, ...] = ("localhost", "127.0.0.1")) -> Server:
    pem = ca.server(names, stem="-".join(names).replace(":", "_"))
    return Server(tls=tls_context(str(pem.cert), str(pem.key)))


def sequence(*routes: Callable[[Handler], None]) -> Callable[[Handler], None]:
    """A route answering with each of ``routes`` in turn, then the last one again."""
    calls = iter(range(1_000_000))

    def route(handler: Handler) -> None:
        routes[min(next(calls), len(routes) - 1)](handler)

    return route


def status(code: int, headers: dict[str, str] | None = None) -> Callable[[Handler], None]:
    return lambda h: h.reply(code, f"status {code}".encode(), headers)


def ok(body: bytes = b"hello") -> Callable[[Handler], None]:
    return lambda h: h.reply(200, body, {"Content-Type": "text/plain"})


def drop_halfway(data: bytes) -> Callable[[Handler], None]:
    """Announce all of ``data``, send half, hang up."""

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("ETag", '"v1"')
        handler.end_headers()
        handler.wfile.write(data[: len(data) // 2])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    return route


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- requests -------------------------------------------------------------------------


def test_get_reads_body_and_headers(server: Server, make: Make) -> None:
    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "5")
        handler.send_header("WWW-Authenticate", 'Bearer realm="a"')
        handler.send_header("WWW-Authenticate", 'Basic realm="b"')
        handler.send_header("ETag", '"abc"')
        handler.end_headers()
        handler.wfile.write(b"hello")

    server.routes["/x"] = route
    response = make().request("GET", server.url("/x"), headers={"Accept": "text/plain"})
    assert (response.status, response.body, response.url) == (200, b"hello", server.url("/x"))
    assert response.header_list["www-authenticate"] == ('Bearer realm="a"', 'Basic realm="b"')
    assert response.header("ETag") == '"abc"'
    assert response.validators == Validators('"abc"', None)
    sent = server.seen[0].headers
    assert sent["accept"] == "text/plain" and sent["user-agent"] == "anchore"


def test_post_fields_are_a_form(server: Server, make: Make) -> None:
    server.routes["/token"] = ok(b'{"token": "t"}')
    client = make()
    response = client.request("POST", server.url("/token"), fields={"scope": "a b", "x": "1"})
    assert response.body == b'{"token": "t"}'
    seen = server.seen[0]
    assert seen.method == "POST" and seen.body == b"scope=a+b&x=1"
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"


def test_statuses_map_to_errors(server: Server, make: Make) -> None:
    server.routes["/401"] = status(401, {"WWW-Authenticate": "Basic"})
    server.routes["/403"] = status(403)
    server.routes["/404"] = status(404)
    server.routes["/418"] = status(418)
    client = make()
    with pytest.raises(UnauthorizedError) as caught:
        client.request("GET", server.url("/401"))
    assert caught.value.status == 401 and caught.value.url == server.url("/401")
    assert server.url("/401") in str(caught.value) and "status 401" in str(caught.value)
    with pytest.raises(UnauthorizedError):
        client.request("GET", server.url("/403"))
    with pytest.raises(NotFoundError) as missing:
        client.request("GET", server.url("/404"))
    assert missing.value.status == 404
    with pytest.raises(HttpStatusError) as other:
        client.request("GET", server.url("/418"))
    assert other.value.status == 418 and type(other.value) is HttpStatusError
    challenge = client.request("GET", server.url("/401"), ok=(401,))
    assert challenge.status == 401 and challenge.header("www-authenticate") == "Basic"
    assert client.waits == []  # none of these is retried


def test_head_of_a_large_blob_is_not_a_large_body(server: Server, make: Make) -> None:
    server.routes["/blob"] = lambda h: h.reply(200, b"", {"Content-Length": str(10**10)})
    response = make().request("HEAD", server.url("/blob"), max_bytes=1000)
    assert response.header("content-length") == str(10**10) and response.body == b""


def test_body_past_max_bytes_is_refused(server: Server, make: Make) -> None:
    server.routes["/big"] = ok(b"x" * 1000)
    with pytest.raises(TransferError, match="1000 bytes"):
        make().request("GET", server.url("/big"), max_bytes=999)
    assert make().request("GET", server.url("/big"), max_bytes=1000).body == b"x" * 1000


# -- retries --------------------------------------------------------------------------


def test_503_then_200_is_retried(server: Server, make: Make) -> None:
    server.routes["/flaky"] = sequence(status(503), status(502), ok())
    client = make(backoff=1.0)
    assert client.request("GET", server.url("/flaky")).body == b"hello"
    assert len(server.seen) == 3
    waits = client.waits  # type: ignore[attr-defined]
    assert 0.5 <= waits[0] < 1.0 and 1.0 <= waits[1] < 2.0  # doubled, with jitter


def test_429_retry_after_seconds_is_honoured(server: Server, make: Make) -> None:
    server.routes["/limited"] = sequence(status(429, {"Retry-After": "7"}), ok())
    client = make()
    assert client.request("GET", server.url("/limited")).status == 200
    assert client.waits == [7.0]  # type: ignore[attr-defined]


def test_retry_after_http_date_is_honoured(server: Server, make: Make) -> None:
    import email.utils
    import time

    when = email.utils.formatdate(time.time() + 60, usegmt=True)
    server.routes["/limited"] = sequence(status(503, {"Retry-After": when}), ok())
    client = make()
    assert client.request("GET", server.url("/limited")).status == 200
    (waited,) = client.waits  # type: ignore[attr-defined]
    assert 55 <= waited <= 61


def test_too_long_retry_after_fails_at_once(server: Server, make: Make) -> None:
    server.routes["/limited"] = status(429, {"Retry-After": "3600"})
    client = make(max_retry_after=120)
    with pytest.raises(RateLimitedError) as caught:
        client.request("GET", server.url("/limited"))
    assert caught.value.retry_after == 3600 and caught.value.status == 429
    assert "3600" in str(caught.value)
    assert client.waits == [] and len(server.seen) == 1  # type: ignore[attr-defined]


def test_retries_exhausted_names_the_status(server: Server, make: Make) -> None:
    server.routes["/down"] = status(503)
    server.routes["/limited"] = status(429, {"Retry-After": "1"})
    client = make(retries=2)
    with pytest.raises(HttpStatusError) as caught:
        client.request("GET", server.url("/down"))
    assert caught.value.status == 503 and "after 2 retries" in str(caught.value)
    assert len(server.seen) == 3
    with pytest.raises(RateLimitedError) as limited:
        client.request("GET", server.url("/limited"))
    assert limited.value.status == 429 and limited.value.retry_after == 1


def test_post_is_retried_only_when_idempotent(server: Server, make: Make) -> None:
    server.routes["/token"] = sequence(status(503), ok())
    client = make()
    with pytest.raises(HttpStatusError) as caught:
        client.request("POST", server.url("/token"), body=b"x")
    assert caught.value.status == 503 and len(server.seen) == 1
    assert client.request("POST", server.url("/token"), body=b"x", idempotent=True).status == 200
    assert [s.body for s in server.seen] == [b"x", b"x"]


def test_connection_refused_fails_fast(make: Make) -> None:
    client = make(retries=2)
    url = f"https://127.0.0.1:{free_port()}/v2/"
    with pytest.raises(ConnectionFailedError) as caught:
        client.request("GET", url)
    assert caught.value.url == url and url in str(caught.value)
    assert "refused" in str(caught.value) and "cannot connect" in str(caught.value)
    assert "timed out" not in str(caught.value)  # NewConnectionError is a ConnectTimeoutError
    assert client.waits == []  # type: ignore[attr-defined]  # nothing listens: no retry


def test_plain_http_server_on_https_is_a_tls_error_at_once(server: Server, make: Make) -> None:
    """The hint says what is wrong: the server speaks plain HTTP (not a CA to add)."""
    client = make(retries=3)
    with pytest.raises(TlsError) as caught:
        client.request("GET", server.url("/v2/").replace("http://", "https://"))
    assert client.waits == []  # type: ignore[attr-defined]
    assert caught.value.plain_http
    assert "plain HTTP" in str(caught.value) and "--insecure-registry" in str(caught.value)
    assert "ca_bundle" not in str(caught.value)


def test_connection_reset_before_headers_is_retried(server: Server, make: Make) -> None:
    def hang_up(handler: Handler) -> None:
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    server.routes["/v2/"] = sequence(hang_up, ok(b"{}"))
    client = make(retries=3)
    assert client.request("GET", server.url("/v2/")).body == b"{}"
    assert len(client.waits) == 1  # type: ignore[attr-defined]


def test_dropped_connection_is_retried(server: Server, make: Make) -> None:
    server.routes["/x"] = sequence(drop_halfway(b"0123456789" * 100), ok(b"whole"))
    client = make()
    assert client.request("GET", server.url("/x")).body == b"whole"
    assert len(server.seen) == 2


def test_read_timeout_is_retried_then_a_connection_failure(server: Server, make: Make) -> None:
    import time

    def slow(handler: Handler) -> None:
        time.sleep(0.6)
        handler.reply(200, b"late")

    server.routes["/slow"] = slow
    client = make(timeout=0.2, retries=1)
    with pytest.raises(ConnectionFailedError, match="timed out") as caught:
        client.request("GET", server.url("/slow"))
    assert caught.value.url == server.url("/slow")
    assert len(server.seen) == 2 and len(client.waits) == 1  # type: ignore[attr-defined]


def trickle(total: int, every: float) -> Callable[[Handler], None]:
    """Announce ``total`` bytes and send one byte each ``every`` seconds (each well
    within the socket timeout): a slow-loris server."""
    import time

    def route(handler: Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        try:
            for _ in range(total):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass  # the client gave up: what the test wants
        handler.close_connection = True

    return route


def test_a_trickling_server_cannot_hold_a_request_forever(server: Server, make: Make) -> None:
    """Each byte comes within the socket timeout, so only a bound on the throughput
    (``min_speed`` averaged over ``speed_window``) stops it (review A #11)."""
    import time

    server.routes["/slow"] = trickle(10_000, 0.05)
    client = make(timeout=5, retries=0, min_speed=1000, speed_window=0.5)
    started = time.monotonic()
    with pytest.raises(TransferError, match="bytes/s") as caught:
        client.request("GET", server.url("/slow"))
    assert caught.value.url == server.url("/slow")
    with pytest.raises(TransferError, match="bytes/s"):
        _, chunks = client.stream(server.url("/slow"))
        b"".join(chunks)
    assert time.monotonic() - started < 5


def test_a_trickling_download_keeps_its_partial(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/slow"] = trickle(10_000, 0.05)
    client = make(timeout=5, retries=0, min_speed=1000, speed_window=0.5)
    with pytest.raises(TransferError, match="bytes/s"):
        client.download(server.url("/slow"), tmp_path / "blob", expected_digest=DIGEST)
    assert not (tmp_path / "blob").exists()


def test_backoff_and_retry_after_parsing() -> None:
    assert backoff_delay(0, 0.5, 30, rand=0.0) == 0.25
    assert backoff_delay(3, 0.5, 30, rand=0.999) == pytest.approx(4.0, rel=1e-3)
    assert backoff_delay(20, 0.5, 30, rand=0.999) <= 30
    assert parse_retry_after("120") == 120
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0  # in the past
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def raw_server(head: bytes) -> tuple[socket.socket, str]:
    """A listening socket answering every connection with ``head`` as bytes (header
    values a well-behaved server could not send), and its URL; the caller closes it."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)

    def serve() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(head)

    threading.Thread(target=serve, daemon=True).start()
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}/x"


@pytest.mark.parametrize("value", ["\xb2", "\u0663", "1\xb2", "\uff11\uff12", " 12 3"])
def test_header_numbers_are_ascii_digits_only(value: str) -> None:
    """str.isdigit() and \\d take "²" and Arabic-Indic digits, int()/float() refuse some:
    a hostile header must be unreadable (None), never a raw ValueError (review A #3)."""
    assert parse_retry_after(value) is None
    assert parse_decimal(value) is None
    assert parse_decimal(" 42 ") == 42 and parse_decimal(None) is None


@pytest.mark.parametrize(
    ("name", "head"),
    [
        (
            "retry-after",
            b"HTTP/1.1 503 Busy\r\nRetry-After: \xb2\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n",
        ),
        (
            "content-length",
            b"HTTP/1.1 200 OK\r\nContent-Length: \xb2\r\nConnection: close\r\n\r\nab",
        ),
    ],
)
def test_hostile_header_digits_are_network_errors(
    name: str, head: bytes, make: Make, tmp_path: Path
) -> None:
    sock, url = raw_server(head)
    client = make(retries=0)
    try:
        if name == "retry-after":
            with pytest.raises(HttpStatusError, match="503"):
                client.request("GET", url)
        else:
            with pytest.raises(DigestMismatchError):  # read to the end, then checked
                client.download(url, tmp_path / "x", expected_digest="sha256:" + "0" * 64)
    finally:
        sock.close()


# -- plain HTTP and TLS ---------------------------------------------------------------


def test_plain_http_only_to_loopback_or_insecure_hosts(
    server: Server, make: Make, names: dict[str, str]
) -> None:
    client = make()
    for url in ("http://example.invalid/x", "http://10.0.0.1/x", "http://[fd00::1]:5000/"):
        with pytest.raises(InsecureTransportError) as caught:
            client.request("GET", url)
        assert caught.value.url == url
    assert client.request("GET", server.url("/nothing"), ok=(404,)).status == 404
    assert client.request("GET", server.url("/nothing", "localhost"), ok=(404,)).status == 404
    names["feeds.example.invalid"] = "127.0.0.1"
    url = server.url("/nothing", "feeds.example.invalid")
    with pytest.raises(InsecureTransportError):
        client.request("GET", url)
    for allowed in ("feeds.example.invalid", f"FEEDS.example.invalid:{server.port}"):
        assert make(insecure_hosts=frozenset({allowed})).request("GET", url, ok=(404,)).status
    with pytest.raises(InsecureTransportError):
        make(insecure_hosts=frozenset({"feeds.example.invalid:1"})).request("GET", url)
    assert len(server.seen) == 4  # the refused ones never connected


def test_tls_trusted_through_ca_bundle(ca: TestCA, make: Make) -> None:
    with tls_server(ca) as server:
        server.routes["/v2/"] = ok(b"{}")
        client = make(ca_bundle=str(ca.pem.cert))
        assert client.request("GET", server.url("/v2/")).body == b"{}"
        assert client.request("GET", server.url("/v2/", "localhost")).body == b"{}"
        with pytest.raises(TlsError) as caught:
            make().request("GET", server.url("/v2/"))
        assert caught.value.url == server.url("/v2/")
        assert "certificate" in str(caught.value).lower()


def test_tls_certificate_for_another_name_fails(
    ca: TestCA, make: Make, names: dict[str, str]
) -> None:
    names["registry.example.invalid"] = "127.0.0.1"
    with tls_server(ca, ("other.example.invalid",)) as server:
        server.routes["/v2/"] = ok(b"{}")
        client = make(ca_bundle=str(ca.pem.cert))
        for host in ("registry.example.invalid", "127.0.0.1"):
            with pytest.raises(TlsError, match="(?i)hostname|ip address|match"):
                client.request("GET", server.url("/v2/", host))
        assert server.seen == []


def test_verify_tls_false_connects_without_warnings(ca: TestCA, make: Make) -> None:
    with tls_server(ca, ("other.example.invalid",)) as server:
        server.routes["/v2/"] = ok(b"{}")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert make(verify_tls=False).request("GET", server.url("/v2/")).body == b"{}"
        assert [str(w.message) for w in caught] == []


def test_unreadable_ca_bundle_is_a_tls_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(TlsError, match="ca.pem"):
        HttpClient(ClientOptions(ca_bundle=str(bad)))


# -- redirects ------------------------------------------------------------------------


def redirect(location: str, code: int = 302) -> Callable[[Handler], None]:
    return lambda h: h.reply(code, b"", {"Location": location})


def test_redirect_to_another_host_drops_authorization(server: Server, make: Make) -> None:
    server.routes["/blob"] = redirect(server.url("/storage", "localhost"))
    server.routes["/same"] = redirect("/storage", 307)
    server.routes["/storage"] = ok(b"layer")
    client = make()
    auth = {"Authorization": "Bearer secret"}
    response = client.request("GET", server.url("/blob"), headers=auth)
    assert response.body == b"layer" and response.url == server.url("/storage", "localhost")
    assert "authorization" in server.seen[0].headers
    assert "authorization" not in server.seen[1].headers
    client.request("GET", server.url("/same"), headers=auth)
    assert server.seen[3].headers["authorization"] == "Bearer secret"
    assert server.seen[3].path == "/storage"


def test_redirect_of_a_body_to_another_host_is_refused(server: Server, make: Make) -> None:
    """A 307/308 keeps method and body: the OAuth2 password form must not follow it to
    another scheme, host or port (review A #2); to the same origin it may."""
    server.routes["/token"] = redirect(server.url("/steal", "localhost"), 307)
    server.routes["/token8"] = redirect(server.url("/steal", "localhost"), 308)
    server.routes["/same"] = redirect("/steal", 307)
    server.routes["/steal"] = ok(b"{}")
    client = make()
    form = {"grant_type": "password", "username": "alice", "password": "s3cret"}
    for path in ("/token", "/token8"):
        with pytest.raises(RefusedAddressError, match="another host") as caught:
            client.request("POST", server.url(path), fields=form, idempotent=True)
        assert caught.value.url == server.url(path)
    assert [s.path for s in server.seen] == ["/token", "/token8"]  # /steal never asked
    response = client.request("POST", server.url("/same"), fields=form, idempotent=True)
    assert response.body == b"{}" and server.seen[-1].body == server.seen[-2].body


def test_redirect_303_turns_post_into_get(server: Server, make: Make) -> None:
    server.routes["/form"] = redirect("/done", 303)
    server.routes["/done"] = ok(b"done")
    response = make().request("POST", server.url("/form"), fields={"a": "1"})
    assert response.body == b"done"
    assert [(s.method, s.body) for s in server.seen] == [("POST", b"a=1"), ("GET", b"")]


def test_redirect_refusals(server: Server, make: Make) -> None:
    server.routes["/file"] = redirect("file:///etc/passwd")
    server.routes["/plain"] = redirect("http://mirror.example.invalid/x")
    server.routes["/loop"] = redirect("/loop", 301)
    server.routes["/private"] = redirect(server.url("/x", "127.0.0.1"))
    client = make()
    with pytest.raises(RefusedAddressError, match="file:///etc/passwd"):
        client.request("GET", server.url("/file"))
    with pytest.raises(InsecureTransportError, match="mirror.example.invalid"):
        client.request("GET", server.url("/plain"))
    with pytest.raises(HttpStatusError, match="more than 10 redirects"):
        client.request("GET", server.url("/loop"))
    assert len(server.seen) == 2 + 11
    # a public server handing us a loopback/private address is refused (SSRF) ...
    client.is_public = lambda host: host == "localhost"
    with pytest.raises(RefusedAddressError, match="private"):
        client.request("GET", server.url("/private", "localhost"))


# -- downloads ------------------------------------------------------------------------


def test_download_writes_checked_file(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA, etag='"v1"')
    dest = tmp_path / "blob"
    done = make().download(server.url("/blob"), dest, expected_digest=DIGEST)
    assert dest.read_bytes() == DATA
    assert (done.path, done.size, done.transferred, done.digest) == (
        str(dest),
        len(DATA),
        len(DATA),
        DIGEST,
    )
    assert done.validators.etag == '"v1"' and not done.resumed and not done.not_modified
    assert done.headers["etag"] == '"v1"'
    assert not (tmp_path / "blob.partial").exists()


def test_download_resumes_partial_with_range(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
    dest = tmp_path / "blob"
    (tmp_path / "blob.partial").write_bytes(DATA[:1000])
    done = make().download(server.url("/blob"), dest, expected_digest=DIGEST)
    assert server.seen[0].headers["range"] == "bytes=1000-"
    assert done.resumed and done.transferred == len(DATA) - 1000 and done.size == len(DATA)
    assert dest.read_bytes() == DATA and done.digest == DIGEST


def test_partial_is_not_resumed_without_a_digest(
    server: Server, make: Make, tmp_path: Path
) -> None:
    server.routes["/feed"] = lambda h: h.serve_bytes(DATA)
    (tmp_path / "feed.partial").write_bytes(b"yesterday's feed")
    done = make().download(server.url("/feed"), tmp_path / "feed")
    assert "range" not in server.seen[0].headers and not done.resumed
    assert (tmp_path / "feed").read_bytes() == DATA


def test_resume_false_starts_over(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
    (tmp_path / "blob.partial").write_bytes(DATA[:10])
    done = make().download(
        server.url("/blob"), tmp_path / "blob", expected_digest=DIGEST, resume=False
    )
    assert "range" not in server.seen[0].headers and done.transferred == len(DATA)


def test_wrong_content_range_restarts_whole(server: Server, make: Make, tmp_path: Path) -> None:
    def liar(handler: Handler) -> None:
        if handler.headers.get("Range"):  # claims the range but sends from byte 0
            handler.reply(206, DATA, {"Content-Range": f"bytes 0-{len(DATA) - 1}/{len(DATA)}"})
        else:
            handler.reply(200, DATA)

    server.routes["/blob"] = liar
    (tmp_path / "blob.partial").write_bytes(DATA[:5000])
    done = make().download(server.url("/blob"), tmp_path / "blob", expected_digest=DIGEST)
    assert (tmp_path / "blob").read_bytes() == DATA and not done.resumed
    assert ["range" in s.headers for s in server.seen] == [True, False]


def test_range_ignored_200_restarts_from_zero(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA, honour_range=False)
    (tmp_path / "blob.partial").write_bytes(b"garbage" * 100)
    done = make().download(server.url("/blob"), tmp_path / "blob", expected_digest=DIGEST)
    assert (tmp_path / "blob").read_bytes() == DATA and not done.resumed
    assert len(server.seen) == 1 and done.transferred == len(DATA)


def test_complete_partial_finishes_on_416(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
    (tmp_path / "blob.partial").write_bytes(DATA)
    done = make().download(server.url("/blob"), tmp_path / "blob", expected_digest=DIGEST)
    assert done.transferred == 0 and done.resumed and (tmp_path / "blob").read_bytes() == DATA


@pytest.mark.parametrize("digest", [DIGEST, None])
def test_dropped_body_is_resumed(
    server: Server, make: Make, tmp_path: Path, digest: str | None
) -> None:
    served = sequence(drop_halfway(DATA), lambda h: h.serve_bytes(DATA, etag='"v1"'))
    server.routes["/blob"] = served
    client = make()
    done = client.download(server.url("/blob"), tmp_path / "blob", expected_digest=digest)
    assert (tmp_path / "blob").read_bytes() == DATA and done.digest == DIGEST
    assert done.resumed and done.transferred == len(DATA)
    second = server.seen[1].headers
    assert second["range"] == f"bytes={len(DATA) // 2}-" and second["if-range"] == '"v1"'
    assert len(client.waits) == 1  # type: ignore[attr-defined]


def test_body_dropped_twice_is_resumed_twice(server: Server, make: Make, tmp_path: Path) -> None:
    def drop_range_halfway(handler: Handler) -> None:
        start = int(handler.headers["Range"][len("bytes=") : -1])
        rest = DATA[start:]
        handler.send_response(206)
        handler.send_header("Content-Length", str(len(rest)))
        handler.send_header("Content-Range", f"bytes {start}-{len(DATA) - 1}/{len(DATA)}")
        handler.end_headers()
        handler.wfile.write(rest[: len(rest) // 2])
        handler.wfile.flush()
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    server.routes["/blob"] = sequence(
        drop_halfway(DATA), drop_range_halfway, lambda h: h.serve_bytes(DATA)
    )
    client = make()
    done = client.download(server.url("/blob"), tmp_path / "blob", expected_digest=DIGEST)
    assert done.digest == DIGEST and (tmp_path / "blob").read_bytes() == DATA
    half, three_quarters = len(DATA) // 2, len(DATA) // 2 + len(DATA) // 4
    assert [s.headers.get("range") for s in server.seen] == [
        None,
        f"bytes={half}-",
        f"bytes={three_quarters}-",
    ]
    assert done.transferred == len(DATA) and len(client.waits) == 2  # type: ignore[attr-defined]


def test_digest_mismatch_leaves_nothing(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA[:-1] + b"!")
    dest = tmp_path / "blob"
    with pytest.raises(DigestMismatchError) as caught:
        make().download(server.url("/blob"), dest, expected_digest=DIGEST)
    assert server.url("/blob") in str(caught.value) and caught.value.expected == DIGEST
    assert caught.value.source == server.url("/blob")
    assert not dest.exists() and not (tmp_path / "blob.partial").exists()
    with pytest.raises(DigestMismatchError, match="bytes"):
        make().download(server.url("/blob"), dest, expected_size=len(DATA) - 1)
    assert list(tmp_path.iterdir()) == []


def test_conditional_download_304(server: Server, make: Make, tmp_path: Path) -> None:
    server.routes["/all.zip"] = lambda h: h.serve_bytes(DATA, etag='"osv-1"')
    dest = tmp_path / "all.zip"
    client = make()
    first = client.download(server.url("/all.zip"), dest)
    again = client.download(server.url("/all.zip"), dest, validators=first.validators)
    assert again.not_modified and again.path is None and again.transferred == 0
    assert again.digest is None and again.validators.etag == '"osv-1"'
    assert server.seen[1].headers["if-none-match"] == '"osv-1"'
    assert dest.read_bytes() == DATA and not (tmp_path / "all.zip.partial").exists()


def test_download_max_bytes(server: Server, make: Make, tmp_path: Path) -> None:
    def unannounced(handler: Handler) -> None:  # chunked: no Content-Length to judge by
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        for start in range(0, len(DATA), 65536):
            part = DATA[start : start + 65536]
            handler.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        handler.wfile.write(b"0\r\n\r\n")

    server.routes["/big"] = lambda h: h.serve_bytes(DATA)
    server.routes["/chunked"] = unannounced
    client = make()
    for path in ("/big", "/chunked"):
        with pytest.raises(TransferError, match="the 1000 "):
            client.download(server.url(path), tmp_path / "big", max_bytes=1000)
        assert list(tmp_path.iterdir()) == []
    done = client.download(server.url("/chunked"), tmp_path / "big", expected_digest=DIGEST)
    assert done.size == len(DATA) and (tmp_path / "big").read_bytes() == DATA


def test_download_errors_are_network_errors(server: Server, make: Make, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        make().download(server.url("/none"), tmp_path / "x")
    with pytest.raises(NetworkError, match="expected digest"):
        make().download(server.url("/none"), tmp_path / "x", expected_digest="md5:abc")
    with pytest.raises(TransferError, match="cannot write"):
        server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
        make().download(server.url("/blob"), tmp_path / "no-such-dir" / "x")


def test_parallel_downloads_share_one_client(server: Server, make: Make, tmp_path: Path) -> None:
    blobs = {f"/b{i}": DATA[i:] for i in range(8)}
    for path, data in blobs.items():
        server.routes[path] = lambda h, d=data: h.serve_bytes(d)
    client = make()
    failures: list[BaseException] = []

    def pull(path: str) -> None:
        try:
            digest = "sha256:" + hashlib.sha256(blobs[path]).hexdigest()
            client.download(server.url(path), tmp_path / path[1:], expected_digest=digest)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=pull, args=(p,)) for p in blobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    assert all((tmp_path / p[1:]).read_bytes() == d for p, d in blobs.items())


def test_parallel_downloads_of_one_file_do_not_corrupt_it(
    server: Server, make: Make, tmp_path: Path
) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
    client = make()
    dest = tmp_path / "blob"
    results: list[object] = []

    def pull() -> None:
        try:
            results.append(client.download(server.url("/blob"), dest, expected_digest=DIGEST))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=pull) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r for r in results if isinstance(r, BaseException)] == []
    assert dest.read_bytes() == DATA and not (tmp_path / "blob.partial").exists()


# -- streams --------------------------------------------------------------------------


def test_stream_yields_chunks_and_reports_drops(server: Server, make: Make) -> None:
    server.routes["/blob"] = lambda h: h.serve_bytes(DATA)
    server.routes["/drop"] = drop_halfway(DATA)
    client = make()
    head, chunks = client.stream(server.url("/blob"), chunk_size=4096)
    assert head.status == 200 and head.header("content-length") == str(len(DATA))
    assert b"".join(chunks) == DATA
    head, chunks = client.stream(server.url("/drop"))
    with pytest.raises(TransferError, match="broke"):
        b"".join(chunks)
    head, chunks = client.stream(server.url("/blob"), chunk_size=10)
    assert next(chunks) == DATA[:10]
    chunks.close()  # type: ignore[attr-defined]
    assert list(chunks) == []


# -- proxies --------------------------------------------------------------------------


def test_proxy_choice_from_environment() -> None:
    env = {"HTTPS_PROXY": "proxy:3128", "http_proxy": "http://p2:8080", "NO_PROXY": ""}
    assert proxy_for("https", "registry.example.com", 443, env) == "http://proxy:3128"
    assert proxy_for("http", "feeds.example.com", 80, env) == "http://p2:8080"
    assert proxy_for("https", "localhost", 443, env) is None  # loopback never
    assert proxy_for("https", "127.0.0.5", 443, env) is None
    assert proxy_for("https", "x.com", 443, {}) is None
    cases = {
        "*": ("anything.org", 443, True),
        ".example.com": ("a.b.example.com", 443, True),
        "example.com": ("sub.example.com", 443, True),
        "ample.com": ("example.com", 443, False),
        "registry.example.com:5000": ("registry.example.com", 5000, True),
        "registry.example.com:5001": ("registry.example.com", 5000, False),
        "10.0.0.0/8": ("10.1.2.3", 443, True),
        "10.0.0.1": ("10.0.0.2", 443, False),
        "[fd00::1]:443": ("fd00::1", 443, True),
        "foo, .EXAMPLE.com": ("x.example.com", 443, True),
    }
    for no_proxy, (host, port, bypassed) in cases.items():
        got = proxy_for("https", host, port, {"HTTPS_PROXY": "http://p:1", "no_proxy": no_proxy})
        assert (got is None) == bypassed, (no_proxy, host, port)


def test_http_through_a_forward_proxy(server: Server, make: Make, names: dict[str, str]) -> None:
    server.routes["/all.zip"] = ok(b"feed")
    with Proxy() as proxy:
        client = make(
            environ={"HTTP_PROXY": proxy.url}, insecure_hosts=frozenset({"feeds.example.invalid"})
        )
        url = server.url("/all.zip", "feeds.example.invalid")
        response = client.request("GET", url)
        assert response.body == b"feed" and response.header("via") == "1.1 test-proxy"
        assert proxy.carried == [("GET", url)]


def test_https_through_a_connect_tunnel(ca: TestCA, make: Make, names: dict[str, str]) -> None:
    with tls_server(ca, ("registry.example.invalid",)) as server, Proxy() as proxy:
        server.routes["/v2/"] = ok(b"{}")
        with_user = proxy.url.replace("http://", "http://me:p%40ss@")
        client = make(environ={"https_proxy": with_user}, ca_bundle=str(ca.pem.cert))
        url = server.url("/v2/", "registry.example.invalid")
        assert client.request("GET", url).body == b"{}"
        assert proxy.carried == [("CONNECT", f"registry.example.invalid:{server.port}")]
        assert proxy.auth == ["Basic " + base64.b64encode(b"me:p@ss").decode()]
        assert "proxy-authorization" not in server.seen[0].headers


def test_no_proxy_goes_direct(server: Server, make: Make, names: dict[str, str]) -> None:
    server.routes["/all.zip"] = ok(b"direct")
    names["feeds.example.invalid"] = "127.0.0.1"
    with Proxy() as proxy:
        client = make(
            environ={"HTTP_PROXY": proxy.url, "NO_PROXY": ".example.invalid"},
            insecure_hosts=frozenset({"feeds.example.invalid"}),
        )
        url = server.url("/all.zip", "feeds.example.invalid")
        assert client.request("GET", url).body == b"direct"
        assert proxy.carried == [] and len(server.seen) == 1


def test_unsupported_proxy_scheme(make: Make) -> None:
    client = make(environ={"HTTPS_PROXY": "socks5://127.0.0.1:1080"})
    with pytest.raises(ConnectionFailedError, match="socks5"):
        client.request("GET", "https://registry.example.invalid/v2/")


# -- addresses ------------------------------------------------------------------------


def test_is_public_address(names: dict[str, str]) -> None:
    public = ["8.8.8.8", "2001:4860:4860::8888", "1.1.1.1"]
    private = [
        "127.0.0.1",
        "::1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "fe80::1",
        "fc00::1",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "240.0.0.1",
        "::ffff:10.0.0.1",
        "100.64.0.1",
        "localhost",
        "[::1]",
    ]
    assert [h for h in public if not is_public_address(h)] == []
    assert [h for h in private if is_public_address(h)] == []
    names["metadata.example.invalid"] = "169.254.169.254"
    names["public.example.invalid"] = "8.8.8.8"
    assert not is_public_address("metadata.example.invalid")
    assert is_public_address("public.example.invalid")
    assert not is_public_address("unknown.example.invalid")  # does not resolve: not public


def test_bad_urls_are_network_errors_naming_them(make: Make) -> None:
    client = make(retries=0)
    for url in ("https://", "https://exa mple.invalid/", "http://[::1/", "https://h:99999/"):
        with pytest.raises(NetworkError) as caught:
            client.request("GET", url)
        assert url in str(caught.value)
    with pytest.raises(RefusedAddressError):
        client.request("GET", "ftp://files.example.invalid/y")
    secret = "https://user:hunter2@registry.example.invalid/v2/?X-Amz-Signature=abc&n=1"
    with pytest.raises(ConnectionFailedError) as hidden:
        client.request("GET", secret)
    assert "hunter2" not in str(hidden.value) and "abc" not in str(hidden.value)
    assert "registry.example.invalid/v2/?X-Amz-Signature=REDACTED&n=1" in str(hidden.value)
