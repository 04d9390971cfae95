"""Python packages: installed metadata (dist-info, egg-info), and lock and requirements files.

The same distribution seen through two pieces of evidence (a dist-info and an
egg-info) becomes one package with several locations: the engine merges
packages with the same purl. Lock files (``requirements*.txt``,
``poetry.lock``, ``uv.lock``, ``pdm.lock``, ``Pipfile.lock``) follow the rules
of :mod:`anchore.analyzers.lockfiles`: not read inside an installed package
(``site-packages/*/``, the interpreter's library); where their installed form
is present (a virtualenv in their directory, or most of what they pin
installed at the pinned versions) they add nothing; otherwise their packages
are declared.
"""

from __future__ import annotations

import json
import posixpath
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import split_lines
from anchore.analysis.kit import FileAnalyzer, problem
from anchore.analysis.model import Package
from anchore.analyzers.common import normalize_python_name, package_purl
from anchore.analyzers.lockfiles import (
    Each,
    declared_scheme,
    installed_package_root,
    is_version,
    mostly_installed,
    strict_each,
    unversioned_error,
)
from anchore.errors import AnchoreError
from anchore.plugins import hookimpl

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["LOCK_FILES", "PythonAnalyzer", "parse_lock", "parse_metadata", "parse_requirements"]


def parse_metadata(lines: str | Iterable[str]) -> dict[str, str]:
    """The header of a METADATA / PKG-INFO file (the body, the description, is not read),
    from its text or its lines.

    ``Key: value`` lines with indented continuations; a repeated key's values and a
    value's continuations are joined by newlines. Linear in the header: each value's
    parts are collected and joined once, so a million continuation lines cost a
    million appends, not a million copies of a growing string.
    """
    values: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in lines.splitlines() if isinstance(lines, str) else lines:
        if not line.strip():
            if values or not line:
                break  # the header ends at the first blank line
            last = None
            continue
        if line[0] in " \t":
            if last is not None:
                last.append(line.strip())
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = values.setdefault(key.strip(), [])
            last.append(value.strip())
    return {key: "\n".join(parts) for key, parts in values.items()}


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
        purl=package_purl("python", normalized, version),
        **kw,
    )


#: what a lock file's versions must be real in (the python row's declared_scheme: PEP 440)
_DECLARED = declared_scheme("python")

#: lock files by base name (``requirements*.txt`` by prefix and suffix)
LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock", "Pipfile.lock")

#: one entry of a lock file: name, version as written (checked later), metadata
Entry = tuple[str, str, dict[str, Any]]


def _is_requirements(base: str) -> bool:
    return base.startswith("requirements") and base.endswith(".txt")


