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
    """A :class:`ByteSource` over a seekable file: skipping seeks instead of reading."""

    def __init__(self, fh: object, size: int) -> None:
        import io

        assert isinstance(fh, io.BufferedIOBase | io.RawIOBase)
        self._fh = fh
        self._size = size

    def read(self, n: int) -> bytes:
        return self._fh.read(n) or b""

    def skip(self, n: int) -> int:
        here = self._fh.tell()
        step = max(0, min(n, self._size - here))
        self._fh.seek(here + step)
        return step

    def tell(self) -> int:
        return self._fh.tell()


def _text(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _number(field: bytes, what: str, where: str) -> int:
    if field and field[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field[1:], "big")
        if field[0] == 0xFF:
            value -= 1 << (8 * (len(field) - 1))
        return value
    digits = field.split(b"\0", 1)[0].strip(b" ")
    if not digits:
        return 0
    try:
        return int(digits, 8)
    except ValueError:
        raise ImageFormatError(f"{where}: corrupt tar header, {what} field is {field!r}") from None


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
        if header.count(0) == BLOCK:
            return
        (name_f, mode_f, uid_f, gid_f, size_f, mtime_f, chk_f, type_f, link_f, magic_f,
         _version, uname_f, gname_f, major_f, minor_f, prefix_f) = unpack(header)  # fmt: skip
        here = f"{where} (tar header at offset {offset})"
        if not _checksum_matches(header, _number(chk_f, "checksum", here)):
            raise ImageFormatError(f"{here}: corrupt tar header (checksum mismatch)")
        size = _number(size_f, "size", here)
        if size < 0:
            raise ImageFormatError(f"{here}: negative member size")
        typeflag = type_f.decode("latin-1")
        if typeflag in ("x", "g", "L", "K"):
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
                    raise TruncatedBlobError(f"{here}: archive ends inside a sparse header")
                if not ext[504]:
                    break
        meta = {**global_pax, **pax} if global_pax else pax
        linkname = _text(link_f)
        uname = _text(uname_f)
        gname = _text(gname_f)
        mtime: float = _number(mtime_f, "mtime", here)
        uid = _number(uid_f, "uid", here)
        gid = _number(gid_f, "gid", here)
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
                raise ImageFormatError(f"{here}: malformed numeric pax record") from None
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
            _number(mode_f, "mode", here) & 0o7777,
            uid,
            gid,
            uname,
            gname,
            size,
            mtime,
            linkname,
            _number(major_f, "devmajor", here) if typeflag in ("3", "4") else 0,
            _number(minor_f, "devminor", here) if typeflag in ("3", "4") else 0,
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
