"""A fast, streaming tar header reader.

The standard library's ``tarfile`` builds a rich object per member and wants a
file object it can seek; we need neither. This reader pulls headers out of a
byte source that may be a forward-only decompression stream, skips member data
without keeping it, and reports where each member's data starts so that the
content can be read later. It understands ustar, GNU (long names, long links,
old sparse headers) and pax (extended and global headers, xattrs) archives.
"""

from __future__ import annotations

import re
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
        if n <= 0:
            return 0  # forward only: a negative count must never step back onto a header
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
_OWNERS: dict[bytes, tuple[int, int, int]] = {}


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


#: the ranges a member's numeric fields may take: a mode what the octal field holds
#: (archivers may add type bits; we keep the 12 permission bits), Linux ids and
#: device numbers 32 bits, mtimes what a ``datetime`` can show (years 1 to 9999)
_MAX_MODE = 0o7777777
_MAX_U32 = (1 << 32) - 1
_MIN_MTIME = -62135596800
_MAX_MTIME = 253402300799
_PAX_UINT = re.compile(r"[0-9]{1,20}")
_PAX_TIME = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{0,20})?")


def _bad_field(
    where: str, offset: int, name: str, what: str, value: object, allowed: str
) -> ImageFormatError:
    return ImageFormatError(
        f"{where} (tar header at offset {offset}): member {name!r}: {what} is {value!r}, "
        f"outside {allowed}"
    )


def _check_numbers(
    where: str, offset: int, name: str, mode: int, uid: int, gid: int, mtime: float
) -> None:
    """Refuse values no tar or Linux allows, so that nothing downstream meets them."""
    if not 0 <= mode <= _MAX_MODE:
        raise _bad_field(where, offset, name, "mode", mode, "0..0o7777777")
    if not 0 <= uid <= _MAX_U32:
        raise _bad_field(where, offset, name, "uid", uid, "0..2**32-1")
    if not 0 <= gid <= _MAX_U32:
        raise _bad_field(where, offset, name, "gid", gid, "0..2**32-1")
    if not _MIN_MTIME <= mtime <= _MAX_MTIME:
        raise _bad_field(where, offset, name, "mtime", mtime, "years 1..9999")


def _pax_number(meta: dict[str, str], key: str, where: str, offset: int) -> int | float:
    """A pax numeric record, strictly decimal (no signs, spaces, '_' or non-ASCII digits)."""
    text = meta[key]
    pattern = _PAX_TIME if key == "mtime" else _PAX_UINT
    if pattern.fullmatch(text) is None:
        raise ImageFormatError(
            f"{where} (tar header at offset {offset}): pax record {key}={text[:40]!r} "
            "is not a decimal number in range"
        )
    return float(text) if key == "mtime" else int(text)


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


def _parse_pax(data: bytes, where: str, max_keys: int) -> dict[str, str | bytes]:
    """Parse pax records (``"%d %s=%s\\n"``); xattr values stay bytes."""
    records: dict[str, str | bytes] = {}
    pos = 0
    while pos < len(data):
        if len(records) >= max_keys:
            raise LimitExceededError(
                f"{where}: pax header has more than max_pax_keys={max_keys} keys",
                limit="max_pax_keys",
            )
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


#: pax keys that set a member's fields; other keys are kept only as xattrs or ignored
_FIELD_KEYS = frozenset(
    {"path", "linkpath", "uname", "gname", "size", "uid", "gid", "mtime"}
    | {"GNU.sparse.name", "GNU.sparse.major", "GNU.sparse.map"}
)
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")


def _split_pax(
    records: dict[str, str | bytes], fields: dict[str, str], xattrs: dict[str, bytes] | None
) -> dict[str, bytes] | None:
    """Sort pax records into ``fields`` (updated in place) and xattrs (returned, a new dict)."""
    if any(key.startswith(_XATTR_PREFIXES) for key in records):
        xattrs = dict(xattrs) if xattrs is not None else {}  # a new dict: the old one is shared
    for key, value in records.items():
        if key.startswith(_XATTR_PREFIXES):
            assert xattrs is not None
            xattrs[key.split(".xattr.", 1)[1]] = (
                value if isinstance(value, bytes) else value.encode()
            )
        elif key in _FIELD_KEYS:
            fields[key] = (
                value if isinstance(value, str) else value.decode("utf-8", "surrogateescape")
            )
    return xattrs


