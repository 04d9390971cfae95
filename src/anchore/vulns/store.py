"""The advisory store: one SQLite file, indexed by ecosystem and package name.

Loading is idempotent and incremental: a record replaces the stored one only
when its ``modified`` is newer. The schema carries a version; opening an
older file migrates it.

The store also records what it *covers*: every ecosystem (``PyPI``,
``Debian:12``, ``Alpine:v3.18``...) for which a whole feed was loaded, whether
or not an advisory affects anything there, with the feed it came from.
Matching uses it to tell a package that was checked and found clean from one
that could not be checked at all. Naming an ecosystem is not covering it: a
single OSV record loaded on its own is stored and matched, but covers nothing
(the feed readers decide, through ``LoadReport.covered``).

One place decides which store a command or function uses: :func:`default_path`
when none is named, and :func:`open_store` to open what the caller passed (a
:class:`Store`, a path, or None). Only loading creates a store file.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import glob
import itertools
import json
import os
import secrets
import shlex
import sqlite3
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol, TypeAlias

import attrs

from anchore.ecosystems import ECOSYSTEMS
from anchore.vulns.errors import (
    LOAD_HINT,
    EmptyFeedError,
    MalformedRecordError,
    StoreBusyError,
    StoreEmptyError,
    StoreError,
    StoreFormatError,
    StoreNotFoundError,
)
from anchore.vulns.osv import Advisory, LoadReport, normal_time, parse_osv

__all__ = [
    "SCHEMA_VERSION",
    "CoverageSource",
    "FeedFileRecord",
    "Store",
    "StoreLike",
    "default_path",
    "ecosystem_key",
    "load_hint",
    "open_store",
    "staged",
    "temp_beside",
    "using_store",
]

#: how long a writer waits for another writer of the same store (:func:`staged`,
#: :meth:`Store.load`) to finish
STAGE_LOCK_SECONDS = 600.0

#: 2 added coverage; 3 records the feed file and the time of each coverage row;
#: 4 the downloaded feed files (``feed_files``: their validators, for conditional requests)
#: 5 drops what older readers stored under ids they no longer write (see _forget_old_ids)
SCHEMA_VERSION = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    source TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS aliases (advisory_id TEXT NOT NULL, alias TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_by_alias ON aliases (alias);
CREATE INDEX IF NOT EXISTS aliases_by_advisory ON aliases (advisory_id);
CREATE TABLE IF NOT EXISTS coverage (
    ecosystem TEXT NOT NULL,
    source TEXT NOT NULL,
    feed TEXT NOT NULL DEFAULT '',
    loaded TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (ecosystem, source)
);
CREATE TABLE IF NOT EXISTS feed_files (
    url TEXT PRIMARY KEY,
    feed TEXT NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    checked TEXT NOT NULL,
    changed TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feed_files_by_feed ON feed_files (feed);
"""

#: columns later schemas added to the coverage table: (name, declaration)
_COVERAGE_COLUMNS = (
    ("feed", "TEXT NOT NULL DEFAULT ''"),
    ("loaded", "TEXT NOT NULL DEFAULT ''"),
)

#: the tables an anchore store has had since schema 1
_OUR_TABLES = {"meta", "advisories", "affected", "aliases"}


