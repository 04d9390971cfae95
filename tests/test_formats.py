"""Formats, selection by tag and platform, metadata, compressions."""

from __future__ import annotations

import gzip
import json
import shutil
import tarfile

import pytest
import zstandard

import anchore
from anchore.errors import ImageFormatError, ImageSelectionError, PlatformNotFoundError
from imagebuilder import (
    OCILayout,
    build,
    d,
    docker_archive,
    f,
    oci_archive,
    sha256,
    sym,
    write_all_formats,
)

SIMPLE = [[d("etc"), f("etc/os-release", "ID=test\n")]]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_every_format_and_compression(tmp_path, compression):
    built = build(SIMPLE + [[f("app/data", b"x" * 5000)]], compression)
    for kind, src in write_all_formats(tmp_path, built).items():
        image = anchore.open_image(src)
        assert image.read_text("/etc/os-release") == "ID=test\n", kind
        assert image.read_bytes("/app/data") == b"x" * 5000
        assert [layer.compression.value for layer in image.layers] == [compression] * 2
        assert image.layers[1].diff_id == built.config["rootfs"]["diff_ids"][1]
        assert image.layers[0].uncompressed_size == len(built.diff_tars[0])
        assert image.layers[0].size == len(built.layers[0])
        if kind == "docker":
            assert image.format == "docker-archive" and image.manifest_digest is None
        else:
            assert image.format == ("oci-layout" if kind == "oci-dir" else "oci-archive")
            assert image.manifest_digest.startswith("sha256:")
            assert image.layers[0].media_type.endswith(
                {"gzip": "+gzip", "zstd": "+zstd", "none": ".tar"}[compression]
            )


def test_mixed_compressions_in_one_image(tmp_path):
    built = build([[f("a", "1")], [f("b", "2")], [f("c", "3")]], ["zstd", "none", "gzip"])
    image = anchore.open_image(oci_archive(tmp_path / "x.tar", built))
    assert [image.read_text(p) for p in ("/a", "/b", "/c")] == ["1", "2", "3"]


def test_image_metadata(tmp_path):
    built = build(
        [[f("a")], [f("b")]],
        config={
            "author": "someone",
            "config": {
                "Env": ["PATH=/bin", "LANG=C.UTF-8"],
                "Entrypoint": ["/entry"],
                "Cmd": ["serve", "--port", "80"],
                "User": "app",
                "WorkingDir": "/srv",
                "ExposedPorts": {"80/tcp": {}, "53/udp": {}},
                "Volumes": {"/data": {}},
                "Labels": {"maintainer": "me"},
                "Healthcheck": {"Test": ["CMD", "true"], "Interval": 30000000000},
                "StopSignal": "SIGTERM",
            },
        },
        history=[
            {"created": "2024-01-01T00:00:00Z", "created_by": "ADD rootfs"},
            {"created_by": "ENV LANG=C.UTF-8", "empty_layer": True},
            {"created_by": "RUN make", "comment": "buildkit"},
            {"created_by": "CMD serve", "empty_layer": True},
        ],
    )
    for src in write_all_formats(tmp_path, built).values():
        image = anchore.open_image(src)
        c = image.config
        assert c.env == ("PATH=/bin", "LANG=C.UTF-8")
        assert c.environment["LANG"] == "C.UTF-8"
        assert c.entrypoint == ("/entry",) and c.cmd == ("serve", "--port", "80")
        assert (c.user, c.working_dir, c.stop_signal) == ("app", "/srv", "SIGTERM")
        assert c.exposed_ports == ("53/udp", "80/tcp") and c.volumes == ("/data",)
        assert c.labels == {"maintainer": "me"}
        assert c.healthcheck["Test"] == ["CMD", "true"]
        assert image.author == "someone"
        assert image.created.year == 2024 and image.created.microsecond == 123456
        assert str(image.platform) == "linux/amd64"
        assert [h.layer_index for h in image.history] == [0, None, 1, None]
        assert image.layers[1].history.created_by == "RUN make"
        assert image.layers[0].history.created.year == 2024
        assert image.config_digest.startswith("sha256:")
        data = image.to_dict()
        json.dumps(data)
        assert data["layers"][1]["created_by"] == "RUN make"


