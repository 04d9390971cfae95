"""Loading feeds into the store, with the feed format told from the data.

Feed readers are plugins (``anchore_vulnerability_feeds``); ours are the OSV,
Debian tracker and Alpine secdb readers. A reader has ``name``,
``detect(path) -> bool`` and ``read(path, report) -> Iterable[Advisory]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from anchore.errors import AnchoreError
from anchore.vulns.feeds import read_alpine_secdb, read_debian_tracker
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.store import Store

__all__ = ["AlpineSecdbFeed", "DebianTrackerFeed", "FeedError", "OsvFeed", "load", "readers"]


class FeedError(AnchoreError):
    """No reader recognises the data, or the named reader does not exist."""


def _head(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(4096)


class OsvFeed:
    name = "osv"

    def detect(self, path: str) -> bool:
        if os.path.isdir(path) or path.endswith(".zip"):
            return True
        return path.endswith((".yaml", ".yml")) or b'"modified"' in _head(path)

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_osv(path, report)


class DebianTrackerFeed:
    name = "debian-tracker"

    def detect(self, path: str) -> bool:
        if not os.path.isfile(path) or not path.endswith(".json"):
            return False
        head = _head(path)
        return b'"releases"' in head and b'"modified"' not in head

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_debian_tracker(path, report)


class AlpineSecdbFeed:
    name = "alpine-secdb"

    def detect(self, path: str) -> bool:
        if os.path.isdir(path):
            return any(n.startswith("v3.") for n in os.listdir(path))
        return b"distroversion" in _head(path) and b"secfixes" in _head(path)

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]:
        return read_alpine_secdb(path, report)


def readers() -> list[Any]:
    """Every registered feed reader (plugins included), ours first."""
    from anchore.plugins.manager import plugin_manager

    found: list[Any] = []
    for batch in reversed(plugin_manager().hook.anchore_vulnerability_feeds()):
        found.extend(batch or [])
    return found


def load(store: Store, path: str | os.PathLike[str], *, feed: str | None = None) -> LoadReport:
    """Load a feed (a file, a directory or a zip) into ``store``; the format is detected.

    Distro feeds are tried before OSV: an OSV directory would also accept them.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FeedError(f"{path}: no such file or directory")
    available = readers()
    if feed is not None:
        chosen = next((r for r in available if r.name == feed), None)
        if chosen is None:
            raise FeedError(f"no feed reader named {feed!r}; have: {[r.name for r in available]}")
    else:
        ordered = sorted(available, key=lambda r: r.name == "osv")
        chosen = next((r for r in ordered if r.detect(path)), None)
        if chosen is None:
            raise FeedError(f"{path}: no feed reader recognises it")
    report = LoadReport()
    store.load(chosen.read(path, report), chosen.name, report)
    return report
