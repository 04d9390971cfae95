"""Smaller ecosystems: Ruby gems, PHP Composer, Rust crates, .NET assemblies.

Each reads its ecosystem's own records (gemspecs, Gemfile.lock,
composer/installed.json, composer.lock, Cargo.lock, *.deps.json); none guesses.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import AnalyzerError, Location, Package
from anchore.analyzers.common import make_purl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["ComposerAnalyzer", "DotnetAnalyzer", "RubyAnalyzer", "RustAnalyzer", "crate_package"]


class _PerFile:
    """An analyzer that parses each offered file on its own."""

    name = ""
    patterns: Sequence[str] = ()

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            location = context.location(f.entry, context.introduced_in(f.entry))
            try:
                yield from self.parse(f, location)
            except Exception as exc:
                yield AnalyzerError(self.name, f"{f.path}: {type(exc).__name__}: {exc}", f.path)

    def parse(self, f: FileInput, location: Location) -> Iterator[Package]:
        raise NotImplementedError  # pragma: no cover


# ---- Ruby ----
_GEMSPEC_FIELD = re.compile(
    r"^\s*s\.(name|version|licenses?|homepage|authors)\s*=\s*(.+?)\s*$", re.M
)
_RUBY_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'')


def _ruby_strings(expr: str) -> list[str]:
    return [a if a else b for a, b in _RUBY_STRING.findall(expr)]


def _gem(
    name: str, version: str, location: Location, licenses: Sequence[str] = (), **meta: Any
) -> Package:
    return Package(
        type="gem",
        name=name,
        version=version,
        purl=make_purl("gem", name, version),
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

    def parse(self, f: FileInput, location: Location) -> Iterator[Package]:
        text = f.read_text()
        if f.path.endswith(".gemspec"):
            fields: dict[str, list[str]] = {}
            for key, expr in _GEMSPEC_FIELD.findall(text):
                fields.setdefault(
                    key.rstrip("s") if key != "homepage" else key, _ruby_strings(expr)
                )
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
        in_specs = False
        for line in text.splitlines():
            if line and not line[0].isspace():
                in_specs = False  # a new section (GEM, PATH, PLATFORMS...)
            elif line.strip() == "specs:":
                in_specs = True
            elif in_specs:
                match = re.match(r"^    (\S+) \(([^)]+)\)$", line)  # deps are indented deeper
                if match:
                    yield _gem(match.group(1), match.group(2), location, lock=f.path)


# ---- PHP ----
class ComposerAnalyzer(_PerFile):
    name = "php-composer"
    patterns: Sequence[str] = ("**/composer/installed.json", "composer.lock")

    def parse(self, f: FileInput, location: Location) -> Iterator[Package]:
        doc = json.loads(f.read())
        if isinstance(doc, list):  # composer 1 installed.json
            entries = doc
        elif f.path.endswith("composer.lock"):
            entries = list(doc.get("packages") or []) + list(doc.get("packages-dev") or [])
        else:
            entries = doc.get("packages") or []
        for item in entries:
            name, version = item.get("name"), item.get("version")
            if not name or not version:
                continue
            vendor, _, project = name.rpartition("/")
            lic = item.get("license") or []
            yield Package(
                type="php-composer",
                name=name,
                version=version,
                purl=make_purl("composer", project, version, namespace=vendor or None),
                locations=(location,),
                licenses=tuple(lic if isinstance(lic, list) else [lic]),
                metadata={k: item[k] for k in ("description", "homepage", "type") if item.get(k)},
            )


# ---- Rust ----
def crate_package(name: str, version: str, location: Location, **metadata: Any) -> Package:
    """A Rust crate, from a Cargo.lock or a cargo-auditable binary."""
    return Package(
        type="rust-crate",
        name=name,
        version=version,
        purl=make_purl("cargo", name, version),
        locations=(location,),
        metadata={k: v for k, v in metadata.items() if v},
    )


class RustAnalyzer(_PerFile):
    name = "rust"
    patterns: Sequence[str] = ("Cargo.lock",)

    def parse(self, f: FileInput, location: Location) -> Iterator[Package]:
        doc = tomllib.loads(f.read_text("strict"))
        for item in doc.get("package", []):
            name, version = item.get("name"), item.get("version")
            if name and version:
                yield crate_package(
                    name,
                    version,
                    location,
                    source=item.get("source"),
                    checksum=item.get("checksum"),
                )


# ---- .NET ----
class DotnetAnalyzer(_PerFile):
    name = "dotnet"
    patterns: Sequence[str] = ("*.deps.json", "packages.lock.json")

    def parse(self, f: FileInput, location: Location) -> Iterator[Package]:
        doc = json.loads(f.read())
        if f.path.endswith("packages.lock.json"):
            seen = set()
            for deps in (doc.get("dependencies") or {}).values():
                for name, spec in (deps or {}).items():
                    version = (spec or {}).get("resolved")
                    if version and (name, version) not in seen:
                        seen.add((name, version))
                        yield self._package(name, version, location, spec.get("contentHash"))
            return
        for key, lib in (doc.get("libraries") or {}).items():
            if not isinstance(lib, dict) or lib.get("type") not in ("package", "project"):
                continue
            name, _, version = key.rpartition("/")
            if name and version and lib.get("type") == "package":
                yield self._package(name, version, location, lib.get("sha512"), lib.get("path"))

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
            purl=make_purl("nuget", name, version),
            locations=(location,),
            metadata={k: v for k, v in (("sha512", digest), ("path", path)) if v},
        )
