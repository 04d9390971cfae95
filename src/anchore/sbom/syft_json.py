"""``syft-json``: syft's own JSON document (schema 16.0.18, what syft 1.18.1 writes), so
that tools built on syft's format (grype, ``syft convert``) read ours, and syft's SBOMs
(or ours) read back as an :class:`~anchore.analysis.model.Analysis` (:mod:`.syft_read`).

The shape is syft's, field for field: ``artifacts`` (our packages, with syft's package
type names, which are ours), ``artifactRelationships``, ``files`` (the file inventory,
when the analysis has one), ``source`` (the image), ``distro``, ``descriptor`` and
``schema``. Where syft's shape has no room for what we know, we keep it where syft keeps
free-form values, so that a round trip loses nothing a query or a match needs:

- a location's layer is syft's ``layerID``: the layer's diff_id (syft's choice, not the
  blob digest); the layer index and blob digest come back through ``source.metadata``
  (its ``layers`` in order, and the manifest it embeds). Only when that cannot recover
  them (no layers known, two layers with one diff_id) does the location carry
  ``anchore.layer-index`` / ``anchore.layer-digest`` annotations.
- ``source.metadata.manifest`` and ``config`` are syft's base64 manifest and config,
  *re-encoded from the analysis* (an analysis keeps no image bytes): they describe the
  same layers, platform, config and history, but are not the image's own bytes (syft
  does the same for docker archives, whose manifests it synthesizes).
- a declared package (a lock file's, not installed) carries ``anchore.declared: true``
  on its first location's annotations.
- ``descriptor.configuration`` names the analyzers that ran and whether ``files`` is
  the whole inventory (``files.selection``: ``all``, as syft spells it, or ``none``).

Package metadata is written as syft's ``metadataType`` + ``metadata`` only where it fits
syft's type for the package (dpkg, Python, Go, Java, npm); other ecosystem metadata is
not carried (``anchore-json`` is the lossless format).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import stat
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from cyclonedx import spdx

from anchore.analysis.model import Analysis, FileRecord, Location, Package
from anchore.image.model import ImageInfo
from anchore.limits import Limits
from anchore.plugins import hookimpl
from anchore.sbom.common import TOOL_NAME, tool_version
from anchore.sbom.format import SbomFormat
from anchore.sbom.syft_read import (
    DECLARED,
    FILE_TYPES,
    GO_MODE_TYPE,
    GO_SETGID,
    GO_SETUID,
    GO_STICKY,
    LANGUAGES,
    LAYER_DIGEST,
    LAYER_INDEX,
    RELATIONSHIP_TYPES,
    SCHEMA_URL,
    SCHEMA_VERSION,
    detect_syft_json,
    read_syft_json,
)
from anchore.serialize import plain

__all__ = [
    "SCHEMA_URL",
    "SCHEMA_VERSION",
    "SYFT_JSON",
    "SyftJsonFormat",
    "go_mode",
    "syft_document",
]

_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"


def go_mode(record: FileRecord) -> int:
    """A file's mode as syft writes it: Go's FileMode bits, printed in octal, as a number."""
    mode = GO_MODE_TYPE.get(record.type, 0) | (record.mode & 0o777)
    if record.mode & stat.S_ISUID:
        mode |= GO_SETUID
    if record.mode & stat.S_ISGID:
        mode |= GO_SETGID
    if record.mode & stat.S_ISVTX:
        mode |= GO_STICKY
    return int(f"{mode:o}")


def _short_id(*parts: str) -> str:
    """A stable 16-hex id, as syft's artifact ids look."""
    return hashlib.blake2b("\x00".join(parts).encode(), digest_size=8).hexdigest()


class _Layers:
    """How a location's layer is written: its diff_id, and the annotations that recover it
    when the image's layer list cannot."""

    def __init__(self, image: ImageInfo) -> None:
        self.layers = image.layers or ()
        diff_ids = [layer.diff_id for layer in self.layers]
        self.unique = {d for d in diff_ids if d and diff_ids.count(d) == 1}

    def location(self, loc: Location, annotations: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"path": loc.path}
        notes = dict(annotations or {})
        layer = self.layers[loc.layer_index] if 0 <= loc.layer_index < len(self.layers) else None
        if layer is not None and layer.diff_id:
            out["layerID"] = layer.diff_id
        if layer is None or layer.diff_id not in self.unique:
            notes[LAYER_INDEX] = str(loc.layer_index)
        if layer is None or layer.digest != loc.layer_digest:
            notes[LAYER_DIGEST] = loc.layer_digest
        out["accessPath"] = loc.path
        if notes:
            out["annotations"] = notes
        return out

    def coordinates(self, index: int) -> dict[str, str]:
        layer = self.layers[index] if 0 <= index < len(self.layers) else None
        return {"layerID": layer.diff_id} if layer is not None and layer.diff_id else {}


