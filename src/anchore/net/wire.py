"""What the client and its downloads share about the wire: the errors it raises, how a
URL is shown in messages, how a urllib3 response becomes a :class:`Response`, and the
retries one call may spend."""

from __future__ import annotations

import http.client
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator

import urllib3
from urllib3.exceptions import HTTPError

from anchore.net.backoff import backoff_delay
from anchore.net.errors import TransferError
from anchore.net.models import ClientOptions, Response

__all__ = ["WIRE_ERRORS", "Attempts", "Pace", "display_url", "paced", "response_of"]

#: everything urllib3, http.client and the socket layer raise while talking
WIRE_ERRORS = (HTTPError, OSError, http.client.HTTPException, ValueError)


def display_url(url: str) -> str:
    """``url`` as error messages show it: without user:password, and with the values of
    query parameters that look like credentials (presigned blob URLs) hidden."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return re.sub(r"//[^/@]*@", "//", url)[:300]
    netloc = parts.netloc.rpartition("@")[2]
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        secret = ("sig", "token", "key", "credential", "auth", "password", "secret")
        query = urllib.parse.urlencode(
            [(k, "REDACTED" if any(s in k.lower() for s in secret) else v) for k, v in pairs]
        )
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class Attempts:
    """The retries one call may spend, across redirects, statuses and resumed bodies."""

    def __init__(self, options: ClientOptions, sleep: Callable[[float], None]) -> None:
        self._options = options
        self._sleep = sleep
        self.used = 0

    def left(self) -> bool:
        return self.used < self._options.retries

    def wait(self, retry_after: float | None = None) -> None:
        """Sleep the backoff for this retry, or ``retry_after`` if that is longer."""
        options = self._options
        delay = backoff_delay(self.used, options.backoff, options.max_backoff)
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.used += 1
        self._sleep(delay)


class Pace:
    """The bound on a slow body: fewer than ``options.min_speed`` bytes per second over
    a ``speed_window`` is a :class:`TransferError` naming the URL. The socket timeout
    alone lets a server sending a byte every ``timeout - 1`` seconds hold a pull
    forever."""

    def __init__(
        self,
        options: ClientOptions,
        method: str,
        url: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = options.min_speed
        self._window = options.speed_window
        self._what = f"{method} {display_url(url)}"
        self._url = display_url(url)
        self._clock = clock
        self._start = clock()
        self._got = 0

    def add(self, size: int) -> None:
        """Count ``size`` bytes just read; raise when the window closed too slow."""
        if self._rate <= 0:
            return
        self._got += size
        now = self._clock()
        elapsed = now - self._start
        if elapsed < self._window:
            return
        if self._got < self._rate * elapsed:
            raise TransferError(
                f"{self._what}: the body came at {self._got / elapsed:.0f} bytes/s over "
                f"{elapsed:.0f}s, slower than the {self._rate} bytes/s allowed "
                f"(min_speed)",
                url=self._url,
            )
        self._start, self._got = now, 0


def paced(resp: urllib3.BaseHTTPResponse, size: int, decode: bool, pace: Pace) -> Iterator[bytes]:
    """The body's chunks as they arrive (at most ``size`` bytes each, without waiting
    to fill a chunk, so a trickle is seen), each counted by ``pace``."""
    while True:
        chunk = resp.read1(size, decode_content=decode)
        if not chunk:
            return
        pace.add(len(chunk))
        yield chunk


def response_of(resp: urllib3.BaseHTTPResponse, url: str, body: bytes = b"") -> Response:
    """The :class:`Response` of a urllib3 response (header names lower-cased)."""
    lists: dict[str, list[str]] = {}
    for name, value in resp.headers.iteritems():
        lists.setdefault(name.lower(), []).append(value)
    return Response(
        status=resp.status,
        headers={name: ", ".join(values) for name, values in lists.items()},
        url=url,
        body=body,
        header_list={name: tuple(values) for name, values in lists.items()},
    )
