"""A fast, streaming tar header reader.

The standard library's ``tarfile`` builds a rich object per member and wants a
file object it can seek; we need neither. This reader pulls headers out of a
byte source that may be a forward-only decompression stream, skips member data
without keeping it, and reports where each member's data starts so that the
content can be read later. It understands ustar, GNU (long names, long links,
old sparse headers) and pax (extended and global headers, xattrs) archives.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from typing import NamedTuple, Protocol

from anchore.errors import ImageFormatError, LimitExceededError, TruncatedBlobError
from anchore.limits import Limits

BLOCK = 512

_HEADER = struct.Struct("100s8s8s8s12s12s8s1s100s6s2s32s32s8s8s155s12x")
_EIGHT_SPACES = b" " * 8
_ZERO_BLOCK = bytes(BLOCK)
_EXT = (b"x", b"g", b"L", b"K")  # pax, pax global, GNU long name, GNU long link
_TYPEFLAGS = {bytes([c]): chr(c) for c in range(128)}


class ByteSource(Protocol):
    """What the reader needs from its input."""

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the stream."""

    def skip(self, n: int) -> int:
        """Skip up to ``n`` bytes; return how many were skipped."""

    def tell(self) -> int:
        """Offset of the next byte in the stream."""


class TarHeader(NamedTuple):
    """One archive member, with the metadata that names and describes it."""

    name: str
    typeflag: str
    mode: int
    uid: int
    gid: int
    uname: str
    gname: str
    size: int
    mtime: float
    linkname: str
    devmajor: int
    devminor: int
    #: offset of the member's data in the (uncompressed) stream
    data_offset: int
    #: extended attributes from pax records (``SCHILY.xattr.*``), or None
    xattrs: dict[str, bytes] | None
    #: True for GNU sparse members, whose data is not stored contiguously
    sparse: bool


class ChunkSource:
    """A :class:`ByteSource` over an iterator of byte chunks (forward only)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = b""
        self._pos = 0
        self._base = 0  # stream offset of self._buf[0]

    def tell(self) -> int:
        return self._base + self._pos

    def _next_chunk(self) -> bool:
        self._base += len(self._buf)
        for chunk in self._chunks:
            if chunk:
                self._buf = chunk
                self._pos = 0
                return True
        self._buf = b""
        self._pos = 0
        return False

    def read(self, n: int) -> bytes:
        buf, pos = self._buf, self._pos
        end = pos + n
        if end <= len(buf):
            self._pos = end
            return buf[pos:end]
        parts = [buf[pos:]]
        have = len(buf) - pos
        while have < n and self._next_chunk():
            take = self._buf[: n - have]
            parts.append(take)
            have += len(take)
            self._pos = len(take)
        return b"".join(parts)

    def skip(self, n: int) -> int:
        remaining = len(self._buf) - self._pos
        if n <= remaining:
            self._pos += n
            return n
        skipped = remaining
        while skipped < n and self._next_chunk():
            step = min(n - skipped, len(self._buf))
            self._pos = step
            skipped += step
        return skipped

    def drain(self) -> None:
        """Consume the rest of the stream (so that digests see every byte)."""
        self._base += len(self._buf) - self._pos
        self._buf, self._pos = b"", 0
        for chunk in self._chunks:
            self._base += len(chunk)


class FileSource:
    """A :class:`ByteSource` over ``size`` bytes at ``start`` of a file: skipping seeks.

    Offsets it reports are relative to ``start``. Use it as a context manager.
    """

    def __init__(self, path: str, start: int, size: int) -> None:
        self._fh = open(path, "rb", buffering=64 * 1024)  # noqa: SIM115 - closed in close()
        self._start = start
        self._end = start + size
        self._pos = start
        self._fh.seek(start)

    def read(self, n: int) -> bytes:
        n = max(0, min(n, self._end - self._pos))
        data = self._fh.read(n)
        self._pos += len(data)
        return data

    def skip(self, n: int) -> int:
        step = max(0, min(n, self._end - self._pos))
        self._pos += step
        self._fh.seek(self._pos)
        return step

    def tell(self) -> int:
        return self._pos - self._start

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Header fields repeat a lot (modes, owners, mtimes, user names): parsing each
# distinct field once and looking it up afterwards halves the per-member cost.
_CACHE_LIMIT = 1 << 16
_NUMBERS: dict[bytes, int] = {}
_TEXTS: dict[bytes, str] = {}


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _cached_text(raw: bytes) -> str:
    text = _TEXTS.get(raw)
    if text is None:
        text = _text(raw)
        if len(_TEXTS) < _CACHE_LIMIT:
            _TEXTS[raw] = text
    return text


def _number(field: bytes, what: str, where: str, offset: int, cache: bool = True) -> int:
    value = _NUMBERS.get(field) if cache else None
    if value is not None:
        return value
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:
            value -= 1 << (8 * (len(field) - 1))
    else:
        digits = field.split(b"\0", 1)[0].strip(b" ")
        try:
            value = int(digits, 8) if digits else 0
        except ValueError:
            raise ImageFormatError(
                f"{where} (tar header at offset {offset}): corrupt tar header, "
                f"{what} field is {field!r}"
            ) from None
    if cache and len(_NUMBERS) < _CACHE_LIMIT:
        _NUMBERS[field] = value
    return value


def _checksum_matches(header: bytes, stored: int) -> bool:
    """Check a header's checksum; old archivers summed signed bytes, so accept that too."""
    # adler32's low half is 1 + sum(bytes) mod 65521: one C call instead of a Python sum()
    a = zlib.adler32(header[:148])
    a = zlib.adler32(_EIGHT_SPACES, a)
    a = zlib.adler32(header[156:], a)
    if (a & 0xFFFF) == (1 + stored) % 65521:
        return True
    rest = header[:148] + header[156:]
    return stored in (sum(rest) + 256, sum(b - 256 if b > 127 else b for b in rest) + 256)


