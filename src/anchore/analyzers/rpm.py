"""RPM packages, read from the database without rpm itself (pure Python).

Three database formats hold the same thing, one RPM header blob per package:

- ``rpmdb.sqlite`` (RHEL 9, Fedora 33+): an SQLite table ``Packages(hnum, blob)``;
- ``Packages`` (RHEL <= 8, CentOS, Amazon Linux 2): a Berkeley DB hash file;
- ``Packages.db`` (SUSE): rpm's own NDB format.

:func:`parse_header` decodes a header blob's index and data store.
"""

from __future__ import annotations

import functools
import itertools
import os
import pathlib
import re
import sqlite3
import struct
import tempfile
import time
from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import problem
from anchore.analysis.model import Package
from anchore.analyzers.common import package_purl
from anchore.errors import AnchoreError, LimitExceededError
from anchore.limits import Limits
from anchore.plugins import hookimpl
from anchore.versions.rpm import evr

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = [
    "RpmAnalyzer",
    "RpmDatabaseError",
    "bdb_records",
    "ndb_records",
    "parse_header",
    "read_bdb",
    "read_ndb",
    "read_sqlite",
    "sqlite_records",
]

DB_DIRS = ("/var/lib/rpm/", "/usr/lib/sysimage/rpm/", "/usr/share/rpm/")
#: rpm's own bounds on one header (HEADER_TAGS_MAX, HEADER_DATA_MAX)
MAX_HEADER_ENTRIES = 65536
MAX_HEADER_BYTES = 256 * 1024 * 1024

_STRING, _STRING_ARRAY, _I18NSTRING = 6, 8, 9
_INTS = {3: "H", 4: "I", 5: "Q"}  # INT16, INT32, INT64: struct codes
_TEXT = (_STRING, _I18NSTRING)

#: the tags we use, and the types rpm writes them with (another type is a malformed header)
TAGS: dict[int, tuple[str, tuple[int, ...]]] = {
    1000: ("name", _TEXT),
    1001: ("version", _TEXT),
    1002: ("release", _TEXT),
    1003: ("epoch", (4,)),
    1004: ("summary", _TEXT),
    1009: ("size", (4,)),
    1011: ("vendor", _TEXT),
    1014: ("license", _TEXT),
    1022: ("arch", _TEXT),
    1044: ("sourcerpm", _TEXT),
    1028: ("filesizes", (4,)),
    1030: ("filemodes", (3,)),
    1035: ("filedigests", (_STRING_ARRAY,)),
    1116: ("dirindexes", (4,)),
    1117: ("basenames", (_STRING_ARRAY,)),
    1118: ("dirnames", (_STRING_ARRAY,)),
    5011: ("filedigestalgo", (4,)),
    5096: ("modularitylabel", _TEXT),
}
#: what layer attribution reads of a header: its identity only
KEY_TAGS = frozenset((1000, 1001, 1002, 1003))
#: integer tags kept as lists even when they hold one value
_LISTS = ("filesizes", "filemodes", "dirindexes")


class RpmDatabaseError(AnchoreError, ValueError):
    """The database or a header blob in it is malformed (also a ``ValueError``)."""


