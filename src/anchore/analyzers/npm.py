"""JavaScript packages: installed ``package.json`` files, and npm/yarn/pnpm lock files.

Installed packages come from ``package.json`` files. A lock file
(``package-lock.json``, ``npm-shrinkwrap.json``, ``yarn.lock``,
``pnpm-lock.yaml``) follows the rules of :mod:`anchore.analyzers.lockfiles`:
not read inside an installed package; with ``node_modules`` beside it, it only
adds ``resolved``/``integrity`` to the installed packages it lists (npm locks
v2 and v3 name their paths); without, its packages are declared.
"""

from __future__ import annotations

import json
import posixpath
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import FileAnalyzer
from anchore.analysis.model import Location, Package
from anchore.analyzers.common import package_purl
from anchore.analyzers.lockfiles import (
    Each,
    declared_scheme,
    installed_package_root,
    is_version,
    strict_each,
    unversioned_error,
)
from anchore.documents import MAX_DEPTH, load_yaml_all
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["LOCK_FILES", "NpmAnalyzer", "npm_package", "parse_lock"]

#: what a lock file's versions must be real in (the npm row's declared_scheme)
_DECLARED = declared_scheme("npm")

#: the lock files this analyzer reads, by base name
LOCK_FILES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")


def npm_package(
    name: str,
    version: str,
    location: Location,
    licenses: Sequence[str] = (),
    *,
    declared: bool = False,
    **metadata: Any,
) -> Package:
    namespace, _, short = name.rpartition("/") if name.startswith("@") else ("", "", name)
    return Package(
        type="npm",
        name=name,
        version=version,
        purl=package_purl("npm", short, version, namespace=namespace or None),
        locations=(location,),
        licenses=tuple(licenses),
        metadata={k: v for k, v in metadata.items() if v not in (None, "", [], {})},
        declared=declared,
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


#: one entry of a lock file: name, version as written (checked later), metadata
Entry = tuple[str, str, dict[str, Any]]
#: protocols of packages that are the application's own code, not dependencies
_LOCAL = ("file:", "link:", "workspace:", "portal:")


def _split_descriptor(descriptor: str) -> tuple[str, str]:
    """``@scope/name@range`` -> (``@scope/name``, ``range``); no range gives ``""``."""
    at = descriptor.find("@", 1)
    return (descriptor, "") if at < 0 else (descriptor[:at], descriptor[at + 1 :])


#: the records of one lock file, how one record becomes an entry (None: not a dependency;
#: raises: a bad record), and how a record is named in an error
Records = tuple[Iterable[Any], Callable[[Any], Entry | None], Callable[[Any], str]]


def _text(value: Any, field: str) -> str | None:
    """A field that must be a string when present."""
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"{field} is a {type(value).__name__}, not a string")


def package_lock_records(text: str) -> Records:
    """``package-lock.json`` / ``npm-shrinkwrap.json``, lockfileVersion 1 to 3.

    v2/v3 ``packages`` keys are install paths: the root (``""``) and workspace
    members (paths without ``node_modules/``) are the application itself, and
    ``link`` entries point at one of those. An alias (``"name": "real"``, or v1's
    ``npm:real@1.2.3``) is reported under the real name. A record whose fields have
    the wrong JSON types is a bad record.
    """
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("not a JSON object")
    packages = doc.get("packages")
    if isinstance(packages, dict):  # lockfileVersion 2 and 3
        return packages.items(), _v2_entry, lambda item: f"package {item[0]!r}"
    return _v1_records(doc.get("dependencies")), _v1_entry, lambda item: f"dependency {item[0]!r}"


def _v2_entry(item: tuple[str, Any]) -> Entry | None:
    key, spec = item
    if "node_modules/" not in key:
        return None  # the application and its workspace members
    if not isinstance(spec, dict):
        raise ValueError(f"a {type(spec).__name__}, not an object")
    if spec.get("link"):
        return None
    name = _text(spec.get("name"), "name") or key.rsplit("node_modules/", 1)[-1]
    version = spec.get("version")
    resolved = _text(spec.get("resolved"), "resolved")
    return (
        name,
        version if isinstance(version, str) else resolved or "",
        {
            "path": key,
            "resolved": resolved,
            "integrity": _text(spec.get("integrity"), "integrity"),
            "dev": spec.get("dev"),
            "licenses": _license_list(spec),
        },
    )


