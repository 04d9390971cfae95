"""The two image layouts: docker-save archives and OCI image layouts.

Each reader turns a :class:`Source` into :class:`ImageParts`: the chosen
image's config, its layer blobs and the digests each must match. Choosing
among several images (by tag) and platforms (in image indexes) happens here;
nothing here reads a layer.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import attrs

from anchore.errors import (
    DigestMismatchError,
    ImageFormatError,
    ImageSelectionError,
    LimitExceededError,
    PlatformNotFoundError,
)
from anchore.image.blobs import BlobRef, parse_digest
from anchore.image.model import Platform, platform_of
from anchore.image.schema import (
    CONFIG,
    INDEX,
    LAYOUT,
    MANIFEST,
    SAVE_MANIFEST,
    SAVE_REPOSITORIES,
    Shape,
    load_document,
    parse_json,
)
from anchore.image.sources import ArchiveSource, Source
from anchore.limits import Limits

__all__ = ["ImageParts", "LayerBlob", "read_docker_archive", "read_oci_layout", "sniff_format"]

DEFAULT_PLATFORM = Platform("linux", "amd64")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
_INDEX_TYPES = {OCI_INDEX, DOCKER_LIST}
_MANIFEST_TYPES = {OCI_MANIFEST, DOCKER_MANIFEST}
REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"
_HEX_FILE = re.compile(r"(?:^|/)(?:blobs/sha256/)?([0-9a-f]{64})(?:\.json|\.tar)?$")


@attrs.frozen
class LayerBlob:
    blob: BlobRef
    media_type: str | None
    #: digest the compressed blob must hash to (None when the layout names none)
    digest: str | None
    #: digest the uncompressed tar must hash to (from the config's rootfs.diff_ids)
    diff_id: str


@attrs.frozen
class ImageParts:
    format: str
    reference: str | None
    tags: tuple[str, ...]
    manifest_digest: str | None
    manifest: dict[str, Any] | None
    config_digest: str
    config: dict[str, Any]
    layers: tuple[LayerBlob, ...]


def sniff_format(source: Source) -> str:
    """``docker-archive`` or ``oci`` (layout or archive), from the files present."""
    if source.exists("manifest.json"):
        return "docker-archive"
    if source.exists("index.json") and source.exists("oci-layout"):
        return "oci"
    if source.exists("index.json"):
        return "oci"
    if source.exists("repositories"):
        raise ImageFormatError(
            f"{source.label}: a docker-save archive without manifest.json (docker < 1.10, "
            "2016); re-save it with a current docker",
            source=source.label,
        )
    raise ImageFormatError(
        f"{source.label}: not an image: no manifest.json (docker save) "
        "and no index.json (OCI layout)",
        source=source.label,
    )


def _digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def _check_digest(data: bytes, expected: str, where: str, source: Source) -> None:
    algorithm, _ = parse_digest(expected, where)
    actual = _digest_of(data, algorithm)
    if actual != expected:
        raise DigestMismatchError(
            f"{where}: content hashes to {actual}, not {expected}",
            expected=expected,
            actual=actual,
            source=source.label,
            member=where,
        )


def _rootfs_diff_ids(config: dict[str, Any], where: str, layer_count: int) -> list[str]:
    """The config's diff_ids (its shape already checked: a list of strings)."""
    diff_ids: list[str] = config["rootfs"]["diff_ids"]
    for d in diff_ids:
        parse_digest(d, f"{where} rootfs.diff_ids")
    if len(diff_ids) != layer_count:
        raise ImageFormatError(
            f"{where}: config lists {len(diff_ids)} diff_ids for {layer_count} layers"
        )
    return diff_ids


def _check_layer_count(count: int, limits: Limits, where: str) -> None:
    if count > limits.max_layers:
        raise LimitExceededError(
            f"{where}: {count} layers exceeds max_layers={limits.max_layers}", limit="max_layers"
        )


def _check_platform(config: dict[str, Any], wanted: Platform | None, where: str) -> None:
    if wanted is None:
        return
    have = platform_of(config, where)
    if not have.matches(wanted):
        raise PlatformNotFoundError(
            f"{where}: the image is for {have}, not {wanted}", available=[str(have)]
        )


