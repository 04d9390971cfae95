"""syft-json's vocabulary (the schema version, syft's names for file types and modes,
the annotations we add) and the reader: a syft-json document, ours or syft's own, as an
:class:`~anchore.analysis.model.Analysis` (the writer is :mod:`anchore.sbom.syft_json`).

What syft's document says maps onto the analysis as follows: an artifact is a package
(syft's type names are ours), a location's ``layerID`` (a diff_id) is the layer of that
index in ``source.metadata.layers``, whose blob digest the embedded manifest gives;
``ownership-by-file-overlap`` is our ``owns-evidence``, and ``contains`` from a package to
a file makes the package an owner of that file. The image's config, history and platform
come from the embedded config. Syft's other relationships (``dependency-of``,
``evident-by``) have no counterpart here and are not read.

The file inventory is only known whole when the document says it lists every file
(``descriptor.configuration.files.selection`` is ``all``, as we write it): syft's
default lists only the files packages own, so its files are kept but ``files_known`` is
False (file queries are then unanswerable, not answered from part of the image).
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import stat
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

from anchore.analysis.model import (
    Analysis,
    Distro,
    FileRecord,
    Location,
    Package,
    Relationship,
)
from anchore.documents import load_json
from anchore.errors import ImageFormatError
from anchore.image.model import (
    ContainerConfig,
    HistoryEntry,
    ImageInfo,
    LayerInfo,
    Platform,
    parse_created,
)
from anchore.limits import Limits
from anchore.sbom.common import (
    TOOL_NAME,
    Fields,
    analyzer_errors,
    imported_analysis,
    load_sbom_json,
    namespace_metadata,
    read_bounded,
)
from anchore.sbom.errors import SbomFormatError

__all__ = [
    "DECLARED",
    "FILE_TYPES",
    "LAYER_DIGEST",
    "LAYER_INDEX",
    "SCHEMA_URL",
    "SCHEMA_VERSION",
    "detect_syft_json",
    "read_syft_json",
]

#: the syft-json schema we write, and the one syft 1.18.1 writes
SCHEMA_VERSION = "16.0.18"
SCHEMA_URL = (
    f"https://raw.githubusercontent.com/anchore/syft/main/schema/json/schema-{SCHEMA_VERSION}.json"
)
#: the schema versions read: syft 1.x writes 16.x; 12 to 15 (syft 0.8x-0.10x) share
#: every field read here
READ_MAJORS = range(12, 17)

#: our file types -> stereoscope's (syft's ``files[].metadata.type``)
FILE_TYPES = {
    "file": "RegularFile",
    "hardlink": "HardLink",
    "symlink": "SymbolicLink",
    "char-device": "CharacterDevice",
    "block-device": "BlockDevice",
    "directory": "Directory",
    "fifo": "FIFONode",
}
_OUR_FILE_TYPES = {v: k for k, v in FILE_TYPES.items()}

#: Go's os.FileMode bits: syft writes a file's mode as Go's FileMode printed in octal
#: (``%o``) and read as a decimal number: a setuid 0755 file is ``40000755``. Not the
#: directory bit (1 << 31): syft 1.18.1 writes it (``20000000755``) but its own reader
#: decodes into an int32, warns and drops the mode; ``metadata.type`` says directory
GO_MODE_TYPE = {
    "symlink": 1 << 27,
    "block-device": 1 << 26,
    "char-device": (1 << 26) | (1 << 21),
    "fifo": 1 << 25,
}
GO_SETUID, GO_SETGID, GO_STICKY = 1 << 23, 1 << 22, 1 << 20

#: syft's ``language`` of each of our language ecosystems (OS packages have none)
LANGUAGES = {
    "python": "python",
    "npm": "javascript",
    "java-archive": "java",
    "go-module": "go",
    "gem": "ruby",
    "php-composer": "php",
    "rust-crate": "rust",
    "dotnet": "dotnet",
}

#: our relationship kinds -> syft's relationship types (others are written as they are)
RELATIONSHIP_TYPES = {"owns-evidence": "ownership-by-file-overlap"}
_OUR_KINDS = {v: k for k, v in RELATIONSHIP_TYPES.items()}
#: syft's relationship types with no counterpart in an analysis (not read)
SYFT_ONLY_RELATIONSHIPS = frozenset({"contains", "evident-by", "dependency-of", "described-by"})

#: location annotations of ours (syft keeps annotations as they are)
DECLARED = "anchore.declared"
LAYER_INDEX = "anchore.layer-index"
LAYER_DIGEST = "anchore.layer-digest"

#: syft writes "artifacts" first; a document of ours or syft's starts so
_ARTIFACTS_FIRST = re.compile(rb'\A\s*\{\s*"artifacts"\s*:\s*\[')
_SYFT_SCHEMA = b"anchore/syft/main/schema/json/schema-"


def detect_syft_json(head: bytes) -> bool:
    """Whether a file starting with ``head`` is a syft-json document: an object whose
    first key is ``artifacts`` (syft writes it first and ``schema`` last), or one naming
    syft's schema, or one with both of syft's top-level lists in its head."""
    if _ARTIFACTS_FIRST.match(head):
        return True
    if not head.lstrip().startswith(b"{"):
        return False
    return _SYFT_SCHEMA in head or (b'"artifactRelationships"' in head and b'"artifacts"' in head)


def _our_mode(value: int, where: Fields) -> int:
    """Permission bits (setuid, setgid, sticky included) from syft's mode number."""
    try:
        go = int(str(value), 8)
        if go < 0:
            raise ValueError(value)
    except ValueError:
        raise where.error("mode", f"is {value}, not a mode (octal digits)") from None
    mode = go & 0o777
    if go & GO_SETUID:
        mode |= stat.S_ISUID
    if go & GO_SETGID:
        mode |= stat.S_ISGID
    if go & GO_STICKY:
        mode |= stat.S_ISVTX
    return mode


