"""Python packages: installed metadata (dist-info, egg-info) and lock files.

The same distribution seen through two pieces of evidence (a dist-info and an
egg-info, or a lock file and the installed copy) becomes one package with
several locations: the engine merges packages with the same purl.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import AnalyzerError, Package
from anchore.analyzers.common import make_purl, normalize_python_name, parse_rfc822

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["PythonAnalyzer", "parse_metadata"]


def parse_metadata(text: str) -> dict[str, str]:
    """The header of a METADATA / PKG-INFO file (the body is the description)."""
    header = text.split("\n\n", 1)[0]
    stanzas = parse_rfc822(header)
    return stanzas[0] if stanzas else {}


def _licenses(meta: dict[str, str]) -> list[str]:
    if meta.get("License-Expression"):
        return [meta["License-Expression"].strip()]
    found = []
    lic = meta.get("License", "").strip()
    if lic and lic.upper() != "UNKNOWN" and "\n" not in lic and len(lic) < 100:
        found.append(lic)
    if not found:
        for line in meta.get("Classifier", "").splitlines():
            if line.startswith("License ::"):
                found.append(line.split("::")[-1].strip())
    return found


def _package(name: str, version: str, **kw: Any) -> Package:
    normalized = normalize_python_name(name)
    return Package(
        type="python",
        name=normalized,
        version=version,
        purl=make_purl("pypi", normalized, version),
        **kw,
    )


class PythonAnalyzer:
    name = "python"
    patterns: Sequence[str] = (
        "**/*.dist-info/METADATA",
        "**/*.dist-info/RECORD",
        "**/*.dist-info/direct_url.json",
        "**/*.egg-info/PKG-INFO",
        "**/*.egg-info/installed-files.txt",
        "*.egg-info",
        "requirements*.txt",
        "poetry.lock",
        "Pipfile.lock",
        "uv.lock",
    )

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        by_path = {f.path: f for f in files}
        for f in files:
            base = f.path.rsplit("/", 1)[1]
            try:
                if base in ("METADATA", "PKG-INFO") or base.endswith(".egg-info"):
                    pkg = self._installed(f, by_path, context)
                    if pkg is not None:
                        yield pkg
                elif base.startswith("requirements") and base.endswith(".txt"):
                    yield from self._requirements(f)
                elif base == "poetry.lock" or base == "uv.lock":
                    yield from self._toml_lock(f)
                elif base == "Pipfile.lock":
                    yield from self._pipfile_lock(f)
            except Exception as exc:
                yield AnalyzerError(self.name, f"{f.path}: {type(exc).__name__}: {exc}", f.path)

    def _installed(
        self, f: FileInput, by_path: dict[str, FileInput], context: AnalysisContext
    ) -> Package | None:
        meta = parse_metadata(f.read_text())
        if not meta.get("Name") or not meta.get("Version"):
            return None
        layer = context.introduced_in(f.entry)
        locations = [context.location(f.entry, layer)]
        directory = f.path.rsplit("/", 1)[0]
        site = directory.rsplit("/", 1)[0]
        owned: list[str] = []
        metadata: dict[str, Any] = {}
        for key in ("Author", "Author-email", "Home-page", "Summary", "Requires-Python"):
            if meta.get(key):
                metadata[key.lower().replace("-", "_")] = meta[key]
        if meta.get("Requires-Dist"):
            metadata["requires_dist"] = meta["Requires-Dist"].splitlines()
        record = by_path.get(directory + "/RECORD")
        if record is not None:
            locations.append(record.location)
            for line in record.read_text().splitlines():
                path = line.split(",", 1)[0].strip().strip('"')
                if path:
                    owned.append(posixpath.normpath(posixpath.join(site, path)))
        installed = by_path.get(directory + "/installed-files.txt")
        if installed is not None:
            locations.append(installed.location)
            for line in installed.read_text().splitlines():
                if line.strip():
                    owned.append(posixpath.normpath(posixpath.join(directory, line.strip())))
        direct = by_path.get(directory + "/direct_url.json")
        if direct is not None:
            with contextlib.suppress(ValueError):
                metadata["direct_url"] = json.loads(direct.read())
        metadata["site_packages"] = site
        return _package(
            meta["Name"],
            meta["Version"],
            locations=tuple(locations),
            licenses=tuple(_licenses(meta)),
            files=tuple(owned),
            metadata=metadata,
        )

    _PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s;#,]+)")

    def _requirements(self, f: FileInput) -> Iterator[Package]:
        for line in f.read_text().splitlines():
            match = self._PIN.match(line)
            if match:
                yield _package(
                    match.group(1),
                    match.group(2),
                    locations=(f.location,),
                    metadata={"lock": f.path},
                )

    def _toml_lock(self, f: FileInput) -> Iterator[Package]:
        doc = tomllib.loads(f.read_text("strict"))
        for item in doc.get("package", []):
            if isinstance(item, dict) and item.get("name") and item.get("version"):
                yield _package(
                    str(item["name"]),
                    str(item["version"]),
                    locations=(f.location,),
                    metadata={"lock": f.path},
                )

    def _pipfile_lock(self, f: FileInput) -> Iterator[Package]:
        doc = json.loads(f.read())
        for section in ("default", "develop"):
            for name, spec in (doc.get(section) or {}).items():
                version = spec.get("version", "") if isinstance(spec, dict) else ""
                if version.startswith("=="):
                    yield _package(
                        name,
                        version[2:],
                        locations=(f.location,),
                        metadata={"lock": f.path, "dev": section == "develop"},
                    )