# ---- docker save ----
def _tag_forms(tag: str) -> set[str]:
    """The spellings a docker tag goes by: ``docker.io/library/x:latest`` is ``x``."""
    forms = {tag}
    name, _, version = tag.rpartition(":")
    if not name or "/" in version:
        name, version = tag, "latest"
    forms.add(f"{name}:{version}")
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if name.startswith(prefix):
            short = name[len(prefix) :]
            forms.update({short, f"{short}:{version}"})
            if version == "latest":
                forms.add(short)
    if version == "latest":
        forms.add(name)
    return forms


def read_docker_archive(
    source: Source, tag: str | None, platform: Platform | None, limits: Limits
) -> ImageParts:
    manifest = source.read_document("manifest.json", limits, SAVE_MANIFEST)
    where = f"{source.label}!manifest.json"
    if not manifest:
        raise ImageFormatError(f"{where}: expected a non-empty list of images")
    images = [(item, list(item.get("RepoTags") or [])) for item in manifest]
    legacy = _legacy_repositories(source, limits)
    every_tag = [t for _, tags in images for t in tags]
    if tag is not None:
        chosen = [(item, tags) for item, tags in images if any(tag in _tag_forms(t) for t in tags)]
        if not chosen:
            chosen = [
                (item, tags)
                for item, tags in images
                if any(
                    tag in _tag_forms(t)
                    for t, top in legacy.items()
                    if item["Layers"] and top in item["Layers"][-1]
                )
            ]
        if not chosen:
            raise ImageSelectionError(
                f"{source.label}: no image tagged {tag!r}; it holds: "
                + (", ".join(every_tag) or "untagged images only"),
                available=every_tag,
                source=source.label,
            )
        item, tags = chosen[0]
        reference: str | None = next((t for t in tags if tag in _tag_forms(t)), tag)
    else:
        if len(images) > 1:
            raise ImageSelectionError(
                f"{source.label}: holds {len(images)} images; choose one by tag: "
                + ", ".join(every_tag),
                available=every_tag,
                source=source.label,
            )
        item, tags = images[0]
        reference = tags[0] if tags else None
    config_name = item["Config"]
    config_bytes = source.read_bytes(config_name, limits)
    config_where = f"{source.label}!{config_name}"
    config_digest = _digest_of(config_bytes)
    named = _HEX_FILE.search(config_name)
    if named and f"sha256:{named.group(1)}" != config_digest:
        raise DigestMismatchError(
            f"{config_where}: content hashes to {config_digest}, not the sha256 its name claims",
            expected=f"sha256:{named.group(1)}",
            actual=config_digest,
            source=source.label,
            member=config_name,
        )
    config = load_document(config_bytes, config_where, limits, CONFIG)
    layer_names = item["Layers"]
    _check_layer_count(len(layer_names), limits, where)
    diff_ids = _rootfs_diff_ids(config, config_where, len(layer_names))
    _check_platform(config, platform, config_where)
    layer_sources = item.get("LayerSources") or {}
    layers = []
    for name, diff_id in zip(layer_names, diff_ids, strict=True):
        blob = source.blob(name)
        named = re.search(r"(?:^|/)blobs/sha256/([0-9a-f]{64})$", name)
        digest = f"sha256:{named.group(1)}" if named else None
        media_type = (layer_sources.get(diff_id) or {}).get("mediaType")
        layers.append(LayerBlob(blob, media_type, digest, diff_id))
    return ImageParts(
        format="docker-archive",
        reference=reference,
        tags=tuple(tags),
        manifest_digest=None,
        manifest=None,
        config_digest=config_digest,
        config=config,
        layers=tuple(layers),
    )


def _legacy_repositories(source: Source, limits: Limits) -> dict[str, str]:
    """``repositories`` ({repo: {tag: top layer id}}) as {"repo:tag": id}."""
    if not source.exists("repositories"):
        return {}
    raw = source.read_document("repositories", limits, SAVE_REPOSITORIES)
    return {f"{repo}:{t}": layer_id for repo, tags in raw.items() for t, layer_id in tags.items()}


# ---- OCI layout ----
@attrs.frozen
class _Candidate:
    descriptor: dict[str, Any]
    platform: Platform | None
    ref_name: str | None


