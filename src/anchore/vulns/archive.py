"""The whole advisory store as one file, for machines that cannot download feeds.

``export_store(store, "vulns.tar.zst")`` writes a consistent snapshot of a store
(taken with SQLite's ``VACUUM INTO``: correct while the store is being read or
updated, and compact); ``import_store("vulns.tar.zst", path)`` checks it and
swaps it in for the store at ``path`` the way an update does
(:func:`anchore.vulns.store.staged`): a failed or interrupted import leaves
the store as it was.

The file is a zstd-compressed tar (``tar --zstd -xf`` unpacks it) of exactly two
members, in this order:

- ``anchore-store-export.json``: the header (:data:`HEADER_NAME`): the format
  and its version, the anchore and store schema versions that wrote it, when,
  how many advisories and which ecosystems the store covers, and the size and
  SHA-256 of the store file;
- ``vulnerabilities.sqlite``: the store file itself.

Importing streams it (the store is never held in memory) and refuses, with a
:class:`StoreArchiveError` naming the file and the problem: a file that is not
an export, a truncated or corrupt one, a header of the wrong shape, a store
schema newer than this anchore reads (an older one is migrated when opened), a
store whose size, checksum, advisory count or coverage is not what the header
says, a payload larger than the header declares or than
``Limits.max_compression_ratio`` times the file (a decompression bomb), tar
headers larger than an export's (``tarfile`` would read a pax or GNU long-name
header whole into memory: what it may read before each member is checked is
bounded, so a tiny file cannot make it allocate gigabytes).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import os
import re
import sqlite3
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import attrs
import zstandard

from anchore.limits import Limits
from anchore.vulns.errors import StoreArchiveError, StoreError, StoreFormatError
from anchore.vulns.store import (
    SCHEMA_VERSION,
    STAGE_LOCK_SECONDS,
    Store,
    StoreLike,
    default_path,
    fsync_path,
    staged,
    temp_beside,
    using_store,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER_NAME",
    "PAYLOAD_NAME",
    "ArchiveInfo",
    "export_store",
    "import_store",
]

#: the ``format`` of the header, and the version of this layout
FORMAT = "anchore-store-export"
FORMAT_VERSION = 1
#: the tar members, in the order they come
HEADER_NAME = "anchore-store-export.json"
PAYLOAD_NAME = "vulnerabilities.sqlite"

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SQLITE_MAGIC = b"SQLite format 3\x00"
#: a header is a few hundred bytes; this bounds what is read before it is trusted
_MAX_HEADER_BYTES = 1 << 20
#: what may follow the last member: the tar end blocks and record padding (10 KiB)
_MAX_TRAILER_BYTES = 1 << 16
#: no payload is refused as a bomb below this, whatever the file's size
_MIN_BOMB_BYTES = 1 << 24
_CHUNK = 1 << 20
_LEVEL = 6
#: the largest zstd window accepted (what zstd itself allows by default)
_MAX_WINDOW = 1 << 27


@attrs.frozen
class ArchiveInfo:
    """What an export file holds: its header, as written and as checked on import."""

    #: the export file
    path: Path
    format_version: int
    #: the anchore that wrote it, and the schema of its store
    anchore_version: str
    schema_version: int
    exported: datetime.datetime
    advisories: int
    #: each covered ecosystem and how many advisories name it (``Store.coverage()``)
    coverage: Mapping[str, int]
    #: the store file inside: its size in bytes and SHA-256 (hex)
    size: int
    sha256: str

    def to_header(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "anchore_version": self.anchore_version,
            "schema_version": self.schema_version,
            "exported": self.exported.isoformat(timespec="seconds"),
            "advisories": self.advisories,
            "coverage": dict(self.coverage),
            "payload": {"name": PAYLOAD_NAME, "size": self.size, "sha256": self.sha256},
        }


def _anchore_version() -> str:
    # the root package is always imported before its submodules (as sbom.common does)
    return str(sys.modules["anchore"].__version__)


def _digest(path: Path) -> tuple[int, str]:
    sha, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return size, sha.hexdigest()


# ---------------------------------------------------------------- export
def export_store(store: StoreLike | None, path: str | os.PathLike[str]) -> ArchiveInfo:
    """Write the whole store (None: the default store) to ``path`` as one export file.

    The snapshot is consistent even while another process updates the store; the
    file appears at ``path`` only once complete. A store that holds nothing is a
    :class:`StoreEmptyError`: an export of it would be no use anywhere.
    """
    out = Path(path)
    with using_store(store) as opened:
        opened.require_data()
        source = opened.path
    if str(source) == ":memory:":
        raise StoreError(
            f"{out}: an in-memory store cannot be exported; load it into a file first",
            source=out,
        )
    if out.exists() and source.exists() and out.samefile(source):
        raise StoreError(f"{out}: is the store itself; export to another file", source=out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with temp_beside(out, ".sqlite") as snapshot, temp_beside(out, ".part") as part:
            snapshot.unlink()  # VACUUM INTO writes a new file
            _snapshot(source, snapshot)
            with Store(snapshot) as copy:
                schema, advisories, coverage = copy.schema_version, len(copy), copy.coverage()
            size, sha = _digest(snapshot)
            info = ArchiveInfo(
                path=out,
                format_version=FORMAT_VERSION,
                anchore_version=_anchore_version(),
                schema_version=schema,
                exported=datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
                advisories=advisories,
                coverage=coverage,
                size=size,
                sha256=sha,
            )
            _write(part, info, snapshot)
            fsync_path(part)
            os.replace(part, out)
        with contextlib.suppress(OSError):
            fsync_path(out.parent)
    except OSError as exc:
        raise StoreError(f"{out}: cannot write the export: {exc}", source=out) from None
    return info


def _snapshot(source: Path, target: Path) -> None:
    """A compact, consistent copy of the store file (read-only: the store is not touched)."""
    uri = "file:" + source.resolve().as_posix().replace("?", "%3f").replace("#", "%23")
    try:
        db = sqlite3.connect(uri + "?mode=ro", uri=True)
        try:
            db.execute("VACUUM INTO ?", (str(target),))
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise StoreError(f"{source}: cannot copy the store: {exc}", source=source) from None


def _write(part: Path, info: ArchiveInfo, snapshot: Path) -> None:
    header = json.dumps(info.to_header(), indent=2, sort_keys=True).encode() + b"\n"
    mtime = int(info.exported.timestamp())
    compressor = zstandard.ZstdCompressor(level=_LEVEL, write_checksum=True)
    with (
        open(part, "wb") as fh,
        compressor.stream_writer(fh, closefd=False) as zw,
        tarfile.open(fileobj=zw, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, size, data in (
            (HEADER_NAME, len(header), None),
            (PAYLOAD_NAME, info.size, snapshot),
        ):
            member = tarfile.TarInfo(name)
            member.size, member.mtime, member.mode = size, mtime, 0o644
            if data is None:
                tar.addfile(member, io.BytesIO(header))
            else:
                with open(data, "rb") as payload:
                    tar.addfile(member, payload)


# ---------------------------------------------------------------- import
def import_store(
    path: str | os.PathLike[str],
    store_path: str | os.PathLike[str] | None = None,
    *,
    wait: float = STAGE_LOCK_SECONDS,
    limits: Limits | None = None,
) -> ArchiveInfo:
    """Replace the store at ``store_path`` (None: the default store) with the export at ``path``.

    Everything is checked before the swap (see the module docstring); the swap
    takes the store's lock as an update does (:class:`StoreBusyError` after
    ``wait`` seconds) and is atomic. A missing store is created; an existing file
    that is not a store is refused (:class:`StoreFormatError`), not overwritten.
    """
    source = Path(path)
    named = Path(store_path) if store_path is not None else default_path()
    limits = limits or Limits()
    try:
        named.parent.mkdir(parents=True, exist_ok=True)
        # a symlinked store: the payload goes beside the file it names (same filesystem)
        target = Path(os.path.realpath(named))
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{named}: cannot create the store: {exc}", source=named) from None
    with temp_beside(target, ".import") as payload:
        info = _extract(source, payload, limits, named)
        _check_store(source, payload, info)
        # copy=False: the current store is replaced whole, copying it would be wasted
        with staged(target, wait=wait, copy=False) as stage:
            stage.close()
            os.replace(payload, stage.path)
    return info


def _fail(source: Path, problem: str) -> StoreArchiveError:
    return StoreArchiveError(f"{source}: {problem}", source=source)


class _Budget:
    """The decompressed stream, refusing to give ``tarfile`` more than ``limit`` bytes.

    ``tarfile`` reads a pax or GNU long-name header into memory whole before it
    returns the member it describes, so the size checks come too late for those:
    the limit is raised member by member, only once each member was checked.
    """

    def __init__(self, source: Path, raw: IO[bytes], limit: int) -> None:
        self.source, self.raw, self.limit, self.used = source, raw, limit, 0
        self.what = f"before its {HEADER_NAME}"

    def allow(self, more: int, what: str) -> None:
        self.limit, self.what = self.used + more + _SLACK, what

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if 0 <= size <= _CHUNK else _CHUNK)
        self.used += len(data)
        if self.used > self.limit:
            raise _fail(
                self.source,
                f"more than {self.limit} bytes of tar data {self.what} (oversized tar headers: "
                "not an export, or a hostile one)",
            )
        return data


#: what tarfile reads ahead, and the tar blocks around a member (header, padding, end)
_SLACK = 4 * tarfile.RECORDSIZE


def _extract(source: Path, payload: Path, limits: Limits, target: Path) -> ArchiveInfo:
    """Read the header, then stream the store file into ``payload``, checking both."""
    try:
        fh = open(source, "rb")  # noqa: SIM115 - closed below, errors mapped
    except FileNotFoundError:
        raise _fail(source, "no such export file") from None
    except OSError as exc:
        raise _fail(source, f"cannot be read: {exc.strerror}") from None
    with fh:
        head = fh.read(len(_SQLITE_MAGIC))
        if head.startswith(_SQLITE_MAGIC):
            raise _fail(
                source,
                "an SQLite file, not a store export: use it as a store with --db, "
                "or export a store with 'anchore db export'",
            )
        if not head.startswith(_ZSTD_MAGIC):
            raise _fail(
                source, "not an anchore store export (not zstd-compressed); 'anchore db export' "
                "writes one"
            )  # fmt: skip
        fh.seek(0)
        compressed = os.fstat(fh.fileno()).st_size
        decompressor = zstandard.ZstdDecompressor(max_window_size=_MAX_WINDOW)
        # several frames (pzstd, concatenated streams) read as one stream
        reader = decompressor.stream_reader(fh, read_across_frames=True)
        budget = _Budget(source, reader, _MAX_HEADER_BYTES + _SLACK)
        try:
            # typeshed wants an IO; tarfile's stream mode only calls read()
            with tarfile.open(fileobj=budget, mode="r|") as tar:  # type: ignore[call-overload]
                info = _header(source, tar, compressed, limits, budget)
                _payload(source, tar, info, payload, budget, target)
                if tar.next() is not None:
                    raise _fail(source, f"holds more than {HEADER_NAME} and {PAYLOAD_NAME}")
            _trailer(source, reader)
        except StoreArchiveError:
            raise
        except (tarfile.TarError, zstandard.ZstdError, EOFError) as exc:
            raise _fail(source, f"truncated or corrupt ({exc})") from None
        except OSError as exc:
            raise _fail(source, f"cannot be read: {exc}") from None
    return info


def _member(source: Path, tar: tarfile.TarFile, name: str) -> tarfile.TarInfo:
    member = tar.next()
    if member is None:
        raise _fail(source, f"truncated: it ends before {name}")
    if member.name != name or not member.isreg():
        what = "the first" if name == HEADER_NAME else "the second"
        raise _fail(
            source,
            f"not an anchore store export: {what} member is {member.name!r}, not {name!r}",
        )
    return member


def _header(
    source: Path, tar: tarfile.TarFile, compressed: int, limits: Limits, budget: _Budget
) -> ArchiveInfo:
    member = _member(source, tar, HEADER_NAME)
    if member.size > _MAX_HEADER_BYTES:
        raise _fail(source, f"its header is {member.size} bytes, more than a header holds")
    # the header's data, then the store member's tar headers (as small as the first's)
    budget.allow(member.size + _MAX_HEADER_BYTES, f"before its {PAYLOAD_NAME}")
    data = tar.extractfile(member)
    assert data is not None  # a regular file
    raw = data.read()
    if len(raw) != member.size:
        raise _fail(source, "truncated in its header")
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(source, f"its header is not JSON ({exc})") from None
    info = _read_header(source, header)
    bound = max(_MIN_BOMB_BYTES, int(compressed * limits.max_compression_ratio))
    if info.size > bound:
        raise _fail(
            source,
            f"its header declares a {info.size}-byte store, more than "
            f"Limits.max_compression_ratio ({limits.max_compression_ratio:g}) times the "
            f"file's {compressed} bytes (a decompression bomb?)",
        )
    return info


def _read_header(source: Path, header: object) -> ArchiveInfo:
    """The header's fields, each of its type, or a StoreArchiveError naming the first wrong one."""

    def bad(key: str, want: str) -> StoreArchiveError:
        return _fail(source, f"its header's {key!r} is not {want}")

    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(source, f"not an anchore store export: its header has no format {FORMAT!r}")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise bad("format_version", "a positive whole number")
    if version > FORMAT_VERSION:
        raise _fail(
            source,
            f"written in export format {version} by a newer anchore (this version reads up "
            f"to {FORMAT_VERSION}): upgrade anchore",
        )

    def whole(key: str, value: object) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise bad(key, "a whole number")
        return value

    schema = whole("schema_version", header.get("schema_version"))
    if schema > SCHEMA_VERSION:
        raise _fail(
            source,
            f"holds a store written by a newer anchore (store schema {schema}; this version "
            f"reads up to {SCHEMA_VERSION}): upgrade anchore",
        )
    anchore_version = header.get("anchore_version")
    if not isinstance(anchore_version, str):
        raise bad("anchore_version", "a string")
    try:
        exported = datetime.datetime.fromisoformat(str(header.get("exported")))
    except ValueError:
        raise bad("exported", "an ISO 8601 time") from None
    coverage = header.get("coverage")
    if not isinstance(coverage, dict) or not all(isinstance(k, str) for k in coverage):
        raise bad("coverage", "an object of ecosystems")
    counts = {k: whole(f"coverage.{k}", v) for k, v in coverage.items()}
    payload = header.get("payload")
    if not isinstance(payload, dict) or payload.get("name") != PAYLOAD_NAME:
        raise bad("payload", f"an object naming {PAYLOAD_NAME!r}")
    sha = payload.get("sha256")
    if not isinstance(sha, str) or not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise bad("payload.sha256", "a SHA-256 in hex")
    return ArchiveInfo(
        path=source,
        format_version=version,
        anchore_version=anchore_version,
        schema_version=schema,
        exported=exported,
        advisories=whole("advisories", header.get("advisories")),
        coverage=counts,
        size=whole("payload.size", payload.get("size")),
        sha256=sha,
    )


