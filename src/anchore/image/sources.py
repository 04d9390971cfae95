"""Where an image's files live: a directory, or a tar archive we never extract.

Both kinds answer the same questions: does a name exist, where are its bytes
(a :class:`BlobRef`), and what JSON does it hold. Names are resolved inside
the source only; a name that escapes it is an :class:`UnsafeImageError`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import zstandard

from anchore.errors import (
    ImageFormatError,
    LimitExceededError,
    MissingBlobError,
    TruncatedBlobError,
    UnsafeImageError,
)
from anchore.image.blobs import BlobRef
from anchore.image.compression import Compression, inflate, sniff
from anchore.image.filetree import normalize_path
from anchore.image.schema import Shape, load_document
from anchore.image.tarstream import FileSource, iter_headers
from anchore.limits import Limits

__all__ = ["ArchiveSource", "DirectorySource", "Source", "open_source"]

#: what the zstd reader takes from the file at a time (small: the ratio check counts it)
_ZSTD_READ = 64 * 1024


class Source:
    """A container of named files (the image's layout)."""

    #: how to name the source in messages
    label: str

    def exists(self, name: str) -> bool:
        raise NotImplementedError  # pragma: no cover - abstract

    def blob(self, name: str) -> BlobRef:
        raise NotImplementedError  # pragma: no cover - abstract

    def close(self) -> None:
        """Release what the source holds (temporary files)."""

    def fetch(self, names: Sequence[str]) -> None:
        """Get ready to serve ``names`` (the layers a reader is about to ask for): a
        registry downloads them in parallel here; files on disk need nothing."""

    def read_bytes(self, name: str, limits: Limits) -> bytes:
        ref = self.blob(name)
        if ref.size > limits.max_json_bytes:
            raise LimitExceededError(
                f"{ref.name}: {ref.size} bytes exceeds max_json_bytes={limits.max_json_bytes}",
                limit="max_json_bytes",
                source=self.label,
                member=name,
            )
        with ref.open() as fh:
            data = fh.read()
        if len(data) != ref.size:
            raise TruncatedBlobError(f"{ref.name}: truncated ({len(data)} of {ref.size} bytes)")
        return data

    def read_document(self, name: str, limits: Limits, shape: Shape) -> Any:
        """A JSON document of the layout, parsed within the limits and checked against ``shape``."""
        return load_document(self.read_bytes(name, limits), f"{self.label}!{name}", limits, shape)


def _clean_name(name: str, where: str) -> str:
    try:
        return normalize_path(name)[1:]
    except UnsafeImageError:
        raise UnsafeImageError(f"{where}: {name!r} points outside the image", member=name) from None


class DirectorySource(Source):
    """An OCI image layout on disk."""

    def __init__(self, path: str) -> None:
        self.root = os.path.realpath(path)
        self.label = path

    def _path(self, name: str) -> str:
        clean = _clean_name(name, self.label)
        full = os.path.realpath(os.path.join(self.root, clean))
        if full != self.root and not full.startswith(self.root + os.sep):
            raise UnsafeImageError(
                f"{self.label}: {name!r} resolves outside the image directory", member=name
            )
        return full

    def exists(self, name: str) -> bool:
        return os.path.isfile(self._path(name))

    def blob(self, name: str) -> BlobRef:
        full = self._path(name)
        if not os.path.isfile(full):
            raise MissingBlobError(
                f"{self.label}: {name} is missing", source=self.label, member=name
            )
        return BlobRef(full, 0, os.path.getsize(full), f"{self.label}/{name}")


class ArchiveSource(Source):
    """A tar archive (docker save, OCI archive), indexed once; members are read in place."""

    def __init__(self, path: str, limits: Limits, label: str | None = None) -> None:
        self.path = path
        self.label = label or path
        self._members: dict[str, tuple[str, int, int, str]] = {}
        size = os.path.getsize(path)
        with FileSource(path, 0, size) as archive:
            for h in iter_headers(archive, self.label, limits):
                name = _clean_name(h.name, self.label)
                if h.typeflag in ("0", "\0", "7"):
                    self._members[name] = ("file", h.data_offset, h.size, "")
                elif h.typeflag in ("1", "2"):
                    kind = "hardlink" if h.typeflag == "1" else "symlink"
                    self._members[name] = (kind, 0, 0, h.linkname)
        for name, (_kind, offset, length, _link) in self._members.items():
            if _kind == "file" and offset + length > size:
                raise TruncatedBlobError(f"{self.label}: member {name} is truncated")

    def names(self) -> list[str]:
        return list(self._members)

    def _resolve(self, name: str) -> tuple[str, int, int]:
        clean = _clean_name(name, self.label)
        for _ in range(40):
            member = self._members.get(clean)
            if member is None:
                raise MissingBlobError(
                    f"{self.label}: {name} is missing", source=self.label, member=name
                )
            kind, offset, size, link = member
            if kind == "file":
                return clean, offset, size
            base = "" if kind == "hardlink" or link.startswith("/") else clean.rpartition("/")[0]
            clean = _clean_name(f"{base}/{link}" if base else link, self.label)
        raise UnsafeImageError(f"{self.label}: {name}: link loop inside the archive", member=name)

    def exists(self, name: str) -> bool:
        try:
            self._resolve(name)
        except MissingBlobError:
            return False
        return True

    def blob(self, name: str) -> BlobRef:
        clean, offset, size = self._resolve(name)
        return BlobRef(self.path, offset, size, f"{self.label}!{clean}")


class _SpooledArchive(ArchiveSource):
    """A compressed archive (``docker save | gzip``), decompressed into a temporary file we own."""

    def __init__(self, path: str, compression: Compression, limits: Limits) -> None:
        self._tmpdir = tempfile.mkdtemp(prefix="anchore-")
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
        spooled = os.path.join(self._tmpdir, "archive.tar")
        try:
            _decompress_file(path, spooled, compression, limits)
            super().__init__(spooled, limits, label=path)
        except BaseException:
            self._cleanup()
            raise

    def close(self) -> None:
        self._cleanup()


def _decompress_file(src: str, dst: str, compression: Compression, limits: Limits) -> None:
    """Inflate ``src`` into ``dst``, bounded as a layer is: a bomb stops before the disk fills.

    The output may take at most ``max_spool_bytes`` and half the free space of the
    temporary directory, and once past ``ratio_check_after_bytes`` at most
    ``max_compression_ratio`` times the compressed bytes read so far.
    """
    budget = min(limits.max_spool_bytes, shutil.disk_usage(os.path.dirname(dst)).free // 2)
    ratio, check_after = limits.max_compression_ratio, limits.ratio_check_after_bytes
    written = 0
    read = [0]  # compressed bytes the decompressor has consumed
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        if compression is Compression.GZIP:
            chunks = _gzip_chunks(fin, src, read)
        else:
            chunks = _zstd_chunks(fin, src, read)
        for out in chunks:
            written += len(out)
            if written > budget:
                whole = budget == limits.max_spool_bytes
                raise LimitExceededError(
                    f"{src}: decompresses to more than "
                    + (
                        f"max_spool_bytes={limits.max_spool_bytes}"
                        if whole
                        else f"half the free space of the temporary directory ({budget} bytes; "
                        f"max_spool_bytes={limits.max_spool_bytes})"
                    ),
                    limit="max_spool_bytes",
                    source=src,
                )
            if written > check_after and written > ratio * max(read[0], 1):
                raise LimitExceededError(
                    f"{src}: compression ratio above max_compression_ratio={ratio} after "
                    f"{written} bytes (decompression bomb?)",
                    limit="max_compression_ratio",
                    source=src,
                )
            fout.write(out)


def _gzip_chunks(fin: Any, where: str, read: list[int]) -> Iterator[bytes]:
    def raw() -> Iterator[bytes]:
        while chunk := fin.read(1 << 20):
            yield chunk

    def progress(consumed: int, _d: Any, _fresh: bool) -> None:
        read[0] = consumed

    return inflate(raw(), zlib.decompressobj(31), where, progress)


def _zstd_chunks(fin: Any, where: str, read: list[int]) -> Iterator[bytes]:
    reader = zstandard.ZstdDecompressor().stream_reader(
        fin, read_size=_ZSTD_READ, read_across_frames=True
    )
    try:
        while out := reader.read(1 << 20):
            read[0] = fin.tell()
            yield out
    except zstandard.ZstdError as exc:
        raise TruncatedBlobError(f"{where}: corrupt zstd stream: {exc}") from None


def open_source(path: str, limits: Limits) -> Source:
    """A :class:`Source` for a directory, a tar archive, or a compressed tar archive."""
    if os.path.isdir(path):
        return DirectorySource(path)
    with open(path, "rb") as fh:
        head = fh.read(512)
    compression = sniff(head)
    if compression is not Compression.NONE:
        return _SpooledArchive(path, compression, limits)
    is_tar = len(head) == 512 and (head[257:262] == b"ustar" or head.count(0) == 512)
    if not is_tar and not _looks_like_v7_tar(head):
        raise ImageFormatError(
            f"{path}: not an image (neither a directory, a tar archive nor a compressed one)",
            source=path,
        )
    return ArchiveSource(path, limits)


def _looks_like_v7_tar(head: bytes) -> bool:
    """Old-style tar headers lack the ustar magic; their checksum still adds up."""
    if len(head) < 512:
        return False
    try:
        stored = int(head[148:156].split(b"\0", 1)[0].strip() or b"-1", 8)
    except ValueError:
        return False
    return stored == sum(head[:148]) + 256 + sum(head[156:])