def _parse_pax(data: bytes, where: str) -> dict[str, str | bytes]:
    """Parse pax records (``"%d %s=%s\\n"``); xattr values stay bytes."""
    records: dict[str, str | bytes] = {}
    pos = 0
    while pos < len(data):
        if data[pos] == 0:
            break
        space = data.find(b" ", pos)
        if space < 0:
            raise ImageFormatError(f"{where}: malformed pax header record")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise ImageFormatError(f"{where}: malformed pax header record length") from None
        if length <= 0 or pos + length > len(data):
            raise ImageFormatError(f"{where}: pax header record overruns its header")
        record = data[space + 1 : pos + length]
        if not record.endswith(b"\n") or b"=" not in record:
            raise ImageFormatError(f"{where}: malformed pax header record")
        key_raw, value = record[:-1].split(b"=", 1)
        key = key_raw.decode("utf-8", "surrogateescape")
        if key.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr.")):
            records[key] = value
        else:
            records[key] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def iter_headers(source: ByteSource, where: str, limits: Limits) -> Iterator[TarHeader]:
    """Yield every member's header; the caller must not read the source meanwhile.

    ``where`` names the archive in error messages. Member data is skipped. The
    iteration ends at the end-of-archive marker or at a clean end of stream.
    """
    global_pax: dict[str, str | bytes] = {}
    pax: dict[str, str | bytes] = {}
    long_name: str | None = None
    long_link: str | None = None
    max_ext = limits.max_extended_header_bytes
    unpack = _HEADER.unpack
    while True:
        offset = source.tell()
        header = source.read(BLOCK)
        if len(header) < BLOCK:
            if not header and not pax and long_name is None and long_link is None:
                return  # ended without the end-of-archive marker: tolerated, as GNU tar does
            raise TruncatedBlobError(
                f"{where}: archive ends inside a tar header at offset {offset}"
            )
        if header == _ZERO_BLOCK:
            return
        (
            name_f,
            mode_f,
            uid_f,
            gid_f,
            size_f,
            mtime_f,
            chk_f,
            type_f,
            link_f,
            magic_f,
            _version,
            uname_f,
            gname_f,
            major_f,
            minor_f,
            prefix_f,
        ) = unpack(header)
        if not _checksum_matches(header, _number(chk_f, "checksum", where, offset, False)):
            raise ImageFormatError(
                f"{where} (tar header at offset {offset}): corrupt tar header (checksum mismatch)"
            )
        size = _number(size_f, "size", where, offset, False)
        here = f"{where} (tar header at offset {offset})" if size < 0 or type_f in _EXT else where
        if size < 0:
            raise ImageFormatError(f"{here}: negative member size")
        typeflag = _TYPEFLAGS.get(type_f) or type_f.decode("latin-1")
        if type_f in _EXT:
            if size > max_ext:
                raise LimitExceededError(
                    f"{here}: extended header of {size} bytes exceeds max_extended_header_bytes",
                    limit="max_extended_header_bytes",
                )
            data = source.read(size)
            if len(data) < size:
                raise TruncatedBlobError(f"{here}: archive ends inside an extended header")
            source.skip(-size % BLOCK)
            if typeflag == "x":
                pax.update(_parse_pax(data, here))
            elif typeflag == "g":
                global_pax.update(_parse_pax(data, here))
            elif typeflag == "L":
                long_name = _text(data)
            else:
                long_link = _text(data)
            continue
        is_gnu = magic_f == b"ustar "
        name = _text(name_f)
        if not is_gnu and prefix_f[0]:
            name = _text(prefix_f) + "/" + name
        sparse = typeflag == "S"
        if sparse and is_gnu and header[482]:
            # old GNU sparse: extension blocks follow the header, before the data
            while True:
                ext = source.read(BLOCK)
                if len(ext) < BLOCK:
                    raise TruncatedBlobError(f"{where}: archive ends inside a sparse header")
                if not ext[504]:
                    break
        meta = {**global_pax, **pax} if global_pax else pax
        linkname = _text(link_f) if link_f[0] else ""
        uname = _cached_text(uname_f)
        gname = _cached_text(gname_f)
        mtime: float = _number(mtime_f, "mtime", where, offset)
        uid = _number(uid_f, "uid", where, offset)
        gid = _number(gid_f, "gid", where, offset)
        xattrs: dict[str, bytes] | None = None
        if long_name is not None:
            name = long_name
        if long_link is not None:
            linkname = long_link
        if meta:
            name = str(meta.get("GNU.sparse.name", meta.get("path", name)))
            linkname = str(meta.get("linkpath", linkname))
            uname = str(meta.get("uname", uname))
            gname = str(meta.get("gname", gname))
            try:
                if "size" in meta:
                    size = int(str(meta["size"]))
                if "uid" in meta:
                    uid = int(str(meta["uid"]))
                if "gid" in meta:
                    gid = int(str(meta["gid"]))
                if "mtime" in meta:
                    mtime = float(str(meta["mtime"]))
            except ValueError:
                raise ImageFormatError(f"{where}: malformed numeric pax record") from None
            if "GNU.sparse.major" in meta or "GNU.sparse.map" in meta:
                sparse = True
            for key, value in meta.items():
                if key.startswith(("SCHILY.xattr.", "LIBARCHIVE.xattr.")):
                    if xattrs is None:
                        xattrs = {}
                    attr = key.split(".xattr.", 1)[1]
                    xattrs[attr] = value if isinstance(value, bytes) else value.encode()
        data_offset = source.tell()
        yield TarHeader(
            name,
            typeflag,
            mode if (mode := _number(mode_f, "mode", where, offset)) <= 0o7777 else mode & 0o7777,
            uid,
            gid,
            uname,
            gname,
            size,
            mtime,
            linkname,
            _number(major_f, "devmajor", where, offset) if typeflag in ("3", "4") else 0,
            _number(minor_f, "devminor", where, offset) if typeflag in ("3", "4") else 0,
            data_offset,
            xattrs,
            sparse,
        )
        pax = {}
        long_name = long_link = None
        # hard links, symlinks, dirs, devices and fifos carry no data, whatever size says
        stored = size if typeflag not in ("1", "2", "3", "4", "5", "6") else 0
        if stored and source.skip(stored + (-stored % BLOCK)) < stored:
            raise TruncatedBlobError(
                f"{where}: archive ends inside the data of member {name!r} "
                f"(needs {stored} bytes at offset {data_offset})"
            )
