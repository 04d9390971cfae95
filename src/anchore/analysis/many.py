"""``analyze_many()``: many images analyzed at once on any ``concurrent.futures.Executor``.

A process pool sized to the machine by default; a Dask cluster when one machine
is not enough (``executor="tcp://scheduler:8786"``, or
``distributed.Client(...).get_executor()``; ``anchore[dask]``). What crosses to a
worker is the source and plain options; what comes back is an :class:`ImageResult`
(the analysis, or a failure naming the source): no open file crosses, and one
image failing never loses the others' results.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from concurrent.futures import Executor

import attrs

from anchore.analysis.model import Analysis
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.registry.options import RegistryOptions

__all__ = ["AnalysisFailure", "ImageResult", "ImageSource", "analyze_many"]

Progress = Callable[[str, int, int], None]


@attrs.frozen
class ImageSource:
    """A source with the options that choose an image in it (as ``open_image`` takes)."""

    source: str
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

    @property
    def ok(self) -> bool:
        return self.failure is None


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
) -> Iterator[ImageResult]:
    """Analyze every source, yielding each :class:`ImageResult` as it finishes.

    ``executor``: any ``concurrent.futures.Executor`` (kept open: the caller owns it),
    a Dask scheduler address (``tcp://host:8786``), or None for a process pool of
    ``workers`` processes (the machine's cores by default) made and shut down here.
    ``analyzers`` are names (workers look them up in their own default registry);
    ``registry`` the registry options for references; ``skip`` image keys (manifest
    digests, or config digests for docker-save archives) that are opened but not
    analyzed (a catalog's known images). ``progress("images", done, total)`` is
    called in this process as each image finishes.
    """
    raise NotImplementedError
