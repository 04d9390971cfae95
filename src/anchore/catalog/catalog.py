"""``Catalog``: many analyses over time, in SQLite (the default) or PostgreSQL.

Opening creates the schema (or migrates an older one, in one transaction) and
refuses a database that is not a catalog or is newer than this anchore. Every
write is one transaction: a writer killed midway leaves the catalog as it was.
SQLite runs in WAL mode with a busy timeout and takes its write lock at the
start of each write (``BEGIN IMMEDIATE``), so several writer processes queue
rather than fail; on PostgreSQL two writers adding one image at once both succeed
(the second finds the image stored: ``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

import datetime
import fnmatch
import json
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

import attrs
import sqlalchemy as sa
import zstandard
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from anchore import ecosystems
from anchore.analysis.model import Analysis
from anchore.catalog import codec
from anchore.catalog.database import Database, open_database
from anchore.catalog.errors import (
    AmbiguousImageError,
    CatalogError,
    ImageNotCataloguedError,
)
from anchore.catalog.records import (
    AddResult,
    EvaluationRecord,
    ImageRecord,
    MatchRunRecord,
    Sighting,
    StoredMatch,
)
from anchore.catalog.schema import (
    aliases,
    evaluations,
    image_key,
    images,
    layers,
    like_escape,
    match_runs,
    matches,
    packages,
)
from anchore.catalog.times import from_text, to_text
from anchore.documents import did_you_mean
from anchore.query.diff import image_label
from anchore.sbom.anchore_json import analysis_from_dict
from anchore.sbom.common import tool_version
from anchore.vulns.update import status

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
    given = os.environ.get("ANCHORE_CATALOG")
    if given:
        return given
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return str(Path(data) / "anchore" / "catalog.db")


#: a digest or the start of one: ``sha256:`` and at least 4 hex digits, or bare hex
_DIGEST = re.compile(r"(?:(?P<algo>[a-z0-9]+):)?(?P<hex>[0-9a-f]{4,})")


#: a name's newest link first: by time, then (equal times) the later to arrive
_NEWEST_FIRST = (aliases.c.first_seen.desc(), aliases.c.id.desc())
#: the PostgreSQL transaction lock every writer of sightings takes (database.py's schema
#: lock is another key)
_NAME_LOCK = 0x616E63  # "anc"


#: the images columns an ImageRecord is made of (not the analysis blob)
_RECORD_COLUMNS = [c for c in images.c if c.name in attrs.fields_dict(ImageRecord)]


def _name_key(type_: str, name: str) -> str:
    row = ecosystems.find(type_)
    return row.name_key(name) if row is not None else name


def _distinct(names: Iterable[str | None]) -> list[str]:
    """The names given, blanks dropped, each once, in order."""
    out: dict[str, None] = {}
    for n in names:
        if n and n.strip():
            out.setdefault(n.strip(), None)
    return list(out)


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
        self._db: Database = open_database(url if url is not None else default_catalog(),
                                           create=create)  # fmt: skip
        self.url = self._db.name
        self.dialect = self._db.dialect

    #: the URL as given, with any password replaced by ``***`` (for messages and reprs)
    url: str
    #: ``sqlite`` or ``postgresql``
    dialect: str

    def __repr__(self) -> str:
        return f"Catalog({self.url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for the query modules of this package)."""
        return self._db.engine

    def close(self) -> None:
        self._db.engine.dispose()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _failed(self, e: BaseException) -> CatalogError:
        return self._db.failure(e)

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT (which has ``on_conflict_do_nothing``)."""
        return (pg_dialect if self.dialect == "postgresql" else sqlite_dialect).insert(table)

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
        recorded all the same. ``replace`` swaps the stored analysis, packages and
        layers, and deletes the match runs and evaluations of the analysis replaced
        (they describe an analysis no longer stored; match the new one again), keeping
        its sightings and ``first_seen``. One transaction: killed midway, nothing
        changed."""
        key = image_key(analysis)
        if not key:
            raise CatalogError(
                f"{self.url}: the analysis of {analysis.image.source or '?'} records no "
                "manifest or config digest to key it by"
            )
        info = analysis.image
        every = _distinct([info.reference, *info.tags, *names])
        # the heavy part (JSON, compression, rows) before the write lock is taken
        blob, digest = codec.analysis_blob(analysis)
        row = self._image_row(analysis, key, blob, digest, "")
        row["summary"], row["summary_sha256"] = codec.analysis_blob(codec.summary_of(analysis))
        layer_rows = [
            {"image_key": key, "position": i, "digest": layer.digest,
             "diff_id": layer.diff_id, "size": layer.uncompressed_size}
            for i, layer in enumerate(info.layers or ())
        ]  # fmt: skip
        package_rows = [self._package_row(key, p) for p in analysis.packages]
        with self._writing() as conn:
            at = self._sighting_time(conn, seen_at)
            row["first_seen"] = row["last_seen"] = at
            stored = conn.execute(
                sa.select(images.c.first_seen, images.c.last_seen).where(images.c.key == key)
            ).first()
            if stored is not None and not replace:
                return AddResult(key, False, self._sight(conn, key, every, at))
            if stored is not None:
                # what was made against the old analysis goes with it (a match run
                # or evaluation is of an analysis, and that one is no longer stored)
                for table in (matches, match_runs, evaluations, packages, layers):
                    conn.execute(table.delete().where(table.c.image_key == key))
                conn.execute(
                    images.update()
                    .where(images.c.key == key)
                    .values(
                        {**row, "first_seen": stored.first_seen,
                         "last_seen": max(stored.last_seen, at)}
                    )
                )  # fmt: skip
            else:
                done = conn.execute(self._insert(images).values(row).on_conflict_do_nothing())
                if done.rowcount == 0:  # another writer stored it first (PostgreSQL)
                    return AddResult(key, False, self._sight(conn, key, every, at))
            if layer_rows:
                conn.execute(layers.insert(), layer_rows)
            if package_rows:
                conn.execute(packages.insert(), package_rows)
            return AddResult(key, True, self._sight(conn, key, every, at))

    def _sighting_time(self, conn: Connection, seen_at: datetime.datetime | None) -> str:
        """``seen_at`` as stored text, or (None) now, taken once this write transaction
        holds its lock, so writers that queued are dated in the order they wrote (SQLite:
        the database's write lock; PostgreSQL: one transaction lock for every sighting
        writer). One lock, not one per name: locks per name, keyed by a hash of the name,
        can be taken in opposite orders by two writers whose names collide in hash, and
        deadlock; sightings are few enough that writing them one at a time costs
        nothing. Clocks of different machines writing to one PostgreSQL catalog are
        trusted as they are."""
        if self.dialect == "postgresql":
            conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_NAME_LOCK)))
        return to_text(seen_at)

    @staticmethod
    def _image_row(
        analysis: Analysis, key: str, blob: bytes, digest: str, at: str
    ) -> dict[str, Any]:
        info = analysis.image
        distro = analysis.distro
        return {
            "key": key,
            "manifest_digest": info.manifest_digest,
            "config_digest": info.config_digest,
            "platform": str(info.platform),
            "distro": f"{distro.id}:{distro.version_id or ''}" if distro else "",
            "created": to_text(info.created) if info.created else None,
            "size": info.size,
            "layer_count": len(info.layers) if info.layers is not None else None,
            "package_count": len(analysis.packages),
            "first_seen": at,
            "last_seen": at,
            "source": info.source,
            "label": image_label(analysis),
            "origin": analysis.origin,
            "analyzers": json.dumps(list(analysis.analyzers)),
            "failed_analyzers": json.dumps(list(analysis.failed_analyzers)),
            "anchore_version": tool_version(),
            "analysis": blob,
            "analysis_sha256": digest,
        }

    @staticmethod
    def _package_row(key: str, p: Any) -> dict[str, Any]:
        where = p.locations[0] if p.locations else None
        return {
            "image_key": key,
            "type": p.type,
            "name": p.name,
            "name_key": _name_key(p.type, p.name),
            "version": p.version,
            "purl": p.purl,
            "layer_index": where.layer_index if where else None,
            "layer_digest": where.layer_digest if where else None,
            "path": where.path if where else None,
            "declared": p.declared,
        }

    def _sight(
        self, conn: Connection, key: str, names: Sequence[str], at: str
    ) -> tuple[tuple[str, str], ...]:
        """Record ``key`` seen as ``names`` at ``at``; the names that moved to it.

        A name's links are ordered by ``first_seen`` (then by arrival) and never overlap:
        custody is one sequence in time. A sighting extends the link in force at ``at``
        when that link is this image's, lowers the next link's ``first_seen`` when that
        one is this image's (and the link before has ended by then), else starts a link
        of its own. A back-dated sighting (older than the name's newest link) is thus
        history put in its place in time: it never changes what the name points at now,
        and it is no move. One that falls inside another image's link splits that link
        into the two sightings that link records, its ends (a link keeps no sightings
        between them): A seen at 10:00 and 10:45, then C back-dated to 10:30, is
        A 10:00, C 10:30, A 10:45, not an A link spanning C."""
        conn.execute(
            images.update().where(images.c.key == key, images.c.last_seen < at).values(last_seen=at)
        )
        moved = []
        for name in names:
            columns = (aliases.c.id, aliases.c.image_key, aliases.c.first_seen, aliases.c.last_seen)
            before = conn.execute(
                sa.select(*columns)
                .where(aliases.c.name == name, aliases.c.first_seen <= at)
                .order_by(*_NEWEST_FIRST)
                .limit(1)
            ).first()
            if before is not None and before.image_key != key and before.last_seen > at:
                # another image's link spans ``at``: split it into its two ends; the next
                # link is then its second end, so this sighting starts a link of its own
                conn.execute(
                    aliases.update()
                    .where(aliases.c.id == before.id)
                    .values(last_seen=before.first_seen)
                )
                conn.execute(
                    aliases.insert().values(name=name, image_key=before.image_key,
                                            first_seen=before.last_seen, last_seen=before.last_seen)
                )  # fmt: skip
            after = conn.execute(
                sa.select(*columns)
                .where(aliases.c.name == name, aliases.c.first_seen > at)
                .order_by(aliases.c.first_seen, aliases.c.id)
                .limit(1)
            ).first()
            if before is not None and before.image_key == key:
                conn.execute(
                    aliases.update()
                    .where(aliases.c.id == before.id, aliases.c.last_seen < at)
                    .values(last_seen=at)
                )
            elif (
                after is not None
                and after.image_key == key
                and (before is None or before.last_seen <= at)
            ):
                conn.execute(aliases.update().where(aliases.c.id == after.id).values(first_seen=at))
            else:
                conn.execute(
                    aliases.insert().values(name=name, image_key=key, first_seen=at, last_seen=at)
                )
                if after is None and before is not None:
                    moved.append((name, str(before.image_key)))
        return tuple(moved)

    def seen(
        self, key: str, names: Iterable[str], *, seen_at: datetime.datetime | None = None
    ) -> AddResult:
        """Record that the stored image ``key`` was seen as ``names`` at ``seen_at`` (now),
        without its analysis: what a scan that found the digest already stored does."""
        every = _distinct(names)
        with self._writing() as conn:
            if conn.execute(sa.select(images.c.key).where(images.c.key == key)).first() is None:
                raise self._not_found(conn, key)
            at = self._sighting_time(conn, seen_at)
            return AddResult(key, False, self._sight(conn, key, every, at))

    def remove(self, ref: str) -> ImageRecord:
        """Delete one stored image (by :meth:`resolve`'s rules) with everything about
        it: packages, layers, sightings, matches, evaluations. Returns what it was."""
        with self._writing() as conn:
            key = self._resolve(conn, ref)
            record = self._records(conn, [key])[0]
            # the foreign keys cascade; said here too, so a database whose cascades
            # were lost (a SQLite connection without foreign_keys) cannot keep orphans
            for table in (matches, match_runs, evaluations, packages, layers, aliases):
                conn.execute(table.delete().where(table.c.image_key == key))
            conn.execute(images.delete().where(images.c.key == key))
            return record

    def record_matches(
        self, ref: str, result: MatchResult, store: Store, *, at: datetime.datetime | None = None
    ) -> MatchRunRecord:
        """Store one matching of the image against ``store`` (its matches, how many
        packages were checked, unchecked and declared, and the store's feed dates)."""
        feeds: dict[str, dict[str, object]] = {
            s.feed: {
                "checked": to_text(s.checked) if s.checked else None,
                "changed": to_text(s.changed) if s.changed else None,
                "covers": list(s.covers),
            }
            for s in status(store)
        }
        when = to_text(at)
        with self._writing() as conn:
            key = self._resolve(conn, ref)
            run = conn.execute(
                match_runs.insert()
                .values(image_key=key, matched_at=when, feeds=json.dumps(feeds, sort_keys=True),
                        checked=len(result.checked), unchecked=len(result.unchecked),
                        declared=len(result.declared))
                .returning(match_runs.c.id)
            ).scalar_one()  # fmt: skip
            rows = [
                {
                    "run_id": run,
                    "image_key": key,
                    "advisory_id": m.advisory_id,
                    "aliases": json.dumps(list(m.aliases)),
                    "package_type": m.package_type,
                    "package_name": m.package_name,
                    "version": m.installed_version,
                    "purl": m.purl,
                    "fixed_in": m.fixed_in,
                    "rating": m.rating,
                    "score": m.score,
                    "layer_index": m.locations[0].layer_index if m.locations else None,
                    "match": json.dumps(m.to_dict(), sort_keys=True),
                }
                for m in result.matches
            ]
            if rows:
                conn.execute(matches.insert(), rows)
        return MatchRunRecord(
            int(run), key, from_text(when), feeds, len(result.checked), len(result.unchecked),
            len(result.declared),
        )  # fmt: skip

    def record_evaluation(
        self, ref: str, evaluation: Evaluation, *, at: datetime.datetime | None = None
    ) -> EvaluationRecord:
        """Store one policy evaluation of the image."""
        document = evaluation.to_dict()
        # what names the bundle in an Evaluation: its id and the policies and allowlists
        # the mapping chose (the bundle's own text is not kept by the Evaluation)
        identity = {
            "bundle_id": evaluation.bundle_id,
            "mapping": evaluation.mapping,
            "policy_ids": list(evaluation.policy_ids),
            "allowlist_ids": list(evaluation.allowlist_ids),
        }
        bundle_digest = codec.sha256(
            json.dumps(identity, sort_keys=True, separators=(",", ":")).encode("utf-8")
        )
        when = to_text(at)
        with self._writing() as conn:
            key = self._resolve(conn, ref)
            new_id = conn.execute(
                evaluations.insert()
                .values(image_key=key, evaluated_at=when, bundle=evaluation.bundle_id,
                        bundle_digest=bundle_digest, final_action=evaluation.final_action,
                        evaluation=codec.compress_json(document))
                .returning(evaluations.c.id)
            ).scalar_one()  # fmt: skip
        return EvaluationRecord(
            int(new_id), key, from_text(when), evaluation.bundle_id, bundle_digest,
            evaluation.final_action,
        )  # fmt: skip

    # ------------------------------------------------------------ reading
    def resolve(self, ref: str) -> str:
        """The key of the stored image ``ref`` names, tried in this order: a whole key
        (manifest digest, or config digest for a docker-save archive); a name it was
        seen as (the image the name points at now); a unique prefix of a digest
        (``sha256:3f2a`` or bare hex, at least 4 digits). A name wins over a prefix of
        the same spelling: write ``sha256:`` to mean the prefix. ``name@digest`` is the
        digest (whole or prefix), and ``name`` must have pointed at it at some time.
        :class:`~anchore.catalog.errors.ImageNotCataloguedError` or
        :class:`~anchore.catalog.errors.AmbiguousImageError` (a prefix of several)
        otherwise."""
        with self.reading() as conn:
            return self._resolve(conn, ref)

    def reading(self) -> AbstractContextManager[Connection]:
        """A read transaction whose database errors are :class:`CatalogConnectionError`
        naming the catalog (for the query modules of this package)."""
        return self._transaction(write=False)

    def _writing(self) -> AbstractContextManager[Connection]:
        return self._transaction(write=True)

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        """One transaction whose database errors, on begin, in the body or on commit,
        become CatalogConnectionErrors naming the catalog."""
        try:
            with self._db.write() if write else self._db.read() as conn:
                yield conn
        except (DBAPIError, SQLAlchemyError) as e:
            raise self._failed(e) from None

    def _resolve(self, conn: Connection, ref: str) -> str:
        text = ref.strip() if isinstance(ref, str) else ""
        if not text:
            raise ImageNotCataloguedError(f"{self.url}: no image named {ref!r} in the catalog")
        name, _, digest = text.rpartition("@")
        if name and _DIGEST.fullmatch(digest):
            found = self._by_digest(conn, digest)
            if found is None:
                raise self._not_found(conn, text)
            seen = conn.execute(
                sa.select(aliases.c.id).where(aliases.c.name == name, aliases.c.image_key == found)
            ).first()
            if seen is None:
                raise ImageNotCataloguedError(
                    f"{self.url}: no image {text!r} in the catalog: {name!r} was never seen "
                    f"on {found}"
                )
            return found
        if conn.execute(sa.select(images.c.key).where(images.c.key == text)).first():
            return text
        newest = conn.execute(
            sa.select(aliases.c.image_key)
            .where(aliases.c.name == text)
            .order_by(*_NEWEST_FIRST)
            .limit(1)
        ).scalar()
        if newest is not None:
            return str(newest)
        if _DIGEST.fullmatch(text):
            found = self._by_digest(conn, text)
            if found is not None:
                return found
        raise self._not_found(conn, text)

    def _by_digest(self, conn: Connection, text: str) -> str | None:
        """The key a whole digest or a unique prefix of one names (None: none)."""
        m = _DIGEST.fullmatch(text)
        assert m is not None
        full = text if m.group("algo") else f"sha256:{text}"
        if conn.execute(sa.select(images.c.key).where(images.c.key == full)).first():
            return full
        prefix = like_escape(full)
        found = sorted(
            str(k)
            for k in conn.execute(
                sa.select(images.c.key).where(images.c.key.like(prefix + "%", escape="\\"))
            ).scalars()
        )
        if len(found) > 1:
            raise AmbiguousImageError(
                f"{self.url}: {text!r} is the start of {len(found)} stored images' digests: "
                + ", ".join(found[:10])
                + (" ..." if len(found) > 10 else "")
            )
        return found[0] if found else None

    def _not_found(self, conn: Connection, ref: str) -> ImageNotCataloguedError:
        known = conn.execute(sa.select(aliases.c.name).distinct()).scalars()
        hint = did_you_mean(ref, [str(n) for n in known])
        return ImageNotCataloguedError(f"{self.url}: no image {ref!r} in the catalog{hint}")

    def __contains__(self, key: object) -> bool:
        """Whether an image with exactly this key is stored."""
        if not isinstance(key, str):
            return False
        with self.reading() as conn:
            return (
                conn.execute(sa.select(images.c.key).where(images.c.key == key)).first() is not None
            )

    def keys(self, *, complete: bool = False) -> frozenset[str]:
        """Every stored image's key; with ``complete``, only those whose stored analysis
        a re-scan can stand on (``analyze_many(skip=...)``): analyzed from the image
        (not read back from an SBOM) with no analyzer failed as a whole. The others are
        analyzed again and replaced (``add(..., replace=True)``)."""
        query = sa.select(images.c.key)
        if complete:
            query = query.where(images.c.origin == "image", images.c.failed_analyzers == "[]")
        with self.reading() as conn:
            return frozenset(str(k) for k in conn.execute(query).scalars())

    def __len__(self) -> int:
        with self.reading() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(images)).scalar_one())

    def image(self, ref: str) -> ImageRecord:
        with self.reading() as conn:
            return self._records(conn, [self._resolve(conn, ref)])[0]

    def images(self, *, name: str | None = None) -> list[ImageRecord]:
        """Every stored image, most recently seen first; with ``name``, those a name
        matching the glob ``name`` ever pointed at."""
        with self.reading() as conn:
            if name is None:
                keys = None
            else:
                pairs = conn.execute(sa.select(aliases.c.name, aliases.c.image_key).distinct())
                keys = sorted({str(k) for n, k in pairs if fnmatch.fnmatchcase(n, name)})
            return self._records(conn, keys)

    def _records(self, conn: Connection, keys: Sequence[str] | None) -> list[ImageRecord]:
        query = sa.select(*_RECORD_COLUMNS).order_by(images.c.last_seen.desc(), images.c.key)
        if keys is not None:
            if not keys:
                return []
            query = query.where(images.c.key.in_(keys))
        rows = conn.execute(query).all()
        current = self._current_names(conn, [str(r.key) for r in rows])
        return [self._record(r, current.get(str(r.key), ())) for r in rows]

    @staticmethod
    def _current_names(conn: Connection, keys: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """The names whose newest sighting is each of ``keys``."""
        if not keys:
            return {}
        ranked = sa.select(
            aliases.c.image_key,
            aliases.c.name,
            sa.func.row_number()
            .over(partition_by=aliases.c.name, order_by=_NEWEST_FIRST)
            .label("rank"),
        ).subquery()
        query = (
            sa.select(ranked.c.image_key, ranked.c.name)
            .where(ranked.c.rank == 1, ranked.c.image_key.in_(keys))
            .order_by(ranked.c.name)
        )
        out: dict[str, list[str]] = {}
        for key, name in conn.execute(query):
            out.setdefault(str(key), []).append(str(name))
        return {k: tuple(v) for k, v in out.items()}

    @staticmethod
    def _record(r: Row[Any], names: tuple[str, ...]) -> ImageRecord:
        return ImageRecord(
            key=r.key, manifest_digest=r.manifest_digest, config_digest=r.config_digest,
            platform=r.platform, distro=r.distro,
            created=from_text(r.created) if r.created else None, size=r.size,
            layer_count=r.layer_count, package_count=r.package_count,
            first_seen=from_text(r.first_seen), last_seen=from_text(r.last_seen), source=r.source,
            label=r.label, origin=r.origin, names=names,
            failed_analyzers=tuple(json.loads(r.failed_analyzers)),
        )  # fmt: skip

    def analysis(self, ref: str, *, files: bool = True) -> Analysis:
        """The stored analysis, equal to the one added (its ``timings`` aside); a stored
        blob that does not hash to its recorded sha256 is a CatalogError naming it.

        ``files=False`` reads it without its file inventory and layer changes
        (``files_known`` False, ``layer_changes`` None, so file and layer queries on it
        are unanswerable): what matching needs, parsed in a fraction of the time."""
        blob, digest = (
            (images.c.analysis, images.c.analysis_sha256)
            if files
            else (images.c.summary, images.c.summary_sha256)
        )
        with self.reading() as conn:
            key = self._resolve(conn, ref)
            row = conn.execute(sa.select(blob, digest).where(images.c.key == key)).one()
        return self._decode(key, bytes(row[0]), str(row[1]))

    def _decode(self, key: str, blob: bytes, digest: str) -> Analysis:
        where = f"{self.url}: the stored analysis of {key}"
        try:
            data = codec.decompress(blob)
        except zstandard.ZstdError as e:
            raise CatalogError(f"{where} is damaged (cannot decompress: {e})") from None
        if codec.sha256(data) != digest:
            raise CatalogError(f"{where} is damaged (it does not hash to its recorded {digest})")
        try:
            raw = json.loads(data)
        except ValueError as e:
            raise CatalogError(f"{where} is not JSON: {e}") from None
        return analysis_from_dict(raw, where)

    def analyses(
        self, refs: Sequence[str] | None = None, *, files: bool = True
    ) -> Iterator[Analysis]:
        """The stored analyses of ``refs`` (every image when None), one at a time (with
        ``files`` as :meth:`analysis` takes it)."""
        if refs is None:
            with self.reading() as conn:
                keys = sorted(str(k) for k in conn.execute(sa.select(images.c.key)).scalars())
        else:
            with self.reading() as conn:
                keys = [self._resolve(conn, r) for r in refs]
        for key in keys:
            yield self.analysis(key, files=files)

    def history(self, name: str) -> list[Sighting]:
        """The chain of custody of ``name``: every image it pointed at, oldest first (by
        ``first_seen``, then by arrival)."""
        with self.reading() as conn:
            rows = conn.execute(
                sa.select(aliases)
                .where(aliases.c.name == name)
                .order_by(aliases.c.first_seen, aliases.c.id)
            ).all()
        return [
            Sighting(r.name, r.image_key, from_text(r.first_seen), from_text(r.last_seen))
            for r in rows
        ]

    def names(self) -> list[str]:
        """Every name ever seen, sorted."""
        with self.reading() as conn:
            return sorted(
                str(n) for n in conn.execute(sa.select(aliases.c.name).distinct()).scalars()
            )

    def match_runs(self, ref: str) -> list[MatchRunRecord]:
        """The image's match runs, oldest first."""
        with self.reading() as conn:
            key = self._resolve(conn, ref)
            rows = conn.execute(
                sa.select(match_runs).where(match_runs.c.image_key == key).order_by(match_runs.c.id)
            ).all()
        return [
            MatchRunRecord(r.id, r.image_key, from_text(r.matched_at), json.loads(r.feeds),
                           r.checked, r.unchecked, r.declared)
            for r in rows
        ]  # fmt: skip

    def matches(self, ref: str, run: int | None = None) -> list[StoredMatch]:
        """The matches of one run (the image's latest when None; [] if never matched)."""
        with self.reading() as conn:
            key = self._resolve(conn, ref)
            if run is None:
                run = conn.execute(
                    sa.select(sa.func.max(match_runs.c.id)).where(match_runs.c.image_key == key)
                ).scalar()
                if run is None:
                    return []
            elif not conn.execute(
                sa.select(match_runs.c.id).where(
                    match_runs.c.id == run, match_runs.c.image_key == key
                )
            ).first():
                raise CatalogError(f"{self.url}: image {key} has no match run {run}")
            rows = conn.execute(
                sa.select(matches).where(matches.c.run_id == run).order_by(matches.c.id)
            ).all()
        return [
            StoredMatch(r.run_id, r.image_key, r.advisory_id, tuple(json.loads(r.aliases)),
                        r.package_type, r.package_name, r.version, r.purl, r.fixed_in,
                        r.rating, r.score, r.layer_index)
            for r in rows
        ]  # fmt: skip

    def evaluations(self, ref: str) -> list[EvaluationRecord]:
        """The image's stored evaluations, oldest first."""
        with self.reading() as conn:
            key = self._resolve(conn, ref)
            rows = conn.execute(
                sa.select(*[c for c in evaluations.c if c.name != "evaluation"])
                .where(evaluations.c.image_key == key)
                .order_by(evaluations.c.id)
            ).all()
        return [
            EvaluationRecord(r.id, r.image_key, from_text(r.evaluated_at), r.bundle,
                             r.bundle_digest, r.final_action)
            for r in rows
        ]  # fmt: skip

    def evaluation(self, id: int) -> dict[str, Any]:
        """A stored evaluation's JSON, as ``Evaluation.to_dict()`` gave it."""
        with self.reading() as conn:
            blob = conn.execute(
                sa.select(evaluations.c.evaluation).where(evaluations.c.id == id)
            ).scalar()
        if blob is None:
            raise CatalogError(f"{self.url}: no stored evaluation {id}")
        try:
            value: dict[str, Any] = json.loads(codec.decompress(bytes(blob)))
        except (zstandard.ZstdError, ValueError) as e:
            raise CatalogError(f"{self.url}: stored evaluation {id} is damaged: {e}") from None
        return value
