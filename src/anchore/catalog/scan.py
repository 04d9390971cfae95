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

from anchore.analysis.many import AnalysisFailure, ImageSource
from anchore.limits import Limits
from anchore.registry.options import RegistryOptions

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
    #: the policy's final action (None: no bundle given)
    final_action: str | None = None


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
    with ``bundle``, evaluated and the evaluation recorded. Failures are outcomes,
    never exceptions: the other sources go on."""
    raise NotImplementedError