def parse_header(blob: bytes, tags: Container[int] | None = None) -> dict[str, Any]:
    """Decode the tags we use (or only ``tags``) from an RPM header blob (as databases store it).

    The work is linear in the blob's size, whatever it claims: every count is
    checked against the bytes its data store holds before anything is built (a
    string array of a billion strings in a store of a thousand bytes is
    refused, not iterated); each tag we use is decoded once (rpm writes a tag
    once: a repeated one is refused); and what the decoded values read is
    counted against the data store, so entries pointing at the same bytes
    cannot make a store of one MiB read as many GiB.
    """
    if len(blob) < 8:
        raise RpmDatabaseError("header blob shorter than its preamble")
    count, data_len = struct.unpack_from(">ii", blob, 0)
    if not 0 < count <= MAX_HEADER_ENTRIES or not 0 <= data_len <= MAX_HEADER_BYTES:
        raise RpmDatabaseError(f"implausible header: {count} entries, {data_len} bytes")
    base = 8 + 16 * count
    end = base + data_len
    if len(blob) < end:
        raise RpmDatabaseError("header blob is truncated")
    out: dict[str, Any] = {}
    seen: set[int] = set()
    left = data_len + len(TAGS)  # bytes the decoded values may still read (and a NUL each)
    for tag, kind, offset, n in struct.iter_unpack(">iiii", blob[8:base]):
        known = TAGS.get(tag)
        if known is None:
            continue
        name, kinds = known
        if tag in seen:
            raise RpmDatabaseError(f"tag {name} appears twice in the header index")
        seen.add(tag)
        if tags is not None and tag not in tags:
            continue
        if kind not in kinds:
            raise RpmDatabaseError(f"tag {name} has type {kind}, not {kinds[0]}")
        if not 0 <= offset <= data_len:
            raise RpmDatabaseError(f"tag {name} points outside the data store")
        start = base + offset
        stop = min(end, start + left)  # nothing past what is left to read
        if kind in _TEXT:  # I18NSTRING: the first translation
            nul = blob.find(b"\0", start, stop)
            text_end = nul if nul >= 0 else stop
            if nul < 0 and stop < end:
                raise _overread(name, data_len)
            out[name] = blob[start:text_end].decode("utf-8", "replace")
            left -= text_end - start + 1
        elif kind == _STRING_ARRAY:
            # each string takes at least its terminating NUL
            if not 0 <= n <= end - start:
                raise RpmDatabaseError(
                    f"tag {name} claims {n} strings; its data store holds {end - start} bytes"
                )
            if n > stop - start:
                raise _overread(name, data_len)
            parts = blob[start:stop].split(b"\0", n)
            if len(parts) <= n:
                if stop < end:
                    raise _overread(name, data_len)
                raise RpmDatabaseError(f"tag {name}: unterminated string array")
            left -= stop - start - len(parts[n])
            del parts[n]
            out[name] = [part.decode("utf-8", "replace") for part in parts]
        else:
            code = _INTS[kind]
            size = struct.calcsize(code)
            if not 0 <= n <= (end - start) // size:
                raise RpmDatabaseError(f"tag {name}: {n} integers overrun the data store")
            if n * size > left:
                raise _overread(name, data_len)
            values = list(struct.unpack_from(f">{n}{code}", blob, start))
            out[name] = values if n != 1 or name in _LISTS else values[0]
            left -= n * size
    return out


def _overread(name: str, data_len: int) -> RpmDatabaseError:
    return RpmDatabaseError(
        f"tag {name}: the tags read more than the {data_len} bytes of the data store "
        "(their data overlaps)"
    )


#: a record of a database: where it is (for error entries), and its header blob, or what
#: was wrong with that one record (the reader goes on to the next)
Record = tuple[str, "bytes | RpmDatabaseError"]


# ---- SQLite ----
_PLAIN_TABLE = re.compile(r"\s*CREATE\s+TABLE\b", re.IGNORECASE)
#: sqlite3.SQLITE_LIMIT_LENGTH (named in Python 3.11+): the longest string or blob
_SQLITE_LIMIT_LENGTH = 0
#: the tables our queries may read: the schema, and the Packages table itself
_READABLE = frozenset(("packages", "sqlite_master", "sqlite_schema"))


def sqlite_records(
    data: bytes, limits: Limits | None = None, check: Callable[[], object] | None = None
) -> Iterator[Record]:
    """Header blobs from an rpmdb.sqlite file's bytes, executing nothing the file defines.

    The database is the image's: its ``Packages`` could be a view over a
    recursive query, a virtual table or hold generated columns, all code that
    SQLite would run. So it is opened read-only and immutable with
    ``query_only`` and ``trusted_schema=OFF``; ``Packages`` must be a plain
    table; an authorizer lets our query read only that table (no view, function
    or recursion gets through); a progress handler stops a query past
    ``limits.max_query_seconds``, and rows past ``max_query_rows`` are refused.
    Nothing is written but the copy of the file in a private temporary directory.
    A row whose blob is not a blob is that row's error; ``check`` (the
    analyzer's deadline) is called every few thousand rows.
    """
    limits = limits or Limits()
    if not data.startswith(b"SQLite format 3\0"):
        raise RpmDatabaseError("not an SQLite database")
    with tempfile.TemporaryDirectory(prefix="anchore-rpmdb-") as tmp:
        path = os.path.join(tmp, "rpmdb.sqlite")
        with open(path, "wb") as out:
            out.write(data)
        connection = sqlite3.connect(f"{pathlib.Path(path).as_uri()}?mode=ro&immutable=1", uri=True)
        try:
            yield from _query_packages(connection, limits, check)
        finally:
            connection.close()


