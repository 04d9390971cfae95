"""The catalog's records: what :class:`~anchore.catalog.Catalog` returns about stored
images, sightings, match runs, matches and evaluations. Plain frozen values, kept apart
from the storage code that makes them."""

from __future__ import annotations

import datetime

import attrs

__all__ = [
    "AddResult",
    "EvaluationRecord",
    "ImageRecord",
    "MatchRunRecord",
    "Sighting",
    "StoredMatch",
]


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
    #: the analyzers that failed as a whole (crashed, timed out): the stored analysis is
    #: missing what they find, and :meth:`Catalog.keys` ``(complete=True)`` leaves it out
    failed_analyzers: tuple[str, ...] = ()


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
