"""The values the HTTP client takes and gives: options, validators, responses, downloads.

Defined here, apart from the client, so :mod:`anchore.net.downloads` can build them
without importing the client; :mod:`anchore.net.client` re-exports them.
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["ClientOptions", "Download", "Response", "Validators", "environ_repr"]


def environ_repr(environ: Mapping[str, str] | None) -> str:
    """How an options class shows its environment: how many variables, not their values
    (proxies with passwords, tokens): options end up in tracebacks and logs."""
    return "None" if environ is None else f"<{len(environ)} variables>"


@attrs.frozen
class ClientOptions:
    """How an :class:`HttpClient` connects; every field has a safe default."""

    #: a PEM file of CA certificates trusted in addition to the system's (None: system only)
    ca_bundle: str | None = None
    #: verify TLS certificates and host names; False only when a user asked
    #: (--insecure-skip-tls-verify)
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
    #: the slowest body accepted, in bytes per second averaged over each ``speed_window``
    #: seconds (a server trickling a byte within each ``timeout`` would otherwise hold
    #: a request forever): slower is a TransferError naming the URL; 0 turns it off
    min_speed: int = 1024
    speed_window: float = 60.0
    #: sent with every request
    user_agent: str = "anchore"
    #: the environment proxies are read from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); None: os.environ
    environ: Mapping[str, str] | None = attrs.field(default=None, repr=environ_repr)


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