def _license(value: str) -> dict[str, Any]:
    if spdx.is_supported_id(value):
        expression = spdx.fixup_id(value) or ""
    elif spdx.is_expression(value):
        expression = value
    else:
        expression = ""
    return {"value": value, "spdxExpression": expression, "type": "declared", "urls": [],
            "locations": []}  # fmt: skip


def _metadata(pkg: Package) -> tuple[str, dict[str, Any]] | None:
    """syft's metadataType and metadata for what we know of ``pkg``, where syft's type for
    its ecosystem can hold it (required fields we do not know are syft's empty values)."""
    meta = pkg.metadata
    if pkg.type == "deb":
        return "dpkg-db-entry", {
            "package": pkg.name,
            "source": pkg.source_name or "",
            "version": pkg.version,
            "sourceVersion": pkg.source_version or "",
            "architecture": pkg.architecture or "",
            "maintainer": str(meta.get("maintainer") or ""),
            "installedSize": int(meta.get("installed_size") or 0),
            # dpkg's conffiles are not kept: isConfigFile is not known, so false
            "files": [{"path": p, "isConfigFile": False} for p in pkg.files],
        }
    if pkg.type == "python":
        root = _site_packages(pkg)
        return "python-package", {
            "name": pkg.name,
            "version": pkg.version,
            "author": str(meta.get("author") or ""),
            "authorEmail": str(meta.get("author_email") or ""),
            "platform": "",
            "files": [{"path": _relative(p, root)} for p in pkg.files],
            "sitePackagesRootPath": root,
        }
    if pkg.type == "go-module" and meta.get("go_version"):
        entry: dict[str, Any] = {
            "goCompiledVersion": str(meta["go_version"]),
            "architecture": pkg.architecture or "",
        }
        if meta.get("h1_digest"):
            entry["h1Digest"] = str(meta["h1_digest"])
        if meta.get("main_module"):
            entry["mainModule"] = str(meta["main_module"])
        return "go-module-buildinfo-entry", entry
    if pkg.type == "java-archive":
        entry = {"virtualPath": str(meta.get("virtual_path") or _first_path(pkg))}
        if meta.get("group_id"):
            entry["pomProperties"] = {
                "path": "",
                "name": "",
                "groupId": str(meta["group_id"]),
                "artifactId": pkg.name,
                "version": pkg.version,
            }
        return "java-archive", entry
    if pkg.type == "npm":
        return "javascript-npm-package", {
            "name": pkg.name,
            "version": pkg.version,
            "author": "",
            "homepage": "",
            "description": "",
            "url": "",
            "private": False,
        }
    return None


def _first_path(pkg: Package) -> str:
    return pkg.locations[0].path if pkg.locations else ""


def _site_packages(pkg: Package) -> str:
    """The directory a Python distribution's metadata directory is in (syft's
    ``sitePackagesRootPath``): its files are listed relative to it."""
    path = _first_path(pkg)
    parts = path.split("/")
    for i, part in enumerate(parts):
        if part.endswith((".dist-info", ".egg-info")):
            return "/".join(parts[:i]) or "/"
    return path.rsplit("/", 1)[0] or "/"


def _relative(path: str, root: str) -> str:
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else path  # fmt: skip


def _artifact(pkg: Package, pkg_id: str, layers: _Layers) -> dict[str, Any]:
    locations = []
    for i, loc in enumerate(pkg.locations):
        notes = {"evidence": "primary" if i == 0 else "supporting"}
        if i == 0 and pkg.declared:
            notes[DECLARED] = "true"
        locations.append(layers.location(loc, notes))
    out: dict[str, Any] = {
        "id": pkg_id,
        "name": pkg.name,
        "version": pkg.version,
        "type": pkg.type,
        "foundBy": pkg.found_by,
        "locations": locations,
        "licenses": [_license(v) for v in pkg.licenses],
        "language": LANGUAGES.get(pkg.type, ""),
        "cpes": [{"cpe": c} for c in pkg.cpes],
        "purl": pkg.purl,
    }
    meta = _metadata(pkg)
    if meta is not None:
        out["metadataType"], out["metadata"] = meta
    return out


def _file(record: FileRecord, file_id: str, layers: _Layers) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "mode": go_mode(record),
        "type": FILE_TYPES.get(record.type, "IrregularFile"),
    }
    if record.link_target is not None:
        metadata["linkDestination"] = record.link_target
    metadata.update(userID=record.uid, groupID=record.gid, mimeType="", size=record.size)
    out: dict[str, Any] = {
        "id": file_id,
        "location": {"path": record.path, **layers.coordinates(record.layer_index)},
        "metadata": metadata,
    }
    if record.digests:
        out["digests"] = [{"algorithm": a, "value": v} for a, v in sorted(record.digests.items())]
    return out


