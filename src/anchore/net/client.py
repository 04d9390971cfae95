"""The HTTP client the registry client and the feed updater share (on urllib3 2.x).

CONTRACT (issue 12): the signatures and docstrings below are fixed; the bodies
are the net engineer's to write (they raise NotImplementedError until then).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

import attrs

__all__ = ["ClientOptions", "Download", "HttpClient", "Response", "Validators", "is_public_address"]


def is_public_address(host: str) -> bool:
    """Whether ``host`` (a name is resolved) is a public address: not loopback, link-local
    (169.254/16, fe80::/10: cloud metadata), private (10/8, 172.16/12, 192.168/16, fc00::/7),
    unspecified, multicast or reserved. Every address a name resolves to must be public."""
    raise NotImplementedError


@attrs.frozen
class ClientOptions:
    """How an :class:`HttpClient` connects; every field has a safe default."""

    #: a PEM file of CA certificates trusted in addition to the system's (None: system only)
    ca_bundle: str | None = None
    #: verify TLS certificates and host names; False only when a user asked (--insecure-tls)
    verify_tls: bool = True
    #: hosts (``host`` or ``host:port``) plain HTTP may reach besides loopback ones
    insecure_hosts: frozenset[str] = frozenset()
    #: seconds to connect, and between bytes read
    timeout: float = 30.0
    #: attempts after the first, for 408/429/5xx and dropped connections on idempotent requests
    retries: int = 5
    #: first backoff in seconds (doubled each retry, with jitter, at most ``max_backoff``)
    backoff: float = 0.5
    max_backoff: float = 30.0
    #: the longest ``Retry-After`` honoured; a server asking longer fails at once (RateLimitedError)
    max_retry_after: float = 120.0
    #: sent with every request
    user_agent: str = "anchore"
    #: the environment proxies are read from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); None: os.environ
    environ: Mapping[str, str] | None = None


@attrs.frozen
class Validators:
    """What a conditional request sends: the ``ETag`` and ``Last-Modified`` a previous
    response carried (either may be None)."""

    etag: str | None = None
    last_modified: str | None = None


@attrs.frozen
class Response:
    """A response read whole (bounded), or the head of a streamed one."""

    status: int
    #: header names lower-cased; a repeated header's values joined by ", "
    #: (``www-authenticate`` values are kept as the server sent them, see ``header_list``)
    headers: Mapping[str, str]
    #: the URL that answered (after redirects)
    url: str
    body: bytes = b""
    #: every value of each header, names lower-cased
    header_list: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def validators(self) -> Validators:
        return Validators(self.header("etag"), self.header("last-modified"))


@attrs.frozen
class Download:
    """What :meth:`HttpClient.download` did."""

    #: the file written (``dest``), or None when the server said 304 Not Modified
    path: str | None
    #: bytes received this time (0 for 304; the rest of a resumed download)
    transferred: int
    #: the whole file's size
    size: int
    #: ``sha256:<hex>`` of the whole file (None for 304)
    digest: str | None
    #: the response's validators, for the next conditional request
    validators: Validators
    #: True when the server answered 304 (``validators`` matched): nothing was written
    not_modified: bool = False
    #: True when a partial file was continued with ``Range``
    resumed: bool = False
    #: the final response's headers, names lower-cased (``x-goog-hash`` checksums...)
    headers: Mapping[str, str] = attrs.field(factory=dict)


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
    our token), and a redirect to a scheme other than http(s) is refused.
    """

    def __init__(self, options: ClientOptions | None = None) -> None:
        self.options = options or ClientOptions()
        raise NotImplementedError

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
        raise NotImplementedError

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
        raise NotImplementedError

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
        raise NotImplementedError

    def close(self) -> None:
        """Close the pooled connections."""
        raise NotImplementedError

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
