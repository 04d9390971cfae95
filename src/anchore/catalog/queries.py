"""The multi-image queries, answered from a catalog without re-reading any image.

``who-has`` is answered from the indexed ``packages`` table (no analysis loaded:
1,000 stored images answer in well under 100 ms on SQLite), with the same rows
:func:`anchore.query.fleet.who_has` gives over the analyses themselves; every other
query runs on the stored analyses, read back from the catalog.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from sqlalchemy import and_, func, or_, select

from anchore import ecosystems
from anchore.analysis.model import Location, Package
from anchore.catalog import schema
from anchore.catalog.errors import ImageNotCataloguedError
from anchore.catalog.schema import like_escape
from anchore.catalog.times import from_text
from anchore.documents import did_you_mean
from anchore.query import check, find, run
from anchore.query import diff as query_diff
from anchore.query.diff import DiffRow, package_diff
from anchore.query.errors import QueryParamError, UnanswerableQueryError
from anchore.query.evidence import require_package_evidence, require_package_type
from anchore.query.filters import NameMatcher, VersionRange, name_matcher
from anchore.query.fleet import WhoHasRow, who_has_row
from anchore.query.fleet import who_has as fleet_who_has
from anchore.query.model import QueryResult

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.elements import ColumnElement

    from anchore.catalog.catalog import Catalog
    from anchore.plugins import Registry
    from anchore.vulns.store import Store

__all__ = [
    "AffectedRow",
    "CustodyRow",
    "affected",
    "custody",
    "diff",
    "package_evidence_gaps",
    "query",
    "who_has",
]

#: how many names one ``IN (...)`` lists (well under SQLite's bound-parameter limit)
_CHUNK = 500
#: the characters that make a name pattern a glob rather than one name
_GLOB = frozenset("*?[")


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
    #: the first; None when they cannot be counted: see ``reason``)
    added: int | None
    removed: int | None
    changed: int | None
    #: why the counts are None (an image of the move lacks package evidence)
    reason: str = ""


@attrs.frozen
class AffectedRow:
    """A stored image whose latest match run found an advisory (by id or alias):
    ``status`` ``affected``, one row per package; or, ``unchecked``, an image whose
    latest run did not find it but left packages unchecked (``unchecked`` of them, see
    ``reason``; the package fields empty): whether it is affected is unknown."""

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
    #: ``affected`` or ``unchecked``
    status: str = "affected"
    #: packages the image's latest match run left unchecked
    unchecked: int = 0
    #: why an ``unchecked`` row is not an answer
    reason: str = ""


def _empty(catalog: Catalog, what: str) -> UnanswerableQueryError:
    """An empty catalog asked about every image: no answer, not "none"."""
    return UnanswerableQueryError(
        f"the catalog {catalog.url} holds no image: {what} cannot be answered over it; "
        "add images first (anchore catalog add)"
    )


def _keys(catalog: Catalog, refs: Sequence[str]) -> list[str]:
    """The keys ``refs`` name (:meth:`Catalog.resolve`), in order, each once."""
    return list(dict.fromkeys(catalog.resolve(ref) for ref in refs))


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
    every stored image when None for a query over many images. Rows come image by image
    in the order of ``images``, else of :meth:`Catalog.images` (most recently seen
    first), whether answered from the index (who-has) or the stored analyses."""
    found = find(name, registry)
    if images is None and found.images != "many":
        wanted = "one image" if found.images == "one" else "two images"
        raise QueryParamError(
            f"query {found.name!r} takes {wanted}: name the stored images to run it on"
        )
    keys = _keys(catalog, images) if images is not None else None
    count = len(keys) if keys is not None else len(catalog)
    if keys is None and not count:
        raise _empty(catalog, f"query {found.name!r}")
    _, values = check(found, count, params, registry=registry)
    if found.needs_store and store is None:
        raise QueryParamError(
            f"query {found.name!r} reads the advisory store: give one (--db FILE)"
        )
    if found.function is fleet_who_has:  # answered from the index, no analysis loaded
        rows: list[Any] = who_has(
            catalog, values["name"], values["type"], values["version"], images=keys
        )
        return QueryResult(found.name, found.columns, rows)
    if keys is None:  # one order for every query: catalog.images()'s, as who-has gives
        keys = [record.key for record in catalog.images()]
    analyses = list(catalog.analyses(keys))
    return run(found, analyses, params, store=store, registry=registry)


