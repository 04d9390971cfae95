"""From what the analyzers yielded to the analysis' packages and relationships.

Results are sorted by kind and stamped with their analyzer (:class:`Found`);
packages with the same identity become one (:func:`merge`); a malformed purl
is dropped and said (:func:`with_valid_purl`); lock files an OS package
installed declare nothing (:func:`without_os_owned_declarations`); an OS
package owns the evidence files it installed (:func:`ownership`).
"""

from __future__ import annotations

from collections.abc import Iterable

import attrs

from anchore.analysis.analyzer import Result
from anchore.analysis.model import (
    AnalyzerError,
    Dataset,
    Distro,
    Finding,
    Location,
    Package,
    Relationship,
)
from anchore.ecosystems import OS_PACKAGE_TYPES
from anchore.purls import package_purl_problems

__all__ = [
    "Found",
    "malformed",
    "merge",
    "ownership",
    "usrmerge",
    "with_valid_purl",
    "without_os_owned_declarations",
]


@attrs.define
class Found:
    """What the analyzers yielded, sorted by kind; each item stamped with its analyzer."""

    packages: list[Package] = attrs.Factory(list)
    findings: list[Finding] = attrs.Factory(list)
    distros: list[Distro] = attrs.Factory(list)
    datasets: dict[str, Dataset] = attrs.Factory(dict)
    errors: list[AnalyzerError] = attrs.Factory(list)

    def add(self, name: str, items: Iterable[Result]) -> None:
        for item in items:
            wrong = malformed(item)
            if wrong is not None:  # sorting, merging or serializing it would fail later
                path = _first_path(item)
                where = f"{path}: " if path else ""
                kind = type(item).__name__.lower()
                self.errors.append(AnalyzerError(name, f"{where}{kind} dropped: {wrong}", path))
                continue
            if isinstance(item, Package):
                item = item if item.found_by else attrs.evolve(item, found_by=name)
                self.packages.append(with_valid_purl(item, self.errors))
            elif isinstance(item, Finding):
                self.findings.append(item if item.found_by else attrs.evolve(item, found_by=name))
            elif isinstance(item, Distro):
                self.distros.append(item)
            elif isinstance(item, Dataset):
                self.datasets[item.name] = item
            elif isinstance(item, AnalyzerError):
                self.errors.append(item)
            else:
                kind = type(item).__name__
                self.errors.append(AnalyzerError(name, f"yielded {kind}, not a result"))


_TEXT_FIELDS = {
    Package: ("type", "name", "version", "purl"),
    Finding: ("kind", "rule", "message"),
    Dataset: ("name",),
    AnalyzerError: ("analyzer", "message"),
}


def malformed(item: object) -> str | None:
    """What is wrong with a result whose fields are not of the types the model says
    (a name read from an image's JSON as a number, a list of files holding a list):
    checked once here, so no later sort, merge or ``to_dict`` meets it."""
    fields = _TEXT_FIELDS.get(type(item))
    if fields is None:
        return None
    for field in fields:
        value = getattr(item, field)
        if not isinstance(value, str):
            return f"its {field} is {type(value).__name__} {_cut(value)}, not text"
    if isinstance(item, (Package, Finding)) and not all(
        isinstance(loc, Location) for loc in item.locations
    ):
        return "its locations are not Location values"
    if isinstance(item, Package):
        for field in ("licenses", "files", "cpes"):
            if not all(isinstance(x, str) for x in getattr(item, field)):
                return f"its {field} are not all text"
    return None


def _cut(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _first_path(item: object) -> str | None:
    locations = getattr(item, "locations", ())
    first = locations[0] if locations else None
    path = getattr(first, "path", None) if first is not None else getattr(item, "path", None)
    return path if isinstance(path, str) else None


def with_valid_purl(pkg: Package, errors: list[AnalyzerError]) -> Package:
    """No analyzer, ours or a plugin's, gets a malformed purl past this point: a package
    whose purl does not parse, round-trip or name it is kept, without a purl, and the
    problem is reported (an invalid identity matches no advisory, silently)."""
    problems = package_purl_problems(pkg, known_types_only=False)
    if not problems:
        return pkg
    why = f"invalid purl {pkg.purl!r}: {'; '.join(problems)}"
    path = pkg.locations[0].path if pkg.locations else None
    errors.append(AnalyzerError(pkg.found_by, f"{pkg.type} {pkg.name} {pkg.version}: {why}", path))
    return attrs.evolve(pkg, purl="", metadata={**pkg.metadata, "purl_missing": why})


def merge(packages: list[Package]) -> list[Package]:
    """One package per identity; the evidence of duplicates becomes extra locations."""
    merged: dict[tuple[str, str, str, str], Package] = {}
    for pkg in packages:
        key = (pkg.type, pkg.name, pkg.version, pkg.purl)
        seen = merged.get(key)
        if seen is None or (seen.declared and not pkg.declared):
            merged[key] = pkg  # installed evidence beats a lock file's declaration
            continue
        if pkg.declared and not seen.declared:
            continue
        locations = tuple(
            sorted(
                set(seen.locations) | set(pkg.locations),
                key=lambda loc: (loc.layer_index, loc.path),
            )
        )
        licenses = tuple(dict.fromkeys(seen.licenses + pkg.licenses))
        files = tuple(dict.fromkeys(seen.files + pkg.files))
        merged[key] = attrs.evolve(seen, locations=locations, licenses=licenses, files=files)
    return sorted(merged.values(), key=lambda p: (p.type, p.name, p.version, p.purl))


def without_os_owned_declarations(packages: list[Package]) -> list[Package]:
    """What a lock file that an OS package installed declares is not the image's: such a
    lock describes that package's development. Its locations are dropped from declared
    packages, and a declared package left with none is dropped."""
    owned = {
        path
        for pkg in packages
        if pkg.type in OS_PACKAGE_TYPES
        for listed in pkg.files
        for path in (listed, usrmerge(listed))
    }
    kept = []
    for pkg in packages:
        if pkg.declared and any(loc.path in owned for loc in pkg.locations):
            locations = tuple(loc for loc in pkg.locations if loc.path not in owned)
            if not locations:
                continue
            metadata = dict(pkg.metadata)
            if metadata.get("lock") in owned:
                metadata["lock"] = locations[0].path
            pkg = attrs.evolve(pkg, locations=locations, metadata=metadata)
        kept.append(pkg)
    return kept


def ownership(packages: list[Package]) -> list[Relationship]:
    """An OS package that installed another package's evidence file owns it."""
    owner_of: dict[str, str] = {}
    for pkg in packages:
        if pkg.type in OS_PACKAGE_TYPES:
            for path in pkg.files:
                owner_of.setdefault(path, pkg.purl)
    found = []
    for pkg in packages:
        if pkg.type in OS_PACKAGE_TYPES or not pkg.purl:  # no identity to relate (purl_missing)
            continue
        for loc in pkg.locations:
            parent = owner_of.get(loc.path) or owner_of.get(usrmerge(loc.path))
            if parent:
                found.append(Relationship(parent, pkg.purl))
                break
    return found


def usrmerge(path: str) -> str:
    """dpkg lists /bin/x where merged-/usr images keep /usr/bin/x, and the other way round."""
    if path.startswith("/usr/"):
        return path[4:]
    return "/usr" + path
