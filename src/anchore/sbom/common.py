"""What every SBOM format shares: our tool's identity, the package type of an imported
component, and the analysis an imported SBOM becomes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from packageurl import PackageURL

from anchore import ecosystems
from anchore.analysis.model import Package

__all__ = [
    "TOOL_NAME",
    "TOOL_VENDOR",
    "analyzers_for",
    "package_type_of",
    "tool_version",
]

TOOL_NAME = "anchore"
TOOL_VENDOR = "anchore developers"


def tool_version() -> str:
    """Our version, as SBOMs name their producing tool."""
    from anchore import __version__  # the root package: read when writing, not at import

    return __version__


def package_type_of(purl: str, stated: str | None = None) -> str:
    """The ``Package.type`` of an imported component: the type the SBOM states (ours, or
    syft's, which are the same names), else the ecosystem row of its purl's type, else
    the purl type itself (a plugin's ``pkg:conan/...`` stays ``conan``)."""
    if stated:
        return stated
    try:
        purl_type = PackageURL.from_string(purl).type
    except ValueError:
        return "unknown"
    row = ecosystems.find_purl_type(purl_type)
    return row.package_type if row is not None else purl_type


def analyzers_for(packages: Sequence[Package], stated: Iterable[str] = ()) -> tuple[str, ...]:
    """The analyzers an imported SBOM stands for: those it names (an SBOM we wrote records
    them), else the built-in analyzers of the package types it lists. An SBOM is no
    evidence of anything else (secrets, setuid files): policy rules on those are then
    unchecked, not passed."""
    named = tuple(dict.fromkeys(stated))
    if named:
        return named
    found: dict[str, None] = {}
    for pkg in packages:
        row = ecosystems.find(pkg.type)
        if row is not None:
            found.update(dict.fromkeys(row.analyzers))
    return tuple(found)
