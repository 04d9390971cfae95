"""How the catalog stores a document: JSON, zstd-compressed, with the JSON's sha256."""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import attrs
import zstandard

from anchore.analysis.model import Analysis

__all__ = ["analysis_blob", "compress_json", "decompress", "sha256", "summary_of"]

#: zstd level 3: most of level 19's ratio on analysis JSON, at a fraction of the time
_LEVEL = 3


def sha256(data: bytes) -> str:
    """``sha256:<hex>`` of ``data``: what a stored blob is checked against when read."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def analysis_blob(analysis: Analysis) -> tuple[bytes, str]:
    """The analysis JSON (``Analysis.write_json``) compressed, and the JSON's sha256."""
    text = io.StringIO()
    analysis.write_json(text)
    data = text.getvalue().encode("utf-8")
    return zstandard.ZstdCompressor(level=_LEVEL).compress(data), sha256(data)


def summary_of(analysis: Analysis) -> Analysis:
    """The analysis without its file inventory and layer changes (``files_known`` False,
    ``layer_changes`` None: queries of them are unanswerable, never empty): the tenth of
    it that matching reads, stored beside the whole so a rematch parses that tenth."""
    return attrs.evolve(analysis, files=[], files_known=False, layer_changes=None)


def compress_json(value: Any) -> bytes:
    """``value`` as canonical JSON (sorted keys, no spaces), zstd-compressed."""
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return zstandard.ZstdCompressor(level=_LEVEL).compress(data)


def decompress(blob: bytes) -> bytes:
    """The stored bytes back; a zstd error (a damaged blob) propagates as ZstdError."""
    return zstandard.ZstdDecompressor().decompress(blob)