def _v1_records(deps: Any) -> Iterator[tuple[str, Any]]:
    """Every (name, spec) of a lockfileVersion 1 ``dependencies`` tree, depth first, with
    a stack of our own (the tree is as deep as the image says); the dependencies of a
    spec without a string version are not looked at."""
    stack = [iter(deps.items())] if isinstance(deps, dict) else []
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
            continue
        yield item
        spec = item[1]
        if isinstance(spec, dict) and isinstance(spec.get("version"), str):
            children = spec.get("dependencies")
            if isinstance(children, dict):
                stack.append(iter(children.items()))


def _v1_entry(item: tuple[str, Any]) -> Entry | None:
    name, spec = item
    if not isinstance(spec, dict):
        raise ValueError(f"a {type(spec).__name__}, not an object")
    version = _text(spec.get("version"), "version")
    if version is None:
        return None
    name = name.rsplit("node_modules/", 1)[-1]  # some v1 files key by install path
    if version.startswith("npm:"):  # an alias: npm:real-name@version
        name, version = _split_descriptor(version[4:])
    if version.startswith(_LOCAL):
        return None
    meta = {k: spec.get(k) for k in ("resolved", "integrity", "dev")}
    return name, version, meta


#: a yarn.lock field: two-space indent, key (quoted or not), value (quoted or not). Each
#: quantifier stops where the next part's first character must be, so no line backtracks
#: more than its length (``\s+"?([^"]*)"?\s*$`` rescans a run of spaces from every split)
_YARN_FIELD = re.compile(r'^  ("?)([^\s":]+)\1:?\s+(.*)$')
_YARN_VALUE = re.compile(r'"?([^"]*)"?')


def _yarn_field(line: str) -> tuple[str, str] | None:
    """(key, value) of a two-space-indented field line of a yarn.lock block."""
    match = _YARN_FIELD.match(line)
    if not match:
        return None
    rest = match.group(3)
    value = _YARN_VALUE.match(rest)
    if value is None or rest[value.end() :].strip():
        return None  # something after the closing quote
    return match.group(2), value.group(1)


def _yarn_blocks(text: str | Iterable[str]) -> Iterator[tuple[list[str], dict[str, str]]]:
    """(descriptors, two-space-indented fields) of each top-level block of a yarn.lock."""
    descriptors: list[str] | None = None
    fields: dict[str, str] = {}
    for line in text.splitlines() if isinstance(text, str) else text:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if descriptors is not None:
                yield descriptors, fields
            header = line.rstrip().removesuffix(":")
            descriptors = [d.strip().strip('"') for d in header.split(",") if d.strip()]
            fields = {}
        elif descriptors is not None:
            field = _yarn_field(line)
            if field:
                fields[field[0]] = field[1]
    if descriptors is not None:
        yield descriptors, fields


def yarn_lock_records(text: str | Iterable[str]) -> Records:
    """yarn.lock, classic (v1) and berry (v2+), from its text or its lines.

    Classic: the name is the descriptor's (``alias@npm:real@^1`` names ``real``),
    the version its ``version`` field. Berry: ``resolution`` says what was
    resolved: ``name@npm:1.2.3`` (and ``patch:`` of one, which is that
    package); ``workspace:``, ``link:``, ``portal:`` and ``file:`` ones are the
    application's own code; git and URL ones take the ``version`` field.
    """
    return _yarn_blocks(text), _yarn_entry, lambda block: f"entry {', '.join(block[0])!r}"


def _yarn_entry(block: tuple[list[str], dict[str, str]]) -> Entry | None:
    descriptors, fields = block
    if descriptors == ["__metadata"] or not descriptors:
        return None
    resolution = fields.get("resolution")
    meta: dict[str, Any] = {
        "resolved": fields.get("resolved"),
        "integrity": fields.get("integrity") or fields.get("checksum"),
    }
    if resolution:  # berry
        name, ref = _split_descriptor(resolution)
        if ref.startswith("patch:"):  # patch:real@npm%3A1.2.3#...: the patched package
            name, ref = _split_descriptor(urllib.parse.unquote(ref[6:].split("#", 1)[0]))
        if ref.startswith(_LOCAL):
            return None
        meta["resolution"] = resolution
        version = ref[4:] if ref.startswith("npm:") else fields.get("version", ref)
        return name, version, meta
    name, spec = _split_descriptor(descriptors[0])
    if spec.startswith("npm:") and "@" in spec[5:]:  # an alias
        name, _ = _split_descriptor(spec[4:])
    if spec.startswith(_LOCAL):
        return None
    return name, fields.get("version", ""), meta


