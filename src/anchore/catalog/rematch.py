"""Re-match without re-pulling: every stored analysis against the advisory store as it
is now, and what that changed since each image's last match run (what the morning's
advisories did to yesterday's images)."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs

from anchore.catalog.errors import ImageNotCataloguedError
from anchore.catalog.queries import package_evidence_gaps
from anchore.query.diff import image_label
from anchore.vulns.match import Match, MatchResult, match

if TYPE_CHECKING:
    from anchore.catalog.catalog import Catalog, StoredMatch
    from anchore.vulns.store import Store

__all__ = ["RematchReport", "RematchRow", "rematch"]


@attrs.frozen
class RematchRow:
    """What changed for one advisory and package of a stored image since the image's
    previous match run: ``new`` (newly affecting it), ``gone`` (no longer: fixed in the
    feed, withdrawn), or ``unchecked`` (a previous match whose package this run could
    not check, as when the store lost the package's ecosystem: still possibly affected,
    so never ``gone``)."""

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
    #: the package's purl (with the advisory id, what identifies a match)
    purl: str = ""


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
    #: packages the store checked, over all images (0 with images matched: nothing was
    #: checked, no result rather than a clean one)
    checked: int = 0
    #: (key, unchecked package count) of each image whose run left packages unchecked,
    #: in the order matched; empty when every package of every image was checked
    unchecked_images: tuple[tuple[str, int], ...] = ()
    #: keys of images whose run checked no package (all unchecked, or an image of no
    #: package), in the order matched: no result for them, not a clean one
    nothing_checked: tuple[str, ...] = ()
    #: (key, gaps) of each image whose stored analysis lacks package evidence (``"python
    #: failed"``, ``"no rpm analyzer (rpm) ran"``): packages never found were never matched
    incomplete_images: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: keys of images another process removed before their turn came: not matched
    removed: tuple[str, ...] = ()


def rematch(
    catalog: Catalog,
    store: Store,
    *,
    images: Sequence[str] | None = None,
    at: datetime.datetime | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> RematchReport:
    """Match every stored image (or ``images``) against ``store``, record each run, and
    report what is newly affected or no longer affected since its previous run. A
    previous match whose package this run left unchecked is reported ``unchecked``, not
    ``gone``: a store without data for an ecosystem proves no fix.

    A match is the same as a previous one when it is of the same package (purl) and
    shares an id or alias with it: the store may report a vulnerability under another
    of its records once a new feed brings one (a distro's record of the same CVE),
    which is not news. Each image's run is recorded in its own transaction, so a
    rematch stopped midway keeps the runs it made; an image another process removes
    before its turn is skipped and named in ``removed``. ``progress`` is called as
    ``("rematch", done, total)``."""
    store.require_data()
    when = at or datetime.datetime.now(datetime.timezone.utc)
    if images is not None:
        keys = list(dict.fromkeys(catalog.resolve(ref) for ref in images))
    else:
        keys = [record.key for record in catalog.images()]
    rows: list[RematchRow] = []
    first_runs: list[str] = []
    unchecked = 0
    checked = 0
    unchecked_images: list[tuple[str, int]] = []
    nothing_checked: list[str] = []
    incomplete: list[tuple[str, tuple[str, ...]]] = []
    removed: list[str] = []
    for done, key in enumerate(keys, 1):
        try:
            # matching reads packages and the distro: the analysis without its inventory
            analysis = catalog.analysis(key, files=False)
            result = match(analysis, store)
            before = catalog.match_runs(key)
            previous = catalog.matches(key) if before else []
            catalog.record_matches(key, result, store, at=when)
        except ImageNotCataloguedError:  # removed by another process since the listing
            removed.append(key)
            if progress is not None:
                progress("rematch", done, len(keys))
            continue
        if not before:
            first_runs.append(key)
        unchecked += len(result.unchecked)
        checked += len(result.checked)
        if result.unchecked:
            unchecked_images.append((key, len(result.unchecked)))
        if not result.checked:
            nothing_checked.append(key)
        gaps = package_evidence_gaps(analysis.analyzers, analysis.failed_analyzers)
        if gaps:
            incomplete.append((key, gaps))
        label = image_label(analysis)
        rows.extend(_new(label, key, result.matches, previous))
        rows.extend(_gone(label, key, result, previous))
        if progress is not None:
            progress("rematch", done, len(keys))
    return RematchReport(
        tuple(rows),
        len(keys) - len(removed),
        tuple(first_runs),
        unchecked,
        when,
        checked=checked,
        unchecked_images=tuple(unchecked_images),
        nothing_checked=tuple(nothing_checked),
        incomplete_images=tuple(incomplete),
        removed=tuple(removed),
    )


def _names(advisory_id: str, aliases: Sequence[str]) -> frozenset[str]:
    return frozenset((advisory_id, *aliases))


def _new(
    label: str, key: str, now: Sequence[Match], previous: Sequence[StoredMatch]
) -> list[RematchRow]:
    """This run's matches that no previous match of the same package knew by any name."""
    known: dict[_Package, set[str]] = {}
    for old in previous:
        ident = _package(old.purl, old.package_type, old.package_name, old.version)
        known.setdefault(ident, set()).update(_names(old.advisory_id, old.aliases))
    rows = []
    for m in now:
        ident = _package(m.purl, m.package_type, m.package_name, m.installed_version)
        if _names(m.advisory_id, m.aliases) & known.get(ident, set()):
            continue
        where = m.locations[0].layer_index if m.locations else None
        rows.append(
            RematchRow(
                label,
                key,
                "new",
                m.advisory_id,
                tuple(m.aliases),
                m.package_type,
                m.package_name,
                m.installed_version,
                m.fixed_in,
                m.rating,
                where,
                m.purl,
            )
        )
    return rows


def _gone(
    label: str, key: str, result: MatchResult, previous: Sequence[StoredMatch]
) -> list[RematchRow]:
    """The previous run's matches that no match of this run of the same package knows by
    any name: ``gone`` when this run checked the package, ``unchecked`` when it could
    not (no advisory data for its ecosystem is no evidence of a fix)."""
    known: dict[_Package, set[str]] = {}
    for m in result.matches:
        ident = _package(m.purl, m.package_type, m.package_name, m.installed_version)
        known.setdefault(ident, set()).update(_names(m.advisory_id, m.aliases))
    unchecked = {
        _package(c.package.purl, c.package.type, c.package.name, c.package.version)
        for c in result.unchecked
    }
    rows = []
    for old in previous:
        ident = _package(old.purl, old.package_type, old.package_name, old.version)
        if _names(old.advisory_id, old.aliases) & known.get(ident, set()):
            continue
        rows.append(
            RematchRow(
                label,
                key,
                "unchecked" if ident in unchecked else "gone",
                old.advisory_id,
                old.aliases,
                old.package_type,
                old.package_name,
                old.version,
                old.fixed_in,
                old.rating,
                old.layer_index,
                old.purl,
            )
        )
    return rows


#: what identifies a matched package: its purl, else (type, name, version)
_Package = str | tuple[str, str, str]


def _package(purl: str, type: str, name: str, version: str) -> _Package:
    """A package's identity in a match: its purl, or, for a package without one, its type,
    name and version (so two purl-less packages are never taken for one)."""
    return purl or (type, name, version)
