"""Vulnerabilities: advisories (OSV and distro feeds) in an embedded SQLite store, and matching.

Work in progress (issue 4): the OSV reader, the store and matching of
language packages are here; distro feeds, CVSS scoring, ignore rules and VEX
come next.
"""

from anchore.vulns.match import Match, match
from anchore.vulns.osv import Advisory, LoadReport, read_osv
from anchore.vulns.store import Store

__all__ = ["Advisory", "LoadReport", "Match", "Store", "match", "read_osv"]