def default_path() -> Path:
    """``$ANCHORE_VULN_DB``, else ``$XDG_CACHE_HOME/anchore/vulnerabilities.sqlite``.

    Every command and function that is given no store uses this one.
    """
    if os.environ.get("ANCHORE_VULN_DB"):
        return Path(os.environ["ANCHORE_VULN_DB"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(cache) / "anchore" / "vulnerabilities.sqlite"


#: OSV's spelling of each language ecosystem, by its lowercase name (from the ecosystem table)
_OSV_SPELLING = {e.osv_ecosystem.lower(): e.osv_ecosystem for e in ECOSYSTEMS if e.osv_ecosystem}


def ecosystem_key(ecosystem: str) -> str:
    """Ecosystems compare without their release suffix case: 'Debian:12' stays, 'pypi' is 'PyPI'."""
    return _OSV_SPELLING.get(ecosystem.lower(), ecosystem)


def _db_option(path: Path) -> str:
    """`` --db PATH`` for messages (quoted for a shell), unless the path is the default one."""
    return "" if path == default_path() else f" --db {shlex.quote(str(path))}"


def load_hint(path: str | os.PathLike[str]) -> str:
    """What to run to fill the store at ``path``: ``load advisories first: anchore db load...``."""
    return LOAD_HINT.format(db=_db_option(Path(path)))


def _which(path: Path) -> str:
    """Says where a default path came from, so a user knows how to point elsewhere."""
    if path != default_path():
        return ""
    how = "$ANCHORE_VULN_DB" if os.environ.get("ANCHORE_VULN_DB") else "the user cache"
    return f" (the default store, from {how}; --db or $ANCHORE_VULN_DB names another)"


class FeedReader(Protocol):
    """What :meth:`Store.load_read` needs of a feed reader (``anchore.vulns.load.Feed``)."""

    name: str

    def read(self, path: str, report: LoadReport) -> Iterable[Advisory]: ...


@attrs.frozen
class CoverageSource:
    """One ecosystem a store covers, and the feed that covers it."""

    ecosystem: str
    #: the feed reader that read it: ``osv``, ``debian-tracker``, ``alpine-secdb``...
    reader: str
    #: the path loaded (empty for stores written before schema 3, or without one)
    feed: str
    #: when it was loaded (ISO 8601; empty before schema 3)
    loaded: str


@attrs.frozen
class FeedFileRecord:
    """One downloaded feed file as the store last loaded it (``anchore db update``)."""

    url: str
    #: the feed it belongs to (``osv``, a plugin's ``UrlFeed`` name...)
    feed: str
    #: its name under the feed (``PyPI/all.zip``)
    name: str
    #: the feed's base URL it was fetched from (the published one, or a mirror's)
    base_url: str
    #: the validators of the response whose content the store holds
    etag: str | None
    last_modified: str | None
    #: ``sha256:<hex>`` of that content, and its size
    sha256: str
    size: int
    #: when the server was last asked, and when the content last changed (ISO 8601)
    checked: str
    changed: str


class Store:
    """Advisories by ecosystem and package name, and the ecosystems they cover.

    ``Store(path)`` opens an existing store: a missing file is a
    :class:`StoreNotFoundError` naming ``anchore db load``, never an empty
    store. Loaders pass ``create=True``: the store at a missing path then reads
    as empty and the first :meth:`load` creates the file (opening or reading
    creates nothing). ``Store(":memory:")`` is an in-memory store. A file that
    is not an anchore store is a :class:`StoreFormatError` naming it.

    Writing a store file (:meth:`load`, :meth:`record_feed_file`) takes the
    store's lock (``<store>.lock``) as :func:`staged` does, waiting up to
    ``lock_wait`` seconds (then :class:`StoreBusyError`): a load never runs
    while an update or import swaps the file, and one that comes after a swap
    writes to the new file, not the replaced one. Reading takes no lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        create: bool = False,
        lock_wait: float = STAGE_LOCK_SECONDS,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        #: True once the file holds our schema (a new or empty file has none yet)
        self._ready = False
        self._closed = False
        memory = str(self.path) == ":memory:"
        self._lock_wait = lock_wait
        #: writes take the store's lock; not for memory, nor for staged()'s own copy
        self._shared = not memory
        #: (device, inode) of the file the connection opened, to notice a swap
        self._ident: tuple[int, int] | None = None
        if not memory and not self.path.exists():
            if not create:
                raise StoreNotFoundError(
                    f"{self.path}: no vulnerability store there{_which(self.path)}; "
                    + LOAD_HINT.format(db=_db_option(self.path)),
                    source=self.path,
                )
            return
        if self.path.is_dir():
            raise StoreFormatError(
                f"{self.path}: is a directory, not a vulnerability store file", source=self.path
            )
        self._db = self._connect()
        self._check()

    # ------------------------------------------------------------------ opening
    def _file_ident(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _connect(self) -> sqlite3.Connection:
        for _ in range(3):  # a swap between the two looks is retried: know which file is open
            before = self._file_ident()
            try:
                db = sqlite3.connect(str(self.path), check_same_thread=False)
                db.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{self.path}: cannot open the store: {exc}", source=self.path
                ) from None
            self._ident = self._file_ident()
            if self._ident == before:
                break
            db.close()
        return db

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """One writer at a time, in this process and across processes (the store's lock)."""
        with self._lock:
            if not self._shared:
                yield
                return
            self._not_closed()
            try:  # the lock lives beside the store: a new store's directory comes first
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"{self.path}: cannot create the store: {exc}", source=self.path
                ) from None
            with _store_lock(_real(self.path), self._lock_wait):
                if self._db is not None and self._file_ident() != self._ident:
                    self.reopen()  # staged() replaced the file: write to the new one
                yield

    def _refuse(self, message: str) -> StoreFormatError:
        """Close a file that is not ours (nothing is written to it) and say why."""
        if self._db is not None:
            self._db.close()
            self._db = None
        return StoreFormatError(f"{self.path}: {message}", source=self.path)

    def _check(self) -> None:
        """Refuse a file that is not ours; migrate an older schema of ours."""
        assert self._db is not None
        try:
            tables = {
                r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        except sqlite3.DatabaseError as exc:
            raise self._refuse(
                f"not an anchore vulnerability store ({exc}); give the file "
                "'anchore db load' wrote, or a new path to load feeds into"
            ) from None
        if not tables:
            return  # an empty SQLite file: a store with nothing loaded yet
        if not tables >= _OUR_TABLES:
            raise self._refuse(
                f"an SQLite database, but not an anchore vulnerability store "
                f"(it has tables {sorted(tables)}); give the file 'anchore db load' wrote"
            )
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        version = int(row[0]) if row else 0
        if version > SCHEMA_VERSION:
            raise self._refuse(
                f"written by a newer anchore (store schema {version}; this version "
                f"reads up to {SCHEMA_VERSION}): upgrade anchore, or load feeds into a new file"
            )
        self._migrate(version)

    def _migrate(self, version: int) -> None:
        assert self._db is not None
        with self._db:
            self._db.executescript(_SCHEMA)
            have = {r[1] for r in self._db.execute("PRAGMA table_info(coverage)")}
            for column, declaration in _COVERAGE_COLUMNS:
                if column not in have:  # a schema-2 table: add what schema 3 records
                    self._db.execute(f"ALTER TABLE coverage ADD COLUMN {column} {declaration}")
            if 0 < version < 2:
                # schema 1 recorded no coverage: what its advisories name is the best guess
                self._db.execute(
                    "INSERT OR IGNORE INTO coverage (ecosystem, source) "
                    "SELECT DISTINCT f.ecosystem, a.source "
                    "FROM affected f JOIN advisories a ON a.id = f.advisory_id"
                )
            if 0 < version < 5:
                _forget_old_ids(self._db)
                _normalise_modified(self._db)
            if version < SCHEMA_VERSION:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )
        self._ready = True

    def _not_closed(self) -> None:
        if self._closed:
            raise StoreError(f"{self.path}: the store was closed; open it again", source=self.path)

    def _writable(self) -> sqlite3.Connection:
        """The connection, creating the file and the schema first if need be."""
        self._not_closed()
        if self._db is None:
            if str(self.path) != ":memory:":
                try:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(
                        f"{self.path}: cannot create the store: {exc}", source=self.path
                    ) from None
            self._db = self._connect()
        if not self._ready:
            try:
                self._migrate(0)
            except sqlite3.Error as exc:
                raise StoreError(
                    f"{self.path}: cannot write the store: {exc}", source=self.path
                ) from None
        return self._db

    def _read(self, sql: str, params: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
        """Rows of a query; none while the store has no schema yet."""
        self._not_closed()
        if self._db is None or not self._ready:
            return []
        return self._db.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ protocol
    @property
    def exists(self) -> bool:
        """True once the store holds our schema (a named-but-never-loaded store does not)."""
        return self._ready

    @property
    def schema_version(self) -> int:
        """The schema of the file (0 for a store nothing was loaded into yet)."""
        rows = self._read("SELECT value FROM meta WHERE key = 'schema'")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        """Close the file; using the store afterwards is a :class:`StoreError`."""
        if self._db is not None:
            self._db.close()
            self._db = None
        self._ready = False
        self._closed = True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # ------------------------------------------------------------------ writing
    def load(
        self,
        advisories: Iterable[Advisory],
        source: str,
        report: LoadReport | None = None,
        *,
        feed: str | os.PathLike[str] | None = None,
    ) -> LoadReport:
        """Store advisories; one is replaced only by a record with a newer ``modified``.

        ``source`` names the reader, ``feed`` the path read. What the feed
        covers is what the reader put in ``report.covered`` (as it read): a
        whole database of an ecosystem, or a distro release the feed follows.
        The ecosystems advisories merely name are not coverage: one record for
        PyPI does not make every Python package checked. A feed that yields
        nothing and covers nothing leaves the store as it was (and a new store
        uncreated).
        """
        report = report if report is not None else LoadReport()
        pending = iter(advisories)
        first = next(pending, None)  # read before locking: a feed of nothing writes nothing
        if first is None and not report.covered:
            return report  # (and leaves no lock file beside a store never created)
        with self._writing():
            db: sqlite3.Connection | None = None
            try:
                for advisory in itertools.chain([first] if first is not None else [], pending):
                    db = db or self._writable()
                    self._store_one(db, advisory, source, report)
                now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
                covered = {ecosystem_key(e) for e in report.covered}
                if covered:
                    db = db or self._writable()
                    where = os.fspath(feed) if feed is not None else ""
                    db.executemany(
                        "INSERT OR REPLACE INTO coverage (ecosystem, source, feed, loaded) "
                        "VALUES (?, ?, ?, ?)",
                        [(e, source, where, now) for e in sorted(covered)],
                    )
                if db is not None:
                    db.execute("INSERT OR REPLACE INTO meta VALUES ('updated', ?)", (now,))
                    db.commit()
            except BaseException as exc:
                if db is not None:
                    with contextlib.suppress(sqlite3.Error):
                        db.rollback()
                if isinstance(exc, sqlite3.Error) and not isinstance(exc, StoreError):
                    # a full disk, a read-only file...
                    raise self._write_error(exc) from None
                raise
        return report

    def _write_error(self, exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"{self.path}: cannot write the store: {exc}; it was left as it was",
            source=self.path,
        )

    def load_read(self, reader: FeedReader, path: str, *, source: str, feed: str) -> LoadReport:
        """Read ``path`` with ``reader`` and :meth:`load` it: what ``anchore db load`` and
        each downloaded feed file of ``anchore db update`` do. Advisories and coverage are
        recorded under ``source`` (the feed's name) with ``feed`` (the path, or the URL)
        as where they came from. A path with no advisory is an :class:`EmptyFeedError`:
        "0 loaded" would look like success."""
        report = LoadReport()
        self.load(reader.read(path, report), source, report, feed=feed)
        if report.loaded == 0 and report.unchanged == 0 and not report.covered:
            why = "; ".join(f"{name}: {reason}" for name, reason in report.skipped[:3])
            more = f" (and {len(report.skipped) - 3} more)" if len(report.skipped) > 3 else ""
            raise EmptyFeedError(
                f"{path}: no advisory records in it (read as {reader.name})"
                + (f"; skipped {why}{more}" if why else "")
                + "; give a feed (an OSV zip or directory, the Debian tracker JSON, Alpine secdb)",
                source=path,
            )
        return report

    @staticmethod
    def _store_one(
        db: sqlite3.Connection, advisory: Advisory, source: str, report: LoadReport
    ) -> None:
        row = db.execute("SELECT modified FROM advisories WHERE id = ?", (advisory.id,)).fetchone()
        if row is not None and row[0] >= advisory.modified:
            report.unchanged += 1
            return
        if row is not None:
            db.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory.id,))
            db.execute("DELETE FROM aliases WHERE advisory_id = ?", (advisory.id,))
        db.execute(
            "INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?)",
            (advisory.id, advisory.modified, source, json.dumps(advisory.raw)),
        )
        db.executemany(
            "INSERT INTO affected VALUES (?, ?, ?)",
            {(advisory.id, ecosystem_key(a.ecosystem), a.name) for a in advisory.affected},
        )
        db.executemany(
            "INSERT INTO aliases VALUES (?, ?)", [(advisory.id, x) for x in advisory.aliases]
        )
        report.loaded += 1

    # ------------------------------------------------------------------ reading
    @property
    def updated(self) -> datetime.datetime | None:
        """When a feed was last loaded."""
        rows = self._read("SELECT value FROM meta WHERE key = 'updated'")
        return datetime.datetime.fromisoformat(rows[0][0]) if rows else None

    def ecosystems(self) -> set[str]:
        """Every ecosystem the store covers (``PyPI``, ``Debian:12``, ``Alpine:v3.18``...).

        Covered: a whole feed for it was loaded. Exact: a store loaded with
        only Debian 10 (buster) data does not cover ``Debian:12``, even though
        both are Debian.
        """
        return {r[0] for r in self._read("SELECT DISTINCT ecosystem FROM coverage")}

    def covers(self, ecosystem: str) -> bool:
        """Whether a whole feed for ``ecosystem`` was loaded."""
        return bool(
            self._read(
                "SELECT 1 FROM coverage WHERE ecosystem = ? LIMIT 1", (ecosystem_key(ecosystem),)
            )
        )

    def advisory_counts(self) -> dict[str, int]:
        """Every ecosystem some stored advisory names, covered or not, and how many name it."""
        return {
            str(ecosystem): int(count)
            for ecosystem, count in self._read(
                "SELECT ecosystem, COUNT(DISTINCT advisory_id) FROM affected "
                "GROUP BY ecosystem ORDER BY ecosystem"
            )
        }

    def coverage(self) -> dict[str, int]:
        """Each covered ecosystem and how many advisories name a package in it."""
        named = self.advisory_counts()
        return {e: named.get(e, 0) for e in sorted(self.ecosystems())}

    def coverage_sources(self) -> list[CoverageSource]:
        """Where the coverage came from: each covered ecosystem with its reader and feed."""
        return [
            CoverageSource(*row)
            for row in self._read(
                "SELECT ecosystem, source, feed, loaded FROM coverage ORDER BY ecosystem, source"
            )
        ]

    def feed_file(self, url: str) -> FeedFileRecord | None:
        """What the store recorded of the feed file at ``url``, if it was downloaded."""
        rows = self._read(f"SELECT {_FEED_FILE_COLUMNS} FROM feed_files WHERE url = ?", (url,))
        return _feed_file_record(rows[0]) if rows else None

    def feed_files(self, feed: str | None = None) -> list[FeedFileRecord]:
        """Every downloaded feed file (of ``feed``), by feed and name."""
        where, params = ("WHERE feed = ?", (feed,)) if feed is not None else ("", ())
        return [
            _feed_file_record(row)
            for row in self._read(
                f"SELECT {_FEED_FILE_COLUMNS} FROM feed_files {where} ORDER BY feed, name, url",
                params,
            )
        ]

    def record_feed_file(self, record: FeedFileRecord) -> None:
        """Remember a feed file's validators and checksum: call only once its content is
        in the store (a 304 next time then means the store holds it)."""
        with self._writing():
            db = self._writable()
            try:
                with db:
                    db.execute(
                        f"INSERT OR REPLACE INTO feed_files ({_FEED_FILE_COLUMNS}) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        attrs.astuple(record),
                    )
            except sqlite3.Error as exc:
                raise self._write_error(exc) from None

    def source_counts(self) -> dict[str, int]:
        """How many stored advisories each source (feed reader or feed) gave."""
        return {
            str(source): int(count)
            for source, count in self._read(
                "SELECT source, COUNT(*) FROM advisories GROUP BY source ORDER BY source"
            )
        }

    def reopen(self) -> None:
        """Open the file at :attr:`path` again: after :func:`staged` replaced it, a
        connection opened before still reads the old file."""
        self._not_closed()
        if str(self.path) == ":memory:":
            return
        if self._db is not None:
            self._db.close()
            self._db = None
        self._ready = False
        if self.path.exists():
            self._db = self._connect()
            self._check()

    def require_data(self) -> None:
        """A :class:`StoreEmptyError` if the store holds nothing: a scan would check nothing."""
        if not self.ecosystems() and len(self) == 0:
            raise StoreEmptyError(
                f"{self.path}: the vulnerability store holds no advisories; "
                + LOAD_HINT.format(db=_db_option(self.path)),
                source=self.path,
            )

    def __len__(self) -> int:
        rows = self._read("SELECT COUNT(*) FROM advisories")
        return int(rows[0][0]) if rows else 0

    def get(self, advisory_id: str) -> Advisory | None:
        rows = self._read("SELECT record FROM advisories WHERE id = ?", (advisory_id,))
        return parse_osv(json.loads(rows[0][0])) if rows else None

    def by_alias(self, alias: str) -> list[Advisory]:
        """The stored advisories that name ``alias`` (a CVE, a GHSA...) among their aliases,
        by id: the same vulnerability may be published by several feeds."""
        rows = self._read(
            "SELECT DISTINCT a.record FROM aliases x JOIN advisories a ON a.id = x.advisory_id "
            "WHERE x.alias = ? ORDER BY a.id",
            (alias,),
        )
        return [parse_osv(json.loads(r[0])) for r in rows]

    def for_package(self, ecosystem: str, name: str) -> list[Advisory]:
        """Advisories naming this package in this ecosystem."""
        rows = self._read(
            "SELECT DISTINCT a.record FROM affected f JOIN advisories a ON a.id = f.advisory_id "
            "WHERE f.ecosystem = ? AND f.name = ? ORDER BY a.id",
            (ecosystem_key(ecosystem), name),
        )
        return [parse_osv(json.loads(r[0])) for r in rows]


_FEED_FILE_COLUMNS = (
    "url, feed, name, base_url, etag, last_modified, sha256, size, checked, changed"
)


def _feed_file_record(row: tuple[object, ...]) -> FeedFileRecord:
    url, feed, name, base_url, etag, last_modified, sha256, size, checked, changed = row
    return FeedFileRecord(
        str(url), str(feed), str(name), str(base_url),
        None if etag is None else str(etag),
        None if last_modified is None else str(last_modified),
        str(sha256), int(str(size)), str(checked), str(changed),
    )  # fmt: skip


#: the distro readers whose advisory ids changed in schema 5, and the ids they wrote before:
#: Alpine's one advisory per CVE across releases (loading one release replaced the others'
#: fixes) and the Debian tracker's ids, which osv.dev's DEBIAN-CVE-... records overwrote
_OLD_IDS = {"alpine-secdb": "ALPINE-CVE-%", "debian-tracker": "DEBIAN-CVE-%"}


def _forget_old_ids(db: sqlite3.Connection) -> None:
    """Drop a distro reader's records stored under its old ids, with what that reader
    covers and the validators of its downloads: those records may be damaged, and keeping
    the coverage without them would pass packages unchecked. Its distros read as
    unchecked until the feed is loaded again (``anchore db update`` refetches it)."""
    for source, pattern in _OLD_IDS.items():
        rows = db.execute(
            "SELECT id FROM advisories WHERE source = ? AND id LIKE ?", (source, pattern)
        )
        old = [r[0] for r in rows]
        if not old:
            continue
        db.executemany("DELETE FROM aliases WHERE advisory_id = ?", [(i,) for i in old])
        db.executemany("DELETE FROM affected WHERE advisory_id = ?", [(i,) for i in old])
        db.executemany("DELETE FROM advisories WHERE id = ?", [(i,) for i in old])
        db.execute("DELETE FROM coverage WHERE source = ?", (source,))
        db.execute("DELETE FROM feed_files WHERE feed = ?", (source,))


def _normalise_modified(db: sqlite3.Connection) -> None:
    """Rewrite stored ``modified`` times in the one UTC form new loads use, so that a newer
    record compares as newer (text comparison of mixed forms is not chronological)."""
    rows = db.execute("SELECT id, modified FROM advisories").fetchall()
    changed = []
    for ident, modified in rows:
        try:
            normal = normal_time(modified)
        except MalformedRecordError:
            continue  # kept as it was: a later load with a real time replaces it
        if normal != modified:
            changed.append((normal, ident))
    db.executemany("UPDATE advisories SET modified = ? WHERE id = ?", changed)


#: what a function that needs a store accepts: an open Store or the path of one
StoreLike: TypeAlias = Store | str | os.PathLike[str]


def open_store(store: StoreLike | None = None, *, create: bool = False) -> Store:
    """The store a caller means: ``store`` itself, the store at a path, or the default store.

    Without ``create``, a path with no store there is a :class:`StoreNotFoundError`
    naming ``anchore db load`` (only loading creates a store).
    """
    if isinstance(store, Store):
        return store
    if store is not None and not isinstance(store, (str, os.PathLike)):
        raise TypeError(f"a store is a Store or a path, not {type(store).__name__}")
    return Store(store, create=create)


@contextlib.contextmanager
def using_store(store: StoreLike | None = None) -> Iterator[Store]:
    """:func:`open_store` for a ``with`` block: closes the store only if it opened it."""
    opened = open_store(store)
    try:
        yield opened
    finally:
        if opened is not store:
            opened.close()


@contextlib.contextmanager
def _store_lock(target: Path, wait: float) -> Iterator[None]:
    """An exclusive lock beside the store (``<store>.lock``), for one writer at a time."""
    lock_path = target.with_name(target.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise StoreError(
            f"{lock_path}: cannot create the lock: {exc.strerror}", source=target
        ) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"{target}: another update holds {lock_path} (waited {wait:.0f} s)",
                        source=target,
                    ) from None
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def _real(path: Path) -> Path:
    """The file a path names: a symlinked store is replaced where it lives, link kept."""
    return Path(os.path.realpath(path))


@contextlib.contextmanager
def temp_beside(path: Path, suffix: str) -> Iterator[Path]:
    """A new file ``.<name>.<random><suffix>`` in ``path``'s directory (so ``os.replace``
    onto ``path`` is atomic), removed unless moved away. Created as ``open()`` would
    (0o666 less the umask), not private like ``mkstemp``'s: it becomes a shared file."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}{suffix}")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 random names all taken
        raise StoreError(f"{path}: cannot create a temporary file beside it", source=path)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def fsync_path(path: Path) -> None:
    """Flush a file's (or a directory's) content to the disk: before a rename makes it the
    store, and after (the directory), so a power loss leaves the old store or the new."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