def _annotations(loc: Fields) -> dict[str, str]:
    notes = loc.raw.get("annotations")
    if notes is None:
        return {}
    if not isinstance(notes, Mapping) or not all(isinstance(v, str) for v in notes.values()):
        raise loc.error("annotations", "must map names to strings")
    return dict(notes)


def _base64_json(meta: Fields, key: str, max_depth: int) -> Any:
    """One of syft's base64-encoded JSON documents (the manifest, the config), or None;
    nested no deeper than ``max_depth`` (``Limits.max_json_depth``), as the SBOM itself."""
    text = meta.text(key)
    if not text:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise meta.error(key, "is not base64") from None

    def fail(problem: str) -> SbomFormatError:
        return meta.error(key, f"is not a JSON document: {problem}")

    try:
        doc = load_json(data, fail, max_depth=max_depth)
    except UnicodeDecodeError:
        raise fail("not UTF-8") from None
    except ValueError as exc:
        if isinstance(exc, SbomFormatError):
            raise
        raise fail(str(exc)) from None
    if not isinstance(doc, dict):
        raise fail("not an object")
    return doc


def _compression(media_type: str) -> str | None:
    if not media_type:
        return None
    if media_type.endswith(("gzip", "+gzip")):
        return "gzip"
    if media_type.endswith("zstd"):
        return "zstd"
    return "none" if media_type.endswith("tar") else None


class _Source:
    """The image a document describes, and how its locations' layers resolve."""

    def __init__(
        self, doc: Fields, configuration: Fields | None, ours: bool, max_depth: int
    ) -> None:
        self.path = doc.path
        self.max_depth = max_depth
        self.diff_ids: list[str] = []
        self.digests: list[str] = []
        source = doc.object("source")
        meta = source.object("metadata") if source is not None else None
        if source is None or source.text("type") != "image" or meta is None:
            self.image = ImageInfo(source=source.text("name") or "" if source else "")
            return
        image_conf = configuration.object("image") if configuration is not None else None
        try:
            self.image = self._image(meta, image_conf, ours)
        except ImageFormatError as exc:
            raise SbomFormatError(
                f"{doc.path}: $.source.metadata: {exc}", source=doc.path
            ) from None

    def _image(self, meta: Fields, conf: Fields | None, ours: bool) -> ImageInfo:
        syft_layers = meta.objects("layers")
        manifest = _base64_json(meta, "manifest", self.max_depth)
        config = _base64_json(meta, "config", self.max_depth)
        blobs = manifest.get("layers") if manifest else None
        if blobs is not None and (
            not isinstance(blobs, list) or not all(isinstance(b, dict) for b in blobs)
        ):
            raise meta.error("manifest", "has layers that are not a list of objects")
        config = config or {}
        history_raw = config.get("history")
        count = len(syft_layers) if syft_layers is not None else 0
        history = HistoryEntry.parse_all(history_raw, count, "the config") if history_raw else None
        steps = {h.layer_index: h.created_by for h in history or () if h.layer_index is not None}
        layers = None
        if syft_layers is not None:
            layers = []
            for i, x in enumerate(syft_layers):
                blob = blobs[i] if blobs is not None and i < len(blobs) else {}
                media = x.text("mediaType") or ""
                diff_id = x.required_text("digest")
                size = blob.get("size")
                self.diff_ids.append(diff_id)
                self.digests.append(str(blob.get("digest") or ""))
                # a blob whose digest is its diff_id is the tar itself, whatever the media
                # type says (syft's manifests of docker-save archives say gzip)
                stored = "none" if self.digests[-1] == diff_id else _compression(media)
                layers.append(LayerInfo(
                    index=i, digest=self.digests[-1], diff_id=self.diff_ids[-1],
                    media_type=media or None, compression=stored,
                    size=size if isinstance(size, int) else None,
                    # syft's own layer size is the sum of its files' sizes, not the tar's
                    uncompressed_size=x.integer("size") if ours else None,
                    created_by=steps.get(i),
                ))  # fmt: skip
        arch = meta.text("architecture") or str(config.get("architecture") or "") or "unknown"
        os_name = meta.text("os") or str(config.get("os") or "") or "unknown"
        variant = config.get("variant")
        c = conf.text if conf is not None else (lambda key: None)
        return ImageInfo(
            source=c("source") or meta.text("userInput") or "",
            format=c("format") or "",
            reference=c("reference"),
            tags=meta.strings("tags"),
            manifest_digest=meta.text("manifestDigest") or None,
            config_digest=meta.text("imageID") or "",
            platform=Platform(os_name, arch, variant if isinstance(variant, str) else None),
            created=parse_created(config.get("created"), "the config"),
            author=config.get("author") if isinstance(config.get("author"), str) else None,
            config=ContainerConfig.parse(config.get("config"), "the config"),
            history=history,
            layers=layers,
        )

    def layer(
        self, layer_id: str | None, notes: Mapping[str, str], where: Fields
    ) -> tuple[int, str]:
        """The layer index and blob digest of a location."""
        if LAYER_INDEX in notes:
            try:
                index = int(notes[LAYER_INDEX])
            except ValueError:
                raise where.error("annotations", f"{LAYER_INDEX} is not a number") from None
        elif layer_id and layer_id in self.diff_ids:
            index = self.diff_ids.index(layer_id)
        elif layer_id:
            raise where.error("layerID", f"{layer_id!r} is none of source.metadata.layers")
        else:
            index = -1
        if LAYER_DIGEST in notes:
            return index, notes[LAYER_DIGEST]
        return index, self.digests[index] if 0 <= index < len(self.digests) else ""


