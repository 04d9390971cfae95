"""``Catalog``: many analyses over time, in SQLite (the default) or PostgreSQL.

Opening creates the schema (or migrates an older one, in one transaction) and
refuses a database that is not a catalog or is newer than this anchore. Every
write is one transaction: a writer killed midway leaves the catalog as it was.
SQLite runs in WAL mode with a busy timeout and takes its write lock at the
start of each write (``BEGIN IMMEDIATE``), so several writer processes queue
rather than fail; PostgreSQL takes a row lock on the image being written.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs

from anchore.analysis.model import Analysis

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from anchore.policy import Evaluation
    from anchore.vulns.match import MatchResult
    from anchore.vulns.store import Store

__all__ = [
    "AddResult",
    "Catalog",
    "EvaluationRecord",
    "ImageRecord",
    "MatchRunRecord",
    "Sighting",
    "StoredMatch",
    "default_catalog",
]


def default_catalog() -> str:
    """``$ANCHORE_CATALOG`` (a path or a ``postgresql://`` URL), else
    ``$XDG_DATA_HOME/anchore/catalog.db`` (``~/.local/share/anchore/catalog.db``)."""
    raise NotImplementedError


@attrs.frozen
class ImageRecord:
    """One stored image, without its analysis (``Catalog.analysis(key)`` loads that)."""

    key: str
    manifest_digest: str | None
    config_digest: str
    platform: str
    #: ``id:version_id``, '' when no distro was found
    distro: str
    created: datetime.datetime | None
    size: int | None
    layer_count: int | None
    package_count: int
    first_seen: datetime.datetime
    last_seen: datetime.datetime
    source: str
    #: how query rows name it (``anchore.query.diff.image_label``)
    label: str
    origin: str
    #: the names currently pointing at it (the newest sighting of each name is this image)
    names: tuple[str, ...]


@attrs.frozen
class Sighting:
    """One link of a name's chain of custody: from ``first_seen`` to ``last_seen`` the
    name pointed at the image ``key``."""

    name: str
    key: str
    first_seen: datetime.datetime
    last_seen: datetime.datetime


@attrs.frozen
class AddResult:
    """What :meth:`Catalog.add` (or :meth:`Catalog.seen`) did."""

    key: str
    #: False: the image was already stored (a cache hit); its sightings were recorded
    added: bool
    #: names that now point at this image but pointed at another before: (name, old key)
    moved: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class MatchRunRecord:
    """One matching of a stored image against an advisory store."""

    id: int
    key: str
    matched_at: datetime.datetime
    #: the store's feeds then: ``{feed: {"checked": ISO|None, "changed": ISO|None,
    #: "covers": [...]}}`` (from :func:`anchore.vulns.update.status`)
    feeds: dict[str, dict[str, object]]
    checked: int
    unchecked: int
    declared: int


@attrs.frozen
class StoredMatch:
    """One stored match (the columns of the ``matches`` table)."""

    run_id: int
    key: str
    advisory_id: str
    aliases: tuple[str, ...]
    package_type: str
    package_name: str
    version: str
    purl: str
    fixed_in: str | None
    rating: str
    score: float | None
    layer_index: int | None


@attrs.frozen
class EvaluationRecord:
    """One stored policy evaluation (``Catalog.evaluation(id)`` loads its JSON)."""

    id: int
    key: str
    evaluated_at: datetime.datetime
    bundle: str
    bundle_digest: str
    final_action: str


class Catalog:
    """Analyses of many images, keyed by manifest digest, with the names each was seen
    as over time, and the matches and evaluations made against them.

    ``url`` is a path (SQLite; ``sqlite:///path`` too) or a ``postgresql://`` URL
    (``anchore[postgresql]``: psycopg 3); None is :func:`default_catalog`. With
    ``create=False`` a SQLite file that does not exist is a
    :class:`~anchore.catalog.errors.CatalogNotFoundError` instead of a new catalog.
    A catalog is a context manager; it is safe to use from one thread at a time.
    """

    def __init__(self, url: str | os.PathLike[str] | None = None, *, create: bool = True) -> None:
        raise NotImplementedError

    #: the URL as given, with any password replaced by ``***`` (for messages and reprs)
    url: str
    #: ``sqlite`` or ``postgresql``
    dialect: str

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the query modules of this package)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ writing
    def add(
        self,
        analysis: Analysis,
        *,
        names: Iterable[str] = (),
        seen_at: datetime.datetime | None = None,
        replace: bool = False,
    ) -> AddResult:
        """Store ``analysis`` under :func:`~anchore.catalog.schema.image_key`, and record
        it seen at ``seen_at`` (now) as its reference, its tags and ``names``.

        An image already stored is not stored again (``added`` False: a re-scan of an
        unchanged image is a cache hit) unless ``replace``; its sightings are
        recorded all the same. One transaction: killed midway, nothing changed."""
        raise NotImplementedError

    def seen(
        self, key: str, names: Iterable[str], *, seen_at: datetime.datetime | None = None
    ) -> AddResult:
        """Record that the stored image ``key`` was seen as ``names`` at ``seen_at`` (now),
        without its analysis: what a scan that found the digest already stored does."""
        raise NotImplementedError

    def remove(self, ref: str) -> ImageRecord:
        """Delete one stored image (by :meth:`resolve`'s rules) with everything about
        it: packages, layers, sightings, matches, evaluations. Returns what it was."""
        raise NotImplementedError

    def record_matches(
        self, ref: str, result: MatchResult, store: Store, *, at: datetime.datetime | None = None
    ) -> MatchRunRecord:
        """Store one matching of the image against ``store`` (its matches, how many
        packages were checked, unchecked and declared, and the store's feed dates)."""
        raise NotImplementedError

    def record_evaluation(
        self, ref: str, evaluation: Evaluation, *, at: datetime.datetime | None = None
    ) -> EvaluationRecord:
        """Store one policy evaluation of the image."""
        raise NotImplementedError

    # ------------------------------------------------------------ reading
    def resolve(self, ref: str) -> str:
        """The key of the stored image ``ref`` names: a whole digest (manifest, or config
        for a docker-save archive), a unique prefix of one (``sha256:3f2a``, at least 4
        hex digits), ``name@digest``, or a name it was seen as (the image the name
        points at now). :class:`~anchore.catalog.errors.ImageNotCataloguedError` or
        :class:`~anchore.catalog.errors.AmbiguousImageError` otherwise."""
        raise NotImplementedError

    def __contains__(self, key: object) -> bool:
        """Whether an image with exactly this key is stored."""
        raise NotImplementedError

    def keys(self) -> frozenset[str]:
        """Every stored image's key (for ``analyze_many(skip=...)``)."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def image(self, ref: str) -> ImageRecord:
        raise NotImplementedError

    def images(self, *, name: str | None = None) -> list[ImageRecord]:
        """Every stored image, most recently seen first; with ``name``, those a name
        matching the glob ``name`` ever pointed at."""
        raise NotImplementedError

    def analysis(self, ref: str) -> Analysis:
        """The stored analysis, equal to the one added (its ``timings`` aside); a stored
        blob that does not hash to its recorded sha256 is a CatalogError naming it."""
        raise NotImplementedError

    def analyses(self, refs: Sequence[str] | None = None) -> Iterator[Analysis]:
        """The stored analyses of ``refs`` (every image when None), one at a time."""
        raise NotImplementedError

    def history(self, name: str) -> list[Sighting]:
        """The chain of custody of ``name``: every image it pointed at, oldest first."""
        raise NotImplementedError

    def names(self) -> list[str]:
        """Every name ever seen, sorted."""
        raise NotImplementedError

    def match_runs(self, ref: str) -> list[MatchRunRecord]:
        """The image's match runs, oldest first."""
        raise NotImplementedError

    def matches(self, ref: str, run: int | None = None) -> list[StoredMatch]:
        """The matches of one run (the image's latest when None; [] if never matched)."""
        raise NotImplementedError

    def evaluations(self, ref: str) -> list[EvaluationRecord]:
        """The image's stored evaluations, oldest first."""
        raise NotImplementedError

    def evaluation(self, id: int) -> dict[str, Any]:
        """A stored evaluation's JSON, as ``Evaluation.to_dict()`` gave it."""
        raise NotImplementedError
