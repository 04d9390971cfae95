"""Bounds on what an image may make the library do.

Hostile or broken images must never exhaust memory, disk or time. Every bound
lives here, with a default generous enough for real images; pass your own
``Limits`` to :func:`anchore.open_image` to tighten or loosen them.
"""

from __future__ import annotations

import attrs

from anchore.errors import InvalidLimitError

__all__ = ["Limits"]

_KIB = 1024
_MIB = 1024 * _KIB
_GIB = 1024 * _MIB


#: fields that may be fractional
_FLOATS = ("max_compression_ratio", "max_query_seconds", "max_analyzer_seconds")

#: fields where 0 would stop all work or divide by zero
_POSITIVE = ("max_compression_ratio", "gzip_checkpoint_interval")


@attrs.frozen
class Limits:
    """Configurable limits; exceeding one raises :class:`anchore.errors.LimitExceededError`.

    Every field is a whole number of at least 0 (``max_compression_ratio`` and the
    ``*_seconds`` fields may be fractional; ``max_compression_ratio`` and
    ``gzip_checkpoint_interval`` are above 0); anything else raises
    :class:`anchore.errors.InvalidLimitError` here, not a ``TypeError`` deep
    inside a layer read.
    """

    #: Largest manifest, index or config JSON document we parse.
    max_json_bytes: int = 16 * _MIB
    #: Deepest nesting of arrays and objects in one of those documents.
    max_json_depth: int = 64
    #: Most layers in one image.
    max_layers: int = 1000
    #: How deep image indexes may nest inside each other.
    max_index_depth: int = 8
    #: Most descriptors read across an index and the indexes it nests, a blob
    #: named twice counted twice (a fan-out of reused indexes is a bomb too).
    max_index_manifests: int = 10_000
    #: Largest uncompressed size of one layer.
    max_layer_bytes: int = 64 * _GIB
    #: Most tar members in one layer.
    max_layer_entries: int = 20_000_000
    #: Most tar members squashed across all the layers of one image, a layer whose
    #: blob is named twice counted twice (squashing costs ~1.5 us a member: ~45 s).
    max_image_entries: int = 30_000_000
    #: Largest uncompressed/compressed ratio of a layer, checked once the layer
    #: has produced ``ratio_check_after_bytes``; catches decompression bombs early.
    max_compression_ratio: float = 1000.0
    ratio_check_after_bytes: int = 256 * _MIB
    #: Longest path (and link target) accepted in a layer, in bytes.
    max_path_bytes: int = 4096
    #: Largest pax extended header or GNU long name record.
    max_extended_header_bytes: int = 1 * _MIB
    #: Most keys in one pax extended header (per member or global).
    max_pax_keys: int = 10_000
    #: Most whiteouts (``.wh.`` members, opaque markers included) in one layer.
    max_whiteouts_per_layer: int = 1_000_000
    #: Most symlinks followed while resolving one path (Linux allows 40).
    max_symlink_follows: int = 40
    #: Largest file :meth:`anchore.Image.read_bytes` returns in one piece
    #: (``Image.open`` streams any size).
    max_read_bytes: int = 1 * _GIB
    #: Largest decompressed outer archive (a ``docker save | gzip`` file) we spool, and
    #: the most an image's inflated compressed layers may take in the spool that lets
    #: every later read skip inflating them again (0: no layer spool; see docs/image.md).
    max_spool_bytes: int = 256 * _GIB
    #: Most lines in one text file an analyzer parses (dpkg status, METADATA...).
    max_text_lines: int = 10_000_000
    #: Longest line in such a file, in bytes.
    max_line_bytes: int = 1 * _MIB
    #: Most records in one package database (dpkg status, rpmdb, apk installed...).
    max_db_records: int = 1_000_000
    #: Most rows one query of an image's SQLite database (rpmdb.sqlite) may return.
    max_query_rows: int = 1_000_000
    #: Longest one query of an image's SQLite database may run, in seconds.
    max_query_seconds: float = 60.0
    #: Deepest nesting of archives inside archives (a jar in a war in an ear).
    max_archive_depth: int = 5
    #: Most archives (outer and nested) one analyzer opens in one analysis.
    max_archives_opened: int = 50_000
    #: Most members one archive (a jar, a wheel) may list in its directory, counting
    #: those of the archives it is nested in (the ZipInfos held at once).
    max_archive_entries: int = 1_000_000
    #: Most bytes of file content the shared prefetch pass keeps at once.
    max_prefetch_bytes: int = 512 * _MIB
    #: Longest one analyzer may run on one image, in seconds (checked between
    #: files and records; past it the analyzer's remaining files are errors).
    max_analyzer_seconds: float = 900.0
    #: Distance, in uncompressed bytes, between the restart points we keep for
    #: gzip layers: smaller means faster random reads and more memory.
    gzip_checkpoint_interval: int = 1 * _MIB

    def __attrs_post_init__(self) -> None:
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            floats = field.name in _FLOATS
            kinds = (int, float) if floats else (int,)
            if isinstance(value, bool) or not isinstance(value, kinds):
                kind = "a number" if floats else "a whole number"
                raise InvalidLimitError(f"Limits.{field.name} is {value!r}, not {kind}")
            least = "above 0" if field.name in _POSITIVE else "0 or more"
            if value < 0 or (value == 0 and field.name in _POSITIVE):
                raise InvalidLimitError(f"Limits.{field.name} is {value!r}; it must be {least}")
