"""The package ecosystems anchore knows: one row each, every fact about it in one place.

A package's ``type`` (``deb``, ``python``, ``go-module``...) decides its purl
type, the OSV ecosystem its advisories are filed under, the version order its
versions compare in, whether it is an OS package (matched through its source
package and the distro release) and how its names compare. Analyzers,
matching, policy gates and purl checks all read these facts here, as syft
keeps its package types in one table (``syft/pkg/type.go``): adding an
ecosystem is one :class:`Ecosystem` row in :data:`ECOSYSTEMS` plus the
analyzer that reports it.

This module is at the bottom of anchore's layers: it imports nothing of
anchore but :mod:`anchore.errors`, so that anything may use it.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

import attrs

from anchore.errors import AnchoreError

__all__ = [
    "DISTROS",
    "ECOSYSTEMS",
    "KINDS",
    "NAMESPACE_RULES",
    "OS_PACKAGE_TYPES",
    "PACKAGE_TYPES",
    "DistroRelease",
    "Ecosystem",
    "Namespace",
    "PurlRule",
    "UnknownEcosystemError",
    "by_purl_type",
    "distro_release",
    "ecosystem",
    "find",
    "find_purl_type",
    "normalize_python_name",
]

#: Ecosystem.kind values: packages of the distro, and packages of a language's registry
OS, LANGUAGE = "os", "language"
KINDS = (OS, LANGUAGE)
#: PurlRule.namespace values: whether a purl of the type has a namespace
REQUIRED, OPTIONAL, PROHIBITED = "required", "optional", "prohibited"
NAMESPACE_RULES = (REQUIRED, OPTIONAL, PROHIBITED)


class UnknownEcosystemError(AnchoreError, KeyError):
    """No ecosystem row for a package type (or purl type); the message lists the known ones.

    Also a :class:`KeyError` (a lookup by name that failed), without the quotes
    KeyError puts around its message.
    """

    def __init__(self, name: str, known: Iterable[str], *, what: str = "package type") -> None:
        self.name = name
        self.known = tuple(known)
        close = difflib.get_close_matches(name, self.known, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        super().__init__(
            f"anchore knows no ecosystem for the {what} {name!r}{hint}; "
            f"the known ones: {', '.join(self.known)}"
        )

    def __str__(self) -> str:
        return self.message


def normalize_python_name(name: str) -> str:
    """PEP 503: lowercase, runs of ``-_.`` become one ``-`` (``Foo_Bar`` is ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _as_is(name: str) -> str:
    return name


def _same_version(name: str, version: str) -> str:
    return version


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple((str(k), str(v)) for k, v in items)


@attrs.frozen
class DistroRelease:
    """How advisories name the releases of one distro (OSV's ``Debian:12``, ``Alpine:v3.18``).

    A feed covers one release at a time, so an OS package is matched in the
    ecosystem of its image's release, built from ``/etc/os-release``.
    """

    #: the distro's ``ID`` in /etc/os-release
    distro_id: str
    #: OSV's name for the distro, before the ``:``
    osv_ecosystem: str
    #: how many leading parts of ``VERSION_ID`` name a release (Debian 12.5 is ``12``,
    #: Alpine 3.18.4 is ``3.18``)
    parts: int
    #: what comes before those parts (Alpine's releases are ``v3.18``)
    prefix: str = ""
    #: the feed that covers a release, for "load ..." hints (``{release}`` is filled in)
    feed: str = ""
    #: (codename, release) pairs: how the distro's own feeds name releases (Debian's
    #: ``bookworm`` is ``12``)
    codenames: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_pairs)

    def release(self, version_id: str | None) -> str | None:
        """The release a ``VERSION_ID`` belongs to, as advisories name it; None without one."""
        if not version_id:
            return None
        return self.prefix + ".".join(version_id.split(".")[: self.parts])

    def advisory_ecosystem(self, version_id: str | None) -> str | None:
        """``Debian:12`` for ``12.5``; None when the release is unknown."""
        release = self.release(version_id)
        return self.ecosystem_of(release) if release else None

    def ecosystem_of(self, release: str) -> str:
        """The advisory ecosystem of a release as advisories name it (``Alpine:v3.18``)."""
        return f"{self.osv_ecosystem}:{release}"

    def codename_release(self, codename: str) -> str | None:
        """The release a codename names (``bookworm``: ``12``), None for an unknown one."""
        return next((r for c, r in self.codenames if c == codename), None)

    def hint(self, release: str) -> str:
        """What to load for a release's advisories (``load Alpine's secdb for v3.18``)."""
        feed = self.feed or f"OSV's {self.osv_ecosystem} data"
        return "load " + feed.format(release=release)


