"""Zip archives opened within ``Limits.max_archive_entries``.

:class:`zipfile.ZipFile` builds a ``ZipInfo`` (some hundreds of bytes) for every
entry of the central directory as it opens the archive: a 64 MiB jar can list
1.4 million entries, each level of nesting as many again. :func:`open_zip` counts
them first, from the end-of-central-directory record (zip64 included) and then
from the directory itself (zipfile parses the ``size_cd`` bytes just before that
record whatever count it states, and every entry starts with the central
directory signature: counting the signatures there, in C, bounds what zipfile
would build), and refuses the archive past the limit before zipfile reads it.
"""

from __future__ import annotations

import struct
import zipfile
from typing import IO

from anchore.errors import LimitExceededError
from anchore.limits import Limits

__all__ = ["directory_entries", "open_zip"]

_EOCD = struct.Struct("<4s4H2LH")  # signature, disks, entries here/total, size, offset, ...
_EOCD_SIG = b"PK\x05\x06"
_LOCATOR = struct.Struct("<4sLQL")  # zip64 locator: signature, disk, offset, disks
_LOCATOR_SIG = b"PK\x06\x07"
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # zip64 record: ..., entries here/total, size, offset
_EOCD64_SIG = b"PK\x06\x06"
_ENTRY_SIG = b"PK\x01\x02"
_CHUNK = 1 << 20


def directory_entries(fh: IO[bytes]) -> tuple[int, int, int]:
    """(entries stated, start of the central directory, its size), found as zipfile finds
    them (the last end record in the final 64 KiB; a zip64 record just before it).

    Raises :class:`zipfile.BadZipFile` when there is no end record.
    """
    end = fh.seek(0, 2)
    tail_start = max(0, end - _EOCD.size - 0xFFFF)
    fh.seek(tail_start)
    tail = fh.read(end - tail_start)
    if tail[-_EOCD.size :].startswith(_EOCD_SIG) and tail.endswith(b"\0\0"):
        at = len(tail) - _EOCD.size  # no comment: zipfile's first guess
    else:
        at = tail.rfind(_EOCD_SIG)
        if at < 0 or len(tail) - at < _EOCD.size:
            raise zipfile.BadZipFile("File is not a zip file")
    record = _EOCD.unpack_from(tail, at)
    entries, size = record[4], record[5]
    location = tail_start + at  # where the end record starts
    directory_end = location
    if location >= _LOCATOR.size + _EOCD64.size:
        fh.seek(location - _LOCATOR.size - _EOCD64.size)
        head = fh.read(_EOCD64.size + _LOCATOR.size)
        if len(head) == _EOCD64.size + _LOCATOR.size and head[_EOCD64.size :].startswith(
            _LOCATOR_SIG
        ):
            zip64 = _EOCD64.unpack_from(head)
            if zip64[0] == _EOCD64_SIG:
                entries, size = zip64[7], zip64[8]
                directory_end = location - _LOCATOR.size - _EOCD64.size
    return entries, max(0, directory_end - size), size


def _signatures(fh: IO[bytes], start: int, size: int) -> int:
    """How many central directory entry signatures ``size`` bytes from ``start`` hold,
    read a chunk at a time (a signature across two chunks counted once)."""
    fh.seek(start)
    count, left, carry = 0, size, b""
    while left > 0:
        chunk = fh.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        data = carry + chunk
        count += data.count(_ENTRY_SIG)
        carry = data[-(len(_ENTRY_SIG) - 1) :]  # too short to hold a whole signature
    return count


def open_zip(
    fh: IO[bytes], name: str, limits: Limits, held: int = 0
) -> tuple[zipfile.ZipFile, int]:
    """``fh`` opened as a zip archive, and how many entries it lists, once they are known
    to be within ``limits.max_archive_entries`` together with the ``held`` entries of
    the archives it is inside (the ZipInfos held at once).

    Raises :class:`LimitExceededError` (``limit="max_archive_entries"``, naming
    ``name``) past it, before zipfile parses the directory.
    """
    most = limits.max_archive_entries
    stated, start, size = directory_entries(fh)
    count = stated
    if stated + held <= most:
        count = _signatures(fh, start, size)  # what zipfile would build, whatever it states
    if count + held > most:
        inside = f" (with the {held} of the archives it is inside)" if held else ""
        raise LimitExceededError(
            f"{name}: not read: its directory lists {count} members{inside}, more than "
            f"Limits.max_archive_entries ({most})",
            limit="max_archive_entries",
            member=name,
        )
    fh.seek(0)
    return zipfile.ZipFile(fh), count
