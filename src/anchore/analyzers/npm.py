"""JavaScript packages: installed ``package.json`` files and npm/yarn/pnpm lock files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import AnalyzerError, Location, Package
from anchore.analyzers.common import make_purl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["NpmAnalyzer", "npm_package"]


def npm_package(
    name: str, version: str, location: Location, licenses: Sequence[str] = (), **metadata: Any
) -> Package:
    namespace, _, short = name.rpartition("/") if name.startswith("@") else ("", "", name)
    return Package(
        type="npm",
        name=name,
        version=version,
        purl=make_purl("npm", short, version, namespace=namespace or None),
        locations=(location,),
        licenses=tuple(licenses),
        metadata={k: v for k, v in metadata.items() if v not in (None, "", [], {})},
    )


def _license_list(doc: dict[str, Any]) -> list[str]:
    lic = doc.get("license")
    if isinstance(lic, str) and lic:
        return [lic]
    if isinstance(lic, dict) and isinstance(lic.get("type"), str):
        return [lic["type"]]
    out = []
    for item in doc.get("licenses") or []:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict) and isinstance(item.get("type"), str):
            out.append(item["type"])
    return out


def _person(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and value.get("name"):
        return str(value["name"])
    return None


class NpmAnalyzer:
    name = "npm"
    patterns: Sequence[str] = ("package.json", "package-lock.json", "yarn.lock", "pnpm-lock.yaml")

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            base = f.path.rsplit("/", 1)[1]
            try:
                if base == "package.json":
                    pkg = self._package_json(f, context)
                    if pkg is not None:
                        yield pkg
                elif base == "package-lock.json":
                    yield from self._package_lock(f)
                elif base == "yarn.lock":
                    yield from self._yarn_lock(f)
                else:
                    yield from self._pnpm_lock(f)
            except Exception as exc:
                yield AnalyzerError(self.name, f"{f.path}: {type(exc).__name__}: {exc}", f.path)

    def _package_json(self, f: FileInput, context: AnalysisContext) -> Package | None:
        doc = json.loads(f.read())
        if not isinstance(doc, dict):
            return None
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return None  # workspace roots and fixtures without identity are not packages
        homepage = doc.get("homepage")
        return npm_package(
            name,
            version,
            context.location(f.entry, context.introduced_in(f.entry)),
            _license_list(doc),
            author=_person(doc.get("author")),
            homepage=homepage if isinstance(homepage, str) else None,
            private=bool(doc.get("private")) or None,
        )

    def _package_lock(self, f: FileInput) -> Iterator[Package]:
        doc = json.loads(f.read())
        packages = doc.get("packages")
        if isinstance(packages, dict):  # lockfileVersion 2 and 3
            for key, spec in packages.items():
                if not key or not isinstance(spec, dict) or spec.get("link"):
                    continue
                name = spec.get("name") or key.rsplit("node_modules/", 1)[-1]
                version = spec.get("version")
                if isinstance(version, str) and version:
                    yield npm_package(
                        name,
                        version,
                        f.location,
                        _license_list(spec),
                        resolved=spec.get("resolved"),
                        integrity=spec.get("integrity"),
                        dev=spec.get("dev"),
                    )
            return

        def walk(deps: dict[str, Any]) -> Iterator[Package]:  # lockfileVersion 1
            for name, spec in deps.items():
                if isinstance(spec, dict) and isinstance(spec.get("version"), str):
                    version = spec["version"]
                    if version.startswith("npm:"):  # an alias: npm:real-name@version
                        name, _, version = version[4:].rpartition("@")
                    yield npm_package(
                        name,
                        version,
                        f.location,
                        resolved=spec.get("resolved"),
                        integrity=spec.get("integrity"),
                        dev=spec.get("dev"),
                    )
                    yield from walk(spec.get("dependencies") or {})

        yield from walk(doc.get("dependencies") or {})

    _YARN_HEADER = re.compile(r'^"?((?:@[^@/"]+/)?[^@"\s,]+)@')
    _YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)"?')

    def _yarn_lock(self, f: FileInput) -> Iterator[Package]:
        name: str | None = None
        seen: set[tuple[str, str]] = set()
        for line in f.read_text().splitlines():
            if not line or line.startswith("#"):
                continue
            if not line[0].isspace():
                match = self._YARN_HEADER.match(line)
                name = match.group(1) if match else None
                continue
            version = self._YARN_VERSION.match(line)
            if name and version and (name, version.group(1)) not in seen:
                seen.add((name, version.group(1)))
                yield npm_package(name, version.group(1), f.location)
                name = None

    _PNPM_KEY = re.compile(r"^\s{2}['\"]?/?((?:@[^@/]+/)?[^@/\s]+)[@/]([0-9][^:('\"\s]*)")

    def _pnpm_lock(self, f: FileInput) -> Iterator[Package]:
        in_packages = False
        seen: set[tuple[str, str]] = set()
        for line in f.read_text().splitlines():
            if line and not line[0].isspace():
                in_packages = line.startswith("packages:")
                continue
            if in_packages:
                match = self._PNPM_KEY.match(line)
                if match and (match.group(1), match.group(2)) not in seen:
                    seen.add((match.group(1), match.group(2)))
                    yield npm_package(match.group(1), match.group(2), f.location)
