"""Re-match without re-pulling: every stored analysis against the advisory store as it
is now, and what that changed since each image's last match run (what the morning's
advisories did to yesterday's images)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from anchore.catalog.catalog import Catalog
    from anchore.vulns.store import Store

__all__ = ["RematchReport", "RematchRow", "rematch"]


@attrs.frozen
class RematchRow:
    """An advisory newly affecting a stored image (``change`` ``new``), or no longer
    (``gone``: fixed in the feed, withdrawn), since the image's previous match run."""

    image: str
    key: str
    change: str
    advisory_id: str
    aliases: tuple[str, ...]
    package_type: str
    package_name: str
    version: str
    fixed_in: str | None
    rating: str
    layer_index: int | None


@attrs.frozen
class RematchReport:
    """What a rematch did."""

    rows: tuple[RematchRow, ...]
    #: images matched
    images: int
    #: keys of images never matched before (all their matches count as ``new``)
    first_runs: tuple[str, ...]
    #: packages the store could not check, over all images (a clean report says nothing
    #: about them)
    unchecked: int
    matched_at: datetime.datetime


def rematch(
    catalog: Catalog,
    store: Store,
    *,
    images: Sequence[str] | None = None,
    at: datetime.datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RematchReport:
    """Match every stored image (or ``images``) against ``store``, record each run, and
    report what is newly affected or no longer affected since its previous run."""
    raise NotImplementedError
