"""SBOMs out and in: CycloneDX, SPDX and syft-json from an analysis, and an analysis
back from any of them.

::

    import anchore.sbom
    anchore.sbom.write(result, "cyclonedx-json", "image.cdx.json")
    again = anchore.sbom.read("image.cdx.json")       # an Analysis: query, match, evaluate

Formats are plugins (the ``anchore_sbom_formats`` hook), ours registered like any
other. Reading sniffs the file's head, so any SBOM we read can stand in for the
image it describes: ``anchore vulns sbom.cdx.json``.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, BinaryIO

from anchore.documents import did_you_mean
from anchore.errors import AnchoreError
from anchore.limits import Limits
from anchore.plugins import Registry, default_registry
from anchore.sbom.common import load_sbom_json, read_bounded
from anchore.sbom.errors import SbomError, SbomFormatError, UnknownSbomFormatError
from anchore.sbom.format import HEAD_BYTES, SbomFormat

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis

__all__ = [
    "UTF8_BOM",
    "SbomError",
    "SbomFormat",
    "SbomFormatError",
    "UnknownSbomFormatError",
    "dumps",
    "find",
    "formats",
    "read",
    "sniff",
    "write",
]


def formats(registry: Registry | None = None) -> list[SbomFormat]:
    """Every registered SBOM format, ours first."""
    return (registry or default_registry()).sbom_formats()


def find(name: str, registry: Registry | None = None) -> SbomFormat:
    """The format of that name, or :class:`UnknownSbomFormatError` naming the closest."""
    known = {f.name: f for f in formats(registry)}
    if name not in known:
        raise UnknownSbomFormatError(
            f"no SBOM format named {name!r}{did_you_mean(name, known)}; "
            f"the formats: {', '.join(known)}"
        )
    return known[name]


def write(
    analysis: Analysis,
    format: str,
    to: str | os.PathLike[str] | BinaryIO,
    *,
    registry: Registry | None = None,
) -> None:
    """Write ``analysis`` as an SBOM in ``format`` to a path or a binary file.

    A path is written whole or not at all: the SBOM goes to a temporary file
    beside it, renamed into place when complete.
    """
    fmt = find(format, registry)
    if not isinstance(to, str | os.PathLike):
        fmt.write(analysis, to)
        return
    target = os.fspath(to)
    partial = f"{target}.partial-{os.getpid()}"
    try:
        with open(partial, "wb") as fh:
            fmt.write(analysis, fh)
        os.replace(partial, target)
    except OSError as exc:
        raise SbomError(f"{target}: cannot write the SBOM: {exc.strerror or exc}",
                        source=target) from None  # fmt: skip
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def dumps(analysis: Analysis, format: str, *, registry: Registry | None = None) -> bytes:
    """The SBOM in ``format``, as bytes."""
    buffer = io.BytesIO()
    find(format, registry).write(analysis, buffer)
    return buffer.getvalue()


def _head(path: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(HEAD_BYTES)
    except FileNotFoundError:
        raise SbomError(f"{path}: no such file", source=path) from None
    except OSError as exc:
        raise SbomError(f"{path}: cannot read: {exc.strerror or exc}", source=path) from None


#: a UTF-8 byte order mark, which some tools write before JSON or XML
UTF8_BOM = b"\xef\xbb\xbf"


def _keys_first(name: str, limits: Limits) -> bytes:
    """The JSON document at ``name`` written again with its small top-level values first
    (``bomFormat``, ``spdxVersion``, ``schema``), lists last: the head a detector expects,
    whatever order the keys came in (``jq -S``). Empty when it is no JSON object."""
    try:
        with open(name, "rb") as fh:
            data = read_bounded(name, fh, limits).removeprefix(UTF8_BOM)
        doc = load_sbom_json(name, data, limits)
    except SbomFormatError:
        return b""
    if not isinstance(doc, dict):
        return b""
    small = sorted(
        ((k, v) for k, v in doc.items() if not isinstance(v, list)),
        key=lambda kv: len(json.dumps(kv[1], default=str)),
    )
    ordered = dict(small + [(k, v) for k, v in doc.items() if isinstance(v, list)])
    return json.dumps(ordered, default=str).encode()[:HEAD_BYTES]


def sniff(
    path: str | os.PathLike[str],
    *,
    registry: Registry | None = None,
    limits: Limits | None = None,
) -> SbomFormat | None:
    """The format of the SBOM at ``path``, or None when it is no SBOM we read
    (a directory, an image archive). A byte order mark is skipped; a JSON object no
    format knows from its head is recognised from its top-level keys, read whole
    (within ``limits``)."""
    name = os.fspath(path)
    if not os.path.isfile(name):
        return None
    head = _head(name).removeprefix(UTF8_BOM)
    known = formats(registry)
    found = next((f for f in known if f.detect(head)), None)
    if found is None and head.lstrip().startswith(b"{"):
        again = _keys_first(name, limits or Limits())
        found = next((f for f in known if again and f.detect(again)), None)
    return found


def read(
    path: str | os.PathLike[str],
    *,
    format: str | None = None,
    registry: Registry | None = None,
    limits: Limits | None = None,
) -> Analysis:
    """The analysis an SBOM file describes, its format sniffed unless named.

    A file in no format we read, or malformed for its format, is an
    :class:`SbomFormatError` naming the file (and the place in it).
    """
    name = os.fspath(path)
    fmt = find(format, registry) if format else sniff(name, registry=registry, limits=limits)
    if fmt is None:
        if not os.path.exists(name):
            raise SbomError(f"{name}: no such file", source=name)
        known: Sequence[str] = [f.name for f in formats(registry)]
        raise SbomFormatError(
            f"{name}: not an SBOM anchore reads (the formats: {', '.join(known)})", source=name
        )
    try:
        with open(name, "rb") as fh:
            return fmt.read(name, fh, limits or Limits())
    except AnchoreError:
        raise
    except OSError as exc:
        raise SbomError(f"{name}: cannot read: {exc.strerror or exc}", source=name) from None
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        # a value a format's reader let through to a constructor (a purl, a version):
        # still this file's fault, named as such, not an internal error
        raise SbomFormatError(
            f"{name}: malformed {fmt.name}: {type(exc).__name__}: {exc}", source=name
        ) from exc
