"""``scan()``: analyze many sources into a catalog, skipping images it already holds.

The images are opened and analyzed by :func:`anchore.analysis.many.analyze_many` on
any executor; the results are written here, in this process, as they arrive. An
image whose key the catalog holds is a cache hit: only its sighting is recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor
from typing import TYPE_CHECKING

import attrs

from anchore.analysis.many import (
    AnalysisFailure,
    ImageResult,
    ImageSource,
    analyze_many,
    image_key,
)
from anchore.analysis.model import Analysis
from anchore.catalog.errors import CatalogConnectionError
from anchore.errors import AnchoreError, ExitCode, one_line
from anchore.limits import Limits
from anchore.policy import evaluate
from anchore.registry.options import RegistryOptions
from anchore.vulns.match import match

if TYPE_CHECKING:
    from anchore.catalog.catalog import Catalog
    from anchore.policy import Bundle
    from anchore.vulns.store import Store

__all__ = ["ScanOutcome", "scan"]


@attrs.frozen
class ScanOutcome:
    """What happened to one source."""

    source: str
    #: the image's catalog key (None when it could not be opened)
    key: str | None = None
    #: True: analyzed and stored now; False with no failure: already stored (cache hit)
    added: bool = False
    failure: AnalysisFailure | None = None
    #: names that moved to this image from another: (name, previous key)
    moved: tuple[tuple[str, str], ...] = ()
    #: matches recorded (None: no store given)
    matches: int | None = None
    #: packages the store checked, and packages it could not check (no data for their
    #: ecosystem): None when no store was given. ``matches == 0`` with ``unchecked > 0``
    #: is no clean bill for those packages (the CLI exits UNCHECKED, as ``anchore vulns``)
    checked: int | None = None
    unchecked: int | None = None
    #: the policy's final action (None: no bundle given)
    final_action: str | None = None
    #: the tag the source was opened with (one OCI layout's images told apart)
    tag: str | None = None
    #: analyzers that failed as a whole (crashed, timed out) on the analysis just stored:
    #: its packages are incomplete, and the next scan analyzes it again
    failed_analyzers: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.failure is None


def scan(
    catalog: Catalog,
    sources: Iterable[str | os.PathLike[str] | ImageSource],
    *,
    executor: Executor | str | None = None,
    workers: int | None = None,
    names: Sequence[str] = (),
    store: Store | None = None,
    bundle: Bundle | None = None,
    rescan: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
    registry: RegistryOptions | None = None,
    limits: Limits | None = None,
) -> Iterator[ScanOutcome]:
    """Analyze ``sources`` (images the catalog holds are not analyzed again unless
    ``rescan``) and store each as it finishes, seen as its reference, tags and
    ``names``. With ``store``, every image scanned is matched and the run recorded;
    with ``bundle``, evaluated and the evaluation recorded. An image's failures are
    outcomes, not exceptions: the other sources go on. A :class:`CatalogConnectionError`
    (the catalog went away) is raised: what is not yet running is cancelled rather than
    analyzed only to be thrown away."""
    if isinstance(names, str):
        raise TypeError("names is a sequence of names, not one str")
    # an incomplete stored analysis (analyzers failed, or read from an SBOM) is no cache
    # hit: analyzed again and replaced. Each read once, complete first: an image stored
    # between the two reads is then analyzed and replaces what was stored
    complete = frozenset[str]() if rescan else catalog.keys(complete=True)
    stored = catalog.keys()
    results = analyze_many(
        sources,
        executor=executor,
        workers=workers,
        progress=progress,
        registry=registry,
        limits=limits,
        skip=complete,
    )
    replace = stored - complete
    return _record_all(catalog, results, tuple(names), store, bundle, replace)


def _record_all(
    catalog: Catalog,
    results: Iterator[ImageResult],
    names: tuple[str, ...],
    store: Store | None,
    bundle: Bundle | None,
    replace: frozenset[str],
) -> Iterator[ScanOutcome]:
    """Write each result as it arrives; closing this closes ``analyze_many`` (its pool).
    ``replace``: stored keys whose analysis a new one replaces (incomplete ones, or all
    on a rescan)."""
    try:
        for result in results:
            yield _record(catalog, result, names, store, bundle, replace)
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _record(
    catalog: Catalog,
    result: ImageResult,
    names: tuple[str, ...],
    store: Store | None,
    bundle: Bundle | None,
    replace: frozenset[str],
) -> ScanOutcome:
    """One result into the catalog: stored (or seen, for a cache hit), then matched and
    evaluated as asked. What went wrong after the image was opened is its failure."""
    key = image_key(result.image) if result.image is not None else None
    outcome = ScanOutcome(result.source, key=key, failure=result.failure, tag=result.tag)
    if result.failure is not None or key is None:
        return outcome
    try:
        if result.analysis is not None:
            added = catalog.add(result.analysis, names=names, replace=key in replace)
            analysis: Analysis | None = result.analysis
            outcome = attrs.evolve(outcome, failed_analyzers=result.analysis.failed_analyzers)
        else:  # a cache hit: only where and as what it was seen
            assert result.image is not None
            seen_as = [*names, *filter(None, [result.image.reference]), *result.image.tags]
            added = catalog.seen(key, dict.fromkeys(seen_as))
            analysis = None
        outcome = attrs.evolve(outcome, key=added.key, added=added.added, moved=added.moved)
        if store is None and bundle is None:
            return outcome
        if analysis is None:  # matching alone needs no file inventory; a policy may
            analysis = catalog.analysis(key, files=bundle is not None)
        return _check(catalog, outcome, analysis, store, bundle)
    except CatalogConnectionError:
        raise  # the catalog is gone, not this image: stop rather than analyze the rest
    except AnchoreError as exc:
        return attrs.evolve(outcome, failure=_failure(result, exc))


def _check(
    catalog: Catalog,
    outcome: ScanOutcome,
    analysis: Analysis,
    store: Store | None,
    bundle: Bundle | None,
) -> ScanOutcome:
    """Match and evaluate one stored image, recording each."""
    key = outcome.key
    assert key is not None
    matches = None
    if store is not None:
        matches = match(analysis, store)
        catalog.record_matches(key, matches, store)
        outcome = attrs.evolve(
            outcome,
            matches=len(matches),
            checked=len(matches.checked),
            unchecked=len(matches.unchecked),
        )
    if bundle is not None:
        evaluation = evaluate(analysis, bundle, store=store, matches=matches)
        catalog.record_evaluation(key, evaluation)
        outcome = attrs.evolve(outcome, final_action=evaluation.final_action)
    return outcome


def _failure(result: ImageResult, exc: AnchoreError) -> AnalysisFailure:
    message = one_line(str(exc))
    if result.source not in message:
        message = f"{result.source}: {message}"
    return AnalysisFailure(result.source, type(exc).__name__, message, int(ExitCode.INPUT_ERROR))
