"""``analyze()``: one walk of the squashed tree, each file offered to the analyzers that want it.

The walk matches every path against every analyzer's patterns at once
(basenames by dictionary, suffixes by ``endswith``, the rest by one regular
expression). The small files that matched are then read in a single forward
pass per layer, shared by every analyzer that wants them; large ones are
streamed on demand. Analyzers run concurrently; one that fails yields an
error entry and the analysis goes on.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
import os
import re
import struct
import threading
import time
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import attrs

from anchore.analysis.analyzer import Analyzer, FileInput, Result
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Dataset,
    Distro,
    FileRecord,
    Finding,
    Location,
    Package,
    Relationship,
)
from anchore.errors import AnchoreError
from anchore.image.filetree import FileEntry
from anchore.image.image import Image, open_image
from anchore.purls import package_purl_problems

__all__ = ["AnalysisContext", "PathMatcher", "analyze"]

log = logging.getLogger(__name__)

#: files up to this size are read in the shared prefetch pass; larger ones on demand
PREFETCH_MAX_BYTES = 4 * 1024 * 1024

Progress = Callable[[str, int, int], None]


def _glob_regex(pattern: str) -> str:
    """A path glob as a regex: ``**/`` is any number of directories, ``*`` stays in one."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        else:
            c = pattern[i]
            if c == "*":
                out.append("[^/]*")
            elif c == "?":
                out.append("[^/]")
            elif c == "[":
                end = pattern.find("]", i + 1)
                if end < 0:
                    out.append(re.escape(c))
                else:
                    out.append(fnmatch.translate(pattern[i : end + 1])[4:-3])
                    i = end
            else:
                out.append(re.escape(c))
            i += 1
    return "".join(out)


class PathMatcher:
    """Which analyzers want a path: many patterns, one cheap test per path."""

    def __init__(self, analyzers: Sequence[Analyzer]) -> None:
        self._by_basename: dict[str, list[int]] = {}
        self._by_suffix: list[tuple[str, int]] = []
        regexes: list[str] = []
        self._groups: dict[str, int] = {}
        for i, analyzer in enumerate(analyzers):
            for pattern in analyzer.patterns:
                if "/" not in pattern:
                    if not any(c in pattern for c in "*?["):
                        self._by_basename.setdefault(pattern, []).append(i)
                        continue
                    if pattern.startswith("*") and not any(c in pattern[1:] for c in "*?["):
                        self._by_suffix.append((pattern[1:], i))
                        continue
                    body = "(?:.*/)?" + _glob_regex(pattern)
                else:
                    body = _glob_regex(
                        pattern if pattern.startswith(("/", "**")) else "/" + pattern
                    )
                name = f"g{len(regexes)}"
                self._groups[name] = i
                regexes.append(f"(?P<{name}>{body})")
        self._regex = re.compile("|".join(f"(?:{r})\\Z" for r in regexes)) if regexes else None
        self._many = [re.compile(f"{r}\\Z") for r in regexes]
        self._owners = [self._groups[f"g{k}"] for k in range(len(regexes))]

    def match(self, path: str) -> set[int]:
        """Indexes of the analyzers whose patterns match ``path``."""
        found: set[int] = set()
        base = path.rpartition("/")[2]
        hits = self._by_basename.get(base)
        if hits:
            found.update(hits)
        for suffix, i in self._by_suffix:
            if base.endswith(suffix):
                found.add(i)
        if self._regex is not None and self._regex.match(path):
            # one alternation found a match; ask each pattern which ones (rare: few paths get here)
            for regex, owner in zip(self._many, self._owners, strict=True):
                if owner not in found and regex.match(path):
                    found.add(owner)
        return found


