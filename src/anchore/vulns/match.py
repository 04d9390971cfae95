"""Matching packages to advisories: the right ecosystem, name and version order for each.

Language packages match through their ecosystem and their name normalised as
that ecosystem requires (PyPI names per PEP 503, Go module paths, Maven
``group:artifact``); ranges are evaluated with that ecosystem's version
order (:mod:`anchore.versions`), OSV's way: events in version order, each
``introduced`` opening and each ``fixed``/``last_affected`` closing.

Matching fails closed: :func:`match` returns a :class:`MatchResult` that says,
for every package, whether it was checked, and if not why (no feed for its
ecosystem or distro release was loaded, it has no ecosystem, its version
does not parse, or it is only declared by a lock file). Advisories the store
holds for an ecosystem no feed covers (single OSV records) are still matched,
but the package stays unchecked: they are not the whole story. A store with no
data at all is an error, never "0 vulnerabilities".
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

import attrs

from anchore import display
from anchore.analysis.engine import analyze
from anchore.analysis.model import Analysis, Distro, Location, Package
from anchore.ecosystems import DISTROS, Ecosystem, find
from anchore.plugins import Registry
from anchore.serialize import as_json, to_dict
from anchore.versions import VersionError, compare, semver
from anchore.versions.errors import shown
from anchore.versions.golang import normalize as go_semver
from anchore.vulns import html
from anchore.vulns.feeds import DISTRO_PREFIXES
from anchore.vulns.osv import Advisory, Affected
from anchore.vulns.severity import Severity, severity_of
from anchore.vulns.store import Store, StoreLike, ecosystem_key, using_store

if TYPE_CHECKING:
    from anchore.image import Image

__all__ = [
    "CHECKED",
    "CHECK_COLUMNS",
    "DECLARED",
    "MATCH_COLUMNS",
    "UNCHECKED",
    "Match",
    "MatchResult",
    "MatchedPackage",
    "PackageCheck",
    "affected_by",
    "analysis_of",
    "match",
    "package_coordinates",
]

#: PackageCheck.status values
CHECKED, UNCHECKED, DECLARED = "checked", "unchecked", "declared"


@attrs.frozen
class MatchedPackage:
    """The package of a match, as its JSON names it."""

    name: str
    type: str
    purl: str
    version: str


_IN_PACKAGE = as_json(omit=True)


@attrs.frozen
class Match:
    """One package affected by one advisory."""

    __json_keys__: ClassVar[tuple[str, ...]] = (
        "advisory_id", "aliases", "package", "ecosystem", "matched", "fixed_in", "score",
        "rating", "severities", "summary", "locations",
    )  # fmt: skip

    advisory_id: str
    aliases: tuple[str, ...]
    #: (the JSON writes these four as ``package``: see :attr:`package`)
    package_name: str = attrs.field(metadata=_IN_PACKAGE)
    package_type: str = attrs.field(metadata=_IN_PACKAGE)
    purl: str = attrs.field(metadata=_IN_PACKAGE)
    installed_version: str = attrs.field(metadata=_IN_PACKAGE)
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

    @property
    def package(self) -> MatchedPackage:
        return MatchedPackage(self.package_name, self.package_type, self.purl,
                              self.installed_version)  # fmt: skip

    def __repr__(self) -> str:
        # one line: the generated repr wrote the matched range and every severity
        fix = f"fixed in {display.short_repr(self.fixed_in, 30)}" if self.fixed_in else "no fix"
        name = display.short_repr(self.package_name, 60)
        version = display.short_repr(self.installed_version, 30)
        return (
            f"Match({display.short_repr(self.advisory_id, 40)}, {self.package_type} {name} "
            f"{version}, {self.rating}, {fix})"
        )

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


Coordinates = tuple[str, str, str, str]  # ecosystem, name, version scheme, version


def package_coordinates(pkg: Package, distro: Distro | None = None) -> Coordinates | None:
    """(OSV ecosystem, name as that ecosystem spells it, version scheme, version).

    Each fact comes from the package type's row in :mod:`anchore.ecosystems`.
    OS packages go through their source package and the distro release: a
    Debian 12 binary package ``libssl3`` is ``Debian:12`` ``openssl``; an Alpine
    package is its origin in ``Alpine:v3.18``. None when there is no answer
    (:func:`_no_coordinates` says why).
    """
    row = find(pkg.type)
    if row is None or row.version_scheme is None:
        return None
    if row.is_os:
        release = row.distro(distro.id) if distro is not None else None
        ecosystem = release.advisory_ecosystem(distro.version_id) if release and distro else None
        if ecosystem is None:
            return None
        version = pkg.source_version or pkg.version
        return ecosystem, pkg.source_name or pkg.name, row.version_scheme, version
    name = row.advisory_name(pkg.name, pkg.metadata)
    if row.osv_ecosystem is None or name is None:
        return None
    return row.osv_ecosystem, name, row.version_scheme, pkg.version


def _no_coordinates(pkg: Package, distro: Distro | None) -> str:
    """Why :func:`package_coordinates` has no answer for this package."""
    row = find(pkg.type)
    if row is None or (row.osv_ecosystem is None and not row.distros):
        return f"anchore has no advisory ecosystem for {pkg.type} packages"
    if row.version_scheme is None:
        return (
            f"anchore has no version order for {pkg.type} packages, so no "
            f"{row.osv_ecosystem} advisory can be matched"
        )
    if row.is_os:
        return _no_release(row, distro)
    label = row.namespace.label if row.namespace else "namespace"
    return (
        f"no {row.osv_ecosystem} {label} is known for this {pkg.type} package, so no "
        f"{row.osv_ecosystem} advisory can name it"
    )


def _no_release(row: Ecosystem, distro: Distro | None) -> str:
    """Why an OS package has no advisory ecosystem: no distro, another distro, no release."""
    names = " or ".join(d.osv_ecosystem for d in row.distros)
    if distro is None:
        return (
            f"no distro was identified, so no release to match {row.package_type} packages against"
        )
    if row.distro(distro.id) is None:
        return f"{row.package_type} packages are matched on {names} only, not {distro.id}"
    return f"the {names} release is unknown (no VERSION_ID in /etc/os-release)"


def _hint(ecosystem: str) -> str:
    """What to load for an advisory ecosystem: a distro release's feed, as its row's
    :class:`~anchore.ecosystems.DistroRelease` names it, else OSV's."""
    name, _, release = ecosystem.partition(":")
    distro = next((d for d in DISTROS if d.osv_ecosystem == name), None) if release else None
    if distro is not None:
        return distro.hint(release)
    return f"load an OSV feed for {ecosystem} (a zip or directory: OSV's {ecosystem}/all.zip)"


