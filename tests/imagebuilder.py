"""Build small synthetic images for edge-case tests.

Layers are written by the standard library's ``tarfile`` (a real tar writer,
not ours), then laid out as a docker-save archive, an OCI image layout or an
OCI archive with correct digests, unless a test asks for them to be wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from typing import Any

import zstandard


@dataclass
class M:
    """One tar member to write."""

    name: str
    kind: str = "file"  # file dir symlink hardlink char block fifo
    data: bytes = b""
    target: str = ""
    mode: int | None = None
    uid: int = 0
    gid: int = 0
    uname: str = "root"
    gname: str = "root"
    mtime: int = 1_700_000_000
    pax: dict[str, str] = field(default_factory=dict)


def f(name: str, data: bytes | str = b"", mode: int = 0o644, **kw: Any) -> M:
    return M(name, "file", data.encode() if isinstance(data, str) else data, mode=mode, **kw)


def d(name: str, mode: int = 0o755, **kw: Any) -> M:
    return M(name, "dir", mode=mode, **kw)


def sym(name: str, target: str, **kw: Any) -> M:
    return M(name, "symlink", target=target, mode=0o777, **kw)


def hard(name: str, target: str, **kw: Any) -> M:
    return M(name, "hardlink", target=target, **kw)


def whiteout(path: str) -> M:
    head, _, base = path.rstrip("/").rpartition("/")
    return f(f"{head}/.wh.{base}" if head else f".wh.{base}")


def opaque(directory: str) -> M:
    return f(f"{directory.rstrip('/')}/.wh..wh..opq")


_KINDS = {
    "file": tarfile.REGTYPE,
    "dir": tarfile.DIRTYPE,
    "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE,
    "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
    "fifo": tarfile.FIFOTYPE,
}


def layer_tar(members: list[M], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for m in members:
            info = tarfile.TarInfo(m.name)
            info.type = _KINDS[m.kind]
            info.mode = m.mode if m.mode is not None else (0o755 if m.kind == "dir" else 0o644)
            info.uid, info.gid, info.uname, info.gname = m.uid, m.gid, m.uname, m.gname
            info.mtime = m.mtime
            info.linkname = m.target
            info.pax_headers = dict(m.pax)
            if m.kind in ("char", "block"):
                info.devmajor, info.devminor = 1, 3
            if m.kind == "file":
                info.size = len(m.data)
                tar.addfile(info, io.BytesIO(m.data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data, mtime=0)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    assert how == "none"
    return data


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MEDIA = {
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
    "none": "application/vnd.oci.image.layer.v1.tar",
}


@dataclass
class Built:
    """An image's blobs, ready to lay out; tests may tamper with them first."""

    config: dict[str, Any]
    layers: list[bytes]  # as stored (compressed or not)
    diff_tars: list[bytes]
    media_types: list[str]

    @property
    def config_bytes(self) -> bytes:
        return json.dumps(self.config).encode()

    def manifest(self) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha256(self.config_bytes),
                "size": len(self.config_bytes),
            },
            "layers": [
                {"mediaType": mt, "digest": sha256(b), "size": len(b)}
                for mt, b in zip(self.media_types, self.layers, strict=True)
            ],
        }


def build(
    layers: list[list[M]],
    compression: str | list[str] = "gzip",
    *,
    arch: str = "amd64",
    os_name: str = "linux",
    variant: str | None = None,
    config: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    fmt: int = tarfile.PAX_FORMAT,
) -> Built:
    comps = compression if isinstance(compression, list) else [compression] * len(layers)
    tars = [layer_tar(members, fmt) for members in layers]
    stored = [compress(t, c) for t, c in zip(tars, comps, strict=True)]
    cfg: dict[str, Any] = {
        "architecture": arch,
        "os": os_name,
        "created": "2024-01-02T03:04:05.123456789Z",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(t) for t in tars]},
        "history": history
        if history is not None
        else [{"created_by": f"step {i}"} for i in range(len(layers))],
    }
    if variant:
        cfg["variant"] = variant
    if config:
        cfg.update(config)
    return Built(cfg, stored, tars, [MEDIA[c] for c in comps])


