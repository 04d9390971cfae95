"""``anchore-json``: our own analysis JSON (``Analysis.write_json``) as an SBOM format,
and an :class:`~anchore.analysis.model.Analysis` read back from it, equal to the one
written (everything but ``timings``, which is not part of the JSON)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any, BinaryIO

import attrs

from anchore.analysis.model import (
    Analysis,
    Dataset,
    Distro,
    FileChange,
    FileRecord,
    Finding,
    Location,
    Package,
    PackageChange,
    Relationship,
)
from anchore.errors import ImageFormatError
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.plugins import hookimpl
from anchore.sbom.common import Fields, analyzer_errors, load_sbom_json, read_bounded
from anchore.sbom.errors import SbomFormatError
from anchore.sbom.format import SbomFormat

__all__ = [
    "ANCHORE_JSON",
    "AnchoreJsonFormat",
    "analysis_from_dict",
    "distro_from_dict",
    "package_from_dict",
]


def _locations(f: Fields, key: str = "locations") -> tuple[Location, ...]:
    out = []
    for loc in f.objects(key) or ():
        index = loc.integer("layer_index")
        out.append(Location(loc.required_text("path"), -1 if index is None else index,
                            loc.text("layer_digest") or ""))  # fmt: skip
    return tuple(out)


def _mapping(f: Fields, key: str) -> dict[str, Any]:
    value = f.raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise f.error(key, "is not an object")
    return value


def package_from_dict(f: Fields) -> Package:
    """The :class:`Package` whose ``to_dict()`` is ``f`` (also SPDX's ``anchore:package=``
    annotation, which carries it whole)."""
    return Package(
        type=f.required_text("type"),
        name=f.required_text("name"),
        version=f.text("version") or "",
        purl=f.text("purl") or "",
        locations=_locations(f),
        licenses=f.strings("licenses"),
        cpes=f.strings("cpes"),
        source_name=f.text("source_name"),
        source_version=f.text("source_version"),
        architecture=f.text("architecture"),
        files=f.strings("files"),
        metadata=_mapping(f, "metadata"),
        found_by=f.text("found_by") or "",
        declared=f.flag("declared"),
    )


def _finding(f: Fields) -> Finding:
    return Finding(
        kind=f.required_text("kind"),
        rule=f.text("rule") or "",
        message=f.text("message") or "",
        locations=_locations(f),
        line=f.integer("line"),
        severity=f.text("severity") or "info",
        data=_mapping(f, "data"),
        found_by=f.text("found_by") or "",
    )


def _mode(f: Fields) -> int:
    text = f.required_text("mode")
    try:
        return int(text, 8)
    except ValueError:
        raise f.error("mode", f"is {text!r}, not an octal mode") from None


def _file(f: Fields) -> FileRecord:
    digests = _mapping(f, "digests")
    if not all(isinstance(v, str) for v in digests.values()):
        raise f.error("digests", "must map names to strings")
    return FileRecord(
        path=f.required_text("path"),
        type=f.required_text("type"),
        mode=_mode(f),
        uid=f.integer("uid") or 0,
        gid=f.integer("gid") or 0,
        size=f.integer("size") or 0,
        layer_index=_required_int(f, "layer_index"),
        link_target=f.text("link_target"),
        owners=f.strings("owners"),
        digests=digests,
    )


def _required_int(f: Fields, key: str) -> int:
    value = f.integer(key)
    if value is None:
        raise f.error(key, "is missing")
    return value


def distro_from_dict(f: Fields) -> Distro:
    """The :class:`Distro` whose ``to_dict()`` is ``f`` (also SPDX's ``anchore:distro=``)."""
    return Distro(
        id=f.required_text("id"),
        version_id=f.text("version_id"),
        version_codename=f.text("version_codename"),
        pretty_name=f.text("pretty_name"),
        id_like=f.strings("id_like"),
        cpe_name=f.text("cpe_name"),
        locations=_locations(f),
    )


def _changes(f: Fields, key: str, make: Any) -> list[Any] | None:
    items = f.objects(key)
    return None if items is None else [make(c) for c in items]


def _file_change(f: Fields) -> FileChange:
    return FileChange(_required_int(f, "layer_index"), f.required_text("path"),
                      f.required_text("change"), f.required_text("type"),
                      f.integer("size") or 0)  # fmt: skip


def _package_change(f: Fields) -> PackageChange:
    return PackageChange(_required_int(f, "layer_index"), f.required_text("type"),
                         f.required_text("name"), f.text("version") or "",
                         f.required_text("change"))  # fmt: skip


def analysis_from_dict(
    raw: Any, path: str = "the analysis", *, origin: str | None = None
) -> Analysis:
    """The :class:`Analysis` whose ``to_dict()`` is ``raw``; a malformed value is an
    :class:`SbomFormatError` naming ``path`` and the JSON path of the value.
    ``origin`` overrides the one recorded (a read-back SBOM says where it came from)."""
    f = Fields(path, raw)
    schema = f.text("schema")
    if schema != Analysis.schema:
        raise f.error("schema", f"is {schema!r}, not {Analysis.schema!r}")
    image = f.object("image")
    try:
        info = ImageInfo.from_dict(image.raw if image else {}, f"{path}: $.image")
    except ImageFormatError as exc:
        raise SbomFormatError(str(exc), source=path) from None
    datasets: dict[str, Dataset] = {}
    raw_sets = f.object("datasets")
    for name, value in (raw_sets.raw if raw_sets else {}).items():
        d = Fields(path, value, f"$.datasets.{name}")
        datasets[name] = Dataset(d.text("name") or name, d.raw.get("value"), _locations(d))
    return Analysis(
        image=info,
        distro=distro_from_dict(distro) if (distro := f.object("distro")) else None,
        packages=[package_from_dict(p) for p in f.objects("packages") or ()],
        findings=[_finding(x) for x in f.objects("findings") or ()],
        files=[_file(x) for x in f.objects("files") or ()],
        errors=analyzer_errors(f.objects("errors")),
        relationships=[
            Relationship(
                r.required_text("parent"),
                r.required_text("child"),
                r.text("kind") or "owns-evidence",
            )
            for r in f.objects("relationships") or ()
        ],
        datasets=datasets,
        analyzers=f.strings("analyzers"),
        failed_analyzers=f.strings("failed_analyzers"),
        origin=origin or f.text("origin") or "image",
        # a JSON written without its inventory (``--json`` without ``--files``) lists none
        files_known=f.flag("files_known", True) and "files" in f.raw,
        layer_changes=_changes(f, "layer_changes", _file_change),
        package_changes=_changes(f, "package_changes", _package_change),
    )


@attrs.define
class AnchoreJsonFormat:
    """Our analysis JSON, the one format that keeps everything an analysis knows."""

    name: str = "anchore-json"
    description: str = "anchore's own analysis JSON (anchore analyze --json --files): lossless"
    media_type: str = "application/vnd.anchore.analysis+json"
    extension: str = ".anchore.json"

    def write(self, analysis: Analysis, fp: BinaryIO) -> None:
        text = io.TextIOWrapper(fp, encoding="utf-8", newline="\n", write_through=True)
        try:
            analysis.write_json(text)
            text.write("\n")
            text.flush()
        finally:
            text.detach()

    def detect(self, head: bytes) -> bool:
        start = head.lstrip()[:200]
        return start.startswith(b"{") and b'"schema"' in start and b'"anchore.analysis/' in start

    def read(self, path: str, fp: BinaryIO, limits: Limits) -> Analysis:
        doc = load_sbom_json(path, read_bounded(path, fp, limits), limits)
        return analysis_from_dict(doc, path, origin=f"sbom:{self.name}")


ANCHORE_JSON = AnchoreJsonFormat()


@hookimpl
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    return [ANCHORE_JSON]