def _not_covered(ecosystem: str, named: bool) -> str:
    """Why a package of an ecosystem no loaded feed covers is unchecked."""
    if named:
        return (
            f"the store has no feed for {ecosystem}, only single advisory records naming it "
            "(matched, but they say nothing of other advisories); " + _hint(ecosystem)
        )
    return f"the store has no advisory data for {ecosystem}; " + _hint(ecosystem)


def _package_summary(p: Package) -> dict[str, str]:
    return {"name": p.name, "type": p.type, "version": p.version, "purl": p.purl}


@attrs.frozen
class PackageCheck:
    """Whether one package was matched against the store, and if not, why."""

    #: (its JSON gives the package's name, type, version and purl)
    package: Package = attrs.field(metadata=as_json(convert=_package_summary))
    #: the advisory ecosystem it is (or would be) matched in: ``PyPI``,
    #: ``Debian:12``; None when it has none (an unsupported type, no release)
    ecosystem: str | None
    #: ``checked``, ``unchecked`` (could not be matched) or ``declared`` (only a
    #: lock or requirements file names it; not matched unless asked)
    status: str
    #: why it was not checked; empty when it was
    reason: str = ""

    @property
    def group(self) -> str:
        """What counts are kept by: the ecosystem, else the package type."""
        return self.ecosystem or f"{self.package.type} (no ecosystem)"

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@attrs.frozen
class MatchResult(Sequence[Match]):
    """The matches (a sequence, as :func:`match` always returned) and what was checked.

    ``unchecked`` packages could not be matched: a clean result says nothing
    about them. ``declared`` packages were skipped because only a lock or
    requirements file names them (``include_declared=True`` matches them).
    """

    __json_keys__: ClassVar[tuple[str, ...]] = ("matches", "coverage", "unchecked", "declared")

    matches: tuple[Match, ...]
    #: every package considered, in analysis order, with its status (the JSON
    #: lists the unchecked and declared ones, and counts all)
    packages: tuple[PackageCheck, ...] = attrs.field(metadata=as_json(omit=True))

    @overload
    def __getitem__(self, index: int) -> Match: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Match]: ...
    def __getitem__(self, index: int | slice) -> Match | Sequence[Match]:
        return self.matches[index]

    def __len__(self) -> int:
        return len(self.matches)

    def __iter__(self) -> Iterator[Match]:
        return iter(self.matches)

    def _with(self, status: str) -> tuple[PackageCheck, ...]:
        return tuple(c for c in self.packages if c.status == status)

    @property
    def checked(self) -> tuple[PackageCheck, ...]:
        return self._with(CHECKED)

    @property
    def unchecked(self) -> tuple[PackageCheck, ...]:
        return self._with(UNCHECKED)

    @property
    def declared(self) -> tuple[PackageCheck, ...]:
        return self._with(DECLARED)

    def counts(self, status: str) -> dict[str, int]:
        """Packages of one status by ecosystem (or type), largest first."""
        found: dict[str, int] = {}
        for c in self._with(status):
            found[c.group] = found.get(c.group, 0) + 1
        return dict(sorted(found.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def coverage(self) -> dict[str, dict[str, int]]:
        """:meth:`counts` of every status."""
        return {s: self.counts(s) for s in (CHECKED, UNCHECKED, DECLARED)}

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def __repr__(self) -> str:
        ratings: dict[str, int] = {}
        for m in self.matches:
            ratings[m.rating] = ratings.get(m.rating, 0) + 1
        worst = sorted(ratings.items(), key=lambda kv: html.severity_key(kv[0]))[:4]
        by = ", ".join(f"{n} {r[:12]}" for r, n in worst)
        return (
            f"<MatchResult {len(self.matches):,} matches" + (f" ({by})" if by else "")
            + f"; packages: {len(self.checked):,} checked, {len(self.unchecked):,} unchecked, "
            f"{len(self.declared):,} declared>"
        )  # fmt: skip

    def _repr_html_(self) -> str:
        return display.fragment(html.matches(self))

    def to_records(self, kind: str = "matches") -> list[dict[str, Any]]:
        """Flat rows: ``matches`` (one per match, :data:`MATCH_COLUMNS`) or ``packages``
        (every package considered and whether it was checked, :data:`CHECK_COLUMNS`)."""
        if kind == "matches":
            return [_match_record(m) for m in self.matches]
        if kind == "packages":
            return [_check_record(c) for c in self.packages]
        raise ValueError(f"to_records: kind is 'matches' or 'packages', not {kind!r}")

    def to_dataframe(self, kind: str = "matches") -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (``pip install 'anchore[pandas]'``)."""
        columns = MATCH_COLUMNS if kind == "matches" else CHECK_COLUMNS
        return display.dataframe(self.to_records(kind), columns)


#: the columns of ``MatchResult.to_records("matches")``, in order (stable: new columns
#: go at the end)
MATCH_COLUMNS = (
    "advisory_id", "aliases", "severity", "score", "package", "type", "version", "fixed_in",
    "layer", "path", "purl", "ecosystem", "summary",
)  # fmt: skip
#: the columns of ``MatchResult.to_records("packages")``, in order
CHECK_COLUMNS = ("type", "name", "version", "purl", "ecosystem", "status", "reason")


def _match_record(m: Match) -> dict[str, Any]:
    where = m.locations[0] if m.locations else None
    return {
        "advisory_id": m.advisory_id, "aliases": ", ".join(m.aliases), "severity": m.rating,
        "score": m.score, "package": m.package_name, "type": m.package_type,
        "version": m.installed_version, "fixed_in": m.fixed_in,
        "layer": where.layer_index if where else None, "path": where.path if where else None,
        "purl": m.purl, "ecosystem": m.ecosystem, "summary": m.summary,
    }  # fmt: skip


def _check_record(c: PackageCheck) -> dict[str, Any]:
    p = c.package
    return {"type": p.type, "name": p.name, "version": p.version, "purl": p.purl,
            "ecosystem": c.ecosystem, "status": c.status, "reason": c.reason}  # fmt: skip


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


def as_written(fix: str | None, installed: str, ecosystem: str) -> str | None:
    """A fixed version spelt as the package's ecosystem writes it: Go's OSV ranges drop
    the ``v`` (``1.2.4``) that go.mod writes (``v1.2.4``) and the toolchain's ``go``
    (``go1.21.5``); the installed version's prefix is put back. Other ecosystems' fixes
    are already written their way."""
    if fix is None or ecosystem != "Go":
        return fix
    for prefix in ("go", "v"):
        if installed.startswith(prefix) and not fix.startswith(prefix):
            return prefix + fix
    return fix


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


def analysis_of(
    thing: Analysis | Image | str | os.PathLike[str], registry: Registry | None = None
) -> Analysis:
    """An :class:`Analysis` as is; an :class:`Image` or an image path analyzed with every
    analyzer of ``registry`` (None: the default registry)."""
    return thing if isinstance(thing, Analysis) else analyze(thing, registry=registry)


def match(
    analysis: Analysis | Image | str | os.PathLike[str],
    store: StoreLike | None = None,
    *,
    packages: Iterable[Package] | None = None,
    include_declared: bool = False,
    registry: Registry | None = None,
) -> MatchResult:
    """Every (package, advisory) pair where the package's version is affected, and what was checked.

    ``analysis`` may be an :class:`Image` or an image path (it is analyzed with the
    analyzers of ``registry``, None for the default registry);
    ``store`` a :class:`Store`, a path, or None for the default store
    (:func:`anchore.vulns.store.default_path`). A missing store is a
    :class:`StoreNotFoundError` and one with no data a :class:`StoreEmptyError`.
    Packages only a lock or requirements file declares are skipped (and listed
    as declared) unless ``include_declared``. An advisory reached again through
    one of its aliases is not reported twice.
    """
    analysis = analysis_of(analysis, registry)
    with using_store(store) as opened:
        opened.require_data()
        return _match(analysis, opened, packages, include_declared)


_DECLARED = (
    "only a lock or requirements file names it (not installed); "
    "include declared packages to match it"
)


def _match(
    analysis: Analysis,
    store: Store,
    packages: Iterable[Package] | None,
    include_declared: bool,
) -> MatchResult:
    covered = store.ecosystems()
    named = set(store.advisory_counts())
    found: list[Match] = []
    checks: list[PackageCheck] = []
    for pkg in packages if packages is not None else analysis.packages:
        coords = package_coordinates(pkg, analysis.distro)
        if pkg.declared and not include_declared:
            checks.append(PackageCheck(pkg, coords[0] if coords else None, DECLARED, _DECLARED))
            continue
        if coords is None:
            checks.append(PackageCheck(pkg, None, UNCHECKED, _no_coordinates(pkg, analysis.distro)))
            continue
        ecosystem, name, scheme, version = coords
        try:
            _compare_for("ECOSYSTEM", scheme)(version, version)
        except VersionError as exc:
            why = f"its version {shown(version)} does not parse: {exc}"
            checks.append(PackageCheck(pkg, ecosystem, UNCHECKED, why))
            continue
        key = ecosystem_key(ecosystem)
        unreadable: list[str] = []
        if key in named:  # what the store has is matched, covered or not
            found.extend(_advisories_for(pkg, ecosystem, name, scheme, version, store, unreadable))
        if unreadable:  # some advisory's ranges could not be applied to this version
            why = f"its version {shown(version)} cannot be ordered by {unreadable[0]}"
            checks.append(PackageCheck(pkg, ecosystem, UNCHECKED, why))
        elif key in covered:
            checks.append(PackageCheck(pkg, ecosystem, CHECKED))
        else:  # a clean answer would mean nothing: no whole feed for its ecosystem
            checks.append(
                PackageCheck(pkg, ecosystem, UNCHECKED, _not_covered(ecosystem, key in named))
            )
    return MatchResult(tuple(found), tuple(checks))


def _installed_unreadable(affected: Affected, version: str, scheme: str) -> str | None:
    """Why ``version`` itself cannot be ordered by one of ``affected``'s ranges (a SEMVER
    range of an ecosystem whose versions are not all semver), or None."""
    for r in affected.ranges:
        range_type = str(r.get("type"))
        if range_type in ("SEMVER", "ECOSYSTEM"):
            try:
                _compare_for(range_type, scheme)(version, version)
            except VersionError as exc:
                return f"{range_type} ranges ({exc})"
    return None


def _distro_feeds_first(advisories: list[Advisory]) -> list[Advisory]:
    """The distros' own feeds' advisories before others' (osv.dev's ``DEBIAN-CVE-…``
    is derived from the tracker): of one CVE, the distro's record is the one reported."""
    return sorted(advisories, key=lambda a: not a.id.startswith(DISTRO_PREFIXES))


