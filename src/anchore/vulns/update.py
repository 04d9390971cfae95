"""Keeping the store current: each feed downloaded from where it is published.

CONTRACT (issue 12): the data classes are fixed; ``update``/``status`` bodies and
the built-in feeds' sources are the feed-update engineer's.

A feed reader (``anchore_vulnerability_feeds``) that can be downloaded also has
``base_url`` (where it is published), ``mirror_env`` (the environment variable
that points it at a mirror with the same layout) and ``files(base_url, fetch)``
(the :class:`FeedFile` values to fetch; ``fetch(url) -> bytes`` reads an index
first when the list is published, as Alpine's and OSV's are). A URL-based feed
of a plugin is one row: ``UrlFeed("mycorp", "https://example.com/osv/all.zip",
reader="osv")``.
"""

from __future__ import annotations

import base64
import datetime
import email.utils
import hashlib
import os
import posixpath
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from anchore.errors import AnchoreError
from anchore.net import ClientOptions, HttpClient, NetworkError, NotFoundError, Validators
from anchore.plugins import Registry, default_registry
from anchore.vulns.errors import FeedDownloadError, FeedError, StoreError, UnknownFeedError
from anchore.vulns.osv import Advisory, LoadReport
from anchore.vulns.store import (
    FeedFileRecord,
    Store,
    StoreLike,
    default_path,
    staged,
    using_store,
)

if TYPE_CHECKING:
    from anchore.vulns.load import Feed

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_BYTES_ENV",
    "FeedFile",
    "FeedStatus",
    "FileUpdate",
    "UpdateReport",
    "UrlFeed",
    "downloadable",
    "status",
    "update",
]


@attrs.frozen
class FeedFile:
    """One file a feed is updated from."""

    #: where to GET it (the mirror's base URL already applied)
    url: str
    #: the file's name under the feed (``PyPI/all.zip``, ``v3.18/main.json``), which
    #: the reader is given as the downloaded file's name
    name: str
    #: False: a 404 means the publisher has none (Alpine's community repository of an
    #: old release); True: a 404 is an error
    required: bool = True
    #: False: fetched only when named (``osv:Hex``) or with ``osv:*``, not by default
    #: (an OSV ecosystem none of our packages is matched against)
    default: bool = True
    #: the largest body accepted (a broken or hostile mirror must not fill the disk);
    #: None: :data:`DEFAULT_MAX_BYTES`. ``ANCHORE_FEED_MAX_BYTES`` overrides every file's
    max_bytes: int | None = None


#: a feed file's size bound when its reader gives none
DEFAULT_MAX_BYTES = 1024 * 1024 * 1024
#: the environment variable that replaces every feed file's bound (a number of bytes)
MAX_BYTES_ENV = "ANCHORE_FEED_MAX_BYTES"


@attrs.frozen
class FileUpdate:
    """What happened to one feed file."""

    feed: str
    name: str
    url: str
    #: ``loaded`` (new content, read into the store), ``not-modified`` (304, or the same
    #: bytes again), ``absent`` (an optional file the publisher does not have), ``failed``
    outcome: str
    #: bytes transferred this time
    transferred: int = 0
    report: LoadReport | None = None
    #: the error, for ``failed``
    error: str | None = None


@attrs.frozen
class UpdateReport:
    """What :func:`update` did; ``swapped`` is False when nothing was written."""

    files: tuple[FileUpdate, ...]
    #: True when the updated store replaced the old one
    swapped: bool

    @property
    def failed(self) -> tuple[FileUpdate, ...]:
        return tuple(f for f in self.files if f.outcome == "failed")

    @property
    def transferred(self) -> int:
        return sum(f.transferred for f in self.files)


@attrs.frozen
class FeedStatus:
    """One feed as the store knows it, for ``anchore db status``."""

    feed: str
    #: the base URL it was last updated from (a mirror's, if one was used)
    base_url: str
    #: when it was last checked with the server: its *least recently* checked file's
    #: time (one fresh file must not hide a stale one), and when its content last changed
    checked: datetime.datetime | None
    changed: datetime.datetime | None
    files: int
    advisories: int
    #: the ecosystems it covers
    covers: tuple[str, ...]
    #: the name of the file ``checked`` is the time of ("" when no file was downloaded)
    oldest: str = ""