#: an ``.import`` file older than this is left from a crash (one in use is being written)
_STALE_IMPORT_SECONDS = 3600.0


def _remove_leftovers(target: Path) -> None:
    """Delete what a killed writer left beside the store. Called holding the lock: only a
    holder writes ``.staged`` files, so any there now is a dead one's; an ``.import``
    file is written before the lock is taken, so only an old one is removed."""
    pattern = glob.escape(f".{target.name}.")
    now = time.time()
    for leftover in target.parent.glob(pattern + "*.staged*"):
        with contextlib.suppress(OSError):
            leftover.unlink()
    for leftover in target.parent.glob(pattern + "*.import"):
        with contextlib.suppress(OSError):
            if now - leftover.stat().st_mtime > _STALE_IMPORT_SECONDS:
                leftover.unlink()


def _settle(tmp: Path, like: os.stat_result | None) -> None:
    """Give the new store the old one's permissions (and owner, as root), and flush it."""
    if like is not None:
        os.chmod(tmp, stat.S_IMODE(like.st_mode))
        if os.geteuid() == 0 and (like.st_uid, like.st_gid) != (os.getuid(), os.getgid()):
            with contextlib.suppress(OSError):
                os.chown(tmp, like.st_uid, like.st_gid)
    fsync_path(tmp)


