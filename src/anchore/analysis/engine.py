"""``analyze()``: one walk of the squashed tree, each file offered to the analyzers that want it.

The steps, each the job of a module of its own: match every path against every
analyzer's patterns at once (:mod:`~anchore.analysis.paths`); read the small
files that matched in a single forward pass per layer, shared by every
analyzer that wants them (:mod:`~anchore.analysis.context`); run the analyzers
concurrently, one that fails yielding an error entry while the analysis goes
on; merge and relate what they found (:mod:`~anchore.analysis.merge`); list
the files (:mod:`~anchore.analysis.inventory`); replay the layers for what each
one added, changed and removed (:mod:`~anchore.analysis.layers`). Layer
attribution is :mod:`~anchore.analysis.attribution`'s.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from anchore.analysis.analyzer import Analyzer, FileInput, Result
from anchore.analysis.budget import problem
from anchore.analysis.context import PREFETCH_MAX_BYTES, AnalysisContext
from anchore.analysis.inventory import inventory
from anchore.analysis.layers import layer_changes, package_changes
from anchore.analysis.merge import Found, merge, ownership, without_os_owned_declarations
from anchore.analysis.model import Analysis, AnalyzerError, FileChange, ImageInfo
from anchore.analysis.paths import PathMatcher
from anchore.errors import AnchoreError
from anchore.image.filetree import FileEntry
from anchore.image.image import Image, open_image
from anchore.limits import Limits
from anchore.plugins import Registry, default_registry

__all__ = ["PREFETCH_MAX_BYTES", "AnalysisContext", "PathMatcher", "analyze"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]

#: the ``analyzer`` of the error entry saying the layer changes could not be computed
LAYER_CHANGES = "layer-changes"


def analyze(
    image: Image | str | os.PathLike[str],
    *,
    analyzers: Sequence[Analyzer] | Sequence[str] | None = None,
    progress: Progress | None = None,
    workers: int = 2,
    digests: Sequence[str] = (),
    registry: Registry | None = None,
    limits: Limits | None = None,
) -> Analysis:
    """Analyze an image with every registered analyzer (or those named).

    ``image`` is an opened :class:`Image` or what :func:`anchore.open_image`
    takes (a path, ``path:tag``): a path is opened and closed here.
    ``analyzers`` are analyzer objects, or names looked up in ``registry``
    (:func:`anchore.plugins.default_registry` when not given).
    ``progress(stage, done, total)`` is called as work completes. ``digests``
    (``"sha256"``, ``"md5"``...) adds content digests to the file inventory;
    they cost a read of every file, so none are computed unless asked.
    ``limits`` are passed to :func:`anchore.open_image` when ``image`` is a
    path (an opened image keeps the limits it was opened with).
    """
    if not isinstance(image, Image):
        if not isinstance(image, (str, os.PathLike)):
            raise TypeError(f"analyze() takes an Image or a path, not {type(image).__name__}")
        with open_image(image, limits=limits) as opened:
            return analyze(
                opened,
                analyzers=analyzers,
                progress=progress,
                workers=workers,
                digests=digests,
                registry=registry,
                limits=limits,
            )
    chosen = (registry or default_registry()).select_analyzers(analyzers)
    context = AnalysisContext(image)
    entries = list(image.files())
    offered = _offer(PathMatcher(chosen), len(chosen), entries)
    if progress:
        progress("walk", len(entries), len(entries))
    prefetch = _prefetchable(chosen, offered)
    try:
        context.prefetch(prefetch)
    except AnchoreError as exc:  # a broken member: analyzers will meet it one by one
        log.warning("prefetch stopped: %s", exc)
    if progress:
        progress("read", len(prefetch), len(prefetch))

    results, timings, failed = _run(chosen, offered, context, workers, progress)

    found = Found()
    for analyzer, items in zip(chosen, results, strict=True):
        found.add(analyzer.name, items)
    packages = without_os_owned_declarations(merge(found.packages))
    errors = found.errors
    changes: list[FileChange] | None = None
    try:
        changes = layer_changes(image.layers, image.limits.max_symlink_follows)
    except AnchoreError as exc:  # squashing met the same layers: not expected, not fatal
        log.warning("layer changes not computed: %s", exc)
        errors = [*errors, AnalyzerError(LAYER_CHANGES, problem(exc))]
    if progress:
        progress("layers", len(image.layers), len(image.layers))
    return Analysis(
        image=ImageInfo.from_image(image),
        distro=found.distros[0] if found.distros else None,
        packages=packages,
        findings=sorted(
            found.findings, key=lambda f: (f.kind, f.rule, [loc.path for loc in f.locations])
        ),
        files=inventory(context, entries, packages, digests),
        errors=errors,
        relationships=ownership(packages),
        datasets=found.datasets,
        timings=timings,
        analyzers=tuple(a.name for a in chosen),
        failed_analyzers=tuple(a.name for a, bad in zip(chosen, failed, strict=True) if bad),
        layer_changes=changes,
        package_changes=package_changes(packages, context.database_histories),
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


def _run(
    chosen: Sequence[Analyzer],
    offered: list[list[FileEntry]],
    context: AnalysisContext,
    workers: int,
    progress: Progress | None,
) -> tuple[list[list[Result]], dict[str, float], list[bool]]:
    """Every analyzer on its files, ``workers`` at a time; one that raises fails alone."""
    results: list[list[Result]] = [[] for _ in chosen]
    timings: dict[str, float] = {}
    failed = [False] * len(chosen)

    def run(i: int) -> None:
        analyzer = chosen[i]
        name = analyzer.name
        start = time.perf_counter()
        with context.running(name):
            inputs = [FileInput(e, context, name) for e in offered[i] if e.is_file]
            # needs_files=False: called with no file too, to record what it looked for
            if inputs or not analyzer.patterns or not getattr(analyzer, "needs_files", True):
                results[i], failed[i] = _collect(analyzer, inputs, context)
        timings[name] = time.perf_counter() - start

    done = 0
    with ThreadPoolExecutor(
        max_workers=max(1, workers), thread_name_prefix="anchore-analyze"
    ) as pool:
        for _ in pool.map(run, range(len(chosen))):
            done += 1
            if progress:
                progress("analyze", done, len(chosen))
    return results, timings, failed


def _collect(
    analyzer: Analyzer, inputs: list[FileInput], context: AnalysisContext
) -> tuple[list[Result], bool]:
    """What one analyzer yields, and whether it failed.

    One that raises keeps what it yielded before (each a fact on its own) and
    gets an error entry in plain words. Past ``max_analyzer_seconds`` the kit
    stops an analyzer between files, records and layer copies and says so (every
    such entry is kept: each names the files it did not read); one that does not
    stop (its own loops) is stopped here, at its next result after a grace
    period, with an error naming the limit. Either way its evidence is
    incomplete, and it is listed as failed. Whether it ran out of time is the
    deadline's record (:meth:`~anchore.analysis.budget.Deadlines.overran`), never
    an error message, which may quote the image.
    """
    name = analyzer.name
    deadlines = context.deadlines
    grace = max(1.0, deadlines.seconds / 10)
    results: list[Result] = []
    try:
        for result in analyzer.analyze(inputs, context):
            results.append(result)
            if deadlines.expired(name, grace):
                if not deadlines.overran(name):
                    results.append(AnalyzerError(name, problem(deadlines.exceeded(name))))
                return results, True
    except Exception as exc:
        log.warning("analyzer %s failed", name, exc_info=True)
        results.append(AnalyzerError(name, problem(exc)))
        return results, True
    return results, deadlines.overran(name)
