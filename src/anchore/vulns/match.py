"""Matching packages to advisories: the right ecosystem, name and version order for each.

Language packages match through their ecosystem and their name normalised as
that ecosystem requires (PyPI names per PEP 503, Go module paths, Maven
``group:artifact``); ranges are evaluated with that ecosystem's version
order (:mod:`anchore.versions`), OSV's way: events in version order, each
``introduced`` opening and each ``fixed``/``last_affected`` closing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs

from anchore.analysis.model import Analysis, Distro, Location, Package
from anchore.analyzers.common import normalize_python_name
from anchore.versions import VersionError, compare, semver
from anchore.versions.golang import normalize as go_semver
from anchore.vulns.osv import Affected
from anchore.vulns.severity import Severity, severity_of
from anchore.vulns.store import Store

__all__ = ["Match", "affected_by", "match", "package_coordinates"]


@attrs.frozen
class Match:
    """One package affected by one advisory."""

    advisory_id: str
    aliases: tuple[str, ...]
    package_name: str
    package_type: str
    purl: str
    installed_version: str
    ecosystem: str
    #: the OSV range (or listed version) that contains the installed version
    matched: dict[str, Any]
    #: the nearest fixed version above the installed one, if any
    fixed_in: str | None
    #: every severity the advisory gives, the highest CVSS score first
    severities: tuple[Severity, ...]
    summary: str
    locations: tuple[Location, ...]

    @property
    def score(self) -> float | None:
        """The highest CVSS base score, if the advisory has one."""
        return next((s.score for s in self.severities if s.score is not None), None)

    @property
    def rating(self) -> str:
        """critical/high/medium/low from the best CVSS score, else the distro's word."""
        return self.severities[0].rating if self.severities else "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "advisory_id": self.advisory_id,
            "aliases": list(self.aliases),
            "package": {
                "name": self.package_name,
                "type": self.package_type,
                "purl": self.purl,
                "version": self.installed_version,
            },
            "ecosystem": self.ecosystem,
            "matched": self.matched,
            "fixed_in": self.fixed_in,
            "score": self.score,
            "rating": self.rating,
            "severities": [s.to_dict() for s in self.severities],
            "summary": self.summary,
            "locations": [loc.to_dict() for loc in self.locations],
        }


Coordinates = tuple[str, str, str, str]  # ecosystem, name, version scheme, version


def package_coordinates(pkg: Package, distro: Distro | None = None) -> Coordinates | None:
    """(OSV ecosystem, name as that ecosystem spells it, version scheme, version).

    OS packages go through their source package and the distro release: a
    Debian 12 binary package ``libssl3`` is ``Debian:12`` ``openssl``; an Alpine
    package is its origin in ``Alpine:v3.18``.
    """
    if pkg.type == "deb" and distro is not None and distro.id == "debian" and distro.version_id:
        release = distro.version_id.split(".")[0]
        version = pkg.source_version or pkg.version
        return f"Debian:{release}", pkg.source_name or pkg.name, "dpkg", version
    if pkg.type == "apk" and distro is not None and distro.id == "alpine" and distro.version_id:
        release = "v" + ".".join(distro.version_id.split(".")[:2])
        return f"Alpine:{release}", pkg.source_name or pkg.name, "apk", pkg.version
    if pkg.type == "python":
        return "PyPI", normalize_python_name(pkg.name), "pypi", pkg.version
    if pkg.type == "go-module":
        return "Go", pkg.name, "go", pkg.version
    if pkg.type == "npm":
        return "npm", pkg.name, "semver", pkg.version
    if pkg.type == "gem":
        return "RubyGems", pkg.name, "gem", pkg.version
    if pkg.type == "java-archive":
        group = pkg.metadata.get("group_id")
        return ("Maven", f"{group}:{pkg.name}", "maven", pkg.version) if group else None
    if pkg.type == "rust-crate":
        return "crates.io", pkg.name, "semver", pkg.version
    return None


def _to_semver(version: str) -> str:
    """OSV SEMVER ranges hold plain semver ('1.24.0-0'); installed Go versions are
    'v1.2.3', 'v1.2.3+incompatible' or 'go1.21' and become '1.2.3', '1.21.0'."""
    try:
        semver.parse(version)
        return version
    except VersionError:
        return go_semver(version)


