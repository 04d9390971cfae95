"""``analyze_many()``: many images analyzed at once on any ``concurrent.futures.Executor``.

A process pool sized to the machine by default; a Dask cluster when one machine
is not enough (``executor="tcp://scheduler:8786"``, or
``distributed.Client(...).get_executor()``; ``anchore[dask]``). What crosses to a
worker is the source and plain options; what comes back is an :class:`ImageResult`
(the analysis, or a failure naming the source): no open file crosses, and one
image failing never loses the others' results.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing
import os
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.context import BaseContext
from typing import Any

import attrs

from anchore.analysis.engine import Progress, analyze
from anchore.analysis.model import Analysis
from anchore.errors import AnchoreError, ExitCode, one_line
from anchore.image.image import Image, open_image
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.registry.options import RegistryOptions

__all__ = [
    "AnalysisFailure",
    "ExecutorError",
    "ImageResult",
    "ImageSource",
    "analyze_many",
    "image_key",
]


class ExecutorError(AnchoreError):
    """The executor ``analyze_many`` was given cannot be used: a Dask scheduler address
    without the ``distributed`` package installed, or a scheduler that cannot be reached."""


def _fspath(source: str | os.PathLike[str]) -> str:
    return str(os.fspath(source))


@attrs.frozen
class ImageSource:
    """A source with the options that choose an image in it (as ``open_image`` takes)."""

    source: str = attrs.field(converter=_fspath)
    platform: str | None = None
    tag: str | None = None


@attrs.frozen
class AnalysisFailure:
    """Why one image has no analysis: the error's class name, its one-line message (which
    names the source), and the exit code the command line gives it."""

    source: str
    error: str
    message: str
    exit_code: int


@attrs.frozen
class ImageResult:
    """One source's outcome: ``analysis`` or ``failure`` (never both); ``image`` is the
    image's identity whenever it could be opened (a skipped one included)."""

    source: str
    analysis: Analysis | None = None
    failure: AnalysisFailure | None = None
    image: ImageInfo | None = None
    #: True: the image's key was in ``skip``, so it was opened but not analyzed
    skipped: bool = False
    #: seconds the worker spent on it
    seconds: float = 0.0
    #: the tag and platform the source was opened with (telling apart the results of
    #: one OCI layout holding several images, failures included)
    tag: str | None = None
    platform: str | None = None

    @property
    def ok(self) -> bool:
        return self.failure is None


def image_key(image: ImageInfo) -> str:
    """An image's identity across runs: its manifest digest, or for a docker-save archive
    (which records none) its config digest. The catalog keys images by the same rule
    (:func:`anchore.catalog.schema.image_key`), so a catalog's keys can be ``skip``."""
    return image.manifest_digest or image.config_digest


@attrs.frozen
class _Options:
    """What every worker needs besides its source: plain, picklable values only."""

    analyzers: tuple[str, ...] | None
    registry: RegistryOptions | None
    limits: Limits | None
    digests: tuple[str, ...]
    #: None: the worker's own copy (:data:`_SKIP`), set once when its process started,
    #: so a large catalog's keys are not pickled with every image
    skip: frozenset[str] | None


#: the skip set of this worker process (our own process pool sets it once per worker)
_SKIP: frozenset[str] = frozenset()


def _set_skip(skip: frozenset[str]) -> None:
    """A process pool's initializer: the skip set, sent once per worker process."""
    global _SKIP
    _SKIP = skip