def _location(loc: Fields, source: _Source) -> tuple[Location, dict[str, str]]:
    notes = _annotations(loc)
    index, digest = source.layer(loc.text("layerID"), notes, loc)
    return Location(loc.required_text("path"), index, digest), notes


def _texts(a: Fields, key: str, text: Callable[[Fields], str]) -> tuple[str, ...]:
    """``a[key]``: a list of strings (older schema versions) or of objects, each read
    with ``text``."""
    raw = a.raw.get(key) or []
    if not isinstance(raw, list):
        raise a.error(key, "is not a list")
    return tuple(
        item if isinstance(item, str) else text(Fields(a.path, item, f"{a.where}.{key}[{i}]"))
        for i, item in enumerate(raw)
    )


def _cpes(a: Fields) -> tuple[str, ...]:
    """The CPEs: strings before schema 14, then ``{"cpe": ...}`` objects."""
    return _texts(a, "cpes", lambda c: c.required_text("cpe"))


def _licenses(a: Fields) -> tuple[str, ...]:
    """The licenses: strings before schema 12, then objects with a value or an expression."""
    return _texts(a, "licenses", lambda x: x.text("value") or x.required_text("spdxExpression"))


def _package(a: Fields, source: _Source) -> Package:
    locations, declared = [], False
    for loc in a.objects("locations") or ():
        location, notes = _location(loc, source)
        locations.append(location)
        declared = declared or notes.get(DECLARED) == "true"
    type_ = a.required_text("type")
    name = a.required_text("name")
    purl = a.text("purl") or ""
    fields: dict[str, Any] = {}
    metadata: dict[str, Any] = {}
    meta = a.object("metadata")
    kind = a.text("metadataType") or ""
    if meta is not None and kind == "dpkg-db-entry":
        paths = tuple(f.required_text("path") for f in meta.objects("files") or ())
        fields.update(source_name=meta.text("source") or None,
                      source_version=meta.text("sourceVersion") or None,
                      architecture=meta.text("architecture") or None, files=paths)  # fmt: skip
        if meta.text("maintainer"):
            metadata["maintainer"] = meta.text("maintainer")
    elif meta is not None and kind == "python-package":
        root = meta.text("sitePackagesRootPath") or "/"
        fields["files"] = tuple(
            posixpath.normpath(posixpath.join(root, f.required_text("path")))
            for f in meta.objects("files") or ()
        )
    elif meta is not None and kind == "go-module-buildinfo-entry":
        fields["architecture"] = meta.text("architecture") or None
        pairs = (("go_version", "goCompiledVersion"), ("h1_digest", "h1Digest"),
                 ("main_module", "mainModule"))  # fmt: skip
        metadata.update((ours, meta.text(theirs)) for ours, theirs in pairs if meta.text(theirs))
    elif meta is not None and kind == "java-archive":
        if meta.text("virtualPath"):
            metadata["virtual_path"] = meta.text("virtualPath")
        pom = meta.object("pomProperties")
        if pom is not None and pom.text("groupId"):
            metadata["group_id"] = pom.text("groupId")
    metadata = namespace_metadata(purl, type_, metadata)
    return Package(
        type=type_, name=name, version=a.text("version") or "", purl=purl,
        locations=tuple(locations), licenses=_licenses(a), cpes=_cpes(a),
        metadata=metadata, found_by=a.text("foundBy") or "", declared=declared, **fields,
    )  # fmt: skip


