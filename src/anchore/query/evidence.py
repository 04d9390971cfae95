"""The evidence checks every query makes before it answers: the analyzer whose findings
it reads ran and did not fail, the packages it asks about were looked for, the analysis
has a file inventory and an image config.

A query that skipped them would answer "nothing" for "never looked": an image whose
python analyzer failed would "carry no python packages". Each check raises
:class:`UnanswerableQueryError` (or :class:`QueryParamError` for a package type that
does not exist) naming the query and the image.
"""

from __future__ import annotations

from collections.abc import Iterable

from anchore import ecosystems
from anchore.analysis.model import Analysis
from anchore.documents import did_you_mean
from anchore.image.model import ContainerConfig
from anchore.query.errors import QueryParamError, UnanswerableQueryError

__all__ = [
    "FILE_OWNING_TYPES",
    "OS_ANALYZERS",
    "PACKAGE_ANALYZERS",
    "describe",
    "require",
    "require_config",
    "require_files",
    "require_owners",
    "require_package_evidence",
    "require_package_type",
    "require_packages",
]

#: the built-in analyzers that report each ecosystem's packages
PACKAGE_ANALYZERS: frozenset[str] = frozenset(
    a for row in ecosystems.ECOSYSTEMS for a in row.analyzers
)
#: the OS package analyzers (dpkg, rpm, apk)
OS_ANALYZERS: frozenset[str] = frozenset(
    a for row in ecosystems.ECOSYSTEMS if row.is_os for a in row.analyzers
)

#: the package types whose analyzers list the files their packages own (Package.files:
#: dpkg's .list files, rpm's and apk's databases, python's dist-info RECORD)
FILE_OWNING_TYPES: tuple[str, ...] = ("deb", "rpm", "apk", "python")


def describe(analysis: Analysis) -> str:
    """The analysis in a message: the image it was read from, else its origin."""
    return analysis.image.source or analysis.origin


def require(analysis: Analysis, analyzer: str, query: str) -> None:
    """The query reads what ``analyzer`` finds: it must have run, and not failed."""
    if analyzer in analysis.failed_analyzers:
        raise UnanswerableQueryError(
            f"query {query!r}: the {analyzer} analyzer failed on this image "
            f"({describe(analysis)}): its evidence is missing"
        )
    if analyzer not in analysis.analyzers:
        raise UnanswerableQueryError(
            f"query {query!r}: the {analyzer} analyzer did not run on "
            f"{describe(analysis)} (it ran: "
            f"{', '.join(analysis.analyzers) or 'none'}): its evidence was never looked for"
        )


def require_package_type(type: str, query: str, analysis: Analysis | None = None) -> None:
    """``type`` names an ecosystem (or a type the analysis's packages carry, from a
    plugin): else a :class:`QueryParamError` listing the valid types."""
    if ecosystems.find(type) is not None:
        return
    present = {p.type for p in analysis.packages} if analysis is not None else set()
    if type in present:
        return
    known = sorted({*ecosystems.PACKAGE_TYPES, *present})
    raise QueryParamError(
        f"query {query!r}: no package type {type!r}{did_you_mean(type, known)}; "
        f"the types: {', '.join(known)}"
    )


def require_packages(analysis: Analysis, type: str | None, query: str) -> None:
    """The packages asked about were looked for. With a type: it exists, one of its
    ecosystem's analyzers ran and none failed. Without (all packages): for every
    ecosystem, one of its built-in analyzers ran and none failed; an analysis lacking
    one ecosystem's evidence cannot say which packages the image carries."""
    if type is not None:
        require_package_type(type, query, analysis)
    require_package_evidence(
        describe(analysis), analysis.analyzers, analysis.failed_analyzers, type, query
    )


def require_package_evidence(
    image: str,
    analyzers: Iterable[str],
    failed_analyzers: Iterable[str],
    type: str | None,
    query: str,
) -> None:
    """:func:`require_packages` from what an analysis records (its analyzers that ran and
    those that failed) rather than the analysis itself: what a catalog's index keeps, so
    a query answered from the index fails closed exactly as one over the analysis does.
    ``image`` names it in the message; a ``type`` is assumed to exist (check it first
    with :func:`require_package_type`)."""
    if type is not None:
        row = ecosystems.find(type)
        rows: tuple[ecosystems.Ecosystem, ...] = (row,) if row is not None else ()
    else:
        rows = ecosystems.ECOSYSTEMS
    ran = set(analyzers)
    failed = sorted({a for row in rows for a in row.analyzers} & set(failed_analyzers))
    if failed:
        raise UnanswerableQueryError(
            f"query {query!r}: the {', '.join(failed)} analyzer failed on "
            f"{image}: its packages are unknown"
        )
    missing = [row for row in rows if not ran & set(row.analyzers)]
    if missing:
        names = ", ".join(f"{r.package_type} packages ({'/'.join(r.analyzers)})" for r in missing)
        raise UnanswerableQueryError(
            f"query {query!r}: no analyzer of {names} ran on "
            f"{image}: they were never looked for"
            + ("; give a package type" if type is None else "")
        )


def require_owners(analysis: Analysis, query: str) -> None:
    """Which files packages own is known: every analyzer whose packages list their files
    (:data:`FILE_OWNING_TYPES`) ran and none failed; else their files would look unowned."""
    for type in FILE_OWNING_TYPES:
        require_packages(analysis, type, query)


def require_files(analysis: Analysis, query: str) -> None:
    """The analysis has a file inventory (an imported SBOM may list no files)."""
    if not analysis.files_known:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis of {describe(analysis)} ({analysis.origin}) has "
            "no file inventory (an SBOM that lists no files): the files of the image are unknown"
        )


def require_config(analysis: Analysis, query: str) -> None:
    """The analysis carries the image config. An analyzed image always has one (its
    config digest names it). An imported SBOM's config is known only when it named the
    config and carried some of it: a reader that sets the digest from an image id alone
    leaves an empty config, which is taken as unknown (an SBOM of an image whose config
    is really empty is refused too: fail closed)."""
    info = analysis.image
    known = bool(info.config_digest) and (
        analysis.origin == "image" or info.config != ContainerConfig()
    )
    if not known:
        raise UnanswerableQueryError(
            f"query {query!r}: the analysis of {describe(analysis)} ({analysis.origin}) does "
            "not carry the image config: its settings are unknown"
        )
