"""A URL into a file: through ``<dest>.partial``, hashed while written, resumed with
``Range``, and renamed onto ``dest`` only once whole and checked.

:meth:`anchore.net.client.HttpClient.download` is the public door; this module is
its body, kept apart because resuming is most of the work.
"""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING, Any

import attrs

from anchore.errors import DigestMismatchError
from anchore.net.backoff import parse_decimal
from anchore.net.errors import HttpStatusError, NetworkError, TransferError
from anchore.net.models import Download, Validators
from anchore.net.wire import WIRE_ERRORS, Attempts, Pace, display_url, paced, response_of

if TYPE_CHECKING:
    import urllib3

    from anchore.net.client import HttpClient

__all__ = ["fetch_to_file"]

_ALGORITHMS = ("sha256", "sha384", "sha512")
_CHUNK = 1024 * 1024
#: Content-Range values; ASCII digits only, few enough for int() (``\d`` takes any script's)
_RANGE = re.compile(
    r"\s*bytes\s+([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19}|\*)\s*$", re.IGNORECASE | re.ASCII
)
_UNSATISFIED = re.compile(r"\s*bytes\s+\*/([0-9]{1,19})\s*$", re.IGNORECASE | re.ASCII)


@attrs.frozen
class _Expected:
    algorithm: str
    hexdigest: str | None
    size: int | None


class _Restart(Exception):
    """The partial cannot be continued: start again from byte 0."""


class _Dropped(Exception):
    """The connection broke mid-body: resume from what the partial holds."""


def _expected(url: str, digest: str | None, size: int | None) -> _Expected:
    if digest is None:
        return _Expected("sha256", None, size)
    algorithm, _, value = digest.partition(":")
    algorithm = algorithm.lower()
    if algorithm not in _ALGORITHMS or not re.fullmatch(r"[0-9a-fA-F]+", value):
        raise NetworkError(
            f"{display_url(url)}: the expected digest {digest!r} is not sha256:, sha384: or "
            f"sha512: followed by hex",
            url=display_url(url),
        )
    if len(value) != hashlib.new(algorithm).digest_size * 2:
        raise NetworkError(
            f"{display_url(url)}: the expected digest {digest!r} has the wrong length",
            url=display_url(url),
        )
    return _Expected(algorithm, value.lower(), size)


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise TransferError(f"{path}: cannot remove the partial download: {exc}") from None


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise TransferError(f"{path}: cannot read the partial download: {exc}") from None


def _rehash(path: str, algorithm: str) -> Any:
    hasher = hashlib.new(algorithm)
    try:
        with open(path, "rb") as held:
            while chunk := held.read(_CHUNK):
                hasher.update(chunk)
    except OSError as exc:
        raise TransferError(f"{path}: cannot read the partial download: {exc}") from None
    return hasher


def _if_range(resp: urllib3.BaseHTTPResponse) -> str | None:
    """What ``If-Range`` can send to continue this response's body: a strong ETag or
    the Last-Modified date (a weak ETag may not be used)."""
    etag = resp.headers.get("etag")
    if etag and not etag.startswith("W/"):
        return str(etag)
    modified = resp.headers.get("last-modified")
    return str(modified) if modified else None