def _manifest_type(image: ImageInfo) -> tuple[str, str]:
    docker = any((layer.media_type or "").startswith("application/vnd.docker.")
                 for layer in image.layers or ())  # fmt: skip
    return (_DOCKER_MANIFEST, _DOCKER_CONFIG) if docker else (_OCI_MANIFEST, _OCI_CONFIG)


def _b64(doc: Mapping[str, Any]) -> str:
    text = json.dumps(doc, separators=(",", ":"), default=plain)
    return base64.b64encode(text.encode()).decode()


def _config_doc(image: ImageInfo) -> dict[str, Any]:
    """The image's config as an OCI config, re-encoded from what the analysis keeps."""
    c = image.config
    config: dict[str, Any] = {}
    pairs: list[tuple[str, Any]] = [
        ("User", c.user), ("Env", list(c.env) or None),
        ("Entrypoint", list(c.entrypoint) or None), ("Cmd", list(c.cmd) or None),
        ("WorkingDir", c.working_dir),
        ("ExposedPorts", {p: {} for p in c.exposed_ports} or None),
        ("Volumes", {v: {} for v in c.volumes} or None),
        ("Labels", dict(c.labels) or None),
        ("Healthcheck", dict(c.healthcheck) if c.healthcheck is not None else None),
        ("StopSignal", c.stop_signal), ("Shell", list(c.shell) or None),
        ("OnBuild", list(c.on_build) or None),
    ]  # fmt: skip
    config.update((k, v) for k, v in pairs if v is not None)
    doc: dict[str, Any] = {}
    if image.created is not None:
        doc["created"] = image.created.isoformat().replace("+00:00", "Z")
    if image.author:
        doc["author"] = image.author
    doc["architecture"] = image.architecture
    doc["os"] = image.os
    if image.variant:
        doc["variant"] = image.variant
    doc["config"] = config
    doc["rootfs"] = {"type": "layers", "diff_ids": [x.diff_id for x in image.layers or ()]}
    if image.history is not None:
        history = []
        for h in image.history:
            step: dict[str, Any] = {}
            if h.created is not None:
                step["created"] = h.created.isoformat().replace("+00:00", "Z")
            for key, value in (("created_by", h.created_by), ("author", h.author),
                               ("comment", h.comment)):  # fmt: skip
                if value is not None:
                    step[key] = value
            if h.empty_layer:
                step["empty_layer"] = True
            history.append(step)
        doc["history"] = history
    return doc


def _source(image: ImageInfo) -> dict[str, Any]:
    manifest_type, config_type = _manifest_type(image)
    layers = image.layers or ()
    config = _b64(_config_doc(image))
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_type,
        "config": {
            "mediaType": config_type,
            "digest": image.config_digest,
            "size": len(base64.b64decode(config)),
        },
        "layers": [
            {"mediaType": x.media_type or "", "digest": x.digest, "size": x.size or 0}
            for x in layers
        ],
    }
    digest = image.manifest_digest or image.config_digest
    metadata: dict[str, Any] = {
        "userInput": image.reference or image.source,
        "imageID": image.config_digest,
        "manifestDigest": image.manifest_digest or "",
        "mediaType": manifest_type,
        "tags": list(image.tags),
        "imageSize": image.size or 0,
        "layers": [
            {"mediaType": x.media_type or "", "digest": x.diff_id, "size": x.uncompressed_size or 0}
            for x in layers
        ],
        "manifest": _b64(manifest),
        "config": config,
        "repoDigests": [],
        "architecture": image.architecture if image.architecture != "unknown" else "",
        "os": image.os if image.os != "unknown" else "",
    }
    if image.config.labels:
        metadata["labels"] = dict(image.config.labels)
    return {
        "id": digest.partition(":")[2] or digest,
        "name": image.reference or image.source,
        "version": digest,
        "type": "image",
        "metadata": metadata,
    }


def _distro(analysis: Analysis) -> dict[str, Any]:
    d = analysis.distro
    if d is None:
        return {}
    out: dict[str, Any] = {}
    pairs = (("prettyName", d.pretty_name), ("id", d.id), ("versionID", d.version_id),
             ("versionCodename", d.version_codename), ("cpeName", d.cpe_name))  # fmt: skip
    out.update((k, v) for k, v in pairs if v)
    if d.id_like:
        out["idLike"] = list(d.id_like)
    return out


def _unique_ids(items: Sequence[tuple[str, ...]]) -> list[str]:
    """Stable ids for items (a repeat of an item gets the next free id)."""
    seen: set[str] = set()
    ids = []
    for parts in items:
        candidate, n = _short_id(*parts), 0
        while candidate in seen:
            n += 1
            candidate = _short_id(*parts, str(n))
        seen.add(candidate)
        ids.append(candidate)
    return ids