class AnalysisContext:
    """What analyzers may ask of the image, beyond the files they were offered."""

    def __init__(self, image: Image) -> None:
        self.image = image
        self._cache: dict[tuple[int, int], bytes] = {}
        self._lock = threading.Lock()

    @functools.cached_property
    def distro(self) -> Distro | None:
        """The image's distro (from os-release and the like), computed once."""
        from anchore.analyzers.distro import RELEASE_FILES, detect_distro

        found = []
        for path in RELEASE_FILES:
            try:
                entry = self.image.stat(path)
            except AnchoreError:
                continue
            if entry.is_file:
                found.append(FileInput(entry, self))
        return detect_distro(found)

    # content
    def prefetch(self, entries: Iterable[FileEntry]) -> None:
        wanted = {e.data_location: e for e in entries if e.data_location not in self._cache}
        for entry, data in self.image._content.read_many(wanted.values()):
            self._cache[entry.data_location] = data

    def stream(self, entries: Iterable[FileEntry]) -> Iterator[tuple[FileEntry, bytes]]:
        """Contents of many files, one forward pass per layer, not kept afterwards.

        For analyzers that look at each file once (secrets, binaries): memory
        stays at one file, where ``prefetch`` would keep them all.
        """
        pending = []
        for entry in entries:
            cached = self._cache.get(entry.data_location)
            if cached is not None:
                yield entry, cached
            else:
                pending.append(entry)
        yield from self.image._content.read_many(pending)

    def read_heads(self, entries: Iterable[FileEntry], size: int) -> dict[str, bytes]:
        """The first ``size`` bytes of many files, in one pass: for sniffing file types."""
        return {e.path: data for e, data in self.image._content.read_many(entries, head=size)}

    def read(self, entry: FileEntry) -> bytes:
        cached = self._cache.get(entry.data_location)
        if cached is not None:
            return cached
        return self.image._content.read_bytes(entry)

    def open(self, entry: FileEntry) -> BinaryIO:
        return self.image._content.open(entry)

    # locations and layers
    def location(self, entry: FileEntry, layer_index: int | None = None) -> Location:
        index = entry.layer_index if layer_index is None else layer_index
        digest = self.image.layers[index].digest if 0 <= index < len(self.image.layers) else ""
        return Location(entry.path, index, digest)

    def layer_copies(self, path: str) -> list[tuple[int, bytes]]:
        """Every layer's own copy of ``path``, oldest first: how a database grew."""
        copies = []
        for layer in self.image.layers:
            try:
                entry = layer.stat(path)
            except AnchoreError:
                continue
            if entry.is_file:
                try:
                    copies.append((layer.index, self.read(entry)))
                except AnchoreError as exc:
                    log.warning("cannot read layer %d copy of %s: %s", layer.index, path, exc)
        return copies

    def first_layers(
        self, path: str, keys: Callable[[bytes], Iterable[Hashable]]
    ) -> dict[Hashable, int]:
        """For each record of a package database: the first layer whose copy lists it.

        ``keys(data)`` gives the identities (name, version...) one copy lists. A
        record that disappears from a later copy and comes back counts from its
        return. A copy that ``keys`` cannot read is skipped (the current copy's
        own errors are the analyzer's to report).
        """
        first: dict[Hashable, int] = {}
        for layer, data in self.layer_copies(path):
            try:
                present = set(keys(data))
            except (ValueError, KeyError, struct.error):
                continue
            for key in present:
                first.setdefault(key, layer)
            for key in list(first):
                if key not in present:
                    del first[key]
        return first

    def introduced_in(self, entry: FileEntry) -> int:
        """The first layer of the unbroken run of layers that kept writing this path.

        A later layer that rewrites a file (``chmod -R``, a re-install) does not
        take the credit from the layer that first put it there, unless the path
        was deleted in between.
        """
        path = entry.path
        first = entry.layer_index
        for index in range(entry.layer_index - 1, -1, -1):
            later = self.image.layers[index + 1]
            if _deleted_by(later.whiteouts, later.opaque_dirs, path):
                break
            try:
                self.image.layers[index].stat(path)
            except AnchoreError:
                continue
            first = index
        return first


def _deleted_by(whiteouts: Sequence[str], opaque: Sequence[str], path: str) -> bool:
    for gone in whiteouts:
        if path == gone or path.startswith(gone + "/"):
            return True
    return any(path.startswith(d.rstrip("/") + "/") for d in opaque)


def _merge(packages: list[Package]) -> list[Package]:
    """One package per identity; the evidence of duplicates becomes extra locations."""
    merged: dict[tuple[str, str, str, str], Package] = {}
    for pkg in packages:
        key = (pkg.type, pkg.name, pkg.version, pkg.purl)
        seen = merged.get(key)
        if seen is None or (seen.declared and not pkg.declared):
            merged[key] = pkg  # installed evidence beats a lock file's declaration
            continue
        if pkg.declared and not seen.declared:
            continue
        locations = tuple(
            sorted(
                set(seen.locations) | set(pkg.locations),
                key=lambda loc: (loc.layer_index, loc.path),
            )
        )
        licenses = tuple(dict.fromkeys(seen.licenses + pkg.licenses))
        files = tuple(dict.fromkeys(seen.files + pkg.files))
        merged[key] = attrs.evolve(seen, locations=locations, licenses=licenses, files=files)
    return sorted(merged.values(), key=lambda p: (p.type, p.name, p.version, p.purl))