@attrs.frozen
class Namespace:
    """A part of a package's identity kept in its metadata (Maven's groupId)."""

    #: the ``Package.metadata`` key that holds it
    metadata_key: str
    #: what the ecosystem calls it, for messages
    label: str


#: the parts of a purl a :class:`PurlRule` may ask to be lowercase
PURL_PARTS = ("namespace", "name")


@attrs.frozen(kw_only=True)
class PurlRule:
    """What a purl type asks of the parts anchore fills in, as anchore reads the purl-spec
    type definition (``types/*-definition.json``); :mod:`anchore.purls` checks by it.

    The name part is the package's name under the row's :attr:`Ecosystem.name_key`,
    in packageurl-python's canonical form (which lowercases npm and Composer names).
    """

    #: whether its purls have a namespace: ``required``, ``optional`` or ``prohibited``
    namespace: str = attrs.field(validator=attrs.validators.in_(NAMESPACE_RULES))
    #: the namespace is the leading part of the package's name, up to its last ``/``
    #: (npm's ``@scope``, a Go module path, Composer's vendor); otherwise it is not part
    #: of the name (a distro vendor, or :attr:`Ecosystem.namespace` from the metadata)
    in_name: bool = False
    #: what a namespace starts with (npm's scopes: ``@``)
    namespace_prefix: str = ""
    #: the parts that are case-insensitive in this type, so a purl spells them lowercase
    #: (rpm's vendor is, its names are not: ``NetworkManager``)
    lowercase: tuple[str, ...] = attrs.field(
        default=(), validator=attrs.validators.deep_iterable(attrs.validators.in_(PURL_PARTS))
    )
    #: what the namespace is, for messages
    note: str = ""


@attrs.frozen(kw_only=True)
class Ecosystem:
    """Every fact anchore keeps about one package type."""

    #: ``Package.type``: what analyzers report and policy bundles name
    package_type: str
    #: the purl-spec type of its packages' purls (``pkg:pypi/...``)
    purl_type: str
    #: what its purls must hold (:mod:`anchore.purls`)
    purl: PurlRule
    #: ``os`` (the distro's packages: matched through their source package and the
    #: distro release, own files) or ``language`` (a language registry's packages)
    kind: str = attrs.field(validator=attrs.validators.in_(KINDS))
    #: OSV's name for the ecosystem of a language's packages (``PyPI``); None for OS
    #: packages, whose advisories are filed per release (:attr:`distros`)
    osv_ecosystem: str | None
    #: the :mod:`anchore.versions` order its versions compare in; None when anchore has
    #: none (its packages cannot be matched, nor compared by policy)
    version_scheme: str | None
    #: what a version written today (a lock-file pin, a policy bundle's version) must
    #: parse in: PyPI's installed packages may carry legacy versions a requirement may
    #: not (``pep440``); ``composer`` and ``nuget`` are checked by syntax only
    #: (:func:`anchore.analyzers.lockfiles.is_version`). Defaults to :attr:`version_scheme`.
    declared_scheme: str | None = attrs.field(
        default=attrs.Factory(lambda self: self.version_scheme, takes_self=True)
    )
    #: for a :attr:`declared_scheme` that :mod:`anchore.versions` has no order for: the
    #: regex a real version of it matches (its lock-file pins are checked by syntax only)
    version_syntax: str | None = None
    #: the built-in analyzers that report it; the first is the one a policy rule about
    #: these packages needs to have run
    analyzers: tuple[str, ...]
    #: OS packages: the distros whose releases have advisories for them
    distros: tuple[DistroRelease, ...] = ()
    #: how its names compare (in advisories, policy rules, purls): PEP 503 for PyPI
    name_key: Callable[[str], str] = _as_is
    #: the namespace its advisories name packages with, when the name alone is not
    #: enough (Maven's groupId: ``group:artifact``); a package without it cannot be matched.
    #: It is also its purl's namespace, which :attr:`purl` must then require.
    namespace: Namespace | None = None
    #: the version its purl carries, given the package's name and version (Go's
    #: toolchain ``stdlib`` ``go1.22.1`` is ``1.22.1``, as syft has it)
    purl_version: Callable[[str, str], str] = _same_version

    def __attrs_post_init__(self) -> None:
        if self.namespace is not None and self.purl.namespace != REQUIRED:
            raise ValueError(f"{self.package_type}: a namespace from the metadata is required "
                             "in its purls (purl=PurlRule(namespace='required'))")  # fmt: skip

    @property
    def is_os(self) -> bool:
        return self.kind == OS

    def distro(self, distro_id: str | None) -> DistroRelease | None:
        """The release naming of the distro ``distro_id`` for these packages, if they have one."""
        return next((d for d in self.distros if d.distro_id == distro_id), None)

    def advisory_name(self, name: str, metadata: Mapping[str, object]) -> str | None:
        """The name advisories give a package (``foo-bar`` for PyPI ``Foo_Bar``,
        ``group:artifact`` for Maven); None when its namespace is unknown."""
        if self.namespace is None:
            return self.name_key(name)
        namespace = metadata.get(self.namespace.metadata_key)
        return f"{namespace}:{self.name_key(name)}" if namespace else None

    def same_name(self, name: str, pattern: str) -> bool:
        """Whether ``name`` is the package ``pattern`` names, as this ecosystem compares
        names (PyPI: PEP 503); ``pattern`` may be a glob (``django-*``)."""
        return fnmatch.fnmatchcase(self.name_key(name), self.name_key(pattern))