def fetch_to_file(
    client: HttpClient,
    url: str,
    dest: str,
    *,
    headers: dict[str, str],
    expected_digest: str | None,
    expected_size: int | None,
    validators: Validators | None,
    resume: bool,
    max_bytes: int | None,
) -> Download:
    """The body of :meth:`HttpClient.download` (see there)."""
    expected = _expected(url, expected_digest, expected_size)
    partial = dest + ".partial"
    shown = display_url(url)
    # A partial left by an earlier call is continued only when a digest will prove the
    # joined file: without one, yesterday's first half and today's second half would
    # make a file nobody served.
    if not resume or expected.hexdigest is None:
        _remove(partial)
    attempts = Attempts(client.options, client.sleep)
    if_range: str | None = None
    transferred = 0
    resumed = False
    restarted = False
    #: after a drop, the hash of what this call wrote and its length (no re-reading)
    carried: tuple[Any, int] | None = None
    while True:
        offset = _size(partial)
        if offset and (
            (max_bytes is not None and offset > max_bytes)
            or (expected.size is not None and offset > expected.size)
        ):
            _remove(partial)
            offset = 0
        if carried is not None and carried[1] == offset and offset:
            hasher = carried[0]
        elif offset:
            hasher = _rehash(partial, expected.algorithm)
        else:
            hasher = hashlib.new(expected.algorithm)
        carried = None
        sent = dict(headers)
        sent["Accept-Encoding"] = "identity"
        if offset:
            sent["Range"] = f"bytes={offset}-"
            if if_range:
                sent["If-Range"] = if_range
        if validators is not None:
            if validators.etag:
                sent["If-None-Match"] = validators.etag
            if validators.last_modified:
                sent["If-Modified-Since"] = validators.last_modified
        resp, final = client.open(
            "GET",
            url,
            headers=sent,
            ok=(416,) if offset else (),
            idempotent=True,
            decode=False,
            attempts=attempts,
        )
        head = response_of(resp, final)
        try:
            if resp.status == 304:
                if validators is None:
                    raise HttpStatusError(
                        f"GET {shown}: HTTP 304 Not Modified to a request that was not conditional",
                        url=shown,
                        status=304,
                    )
                _remove(partial)
                return Download(
                    path=None,
                    transferred=0,
                    size=_size(dest),
                    digest=None,
                    validators=Validators(
                        head.validators.etag or validators.etag,
                        head.validators.last_modified or validators.last_modified,
                    ),
                    not_modified=True,
                    headers=head.headers,
                )
            total, offset, hasher = _start(resp, shown, offset, hasher, expected.algorithm)
            if resp.status == 200 or not if_range:  # the validator of what we now hold
                if_range = _if_range(resp)
            _check_announced(partial, shown, expected, max_bytes, total)
            resumed = offset > 0
            pace = Pace(client.options, "GET", url)
            written = _write_body(resp, partial, offset, hasher, shown, max_bytes, expected, pace)
        except _Restart:
            _remove(partial)
            if restarted:
                raise TransferError(
                    f"GET {shown}: the server's ranges do not continue the partial download, "
                    f"even after starting over",
                    url=shown,
                ) from None
            restarted, if_range = True, None
            continue
        except _Dropped as dropped:
            transferred += max(0, _size(partial) - offset)
            carried = (hasher, _size(partial))
            if attempts.left():
                attempts.wait()
                continue
            raise TransferError(
                f"GET {shown}: the connection broke mid-body ({dropped}), still after "
                f"{attempts.used} retries",
                url=shown,
            ) from None
        finally:
            _release(resp)
        transferred += written
        size = offset + written
        if total is not None and size < total:
            if attempts.left():  # ended early without an error: resume like a drop
                attempts.wait()
                continue
            raise TransferError(f"GET {shown}: the body ended at byte {size} of {total}", url=shown)
        if total is not None and size > total:
            _remove(partial)
            raise TransferError(
                f"GET {shown}: the body is {size} bytes, more than the {total} announced",
                url=shown,
            )
        actual = hasher.hexdigest()
        _check(partial, shown, expected, size, actual)
        _commit(partial, dest)
        return Download(
            path=dest,
            transferred=transferred,
            size=size,
            digest=f"{expected.algorithm}:{actual}",
            validators=head.validators,
            resumed=resumed,
            headers=head.headers,
        )


def _start(
    resp: urllib3.BaseHTTPResponse, shown: str, offset: int, hasher: Any, algorithm: str
) -> tuple[int | None, int, Any]:
    """Where the body starts and how long the whole file is, from the status and
    ``Content-Range``: (total or None, offset, hasher to continue)."""
    status = resp.status
    if status == 416:
        match = _UNSATISFIED.match(resp.headers.get("content-range") or "")
        if match and int(match.group(1)) == offset:
            return offset, offset, hasher  # the partial already holds every byte
        raise _Restart
    if status == 206:
        match = _RANGE.match(resp.headers.get("content-range") or "")
        if not offset or not match or int(match.group(1)) != offset:
            if not offset:
                raise TransferError(
                    f"GET {shown}: HTTP 206 partial content to a request for the whole file",
                    url=shown,
                    status=206,
                )
            raise _Restart
        start, end, whole = int(match.group(1)), int(match.group(2)), match.group(3)
        total = None if whole == "*" else int(whole)
        if end < start or (total is not None and end >= total):
            raise _Restart
        return total, offset, hasher
    if status == 200:
        total = parse_decimal(resp.headers.get("content-length"))
        return total, 0, hashlib.new(algorithm)  # the server sent it all: start over
    raise TransferError(
        f"GET {shown}: HTTP {status} is not a body to download", url=shown, status=status
    )


