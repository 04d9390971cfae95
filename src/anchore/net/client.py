"""The HTTP client the registry client and the feed updater share (on urllib3 2.x).

One :class:`HttpClient` holds the connection pools (one per proxy), the TLS
context and the policy: which URLs may be reached, what is retried, how
redirects are followed. Downloads to disk live in :mod:`anchore.net.downloads`;
the values it takes and gives in :mod:`anchore.net.models`. docs/network.md
tells the whole behaviour.
"""

from __future__ import annotations

import os
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import urllib3
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import (
    ConnectTimeoutError,
    LocationParseError,
    NameResolutionError,
    NewConnectionError,
    ProxyError,
    ProxySchemeUnknown,
    ReadTimeoutError,
)
from urllib3.exceptions import SSLError as Urllib3SSLError
from urllib3.util import Timeout, make_headers, parse_url

from anchore.net.addresses import host_key, is_loopback_host, is_public_address
from anchore.net.backoff import parse_retry_after
from anchore.net.downloads import fetch_to_file
from anchore.net.errors import (
    ConnectionFailedError,
    HttpStatusError,
    InsecureTransportError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RefusedAddressError,
    TlsError,
    TransferError,
    UnauthorizedError,
)
from anchore.net.models import ClientOptions, Download, Response, Validators
from anchore.net.proxies import proxy_for
from anchore.net.wire import WIRE_ERRORS, Attempts, Pace, display_url, paced, response_of

__all__ = ["ClientOptions", "Download", "HttpClient", "Response", "Validators", "is_public_address"]

#: statuses worth another try: the server (or a proxy) says "not now"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: what an error message quotes of a failing response's body
_EXCERPT = 300
#: what is read of a redirect or error body to keep its connection; more is dropped
_DRAIN = 64 * 1024


class _QuietHTTPSConnectionPool(HTTPSConnectionPool):
    """An HTTPS pool without urllib3's warning per unverified request: used only when
    the user turned verification off, which the CLI already says once."""

    def _validate_conn(self, conn: Any) -> None:
        HTTPConnectionPool._validate_conn(self, conn)
        if conn.is_closed:
            conn.connect()