DEBIAN = DistroRelease("debian", "Debian", parts=1,
                       feed="the Debian security tracker (or OSV's Debian data)",
                       codenames={"wheezy": "7", "jessie": "8", "stretch": "9", "buster": "10",
                                  "bullseye": "11", "bookworm": "12", "trixie": "13",
                                  "forky": "14", "sid": "unstable"})  # fmt: skip
ALPINE = DistroRelease("alpine", "Alpine", parts=2, prefix="v", feed="Alpine's secdb for {release}")


def _go_purl_version(name: str, version: str) -> str:
    """The toolchain's ``go1.22.1`` is ``1.22.1`` in its purl, as syft has it."""
    return version.removeprefix("go") if name == "stdlib" else version


_VENDOR = "the distro vendor (debian, alpine)"

#: every ecosystem, one row each
ECOSYSTEMS: tuple[Ecosystem, ...] = (
    Ecosystem(package_type="deb", purl_type="deb", kind=OS, osv_ecosystem=None,
              version_scheme="dpkg", analyzers=("dpkg",), distros=(DEBIAN,),
              purl=PurlRule(namespace=REQUIRED, lowercase=PURL_PARTS, note=_VENDOR)),
    # the spec's own example pkg:rpm/centerim@... has none: the vendor is optional
    Ecosystem(package_type="rpm", purl_type="rpm", kind=OS, osv_ecosystem=None,
              version_scheme="rpm", analyzers=("rpm",),
              purl=PurlRule(namespace=OPTIONAL, lowercase=("namespace",), note=_VENDOR)),
    Ecosystem(package_type="apk", purl_type="apk", kind=OS, osv_ecosystem=None,
              version_scheme="apk", analyzers=("apk",), distros=(ALPINE,),
              purl=PurlRule(namespace=REQUIRED, lowercase=PURL_PARTS, note=_VENDOR)),
    Ecosystem(package_type="python", purl_type="pypi", kind=LANGUAGE, osv_ecosystem="PyPI",
              version_scheme="pypi", declared_scheme="pep440", analyzers=("python",),
              name_key=normalize_python_name, purl=PurlRule(namespace=PROHIBITED)),
    Ecosystem(package_type="npm", purl_type="npm", kind=LANGUAGE, osv_ecosystem="npm",
              version_scheme="semver", analyzers=("npm",),
              purl=PurlRule(namespace=OPTIONAL, in_name=True, namespace_prefix="@",
                            note="the @scope")),
    Ecosystem(package_type="java-archive", purl_type="maven", kind=LANGUAGE,
              osv_ecosystem="Maven", version_scheme="maven", analyzers=("java",),
              namespace=Namespace("group_id", "groupId"),
              purl=PurlRule(namespace=REQUIRED, note="the groupId")),
    # the spec asks for a namespace and lowercase; Go module paths are case-sensitive
    # (the module proxy escapes capitals), so case is kept, as syft and grype do, and
    # one-element paths (``stdlib``, a bare ``module app``) have no namespace
    Ecosystem(package_type="go-module", purl_type="golang", kind=LANGUAGE, osv_ecosystem="Go",
              version_scheme="go", analyzers=("golang",), purl_version=_go_purl_version,
              purl=PurlRule(namespace=OPTIONAL, in_name=True,
                            note="the module path up to its last '/'")),
    Ecosystem(package_type="gem", purl_type="gem", kind=LANGUAGE, osv_ecosystem="RubyGems",
              version_scheme="gem", analyzers=("ruby",), purl=PurlRule(namespace=PROHIBITED)),
    Ecosystem(package_type="php-composer", purl_type="composer", kind=LANGUAGE,
              osv_ecosystem="Packagist", version_scheme=None, declared_scheme="composer",
              version_syntax=r"(?i)^v?\d+(?:\.\d+){0,3}"
                             r"(?:[._-]?(?:stable|beta|b|rc|alpha|a|patch|pl|p)(?:[.-]?\d+(?:[.-]\d+)*)?)?$",
              analyzers=("php-composer",),
              purl=PurlRule(namespace=REQUIRED, in_name=True, lowercase=PURL_PARTS,
                            note="the vendor")),
    # cargo-auditable binaries are found by the Go analyzer's executable scan too
    Ecosystem(package_type="rust-crate", purl_type="cargo", kind=LANGUAGE,
              osv_ecosystem="crates.io", version_scheme="semver", analyzers=("rust", "golang"),
              purl=PurlRule(namespace=PROHIBITED)),
    Ecosystem(package_type="dotnet", purl_type="nuget", kind=LANGUAGE, osv_ecosystem="NuGet",
              version_scheme=None, declared_scheme="nuget", analyzers=("dotnet",),
              version_syntax=r"^\d+(?:\.\d+){1,3}(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
                             r"(?:\+[0-9A-Za-z.-]+)?$",
              purl=PurlRule(namespace=PROHIBITED)),
)  # fmt: skip

