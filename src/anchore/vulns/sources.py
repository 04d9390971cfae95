"""Where each built-in feed is published, and which files to fetch from there.

:data:`PUBLISHED` is the one table of URLs (docs/vulns.md shows it, rendered by
:func:`markdown_table`; a test keeps the two equal). Each feed's base URL can be
replaced by a mirror with the same layout: ``update(mirrors={"osv": URL})``,
``anchore db update --mirror osv=URL``, or the feed's environment variable.

The ``*_files`` functions are the readers' ``files(base_url, fetch)``: the
:class:`~anchore.vulns.update.FeedFile` values to download, reading a published
index first where the list is not fixed (OSV's ``ecosystems.txt``, Alpine's
directory listing).
"""

from __future__ import annotations

import html.parser
import re
import urllib.parse
from collections.abc import Callable, Sequence

import attrs

from anchore.ecosystems import ECOSYSTEMS
from anchore.vulns import feeds
from anchore.vulns.errors import FeedError
from anchore.vulns.update import FeedFile

__all__ = [
    "DISTRO_EXPORTS",
    "OSV_MAX_BYTES",
    "PUBLISHED",
    "SECDB_MAX_BYTES",
    "TRACKER_MAX_BYTES",
    "Published",
    "alpine_files",
    "debian_files",
    "markdown_table",
    "matched_osv_ecosystems",
    "osv_files",
    "published",
]

#: each feed's download bound, with a wide margin over the published sizes (2026: the
#: largest OSV all.zip some hundreds of MB; the tracker's JSON ~70 MB; a secdb file
#: ~1 MB). The zips are read record by record (Limits bound them); the tracker and
#: secdb JSON are parsed whole, so their readers bound them too.
OSV_MAX_BYTES = 4 * 1024 * 1024 * 1024
TRACKER_MAX_BYTES = feeds.TRACKER_MAX_BYTES
SECDB_MAX_BYTES = feeds.SECDB_MAX_BYTES

#: ``fetch(url) -> bytes``: how a reader reads a published index
Fetch = Callable[[str], bytes]


@attrs.frozen
class Published:
    """One row of the table: a feed, where it is published and how it is laid out."""

    feed: str
    base_url: str
    mirror_env: str
    #: the files under the base URL, as the documentation shows them
    layout: str
    #: the checksum the publisher sends, checked on each download ("" for none)
    checksum: str = ""


#: every built-in feed's published location: the one table of URLs
PUBLISHED: tuple[Published, ...] = (
    Published(
        "osv",
        "https://osv-vulnerabilities.storage.googleapis.com",
        "ANCHORE_FEED_OSV_URL",
        "`<base>/ecosystems.txt` (the list), `<base>/<ECOSYSTEM>/all.zip` (OSV JSON records)",
        "MD5 of `x-goog-hash`",
    ),
    Published(
        "debian-tracker",
        "https://security-tracker.debian.org",
        "ANCHORE_FEED_DEBIAN_TRACKER_URL",
        "`<base>/tracker/data/json` (one JSON document)",
    ),
    Published(
        "alpine-secdb",
        "https://secdb.alpinelinux.org",
        "ANCHORE_FEED_ALPINE_SECDB_URL",
        "`<base>/` (an HTML index of `v3.x/`), `<base>/v3.x/main.json`, "
        "`<base>/v3.x/community.json` (optional)",
    ),
)


def published(feed: str) -> Published:
    """The row of a built-in feed."""
    return next(p for p in PUBLISHED if p.feed == feed)


def markdown_table() -> str:
    """The table as docs/vulns.md shows it."""
    lines = [
        "| feed | published at (base URL) | files | mirror variable | checksum |",
        "|---|---|---|---|---|",
    ]
    for p in PUBLISHED:
        lines.append(
            f"| `{p.feed}` | `{p.base_url}` | {p.layout} | `{p.mirror_env}` | {p.checksum or '—'} |"
        )
    return "\n".join(lines) + "\n"


def _text(fetch: Fetch, url: str) -> str:
    try:
        return fetch(url).decode("utf-8")
    except UnicodeDecodeError:
        raise FeedError(f"{url}: the index is not UTF-8 text", source=url) from None


