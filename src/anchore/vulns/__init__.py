"""Vulnerabilities: advisories (OSV and distro feeds) in an embedded SQLite store, and matching.

``load(store, path)`` reads a feed (OSV JSON/YAML/zip, the Debian security
tracker, Alpine's secdb, or a plugin's format) into the store;
``match(analysis, store)`` finds affected packages and says which packages it
could not check; ``suppress.apply`` applies ignore rules
(``suppress.load_ignore_rules``) and VEX documents. Every function that takes a
store takes a :class:`Store` or a path, and with none uses the default store
(:func:`default_path`). ``update(store)`` downloads the feeds from where they are
published (or a mirror) and loads what changed; ``status(store)`` says how old
each feed is.
"""

from anchore.vulns.errors import (
    EmptyFeedError,
    FeedDownloadError,
    FeedError,
    FeedNotFoundError,
    IgnoreFileNotFoundError,
    IgnoreRuleError,
    MalformedRecordError,
    StoreBusyError,
    StoreEmptyError,
    StoreError,
    StoreFormatError,
    StoreNotFoundError,
    UnknownFeedError,
    VexError,
    VexNotFoundError,
)
from anchore.vulns.feeds import read_alpine_secdb, read_debian_tracker
from anchore.vulns.load import load
from anchore.vulns.match import Match, MatchResult, PackageCheck, match
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.store import Store, default_path, open_store
from anchore.vulns.update import FeedStatus, FileUpdate, UpdateReport, UrlFeed, status, update

__all__ = [
    "Advisory",
    "EmptyFeedError",
    "FeedDownloadError",
    "FeedError",
    "FeedNotFoundError",
    "FeedStatus",
    "FileUpdate",
    "IgnoreFileNotFoundError",
    "IgnoreRuleError",
    "LoadReport",
    "MalformedRecordError",
    "Match",
    "MatchResult",
    "PackageCheck",
    "Store",
    "StoreBusyError",
    "StoreEmptyError",
    "StoreError",
    "StoreFormatError",
    "StoreNotFoundError",
    "UnknownFeedError",
    "UpdateReport",
    "UrlFeed",
    "VexError",
    "VexNotFoundError",
    "default_path",
    "load",
    "match",
    "open_store",
    "read_alpine_secdb",
    "read_debian_tracker",
    "read_osv",
    "status",
    "update",
]