_BY_PACKAGE_TYPE: Mapping[str, Ecosystem] = MappingProxyType(
    {e.package_type: e for e in ECOSYSTEMS}
)
_BY_PURL_TYPE: Mapping[str, Ecosystem] = MappingProxyType({e.purl_type: e for e in ECOSYSTEMS})

#: every package type a row describes, sorted
PACKAGE_TYPES: tuple[str, ...] = tuple(sorted(_BY_PACKAGE_TYPE))
#: the package types of the distro's own packages (they own files; matched by release)
OS_PACKAGE_TYPES: frozenset[str] = frozenset(e.package_type for e in ECOSYSTEMS if e.is_os)


def ecosystem(package_type: str) -> Ecosystem:
    """The row of ``package_type``; :class:`UnknownEcosystemError` naming the known ones if none."""
    try:
        return _BY_PACKAGE_TYPE[package_type]
    except KeyError:
        raise UnknownEcosystemError(package_type, PACKAGE_TYPES) from None


def find(package_type: str) -> Ecosystem | None:
    """The row of ``package_type``, or None: for code that must also take a plugin's
    own package types (``binary``), which have no row and no advisory ecosystem."""
    return _BY_PACKAGE_TYPE.get(package_type)


def by_purl_type(purl_type: str) -> Ecosystem:
    """The row whose purls have type ``purl_type`` (``pypi`` is ``python``);
    :class:`UnknownEcosystemError` if none."""
    try:
        return _BY_PURL_TYPE[purl_type]
    except KeyError:
        raise UnknownEcosystemError(purl_type, sorted(_BY_PURL_TYPE), what="purl type") from None


def find_purl_type(purl_type: str) -> Ecosystem | None:
    """The row whose purls have type ``purl_type``, or None (a plugin's ``pkg:conan/...``)."""
    return _BY_PURL_TYPE.get(purl_type)


#: how the distros with advisories name their releases, from the rows' :attr:`Ecosystem.distros`
DISTROS: tuple[DistroRelease, ...] = tuple(dict.fromkeys(d for e in ECOSYSTEMS for d in e.distros))


def distro_release(name: str) -> DistroRelease:
    """The release naming of a distro, by its ``/etc/os-release`` ``ID`` (``debian``) or
    its advisories' name (``Debian``, or an advisory ecosystem ``Debian:12``);
    :class:`UnknownEcosystemError` if no row has it."""
    prefix = name.partition(":")[0]
    for release in DISTROS:
        if prefix in (release.distro_id, release.osv_ecosystem):
            return release
    raise UnknownEcosystemError(name, [d.distro_id for d in DISTROS], what="distro")