@attrs.frozen
class UrlFeed:
    """A URL-based feed in one row: the file at ``url``, read by the reader named ``reader``.

    It is a feed reader of its own (``anchore db load --feed NAME FILE`` reads a
    copy of the file with ``reader``), whose advisories' source is ``name``. It never
    claims a path by ``detect``: the reader it names already recognises the format,
    and a row must not take OSV zips from the ``osv`` reader.
    """

    name: str
    url: str
    reader: str
    mirror_env: str = ""

    @property
    def base_url(self) -> str:
        """The whole URL: a mirror (``mirrors={NAME: URL}``) replaces it."""
        return self.url

    def files(self, base_url: str, fetch: Callable[[str], bytes]) -> Sequence[FeedFile]:
        """The one file, named as the last segment of its URL's path."""
        path = urllib.parse.urlsplit(base_url).path.rstrip("/")
        return [FeedFile(base_url, posixpath.basename(path) or self.name)]

    def detect(self, path: str) -> bool:
        return False

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return self.reader_in(None).read(path, report)

    def reader_in(self, registry: Registry | None) -> Feed:
        """The reader named ``reader`` among ``registry``'s (None: the default registry)."""
        available = [
            r for r in (registry or default_registry()).feeds() if not isinstance(r, UrlFeed)
        ]
        chosen = next((r for r in available if r.name == self.reader), None)
        if chosen is None:
            raise UnknownFeedError(self.reader, [r.name for r in available])
        return chosen


#: how much of a published index (``ecosystems.txt``, Alpine's listing) is read
_INDEX_BYTES = 16 * 1024 * 1024


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def downloadable(feed: object) -> bool:
    """Whether a feed reader can be downloaded (it has ``base_url`` and ``files``), so
    :func:`update` fetches it and ``--mirror`` may name it."""
    return isinstance(getattr(feed, "base_url", None), str) and callable(
        getattr(feed, "files", None)
    )


def _chosen(
    available: Sequence[Feed], feeds: Sequence[str] | None
) -> list[tuple[Feed, frozenset[str]]]:
    """The feeds to update, each with what of it: ``""`` its default files, ``"*"`` all
    of them, any other part the files under that top directory (``osv:PyPI``,
    ``alpine-secdb:v3.18``)."""
    offered = {f.name: f for f in available if downloadable(f)}
    if feeds is None:
        return [(f, frozenset({""})) for f in offered.values()]
    if isinstance(feeds, str):  # one name, not its letters
        feeds = [feeds]
    wanted: dict[str, set[str]] = {}
    for item in feeds:
        name, _, part = item.partition(":")
        if name not in offered:
            raise UnknownFeedError(name, list(offered))
        wanted.setdefault(name, set()).add(part)
    return [(offered[name], frozenset(parts)) for name, parts in wanted.items()]


def _select(feed: Feed, files: Sequence[FeedFile], parts: frozenset[str]) -> list[FeedFile]:
    named = parts - {"", "*"}
    tops = {f.name.split("/", 1)[0] for f in files}
    missing = sorted(named - tops)
    if missing:
        raise FeedError(
            f"{feed.name}: publishes no {missing[0]!r}; it publishes: {', '.join(sorted(tops))}",
            source=feed.name,
        )
    return [
        f
        for f in files
        if "*" in parts or ("" in parts and f.default) or f.name.split("/", 1)[0] in named
    ]


def _base_url(feed: Feed, mirrors: Mapping[str, str], environ: Mapping[str, str]) -> str:
    env = getattr(feed, "mirror_env", "") or ""
    published: str = feed.base_url  # type: ignore[attr-defined]
    base = str(mirrors.get(feed.name) or (environ.get(env) if env else None) or published)
    parts = urllib.parse.urlsplit(base)
    if "@" in parts.netloc:  # never sent (the client sends no userinfo), never printed
        raise FeedError(
            f"{feed.name}: the base URL names a user or password (not shown); credentials in "
            "a mirror URL are not sent: give a plain base URL",
            source=feed.name,
        )
    if parts.query or parts.fragment:  # the files' paths are appended to the base URL
        plain = parts._replace(query="", fragment="").geturl()
        raise FeedError(
            f"{feed.name}: the base URL {plain} has a query or a fragment (not shown: it may "
            "hold a token); give a plain base URL, the feed's files are fetched under its path",
            source=feed.name,
        )
    return base.rstrip("/")


_MD5 = re.compile(r"(?:^|[,\s])md5=([A-Za-z0-9+/=]+)")


