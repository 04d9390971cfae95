"""Loading feeds into the store, with the feed format told from the data.

Feed readers are plugins (``anchore_vulnerability_feeds``); ours are the OSV,
Debian tracker and Alpine secdb readers, registered by this module. A reader is
a :class:`Feed`: ``name``, ``detect(path) -> bool`` and
``read(path, report) -> Iterable[Advisory]``; ``read`` adds to
``report.covered`` the ecosystems the path is a whole feed for (only those
count as covered: see :meth:`Store.load`).

Ours can also be downloaded (``anchore.vulns.update``): each has ``base_url``,
``mirror_env`` and ``files(base_url, fetch)``, from the table in
:mod:`anchore.vulns.sources`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol

from anchore.plugins import Registry, default_registry, hookimpl
from anchore.vulns.errors import EmptyFeedError, FeedError, FeedNotFoundError, UnknownFeedError
from anchore.vulns.feeds import read_alpine_secdb, read_debian_tracker
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.sources import alpine_files, debian_files, osv_files, published
from anchore.vulns.store import StoreLike, open_store
from anchore.vulns.update import FeedFile, UrlFeed

__all__ = [
    "AlpineSecdbFeed",
    "DebianTrackerFeed",
    "EmptyFeedError",
    "Feed",
    "FeedError",
    "FeedNotFoundError",
    "OsvFeed",
    "UnknownFeedError",
    "UrlFeed",
    "detect",
    "load",
    "readers",
]


class Feed(Protocol):
    """A vulnerability feed reader: exactly what :func:`detect` and :func:`load` call."""

    #: what ``load(feed=...)`` and ``anchore db load --feed`` take; the advisories' source
    name: str

    def detect(self, path: str) -> bool:
        """Whether the file or directory ``path`` is in this format (read its head only)."""
        ...

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        """The advisories in ``path``; what it covers to ``report.covered``, bad records
        to ``report.skipped``."""
        ...


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096)


#: what a reader's ``files`` is given to read a published index with
Fetch = Callable[[str], bytes]


class OsvFeed:
    name = "osv"
    base_url = published("osv").base_url
    mirror_env = published("osv").mirror_env

    def files(self, base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
        return osv_files(base_url, fetch)

    def detect(self, path: str) -> bool:
        if os.path.isdir(path) or path.endswith(".zip"):
            return True
        return path.endswith((".yaml", ".yml")) or b'"modified"' in _head(path)

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_osv(path, report)


class DebianTrackerFeed:
    name = "debian-tracker"
    base_url = published("debian-tracker").base_url
    mirror_env = published("debian-tracker").mirror_env

    def files(self, base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
        return debian_files(base_url, fetch)

    def detect(self, path: str) -> bool:
        if not os.path.isfile(path) or not path.endswith(".json"):
            return False
        head = _head(path)
        return b'"releases"' in head and b'"modified"' not in head

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_debian_tracker(path, report)


class AlpineSecdbFeed:
    name = "alpine-secdb"
    base_url = published("alpine-secdb").base_url
    mirror_env = published("alpine-secdb").mirror_env

    def files(self, base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
        return alpine_files(base_url, fetch)

    def detect(self, path: str) -> bool:
        if os.path.isdir(path):  # the whole secdb (v3.x/...), or one release's directory
            names = os.listdir(path)
            return any(n.startswith("v3.") for n in names) or any(
                self.detect(os.path.join(path, n)) for n in names if n.endswith((".yaml", ".json"))
            )
        head = _head(path)
        return b"distroversion" in head and (b"secfixes" in head or b"packages:" in head)

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_alpine_secdb(path, report)


def readers(registry: Registry | None = None) -> list[Feed]:
    """Every feed reader of ``registry`` (the default one for None), ours first."""
    return (registry or default_registry()).feeds()


def detect(
    path: str | os.PathLike[str], *, feed: str | None = None, registry: Registry | None = None
) -> Feed:
    """The reader for ``path``: the one named ``feed``, else the first that recognises it.

    The readers are those of ``registry`` (the default registry for None).

    Distro feeds are tried before OSV: an OSV directory would also accept them.
    Raises :class:`FeedNotFoundError` for a missing path, :class:`UnknownFeedError`
    (also a KeyError) when no reader has the name ``feed``, and :class:`FeedError`
    when no reader recognises the path.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FeedNotFoundError(f"{path}: no such file or directory", source=path)
    available = readers(registry)
    if feed is not None:
        chosen = next((r for r in available if r.name == feed), None)
        if chosen is None:
            raise UnknownFeedError(feed, [r.name for r in available])
        return chosen
    ordered = sorted(available, key=lambda r: r.name == "osv")
    try:
        chosen = next((r for r in ordered if r.detect(path)), None)
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror or exc}", source=path) from None
    if chosen is None:
        raise FeedError(
            f"{path}: no feed reader recognises it (have: {', '.join(r.name for r in available)}); "
            "give an OSV zip, directory or record, the Debian tracker JSON or an Alpine secdb",
            source=path,
        )
    return chosen


def load(
    store: StoreLike | None,
    path: str | os.PathLike[str],
    *,
    feed: str | None = None,
    registry: Registry | None = None,
) -> LoadReport:
    """Load a feed (a file, a directory or a zip) into ``store``; the format is detected.

    ``store`` is a :class:`Store` or a path (created if missing; None: the
    default store). A path that holds no advisory at all (an empty directory,
    only malformed records) is an :class:`EmptyFeedError`: "0 loaded" would
    look like success. What the path covers is recorded with it: an OSV zip or
    directory covers the ecosystems its records name, a single OSV record
    file none, the Debian tracker every release it follows, an Alpine secdb
    file its release. The feed readers are those of ``registry`` (None: the default).
    """
    path = os.fspath(path)
    chosen = detect(path, feed=feed, registry=registry)
    reader = chosen.reader_in(registry) if isinstance(chosen, UrlFeed) else chosen
    opened = open_store(store, create=True)
    try:
        return opened.load_read(reader, path, source=chosen.name, feed=path)
    finally:
        if opened is not store:
            opened.close()


@hookimpl
def anchore_vulnerability_feeds() -> list[Feed]:
    """Our readers: the distro feeds first (an OSV directory would also accept them)."""
    return [DebianTrackerFeed(), AlpineSecdbFeed(), OsvFeed()]