def analyze_many(
    sources: Iterable[str | os.PathLike[str] | ImageSource],
    *,
    executor: Executor | str | None = None,
    workers: int | None = None,
    analyzers: Sequence[str] | None = None,
    progress: Progress | None = None,
    registry: RegistryOptions | None = None,
    limits: Limits | None = None,
    digests: Sequence[str] = (),
    skip: Collection[str] = (),
    max_in_flight: int | None = None,
) -> Iterator[ImageResult]:
    """Analyze every source, yielding each :class:`ImageResult` as it finishes.

    ``executor``: any ``concurrent.futures.Executor`` (kept open: the caller owns it),
    a Dask scheduler address (``tcp://host:8786``), or None for a process pool of
    ``workers`` processes (the machine's cores by default) made and shut down here.
    ``analyzers`` are names (workers look them up in their own default registry);
    ``registry`` the registry options for references; ``skip`` image keys (manifest
    digests, or config digests for docker-save archives) that are opened but not
    analyzed (a catalog's known images). ``progress("images", done, total)`` is
    called in this process as each image finishes (``total`` grows as sources are
    read when ``sources`` is not a sequence). At most ``max_in_flight`` images (twice
    the executor's workers by default) are submitted at a time, so a long or endless
    ``sources`` is read as the work goes. Closing the iterator early cancels what has
    not started and waits for what has.
    """
    if isinstance(sources, str | bytes | os.PathLike | ImageSource | Image):
        raise TypeError("analyze_many() takes an iterable of sources; analyze() takes one")
    if executor is not None and not isinstance(executor, Executor | str):
        raise TypeError(
            f"executor must be a concurrent.futures.Executor or a Dask scheduler address, "
            f"not {type(executor).__name__}"
        )
    for name, value in (("workers", workers), ("max_in_flight", max_in_flight)):
        if value is not None and (not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if analyzers is not None and not all(isinstance(a, str) for a in analyzers):
        raise TypeError("analyze_many() takes analyzer names (workers look them up)")
    if isinstance(executor, str):
        _client_class(executor)  # a missing extra is reported now, not at the first next()
    options = _Options(
        analyzers=None if analyzers is None else tuple(analyzers),
        registry=registry,
        limits=limits,
        digests=tuple(digests),
        skip=frozenset(skip),
    )
    if isinstance(sources, Sequence):  # known length: check every source before any work
        jobs: Iterable[ImageSource] = [_image_source(s) for s in sources]
        total: int | None = len(sources)
    else:
        jobs, total = map(_image_source, sources), None
    return _stream(jobs, total, executor, workers, options, progress, max_in_flight)


def _image_source(source: object) -> ImageSource:
    if isinstance(source, ImageSource):
        return source
    if isinstance(source, Image):
        raise TypeError(
            f"analyze_many() takes sources, not an open Image ({source.source}): it holds "
            f"open files that cannot cross to a worker; pass its source"
        )
    if isinstance(source, str | os.PathLike):
        return ImageSource(source)
    raise TypeError(
        f"a source is a path, a reference or an ImageSource, not {type(source).__name__}"
    )


@attrs.frozen
class _Job:
    """One submitted image: its source, the pool generation it went to (a broken pool
    is replaced by the next), and whether it runs alone (a suspect of a broken pool)."""

    source: ImageSource
    generation: int
    alone: bool = False


def _stream(
    jobs: Iterable[ImageSource],
    total: int | None,
    executor: Executor | str | None,
    workers: int | None,
    options: _Options,
    progress: Progress | None,
    max_in_flight: int | None,
) -> Iterator[ImageResult]:
    """Keep at most ``max_in_flight`` images submitted; yield each as it finishes.

    Our own process pool breaks when one worker dies (killed, out of memory, a crash in
    a C extension), failing every image in flight. The images in flight are then
    suspects: each is run again on a new pool, alone, and only one that breaks the
    pool while alone is given the failure (the worker analyzing it died)."""
    owned: ProcessPoolExecutor | None = None
    client: Any = None
    pending: dict[Future[ImageResult], _Job] = {}
    suspects: collections.deque[ImageSource] = collections.deque()
    generation = 0
    interrupted = False
    skip = options.skip or frozenset()
    pool: Executor
    try:
        if executor is None:
            width = workers or os.cpu_count() or 1
            options = attrs.evolve(options, skip=None)
            owned = pool = _process_pool(width, skip)
        elif isinstance(executor, str):
            client = _connect(executor)
            pool = client.get_executor()
            width = sum(client.nthreads().values()) or 1
        else:
            pool = executor
            width = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        limit = max_in_flight or 2 * width
        remaining = iter(jobs)
        done = submitted = 0
        exhausted = False

        def submit(source: ImageSource, alone: bool = False) -> None:
            nonlocal owned, pool, generation
            try:
                future = pool.submit(_analyze_one, source, options)
            except BrokenExecutor:
                if owned is None:  # not ours to replace: every source left fails
                    future = _failed(BrokenExecutor("the executor is broken"))
                else:  # a worker died since the last wait: go on with a new pool
                    owned.shutdown(wait=False, cancel_futures=True)
                    owned = pool = _process_pool(width, skip)
                    generation += 1
                    future = pool.submit(_analyze_one, source, options)
            pending[future] = _Job(source, generation, alone)

        while True:
            if suspects:  # one at a time, alone, once the pool has nothing else
                if not pending:
                    submit(suspects.popleft(), alone=True)
            else:
                while not exhausted and len(pending) < limit:
                    source = next(remaining, None)
                    if source is None:
                        exhausted = True
                        break
                    submit(source)
                    submitted += 1
            if not pending:
                return
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                job = pending.pop(future)
                if owned is not None and _broke(future):
                    if job.generation == generation:  # the first to tell: replace the pool
                        owned.shutdown(wait=False, cancel_futures=True)
                        owned = pool = _process_pool(width, skip)
                        generation += 1
                    if not job.alone:
                        suspects.append(job.source)
                        continue
                    result = _died(job.source)
                else:
                    result = _outcome(future, job.source)
                done += 1
                if progress is not None:
                    progress("images", done, submitted if total is None else total)
                yield result
    except KeyboardInterrupt:
        interrupted = True
        raise
    finally:
        if interrupted and owned is not None:  # Ctrl-C: stop now, not when they finish
            # no cancel first: the pool fails what is pending as it breaks, and on Python
            # 3.10 and 3.11 failing a future we cancelled kills its manager thread
            _terminate(owned)
        else:
            for future in pending:
                future.cancel()
            wait(pending)  # the ones already running: nothing of ours runs on after close
            if owned is not None:
                owned.shutdown(wait=True, cancel_futures=True)
        if client is not None:
            client.close()


def _broke(future: Future[ImageResult]) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenProcessPool)


