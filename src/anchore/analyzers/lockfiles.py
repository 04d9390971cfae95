"""Lock and requirements files: which ones describe the image, and whether a version is real.

An image scan reports what is installed. A lock file (``package-lock.json``,
``yarn.lock``, ``requirements.txt``, ``Cargo.lock``...) names what an
application asked for, so it is read only where it describes an application
tree whose installed form is absent, and its packages are then *declared*
(``Package.declared``), never installed. The rules every lock-reading analyzer
applies, in this order (docs/analysis.md, "Installed and declared packages"):

1. A lock file inside an installed package's own directory (``node_modules/*/``,
   ``/usr/share/nodejs/*/``, ``site-packages/*/``, an installed gem, a vendored
   package, the Go module cache...) describes that package's development, not
   the image: it is not read at all (:func:`installed_package_root`). One that
   an OS package's file list names is part of that OS package: the engine
   drops what it declared.
2. Where the installed form sits beside it (``node_modules``, a virtualenv,
   ``vendor/composer``, or most of what it pins installed at the pinned
   versions), the installed metadata is the answer and the lock adds nothing
   but, for npm, the ``resolved`` and ``integrity`` of installed packages.
3. Otherwise its packages are reported with ``declared=True``; an entry whose
   version is not a real version of its ecosystem (a git commit, a local path,
   a tarball URL) is not reported, and one analyzer error per lock file lists
   such entries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from anchore import versions
from anchore.analysis.model import AnalyzerError
from anchore.ecosystems import ECOSYSTEMS, ecosystem

__all__ = [
    "INSTALLED_PACKAGE_DIRS",
    "VERSION_SYNTAX",
    "Each",
    "declared_scheme",
    "installed_package_root",
    "is_version",
    "mostly_installed",
    "strict_each",
    "unversioned_error",
]

#: (layout, regex matching the path prefix up to and including the package's own directory)
INSTALLED_PACKAGE_DIRS: tuple[tuple[str, str], ...] = (
    ("npm: node_modules/NAME", r".*?/node_modules/(?:@[^/]+/)?[^/]+/"),
    ("Debian nodejs: /usr/share/nodejs/NAME, /usr/lib/nodejs/NAME",
     r"/usr/(?:share|lib(?:/[^/]+)?)/nodejs/(?:@[^/]+/)?[^/]+/"),
    ("Python: site-packages/NAME, dist-packages/NAME", r".*?/(?:site|dist)-packages/[^/]+/"),
    ("Python: the interpreter's own library", r".*?/lib/(?:python|pypy)[0-9.]*/"),
    ("Ruby: an installed gem (gems/NAME-VERSION)", r".*?/gems/[^/]+-[0-9][^/]*/"),
    ("Ruby: a git gem (bundler/gems/NAME)", r".*?/bundler/gems/[^/]+/"),
    ("Ruby: the interpreter's library and Debian's gems", r"/(?:usr/(?:local/)?lib/ruby|usr/share/rubygems-integration|var/lib/gems)/"),  # noqa: E501
    ("vendored packages: vendor/NAME (Composer, Go, Cargo vendor)", r".*?/vendor/[^/]+/"),
    ("Rust: the cargo registry and git checkouts", r".*?/\.cargo/(?:registry/src/[^/]+|git/checkouts)/[^/]+/"),  # noqa: E501
    ("Rust: Debian's crate sources", r"/usr/share/cargo/registry/[^/]+/"),
    ("Rust: toolchains", r".*?/(?:\.?rustup/toolchains/[^/]+|lib/rustlib)/"),
    ("Go: the module cache (pkg/mod/PATH@VERSION)", r".*?/pkg/mod/(?:[^/]+/)*?[^/]*@[^/]+/"),
    ("Go: toolchains (GOROOT) and Debian's Go sources", r"/usr/(?:local/go|lib/go(?:-[^/]+)?|share/go(?:-[^/]+)?|share/gocode/src/[^/]+)/"),  # noqa: E501
    (".NET: the NuGet package cache and the runtime", r".*?/\.nuget/packages/[^/]+/[^/]+/|/usr/(?:share|lib|lib64)/dotnet/"),  # noqa: E501
    ("an OS package's documentation: /usr/share/doc/NAME", r"/usr/share/doc/[^/]+/"),
)  # fmt: skip

_ROOTS = re.compile("|".join(f"(?:{regex})" for _, regex in INSTALLED_PACKAGE_DIRS))


def installed_package_root(path: str) -> str | None:
    """The installed package directory that holds ``path`` (ending in ``/``), if any.

    A lock file there describes how that package was developed, not the image.
    """
    match = _ROOTS.match(path)
    return match.group(0) if match else None


#: the syntax of versions of ecosystems anchore.versions has no order for, by the
#: ``declared_scheme`` their ecosystem row names (built from the rows' ``version_syntax``)
VERSION_SYNTAX: Mapping[str, re.Pattern[str]] = MappingProxyType({
    e.declared_scheme: re.compile(e.version_syntax)
    for e in ECOSYSTEMS
    if e.declared_scheme is not None and e.version_syntax is not None
})  # fmt: skip


def declared_scheme(package_type: str) -> str:
    """What a lock file's versions of ``package_type`` packages must be real in: the
    ``declared_scheme`` of its ecosystem row (``pep440`` for ``python``)."""
    scheme = ecosystem(package_type).declared_scheme
    if scheme is None:
        raise ValueError(
            f"the {package_type} ecosystem row has no declared_scheme (nor version_scheme): "
            "its lock files' versions cannot be checked"
        )
    return scheme


def is_version(scheme: str, version: str) -> bool:
    """Whether ``version`` is a real version of the ecosystem (``semver``, ``pep440``,
    ``gem``, ``go``, ``composer``, ``nuget``: an ecosystem row's ``declared_scheme``,
    see :func:`declared_scheme`): what a lock entry must carry to be reported."""
    syntax = VERSION_SYNTAX.get(scheme)
    if syntax is not None:
        return bool(syntax.match(version))
    try:
        versions.compare(scheme, version, version)
    except versions.VersionError:
        return False
    return True


def mostly_installed(
    pins: Collection[tuple[str, str]], installed: Collection[tuple[str, str]]
) -> bool:
    """Whether at least half of a lock's (name, version) pins are installed at those versions:
    then the lock was installed, and the installed metadata is the answer."""
    if not pins:
        return False
    return 2 * sum(1 for pin in set(pins) if pin in installed) >= len(set(pins))


#: how a lock file's records are built: ``each(records, build, describe=...)`` yields the
#: errors of the records whose ``build`` raised. :meth:`FileInput.each
#: <anchore.analysis.analyzer.FileInput.each>` makes a bad record cost only itself
#: (one error naming the file and the record); :func:`strict_each` lets it raise.
Each = Callable[..., Iterable[AnalyzerError | Any]]


def strict_each(
    records: Iterable[Any], build: Callable[[Any], object], *, describe: object = None
) -> Iterable[AnalyzerError]:
    """Build every record; the first that fails fails the whole file (outside an analysis)."""
    for record in records:
        build(record)
    return ()


def unversioned_error(analyzer: str, path: str, entries: Iterable[str]) -> AnalyzerError | None:
    """One error for a lock file's entries that carry no real version (None if there are none)."""
    found = list(dict.fromkeys(entries))
    if not found:
        return None
    shown = ", ".join(found[:10]) + (f" and {len(found) - 10} more" if len(found) > 10 else "")
    return AnalyzerError(
        analyzer,
        f"{path}: {len(found)} entr{'y' if len(found) == 1 else 'ies'} not reported, having "
        f"no real version (a git, URL or local source, or a line that does not parse): {shown}",
        path,
    )