def _check_md5(path: str, headers: Mapping[str, str], feed: str, url: str) -> None:
    """The MD5 Google Cloud Storage publishes (``x-goog-hash: crc32c=...,md5=<base64>``)."""
    found = _MD5.search(headers.get("x-goog-hash", ""))
    if found is None:
        return
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(chunk)
    got = base64.b64encode(digest.digest()).decode()
    if got != found.group(1):
        raise FeedDownloadError(
            f"{feed}: {url}: the file's MD5 is {got}, but the server published {found.group(1)} "
            "(x-goog-hash): a corrupted transfer or mirror; nothing of it was loaded",
            source=url,
        )


def _set_mtime(path: str, last_modified: str | None) -> None:
    """The file's time as the server's ``Last-Modified``: the distro readers date their
    advisories by it (``modified``), so unchanged content keeps its date."""
    if not last_modified:
        return
    try:
        stamp = email.utils.parsedate_to_datetime(last_modified).timestamp()
    except (TypeError, ValueError, IndexError):
        return
    os.utime(path, (stamp, stamp))


@attrs.define
class _Fetched:
    """One file downloaded (or found unchanged) and not yet loaded."""

    file: FeedFile
    #: what the store recorded of it before, and what it will record once loaded
    known: FeedFileRecord | None
    record: FeedFileRecord | None
    #: the downloaded copy, None for 304 or an absent optional file
    path: str | None
    transferred: int = 0
    absent: bool = False

    @property
    def changed(self) -> bool:
        return self.path is not None and (
            self.known is None or self.record is None or self.known.sha256 != self.record.sha256
        )


class _Updater:
    """One update: the staged store, the client, the temporary directory, the results."""

    def __init__(
        self,
        stage: Store,
        client: HttpClient,
        tmp: str,
        registry: Registry | None,
        on_file: Callable[[FileUpdate], None] | None,
        keep_going: bool,
    ) -> None:
        self.stage = stage
        self.client = client
        self.tmp = tmp
        self.registry = registry
        self.on_file = on_file
        self.keep_going = keep_going
        self.results: list[FileUpdate] = []
        #: every file's bound when ANCHORE_FEED_MAX_BYTES is set
        self.max_bytes: int | None = None

    def done(self, result: FileUpdate, error: FeedError | None = None) -> None:
        self.results.append(result)
        if self.on_file is not None:
            self.on_file(result)
        if error is not None and not self.keep_going:
            raise error

    def fetch(self, feed: str) -> Callable[[str], bytes]:
        def fetch(url: str) -> bytes:

            try:
                return self.client.request("GET", url, max_bytes=_INDEX_BYTES).body
            except NetworkError as exc:
                raise FeedDownloadError(f"{feed}: {url}: {exc}", source=url) from exc

        return fetch

    def feed(self, feed: Feed, parts: frozenset[str], base_url: str) -> None:
        reader = feed.reader_in(self.registry) if isinstance(feed, UrlFeed) else feed
        try:
            listed = feed.files(base_url, self.fetch(feed.name))  # type: ignore[attr-defined]
        except FeedError as exc:  # the index could not be read
            error = (
                exc
                if isinstance(exc, FeedDownloadError)
                else _download_error(feed.name, base_url, exc)
            )
            self.done(FileUpdate(feed.name, "", base_url, "failed", error=str(error)), error)
            return
        try:
            files = _select(feed, listed, parts)
        except FeedError as exc:  # a part it does not publish: this feed fails, as a file would
            self.done(FileUpdate(feed.name, "", base_url, "failed", error=str(exc)), exc)
            return
        folder = tempfile.mkdtemp(dir=self.tmp, prefix="feed-")
        try:
            for file in files:
                self.one(feed.name, base_url, reader, file, folder)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def one(self, feed: str, base_url: str, reader: Feed, file: FeedFile, folder: str) -> None:
        """A file read on its own (an OSV ecosystem's zip, the Debian tracker, one Alpine
        release's repository): its advisories replace only those it holds itself."""
        try:
            got = self.download(feed, base_url, file, folder)
            try:
                if not got.changed:
                    self.unchanged(feed, got)
                    return
                assert got.path is not None and got.record is not None
                report = self.load(feed, reader, got.path, file.url)
                self.stage.record_feed_file(got.record)  # only now: its content is in the store
                self.done(FileUpdate(feed, file.name, file.url, "loaded", got.transferred, report))
            finally:
                if got.path is not None:
                    os.unlink(got.path)
        except FeedDownloadError as exc:
            self.done(FileUpdate(feed, file.name, file.url, "failed", error=str(exc)), exc)

    def unchanged(self, feed: str, got: _Fetched) -> None:
        """A 304, the same bytes again, or an optional file the publisher does not have."""
        file = got.file
        if got.absent:
            self.done(FileUpdate(feed, file.name, file.url, "absent"))
            return
        if got.record is not None and got.known is not None:  # the same bytes again
            self.stage.record_feed_file(attrs.evolve(got.record, changed=got.known.changed))
        elif got.known is not None:  # 304
            self.stage.record_feed_file(attrs.evolve(got.known, checked=_now()))
        self.done(FileUpdate(feed, file.name, file.url, "not-modified", got.transferred))

    def download(self, feed: str, base_url: str, file: FeedFile, folder: str) -> _Fetched:
        known = self.stage.feed_file(file.url)
        validators = Validators(known.etag, known.last_modified) if known else None
        dest = _child(folder, file.name, feed, file.url)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        try:
            got = self.client.download(
                file.url, dest, validators=validators, max_bytes=self.max_bytes or file.max_bytes
                or DEFAULT_MAX_BYTES
            )  # fmt: skip
        except NotFoundError as exc:
            if file.required:
                raise _download_error(feed, file.url, exc) from exc
            return _Fetched(file, known, None, None, absent=True)
        except (NetworkError, AnchoreError) as exc:
            raise _download_error(feed, file.url, exc) from exc
        if got.not_modified or got.path is None:
            return _Fetched(file, known, None, None)
        try:
            _check_md5(dest, got.headers, feed, file.url)
        except FeedDownloadError:
            os.unlink(dest)
            raise
        _set_mtime(dest, got.validators.last_modified)
        now = _now()
        record = FeedFileRecord(
            url=file.url,
            feed=feed,
            name=file.name,
            base_url=base_url,
            etag=got.validators.etag,
            last_modified=got.validators.last_modified,
            sha256=got.digest or "",
            size=got.size,
            checked=now,
            changed=now,
        )
        return _Fetched(file, known, record, dest, got.transferred)

    def load(self, feed: str, reader: Feed, path: str, url: str) -> LoadReport:
        """Read a downloaded file (or directory) into the staged store, as ``anchore db
        load`` does (coverage recorded with the URL as its feed)."""

        try:
            return self.stage.load_read(reader, path, source=feed, feed=url)
        except (FeedError, OSError) as exc:
            raise _download_error(feed, url, exc) from exc


