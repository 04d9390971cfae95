"""Vulnerabilities: advisories (OSV and distro feeds) in an embedded SQLite store, and matching.

Work in progress (issue 4): the OSV reader, the Debian tracker and Alpine
secdb readers, the store and matching are here; CVSS scoring, ignore rules
and VEX come next.
"""

from anchore.vulns.feeds import read_alpine_secdb, read_debian_tracker
from anchore.vulns.match import Match, match
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.store import Store

__all__ = [
    "Advisory",
    "LoadReport",
    "Match",
    "Store",
    "match",
    "read_alpine_secdb",
    "read_debian_tracker",
    "read_osv",
]