def test_docker_archive_with_several_images_chosen_by_tag(tmp_path):
    one = build([[f("which", "one")]])
    two = build([[f("which", "two")]])
    src = docker_archive(
        tmp_path / "multi.tar",
        [(["docker.io/library/alpine:3.19", "alpine:latest"], one), (["example.com/app:v2"], two)],
    )
    with pytest.raises(ImageSelectionError) as err:
        anchore.open_image(src)
    assert "example.com/app:v2" in str(err.value)
    assert "alpine:3.19" in " ".join(err.value.available)
    assert anchore.open_image(src, tag="alpine:3.19").read_text("/which") == "one"
    assert anchore.open_image(src, tag="alpine").read_text("/which") == "one"
    assert anchore.open_image(src, tag="example.com/app:v2").read_text("/which") == "two"
    # path:tag, as skopeo spells it
    image = anchore.open_image(f"{src}:example.com/app:v2")
    assert image.read_text("/which") == "two"
    assert image.reference == "example.com/app:v2"
    with pytest.raises(ImageSelectionError, match="no image tagged 'nope'"):
        anchore.open_image(src, tag="nope")


def test_legacy_layout_and_repositories_file(tmp_path):
    import hashlib

    built = build([[f("x", "legacy")], [f("y")]], "none")
    other = build([[f("x", "other")]], "none")
    top = hashlib.sha256(built.layers[-1]).hexdigest()
    src = docker_archive(
        tmp_path / "legacy.tar",
        [([], built), ([], other)],
        repositories={"old/name": {"v1": top}},
        legacy_layout=True,
    )
    with pytest.raises(ImageSelectionError):
        anchore.open_image(src)
    image = anchore.open_image(src, tag="old/name:v1")
    assert image.read_text("/x") == "legacy"
    assert image.tags == ()


def test_oci_layout_with_several_tags(tmp_path):
    layout = OCILayout()
    layout.tag(layout.add_image(build([[f("n", "min")]])), "debian-min")
    layout.tag(layout.add_image(build([[f("n", "py")]])), "debian-py")
    src = layout.write_dir(tmp_path / "layout")
    with pytest.raises(ImageSelectionError, match="debian-min, debian-py"):
        anchore.open_image(src)
    assert anchore.open_image(src, tag="debian-py").read_text("/n") == "py"
    assert anchore.open_image(f"{src}:debian-min").read_text("/n") == "min"


def _multi_platform(tmp_path, nested: bool):
    layout = OCILayout()
    descs = []
    for arch, variant in [("amd64", None), ("arm64", "v8"), ("arm", "v7"), ("s390x", None)]:
        plat = {"os": "linux", "architecture": arch}
        if variant:
            plat["variant"] = variant
        built = build([[f("arch", arch + (variant or ""))]], arch=arch, variant=variant)
        descs.append(layout.add_image(built, platform=plat))
    # a buildkit attestation manifest rides along and must be ignored
    att = build([[f("sbom.json", "{}")]], arch="unknown", os_name="unknown")
    adesc = layout.add_image(att, platform={"os": "unknown", "architecture": "unknown"})
    adesc["annotations"] = {"vnd.docker.reference.type": "attestation-manifest"}
    descs.append(adesc)
    top = layout.add_index(descs)
    if nested:
        top = layout.add_index([top])
    layout.tag(top, "multi")
    return layout.write_archive(tmp_path / "multi.tar")


@pytest.mark.parametrize("nested", [False, True])
def test_multi_platform_index(tmp_path, nested):
    src = _multi_platform(tmp_path, nested)
    assert anchore.open_image(src).read_text("/arch") == "amd64"
    image = anchore.open_image(src, platform="linux/arm64")
    assert image.read_text("/arch") == "arm64v8"
    assert str(image.platform) == "linux/arm64/v8"
    assert anchore.open_image(src, platform="linux/arm64/v8").read_text("/arch") == "arm64v8"
    assert anchore.open_image(src, platform="linux/arm").read_text("/arch") == "armv7"
    with pytest.raises(PlatformNotFoundError) as err:
        anchore.open_image(src, platform="linux/riscv64")
    assert "linux/amd64, linux/arm/v7, linux/arm64/v8, linux/s390x" in str(err.value)
    assert "unknown" not in str(err.value)


def test_platform_mismatch_on_single_image(tmp_path):
    src = oci_archive(tmp_path / "x.tar", build(SIMPLE, arch="arm64"))
    assert anchore.open_image(src).architecture == "arm64"
    with pytest.raises(PlatformNotFoundError, match="linux/arm64"):
        anchore.open_image(src, platform="linux/amd64")
    docker = docker_archive(tmp_path / "d.tar", [(["x:1"], build(SIMPLE, arch="arm64"))])
    with pytest.raises(PlatformNotFoundError):
        anchore.open_image(docker, platform="linux/amd64")