def _upstream(advisory: Advisory) -> list[str]:
    """OSV's ``upstream`` ids: osv.dev's distro records name their CVE there, not in
    ``aliases``."""
    upstream = advisory.raw.get("upstream")
    return [u for u in upstream if isinstance(u, str)] if isinstance(upstream, list) else []


def _advisories_for(
    pkg: Package,
    ecosystem: str,
    name: str,
    scheme: str,
    version: str,
    store: Store,
    unreadable: list[str],
) -> Iterator[Match]:
    """The matches of one package; an advisory whose ranges cannot order the installed
    version adds why to ``unreadable`` (the package is then unchecked, not clean)."""
    seen_ids: set[str] = set()
    for advisory in _distro_feeds_first(store.for_package(ecosystem, name)):
        if advisory.withdrawn:
            continue
        # a CVE osv.dev names only as ``upstream`` is still one an ignore rule can name
        aliases = (
            *advisory.aliases,
            *(u for u in _upstream(advisory) if u not in advisory.aliases),
        )
        names = {advisory.id, *aliases}
        if names & seen_ids:
            continue  # the same vulnerability, reached through another alias
        for affected in advisory.affected:
            if affected.name != name or affected.ecosystem.lower() != ecosystem.lower():
                continue
            try:
                hit = affected_by(affected, version, scheme)
            except VersionError:
                why = _installed_unreadable(affected, version, scheme)
                if why is not None:
                    unreadable.append(f"advisory {advisory.id}'s {why}")
                continue  # otherwise the advisory's own range is unreadable: not a match
            if hit is None:
                continue
            matched, fixed = hit
            yield Match(
                advisory_id=advisory.id, aliases=aliases, package_name=pkg.name,
                package_type=pkg.type, purl=pkg.purl, installed_version=version,
                ecosystem=ecosystem, matched=matched,
                fixed_in=as_written(fixed, version, ecosystem),
                severities=severity_of(advisory.severity, distro_rating=_distro_rating(affected)),
                summary=advisory.summary,
                locations=pkg.locations,
            )  # fmt: skip
            seen_ids |= names
            break