def _plain(pattern: str) -> bool:
    """Whether a name pattern names one name (no glob characters, not a regex)."""
    return not pattern.startswith("re:") and not (_GLOB & set(pattern))


def _pattern_keys(pattern: str) -> set[str]:
    """The ``name_key`` values a plain name can match: the name as each ecosystem
    compares names (and as it is, for package types no ecosystem knows)."""
    return {pattern} | {row.name_key(pattern) for row in ecosystems.ECOSYSTEMS}


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _candidates(
    conn: Connection,
    matcher: NameMatcher,
    type: str | None,
    keys: list[str] | None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses that select the packages rows whose name may match: by ``name_key``
    for a plain name; for a glob or regex, by the (type, name) pairs it matches among
    the distinct pairs stored (the matcher decides; SQL only narrows)."""
    p = schema.packages
    if _plain(matcher.pattern):
        return [p.c.name_key.in_(sorted(_pattern_keys(matcher.pattern)))]
    pairs = select(p.c.type, p.c.name).distinct()
    if type is not None:
        pairs = pairs.where(p.c.type == type)
    if keys is not None:
        pairs = pairs.where(p.c.image_key.in_(keys))
    chosen: dict[str, list[str]] = {}
    for t, n in conn.execute(pairs):
        if matcher(n, t):
            chosen.setdefault(t, []).append(n)
    return [
        and_(p.c.type == t, p.c.name.in_(part))
        for t, names in sorted(chosen.items())
        for part in _chunks(sorted(names))
    ]


def _parse_range(version: VersionRange | str | None) -> VersionRange | None:
    if not isinstance(version, str):
        return version
    try:
        return VersionRange.parse(version)
    except ValueError as exc:
        raise QueryParamError(f"query 'who-has': parameter version={version!r}: {exc}") from None


def _matcher(name: NameMatcher | str) -> NameMatcher:
    if not isinstance(name, str):
        return name
    try:
        return name_matcher(name)
    except ValueError as exc:
        raise QueryParamError(f"query 'who-has': parameter name={name!r}: {exc}") from None


def who_has(
    catalog: Catalog,
    name: NameMatcher | str,
    type: str | None = None,
    version: VersionRange | str | None = None,
    *,
    images: Sequence[str] | None = None,
) -> list[WhoHasRow]:
    """:func:`anchore.query.fleet.who_has` over the catalog, from its package index.

    Every image asked about (all stored, or ``images``) must have its package evidence,
    as its analysis records it: an image whose analyzer of ``type`` (of every
    ecosystem, without a type) failed or did not run raises
    :class:`UnanswerableQueryError` naming it, never "it carries none"."""
    matcher = _matcher(name)
    wanted = _parse_range(version)
    keys = _keys(catalog, images) if images is not None else None
    i, p = schema.images, schema.packages
    with catalog.reading() as conn:
        stored = select(
            i.c.key, i.c.label, i.c.source, i.c.origin, i.c.analyzers, i.c.failed_analyzers
        ).order_by(i.c.last_seen.desc(), i.c.key)
        if keys is not None:
            stored = stored.where(i.c.key.in_(keys))
        chosen = conn.execute(stored).all()
        if keys is None and not chosen:
            raise _empty(catalog, "query 'who-has'")
        _require_evidence(conn, chosen, type)
        clauses = _candidates(conn, matcher, type, keys) if chosen else []
        found: list[Any] = []
        for clause in clauses:
            rows = select(
                p.c.id, p.c.image_key, p.c.type, p.c.name, p.c.version, p.c.layer_index, p.c.path
            ).where(clause)
            if type is not None:
                rows = rows.where(p.c.type == type)
            if keys is not None:
                rows = rows.where(p.c.image_key.in_(keys))
            found.extend(conn.execute(rows).all())
    order = keys if keys is not None else [row.key for row in chosen]
    rank = {key: n for n, key in enumerate(order)}
    label = {row.key: row.label for row in chosen}
    found.sort(key=lambda r: (rank[r.image_key], r.id))
    out = []
    named: dict[tuple[str, str], bool] = {}  # the matcher's answer per (name, type)
    for r in found:
        pair = (r.name, r.type)
        if pair not in named:
            named[pair] = matcher(r.name, r.type)
        if not named[pair]:
            continue
        row = who_has_row(
            label[r.image_key], r.type, r.name, r.version, wanted, r.layer_index, r.path
        )
        if row is not None:
            out.append(row)
    return out


def _require_evidence(
    conn: Connection | None, chosen: Sequence[Any], type: str | None, query: str = "who-has"
) -> None:
    """Each image's package evidence, as ``require_packages`` checks an analysis: from the
    analyzers its row records. A type no ecosystem knows (a plugin's) must be one the
    image's packages carry, else it is a :class:`QueryParamError` as over the analysis."""
    if conn is not None and type is not None and ecosystems.find(type) is None and chosen:
        p = schema.packages
        having = set(
            conn.execute(select(p.c.image_key).where(p.c.type == type).distinct()).scalars()
        )
        if any(row.key not in having for row in chosen):
            require_package_type(type, "who-has")  # raises, listing the known types
    parsed: dict[str, list[str]] = {}
    for row in chosen:
        ran = parsed.setdefault(row.analyzers, json.loads(row.analyzers))
        failed = parsed.setdefault(row.failed_analyzers, json.loads(row.failed_analyzers))
        where = f"{row.label} ({row.source or row.origin})"
        require_package_evidence(where, ran, failed, type, query)


def diff(catalog: Catalog, a: str, b: str, kinds: str | None = None) -> list[DiffRow]:
    """:func:`anchore.query.diff.diff` between two stored images."""
    return query_diff.diff(catalog.analysis(a), catalog.analysis(b), kinds)


def custody(catalog: Catalog, name: str) -> list[CustodyRow]:
    """Every image ``name`` pointed at, oldest first, with what changed at each move:
    the package rows :func:`anchore.query.diff.diff` gives between the two stored
    analyses, counted by change, computed from the package index (no analysis loaded).
    Each image needs its package evidence, as that diff does."""
    links = catalog.history(name)
    if not links:
        raise ImageNotCataloguedError(
            f"{catalog.url}: no image was ever seen as {name!r}"
            + did_you_mean(name, catalog.names())
        )
    i = schema.images
    keys = sorted({link.key for link in links})
    with catalog.reading() as conn:
        stored = {
            row.key: row
            for row in conn.execute(
                select(
                    i.c.key, i.c.label, i.c.source, i.c.origin, i.c.analyzers, i.c.failed_analyzers
                ).where(i.c.key.in_(keys))
            )
        }
    packages: dict[str, list[Package] | UnanswerableQueryError] = {}

    def of(key: str) -> list[Package]:
        if key not in packages:
            try:
                _require_evidence(None, [stored[key]], None, "diff")
                packages[key] = _packages(catalog, key)
            except UnanswerableQueryError as exc:
                packages[key] = exc
        found = packages[key]
        if isinstance(found, UnanswerableQueryError):
            raise found
        return found

    rows = []
    previous: str | None = None
    for link in links:
        counts: dict[str, int | None] = {"added": 0, "removed": 0, "changed": 0}
        reason = ""
        if previous is not None and previous != link.key:
            try:
                changes = package_diff(of(previous), of(link.key))
            except UnanswerableQueryError as exc:  # this link only: the chain goes on
                counts = dict.fromkeys(counts)
                reason = str(exc)
            else:
                for row in changes:
                    counts[row.change] = (counts[row.change] or 0) + 1
        rows.append(
            CustodyRow(
                link.name,
                link.key,
                stored[link.key].label,
                link.first_seen,
                link.last_seen,
                previous,
                counts["added"],
                counts["removed"],
                counts["changed"],
                reason,
            )
        )
        previous = link.key
    return rows


def _packages(catalog: Catalog, key: str) -> list[Package]:
    """The image's packages as the index holds them: enough for a package diff (type,
    name, version, and the layer of the first location)."""
    p = schema.packages
    with catalog.reading() as conn:
        found = conn.execute(
            select(
                p.c.type,
                p.c.name,
                p.c.version,
                p.c.purl,
                p.c.layer_index,
                p.c.layer_digest,
                p.c.path,
            )
            .where(p.c.image_key == key)
            .order_by(p.c.id)
        ).all()
    return [
        Package(
            type=r.type,
            name=r.name,
            version=r.version,
            purl=r.purl,
            locations=()
            if r.layer_index is None
            else (Location(r.path or "", r.layer_index, r.layer_digest or ""),),
        )
        for r in found
    ]


def _like(text: str) -> str:
    """A LIKE pattern finding ``"text"`` inside a JSON list (``\\`` escapes)."""
    return f'%"{like_escape(text)}"%'


def package_evidence_gaps(
    analyzers: Iterable[str], failed_analyzers: Iterable[str]
) -> tuple[str, ...]:
    """What an analysis lacks of its package evidence, from the analyzers it records
    (as :func:`~anchore.query.evidence.require_package_evidence` checks it): ``"python
    failed"`` for each package analyzer that failed, ``"no rpm analyzer (rpm) ran"`` for
    each ecosystem none of whose analyzers ran. Empty: every ecosystem was looked for."""
    ran, failed = set(analyzers), set(failed_analyzers)
    gaps = [f"{a} failed" for row in ecosystems.ECOSYSTEMS for a in row.analyzers if a in failed]
    gaps += [
        f"no {row.package_type} analyzer ({'/'.join(row.analyzers)}) ran"
        for row in ecosystems.ECOSYSTEMS
        if not ran & set(row.analyzers)
    ]
    return tuple(dict.fromkeys(gaps))


def affected(catalog: Catalog, advisory: str) -> list[AffectedRow]:
    """Stored images whose latest match run found ``advisory`` (an id or an alias), in
    :meth:`Catalog.images` order (most recently seen first).

    Images never matched cannot be said to be unaffected: when any stored image has no
    match run, :class:`UnanswerableQueryError` names them (``anchore catalog rematch``
    matches them). An image whose latest run did not find it but left packages
    unchecked is an ``unchecked`` row (the run's record counts those packages, it does
    not list them, so any unchecked package may be one the advisory names), and so is one
    whose stored analysis lacks package evidence (an analyzer failed or did not run, as
    :func:`~anchore.query.evidence.require_package_evidence` checks it; ``reason`` names
    it): what was never found cannot have been matched."""
    i, runs, m = schema.images, schema.match_runs, schema.matches
    latest = (
        select(runs.c.image_key, func.max(runs.c.id).label("run_id"))
        .group_by(runs.c.image_key)
        .subquery()
    )
    with catalog.reading() as conn:
        never = (
            conn.execute(
                select(i.c.label)
                .outerjoin(latest, latest.c.image_key == i.c.key)
                .where(latest.c.run_id.is_(None))
                .order_by(i.c.label)
            )
            .scalars()
            .all()
        )
        if not never and conn.execute(select(func.count()).select_from(i)).scalar() == 0:
            raise _empty(catalog, f"whom {advisory} affects")
        if never:
            shown = ", ".join(never[:5]) + (f" and {len(never) - 5} more" if len(never) > 5 else "")
            raise UnanswerableQueryError(
                f"catalog {catalog.url}: {len(never)} stored image(s) were never matched "
                f"against an advisory store ({shown}): whether {advisory} affects them is "
                "unknown; match them first (anchore catalog rematch --db STORE)"
            )
        last = conn.execute(
            select(
                i.c.key,
                i.c.label,
                i.c.source,
                i.c.origin,
                i.c.analyzers,
                i.c.failed_analyzers,
                runs.c.matched_at,
                runs.c.unchecked,
            )
            .select_from(i)
            .join(latest, latest.c.image_key == i.c.key)
            .join(runs, runs.c.id == latest.c.run_id)
            .order_by(i.c.last_seen.desc(), i.c.key)
        ).all()
        found = conn.execute(
            select(
                i.c.key,
                i.c.label,
                runs.c.matched_at,
                runs.c.unchecked,
                m.c.advisory_id,
                m.c.aliases,
                m.c.package_type,
                m.c.package_name,
                m.c.version,
                m.c.fixed_in,
                m.c.rating,
                m.c.layer_index,
            )
            .select_from(m)
            .join(latest, latest.c.run_id == m.c.run_id)
            .join(runs, runs.c.id == m.c.run_id)
            .join(i, i.c.key == m.c.image_key)
            .where(or_(m.c.advisory_id == advisory, m.c.aliases.like(_like(advisory), escape="\\")))
            .order_by(i.c.last_seen.desc(), i.c.key, m.c.id)
        ).all()
    rows = []
    for r in found:
        aliases = tuple(json.loads(r.aliases))
        if r.advisory_id != advisory and advisory not in aliases:
            continue  # the LIKE only narrows
        rows.append(
            AffectedRow(
                r.label,
                r.key,
                r.advisory_id,
                aliases,
                r.package_type,
                r.package_name,
                r.version,
                r.fixed_in,
                r.rating,
                r.layer_index,
                from_text(r.matched_at),
                unchecked=r.unchecked,
            )
        )
    hit = {row.key for row in rows}
    for latest_run in last:
        if latest_run.key in hit:
            continue
        missing = _evidence_missing(latest_run)
        if missing or latest_run.unchecked:
            rows.append(_unknown(latest_run, advisory, missing))
    rank = {latest_run.key: n for n, latest_run in enumerate(last)}
    rows.sort(key=lambda row: rank[row.key])  # stable: an image's rows keep their order
    return rows


def _evidence_missing(row: Any) -> str:
    """Why the stored image's package evidence is incomplete ("" when it is not)."""
    where = f"{row.label} ({row.source or row.origin})"
    ran, failed = json.loads(row.analyzers), json.loads(row.failed_analyzers)
    try:
        require_package_evidence(where, ran, failed, None, "affected")
    except UnanswerableQueryError as exc:
        return str(exc)
    return ""


def _unknown(run: Any, advisory: str, missing: str = "") -> AffectedRow:
    """The row of an image whose latest run did not find ``advisory`` but left packages
    unchecked, or whose package evidence is ``missing`` (the reason)."""
    when = from_text(run.matched_at)
    if missing:
        reason = (
            f"{missing}, so its match runs cannot have found {advisory} in them; "
            "analyze it again (anchore catalog add --rescan)"
        )
    else:
        reason = (
            f"its latest match run ({when:%Y-%m-%d %H:%M} UTC) left {run.unchecked} "
            f"package(s) unchecked, any of which {advisory} may name; match it against a "
            "store covering them (anchore catalog rematch --db STORE)"
        )
    return AffectedRow(
        run.label,
        run.key,
        advisory,
        (),
        "",
        "",
        "",
        None,
        "",
        None,
        when,
        status="unchecked",
        unchecked=run.unchecked,
        reason=reason,
    )