def matched_osv_ecosystems() -> frozenset[str]:
    """The OSV ecosystems we match packages against: the language ecosystems' OSV
    names and the distros OSV publishes advisories for (``Debian``, ``Alpine``)."""
    names = {e.osv_ecosystem for e in ECOSYSTEMS if e.osv_ecosystem}
    names |= {d.osv_ecosystem for e in ECOSYSTEMS for d in e.distros}
    return frozenset(names)


#: an ecosystem OSV lists, as a safe path segment (``crates.io``, ``GitHub Actions``,
#: ``Rocky Linux``); ``Debian:12``-style sub-ecosystems are left out before
_ECOSYSTEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._+-]{0,63}")

#: OSV ecosystems whose distro publishes the feed we read instead (its name)
DISTRO_EXPORTS = {"Debian": "debian-tracker", "Alpine": "alpine-secdb"}


def osv_files(base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
    """One ``<ECOSYSTEM>/all.zip`` per top-level ecosystem ``ecosystems.txt`` lists.

    ``Debian:12``-style entries are left out (``Debian/all.zip`` holds their
    records). Those we match (:func:`matched_osv_ecosystems`) are the default,
    but for OSV's exports of the distros that publish feeds of their own
    (:data:`DISTRO_EXPORTS`: ``debian-tracker``, ``alpine-secdb`` are the source,
    OSV's Debian records are derived from the tracker); those and the others are
    fetched only when named (``osv:Debian``, ``osv:Hex``) or with ``osv:*``.
    """
    url = f"{base_url}/ecosystems.txt"
    listed = [line.strip() for line in _text(fetch, url).splitlines()]
    names = sorted({n for n in listed if n and ":" not in n})
    for name in names:  # it becomes a directory of our download folder: one safe segment
        if not _ECOSYSTEM.fullmatch(name) or ".." in name:
            raise FeedError(
                f"{url}: lists {name[:80]!r}, which is not an ecosystem name "
                "(letters, digits, spaces, '.', '_', '+', '-'); refusing the list",
                source=url,
            )
    if not names:
        raise FeedError(f"{url}: lists no ecosystem", source=url)
    matched = matched_osv_ecosystems()
    return [
        FeedFile(
            f"{base_url}/{_quote(name)}/all.zip",
            f"{name}/all.zip",
            default=name in matched and name not in DISTRO_EXPORTS,
            max_bytes=OSV_MAX_BYTES,
        )
        for name in names
    ]


def _quote(segment: str) -> str:
    """A path segment as a URL has it (``GitHub Actions`` is ``GitHub%20Actions``)."""
    return urllib.parse.quote(segment, safe="")


def debian_files(base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
    """The tracker's one JSON document."""
    return [
        FeedFile(f"{base_url}/tracker/data/json", "tracker/data/json", max_bytes=TRACKER_MAX_BYTES)
    ]


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


#: a release directory of the secdb index (``v3.18/``); ``edge/`` is left out: no
#: image's ``VERSION_ID`` names it as a release we match
_ALPINE_RELEASE = re.compile(r"^v\d{1,3}\.\d{1,3}/?$")
#: more releases than Alpine will ever have (about 30 in 2026): a bound on the files
_MAX_RELEASES = 200


def alpine_files(base_url: str, fetch: Fetch) -> Sequence[FeedFile]:
    """``main.json`` (required) and ``community.json`` (optional) of each release the
    index lists."""
    url = f"{base_url}/"
    parser = _Links()
    parser.feed(_text(fetch, url))
    releases = sorted(
        {link.rstrip("/") for link in parser.links if _ALPINE_RELEASE.match(link)},
        key=lambda r: tuple(int(p) for p in r[1:].split(".")),
    )
    if not releases:
        raise FeedError(f"{url}: the index lists no release directory (v3.x/)", source=url)
    if len(releases) > _MAX_RELEASES:
        raise FeedError(
            f"{url}: the index lists {len(releases)} releases, more than {_MAX_RELEASES}: "
            "not the secdb's index",
            source=url,
        )
    return [
        FeedFile(
            f"{base_url}/{release}/{repo}.json",
            f"{release}/{repo}.json",
            required=required,
            max_bytes=SECDB_MAX_BYTES,
        )
        for release in releases
        for repo, required in (("main", True), ("community", False))
    ]
