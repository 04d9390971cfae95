"""Smaller ecosystems: Ruby gems, PHP Composer, Rust crates, .NET assemblies.

Each reads its ecosystem's own records (gemspecs, Gemfile.lock,
composer/installed.json, composer.lock, Cargo.lock, *.deps.json,
packages.lock.json); none guesses. Lock files are declared, never installed
(see ``_PerFile`` and :mod:`anchore.analyzers.lockfiles`). Each is a
:class:`~anchore.analysis.kit.FileAnalyzer`: it supplies ``parse(file)``, the
kit selects the files, attributes their locations and wraps errors.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import FileAnalyzer
from anchore.analysis.model import Location, Package
from anchore.analyzers.common import package_purl
from anchore.analyzers.lockfiles import (
    declared_scheme,
    installed_package_root,
    is_version,
    mostly_installed,
    unversioned_error,
)
from anchore.plugins import hookimpl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["ComposerAnalyzer", "DotnetAnalyzer", "RubyAnalyzer", "RustAnalyzer", "crate_package"]


class _PerFile(FileAnalyzer):
    """An analyzer that parses each offered file on its own (the kit's ``parse``).

    Its lock files (``locks``, by base name) follow the rules of
    :mod:`anchore.analyzers.lockfiles`, applied here once for every ecosystem:
    not read inside an installed package; nothing from them where the installed
    form is present (one of ``installed_beside`` exists in the lock's
    directory, or most of what it pins is installed at the pinned versions);
    otherwise their packages are declared. Entries whose version is not a real
    version of ``scheme`` are listed in one error per lock file.
    """

    locks: Sequence[str] = ()
    scheme = ""
    installed_beside: Sequence[str] = ()

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        installed: set[tuple[str, str]] = set()
        locks = [f for f in files if f.path.rsplit("/", 1)[1] in self.locks]
        for f in files:
            if f in locks:
                continue
            for result in self.parse_file(f):
                if isinstance(result, Package):
                    installed.add((result.name, result.version))
                yield result
        for f in locks:
            if installed_package_root(f.path) is None:
                yield from self._lock(f, context, installed)

    def _lock(
        self, f: FileInput, context: AnalysisContext, installed: set[tuple[str, str]]
    ) -> Iterator[Result]:
        directory = posixpath.dirname(f.path)
        if any(context.image.exists(posixpath.join(directory, p)) for p in self.installed_beside):
            return
        good: dict[tuple[str, str], Package] = {}
        bad: list[str] = []
        for result in self.parse_file(f):
            if not isinstance(result, Package):
                yield result
            elif is_version(self.scheme, result.version):
                good.setdefault((result.name, result.version), result)
            else:
                bad.append(f"{result.name}@{result.version}")
        if mostly_installed(good, installed):
            return
        for pkg in good.values():
            yield attrs.evolve(pkg, declared=True, metadata={**pkg.metadata, "lock": f.path})
        error = unversioned_error(self.name, f.path, bad)
        if error is not None:
            yield error


# ---- Ruby ----
#: a gemspec field line; each part's characters differ from the next part's first one,
#: so a line costs its length (``^\s*`` spanning newlines rescanned blank lines from every
#: line start, and ``(.+?)\s*$`` a run of spaces from every split)
_GEMSPEC_FIELD = re.compile(r"[ \t]*s\.(name|version|licenses?|homepage|authors)[ \t]*=(.*)")
#: a Ruby string literal, by its opening quote: the rest up to the closing quote
_RUBY_STRING_REST = {'"': re.compile(r'((?:[^"\\]|\\.)*)"'), "'": re.compile(r"([^']*)'")}


def _ruby_strings(expr: str) -> list[str]:
    """The string literals of a Ruby expression, in order.

    One pass: a literal with no closing quote is not one, and since every later quote
    of its kind lies inside it, none later is either: that kind is not looked for
    again (a regex ``findall`` would rescan the rest from each of them).
    """
    found: list[str] = []
    open_kinds = {'"', "'"}
    at = 0
    while open_kinds:
        starts = [i for i in (expr.find(q, at) for q in open_kinds) if i >= 0]
        if not starts:
            break
        start = min(starts)
        quote = expr[start]
        match = _RUBY_STRING_REST[quote].match(expr, start + 1)
        if match is None:
            open_kinds.discard(quote)
            at = start + 1
            continue
        found.append(match.group(1))
        at = match.end()
    return found


def _gemspec_fields(lines: Iterable[str]) -> dict[str, list[str]]:
    """The first ``s.name``, ``s.version``, ``s.license(s)``, ``s.homepage`` and
    ``s.authors`` of a gemspec, each as the strings its value holds."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        match = _GEMSPEC_FIELD.match(line)
        if match and match.group(2).strip():
            key = match.group(1)
            fields.setdefault(
                key.rstrip("s") if key != "homepage" else key, _ruby_strings(match.group(2))
            )
    return fields


def _gem(
    name: str, version: str, location: Location, licenses: Sequence[str] = (), **meta: Any
) -> Package:
    return Package(
        type="gem",
        name=name,
        version=version,
        purl=package_purl("gem", name, version),
        locations=(location,),
        licenses=tuple(licenses),
        metadata={k: v for k, v in meta.items() if v},
    )


class RubyAnalyzer(_PerFile):
    name = "ruby"
    patterns: Sequence[str] = (
        "**/specifications/**/*.gemspec",
        "Gemfile.lock",
        "Gemfile.next.lock",
    )
    locks: Sequence[str] = ("Gemfile.lock", "Gemfile.next.lock")
    scheme = declared_scheme("gem")
    installed_beside: Sequence[str] = ("vendor/bundle",)

    def parse(self, f: FileInput) -> Iterator[Result]:
        location = f.location
        if f.path.endswith(".gemspec"):
            fields = _gemspec_fields(f.lines())
            name = next(iter(fields.get("name", ())), None)
            version = next(iter(fields.get("version", ())), None)
            if name and version:
                yield _gem(
                    name,
                    version,
                    location,
                    fields.get("license", []),
                    homepage=next(iter(fields.get("homepage", ())), None),
                    authors=fields.get("author"),
                )
            return
        yield from self._gemfile_lock(f, location)

    _SPEC = re.compile(r"^    (\S+) \(([^)]+)\)$")  # a spec's own dependencies are indented deeper
    #: ``nokogiri (1.13.10-x86_64-linux)``: the platform is not part of the version
    _PLATFORM = re.compile(
        r"-(?:(?:x86_64|x86|i[3-6]86|x64|arm64|aarch64|arm|armv[0-9a-z]+|universal|powerpc|ppc64le|"
        r"s390x|riscv64)-[a-z0-9_.-]+|java|jruby|mswin32|mswin64|mingw32|x64-mingw-ucrt)$"
    )

    #: the characters a platform suffix is made of: a match lies in the run of them that
    #: ends the version, and is searched for there only (from every ``-`` of the whole
    #: version, ``[a-z0-9_.-]+$`` rescans the rest: quadratic)
    _PLATFORM_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_.-"

    def _gemfile_lock(self, f: FileInput, location: Location) -> Iterator[Result]:
        """Specs of the GEM and GIT sections; PATH gems are the application's own code.
        Each spec on its own: one that makes no package is one error naming it."""

        def gem(spec: tuple[str, str]) -> Package:
            name, version = spec
            tail = len(version.rstrip(self._PLATFORM_CHARS))
            platform = self._PLATFORM.search(version, tail)
            meta = {"platform": platform.group(0)[1:]} if platform else {}
            if platform:
                version = version[: platform.start()]
            return _gem(name, version, location, lock=f.path, **meta)

        yield from f.each(self._specs(f.lines()), gem, describe=lambda s: f"gem {s[0]!r}")

    def _specs(self, lines: Iterable[str]) -> Iterator[tuple[str, str]]:
        """(name, version as written) of each spec of a Gemfile.lock's GEM and GIT sections."""
        section = ""
        in_specs = False
        for line in lines:
            if line and not line[0].isspace():
                section, in_specs = line.strip(), False  # GEM, GIT, PATH, PLATFORMS...
            elif line.strip() == "specs:":
                in_specs = True
            elif in_specs and section in ("GEM", "GIT"):
                match = self._SPEC.match(line)
                if match:
                    yield match.group(1), match.group(2)


# ---- PHP ----
class ComposerAnalyzer(_PerFile):
    name = "php-composer"
    patterns: Sequence[str] = ("**/composer/installed.json", "composer.lock")
    locks: Sequence[str] = ("composer.lock",)
    scheme = declared_scheme("php-composer")
    installed_beside: Sequence[str] = ("vendor/composer/installed.json",)

    def parse(self, f: FileInput) -> Iterator[Result]:
        """Each package on its own: one that is not an object, or whose fields have the
        wrong types, is one error naming it."""
        location = f.location
        doc = json.loads(f.read())
        if not isinstance(doc, (dict, list)):
            raise ValueError("not a JSON object")
        if isinstance(doc, list):  # composer 1 installed.json
            entries = doc
        elif f.path.endswith("composer.lock"):
            entries = [*_array(doc, "packages"), *_array(doc, "packages-dev")]
        else:
            entries = _array(doc, "packages")

        def package(item: Any) -> Package | None:
            if not isinstance(item, dict):
                raise ValueError(f"a {type(item).__name__}, not an object")
            name, version = item.get("name"), item.get("version")
            if not name or not version:
                return None
            vendor, _, project = _string(name, "name").rpartition("/")
            lic = item.get("license") or []
            licenses = lic if isinstance(lic, list) else [lic]
            return Package(
                type="php-composer",
                name=name,
                version=_string(version, "version"),
                purl=package_purl("php-composer", project, version, namespace=vendor or None),
                locations=(location,),
                licenses=tuple(_string(x, "license") for x in licenses),
                metadata={k: item[k] for k in ("description", "homepage", "type") if item.get(k)},
            )

        yield from f.each(entries, package, describe=_describe_named)


def _array(doc: dict[str, Any], key: str) -> list[Any]:
    """``doc[key]``, an array (absent or null: empty)."""
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise ValueError(f"{key!r} is a {type(value).__name__}, not an array")
    return value


def _string(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"its {field} is a {type(value).__name__}, not a string")
    return value


def _describe_named(item: Any) -> str:
    """A record by its ``name``, when it has one that is a string."""
    name = item.get("name") if isinstance(item, dict) else None
    return f"package {name!r}" if isinstance(name, str) else "a package"


# ---- Rust ----
def crate_package(name: str, version: str, location: Location, **metadata: Any) -> Package:
    """A Rust crate, from a Cargo.lock or a cargo-auditable binary."""
    return Package(
        type="rust-crate",
        name=name,
        version=version,
        purl=package_purl("rust-crate", name, version),
        locations=(location,),
        metadata={k: v for k, v in metadata.items() if v},
    )


class RustAnalyzer(_PerFile):
    name = "rust"
    patterns: Sequence[str] = ("Cargo.lock",)
    locks: Sequence[str] = ("Cargo.lock",)
    scheme = declared_scheme("rust-crate")

    def parse(self, f: FileInput) -> Iterator[Result]:
        """Crates with a ``source`` (registry or git); path crates (no source) are the
        application's own workspace. Each ``[[package]]`` on its own: one that is not a
        table, or whose fields have the wrong types, is one error naming it."""
        location = f.location
        doc = tomllib.loads(f.read_text("strict"))
        packages = doc.get("package", [])
        if not isinstance(packages, list):
            raise ValueError(f"'package' is a {type(packages).__name__}, not an array of tables")

        def crate(item: Any) -> Package | None:
            if not isinstance(item, dict):
                raise ValueError(f"a {type(item).__name__}, not a table")
            name, version = item.get("name"), item.get("version")
            if not (name and version and item.get("source")):
                return None
            return crate_package(
                _string(name, "name"),
                _string(version, "version"),
                location,
                source=_string(item["source"], "source"),
                checksum=item.get("checksum"),
            )

        yield from f.each(packages, crate, describe=_describe_named)


# ---- .NET ----
class DotnetAnalyzer(_PerFile):
    name = "dotnet"
    patterns: Sequence[str] = ("*.deps.json", "packages.lock.json")
    locks: Sequence[str] = ("packages.lock.json",)
    scheme = declared_scheme("dotnet")

    def parse(self, f: FileInput) -> Iterator[Result]:
        """Each library (deps.json) or dependency (packages.lock.json) on its own: one of
        the wrong type is one error naming it."""
        location = f.location
        doc = json.loads(f.read())
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        if f.path.endswith("packages.lock.json"):
            seen: set[tuple[str, str]] = set()

            def dependency(item: tuple[str, Any]) -> Package | None:
                name, spec = item
                if spec is None:
                    return None
                if not isinstance(spec, dict):
                    raise ValueError(f"a {type(spec).__name__}, not an object")
                version = spec.get("resolved")
                if not version or (name, version) in seen:
                    return None
                seen.add((name, _string(version, "resolved version")))
                return self._package(name, version, location, spec.get("contentHash"))

            yield from f.each(
                self._lock_dependencies(doc), dependency, describe=lambda i: f"package {i[0]!r}"
            )
            return

        def library(item: tuple[str, Any]) -> Package | None:
            key, lib = item
            if not isinstance(lib, dict):
                raise ValueError(f"a {type(lib).__name__}, not an object")
            if lib.get("type") != "package":
                return None  # projects are the application's own code
            name, _, version = key.rpartition("/")
            if not name or not version:
                return None
            return self._package(name, version, location, lib.get("sha512"), lib.get("path"))

        libraries = doc.get("libraries") or {}
        if not isinstance(libraries, dict):
            raise ValueError(f"'libraries' is a {type(libraries).__name__}, not an object")
        yield from f.each(libraries.items(), library, describe=lambda i: f"library {i[0]!r}")

    @staticmethod
    def _lock_dependencies(doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        """(name, spec) of every dependency of every target framework of a
        packages.lock.json."""
        targets = doc.get("dependencies") or {}
        if not isinstance(targets, dict):
            raise ValueError(f"'dependencies' is a {type(targets).__name__}, not an object")
        for target, deps in targets.items():
            if deps is None:
                continue
            if not isinstance(deps, dict):
                raise ValueError(f"target {target!r} is a {type(deps).__name__}, not an object")
            yield from deps.items()

    @staticmethod
    def _package(
        name: str,
        version: str,
        location: Location,
        digest: str | None = None,
        path: str | None = None,
    ) -> Package:
        return Package(
            type="dotnet",
            name=name,
            version=version,
            purl=package_purl("dotnet", name, version),
            locations=(location,),
            metadata={k: v for k, v in (("sha512", digest), ("path", path)) if v},
        )


@hookimpl
def anchore_analyzers() -> list[RubyAnalyzer | ComposerAnalyzer | RustAnalyzer | DotnetAnalyzer]:
    """This module's analyzers, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [RubyAnalyzer(), ComposerAnalyzer(), RustAnalyzer(), DotnetAnalyzer()]
