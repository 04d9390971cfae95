"""The multi-image queries, answered from a catalog without re-reading any image.

``who-has`` is answered from the indexed ``packages`` table (no analysis loaded:
1,000 stored images answer in well under 100 ms on SQLite), with the same rows
:func:`anchore.query.fleet.who_has` gives over the analyses themselves; every other
query runs on the stored analyses, read back from the catalog.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs

from anchore.query.diff import DiffRow
from anchore.query.fleet import WhoHasRow
from anchore.query.model import QueryResult

if TYPE_CHECKING:
    from anchore.catalog.catalog import Catalog
    from anchore.plugins import Registry
    from anchore.vulns.store import Store

__all__ = ["AffectedRow", "CustodyRow", "affected", "custody", "diff", "query", "who_has"]


@attrs.frozen
class CustodyRow:
    """One link of a name's chain of custody, and what changed from the one before."""

    name: str
    #: the image the name pointed at, and its label (``image_label``)
    key: str
    image: str
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    #: the image the name pointed at before (None for the first link)
    previous: str | None
    #: packages added, removed and changed in version since the previous link (0 for
    #: the first)
    added: int
    removed: int
    changed: int


@attrs.frozen
class AffectedRow:
    """A stored image whose latest match run found an advisory (by id or alias)."""

    image: str
    key: str
    advisory_id: str
    aliases: tuple[str, ...]
    package_type: str
    package_name: str
    version: str
    fixed_in: str | None
    rating: str
    layer_index: int | None
    matched_at: datetime.datetime


def query(
    catalog: Catalog,
    name: str,
    params: Mapping[str, Any] | None = None,
    *,
    images: Sequence[str] | None = None,
    store: Store | None = None,
    registry: Registry | None = None,
) -> QueryResult:
    """Run the query ``name`` (any registered query, by :func:`anchore.query.run`'s rules)
    over stored images: ``images`` (refs, as :meth:`Catalog.resolve` reads them), or
    every stored image when None for a query over many images."""
    raise NotImplementedError


def who_has(
    catalog: Catalog,
    name: str,
    type: str | None = None,
    version: str | None = None,
    *,
    images: Sequence[str] | None = None,
) -> list[WhoHasRow]:
    """:func:`anchore.query.fleet.who_has` over the catalog, from its package index."""
    raise NotImplementedError


def diff(catalog: Catalog, a: str, b: str, kinds: str | None = None) -> list[DiffRow]:
    """:func:`anchore.query.diff.diff` between two stored images."""
    raise NotImplementedError


def custody(catalog: Catalog, name: str) -> list[CustodyRow]:
    """Every image ``name`` pointed at, oldest first, with what changed at each move."""
    raise NotImplementedError


def affected(catalog: Catalog, advisory: str) -> list[AffectedRow]:
    """Stored images whose latest match run found ``advisory`` (an id or an alias)."""
    raise NotImplementedError