def _pnpm_key(key: str) -> tuple[str, str]:
    """(name, version) of a pnpm ``packages`` key, any lockfile version.

    v5 ``/name/1.2.3_peer@x`` or ``/@scope/name/1.2.3_@babel+core@7.18.2``;
    v6 ``/name@1.2.3(peer@x)``; v9 ``name@1.2.3(peer@x)``. Peer suffixes
    (``_…`` in v5, ``(…)`` later) are not part of the version.
    """
    text = key.strip().lstrip("/").split("(", 1)[0]
    scope = ""
    if text.startswith("@"):
        scope, _, text = text.partition("/")
        scope += "/"
    cut = min((i for i in (text.find("/"), text.find("@")) if i >= 0), default=-1)
    if cut < 0:
        return scope + text, ""
    name, version = scope + text[:cut], text[cut + 1 :]
    if text[cut] == "/" and "/" in version:  # v5 host/path keys (github.com/user/repo/sha)
        return scope + text, ""
    return name, version.split("_", 1)[0]


_PNPM_DEPENDENCIES = {"dependencies", "devDependencies", "optionalDependencies"}


def pnpm_lock_records(text: str) -> Records:
    """pnpm-lock.yaml v5, v6 and v9 (and multi-document files).

    A document whose importers list only ``configDependencies`` or
    ``packageManagerDependencies`` is pnpm's own environment (the package
    manager), not the application's. Entries with ``name``/``version`` fields
    (tarball and git dependencies) use them.
    """
    return _pnpm_records(text), _pnpm_entry, lambda item: f"package {item[0]!r}"


#: deepest nesting read in a pnpm-lock.yaml (pnpm writes 4 levels): PyYAML's C composer
#: recurses in C once per level and crashes the process past some 10^4 (200 KB of ``[``)
MAX_YAML_DEPTH = MAX_DEPTH


def _yaml_documents(text: str) -> Iterator[Any]:
    """The documents of ``text`` (a safe loader: plain data), once its nesting and aliases
    are known to be within bounds (:func:`anchore.documents.load_yaml_all`: the parser's
    events are counted first, at a sixth of the loading's cost); past them, a ValueError
    (the record's error entry)."""
    return load_yaml_all(text, ValueError, max_depth=MAX_YAML_DEPTH)


def _scalar(value: Any) -> str | bool | None:
    """A field kept in metadata: a string or a flag, else nothing (an alias may make any
    value a structure of millions of shared references, costly to write out)."""
    return value if isinstance(value, (str, bool)) else None


def _pnpm_records(text: str) -> Iterator[tuple[Any, Any]]:
    for doc in _yaml_documents(text):
        if not isinstance(doc, dict) or not isinstance(doc.get("packages"), dict):
            continue
        importers = doc.get("importers")
        if (
            isinstance(importers, dict)
            and importers
            and not any(
                isinstance(spec, dict) and _PNPM_DEPENDENCIES & set(spec)
                for spec in importers.values()
            )
        ):
            continue
        yield from doc["packages"].items()


def _pnpm_entry(item: tuple[Any, Any]) -> Entry | None:
    key, spec = item
    spec = spec if isinstance(spec, dict) else {}
    name, version = _pnpm_key(str(key))
    if isinstance(spec.get("name"), str):
        name = spec["name"]
    if isinstance(spec.get("version"), str):
        version = spec["version"]
    resolution = spec.get("resolution")
    resolution = resolution if isinstance(resolution, dict) else {}
    if version.startswith(_LOCAL) or resolution.get("type") == "directory":
        return None
    return name, version, {"integrity": _scalar(resolution.get("integrity")),
                           "resolved": _scalar(resolution.get("tarball")),
                           "dev": _scalar(spec.get("dev"))}  # fmt: skip


_PARSERS: dict[str, Callable[[Any], Records]] = {
    "package-lock.json": package_lock_records,
    "npm-shrinkwrap.json": package_lock_records,
    "yarn.lock": yarn_lock_records,
    "pnpm-lock.yaml": pnpm_lock_records,
}


