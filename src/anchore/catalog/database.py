"""Opening a catalog's database: the URL, the engine, the schema's version.

SQLite runs in WAL mode with a 30 s busy timeout and foreign keys on (the cascades
depend on it), and every write transaction takes the write lock at ``BEGIN
IMMEDIATE``: a writer that would otherwise upgrade a read lock midway (and fail with
"database is locked" at once) waits its turn instead; reads take no lock.

Opening checks the schema in a read transaction. Only to create it in an empty
database or migrate an older one (one transaction, through :data:`MIGRATIONS`) does
it take the write lock (PostgreSQL: an advisory lock) and check again, so openers at
once make the schema once. Newer or foreign schemas are refused.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from anchore.catalog import schema
from anchore.catalog.errors import (
    CatalogConnectionError,
    CatalogError,
    CatalogNotFoundError,
    CatalogSchemaError,
)
from anchore.catalog.times import to_text

__all__ = [
    "APPLICATION",
    "BUSY_TIMEOUT",
    "MIGRATIONS",
    "Database",
    "open_database",
    "reason_of",
    "redact",
]

APPLICATION = "anchore"
#: seconds a SQLite writer waits for another's write lock before giving up
BUSY_TIMEOUT = 30.0

#: ``MIGRATIONS[n]`` takes a catalog from schema version ``n`` to ``n + 1``, inside the
#: one transaction that also records the new version (version 1 is the first: none yet)
MIGRATIONS: dict[int, Callable[[Connection], None]] = {}


#: query parameters whose values are hidden (libpq's ``password``, ``sslpassword``...)
_SECRET_PARAMS = ("password", "secret", "token", "credential")


def redact(url: str | URL) -> str:
    """The URL as every message, ``Catalog.url`` and repr show it: the password of its
    ``user:password@`` replaced by ``***``, and so the value of any query parameter
    that names a secret (``?password=``). Textual, so a URL that does not parse (a
    typo'd scheme) is redacted all the same; the one redactor of this package."""
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    scheme, slashes, rest = text.partition("//")
    if not slashes:
        return text
    # the last "@" ends the user information (a password may hold "/", "?" or "@")
    userinfo, at, rest = rest.rpartition("@")
    if at and ":" in userinfo:
        userinfo = userinfo.partition(":")[0] + ":***"
    where, question, query = rest.partition("?")
    if question:
        query = "&".join(_redact_param(p) for p in query.split("&"))
    return f"{scheme}//{userinfo}{at}{where}{question}{query}"


def _redact_param(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    secret = equals and any(s in name.lower() for s in _SECRET_PARAMS)
    return f"{name}=***" if secret else pair


class Database:
    """An engine and what to call it in messages (the redacted URL, or the path)."""

    def __init__(self, engine: Engine, name: str, dialect: str) -> None:
        self.engine = engine
        self.name = name
        self.dialect = dialect
        url = engine.url
        #: what must never be shown: the password, however it was given
        self.secrets = tuple(
            str(v) for v in (url.password, url.query.get("password")) if v and str(v) != "***"
        )

    def failure(self, e: BaseException, doing: str = "") -> CatalogConnectionError:
        """The database error ``e`` as a CatalogConnectionError naming the catalog."""
        return CatalogConnectionError(f"{self.name}: {doing}{reason_of(e, *self.secrets)}")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction (SQLite: the write lock taken at its start)."""
        with self.engine.connect().execution_options(**{_WRITE: True}) as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction (SQLite: deferred, so reading never waits on a writer)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn


#: the execution option that marks a write transaction
_WRITE = "anchore_write"


def _is_url(text: str) -> bool:
    return "://" in text


def _sqlite_engine(path: Path) -> Engine:
    engine = sa.create_engine(
        URL.create("sqlite+pysqlite", database=str(path)),
        connect_args={"timeout": BUSY_TIMEOUT},
        poolclass=sa.pool.NullPool,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # pysqlite's own transaction handling would BEGIN (deferred) late; take it over
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgres_engine(url: URL) -> Engine:
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise CatalogConnectionError(
            f"{redact(url)}: PostgreSQL needs psycopg 3: pip install 'anchore[postgresql]'"
        ) from None
    return sa.create_engine(
        url.set(drivername="postgresql+psycopg"),
        pool_pre_ping=True,
        connect_args={"connect_timeout": 10},
    )


def open_database(url: str | os.PathLike[str], *, create: bool) -> Database:
    """Connect to the catalog at ``url`` and make sure its schema is ours and current.

    ``url`` is a path, ``sqlite:///PATH``, or ``postgresql://`` (``postgresql+psycopg://``)
    ``user:password@host:port/database``; anything else (another scheme or driver, a
    sqlite URL with a host or user, which SQLAlchemy would take as a relative file) is
    refused naming the redacted URL."""
    text = os.fspath(url)
    if not _is_url(text):
        return _open_sqlite(Path(text), create=create, name=text)
    name = redact(text)
    scheme = text.partition("://")[0]
    usage = "(a path, sqlite:///PATH or postgresql://user:password@host/database)"
    if scheme not in ("sqlite", "postgresql", "postgresql+psycopg"):
        raise CatalogConnectionError(f"{name}: not a catalog URL {usage}")
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise CatalogConnectionError(f"{name}: not a catalog URL {usage}") from None
    except ValueError:  # what make_url says of a port that is no number
        raise CatalogConnectionError(f"{name}: its port is not a number") from None
    if scheme == "sqlite":
        if parsed.host or parsed.username or parsed.password or not text.startswith("sqlite:///"):
            raise CatalogConnectionError(
                f"{name}: a SQLite catalog URL is sqlite:///PATH, with no user or host"
            )
        if not parsed.database or parsed.database == ":memory:":
            raise CatalogConnectionError(f"{name}: a catalog needs a file, not memory")
        return _open_sqlite(Path(parsed.database), create=create, name=name)
    db = Database(_postgres_engine(parsed), name, "postgresql")
    _ensure_schema(db)
    return db


def _open_sqlite(path: Path, *, create: bool, name: str) -> Database:
    if not path.exists():
        if not create:
            raise CatalogNotFoundError(f"{name}: no such catalog")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CatalogConnectionError(f"{name}: cannot create its directory: {e}") from None
    elif path.is_dir():
        raise CatalogConnectionError(f"{name}: is a directory, not a catalog")
    db = Database(_sqlite_engine(path), name, "sqlite")
    _ensure_schema(db)
    return db


#: the PostgreSQL advisory lock held (for its transaction) while the schema is created or
#: migrated, so openers of a new catalog at once make it once
_SCHEMA_LOCK = 0x616E63686F7265  # "anchore"


def _ensure_schema(db: Database) -> None:
    """Check the schema in a read transaction; only to create or migrate it, take the
    write lock (SQLite) or the schema lock (PostgreSQL) and check again under it."""
    try:
        with db.read() as conn:
            version = _version(db, conn)
        if version == schema.SCHEMA_VERSION:
            return
        with db.write() as conn:
            if db.dialect == "postgresql":
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK)))
            version = _version(db, conn)
            if version is None:
                schema.metadata.create_all(conn)
                conn.execute(
                    schema.meta.insert(),
                    [
                        {"key": "application", "value": APPLICATION},
                        {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
                        {"key": "created", "value": to_text()},
                    ],
                )
            else:
                _migrate(db, conn, version)
    except CatalogError:
        db.engine.dispose()
        raise
    except (DBAPIError, SQLAlchemyError, OSError) as e:
        db.engine.dispose()
        raise db.failure(e, "cannot open the catalog: ") from None


def _version(db: Database, conn: Connection) -> int | None:
    """The catalog's schema version (None: an empty database, to create one in); a
    database that is not a catalog, or a newer one, is refused."""
    tables = set(sa.inspect(conn).get_table_names())
    if schema.meta.name not in tables:
        if tables:
            raise CatalogSchemaError(
                f"{db.name}: not an anchore catalog (it holds other tables: "
                f"{', '.join(sorted(tables)[:5])})"
            )
        return None
    values = dict(conn.execute(sa.select(schema.meta.c.key, schema.meta.c.value)).all())
    if values.get("application") != APPLICATION:
        raise CatalogSchemaError(
            f"{db.name}: not an anchore catalog "
            f"(its catalog_meta names application {values.get('application')!r})"
        )
    try:
        version = int(values.get("schema_version", ""))
    except ValueError:
        raise CatalogSchemaError(
            f"{db.name}: unreadable schema_version {values.get('schema_version')!r}"
        ) from None
    if version > schema.SCHEMA_VERSION:
        raise CatalogSchemaError(
            f"{db.name}: catalog schema version {version} is newer than this "
            f"anchore's ({schema.SCHEMA_VERSION}): upgrade anchore"
        )
    return version


def _migrate(db: Database, conn: Connection, version: int) -> None:
    """Bring a catalog at ``version`` up to :data:`~anchore.catalog.schema.SCHEMA_VERSION`
    in the caller's transaction: all steps, or (on any failure) none."""
    for step in range(version, schema.SCHEMA_VERSION):
        migration = MIGRATIONS.get(step)
        if migration is None:
            raise CatalogSchemaError(
                f"{db.name}: no migration from catalog schema version {step} to {step + 1}"
            )
        migration(conn)
    conn.execute(
        schema.meta.update()
        .where(schema.meta.c.key == "schema_version")
        .values(value=str(schema.SCHEMA_VERSION))
    )


def reason_of(e: BaseException, *secrets: str) -> str:
    """The driver's message, on one line, with none of ``secrets`` in it."""
    orig = getattr(e, "orig", None) or e
    text = " ".join(str(orig).split()) or type(orig).__name__
    for secret in secrets:
        text = text.replace(secret, "***")
    return text
