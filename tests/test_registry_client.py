"""Pulling images through RegistrySource and open_image, against a small registry served
by the test on loopback (the distribution API's read side: ping, manifests, blobs with
Range, tags/list with Link pages), built from images written by tests/imagebuilder.py or
from the real corpus. tests/test_registry_e2e.py does the same against docker-registry.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from anchore import open_image
from anchore.errors import (
    DigestMismatchError,
    ImageNotFoundError,
    LimitExceededError,
    PlatformNotFoundError,
)
from anchore.image.remote import RegistrySource, host_platform
from anchore.limits import Limits
from anchore.registry import (
    BlobCache,
    InvalidReferenceError,
    RegistryClient,
    RegistryNotFoundError,
    RegistryOptions,
    UnsupportedMediaTypeError,
    parse_reference,
)
from imagebuilder import OCILayout, build, f, oci_archive, sha256

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
SCHEMA1 = "application/vnd.docker.distribution.manifest.v1+prettyjws"


class Registry:
    """What the fake registry serves, and what it was asked.

    ``tags[repo][tag]`` and ``manifests[digest]`` are (bytes, media type); ``blobs``
    maps digests to bytes. Tests tamper with them, or set ``drop_once`` (digests whose
    first GET ends halfway), ``delay`` (seconds per blob GET) or ``headers``.
    """

    def __init__(self) -> None:
        self.tags: dict[str, dict[str, tuple[bytes, str]]] = {}
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.blobs: dict[str, bytes] = {}
        self.wrong_content_digest: set[str] = set()
        self.drop_once: set[str] = set()
        self.delay = 0.0
        self.page_size = 0
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.active = 0
        self.max_active = 0
        self.lock = threading.Lock()

    def push_layout(self, repo: str, layout: OCILayout, tag: str) -> str:
        """Serve every blob of ``layout``; its first index entry becomes ``repo:tag``."""
        self.blobs.update(layout.blobs)

        def walk(descriptors: list[dict[str, Any]]) -> None:
            for descriptor in descriptors:
                data = layout.blobs[descriptor["digest"]]
                media = descriptor.get("mediaType") or json.loads(data).get("mediaType")
                self.manifests[descriptor["digest"]] = (data, media or OCI_MANIFEST)
                if media in (OCI_INDEX, DOCKER_LIST):
                    walk(json.loads(data)["manifests"])

        walk(layout.index["manifests"])
        top = layout.index["manifests"][0]
        self.tags.setdefault(repo, {})[tag] = self.manifests[top["digest"]]
        return str(top["digest"])

    def blob_gets(self) -> list[str]:
        return [path for method, path, _ in self.requests if "/blobs/" in path and method == "GET"]


def _handler(reg: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _error(self, status: int, code: str) -> None:
            body = json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode()
            self._send(status, body, {"Content-Type": "application/json"})

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            with reg.lock:
                reg.requests.append((self.command, self.path, dict(self.headers.items())))
            if self.path == "/v2/":
                return self._send(200, b"{}", {"Content-Type": "application/json"})
            m = re.fullmatch(r"/v2/(.+)/(manifests|blobs)/([^/?]+)", self.path)
            if m:
                repo, kind, ident = m.groups()
                if kind == "manifests":
                    return self._manifest(repo, ident)
                return self._blob(ident)
            m = re.fullmatch(r"/v2/(.+)/tags/list(?:\?(.*))?", self.path)
            if m and m.group(1) in reg.tags:
                return self._tags(m.group(1), m.group(2) or "")
            return self._error(404, "NAME_UNKNOWN")

        def _manifest(self, repo: str, ident: str) -> None:
            found = reg.manifests.get(ident) if ":" in ident else reg.tags.get(repo, {}).get(ident)
            if found is None:
                return self._error(404, "MANIFEST_UNKNOWN")
            data, media = found
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            if ident in reg.wrong_content_digest or digest in reg.wrong_content_digest:
                digest = sha256(b"something else")
            self._send(200, data, {"Content-Type": media, "Docker-Content-Digest": digest})

        def _blob(self, digest: str) -> None:
            data = reg.blobs.get(digest)
            if data is None:
                return self._error(404, "BLOB_UNKNOWN")
            with reg.lock:
                reg.active += 1
                reg.max_active = max(reg.max_active, reg.active)
            try:
                if reg.delay:
                    time.sleep(reg.delay)
                start = 0
                rng = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
                if rng and int(rng.group(1)) < len(data):
                    start = int(rng.group(1))
                headers = {"Content-Type": "application/octet-stream"}
                status = 200
                if start:
                    status = 206
                    headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
                body = data[start:]
                if digest in reg.drop_once and self.command == "GET":
                    reg.drop_once.discard(digest)
                    self.send_response(status)
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self._send(status, body, headers)
            finally:
                with reg.lock:
                    reg.active -= 1

        def _tags(self, repo: str, query: str) -> None:
            every = sorted(reg.tags[repo])
            last = re.search(r"last=([^&]+)", query)
            if last:
                every = [t for t in every if t > last.group(1)]
            headers = {"Content-Type": "application/json"}
            if reg.page_size and len(every) > reg.page_size:
                every = every[: reg.page_size]
                headers["Link"] = (
                    f'</v2/{repo}/tags/list?n={reg.page_size}&last={every[-1]}>; rel="next"'
                )
            self._send(200, json.dumps({"name": repo, "tags": every}).encode(), headers)

    return Handler


@pytest.fixture
def registry() -> Iterator[tuple[Registry, str]]:
    """A registry on 127.0.0.1 (plain HTTP, allowed for loopback); stopped afterwards."""
    reg = Registry()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(reg))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield reg, f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture
def options(tmp_path: Path) -> RegistryOptions:
    home = tmp_path / "home"
    home.mkdir()
    # an empty environment: no docker config of the machine's, no proxies
    return RegistryOptions(
        cache_dir=str(tmp_path / "cache"), environ={"HOME": str(home)}, retries=2, timeout=10
    )


def small_image(tag: str = "one", arch: str = "amd64", variant: str | None = None) -> Any:
    return build(
        [
            [f("etc/os-release", 'ID=debian\nVERSION_ID="12"\n'), f("bin/sh", b"\x7fELF" * 50)],
            [f(f"app/{tag}.txt", tag * 100), f("app/big.bin", os.urandom(40_000))],
            [f("etc/hostname", arch)],
        ],
        arch=arch,
        variant=variant,
    )


def files_of(image: Any) -> dict[str, bytes | None]:
    return {e.path: (image.read_entry(e) if e.is_file else None) for e in image.files()}


def push(reg: Registry, built: Any, repo: str = "team/app", tag: str = "1.0") -> str:
    layout = OCILayout()
    layout.tag(layout.add_image(built))
    return reg.push_layout(repo, layout, tag)


def test_pull_by_tag_gives_the_same_image_as_the_archive(
    registry: tuple[Registry, str], options: RegistryOptions, tmp_path: Path
) -> None:
    reg, host = registry
    built = small_image()
    digest = push(reg, built)
    archive = oci_archive(tmp_path / "app.tar", built)
    text = f"{host}/team/app:1.0"
    with open_image(text, registry=options) as pulled, open_image(archive) as local:
        assert files_of(pulled) == files_of(local)
        assert pulled.format == "registry"
        assert pulled.source == text
        assert pulled.reference == text and pulled.tags == (text,)
        assert pulled.manifest_digest == digest == local.manifest_digest
        assert pulled.config_digest == local.config_digest
        assert [layer.diff_id for layer in pulled.layers] == [
            layer.diff_id for layer in local.layers
        ]
        # the layers are read in place from the cache
        cache = BlobCache(options.cache_path())
        for layer in pulled.layers:
            assert cache.lookup(layer.digest) is not None
    accepts = [h.get("Accept", "") for _, p, h in reg.requests if "/manifests/" in p]
    assert accepts and all(OCI_INDEX in a and OCI_MANIFEST in a for a in accepts)
    assert "application/vnd.docker.distribution.manifest.list.v2+json" in accepts[0]
    assert "application/vnd.docker.distribution.manifest.v2+json" in accepts[0]


def test_a_layer_past_max_layer_bytes_is_not_downloaded(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    push(reg, built)
    with pytest.raises(LimitExceededError, match="max_layer_bytes") as info:
        open_image(f"{host}/team/app:1.0", registry=options, limits=Limits(max_layer_bytes=20_000))
    assert f"{host}/team/app:1.0" in str(info.value)
    assert reg.blob_gets() == [f"/v2/team/app/blobs/{sha256(built.config_bytes)}"]


def test_a_second_pull_takes_every_blob_from_the_cache(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image())
    with open_image(f"{host}/team/app:1.0", registry=options):
        pass
    first = len(reg.blob_gets())
    assert first == 4  # config and three layers
    with open_image(f"docker://{host}/team/app:1.0", registry=options) as again:
        assert again.source == f"docker://{host}/team/app:1.0"
    assert len(reg.blob_gets()) == first


def test_layers_download_in_parallel(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image())
    reg.delay = 0.3
    with open_image(f"{host}/team/app:1.0", registry=options):
        pass
    assert reg.max_active >= 2


def test_pull_by_digest(registry: tuple[Registry, str], options: RegistryOptions) -> None:
    reg, host = registry
    digest = push(reg, small_image())
    with open_image(f"{host}/team/app@{digest}", registry=options) as image:
        assert image.manifest_digest == digest
        assert image.reference == f"{host}/team/app@{digest}"


def test_a_pull_by_digest_seen_before_needs_no_registry(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    digest = push(reg, built)
    text = f"{host}/team/app@{digest}"
    with open_image(text, registry=options):
        pass
    reg.tags.clear()
    reg.manifests.clear()
    reg.blobs.clear()  # the registry forgot everything: the cache has it all
    asked = len(reg.requests)
    with open_image(text, registry=options) as image:
        assert image.manifest_digest == digest
        assert image.read_bytes("/app/one.txt") == b"one" * 100
    assert len(reg.requests) == asked
    with pytest.raises(RegistryNotFoundError):
        open_image(f"{host}/team/app:1.0", registry=options)  # a tag is always asked


def test_a_manifest_not_matching_the_digest_pulled_by_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    digest = push(reg, small_image())
    data, media = reg.manifests[digest]
    reg.manifests[digest] = (data.replace(b'"schemaVersion": 2', b'"schemaVersion":2'), media)
    with pytest.raises(DigestMismatchError) as info:
        open_image(f"{host}/team/app@{digest}", registry=options)
    assert host in str(info.value) and "team/app" in str(info.value)
    assert info.value.expected == digest


def test_a_wrong_docker_content_digest_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image())
    reg.wrong_content_digest.add("1.0")
    with pytest.raises(DigestMismatchError, match="Docker-Content-Digest") as info:
        open_image(f"{host}/team/app:1.0", registry=options)
    assert host in str(info.value)


def test_a_blob_not_matching_its_digest_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    push(reg, built)
    layer = sha256(built.layers[1])
    reg.blobs[layer] = reg.blobs[layer][:-1] + bytes([reg.blobs[layer][-1] ^ 1])
    with pytest.raises(DigestMismatchError) as info:
        open_image(f"{host}/team/app:1.0", registry=options)
    message = str(info.value)
    assert f"registry {host} sent" in message and f"/blobs/{layer}" in message
    assert message.count(f"{host}/team/app:1.0") == 1  # said once, not wrapped twice
    assert info.value.expected == layer and info.value.source == f"{host}/team/app:1.0"
    assert BlobCache(options.cache_path()).lookup(layer) is None


def two_platforms(reg: Registry) -> dict[str, Any]:
    layout = OCILayout()
    images = {"amd64": small_image("amd", "amd64"), "arm64": small_image("arm", "arm64", "v8")}
    amd = layout.add_image(images["amd64"], platform={"os": "linux", "architecture": "amd64"})
    arm = layout.add_image(
        images["arm64"], platform={"os": "linux", "architecture": "arm64", "variant": "v8"}
    )
    layout.tag(layout.add_index([amd, arm]))
    reg.push_layout("team/multi", layout, "latest")
    return images


def blob_paths(repo: str, built: Any) -> set[str]:
    return {f"/v2/{repo}/blobs/{sha256(b)}" for b in [built.config_bytes, *built.layers]}


def test_an_index_chooses_by_platform_and_defaults_to_the_host(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    images = two_platforms(reg)
    with open_image(f"{host}/team/multi", registry=options, platform="linux/arm64") as arm:
        assert (arm.architecture, arm.variant) == ("arm64", "v8")
        assert arm.read_bytes("/etc/hostname") == b"arm64"
    # only the chosen image's blobs were fetched
    assert set(reg.blob_gets()) == blob_paths("team/multi", images["arm64"])
    with open_image(f"{host}/team/multi:latest", registry=options) as default:
        assert default.platform.matches(host_platform())
    with pytest.raises(PlatformNotFoundError, match="linux/s390x"):
        open_image(f"{host}/team/multi", registry=options, platform="linux/s390x")


def test_an_index_entry_whose_config_is_for_another_platform_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    layout = OCILayout()
    claimed = {"os": "linux", "architecture": "arm64"}
    layout.tag(layout.add_index([layout.add_image(small_image(arch="amd64"), platform=claimed)]))
    reg.push_layout("team/liar", layout, "1")
    with pytest.raises(PlatformNotFoundError, match="linux/amd64 by its config"):
        open_image(f"{host}/team/liar:1", registry=options, platform="linux/arm64")


def test_host_platform_names_machines_as_oci_does() -> None:
    assert str(host_platform("x86_64")) == "linux/amd64"
    assert str(host_platform("aarch64")) == "linux/arm64/v8"
    assert str(host_platform("armv7l")) == "linux/arm/v7"
    assert str(host_platform("i686")) == "linux/386"
    assert str(host_platform("ppc64le")) == "linux/ppc64le"


def test_a_single_platform_image_for_another_platform_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image(arch="riscv64"))
    with pytest.raises(PlatformNotFoundError, match="riscv64"):
        open_image(f"{host}/team/app:1.0", registry=options)
    with open_image(f"{host}/team/app:1.0", registry=options, platform="linux/riscv64") as image:
        assert image.architecture == "riscv64"


def test_a_schema1_manifest_is_an_unsupported_media_type(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    body = json.dumps({"schemaVersion": 1, "name": "team/old", "tag": "1", "fsLayers": []})
    reg.tags["team/old"] = {"1": (body.encode(), SCHEMA1)}
    with pytest.raises(UnsupportedMediaTypeError, match="schema 1") as info:
        open_image(f"{host}/team/old:1", registry=options)
    assert info.value.registry == host
    assert "team/old" in str(info.value)


def test_an_artifact_that_is_no_image_is_an_unsupported_media_type(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    reg.tags["team/chart"] = {"1": (b"{}", "application/vnd.cncf.helm.chart.content.v1.tar+gzip")}
    with pytest.raises(UnsupportedMediaTypeError, match="helm"):
        open_image(f"{host}/team/chart:1", registry=options)


def test_an_unknown_tag_or_repository_is_not_found(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image())
    for text in (f"{host}/team/app:nope", f"{host}/team/none:1"):
        with pytest.raises(RegistryNotFoundError) as info:
            open_image(text, registry=options)
        assert info.value.registry == host
        assert text.split("/", 1)[1].split(":")[0] in str(info.value)


def test_a_tag_argument_with_a_reference_is_refused(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    _, host = registry
    with pytest.raises(InvalidReferenceError, match="carries its own tag"):
        open_image(f"{host}/team/app:1.0", registry=options, tag="2.0")
    with pytest.raises(TypeError):
        open_image(f"{host}/team/app:1.0", registry={"cache_dir": "x"})  # type: ignore[arg-type]


def test_a_missing_archive_name_is_not_pulled(options: RegistryOptions) -> None:
    for source in ("image.tar", Path("localhost:5000/team/app:1.0")):
        with pytest.raises(ImageNotFoundError, match="no such file") as info:
            open_image(source, registry=options)
        assert not isinstance(info.value, RegistryNotFoundError)


def test_an_interrupted_layer_download_resumes_with_range(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    push(reg, built)
    big = sha256(built.layers[1])
    reg.drop_once.add(big)
    with open_image(f"{host}/team/app:1.0", registry=options) as image:
        assert len(image.read_bytes("/app/big.bin")) == 40_000
    gets = [h for _, p, h in reg.requests if p.endswith(big)]
    assert len(gets) == 2
    assert re.fullmatch(r"bytes=\d+-", gets[1].get("Range", "")), gets[1]


def test_a_partial_left_by_a_dead_pull_is_continued(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    push(reg, built)
    big = sha256(built.layers[1])
    partial = Path(str(BlobCache(options.cache_path()).path(big)) + ".partial")
    partial.parent.mkdir(parents=True)
    partial.write_bytes(built.layers[1][:10_000])
    with open_image(f"{host}/team/app:1.0", registry=options) as image:
        assert len(image.read_bytes("/app/big.bin")) == 40_000
    gets = [h for _, p, h in reg.requests if p.endswith(big)]
    assert [h.get("Range") for h in gets] == ["bytes=10000-"]
    assert not partial.exists()


def test_a_corrupted_cached_blob_is_fetched_again(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    push(reg, built)
    text = f"{host}/team/app:1.0"
    with open_image(text, registry=options):
        pass
    cache = BlobCache(options.cache_path())
    config, layer = sha256(built.config_bytes), sha256(built.layers[1])
    for digest in (config, layer):
        path = cache.path(digest)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF  # same size, wrong bytes
        path.write_bytes(bytes(data))
    before = len(reg.blob_gets())
    with open_image(text, registry=options) as image:
        assert image.read_bytes("/app/one.txt") == b"one" * 100
    assert len(reg.blob_gets()) == before + 2
    assert hashlib.sha256(cache.path(layer).read_bytes()).hexdigest() == layer.split(":")[1]


def test_the_cache_is_pruned_after_a_pull_keeping_the_image(
    registry: tuple[Registry, str], tmp_path: Path
) -> None:
    reg, host = registry
    small = RegistryOptions(
        cache_dir=str(tmp_path / "cache"), environ={"HOME": str(tmp_path)}, cache_max_bytes=1
    )
    push(reg, small_image("one"), tag="1")
    push(reg, small_image("two"), tag="2")
    with open_image(f"{host}/team/app:1", registry=small) as first:
        one = [layer.digest for layer in first.layers]
    with open_image(f"{host}/team/app:2", registry=small) as second:
        two = [layer.digest for layer in second.layers]
        assert second.read_bytes("/app/two.txt") == b"two" * 100
    cache = BlobCache(small.cache_path())
    assert all(cache.lookup(d) is not None for d in two)
    assert all(cache.lookup(d) is None for d in one if d not in two)


def test_an_open_image_keeps_its_blobs_through_a_prune_by_another_process(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    # uncompressed layers are read in place from the cache, never spooled
    push(reg, build([[f("app/big.bin", os.urandom(40_000)), f("etc/x", "x")]], compression="none"))
    cache_dir = str(options.cache_path())
    prune = [sys.executable, "-m", "anchore", "cache", "prune", "--cache-dir", cache_dir]
    with open_image(f"{host}/team/app:1.0", registry=options) as image:
        expected = {e.path: e.size for e in image.files() if e.is_file}
        done = subprocess.run(prune, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        read = {e.path: len(image.read_entry(e)) for e in image.files() if e.is_file}
        assert read == expected and read["/app/big.bin"] == 40_000
    # closed: nothing holds the blobs any more, and the same prune removes them all
    subprocess.run(prune, capture_output=True, timeout=120, check=True)
    assert BlobCache(cache_dir).usage() == (0, 0)


def test_an_image_never_closed_lets_its_blobs_go_once_collected(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    push(reg, small_image())
    image = open_image(f"{host}/team/app:1.0", registry=options)
    cache = BlobCache(options.cache_path())
    assert cache.prune(0) == (0, 0)  # held while the image lives
    del image
    gc.collect()
    assert cache.prune(0)[0] > 0 and cache.usage() == (0, 0)


def test_list_tags_follows_link_pages(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    for tag in ("a", "b", "c", "d", "e"):
        push(reg, built, tag=tag)
    reg.page_size = 2
    with RegistryClient(options) as client:
        assert client.list_tags(parse_reference(f"{host}/team/app")) == ["a", "b", "c", "d", "e"]
    assert sum("/tags/list" in p for _, p, _ in reg.requests) == 3


def test_registry_source_serves_the_layout_names(
    registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    built = small_image()
    digest = push(reg, built)
    source = RegistrySource(parse_reference(f"{host}/team/app:1.0"), Limits(), options=options)
    try:
        assert source.label == f"{host}/team/app:1.0"
        assert source.exists("index.json") and not source.exists("oci-layout")
        index = json.loads(source.read_bytes("index.json", Limits()))
        assert index["manifests"][0]["digest"] == digest
        assert index["manifests"][0]["mediaType"] == OCI_MANIFEST
        config = source.blob("blobs/sha256/" + sha256(built.config_bytes).split(":")[1])
        assert config.size == len(built.config_bytes)
        assert reg.blob_gets() == [f"/v2/team/app/blobs/{sha256(built.config_bytes)}"]
    finally:
        source.close()


@pytest.mark.corpus
def test_pull_of_a_corpus_image_matches_its_archive(
    corpus: Path, registry: tuple[Registry, str], options: RegistryOptions
) -> None:
    reg, host = registry
    archive = corpus / "debian-min.oci.tar"
    layout = OCILayout()
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            data = tar.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if data is None:
                continue
            if member.name.lstrip("./").startswith("blobs/sha256/"):
                layout.blobs["sha256:" + member.name.rsplit("/", 1)[1]] = data
            elif member.name.lstrip("./") == "index.json":
                layout.index = json.loads(data)
    reg.push_layout("corpus/debian-min", layout, "latest")
    pulled_image = open_image(f"{host}/corpus/debian-min", registry=options)
    with pulled_image as pulled, open_image(str(archive)) as local:
        assert pulled.manifest_digest == local.manifest_digest
        assert sorted(e.path for e in pulled.files()) == sorted(e.path for e in local.files())
        assert pulled.read_bytes("/etc/os-release") == local.read_bytes("/etc/os-release")