def _blob_name(descriptor: dict[str, Any], where: str) -> tuple[str, str, int]:
    """A descriptor's blob path, digest and size (its shape already checked)."""
    digest = descriptor["digest"]
    algorithm, hexdigest = parse_digest(digest, where)
    return f"blobs/{algorithm}/{hexdigest}", digest, descriptor["size"]


class _Documents:
    """Reads the JSON blobs descriptors name, each read, verified and parsed once.

    An index may name one nested index many times (and indexes nest): each blob
    is read and hashed on first use, later references take the parsed document.
    Every descriptor visited counts against ``max_index_manifests``, reused ones
    each time, so a fan-out of reused indexes stops at the limit.
    """

    def __init__(self, source: Source, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self._parsed: dict[str, Any] = {}
        self.visited = 0

    def count(self, descriptors: int, where: str) -> None:
        self.visited += descriptors
        limit = self.limits.max_index_manifests
        if self.visited > limit:
            raise LimitExceededError(
                f"{where}: the index and the indexes it nests name more than "
                f"max_index_manifests={limit} manifests (a reused one counted each time)",
                limit="max_index_manifests",
                source=self.source.label,
                member=where,
            )

    def read(self, descriptor: dict[str, Any], where: str, shape: Shape | None) -> Any:
        """The document ``descriptor`` names, checked against ``shape`` (None: not yet)."""
        name, digest, size = _blob_name(descriptor, where)
        blob_where = f"{self.source.label}!{name}"
        key = f"{digest}/{size}"
        if key not in self._parsed:
            if size > self.limits.max_json_bytes:
                raise LimitExceededError(
                    f"{blob_where}: {size} bytes exceeds max_json_bytes", limit="max_json_bytes"
                )
            data = self.source.read_bytes(name, self.limits)
            if len(data) != size:
                raise DigestMismatchError(
                    f"{blob_where}: {len(data)} bytes, but its descriptor says {size}",
                    expected=digest,
                    actual=_digest_of(data),
                    source=self.source.label,
                    member=name,
                )
            _check_digest(data, digest, blob_where, self.source)
            self._parsed[key] = parse_json(data, blob_where, self.limits)
        document = self._parsed[key]
        if shape is not None:
            shape.check(document, "", blob_where)
        return document


def _descriptor_platform(descriptor: dict[str, Any], where: str) -> Platform | None:
    raw = descriptor.get("platform")
    if raw is None:
        return None
    return platform_of(raw, f"{where} platform")


def _leaves(
    docs: _Documents, index: dict[str, Any], where: str, depth: int, ref_name: str | None
) -> list[_Candidate]:
    """Every image manifest reachable from an index (its shape checked), with platform and tag."""
    if depth > docs.limits.max_index_depth:
        raise LimitExceededError(
            f"{where}: image indexes nest deeper than "
            f"max_index_depth={docs.limits.max_index_depth}",
            limit="max_index_depth",
        )
    docs.count(len(index["manifests"]), where)
    found: list[_Candidate] = []
    for i, descriptor in enumerate(index["manifests"]):
        dwhere = f"{where} manifests[{i}]"
        annotations = descriptor.get("annotations") or {}
        name = annotations.get(REF_NAME) or annotations.get(CONTAINERD_NAME) or ref_name
        if annotations.get("vnd.docker.reference.type") == "attestation-manifest":
            continue  # buildkit's provenance/SBOM attestations are not images
        media_type = descriptor.get("mediaType")
        if media_type in _INDEX_TYPES:
            child_name, _, _ = _blob_name(descriptor, dwhere)
            child = docs.read(descriptor, dwhere, INDEX)
            child_where = f"{docs.source.label}!{child_name}"
            found += _leaves(docs, child, child_where, depth + 1, name)
        elif media_type in _MANIFEST_TYPES or media_type is None:
            found.append(_Candidate(descriptor, _descriptor_platform(descriptor, dwhere), name))
        # other artifact types (signatures, helm charts...) are not images: skip them
    return found


def _ref_matches(ref_name: str | None, tag: str) -> bool:
    if ref_name is None:
        return False
    return ref_name == tag or bool(_tag_forms(ref_name) & _tag_forms(tag))


def read_oci_layout(
    source: Source, tag: str | None, platform: Platform | None, limits: Limits
) -> ImageParts:
    where = f"{source.label}!index.json"
    if source.exists("oci-layout"):
        source.read_document("oci-layout", limits, LAYOUT)
    index = source.read_document("index.json", limits, INDEX)
    docs = _Documents(source, limits)
    candidates = _leaves(docs, index, where, 0, None)
    if not candidates:
        raise ImageFormatError(f"{where}: the index holds no image manifests")
    names = sorted({c.ref_name for c in candidates if c.ref_name})
    if tag is not None:
        candidates = [c for c in candidates if _ref_matches(c.ref_name, tag)]
        if not candidates:
            raise ImageSelectionError(
                f"{source.label}: no image tagged {tag!r}; it holds: "
                + (", ".join(names) or "untagged images only"),
                available=names,
                source=source.label,
            )
    elif len({c.ref_name for c in candidates}) > 1:
        raise ImageSelectionError(
            f"{source.label}: holds several images; choose one by tag: " + ", ".join(names),
            available=names,
            source=source.label,
        )
    chosen = _choose_platform(candidates, platform, source.label)
    descriptor = chosen.descriptor
    dwhere = f"{where} manifest {descriptor['digest']}"
    manifest_name, manifest_digest, _ = _blob_name(descriptor, dwhere)
    mwhere = f"{source.label}!{manifest_name}"
    manifest = docs.read(descriptor, dwhere, None)
    if isinstance(manifest, dict) and str(manifest.get("mediaType")) in _INDEX_TYPES:
        raise ImageFormatError(f"{mwhere}: an index where an image manifest was expected")
    MANIFEST.check(manifest, "", mwhere)
    config_descriptor = manifest["config"]
    config_name, config_digest, _ = _blob_name(config_descriptor, f"{mwhere} config")
    cwhere = f"{source.label}!{config_name}"
    config = docs.read(config_descriptor, f"{mwhere} config", CONFIG)
    _check_layer_count(len(manifest["layers"]), limits, mwhere)
    diff_ids = _rootfs_diff_ids(config, cwhere, len(manifest["layers"]))
    if chosen.platform is None:
        _check_platform(config, platform, cwhere)
    layer_names = [
        _blob_name(layer, f"{mwhere} layers[{i}]") for i, layer in enumerate(manifest["layers"])
    ]
    source.fetch([name for name, _, _ in layer_names])  # a registry downloads them now
    layers = []
    for i, (layer, diff_id) in enumerate(zip(manifest["layers"], diff_ids, strict=True)):
        name, digest, size = layer_names[i]
        blob = source.blob(name)
        if blob.size != size:
            raise DigestMismatchError(
                f"{blob.name}: {blob.size} bytes, but the manifest says {size}",
                expected=digest,
                actual=f"(a blob of {blob.size} bytes)",
                source=source.label,
                member=name,
            )
        layers.append(LayerBlob(blob, layer.get("mediaType"), digest, diff_id))
    ref = chosen.ref_name
    return ImageParts(
        format="oci-archive" if isinstance(source, ArchiveSource) else "oci-layout",
        reference=ref if tag is None else tag,
        tags=(ref,) if ref else (),
        manifest_digest=manifest_digest,
        manifest=manifest,
        config_digest=config_digest,
        config=config,
        layers=tuple(layers),
    )


def _choose_platform(
    candidates: list[_Candidate], wanted: Platform | None, label: str
) -> _Candidate:
    if len(candidates) == 1 and (wanted is None or candidates[0].platform is None):
        return candidates[0]
    target = wanted or DEFAULT_PLATFORM
    matching = [c for c in candidates if c.platform is not None and c.platform.matches(target)]
    if not matching and len(candidates) == 1 and candidates[0].platform is None:
        return candidates[0]  # no platform recorded: the config decides (checked later)
    if not matching:
        present = sorted({str(c.platform) for c in candidates if c.platform is not None})
        raise PlatformNotFoundError(
            f"{label}: no image for platform {target}; present: " + (", ".join(present) or "none"),
            available=present,
            source=label,
        )
    # prefer an exact variant match, then the first listed (index order is the publisher's)
    exact = [c for c in matching if c.platform and c.platform.normalized() == target.normalized()]
    return (exact or matching)[0]