def _file(x: Fields, source: _Source, owners: Mapping[str, list[str]]) -> FileRecord | None:
    """One file record; None for a file the document gives no metadata for."""
    meta = x.object("metadata")
    where = x.object("location")
    if meta is None or where is None:
        return None
    kind = meta.required_text("type")
    if kind not in _OUR_FILE_TYPES:
        return None  # a socket or an irregular file: no file type of ours
    index, _ = source.layer(where.text("layerID"), {}, where)
    mode = meta.integer("mode")
    digests: dict[str, str] = {}
    for d in x.objects("digests") or ():
        digests[d.required_text("algorithm")] = d.required_text("value")
    return FileRecord(
        path=where.required_text("path"), type=_OUR_FILE_TYPES[kind],
        mode=_our_mode(mode or 0, meta), uid=meta.integer("userID") or 0,
        gid=meta.integer("groupID") or 0, size=meta.integer("size") or 0, layer_index=index,
        link_target=meta.text("linkDestination"),
        owners=tuple(owners.get(x.required_text("id"), ())), digests=digests,
    )  # fmt: skip


def _distro(d: Fields | None) -> Distro | None:
    if d is None or not d.text("id"):
        return None
    return Distro(id=d.required_text("id"), version_id=d.text("versionID"),
                  version_codename=d.text("versionCodename"), pretty_name=d.text("prettyName"),
                  id_like=d.strings("idLike"), cpe_name=d.text("cpeName"))  # fmt: skip


def read_syft_json(path: str, fp: BinaryIO, limits: Limits, *, origin: str) -> Analysis:
    """The analysis a syft-json document describes; malformed: :class:`SbomFormatError`
    naming ``path`` and the JSON path of the value."""
    doc = Fields(path, load_sbom_json(path, read_bounded(path, fp, limits), limits))
    schema = doc.object("schema")
    version = schema.text("version") if schema is not None else None
    if version is not None:
        major = version.split(".")[0]
        if not major.isdigit() or int(major) not in READ_MAJORS:
            raise doc.error("schema.version", f"is {version!r}; anchore reads syft-json "
                            f"{READ_MAJORS.start} to {READ_MAJORS.stop - 1}")  # fmt: skip
    artifacts = doc.objects("artifacts")
    if artifacts is None:
        raise doc.error("artifacts", "is missing: not a syft-json document")
    descriptor = doc.object("descriptor")
    ours = descriptor is not None and descriptor.text("name") == TOOL_NAME
    configuration = descriptor.object("configuration") if descriptor is not None else None
    source = _Source(doc, configuration if ours else None, ours, limits.max_json_depth)
    packages = [_package(a, source) for a in artifacts]
    purls = {a.required_text("id"): p.purl for a, p in zip(artifacts, packages, strict=True)}
    relationships: list[Relationship] = []
    owners: dict[str, list[str]] = {}
    for r in doc.objects("artifactRelationships") or ():
        kind, parent, child = (
            r.required_text("type"),
            r.required_text("parent"),
            r.required_text("child"),
        )
        if kind == "contains" and parent in purls:
            owners.setdefault(child, []).append(purls[parent])
        elif kind not in SYFT_ONLY_RELATIONSHIPS and parent in purls and child in purls:
            ours_kind = _OUR_KINDS.get(kind, kind)
            relationships.append(Relationship(purls[parent], purls[child], ours_kind))
    files_raw = doc.objects("files")
    files = [f for f in (_file(x, source, owners) for x in files_raw or ()) if f is not None]
    selection = None
    if configuration is not None:
        files_conf = configuration.object("files")
        selection = files_conf.text("selection") if files_conf is not None else None
    whole = selection == "all" and len(files) == len(files_raw or ())
    stated = configuration.strings("analyzers") if ours and configuration is not None else ()
    failed = configuration.strings("failed-analyzers") if ours and configuration is not None else ()
    distro = _distro(doc.object("distro"))
    errors = analyzer_errors(
        configuration.objects("errors") if ours and configuration is not None else None
    )
    return imported_analysis(
        origin=origin,
        image=source.image,
        distro=distro,
        packages=packages,
        relationships=relationships,
        stated=stated,
        failed=failed,
        errors=errors,
        files=files if whole else None,
    )