@pytest.mark.parametrize("how", ["gzip", "zstd"])
def test_compressed_outer_archive(tmp_path, how):
    """``docker save | gzip > image.tar.gz`` opens; the temporary copy is ours and goes away."""
    src = docker_archive(tmp_path / "plain.tar", [(["x:1"], build(SIMPLE))])
    raw = open(src, "rb").read()
    packed = gzip.compress(raw) if how == "gzip" else zstandard.ZstdCompressor().compress(raw)
    out = tmp_path / f"image.tar.{how}"
    out.write_bytes(packed)
    with anchore.open_image(out) as image:
        assert image.read_text("/etc/os-release") == "ID=test\n"
        spool = image._owned._tmpdir
        import os

        assert os.path.isdir(spool)
    assert not os.path.exists(spool)


def test_gnu_and_ustar_layers(tmp_path):
    long = "d/" + "n" * 150 + "/file-with-a-long-name"
    for fmt in (tarfile.GNU_FORMAT, tarfile.USTAR_FORMAT, tarfile.PAX_FORMAT):
        members = [
            f(long if fmt != tarfile.USTAR_FORMAT else "d/ustar/" + "u" * 90, "L"),
            sym("lnk", "/" + "t" * 120 if fmt != tarfile.USTAR_FORMAT else "/t"),
        ]
        src = oci_archive(tmp_path / f"{fmt}.tar", build([members], fmt=fmt))
        image = anchore.open_image(src)
        assert [e.path for e in image.files() if e.is_file][0].endswith(("long-name", "u" * 90))
        assert image.lstat("/lnk").link_target.startswith("/t")


def test_non_image_sources(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello" * 200)
    with pytest.raises(ImageFormatError, match="not an image"):
        anchore.open_image(text)
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(ImageFormatError, match="not an image"):
        anchore.open_image(empty_dir)
    shutil.make_archive(str(tmp_path / "random"), "tar", root_dir=str(empty_dir))
    with pytest.raises(ImageFormatError):
        anchore.open_image(tmp_path / "random.tar")
    with pytest.raises(anchore.errors.ImageNotFoundError):
        anchore.open_image(tmp_path / "missing.tar")


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026-11-23T01:30:13.447440709Z", "2026-11-23T01:30:13.447440+00:00"),
        ("2024-01-02T03:04:05Z", "2024-01-02T03:04:05+00:00"),
        ("2024-01-02T03:04:05.5+02:00", "2024-01-02T03:04:05.500000+02:00"),
    ],
)
def test_created_timestamps(text, iso):
    from anchore.image.model import parse_created

    assert parse_created(text, "x").isoformat() == iso


def test_bad_created_timestamp_names_the_config(tmp_path):
    built = build(SIMPLE, config={"created": "yesterday"})
    with pytest.raises(ImageFormatError, match="'created' 'yesterday'"):
        anchore.open_image(oci_archive(tmp_path / "x.tar", built))


def test_verify_false_skips_hashing_uncompressed_layers_only(tmp_path):
    built = build([[f("a", "1"), f("big", b"q" * 100_000)], [f("b", "2")]], ["none", "gzip"])
    good = oci_archive(tmp_path / "good.tar", built)
    fast = anchore.open_image(good, verify=False)
    assert fast.read_text("/a") == "1" and fast.read_bytes("/big") == b"q" * 100_000
    assert [e.path for e in fast.files()] == [e.path for e in anchore.open_image(good).files()]
    assert fast.layers[0].diff_id == built.config["rootfs"]["diff_ids"][0]
    assert fast.layers[0].uncompressed_size == len(built.diff_tars[0])
    # a corrupted byte inside file data: only verification notices
    raw = bytearray(built.layers[0])
    raw[raw.index(b"q" * 100)] = ord("Q")
    built.layers[0] = bytes(raw)
    built.config["rootfs"]["diff_ids"][0] = sha256(built.layers[0])
    bad_blob = oci_archive(tmp_path / "bad.tar", built)
    anchore.open_image(bad_blob, verify=False)  # digests consistent with the changed blob
    # a gzip layer whose diff_id is wrong is caught even without verify
    built.config["rootfs"]["diff_ids"][1] = "sha256:" + "1" * 64
    with pytest.raises(anchore.errors.DigestMismatchError):
        anchore.open_image(oci_archive(tmp_path / "bad2.tar", built), verify=False)