def _tar_of(files: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return buf.getvalue()


def docker_archive(
    path: str | os.PathLike[str],
    images: list[tuple[list[str], Built]],
    *,
    repositories: dict[str, dict[str, str]] | None = None,
    legacy_layout: bool = False,
) -> str:
    """Write a ``docker save`` archive holding ``images`` (tags, blobs)."""
    files: dict[str, bytes] = {}
    links: dict[str, str] = {}
    manifest = []
    for tags, built in images:
        config_name = sha256(built.config_bytes).split(":")[1] + ".json"
        files[config_name] = built.config_bytes
        layer_names = []
        for blob in built.layers:
            hexd = hashlib.sha256(blob).hexdigest()
            if legacy_layout:  # docker < 25: <id>/layer.tar, here as a symlink like skopeo
                files[f"{hexd}.tar"] = blob
                links[f"{hexd}/layer.tar"] = f"../{hexd}.tar"
                layer_names.append(f"{hexd}/layer.tar")
            else:
                files[f"blobs/sha256/{hexd}"] = blob
                layer_names.append(f"blobs/sha256/{hexd}")
        manifest.append({"Config": config_name, "RepoTags": tags, "Layers": layer_names})
    files["manifest.json"] = json.dumps(manifest).encode()
    if repositories is not None:
        files["repositories"] = json.dumps(repositories).encode()
    with open(path, "wb") as out:
        out.write(_tar_of(files, links))
    return str(path)


def index_doc(manifests: list[dict[str, Any]], media_type: bool = True) -> dict[str, Any]:
    doc: dict[str, Any] = {"schemaVersion": 2, "manifests": manifests}
    if media_type:
        doc["mediaType"] = "application/vnd.oci.image.index.v1+json"
    return doc


class OCILayout:
    """Blobs plus an index.json, written as a directory or an archive."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.index: dict[str, Any] = index_doc([])

    def add_blob(self, data: bytes) -> dict[str, Any]:
        digest = sha256(data)
        self.blobs[digest] = data
        return {"digest": digest, "size": len(data)}

    def add_image(self, built: Built, *, platform: dict[str, str] | None = None) -> dict[str, Any]:
        """Store an image's blobs; return its manifest descriptor (not yet in the index)."""
        self.add_blob(built.config_bytes)
        for blob in built.layers:
            self.add_blob(blob)
        desc = self.add_blob(json.dumps(built.manifest()).encode())
        desc["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
        if platform:
            desc["platform"] = platform
        return desc

    def add_index(self, descriptors: list[dict[str, Any]]) -> dict[str, Any]:
        desc = self.add_blob(json.dumps(index_doc(descriptors)).encode())
        desc["mediaType"] = "application/vnd.oci.image.index.v1+json"
        return desc

    def tag(self, descriptor: dict[str, Any], name: str | None = None) -> None:
        desc = dict(descriptor)
        if name:
            desc["annotations"] = {"org.opencontainers.image.ref.name": name}
        self.index["manifests"].append(desc)

    def _files(self) -> dict[str, bytes]:
        files = {"oci-layout": b'{"imageLayoutVersion": "1.0.0"}'}
        files["index.json"] = json.dumps(self.index).encode()
        for digest, data in self.blobs.items():
            files["blobs/sha256/" + digest.split(":")[1]] = data
        return files

    def write_dir(self, path: str | os.PathLike[str]) -> str:
        for name, data in self._files().items():
            full = os.path.join(path, name)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as out:
                out.write(data)
        return str(path)

    def write_archive(self, path: str | os.PathLike[str]) -> str:
        with open(path, "wb") as out:
            out.write(_tar_of(self._files()))
        return str(path)


def oci_archive(path: str | os.PathLike[str], built: Built, tag: str | None = None) -> str:
    layout = OCILayout()
    layout.tag(layout.add_image(built), tag)
    return layout.write_archive(path)


def oci_dir(path: str | os.PathLike[str], built: Built, tag: str | None = None) -> str:
    layout = OCILayout()
    layout.tag(layout.add_image(built), tag)
    return layout.write_dir(path)


def write_all_formats(tmp_path: Any, built: Built) -> dict[str, str]:
    """The same image as a docker archive, an OCI layout and an OCI archive."""
    return {
        "docker": docker_archive(tmp_path / "img.docker.tar", [(["test/img:latest"], built)]),
        "oci-dir": oci_dir(tmp_path / "layout", built, "latest"),
        "oci-tar": oci_archive(tmp_path / "img.oci.tar", built, "latest"),
    }