@contextlib.contextmanager
def staged(
    path: str | os.PathLike[str] | None = None,
    *,
    wait: float = STAGE_LOCK_SECONDS,
    copy: bool = True,
) -> Iterator[Store]:
    """A copy of the store at ``path`` (None: the default store) to change as a whole.

    The copy lives beside the store and replaces it (``os.replace``) only when the
    ``with`` block ends without an exception: readers see the old store or the new
    one, never a half-loaded one, and a failure or an interruption leaves the store
    as it was (the copy is deleted). A missing store is staged empty; with
    ``copy=False`` the stage starts empty anyway (an import replaces it whole). One
    writer at a time: another :func:`staged` or :meth:`Store.load` waits up to
    ``wait`` seconds, then :class:`StoreBusyError`. The new file keeps the old one's
    permissions; a symlinked store path keeps its link (the file it names is
    replaced); the new file is flushed to disk before the swap.
    """
    named = Path(path) if path is not None else default_path()
    try:
        named.parent.mkdir(parents=True, exist_ok=True)
        target = _real(named)
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{named}: cannot create the store: {exc}", source=named) from None
    with _store_lock(target, wait):
        _remove_leftovers(target)
        with temp_beside(target, ".staged") as tmp:
            stage: Store | None = None
            like: os.stat_result | None = None
            try:
                if target.exists():
                    with Store(target) as current:  # refuses a file that is not a store
                        like = os.stat(target)
                        if copy and current._db is not None:
                            _backup(current._db, tmp, target)
                stage = Store(tmp, create=True)
                stage._shared = False  # its own writes need no lock: we hold the store's
                yield stage
            finally:
                if stage is not None:
                    stage.close()
                for journal in ("-journal", "-wal", "-shm"):  # left by a failed copy
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{tmp}{journal}")
            try:
                _settle(tmp, like)
                os.replace(tmp, target)
            except OSError as exc:
                raise StoreError(
                    f"{named}: cannot replace the store: {exc}", source=named
                ) from None
        with contextlib.suppress(OSError):
            fsync_path(target.parent)


def _backup(db: sqlite3.Connection, tmp: Path, target: Path) -> None:
    try:
        dest = sqlite3.connect(tmp)
        try:
            db.backup(dest)
        finally:
            dest.close()
    except sqlite3.Error as exc:
        raise StoreError(
            f"{target}: cannot copy the store to stage it: {exc}", source=target
        ) from None