def parse_lock(
    basename: str, text: str | Iterable[str], each: Each = strict_each
) -> tuple[list[Entry], list[str], list[Result]]:
    """A lock file's entries with real (semver) versions, one per (name, version), the
    entries without one (``name@what-was-written``), and the errors of its bad records
    (``each`` is :meth:`FileInput.each <anchore.analysis.analyzer.FileInput.each>`;
    by default a bad record raises)."""
    good: dict[tuple[str, str], Entry] = {}
    bad: list[str] = []
    records, entry, describe = _PARSERS[basename](text)

    def build(record: Any) -> None:
        found = entry(record)
        if found is None or not found[0]:
            return
        name, version, meta = found
        if not isinstance(name, str) or not isinstance(version, str):
            raise ValueError("name or version is not a string")
        if is_version(_DECLARED, version):
            good.setdefault((name, version), (name, version, meta))
        else:
            bad.append(f"{name}@{version or '?'}")

    errors = list(each(records, build, describe=describe))
    return list(good.values()), bad, errors


class NpmAnalyzer(FileAnalyzer):
    """Lock files first (an installed tree's npm lock adds sources to its package.json
    files), then installed package.json files; a file that does not parse is one error."""

    name = "npm"
    patterns: Sequence[str] = ("package.json", *LOCK_FILES)

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        sources: dict[str, dict[str, Any]] = {}  # installed package.json -> resolved, integrity
        for f in files:
            if f.path.rsplit("/", 1)[1] in LOCK_FILES and installed_package_root(f.path) is None:
                yield from self.parse_file(f, lambda f: self._lock(f, sources))
        for f in files:
            if f.path.endswith("/package.json"):
                yield from self.parse_file(
                    f, lambda f: self._package_json(f, sources.get(f.path, {}))
                )

    def _lock(self, f: FileInput, sources: dict[str, dict[str, Any]]) -> Iterator[Result]:
        """A lock file's packages (or, installed, its sources), each record on its own: a
        bad one (a name no purl can hold, a field of the wrong JSON type) is one error
        naming it, and the others still count."""
        base = f.path.rsplit("/", 1)[1]
        directory = posixpath.dirname(f.path)
        if f.context.image.exists(posixpath.join(directory, "node_modules")):
            # installed: the package.json files are the answer; an npm lock adds their sources
            if base not in ("package-lock.json", "npm-shrinkwrap.json"):
                return
            entries, _, errors = parse_lock(base, _text_of(f, base), f.each)
            yield from errors
            for _, _, meta in entries:
                if meta.get("path"):
                    sources[posixpath.join(directory, meta["path"], "package.json")] = {
                        k: meta[k] for k in ("resolved", "integrity") if meta.get(k)
                    }
            return
        entries, bad, errors = parse_lock(base, _text_of(f, base), f.each)
        yield from errors
        location = f.location

        def package(entry: Entry) -> Package:
            name, version, meta = entry
            return npm_package(
                name,
                version,
                location,
                meta.get("licenses", ()),
                declared=True,
                lock=f.path,
                **{k: v for k, v in meta.items() if k not in ("path", "licenses")},
            )

        yield from f.each(entries, package, describe=lambda e: f"package {e[0]!r}")
        error = unversioned_error(self.name, f.path, bad)
        if error is not None:
            yield error

    def _package_json(self, f: FileInput, sources: dict[str, Any]) -> Iterator[Package]:
        doc = json.loads(f.read())
        if not isinstance(doc, dict):
            return
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str) or not name or not version:
            return  # workspace roots and fixtures without identity are not packages
        homepage = doc.get("homepage")
        yield npm_package(
            name,
            version,
            f.location,
            _license_list(doc),
            author=_person(doc.get("author")),
            homepage=homepage if isinstance(homepage, str) else None,
            private=bool(doc.get("private")) or None,
            **sources,
        )


def _text_of(f: FileInput, base: str) -> str | Iterator[str]:
    """A lock file's text: a yarn.lock's lines within the kit's text limits; the JSON and
    YAML files whole (parsed by C code: linear, their nesting bounded)."""
    return f.lines() if base == "yarn.lock" else f.read_text()


@hookimpl
def anchore_analyzers() -> list[NpmAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [NpmAnalyzer()]