def _compare_for(range_type: str, scheme: str) -> Callable[[str, str], int]:
    if range_type == "SEMVER":
        return lambda a, b: semver.compare(_to_semver(a), _to_semver(b))
    return lambda a, b: compare(scheme, a, b)


def _range_contains(
    version: str, events: Sequence[dict[str, str]], cmp: Callable[[str, str], int]
) -> bool:
    def key(event: dict[str, str]) -> tuple[int, str]:
        ((kind, value),) = event.items()
        return (0, "") if kind == "introduced" and value == "0" else (1, str(value))

    def order(x: dict[str, str], y: dict[str, str]) -> int:
        kx, ky = key(x), key(y)
        if kx[0] != ky[0]:
            return kx[0] - ky[0]
        return cmp(kx[1], ky[1]) if kx[0] else 0

    affected = False
    for event in sorted(events, key=functools.cmp_to_key(order)):
        ((kind, value),) = event.items()
        if kind == "introduced":
            if value == "0" or cmp(version, value) >= 0:
                affected = True
        elif kind == "fixed":
            if cmp(version, value) >= 0:
                affected = False
        elif kind == "last_affected":
            if cmp(version, value) > 0:
                affected = False
        elif kind == "limit" and cmp(version, value) >= 0:
            affected = False
    return affected


def affected_by(
    affected: Affected, version: str, scheme: str
) -> tuple[dict[str, Any], str | None] | None:
    """(the matching range, the nearest fix above ``version``) or None."""
    for r in affected.ranges:
        if r.get("type") not in ("SEMVER", "ECOSYSTEM"):
            continue  # GIT ranges need commit history, not versions
        cmp = _compare_for(str(r.get("type")), scheme)
        if _range_contains(version, r["events"], cmp):
            fixes = [v for e in r["events"] for k, v in e.items() if k == "fixed"]
            above = [f for f in fixes if cmp(f, version) > 0]
            nearest = min(above, key=functools.cmp_to_key(cmp)) if above else None
            return dict(r), nearest
    if version in affected.versions:
        return {"type": "VERSIONS", "versions": list(affected.versions)}, None
    return None


def _distro_rating(affected: Affected) -> str | None:
    specific = affected.raw.get("ecosystem_specific") or {}
    database = affected.raw.get("database_specific") or {}
    value = specific.get("urgency") or specific.get("severity") or database.get("severity")
    return str(value) if value else None


def match(
    analysis: Analysis, store: Store, *, packages: Iterable[Package] | None = None
) -> list[Match]:
    """Every (package, advisory) pair where the package's version is affected.

    An advisory reached again through one of its aliases is not reported twice.
    """
    found: list[Match] = []
    for pkg in packages if packages is not None else analysis.packages:
        coords = package_coordinates(pkg, analysis.distro)
        if coords is None:
            continue
        ecosystem, name, scheme, version = coords
        seen_ids: set[str] = set()
        for advisory in store.for_package(ecosystem, name):
            if advisory.withdrawn:
                continue
            names = {advisory.id, *advisory.aliases}
            if names & seen_ids:
                continue  # the same vulnerability, reached through another alias
            for affected in advisory.affected:
                if affected.name != name or affected.ecosystem.lower() != ecosystem.lower():
                    continue
                try:
                    hit = affected_by(affected, version, scheme)
                except VersionError:
                    continue  # a range this ecosystem's order cannot read: not a match
                if hit is None:
                    continue
                matched, fixed = hit
                found.append(
                    Match(
                        advisory_id=advisory.id, aliases=advisory.aliases, package_name=pkg.name,
                        package_type=pkg.type, purl=pkg.purl, installed_version=version,
                        ecosystem=ecosystem, matched=matched, fixed_in=fixed,
                        severities=severity_of(advisory.severity,
                                               distro_rating=_distro_rating(affected)),
                        summary=advisory.summary,
                        locations=pkg.locations,
                    )
                )  # fmt: skip
                seen_ids |= names
                break
    return found