def _child(folder: str, name: str, feed: str, url: str) -> str:
    """Where a feed file named ``name`` is downloaded: a path under ``folder``, checked
    (a reader's or a published index's name like ``../x`` must not write elsewhere)."""
    parts = name.split("/")
    if any(p in ("", ".", "..") or "\\" in p or "\0" in p for p in parts):
        raise FeedDownloadError(
            f"{feed}: {url}: the file name {name[:80]!r} is not a relative path "
            "of plain names; refusing to write it",
            source=url,
        )
    dest = os.path.join(folder, *parts)
    root = os.path.realpath(folder)
    if os.path.commonpath([root, os.path.realpath(dest)]) != root:
        raise FeedDownloadError(
            f"{feed}: {url}: {name[:80]!r} would be written outside {folder}", source=url
        )
    return dest


def _download_error(feed: str, url: str, exc: BaseException) -> FeedDownloadError:
    text = exc.message if isinstance(exc, AnchoreError) else (str(exc) or type(exc).__name__)
    return FeedDownloadError(f"{feed}: {url}: {text}", source=url)


def update(
    store: StoreLike | None = None,
    *,
    feeds: Sequence[str] | None = None,
    mirrors: Mapping[str, str] | None = None,
    keep_going: bool = False,
    registry: Registry | None = None,
    client: HttpClient | None = None,
    environ: Mapping[str, str] | None = None,
    on_file: Callable[[FileUpdate], None] | None = None,
) -> UpdateReport:
    """Download every feed (or those named in ``feeds``) and load what changed.

    Each file is fetched conditionally (the ``ETag``/``Last-Modified`` the store
    recorded for its URL), its published checksum checked where there is one, and
    loaded into a staged copy of the store (``store.staged``) that replaces the
    store only when every file succeeded (with ``keep_going``, when any did; the
    failures are reported): an update that fails or is interrupted leaves the
    previous store as it was. ``mirrors`` maps a feed name to the base URL to use
    instead of its published one (else its ``mirror_env`` variable in ``environ``).
    Raises :class:`FeedDownloadError` for the first failure without ``keep_going``.

    ``feeds`` names feeds (``osv``, ``debian-tracker``, ``alpine-secdb``, a plugin's
    ``UrlFeed``), or parts of one by the first directory of its files: ``osv:PyPI``,
    ``osv:*`` (every ecosystem OSV publishes; ``osv`` alone is those we match),
    ``alpine-secdb:v3.18``. An unknown name is an :class:`UnknownFeedError`; a part
    the feed does not publish a :class:`FeedError`. The files are downloaded into
    a temporary directory beside the store, each deleted once loaded. ``client``
    defaults to an :class:`~anchore.net.HttpClient` reading proxies from ``environ``;
    ``on_file`` is called as each file is done. An open :class:`Store` given is
    reopened on the new file once it replaced the old one.
    """

    env = os.environ if environ is None else environ
    bound = _max_bytes(env)
    chosen = _chosen((registry or default_registry()).feeds(), feeds)
    bases = [(f, parts, _base_url(f, mirrors or {}, env)) for f, parts in chosen]
    target = _store_path(store) if store is not None else default_path()
    own = client is None
    http = HttpClient(ClientOptions(environ=env)) if client is None else client
    results: list[FileUpdate] = []
    swapped = False
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".anchore-feeds-", dir=target.parent) as tmp:
            try:
                with staged(target) as stage:
                    updater = _Updater(stage, http, tmp, registry, on_file, keep_going)
                    updater.max_bytes = bound
                    try:
                        for feed, parts, base_url in bases:
                            updater.feed(feed, parts, base_url)
                    finally:
                        results = updater.results
                    if not any(r.outcome != "failed" for r in results) and results:
                        raise _NothingToSwap
                swapped = True
            except _NothingToSwap:
                pass
    except OSError as exc:
        if isinstance(exc, AnchoreError):  # StoreNotFoundError and the like are OSErrors too
            raise
        raise StoreError(f"{target}: cannot update the store: {exc}", source=target) from None
    except sqlite3.Error as exc:  # a full disk while loading, a corrupt store
        raise StoreError(f"{target}: cannot update the store: {exc}", source=target) from None
    finally:
        if own:
            http.close()
    if swapped and isinstance(store, Store):
        store.reopen()
    return UpdateReport(tuple(results), swapped)