def iter_headers(source: ByteSource, where: str, limits: Limits) -> Iterator[TarHeader]:
    """Yield every member's header; the caller must not read the source meanwhile.

    ``where`` names the archive in error messages. Member data is skipped. The
    iteration ends at the end-of-archive marker or at a clean end of stream.
    Every numeric field is range-checked here (a negative size, mode, uid or
    mtime is an :class:`ImageFormatError` naming the member and the field), so
    the reader always moves forward and nothing downstream meets such values.
    A global pax header costs O(its keys) once, not once per member.
    """
    # fields and xattrs set by global pax headers (for every later member), and by
    # the extended headers of the next member only
    global_fields: dict[str, str] = {}
    global_xattrs: dict[str, bytes] | None = None
    fields: dict[str, str] = {}
    own_xattrs: dict[str, bytes] | None = None
    pending_ext = False
    long_name: str | None = None
    long_link: str | None = None
    max_ext = limits.max_extended_header_bytes
    max_keys = limits.max_pax_keys
    # xattrs of global headers copied into members that have their own: bounded, so that
    # a global header of many keys before many members costs no more than its size
    inherit_budget = max_keys * 100
    unpack = _HEADER.unpack
    new_header = tuple.__new__
    while True:
        offset = source.tell()
        header = source.read(BLOCK)
        if len(header) < BLOCK:
            if not header and not pending_ext:
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
                own_xattrs = _split_pax(_parse_pax(data, here, max_keys), fields, own_xattrs)
                if own_xattrs is not None and len(own_xattrs) > max_keys:
                    raise LimitExceededError(
                        f"{here}: pax headers of one member carry more than "
                        f"max_pax_keys={max_keys} keys",
                        limit="max_pax_keys",
                    )
                pending_ext = True
            elif typeflag == "g":
                before = global_xattrs
                global_xattrs = _split_pax(
                    _parse_pax(data, here, max_keys), global_fields, global_xattrs
                )
                if before is not None and global_xattrs is not before:
                    inherit_budget -= len(before)  # copied, since members share the old one
                if global_xattrs is not None and len(global_xattrs) > max_keys:
                    raise LimitExceededError(
                        f"{here}: global pax headers carry more than max_pax_keys={max_keys} keys",
                        limit="max_pax_keys",
                    )
            elif typeflag == "L":
                long_name = _text(data)
                pending_ext = True
            else:
                long_link = _text(data)
                pending_ext = True
            continue
        is_gnu = magic_f == b"ustar "
        name = _text(name_f)
        if not is_gnu and prefix_f[0]:
            name = _text(prefix_f) + "/" + name
        sparse = typeflag == "S"
        data_offset = offset + BLOCK
        if sparse and is_gnu and header[482]:
            # old GNU sparse: extension blocks follow the header, before the data
            while True:
                ext = source.read(BLOCK)
                if len(ext) < BLOCK:
                    raise TruncatedBlobError(f"{where}: archive ends inside a sparse header")
                data_offset += BLOCK
                if not ext[504]:
                    break
        linkname = _text(link_f) if link_f[0] else ""
        uname = _cached_text(uname_f)
        gname = _cached_text(gname_f)
        mtime: float = _number(mtime_f, "mtime", where, offset)
        owner = _OWNERS.get(header[100:124])  # mode, uid and gid fields, parsed together
        if owner is None:
            owner = (
                _number(mode_f, "mode", where, offset, False),
                _number(uid_f, "uid", where, offset, False),
                _number(gid_f, "gid", where, offset, False),
            )
            if len(_OWNERS) < _CACHE_LIMIT:
                _OWNERS[header[100:124]] = owner
        mode, uid, gid = owner
        if long_name is not None:
            name = long_name
        if long_link is not None:
            linkname = long_link
        if fields or global_fields:
            meta = {**global_fields, **fields} if global_fields else fields
            name = meta.get("GNU.sparse.name", meta.get("path", name))
            linkname = meta.get("linkpath", linkname)
            uname = meta.get("uname", uname)
            gname = meta.get("gname", gname)
            if "size" in meta:
                size = int(_pax_number(meta, "size", where, offset))
            if "uid" in meta:
                uid = int(_pax_number(meta, "uid", where, offset))
            if "gid" in meta:
                gid = int(_pax_number(meta, "gid", where, offset))
            if "mtime" in meta:
                mtime = _pax_number(meta, "mtime", where, offset)
            if "GNU.sparse.major" in meta or "GNU.sparse.map" in meta:
                sparse = True
        if not (
            0 <= mode <= _MAX_MODE
            and 0 <= uid <= _MAX_U32
            and 0 <= gid <= _MAX_U32
            and _MIN_MTIME <= mtime <= _MAX_MTIME
        ):
            _check_numbers(where, offset, name, mode, uid, gid, mtime)
        xattrs = own_xattrs
        if global_xattrs is not None:
            if xattrs is None:
                xattrs = global_xattrs  # shared, never changed
            else:
                inherit_budget -= len(global_xattrs)
                xattrs = {**global_xattrs, **xattrs}
            if inherit_budget < 0:
                raise LimitExceededError(
                    f"{where} (tar header at offset {offset}): members with their own "
                    f"xattrs inherit more than max_pax_keys*100={max_keys * 100} xattrs "
                    "from global pax headers",
                    limit="max_pax_keys",
                )
        devmajor = devminor = 0
        if typeflag in ("3", "4"):
            devmajor = _number(major_f, "devmajor", where, offset)
            devminor = _number(minor_f, "devminor", where, offset)
            if not (0 <= devmajor <= _MAX_U32 and 0 <= devminor <= _MAX_U32):
                raise _bad_field(
                    where, offset, name, "device number", (devmajor, devminor), "0..2**32-1"
                )
        yield new_header(  # tuple.__new__ itself: NamedTuple's __new__ is a Python frame more
            TarHeader,
            (
                name,
                typeflag,
                mode if mode <= 0o7777 else mode & 0o7777,  # the cached int, not a new one
                uid,
                gid,
                uname,
                gname,
                size,
                mtime,
                linkname,
                devmajor,
                devminor,
                data_offset,
                xattrs,
                sparse,
            ),
        )
        if pending_ext:
            fields = {}
            own_xattrs = None
            long_name = long_link = None
            pending_ext = False
        # hard links, symlinks, dirs, devices and fifos carry no data, whatever size says
        stored = size if typeflag not in ("1", "2", "3", "4", "5", "6") else 0
        if stored and source.skip(stored + (-stored % BLOCK)) < stored:
            raise TruncatedBlobError(
                f"{where}: archive ends inside the data of member {name!r} "
                f"(needs {stored} bytes at offset {data_offset})"
            )