def _payload(
    source: Path,
    tar: tarfile.TarFile,
    info: ArchiveInfo,
    payload: Path,
    budget: _Budget,
    target: Path,
) -> None:
    """Stream the store member into ``payload``: exactly the size the header declares."""
    member = _member(source, tar, PAYLOAD_NAME)
    if member.size != info.size:
        raise _fail(
            source,
            f"its store is {member.size} bytes in the tar but {info.size} in the header "
            "(a corrupt or altered export)",
        )
    budget.allow(member.size + _MAX_TRAILER_BYTES, f"after its {PAYLOAD_NAME}")
    data = tar.extractfile(member)
    assert data is not None
    sha, size = hashlib.sha256(), 0
    with open(payload, "wb") as out:
        while chunk := data.read(_CHUNK):
            size += len(chunk)
            sha.update(chunk)
            try:
                out.write(chunk)
            except OSError as exc:  # a full disk is the store's problem, not the export's
                raise StoreError(
                    f"{target}: cannot write the imported store beside it: {exc.strerror}; "
                    "it was left as it was",
                    source=target,
                ) from None
    if size != info.size:
        raise _fail(source, f"truncated: its store ends after {size} of {info.size} bytes")
    if sha.hexdigest() != info.sha256:
        raise _fail(
            source,
            f"its store's SHA-256 is {sha.hexdigest()}, not {info.sha256} as the header says "
            "(a corrupt or altered export)",
        )


def _trailer(source: Path, reader: IO[bytes]) -> None:
    """Read to the end of the stream (zstd checks its frame checksum there), within a bound."""
    left = _MAX_TRAILER_BYTES
    while chunk := reader.read(_CHUNK):
        left -= len(chunk)
        if left < 0:
            raise _fail(source, "more data follows the store than an export holds")


def _check_store(source: Path, payload: Path, info: ArchiveInfo) -> None:
    """The payload opens as an anchore store and holds what the header says."""
    try:
        with Store(payload) as store:
            found = (store.exists, len(store), store.coverage())
    except StoreFormatError as exc:
        problem = str(exc).removeprefix(f"{payload}: ")
        raise _fail(source, f"its store cannot be used: {problem}") from None
    except (StoreError, sqlite3.Error) as exc:
        raise _fail(source, f"its store cannot be opened: {exc}") from None
    exists, advisories, coverage = found
    if not exists or (advisories, coverage) != (info.advisories, dict(info.coverage)):
        raise _fail(
            source,
            f"its store holds {advisories} advisories covering {len(coverage)} ecosystems, "
            f"not the {info.advisories} and {len(info.coverage)} its header says",
        )