def syft_document(analysis: Analysis) -> Iterator[tuple[str, Any]]:
    """The syft-json document of ``analysis``, key by key in syft's order (artifacts
    first, schema last): the files are large, so the writer streams them."""
    layers = _Layers(analysis.image)
    pkg_ids = _unique_ids([(p.type, p.name, p.version, p.purl,
                            *(f"{x.path}@{x.layer_index}" for x in p.locations))
                           for p in analysis.packages])  # fmt: skip
    by_purl: dict[str, list[str]] = {}
    for pkg, pkg_id in zip(analysis.packages, pkg_ids, strict=True):
        by_purl.setdefault(pkg.purl, []).append(pkg_id)
    yield (
        "artifacts",
        [_artifact(p, i, layers) for p, i in zip(analysis.packages, pkg_ids, strict=True)],
    )
    files = analysis.files if analysis.files_known else []
    file_ids = _unique_ids([(f.path, str(f.layer_index)) for f in files])
    relationships: list[dict[str, Any]] = []
    # relationships name packages by purl: each is written once, for the first package of
    # the purl (an owner listed twice is two relationships, read back as it was)
    for r in analysis.relationships:
        if r.parent in by_purl and r.child in by_purl:
            relationships.append({"parent": by_purl[r.parent][0], "child": by_purl[r.child][0],
                                  "type": RELATIONSHIP_TYPES.get(r.kind, r.kind)})  # fmt: skip
    for record, file_id in zip(files, file_ids, strict=True):
        for owner in record.owners:
            if owner in by_purl:
                relationships.append({"parent": by_purl[owner][0], "child": file_id,
                                      "type": "contains"})  # fmt: skip
    yield "artifactRelationships", relationships
    if files:
        yield "files", (_file(f, i, layers) for f, i in zip(files, file_ids, strict=True))
    yield "source", _source(analysis.image)
    yield "distro", _distro(analysis)
    yield (
        "descriptor",
        {
            "name": TOOL_NAME,
            "version": tool_version(),
            "configuration": {
                "analyzers": list(analysis.analyzers),
                "failed-analyzers": list(analysis.failed_analyzers),
                # what an analyzer could not read: policy refuses rules on that evidence
                "errors": [error.to_dict() for error in analysis.errors],
                "files": {"selection": "all" if analysis.files_known else "none"},
                "image": {
                    "source": analysis.image.source,
                    "format": analysis.image.format,
                    "reference": analysis.image.reference,
                },
            },
        },
    )
    yield "schema", {"version": SCHEMA_VERSION, "url": SCHEMA_URL}


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=plain)
#: file records encoded per call: one call per record costs more than the encoding
_CHUNK = 512


def write_syft_json(analysis: Analysis, fp: BinaryIO) -> None:
    """Write the syft-json document of ``analysis`` to ``fp``, the file inventory a few
    hundred records at a time (never the whole document in memory)."""
    text = io.TextIOWrapper(fp, encoding="utf-8", newline="\n", write_through=False)
    encode = _ENCODER.encode
    try:
        text.write("{")
        for n, (key, value) in enumerate(syft_document(analysis)):
            text.write(("," if n else "") + encode(key) + ":")
            if key != "files":
                text.write(encode(value))
                continue
            text.write("[")
            chunk: list[Any] = []
            first = True
            for item in value:
                chunk.append(item)
                if len(chunk) == _CHUNK:
                    text.write(("" if first else ",") + encode(chunk)[1:-1])
                    chunk, first = [], False
            if chunk:
                text.write(("" if first else ",") + encode(chunk)[1:-1])
            text.write("]")
        text.write("}\n")
        text.flush()
    finally:
        text.detach()


class SyftJsonFormat:
    """syft's own JSON document, written and read (a plain class: the SbomFormat
    protocol's attributes are settable ones)."""

    name: str = "syft-json"
    description: str = (
        f"syft's JSON document (schema {SCHEMA_VERSION}, syft 1.18.1): grype reads it"
    )
    media_type: str = "application/vnd.syft+json"
    extension: str = ".syft.json"

    def write(self, analysis: Analysis, fp: BinaryIO) -> None:
        write_syft_json(analysis, fp)

    def detect(self, head: bytes) -> bool:
        return detect_syft_json(head)

    def read(self, path: str, fp: BinaryIO, limits: Limits) -> Analysis:
        return read_syft_json(path, fp, limits, origin=f"sbom:{self.name}")


SYFT_JSON = SyftJsonFormat()


@hookimpl
def anchore_sbom_formats() -> Sequence[SbomFormat]:
    return [SYFT_JSON]