def _died(job: ImageSource) -> ImageResult:
    """The failure of an image that broke a pool while analyzed alone."""
    return ImageResult(
        job.source,
        failure=AnalysisFailure(
            job.source,
            "BrokenProcessPool",
            f"{_label(job)}: the worker analyzing it died (killed, out of memory, or a "
            f"crash), twice: once among others, once alone",
            int(ExitCode.INTERNAL_ERROR),
        ),
        tag=job.tag,
        platform=job.platform,
    )


def _terminate(pool: ProcessPoolExecutor) -> None:
    """Our own pool's workers stopped at once (their analyses are abandoned), then reaped.

    A worker stopped while sending its result leaves half a message in the result pipe,
    which the pool's manager thread would wait on forever (and the interpreter joins that
    thread at exit): with the workers gone, closing our end of the pipe gives it EOF, so
    it marks the pool broken and ends. (Private attributes of ProcessPoolExecutor: there
    is no public way to stop it before Python 3.14's ``kill_workers``.)"""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    manager = getattr(pool, "_executor_manager_thread", None)
    results = getattr(pool, "_result_queue", None)
    kill_workers = getattr(pool, "kill_workers", None)  # Python 3.14 and later
    if kill_workers is not None:
        kill_workers()
    else:
        for process in processes:
            process.terminate()
    for process in processes:
        process.join(5)
        if process.is_alive():
            process.kill()
            process.join()
    pool.shutdown(wait=False, cancel_futures=True)
    if results is not None:
        with contextlib.suppress(OSError):
            results._writer.close()
    if manager is not None:
        manager.join(5)


