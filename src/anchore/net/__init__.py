"""HTTP for the registry client and the feed updater: one client, failing closed.

:class:`HttpClient` wraps urllib3: TLS verified by default (``ca_bundle`` adds
trust), plain HTTP only to loopback or hosts named insecure, proxies from the
environment, 408/429/5xx and dropped connections retried with backoff
(``Retry-After`` honoured), redirects followed without carrying credentials to
another host, downloads streamed to disk with their digest checked and resumed
with ``Range``, and conditional requests (``ETag``/``Last-Modified``). Every
failure is a :class:`NetworkError` naming the URL.
"""

from anchore.net.addresses import is_loopback_host
from anchore.net.client import (
    ClientOptions,
    Download,
    HttpClient,
    Response,
    Validators,
    is_public_address,
)
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

__all__ = [
    "ClientOptions",
    "ConnectionFailedError",
    "Download",
    "HttpClient",
    "HttpStatusError",
    "InsecureTransportError",
    "NetworkError",
    "NotFoundError",
    "RateLimitedError",
    "RefusedAddressError",
    "Response",
    "TlsError",
    "TransferError",
    "UnauthorizedError",
    "Validators",
    "is_loopback_host",
    "is_public_address",
]
