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

import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from anchore.vulns.osv import LoadReport

if TYPE_CHECKING:
    from anchore.net import HttpClient
    from anchore.plugins import Registry
    from anchore.vulns.store import StoreLike

__all__ = ["FeedFile", "FeedStatus", "FileUpdate", "UpdateReport", "UrlFeed", "status", "update"]


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
    #: when it was last checked with the server, and when its content last changed
    checked: datetime.datetime | None
    changed: datetime.datetime | None
    files: int
    advisories: int
    #: the ecosystems it covers
    covers: tuple[str, ...]


@attrs.frozen
class UrlFeed:
    """A URL-based feed in one row: the file at ``url``, read by the reader named ``reader``."""

    name: str
    url: str
    reader: str
    mirror_env: str = ""


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
    """
    raise NotImplementedError


def status(store: StoreLike | None = None) -> list[FeedStatus]:
    """Each feed the store was updated from, with its age."""
    raise NotImplementedError