def _query_packages(
    connection: sqlite3.Connection, limits: Limits, check: Callable[[], object] | None
) -> Iterator[Record]:
    deadline = time.monotonic() + limits.max_query_seconds
    connection.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
    try:
        for pragma in ("query_only=ON", "trusted_schema=OFF", "temp_store=MEMORY"):
            connection.execute(f"PRAGMA {pragma}")
        if hasattr(connection, "setlimit"):  # Python 3.11+: no value over what a header may be
            connection.setlimit(_SQLITE_LIMIT_LENGTH, MAX_HEADER_BYTES + 4096)
        schema = connection.execute(
            "SELECT type, sql FROM sqlite_master WHERE name = 'Packages' COLLATE NOCASE"
        ).fetchall()
        if not schema:
            raise RpmDatabaseError("the database has no Packages table")
        if len(schema) != 1 or schema[0][0] != "table":
            kinds = " and ".join(str(kind) for kind, _ in schema)
            raise RpmDatabaseError(f"Packages is a {kinds}, not a plain table; not queried")
        if not _PLAIN_TABLE.match(str(schema[0][1] or "")):
            raise RpmDatabaseError("Packages is a virtual table, not a plain table; not queried")
        columns = connection.execute("PRAGMA table_xinfo(Packages)").fetchall()
        if any(column[-1] not in (0, 1) for column in columns):  # hidden: 2, 3 generated
            raise RpmDatabaseError("Packages has generated columns; not queried")
        connection.set_authorizer(_authorize)
        rows = connection.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
        for count, (hnum, blob) in enumerate(rows, 1):
            if count > limits.max_query_rows:
                raise LimitExceededError(
                    f"the Packages query returned more than Limits.max_query_rows "
                    f"({limits.max_query_rows}) rows",
                    limit="max_query_rows",
                )
            if check is not None and not count % _CHECK_EVERY:
                check()
            where = f"row hnum {hnum}"
            if isinstance(blob, bytes):
                yield where, blob
            else:  # a row rpm did not write: said, not skipped (coverage must see it)
                kind = _sql_type(blob)
                yield where, RpmDatabaseError(f"{where}: its blob is {kind}, not a header")
    except sqlite3.OperationalError as exc:
        if time.monotonic() > deadline:
            raise LimitExceededError(
                f"the Packages query ran past Limits.max_query_seconds "
                f"({limits.max_query_seconds:g} s)",
                limit="max_query_seconds",
            ) from None
        raise RpmDatabaseError(f"cannot read the Packages table: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise RpmDatabaseError(f"cannot read the Packages table: {exc}") from None


def _sql_type(value: object) -> str:
    """What SQLite type a value read from a column is, in words."""
    if value is None:
        return "NULL"
    return {str: "text", int: "an integer", float: "a real number"}.get(type(value), "not a blob")


def _authorize(
    action: int, arg1: str | None, arg2: str | None, db: str | None, inner: str | None
) -> int:
    """Let a statement read columns of the tables we expect, directly; deny the rest."""
    if action == sqlite3.SQLITE_SELECT:
        return sqlite3.SQLITE_OK
    if (
        action == sqlite3.SQLITE_READ
        and inner is None  # not through a view or trigger
        and db == "main"
        and (arg1 or "").lower() in _READABLE
    ):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


#: loops over what a database claims (pages, slots) check the analyzer's deadline this often
_CHECK_EVERY = 4096

# ---- Berkeley DB hash ----
_HASH_MAGIC = 0x061561
_P_OVERFLOW, _P_HASH_UNSORTED, _P_HASH = 7, 2, 13
_H_KEYDATA, _H_OFFPAGE = 1, 3
_PAGE_HEADER = 26


def bdb_records(
    data: bytes, limits: Limits | None = None, check: Callable[[], object] | None = None
) -> Iterator[Record]:
    """Header blobs (the values) of a Berkeley DB hash file, as rpm < 4.16 wrote them.

    An overflow chain (a value spread over pages) is bounded by the pages its
    claimed size needs, and every page belongs to one chain: a chain that
    loops, runs long, or reuses another value's pages is that value's error.
    ``check`` (the analyzer's deadline) is called every few thousand pages.
    """
    if len(data) < 512:
        raise RpmDatabaseError("too short for a Berkeley DB file")
    for endian in ("<", ">"):
        if struct.unpack_from(endian + "I", data, 12)[0] == _HASH_MAGIC:
            break
    else:
        raise RpmDatabaseError("not a Berkeley DB hash file")
    (page_size,) = struct.unpack_from(endian + "I", data, 20)
    (last_page,) = struct.unpack_from(endian + "I", data, 32)
    if page_size not in (512, 1024, 2048, 4096, 8192, 16384, 32768, 65536):
        raise RpmDatabaseError(f"implausible page size {page_size}")
    pages = min(last_page + 1, len(data) // page_size)
    used: set[int] = set()  # overflow pages already part of a value

    def page(n: int) -> bytes:
        if not 0 <= n < pages:
            raise RpmDatabaseError(f"page {n} is outside the file")
        return data[n * page_size : (n + 1) * page_size]

    def overflow(first: int, total: int) -> bytes:
        room = page_size - _PAGE_HEADER
        if total > (pages - 1) * room:
            raise RpmDatabaseError(f"value claims {total} bytes, more than the file holds")
        parts: list[bytes] = []
        n, have, most = first, 0, -(-total // room)
        while n and have < total:
            if n in used or len(parts) >= most:
                raise RpmDatabaseError(
                    f"overflow chain from page {first} loops, runs past the {most} pages "
                    "its size needs or reuses another value's pages"
                )
            used.add(n)
            p = page(n)
            if p[25] != _P_OVERFLOW:
                raise RpmDatabaseError(f"page {n} is not an overflow page")
            (next_page,) = struct.unpack_from(endian + "I", p, 16)
            (length,) = struct.unpack_from(endian + "H", p, 22)
            parts.append(p[_PAGE_HEADER : _PAGE_HEADER + length])
            have += min(length, room)
            n = next_page
        return b"".join(parts)[:total]

    for n in range(1, pages):
        if check is not None and not n % _CHECK_EVERY:
            check()
        p = page(n)
        if p[25] not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        (entries,) = struct.unpack_from(endian + "H", p, 20)
        if _PAGE_HEADER + 2 * entries > page_size:
            yield f"page {n}", RpmDatabaseError(f"page {n}: {entries} items overrun the page")
            continue
        offsets = struct.unpack_from(f"{endian}{entries}H", p, _PAGE_HEADER)
        for i in range(1, len(offsets), 2):  # odd slots hold values
            where = f"page {n} item {i // 2}"
            off = offsets[i]
            kind = p[off] if off < page_size else None
            if kind is None or (kind == _H_OFFPAGE and off + 12 > page_size):
                yield where, RpmDatabaseError(f"{where}: offset outside the page")
                continue
            if kind == _H_OFFPAGE:
                first, total = struct.unpack_from(endian + "II", p, off + 4)
                try:
                    yield where, overflow(first, total)
                except (RpmDatabaseError, struct.error) as exc:
                    yield where, RpmDatabaseError(f"{where}: {exc}")
            elif kind == _H_KEYDATA:
                end = offsets[i - 1] if offsets[i - 1] > off else page_size
                value = p[off + 1 : end]
                if len(value) > 8:  # record 0 holds rpm's 4-byte instance counter, not a header
                    yield where, value


# ---- NDB ----
_NDB_MAGIC = b"RpmP"
_SLOT_MAGIC = b"Slot"
_BLOB_MAGIC = b"BlbS"
_NDB_PAGE = 4096
_NDB_BLOCK = 16


def ndb_records(
    data: bytes, limits: Limits | None = None, check: Callable[[], object] | None = None
) -> Iterator[Record]:
    """Header blobs of rpm's NDB ``Packages.db`` (SUSE).

    Each blob is read once, however many slots name it, and blobs may not
    overlap: what the records hold together is bounded by the file's size.
    The slots are found in C (``bytes.find``); ``check`` (the analyzer's
    deadline) is called every few thousand candidates.
    """
    if len(data) < 32 or data[:4] != _NDB_MAGIC:
        raise RpmDatabaseError("not an rpm NDB database")
    _version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if not 0 < slot_pages <= len(data) // _NDB_PAGE:
        raise RpmDatabaseError(f"implausible slot page count {slot_pages}")
    slots_end = slot_pages * _NDB_PAGE
    taken: dict[int, int] = {}  # blob start -> end, of the blobs read
    packages: set[int] = set()
    held = 0
    pos = 16  # the first 32 bytes are the database header
    for candidate in itertools.count(1):
        if check is not None and not candidate % _CHECK_EVERY:
            check()
        pos = data.find(_SLOT_MAGIC, pos + 16, slots_end)
        if pos < 0:
            break
        if pos % 16:  # not at a slot's start: look again from the next slot
            pos -= pos % 16
            continue
        pkg_index, block_offset, block_count = struct.unpack_from("<III", data, pos + 4)
        if not pkg_index:
            continue
        where = f"package {pkg_index}"
        start = block_offset * _NDB_BLOCK
        if pkg_index in packages or start in taken:
            yield where, RpmDatabaseError(f"{where}: a second slot names the same package or blob")
            continue
        if start + 16 > len(data) or data[start : start + 4] != _BLOB_MAGIC:
            yield where, RpmDatabaseError(f"slot for {where} points at no blob")
            continue
        blob_index, _gen, length = struct.unpack_from("<III", data, start + 4)
        if blob_index != pkg_index or start + 16 + length > len(data):
            yield where, RpmDatabaseError(f"blob of {where} is malformed or truncated")
            continue
        if length > block_count * _NDB_BLOCK:
            yield where, RpmDatabaseError(f"blob of {where} overruns its blocks")
            continue
        held += 16 + length
        if held > len(data):
            yield where, RpmDatabaseError(f"blob of {where} overlaps the blobs before it")
            continue
        packages.add(pkg_index)
        taken[start] = start + 16 + length
        yield where, data[start + 16 : start + 16 + length]


def read_sqlite(data: bytes, limits: Limits | None = None) -> Iterator[bytes]:
    """Header blobs of an rpmdb.sqlite file (see :func:`sqlite_records`)."""
    return _blobs(sqlite_records(data, limits))


def read_bdb(data: bytes, limits: Limits | None = None) -> Iterator[bytes]:
    """Header blobs of a Berkeley DB ``Packages`` file (see :func:`bdb_records`)."""
    return _blobs(bdb_records(data, limits))


def read_ndb(data: bytes, limits: Limits | None = None) -> Iterator[bytes]:
    """Header blobs of an NDB ``Packages.db`` file (see :func:`ndb_records`)."""
    return _blobs(ndb_records(data, limits))


def _blobs(records: Iterator[Record]) -> Iterator[bytes]:
    """The blobs of ``records``; the first record that is an error raises it."""
    for _where, blob in records:
        if isinstance(blob, RpmDatabaseError):
            raise blob
        yield blob


Reader = Callable[[bytes, "Limits | None", "Callable[[], object] | None"], Iterator[Record]]


def _reader(path: str) -> Reader:
    base = path.rsplit("/", 1)[-1]
    return {"rpmdb.sqlite": sqlite_records, "Packages": bdb_records, "Packages.db": ndb_records}[
        base
    ]


def _text(h: dict[str, Any], name: str) -> str:
    value = h.get(name, "")
    return value if isinstance(value, str) else str(value)


def _key(h: dict[str, Any]) -> tuple[str, str, str, str]:
    """(name, epoch, version, release) as text; an absent epoch is ``""``."""
    epoch = "" if h.get("epoch") is None else _text(h, "epoch")
    return (_text(h, "name"), epoch, _text(h, "version"), _text(h, "release"))


def _keys(
    path: str, limits: Limits, check: Callable[[], object], data: bytes
) -> list[tuple[str, str, str, str]]:
    """The identities a layer's copy of the database lists (a header that cannot be read
    is left out); a copy past ``max_db_records`` or a query limit raises, and
    ``first_layers`` skips it. ``check`` (the analyzer's deadline) is called between
    records: past it, the error stops attribution."""
    keys: list[tuple[str, str, str, str]] = []
    for _where, blob in _reader(path)(data, limits, check):
        check()
        if len(keys) >= limits.max_db_records:
            raise ValueError(f"{path}: more than Limits.max_db_records records")
        if isinstance(blob, bytes):
            try:
                keys.append(_key(parse_header(blob, KEY_TAGS)))
            except (RpmDatabaseError, struct.error):
                continue
    return keys


def _files(h: dict[str, Any]) -> list[str]:
    names, dirs, indexes = (
        h.get("basenames") or [],
        h.get("dirnames") or [],
        h.get("dirindexes") or [],
    )
    return [dirs[i] + n for n, i in zip(names, indexes, strict=False) if 0 <= i < len(dirs)]


class RpmAnalyzer:
    name = "rpm"
    patterns: Sequence[str] = tuple(
        d + n for d in DB_DIRS for n in ("rpmdb.sqlite", "Packages", "Packages.db")
    )

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            try:
                records = _reader(f.path)(f.read(), f.limits, f.check_time)
                first_record = next(records, None)  # a file that is no database says so here
            except Exception as exc:
                yield f.error(f"unreadable rpm database: {problem(exc)}")
                continue
            if first_record is None:
                continue
            try:
                keys = functools.partial(_keys, f.path, f.limits, f.check_time)
                first = context.first_layers(f.path, keys)
            except Exception as exc:  # attribution is a refinement: its failure costs only it
                yield f.error(f"layer attribution: {problem(exc)}")
                first = {}
            build = functools.partial(self._package, f=f, first=first, context=context)
            yield from f.each(
                itertools.chain((first_record,), records), build, describe=lambda r: r[0]
            )

    def _package(
        self,
        record: Record,
        f: FileInput,
        first: dict[Any, int],
        context: AnalysisContext,
    ) -> Package | None:
        """One header's package (None for a header without name or version)."""
        where, blob = record
        if isinstance(blob, RpmDatabaseError):  # said after the record's name, not twice
            message = blob.message.removeprefix(f"{where}: ")
            raise RpmDatabaseError(message) if message != blob.message else blob
        h = parse_header(blob)
        if not h.get("name") or not h.get("version"):
            return None
        distro = context.distro
        name, version, release = h["name"], h["version"], h.get("release", "")
        epoch = h.get("epoch")
        full = evr(epoch, version, release)
        layer = first.get(_key(h), f.entry.layer_index)
        source = h.get("sourcerpm") or None
        qualifiers = {
            "arch": h.get("arch"),
            "epoch": str(epoch) if epoch not in (None, 0) else None,
            "distro": f"{distro.id}-{distro.version_id}" if distro and distro.version_id else None,
            "upstream": source,
        }
        source_name = source_version = None
        if source and source.endswith(".src.rpm"):
            stem = source[: -len(".src.rpm")]
            parts = stem.rsplit("-", 2)
            if len(parts) == 3:
                source_name, source_version = parts[0], f"{parts[1]}-{parts[2]}"
        return Package(
            type="rpm",
            name=name,
            version=full,
            purl=package_purl(
                "rpm",
                name,
                f"{version}-{release}" if release else version,
                namespace=distro.id if distro else None,
                qualifiers=qualifiers,
            ),
            locations=(context.location(f.entry, layer),),
            licenses=(h["license"],) if h.get("license") else (),
            source_name=source_name,
            source_version=source_version,
            architecture=h.get("arch"),
            files=tuple(_files(h)),
            metadata={
                k: h[k]
                for k in ("vendor", "summary", "size", "modularitylabel", "sourcerpm")
                if h.get(k) is not None
            },
        )


@hookimpl
def anchore_analyzers() -> list[RpmAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [RpmAnalyzer()]