def _max_bytes(environ: Mapping[str, str]) -> int | None:
    text = environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) <= 0:
        raise FeedError(f"{MAX_BYTES_ENV}={text[:40]!r}: give a number of bytes above 0")
    return int(text)


class _NothingToSwap(Exception):
    """Every file failed (with ``keep_going``): the store is left as it was."""


def _store_path(store: StoreLike) -> Path:

    if isinstance(store, Store):
        if str(store.path) == ":memory:":
            raise StoreError(
                "an in-memory store cannot be updated in place; give a store file",
                source=":memory:",
            )
        return store.path
    return Path(os.fspath(store))


def status(store: StoreLike | None = None) -> list[FeedStatus]:
    """Each feed the store was updated from, with its age: ``checked`` is when its
    least recently checked file was (``oldest`` names it), so a feed with one file
    failing for weeks reads as weeks old however fresh the others are.

    A feed read with ``anchore db load`` only (no download recorded) is listed with
    an empty ``base_url``, no ``checked`` time, and ``changed`` as its last load.
    """

    with using_store(store) as opened:
        files = opened.feed_files()
        counts = opened.source_counts()
        covered = opened.coverage_sources()
    names = sorted({f.feed for f in files} | set(counts) | {c.reader for c in covered})
    out = []
    for name in names:
        mine = [f for f in files if f.feed == name]
        newest = max(mine, key=lambda f: f.checked, default=None)
        oldest = min(mine, key=lambda f: _time(f.checked) or _EPOCH, default=None)
        loads = [c.loaded for c in covered if c.reader == name and c.loaded]
        changed = [f.changed for f in mine] or loads
        out.append(
            FeedStatus(
                feed=name,
                base_url=newest.base_url if newest else "",
                checked=_time(oldest.checked) if oldest else None,
                changed=_time(max(changed)) if changed else None,
                files=len(mine),
                advisories=counts.get(name, 0),
                covers=tuple(sorted({c.ecosystem for c in covered if c.reader == name})),
                oldest=oldest.name if oldest else "",
            )
        )
    return out


#: what an unreadable check time counts as: the oldest possible
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _time(text: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