def _canonical(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


_COMMENT = re.compile(r"(^|\s)#.*$")
_LOCAL_PATH = re.compile(r"^(?:\.|/|file:)")


#: the records of one lock file, how one record becomes an entry (None: not a dependency;
#: raises: a bad record), and how a record is named in an error
Records = tuple[Iterable[Any], Callable[[Any], Entry | None], Callable[[Any], str]]


def parse_requirements(text: str | Iterable[str]) -> Iterator[Entry]:
    """Pinned lines of a pip requirements file (its text or its lines).

    A line pins when its one specifier is ``==X`` (no wildcard) or ``===X``;
    extras and environment markers are kept as metadata, ``--hash`` options
    and comments dropped, ``\\`` continuations joined. Ranges and bare names
    pin nothing and are not entries; options (``-r``, ``--index-url``) and
    local editable paths (the application's own code) neither. URL and VCS
    requirements, and lines that do not parse, are entries without a version.
    """
    for line in _logical_lines(text):
        entry = _requirement(line)
        if entry is not None:
            yield entry


def _logical_lines(text: str | Iterable[str]) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each line of a requirements file, ``\\``
    continuations joined (each line's parts collected and joined once: linear)."""
    buffer: list[str] = []
    first = 0
    for number, raw in enumerate(text.splitlines() if isinstance(text, str) else text, 1):
        line = _COMMENT.sub("", raw).rstrip()
        if not buffer:
            first = number
        if line.endswith("\\"):
            buffer.append(line[:-1])
            continue
        buffer.append(line)
        yield first, " ".join(buffer).strip()
        buffer = []
    if buffer and " ".join(buffer).strip():
        yield first, " ".join(buffer).strip()


def _requirement(numbered: tuple[int, str]) -> Entry | None:
    number, line = numbered
    if not line:
        return None
    if line.startswith("-"):
        option, _, value = line.partition(" ")
        value = value.strip()
        if option in ("-e", "--editable") and value and not _LOCAL_PATH.match(value):
            egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", value)
            return (egg.group(1) if egg else value), "", {"url": value}
        return None
    line = re.split(r"\s--?[a-z]", " " + line, maxsplit=1)[0].strip()  # per-line options
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return f"line {number}: {line}", "", {}
    meta: dict[str, Any] = {"extras": sorted(req.extras), "markers": str(req.marker or "")}
    if req.url:
        return req.name, "", {"url": req.url}
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return req.name, specs[0].version, meta
    return None


def _requirements_records(text: str | Iterable[str]) -> Records:
    return _logical_lines(text), _requirement, lambda numbered: f"line {numbered[0]}"


def _toml_records(text: str | Iterable[str]) -> Records:
    """``[[package]]`` of poetry.lock, uv.lock and pdm.lock."""
    doc = tomllib.loads(text if isinstance(text, str) else "\n".join(text))
    packages = doc.get("package", [])
    if not isinstance(packages, list):
        raise ValueError(f"'package' is a {type(packages).__name__}, not an array of tables")
    return packages, _toml_entry, _describe_table


def _describe_table(item: Any) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"package {name!r}" if isinstance(name, str) else "a package"


def _toml_entry(item: Any) -> Entry | None:
    """One ``[[package]]``. The project itself and local directories (uv ``virtual``/
    ``editable``/``directory``/``path``, poetry ``directory``) are the application's own
    code."""
    if not isinstance(item, dict):
        raise ValueError(f"a {type(item).__name__}, not a table")
    name, version = item.get("name"), item.get("version") or ""
    if not name:
        return None
    if not isinstance(name, str) or not isinstance(version, str):
        raise ValueError("its name or version is not a string")
    source = item.get("source")
    if isinstance(source, dict) and (
        {"virtual", "editable", "directory", "path"} & set(source)
        or source.get("type") == "directory"
    ):
        return None
    meta: dict[str, Any] = {}
    if isinstance(source, dict) and source.get("type") not in (None, "legacy"):
        meta["source"] = source.get("url") or source.get("git") or source.get("type")
    elif isinstance(source, dict) and source.get("git"):
        meta["source"] = source["git"]
    if item.get("category") == "dev" or item.get("groups") == ["dev"]:
        meta["dev"] = True
    return name, version, meta


def _pipfile_records(text: str | Iterable[str]) -> Records:
    """``default`` and ``develop`` of a Pipfile.lock (``"version": "==1.2.3"``)."""
    doc = json.loads(text if isinstance(text, str) else "\n".join(text))
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    records: list[tuple[str, str, Any]] = []
    for section in ("default", "develop"):
        entries = doc.get(section) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"{section!r} is a {type(entries).__name__}, not an object")
        records.extend((section, name, spec) for name, spec in entries.items())
    return records, _pipfile_entry, lambda record: f"package {record[1]!r}"


def _pipfile_entry(record: tuple[str, str, Any]) -> Entry | None:
    section, name, spec = record
    if not isinstance(spec, dict):
        raise ValueError(f"a {type(spec).__name__}, not an object")
    if spec.get("path") or (spec.get("editable") and not spec.get("git")):
        return None  # the application's own code
    version = spec.get("version", "")
    meta: dict[str, Any] = {"dev": section == "develop" or None}
    if isinstance(version, str) and version.startswith("==="):
        return name, version[3:], meta
    if isinstance(version, str) and version.startswith("=="):
        return name, version[2:], meta
    source = spec.get("git") or spec.get("file") or spec.get("ref") or ""
    return name, "", {"url": source if isinstance(source, str) else ""}


def parse_lock(
    base: str, text: str | Iterable[str], each: Each = strict_each
) -> tuple[list[Entry], list[str], list[Result]]:
    """A lock or requirements file's entries with PEP 440 versions (one per normalized name
    and version), the entries without one (``name@what-was-written``), and the errors of
    its bad records (``each`` is :meth:`FileInput.each
    <anchore.analysis.analyzer.FileInput.each>`; by default a bad record raises)."""
    if _is_requirements(base):
        records, entry, describe = _requirements_records(text)
    elif base == "Pipfile.lock":
        records, entry, describe = _pipfile_records(text)
    else:
        records, entry, describe = _toml_records(text)
    good: dict[tuple[str, str], Entry] = {}
    bad: list[str] = []

    def build(record: Any) -> None:
        found = entry(record)
        if found is None:
            return
        name, version, meta = found
        if version and is_version(_DECLARED, version):
            key = (normalize_python_name(name), _canonical(version))
            good.setdefault(key, (name, version, meta))
        else:
            source = meta.get("url") or version or "?"
            bad.append(name if name.startswith("line ") or name == source else f"{name}@{source}")

    errors = list(each(records, build, describe=describe))
    return list(good.values()), bad, errors


class PythonAnalyzer(FileAnalyzer):
    """Installed distributions (one package from a METADATA or PKG-INFO and the files
    beside it), then lock files; a file that does not parse is one error (the kit's)."""

    name = "python"
    patterns: Sequence[str] = (
        "**/*.dist-info/METADATA",
        "**/*.dist-info/RECORD",
        "**/*.dist-info/direct_url.json",
        "**/*.egg-info/PKG-INFO",
        "**/*.egg-info/installed-files.txt",
        "*.egg-info",
        "pyvenv.cfg",
        "requirements*.txt",
        *LOCK_FILES,
    )

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        by_path = {f.path: f for f in files}
        installed: set[tuple[str, str]] = set()
        locks: list[FileInput] = []
        venvs: list[str] = []
        for f in files:
            base = f.path.rsplit("/", 1)[1]
            if base == "pyvenv.cfg":
                venvs.append(posixpath.dirname(f.path))
            elif _is_requirements(base) or base in LOCK_FILES:
                locks.append(f)
            elif base in ("METADATA", "PKG-INFO") or base.endswith(".egg-info"):
                for result in self.parse_file(f, lambda f: self._installed(f, by_path)):
                    if isinstance(result, Package):
                        installed.add((result.name, _canonical(result.version)))
                    yield result
        for f in locks:
            if installed_package_root(f.path) is None:
                yield from self.parse_file(f, lambda f: self._lock(f, installed, venvs))

    def _lock(
        self, f: FileInput, installed: set[tuple[str, str]], venvs: list[str]
    ) -> Iterator[Result]:
        directory = posixpath.dirname(f.path)
        inside = directory.rstrip("/") + "/"
        if any(venv == directory or venv.startswith(inside) for venv in venvs):
            return  # installed into a virtualenv of its own: the dist-infos are the answer
        base = f.path.rsplit("/", 1)[1]
        text = f.lines("strict") if _is_requirements(base) else f.read_text("strict")
        entries, bad, errors = parse_lock(base, text, f.each)
        yield from errors
        pins = {(normalize_python_name(n), _canonical(v)) for n, v, _ in entries}
        if mostly_installed(pins, installed):
            return  # installed into the image's Python: the dist-infos are the answer
        location = f.location

        def package(entry: Entry) -> Package:
            name, version, meta = entry
            metadata = {k: v for k, v in meta.items() if v not in (None, "", [], {})}
            return _package(name, version, locations=(location,), declared=True,
                            metadata={"lock": f.path, **metadata})  # fmt: skip

        yield from f.each(entries, package, describe=lambda e: f"package {e[0]!r}")
        error = unversioned_error(self.name, f.path, bad)
        if error is not None:
            yield error

    def _installed(self, f: FileInput, by_path: dict[str, FileInput]) -> Iterator[Result]:
        """One distribution: its METADATA's header (bounded: ``file.lines`` limits), and the
        files its RECORD lists; a RECORD that cannot be read is an error of its own, the
        distribution still reported."""
        data = f.read()
        cut = data.find(b"\n\n")  # the header ends at the first blank line
        meta = parse_metadata(split_lines(data if cut < 0 else data[:cut], f.path, f.limits))
        if not meta.get("Name") or not meta.get("Version"):
            return
        locations = [f.location]
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
            try:
                lines = record.lines()
            except AnchoreError as exc:
                yield record.error(problem(exc))
            else:
                locations.append(record.location)
                for line in lines:
                    path = line.split(",", 1)[0].strip().strip('"')
                    if path:
                        owned.append(posixpath.normpath(posixpath.join(site, path)))
        installed = by_path.get(directory + "/installed-files.txt")
        if installed is not None:
            try:
                lines = installed.lines()
            except AnchoreError as exc:
                yield installed.error(problem(exc))
            else:
                locations.append(installed.location)
                for line in lines:
                    if line.strip():
                        owned.append(posixpath.normpath(posixpath.join(directory, line.strip())))
        direct = by_path.get(directory + "/direct_url.json")
        if direct is not None:
            try:  # the distribution stands whatever its direct_url.json holds
                found = json.loads(direct.read())
            except Exception as exc:
                yield direct.error(problem(exc))
            else:
                if isinstance(found, dict):
                    metadata["direct_url"] = found
        metadata["site_packages"] = site
        yield _package(
            meta["Name"],
            meta["Version"],
            locations=tuple(locations),
            licenses=tuple(_licenses(meta)),
            files=tuple(owned),
            metadata=metadata,
        )


@hookimpl
def anchore_analyzers() -> list[PythonAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [PythonAnalyzer()]
