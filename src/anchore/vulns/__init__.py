"""Vulnerabilities: advisories (OSV and distro feeds) in an embedded SQLite store, and matching.

``load(store, path)`` reads a feed (OSV JSON/YAML/zip, the Debian security
tracker, Alpine's secdb, or a plugin's format) into the store;
``match(analysis, store)`` finds affected packages; ``suppress.apply`` applies
ignore rules and VEX documents.
"""

from anchore.vulns.feeds import read_alpine_secdb, read_debian_tracker
from anchore.vulns.load import load
from anchore.vulns.match import Match, match
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.store import Store

__all__ = [
    "Advisory",
    "LoadReport",
    "Match",
    "Store",
    "load",
    "match",
    "read_alpine_secdb",
    "read_debian_tracker",
    "read_osv",
]