def analyze(
    image: Image | str | os.PathLike[str],
    *,
    analyzers: Sequence[Analyzer] | Sequence[str] | None = None,
    progress: Progress | None = None,
    workers: int = 2,
    digests: Sequence[str] = (),
) -> Analysis:
    """Analyze an image with every registered analyzer (or those named).

    ``image`` is an opened :class:`Image` or what :func:`anchore.open_image`
    takes (a path, ``path:tag``): a path is opened and closed here.
    ``progress(stage, done, total)`` is called as work completes. ``digests``
    (``"sha256"``, ``"md5"``...) adds content digests to the file inventory;
    they cost a read of every file, so none are computed unless asked.
    """
    if not isinstance(image, Image):
        if not isinstance(image, (str, os.PathLike)):
            raise TypeError(f"analyze() takes an Image or a path, not {type(image).__name__}")
        with open_image(image) as opened:
            return analyze(
                opened, analyzers=analyzers, progress=progress, workers=workers, digests=digests
            )
    from anchore.plugins import manager

    chosen = manager.select_analyzers(analyzers)
    matcher = PathMatcher(chosen)
    context = AnalysisContext(image)
    entries = list(image.files())
    offered = _offer(matcher, len(chosen), entries)
    if progress:
        progress("walk", len(entries), len(entries))
    prefetch = _prefetchable(chosen, offered)
    try:
        context.prefetch(prefetch)
    except AnchoreError as exc:  # a broken member: analyzers will meet it one by one
        log.warning("prefetch stopped: %s", exc)
    if progress:
        progress("read", len(prefetch), len(prefetch))

    results: list[list[Result]] = [[] for _ in chosen]
    errors: list[AnalyzerError] = []
    timings: dict[str, float] = {}
    failed = [False] * len(chosen)

    def run(i: int) -> None:
        analyzer = chosen[i]
        start = time.perf_counter()
        inputs = [FileInput(e, context) for e in offered[i] if e.is_file]
        try:
            # needs_files=False: called with no file too, to record what it looked for
            if inputs or not analyzer.patterns or not getattr(analyzer, "needs_files", True):
                results[i] = list(analyzer.analyze(inputs, context))
        except Exception as exc:
            log.exception("analyzer %s failed", analyzer.name)
            results[i] = [AnalyzerError(analyzer.name, f"{type(exc).__name__}: {exc}")]
            failed[i] = True
        timings[analyzer.name] = time.perf_counter() - start

    done = 0
    with ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="anchore-analyze"
    ) as pool:
        for _ in pool.map(run, range(len(chosen))):
            done += 1
            if progress:
                progress("analyze", done, len(chosen))

    found = _Found()
    for analyzer, items in zip(chosen, results, strict=True):
        found.add(analyzer.name, items)
    errors.extend(found.errors)
    packages = _without_os_owned_declarations(_merge(found.packages))
    records = _inventory(image, entries, packages, digests, context)
    relationships = _ownership(packages)
    return Analysis(
        image=image.to_dict(),
        distro=found.distros[0] if found.distros else None,
        packages=packages,
        findings=sorted(
            found.findings, key=lambda f: (f.kind, f.rule, [loc.path for loc in f.locations])
        ),
        files=records,
        errors=errors,
        relationships=relationships,
        datasets=found.datasets,
        timings=timings,
        analyzers=tuple(a.name for a in chosen),
        failed_analyzers=tuple(a.name for a, bad in zip(chosen, failed, strict=True) if bad),
    )


def _offer(matcher: PathMatcher, count: int, entries: list[FileEntry]) -> list[list[FileEntry]]:
    """Per analyzer, the files and symlinks whose paths its patterns match (one walk)."""
    offered: list[list[FileEntry]] = [[] for _ in range(count)]
    for entry in entries:
        if entry.is_file or entry.is_symlink:
            for i in matcher.match(entry.path):
                offered[i].append(entry)
    return offered


def _prefetchable(chosen: Sequence[Analyzer], offered: list[list[FileEntry]]) -> list[FileEntry]:
    """Small regular files the analyzers want read in the shared pass."""
    return [
        e
        for analyzer, files in zip(chosen, offered, strict=True)
        if getattr(analyzer, "prefetch", True)
        for e in files
        if e.is_file and e.data_location[0] >= 0 and e.size <= PREFETCH_MAX_BYTES and not e.sparse
    ]


@attrs.define
class _Found:
    """What the analyzers yielded, sorted by kind; each item stamped with its analyzer."""

    packages: list[Package] = attrs.Factory(list)
    findings: list[Finding] = attrs.Factory(list)
    distros: list[Distro] = attrs.Factory(list)
    datasets: dict[str, Dataset] = attrs.Factory(dict)
    errors: list[AnalyzerError] = attrs.Factory(list)

    def add(self, name: str, items: Iterable[Result]) -> None:
        for item in items:
            if isinstance(item, Package):
                item = item if item.found_by else attrs.evolve(item, found_by=name)
                self.packages.append(_with_valid_purl(item, self.errors))
            elif isinstance(item, Finding):
                self.findings.append(item if item.found_by else attrs.evolve(item, found_by=name))
            elif isinstance(item, Distro):
                self.distros.append(item)
            elif isinstance(item, Dataset):
                self.datasets[item.name] = item
            elif isinstance(item, AnalyzerError):
                self.errors.append(item)
            else:
                kind = type(item).__name__
                self.errors.append(AnalyzerError(name, f"yielded {kind}, not a result"))