def _process_pool(width: int, skip: frozenset[str]) -> ProcessPoolExecutor:
    """Our own pool; ``skip`` goes to each worker once, as it starts."""
    return ProcessPoolExecutor(
        max_workers=width, mp_context=_mp_context(), initializer=_set_skip, initargs=(skip,)
    )


def _mp_context() -> BaseContext:
    """``forkserver`` where there is one, else ``spawn``; never ``fork``.

    Forking copies a process whose other threads (the caller's thread pools, a
    Dask client's event loop, a blob download) may hold a lock at that instant;
    the child starts with the lock held and no thread to release it, and hangs.
    A forkserver forks workers from a clean single-threaded process instead (and
    costs less than spawn, which starts every worker from nothing). Either way the
    worker function must be importable, which is why :func:`_analyze_one` is a
    top-level function of this module.
    """
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _client_class(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError as exc:
        raise ExecutorError(
            f"analyzing on the Dask scheduler {address} needs the distributed package: "
            f"pip install 'anchore[dask]'"
        ) from exc
    return Client


def _connect(address: str) -> Any:
    try:
        return _client_class(address)(address, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the Dask scheduler {address}: {exc}") from exc


def _failed(exc: BaseException) -> Future[ImageResult]:
    future: Future[ImageResult] = Future()
    future.set_exception(exc)
    return future


def _outcome(future: Future[ImageResult], job: ImageSource) -> ImageResult:
    """The worker's result, or a failure naming the source when the worker itself went
    wrong (a process that died, a result that did not come back)."""
    try:
        return future.result()
    except BaseException as exc:  # CancelledError too: someone else's cancel is no result
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        reason = one_line(str(exc)) or "no reason given"
        return ImageResult(
            job.source,
            failure=AnalysisFailure(
                job.source,
                type(exc).__name__,
                f"{_label(job)}: the worker analyzing it failed: {reason}",
                int(ExitCode.INTERNAL_ERROR),
            ),
            tag=job.tag,
            platform=job.platform,
        )


def _label(job: ImageSource) -> str:
    """The source as a message names it: with the tag and platform it was opened with."""
    chosen = ", ".join(f"{k} {v}" for k, v in (("tag", job.tag), ("platform", job.platform)) if v)
    return f"{job.source} ({chosen})" if chosen else job.source


def _analyze_one(source: ImageSource, options: _Options) -> ImageResult:
    """One image, in a worker: opened, keyed, and analyzed unless its key is skipped.

    Never raises: an :class:`AnchoreError` is the image's fault (INPUT_ERROR), any other
    exception a bug (INTERNAL_ERROR); either becomes a failure of plain strings, so the
    result always pickles (an exception object may not)."""
    start = time.perf_counter()
    info: ImageInfo | None = None
    try:
        with open_image(
            source.source,
            platform=source.platform,
            tag=source.tag,
            limits=options.limits,
            registry=options.registry,
        ) as image:
            info = ImageInfo.from_image(image)
            skip = _SKIP if options.skip is None else options.skip
            if image_key(info) in skip:
                return ImageResult(
                    source.source,
                    image=info,
                    skipped=True,
                    seconds=time.perf_counter() - start,
                    tag=source.tag,
                    platform=source.platform,
                )
            analysis = analyze(image, analyzers=options.analyzers, digests=options.digests)
        return ImageResult(
            source.source,
            analysis=analysis,
            image=analysis.image,
            seconds=time.perf_counter() - start,
            tag=source.tag,
            platform=source.platform,
        )
    except AnchoreError as exc:
        error, message = type(exc).__name__, one_line(str(exc))
        if source.source not in message:
            message = f"{_label(source)}: {message}"
        code = ExitCode.INPUT_ERROR
    except Exception as exc:
        error = type(exc).__name__
        message = f"{_label(source)}: unexpected {type(exc).__name__}: {one_line(str(exc))}"
        code = ExitCode.INTERNAL_ERROR
    return ImageResult(
        source.source,
        failure=AnalysisFailure(source.source, error, message, int(code)),
        image=info,
        seconds=time.perf_counter() - start,
        tag=source.tag,
        platform=source.platform,
    )
