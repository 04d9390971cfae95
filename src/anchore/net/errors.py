"""What can go wrong fetching over HTTP: each a :class:`NetworkError` naming the URL.

The registry client and the feed updater raise their own errors on top of these
(naming the registry and reference, or the feed), with the network error as the
cause; nothing below ever lets a raw urllib3 or ``ssl`` exception through.
"""

from __future__ import annotations

from anchore.errors import AnchoreError

__all__ = [
    "ConnectionFailedError",
    "HttpStatusError",
    "InsecureTransportError",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "RefusedAddressError",
    "TlsError",
    "TransferError",
    "UnauthorizedError",
]


class NetworkError(AnchoreError):
    """A server could not give what was asked; ``url`` names what was asked for."""

    def __init__(
        self,
        message: str,
        *,
        url: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        source: object = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message, source=source if source is not None else url, member=member)
        #: the URL asked for (after redirects, the one that failed)
        self.url = url
        #: the HTTP status, when a response came
        self.status = status
        #: seconds the server asked us to wait (``Retry-After``), when it said
        self.retry_after = retry_after


class ConnectionFailedError(NetworkError):
    """No answer: the name does not resolve, the connection is refused, reset or times out
    (after the retries)."""


class TlsError(NetworkError):
    """The TLS handshake failed: a certificate not trusted, expired, or for another host;
    or the server answered in plain HTTP (``plain_http``: it does not speak TLS there)."""

    #: True when the server answered the handshake in plain HTTP
    plain_http: bool = False


class InsecureTransportError(NetworkError, ValueError):
    """Plain HTTP to a host that is not loopback and was not named insecure: refused
    before any byte is sent."""


class RefusedAddressError(NetworkError):
    """A URL the server handed us (a token realm, a redirect) points at a link-local,
    private or loopback address, or a scheme other than http(s): refused (SSRF)
    unless configured."""


class TransferError(NetworkError):
    """A response that cannot be used as it came: it ended early, grew past its bound,
    or its ``Content-Range`` does not continue what we hold."""


class HttpStatusError(NetworkError):
    """An HTTP status that is not success and not retried (or still failing after the
    retries); ``status`` holds it."""


class UnauthorizedError(HttpStatusError):
    """401 or 403: credentials missing, wrong, or not allowed this."""


class NotFoundError(HttpStatusError):
    """404 (or 410): nothing at that URL."""


class RateLimitedError(HttpStatusError):
    """429 still, after the retries (each honouring ``Retry-After``)."""