OS_PACKAGE_TYPES = frozenset({"deb", "rpm", "apk"})


def _with_valid_purl(pkg: Package, errors: list[AnalyzerError]) -> Package:
    """No analyzer, ours or a plugin's, gets a malformed purl past this point: a package
    whose purl does not parse, round-trip or name it is kept, without a purl, and the
    problem is reported (an invalid identity matches no advisory, silently)."""
    problems = package_purl_problems(pkg, known_types_only=False)
    if not problems:
        return pkg
    why = f"invalid purl {pkg.purl!r}: {'; '.join(problems)}"
    path = pkg.locations[0].path if pkg.locations else None
    errors.append(AnalyzerError(pkg.found_by, f"{pkg.type} {pkg.name} {pkg.version}: {why}", path))
    return attrs.evolve(pkg, purl="", metadata={**pkg.metadata, "purl_missing": why})


def _without_os_owned_declarations(packages: list[Package]) -> list[Package]:
    """What a lock file that an OS package installed declares is not the image's: such a
    lock describes that package's development. Its locations are dropped from declared
    packages, and a declared package left with none is dropped."""
    owned = {
        path
        for pkg in packages
        if pkg.type in OS_PACKAGE_TYPES
        for listed in pkg.files
        for path in (listed, _usrmerge(listed))
    }
    kept = []
    for pkg in packages:
        if pkg.declared and any(loc.path in owned for loc in pkg.locations):
            locations = tuple(loc for loc in pkg.locations if loc.path not in owned)
            if not locations:
                continue
            metadata = dict(pkg.metadata)
            if metadata.get("lock") in owned:
                metadata["lock"] = locations[0].path
            pkg = attrs.evolve(pkg, locations=locations, metadata=metadata)
        kept.append(pkg)
    return kept


def _ownership(packages: list[Package]) -> list[Relationship]:
    """An OS package that installed another package's evidence file owns it."""
    owner_of: dict[str, str] = {}
    for pkg in packages:
        if pkg.type in OS_PACKAGE_TYPES:
            for path in pkg.files:
                owner_of.setdefault(path, pkg.purl)
    found = []
    for pkg in packages:
        if pkg.type in OS_PACKAGE_TYPES or not pkg.purl:  # no identity to relate (purl_missing)
            continue
        for loc in pkg.locations:
            parent = owner_of.get(loc.path) or owner_of.get(_usrmerge(loc.path))
            if parent:
                found.append(Relationship(parent, pkg.purl))
                break
    return found


def _usrmerge(path: str) -> str:
    """dpkg lists /bin/x where merged-/usr images keep /usr/bin/x, and the other way round."""
    if path.startswith("/usr/"):
        return path[4:]
    return "/usr" + path


def _inventory(
    image: Image,
    entries: list[FileEntry],
    packages: list[Package],
    digests: Sequence[str],
    context: AnalysisContext,
) -> list[FileRecord]:
    owners: dict[str, list[str]] = {}
    for pkg in packages:
        for path in pkg.files:
            owners.setdefault(path, []).append(pkg.purl)
            if pkg.type in OS_PACKAGE_TYPES:  # merged /usr: /bin/x is listed, /usr/bin/x is stored
                owners.setdefault(_usrmerge(path), []).append(pkg.purl)
    sums: dict[str, dict[str, str]] = {}
    if digests:
        import hashlib

        readable = [e for e in entries if e.is_file and e.data_location[0] >= 0 and not e.sparse]
        limit = image._content.limits.max_read_bytes
        for entry, data in context.stream(e for e in readable if e.size <= limit):
            sums[entry.path] = {d: hashlib.new(d, data).hexdigest() for d in digests}
        for entry in (e for e in readable if e.size > limit):  # huge files: hashed as streams
            hashers = [hashlib.new(d) for d in digests]
            with image._content.open(entry) as fh:
                while chunk := fh.read(1 << 20):
                    for h in hashers:
                        h.update(chunk)
            sums[entry.path] = {d: h.hexdigest() for d, h in zip(digests, hashers, strict=True)}
    return [
        FileRecord(
            path=e.path,
            type=e.type.value,
            mode=e.mode,
            uid=e.uid,
            gid=e.gid,
            size=e.size,
            layer_index=e.layer_index,
            link_target=e.link_target,
            owners=owners.get(e.path, ()),
            digests=sums.get(e.path, {}),
        )
        for e in entries
    ]