class Dropped(Exception):
    """The connection broke while a body was read (internal: retried or a TransferError)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


class HttpClient:
    """One connection pool; safe to share between threads.

    Every method raises a :class:`~anchore.net.errors.NetworkError` subclass naming
    the URL (never a urllib3, ``ssl`` or ``socket`` exception):
    :class:`InsecureTransportError` for ``http://`` to a host neither loopback nor in
    ``insecure_hosts``, :class:`TlsError`, :class:`ConnectionFailedError`,
    :class:`UnauthorizedError` (401/403, unless ``ok`` lists it),
    :class:`NotFoundError`, :class:`RateLimitedError`, :class:`HttpStatusError`.

    Retries: 408, 429, 500, 502, 503, 504 and dropped connections are retried up to
    ``options.retries`` times for GET/HEAD (and a POST whose caller says
    ``idempotent=True``), waiting the backoff or the ``Retry-After`` the server
    gave (seconds or an HTTP date), whichever is longer.

    Redirects (301, 302, 303, 307, 308) are followed up to 10 times; an
    ``Authorization`` header is dropped when the redirect leaves the scheme, host
    and port it was sent to (a registry redirecting a blob to S3 must not hand it
    our token); a 307/308 of a request with a body (the OAuth2 password form) to
    another scheme, host or port is refused (:class:`RefusedAddressError`), as is a
    redirect to a scheme other than http(s). A 303, or a 301/302 of a POST, becomes
    a GET without the body.
    """

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        #: how the client waits between attempts (tests replace it to not wait)
        self.sleep: Callable[[float], None] = time.sleep
        #: whether a host is public; a redirect from a public host to one that is not
        #: is refused (SSRF). Tests may replace it.
        self.is_public: Callable[[str], bool] = is_public_address
        self._environ: Mapping[str, str] = (
            self.options.environ if self.options.environ is not None else os.environ
        )
        self._insecure = frozenset(h.strip().lower() for h in self.options.insecure_hosts)
        self._ssl = self._ssl_context()
        self._lock = threading.Lock()
        self._managers: dict[str | None, urllib3.PoolManager] = {}
        #: per destination being downloaded: its lock and how many calls hold or wait on it
        self._writing: dict[str, tuple[threading.Lock, int]] = {}

    # -- public API -----------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        fields: Mapping[str, str] | None = None,
        max_bytes: int = 64 * 1024 * 1024,
        ok: tuple[int, ...] = (),
        idempotent: bool | None = None,
    ) -> Response:
        """Send a request and read the whole response body (at most ``max_bytes``, else
        TransferError). ``fields`` sends an ``application/x-www-form-urlencoded`` body
        (the OAuth2 token POST). Statuses in ``ok`` (like 401, to read a challenge)
        return a Response instead of raising; 2xx and 304 always return."""
        method = method.upper()
        sent = dict(headers or {})
        if fields is not None:
            body = urllib.parse.urlencode(list(fields.items())).encode("utf-8")
            if not _has_header(sent, "content-type"):
                sent["Content-Type"] = "application/x-www-form-urlencoded"
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        attempts = Attempts(self.options, self.sleep)
        while True:
            resp, final = self.open(
                method,
                url,
                headers=sent,
                body=body,
                ok=ok,
                idempotent=idempotent,
                decode=True,
                attempts=attempts,
            )
            try:
                data = _read_bounded(resp, max_bytes, method, final, self.options)
            except Dropped as dropped:
                if idempotent and attempts.left():
                    attempts.wait()
                    continue
                raise TransferError(
                    f"{method} {display_url(final)}: the connection broke while reading "
                    f"the response: {dropped}",
                    url=display_url(final),
                    status=resp.status,
                ) from None
            return response_of(resp, final, data)

    def stream(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        chunk_size: int = 1024 * 1024,
        ok: tuple[int, ...] = (),
    ) -> tuple[Response, Iterator[bytes]]:
        """GET ``url`` and return its head and an iterator of body chunks (the connection
        is released when the iterator ends or is closed). A connection dropped mid-body
        is a :class:`TransferError` from the iterator (callers resume with ``Range``)."""
        sent = dict(headers or {})
        if not _has_header(sent, "accept-encoding"):
            sent["Accept-Encoding"] = "identity"  # the bytes as served: digests are of those
        resp, final = self.open(
            "GET",
            url,
            headers=sent,
            ok=ok,
            idempotent=True,
            decode=False,
            attempts=Attempts(self.options, self.sleep),
        )
        return response_of(resp, final), Body(resp, final, chunk_size, self.options)

    def download(
        self,
        url: str,
        dest: str | os.PathLike[str],
        *,
        headers: Mapping[str, str] | None = None,
        expected_digest: str | None = None,
        expected_size: int | None = None,
        validators: Validators | None = None,
        resume: bool = True,
        max_bytes: int | None = None,
    ) -> Download:
        """GET ``url`` into the file ``dest``, streaming, hashing as it writes.

        The body goes to ``dest + ".partial"`` first and is renamed onto ``dest`` only
        once complete and checked, so ``dest`` never holds a partial or wrong file.
        With ``resume``, an existing ``.partial`` is continued with ``Range: bytes=N-``
        (its bytes re-hashed first); a 206 must carry a ``Content-Range`` starting at
        N (else TransferError, and the partial is discarded and fetched whole), a 200
        restarts from zero. A connection dropped mid-body is resumed the same way,
        within the retries. ``expected_size``/``expected_digest``
        (``sha256:<hex>``, also sha384/sha512) are checked on the whole file: a
        mismatch deletes the partial and raises
        :class:`anchore.errors.DigestMismatchError` naming the URL. ``max_bytes``
        bounds the body (TransferError past it). With ``validators`` the request is
        conditional (``If-None-Match``/``If-Modified-Since``): a 304 writes nothing
        and returns ``not_modified=True``. Extra ``headers`` are sent on every
        attempt (a redirect to another host drops ``Authorization``)."""
        path = os.fspath(dest)
        key = os.path.abspath(path)
        with self._lock:  # two threads of this client never write one .partial together
            writing, users = self._writing.get(key, (threading.Lock(), 0))
            self._writing[key] = (writing, users + 1)
        try:
            with writing:
                return fetch_to_file(
                    self,
                    url,
                    path,
                    headers=dict(headers or {}),
                    expected_digest=expected_digest,
                    expected_size=expected_size,
                    validators=validators,
                    resume=resume,
                    max_bytes=max_bytes,
                )
        finally:
            with self._lock:
                writing, users = self._writing[key]
                if users == 1:
                    del self._writing[key]
                else:
                    self._writing[key] = (writing, users - 1)

    def close(self) -> None:
        """Close the pooled connections."""
        with self._lock:
            managers = list(self._managers.values())
            self._managers.clear()
        for manager in managers:
            manager.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the one request loop -----------------------------------------------------

    def open(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        body: bytes | None = None,
        ok: tuple[int, ...] = (),
        idempotent: bool = True,
        decode: bool = True,
        attempts: Attempts,
    ) -> tuple[urllib3.BaseHTTPResponse, str]:
        """Send ``method url`` following redirects and retrying, and return the response
        with its body unread (the caller reads and releases it) and the URL that
        answered. A status neither 2xx, 304 nor in ``ok`` raises its error."""
        sent = {"User-Agent": self.options.user_agent, **headers}
        origin = _origin(url)
        redirects = 0
        while True:
            scheme, host, port = self._check_target(url)
            manager = self._manager(scheme, host, port)
            try:
                resp = manager.urlopen(
                    method,
                    url,
                    body=body,
                    headers=sent,
                    redirect=False,
                    retries=False,
                    preload_content=False,
                    decode_content=decode,
                    timeout=Timeout(connect=self.options.timeout, read=self.options.timeout),
                )
            except WIRE_ERRORS as exc:
                failure = _failure(exc, method, url)
                if _transient(exc) and (idempotent or _before_sending(exc)) and attempts.left():
                    attempts.wait()
                    continue
                raise failure from None
            status = resp.status
            if status in REDIRECT_STATUSES and status not in ok:
                location = resp.headers.get("location")
                _discard(resp)
                if not location:
                    raise HttpStatusError(
                        f"{method} {display_url(url)}: HTTP {status} redirect without a Location",
                        url=display_url(url),
                        status=status,
                    )
                redirects += 1
                if redirects > MAX_REDIRECTS:
                    raise HttpStatusError(
                        f"{method} {display_url(url)}: more than {MAX_REDIRECTS} redirects",
                        url=display_url(url),
                        status=status,
                    )
                target = self._redirect_target(url, location, method)
                if status == 303 or (status in (301, 302) and method == "POST"):
                    method, body = ("HEAD" if method == "HEAD" else "GET"), None
                    sent = {k: v for k, v in sent.items() if k.lower() != "content-type"}
                if _origin(target) != origin:
                    if body is not None:  # a 307/308 keeps the body: a form of secrets
                        raise RefusedAddressError(
                            f"{method} {display_url(url)}: redirected with its body to "
                            f"{display_url(target)}, another host (or scheme or port): "
                            f"refused, the body may hold credentials",
                            url=display_url(url),
                        )
                    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
                url = target
                continue
            if 200 <= status < 300 or status == 304 or status in ok:
                return resp, url
            retry_after = parse_retry_after(resp.headers.get("retry-after"))
            excerpt = _excerpt(resp)
            if status in RETRY_STATUSES and idempotent:
                if retry_after is not None and retry_after > self.options.max_retry_after:
                    raise _status_error(
                        method,
                        url,
                        status,
                        resp.reason,
                        excerpt,
                        retry_after,
                        f"the server asks to wait {retry_after:.0f}s, longer than the "
                        f"{self.options.max_retry_after:.0f}s allowed",
                    )
                if attempts.left():
                    attempts.wait(retry_after)
                    continue
                raise _status_error(
                    method,
                    url,
                    status,
                    resp.reason,
                    excerpt,
                    retry_after,
                    f"still failing after {attempts.used} retries" if attempts.used else "",
                )
            raise _status_error(method, url, status, resp.reason, excerpt, retry_after, "")

    # -- policy -------------------------------------------------------------------

    def _check_target(self, url: str) -> tuple[str, str, int]:
        """The scheme, host and port ``url`` reaches, once it is allowed to: http(s)
        only, and plain HTTP only to loopback or an insecure host."""
        try:
            parsed = parse_url(url)
        except LocationParseError:
            shown = display_url(url)
            raise NetworkError(f"{shown}: not a valid URL", url=shown) from None
        scheme = (parsed.scheme or "").lower()
        if scheme not in ("http", "https"):
            raise RefusedAddressError(
                f"{display_url(url)}: only http and https URLs are fetched", url=display_url(url)
            )
        if not parsed.host:
            raise NetworkError(f"{display_url(url)}: the URL names no host", url=display_url(url))
        host = host_key(parsed.host)
        if any(c.isspace() or not c.isprintable() for c in host):
            shown = display_url(url)
            raise NetworkError(f"{shown}: not a valid host name", url=shown)
        port = parsed.port or (443 if scheme == "https" else 80)
        if scheme == "http" and not self._plain_http_allowed(host, port):
            raise InsecureTransportError(
                f"{display_url(url)}: plain HTTP to {host} refused (it is not loopback); "
                f"use https, or name the host as insecure if it really serves only HTTP",
                url=display_url(url),
            )
        return scheme, host, port

    def _plain_http_allowed(self, host: str, port: int) -> bool:
        if is_loopback_host(host):
            return True
        shown = f"[{host}]" if ":" in host else host
        names = {host, shown, f"{host}:{port}", f"{shown}:{port}"}
        return not self._insecure.isdisjoint(names)

    def _redirect_target(self, url: str, location: str, method: str) -> str:
        try:
            target = urllib.parse.urljoin(url, location.strip())
            target = urllib.parse.urldefrag(target)[0]
            scheme = urllib.parse.urlsplit(target).scheme.lower()
            new_host = host_key(urllib.parse.urlsplit(target).hostname or "")
            old_host = host_key(urllib.parse.urlsplit(url).hostname or "")
        except ValueError:
            raise RefusedAddressError(
                f"{method} {display_url(url)}: redirected to an unreadable URL",
                url=display_url(url),
            ) from None
        if scheme not in ("http", "https"):
            raise RefusedAddressError(
                f"{method} {display_url(url)}: redirected to {display_url(target)}: "
                f"only http and https redirects are followed",
                url=display_url(url),
            )
        if new_host != old_host and not self.is_public(new_host) and self.is_public(old_host):
            raise RefusedAddressError(
                f"{method} {display_url(url)}: redirected to {display_url(target)}, a "
                f"loopback, private or link-local address a public server may not send us to",
                url=display_url(url),
            )
        return target

    # -- connections --------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        bundle = self.options.ca_bundle
        if bundle:
            try:
                if os.path.isdir(bundle):
                    context.load_verify_locations(capath=bundle)
                else:
                    context.load_verify_locations(cafile=bundle)
            except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
                raise TlsError(
                    f"CA bundle {bundle}: cannot be read as PEM certificates: {exc}",
                    source=bundle,
                ) from None
        if not self.options.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _manager(self, scheme: str, host: str, port: int) -> urllib3.PoolManager:
        proxy = proxy_for(scheme, host, port, self._environ)
        with self._lock:
            manager = self._managers.get(proxy)
            if manager is None:
                manager = self._new_manager(proxy)
                self._managers[proxy] = manager
            return manager

    def _new_manager(self, proxy: str | None) -> urllib3.PoolManager:
        common: dict[str, Any] = {
            "num_pools": 32,
            "maxsize": 16,
            "block": False,
            "ssl_context": self._ssl,
            "retries": False,
        }
        manager: urllib3.PoolManager
        if proxy is None:
            manager = urllib3.PoolManager(**common)
        else:
            try:
                parsed = parse_url(proxy)
                bare = parsed._replace(auth=None).url
                auth = urllib.parse.unquote(parsed.auth) if parsed.auth else None
                manager = urllib3.ProxyManager(
                    bare,
                    proxy_headers=make_headers(proxy_basic_auth=auth) if auth else None,
                    proxy_ssl_context=self._ssl if parsed.scheme == "https" else None,
                    **common,
                )
            except (LocationParseError, ProxySchemeUnknown, ValueError):
                raise ConnectionFailedError(
                    f"proxy {display_url(proxy)} (from the environment): only http:// and "
                    f"https:// proxies are supported",
                    url=display_url(proxy),
                ) from None
        if not self.options.verify_tls:
            manager.pool_classes_by_scheme = {
                "http": HTTPConnectionPool,
                "https": _QuietHTTPSConnectionPool,
            }
        return manager


class Body(Iterator[bytes]):
    """A streamed body's chunks; releases the connection at the end, on close, or when
    dropped, and turns a broken connection into a :class:`TransferError`."""

    def __init__(
        self,
        resp: urllib3.BaseHTTPResponse,
        url: str,
        chunk_size: int,
        options: ClientOptions,
    ) -> None:
        self._resp: urllib3.BaseHTTPResponse | None = resp
        self._url = url
        self._chunks = paced(resp, chunk_size, False, Pace(options, "GET", url))

    def __iter__(self) -> Body:
        return self

    def __next__(self) -> bytes:
        if self._resp is None:
            raise StopIteration
        try:
            while True:
                chunk = next(self._chunks)
                if chunk:
                    return chunk
        except StopIteration:
            self.close(finished=True)
            raise
        except TransferError:  # too slow
            self.close()
            raise
        except WIRE_ERRORS as exc:
            self.close()
            raise TransferError(
                f"GET {display_url(self._url)}: the connection broke while reading the body: "
                f"{_reason(exc)}",
                url=display_url(self._url),
            ) from None

    def close(self, finished: bool = False) -> None:
        resp, self._resp = self._resp, None
        if resp is None:
            return
        try:
            if not finished:
                resp.close()  # an unread rest is not worth reading: drop the connection
            resp.release_conn()
        except WIRE_ERRORS:
            pass

    def __del__(self) -> None:
        self.close()


# -- helpers ----------------------------------------------------------------------


def _has_header(headers: Mapping[str, str], name: str) -> bool:
    return any(k.lower() == name for k in headers)


def _origin(url: str) -> tuple[str, str, int]:
    try:
        parts = urllib.parse.urlsplit(url)
        scheme = parts.scheme.lower()
        port = parts.port or (443 if scheme == "https" else 80)
        return scheme, host_key(parts.hostname or ""), port
    except ValueError:
        return ("", url, 0)


def _read_bounded(
    resp: urllib3.BaseHTTPResponse,
    max_bytes: int,
    method: str,
    url: str,
    options: ClientOptions,
) -> bytes:
    """The whole body, at most ``max_bytes`` (TransferError past it); a broken
    connection is :class:`Dropped`. The connection is released either way."""
    chunks: list[bytes] = []
    total = 0
    finished = False
    try:
        declared = _body_length(resp)
        if declared is not None and declared > max_bytes:
            raise TransferError(
                f"{method} {display_url(url)}: the response is {declared} bytes, more "
                f"than the {max_bytes} allowed",
                url=display_url(url),
                status=resp.status,
            )
        for chunk in paced(resp, 64 * 1024, True, Pace(options, method, url)):
            total += len(chunk)
            if total > max_bytes:
                raise TransferError(
                    f"{method} {display_url(url)}: the response grew past the {max_bytes} "
                    f"bytes allowed",
                    url=display_url(url),
                    status=resp.status,
                )
            chunks.append(chunk)
        finished = True
    except WIRE_ERRORS as exc:
        raise Dropped(exc) from None
    finally:
        try:
            if not finished:
                resp.close()
            resp.release_conn()
        except WIRE_ERRORS:
            pass
    return b"".join(chunks)


def _body_length(resp: urllib3.BaseHTTPResponse) -> int | None:
    """The bytes of body still to come, when announced (0 for HEAD, 204 and 304 whatever
    their Content-Length says: urllib3 knows those carry none)."""
    remaining = getattr(resp, "length_remaining", None)
    return remaining if isinstance(remaining, int) else None


def _discard(resp: urllib3.BaseHTTPResponse) -> None:
    """Let go of a response whose body we do not need, keeping its connection when the
    body is small."""
    try:
        declared = _body_length(resp)
        if declared is not None and declared <= _DRAIN:
            resp.drain_conn()
        else:
            resp.close()
        resp.release_conn()
    except WIRE_ERRORS:
        pass


def _excerpt(resp: urllib3.BaseHTTPResponse) -> str:
    """The start of an error response's body, as one printable line (registries explain
    their errors in JSON there)."""
    try:
        data = resp.read(_EXCERPT)
    except WIRE_ERRORS:
        data = b""
    _discard(resp)
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else ""
    text = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return text


def _status_error(
    method: str,
    url: str,
    status: int,
    reason: str | None,
    excerpt: str,
    retry_after: float | None,
    note: str,
) -> HttpStatusError:
    cls: type[HttpStatusError]
    if status in (401, 403):
        cls = UnauthorizedError
    elif status in (404, 410):
        cls = NotFoundError
    elif status == 429:
        cls = RateLimitedError
    else:
        cls = HttpStatusError
    message = f"{method} {display_url(url)}: HTTP {status}"
    if reason:
        message += f" {reason}"
    if note:
        message += f" ({note})"
    if excerpt:
        message += f": {excerpt}"
    return cls(message, url=display_url(url), status=status, retry_after=retry_after)


def _reason(exc: BaseException) -> str:
    """The innermost useful words of a urllib3 error (its wrappers repeat the pool)."""
    while True:
        inner = getattr(exc, "reason", None) or getattr(exc, "original_error", None)
        if isinstance(inner, BaseException) and inner is not exc:
            exc = inner
            continue
        break
    text = str(exc) or type(exc).__name__
    if "object at 0x" in text and ": " in text:  # "<HTTPSConnection object at 0x..>: Failed"
        text = text.split(": ", 1)[1]
    return text


def _is_tls(exc: BaseException) -> bool:
    return any(
        isinstance(e, (Urllib3SSLError, ssl.SSLError, ssl.CertificateError)) for e in _chain(exc)
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and the errors it wraps (urllib3's ``reason``/``original_error``, causes)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        inner = getattr(current, "reason", None) or getattr(current, "original_error", None)
        if not isinstance(inner, BaseException):
            inner = current.__cause__ or current.__context__
        current = inner


#: what OpenSSL says when the server answers the handshake with plain HTTP
_PLAIN_HTTP_REASONS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE"})


def _speaks_plain_http(exc: BaseException) -> bool:
    return any(
        isinstance(e, ssl.SSLError) and getattr(e, "reason", None) in _PLAIN_HTTP_REASONS
        for e in _chain(exc)
    )


def _transient(exc: BaseException) -> bool:
    """Whether trying again may help: a connection reset, dropped or timing out. Not a
    name that does not resolve, a refused connection (nothing listens: fail fast, the
    registry's https-then-http probe relies on it) or a certificate that does not verify."""
    chain = list(_chain(exc))
    if any(
        isinstance(e, (NameResolutionError, ConnectionRefusedError, ssl.SSLCertVerificationError))
        for e in chain
    ):
        return False
    if _is_tls(exc):  # only a TLS session cut short, not one refused
        return any(
            isinstance(e, (ssl.SSLEOFError, ssl.SSLZeroReturnError, ConnectionResetError))
            for e in chain
        )
    return not isinstance(exc, LocationParseError)


def _before_sending(exc: BaseException) -> bool:
    """Whether the request never left: safe to retry whatever the method."""
    return isinstance(exc, (NewConnectionError, ConnectTimeoutError)) or (
        isinstance(exc, ProxyError) and not _is_tls(exc)
    )


def _failure(exc: BaseException, method: str, url: str) -> NetworkError:
    shown = display_url(url)
    if _is_tls(exc):
        plain = _speaks_plain_http(exc)
        hint = (
            "the server answers in plain HTTP, not TLS: if it really serves only HTTP, "
            "name the host as insecure (--insecure-registry)"
            if plain
            else "a private CA goes in ca_bundle (--ca-bundle)"
        )
        error = TlsError(f"{method} {shown}: TLS failed: {_reason(exc)} ({hint})", url=shown)
        error.plain_http = plain
        return error
    if isinstance(exc, ProxyError):
        return ConnectionFailedError(
            f"{method} {shown}: the proxy failed: {_reason(exc)}", url=shown
        )
    if isinstance(exc, NameResolutionError):
        return ConnectionFailedError(f"{method} {shown}: the host name does not resolve", url=shown)
    if isinstance(exc, NewConnectionError):  # before the timeouts: it subclasses one
        return ConnectionFailedError(f"{method} {shown}: cannot connect: {_reason(exc)}", url=shown)
    if isinstance(exc, (ConnectTimeoutError, ReadTimeoutError, TimeoutError)):
        return ConnectionFailedError(f"{method} {shown}: timed out: {_reason(exc)}", url=shown)
    if isinstance(exc, LocationParseError):
        return NetworkError(f"{method} {shown}: not a valid URL", url=shown)
    return ConnectionFailedError(f"{method} {shown}: no answer: {_reason(exc)}", url=shown)