def _write_body(
    resp: urllib3.BaseHTTPResponse,
    partial: str,
    offset: int,
    hasher: Any,
    shown: str,
    max_bytes: int | None,
    expected: _Expected,
    pace: Pace,
) -> int:
    """Append the body to ``partial`` (truncated first when ``offset`` is 0), hashing it;
    the bytes written. A broken connection is :class:`_Dropped` (the bytes so far kept)."""
    if resp.status == 416:
        return 0
    written = 0
    try:
        held = open(partial, "ab" if offset else "wb")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise TransferError(f"{partial}: cannot write the download: {exc}", url=shown) from None
    with held:
        chunks = paced(resp, _CHUNK, False, pace)
        while True:
            try:
                chunk = next(chunks, None)
            except TransferError:  # too slow: what came is kept for a later resume
                _flush(held, partial, shown)
                raise
            except WIRE_ERRORS as exc:
                _flush(held, partial, shown)
                raise _Dropped(str(exc)) from None
            if chunk is None:
                break
            size = offset + written + len(chunk)
            if max_bytes is not None and size > max_bytes:
                held.close()
                _remove(partial)
                raise TransferError(
                    f"GET {shown}: the download grew past the {max_bytes} bytes allowed",
                    url=shown,
                )
            if expected.size is not None and size > expected.size:
                held.close()
                _remove(partial)
                raise DigestMismatchError(
                    f"GET {shown}: the download grew past the {expected.size} bytes expected",
                    expected=f"{expected.size} bytes",
                    actual=f"more than {expected.size} bytes",
                    source=shown,
                )
            try:
                held.write(chunk)
            except OSError as exc:
                raise TransferError(
                    f"{partial}: cannot write the download: {exc}", url=shown
                ) from None
            hasher.update(chunk)
            written += len(chunk)
        _flush(held, partial, shown, sync=True)
    return written


def _flush(held: Any, partial: str, shown: str, sync: bool = False) -> None:
    try:
        held.flush()
        if sync:
            os.fsync(held.fileno())
    except OSError as exc:
        raise TransferError(f"{partial}: cannot write the download: {exc}", url=shown) from None


def _check_announced(
    partial: str, shown: str, expected: _Expected, max_bytes: int | None, total: int | None
) -> None:
    """Refuse before reading a body whose announced size is already wrong."""
    if total is None:
        return
    if max_bytes is not None and total > max_bytes:
        _remove(partial)
        raise TransferError(
            f"GET {shown}: the file is {total} bytes, more than the {max_bytes} allowed",
            url=shown,
        )
    if expected.size is not None and total != expected.size:
        _remove(partial)
        raise DigestMismatchError(
            f"GET {shown}: the server announces {total} bytes, not the {expected.size} expected",
            expected=f"{expected.size} bytes",
            actual=f"{total} bytes",
            source=shown,
        )


def _check(partial: str, shown: str, expected: _Expected, size: int, actual: str) -> None:
    if expected.size is not None and size != expected.size:
        _remove(partial)
        raise DigestMismatchError(
            f"GET {shown}: the download is {size} bytes, not the {expected.size} expected",
            expected=f"{expected.size} bytes",
            actual=f"{size} bytes",
            source=shown,
        )
    if expected.hexdigest is not None and actual != expected.hexdigest:
        _remove(partial)
        want = f"{expected.algorithm}:{expected.hexdigest}"
        got = f"{expected.algorithm}:{actual}"
        raise DigestMismatchError(
            f"GET {shown}: the download hashes to {got}, not the {want} expected",
            expected=want,
            actual=got,
            source=shown,
        )


def _commit(partial: str, dest: str) -> None:
    try:
        os.replace(partial, dest)
    except OSError as exc:
        raise TransferError(f"{dest}: cannot put the download in place: {exc}") from None


def _release(resp: urllib3.BaseHTTPResponse) -> None:
    try:
        if not getattr(resp, "isclosed", lambda: False)():  # unread rest: drop the connection
            resp.close()
        resp.release_conn()
    except WIRE_ERRORS:
        pass
