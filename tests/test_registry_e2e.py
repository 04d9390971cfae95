"""The registry proof: images pulled from a real registry on loopback (Debian's
docker-registry, pushed with skopeo from the corpus) read as the archives do.

The first tests check the servers themselves (so a failure below is the client's,
not the fixture's); the rest pull through ``anchore.open_image``.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pytest

import anchore
import anchore.errors
from anchore.errors import DigestMismatchError, PlatformNotFoundError
from anchore.image.filetree import FileEntry
from anchore.image.remote import host_platform
from anchore.registry import (
    Credentials,
    RegistryAuthError,
    RegistryConnectionError,
    RegistryNotFoundError,
    RegistryOptions,
    RegistryRateLimitedError,
    RegistryTLSError,
)

if TYPE_CHECKING:
    from registry_server import CountingProxy, Registry

pytest_plugins = ["registry_server"]  # the registry fixtures, started once per session
pytestmark = pytest.mark.corpus

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join(
    [
        DOCKER_MANIFEST,
        OCI_MANIFEST,
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def _get(
    registry: Registry, path: str, headers: dict[str, str] | None = None, port: str | None = None
) -> http.client.HTTPResponse:
    host, default_port = registry.host.split(":")
    if registry.scheme == "https":
        context = ssl.create_default_context(cafile=registry.ca_bundle)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port or default_port), timeout=10, context=context
        )
    else:
        conn = http.client.HTTPConnection(host, int(port or default_port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the servers, checked without anchore ------------------------------------------------


def test_plain_registry_holds_docker_and_oci_manifests_and_an_index(
    registry_plain: Registry,
) -> None:
    kinds = {}
    for name in ("corpus/debian-py:1", "corpus/debian-py:oci", "corpus/multi:1"):
        repo, tag = name.split(":")
        answer = _get(registry_plain, f"/v2/{repo}/manifests/{tag}", {"Accept": ACCEPT})
        assert answer.status == 200, name
        assert answer.headers["Docker-Content-Digest"] == registry_plain.digests[name]
        kinds[name] = answer.headers["Content-Type"]
    assert kinds == {
        "corpus/debian-py:1": DOCKER_MANIFEST,
        "corpus/debian-py:oci": OCI_MANIFEST,
        "corpus/multi:1": OCI_INDEX,
    }


def test_tls_registry_wants_its_ca_and_basic_credentials(registry_tls: Registry) -> None:
    user, password = registry_tls.username or "", registry_tls.password or ""
    assert _get(registry_tls, "/v2/").status == 401
    assert _get(registry_tls, "/v2/", {"Authorization": _basic(user, password)}).status == 200
    assert _get(registry_tls, "/v2/", {"Authorization": _basic(user, "wrong")}).status == 401
    untrusted = attrs.evolve(registry_tls, ca_bundle=None)
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(untrusted, "/v2/")


def test_token_registry_accepts_the_token_servers_jwt(registry_token: Registry) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    user, password = registry_token.username or "", registry_token.password or ""
    challenge = _get(registry_token, "/v2/corpus/debian-min/manifests/1", {"Accept": ACCEPT})
    assert challenge.status == 401
    assert f'realm="{tokens.realm}"' in challenge.headers["WWW-Authenticate"]
    realm = urllib.parse.urlsplit(tokens.realm)
    query = urllib.parse.urlencode(
        {"service": "anchore-test-registry", "scope": "repository:corpus/debian-min:pull"}
    )
    conn = http.client.HTTPConnection(realm.hostname, realm.port, timeout=10)
    conn.request("GET", f"{realm.path}?{query}", headers={"Authorization": _basic(user, password)})
    token = json.loads(conn.getresponse().read())["token"]
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": user,
            "password": password,
            "service": "anchore-test-registry",
            "scope": "repository:corpus/debian-min:pull",
            "client_id": "test",
        }
    )
    conn.request("POST", realm.path, body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    posted = json.loads(conn.getresponse().read())["access_token"]
    conn.request("GET", f"{realm.path}?{query}", headers={"Authorization": _basic(user, "no")})
    refused = conn.getresponse()
    refused.read()
    conn.close()
    assert refused.status == 401
    for jwt in (token, posted):
        answer = _get(
            registry_token,
            "/v2/corpus/debian-min/manifests/1",
            {"Accept": ACCEPT, "Authorization": f"Bearer {jwt}"},
        )
        assert answer.status == 200
    anonymous = tokens.token("", [])
    denied = _get(
        registry_token,
        "/v2/corpus/debian-min/manifests/1",
        {"Accept": ACCEPT, "Authorization": f"Bearer {anonymous}"},
    )
    assert denied.status == 401


# -- pulled through anchore ---------------------------------------------------------------


def _options(tmp_path: Path, **kw: Any) -> RegistryOptions:
    """Options with their own cache and an environment holding no user's credentials."""
    environ = kw.pop("environ", {"HOME": str(tmp_path / "home")})
    kw.setdefault("cache_dir", str(tmp_path / "cache"))
    return RegistryOptions(environ=environ, **kw)


def _fingerprint(image: anchore.Image) -> dict[str, Any]:
    """Every file of every layer (path, type, mode, owner, size, mtime, link target, layer)
    and of the squashed view, with the SHA-256 of each regular file's content."""
    contents: dict[tuple[int, int], str] = {}
    squashed = list(image.files())
    entries = [e for layer in image.layers for e in layer.files()] + squashed
    readable = [e for e in entries if e.is_file and not e.sparse]
    small = [e for e in readable if e.size <= image.limits.max_read_bytes]
    for entry, data in image.read_many({e.data_location: e for e in small}.values()):
        contents[entry.data_location] = hashlib.sha256(data).hexdigest()
    for entry in readable:
        if entry.data_location not in contents:
            with image.open_entry(entry) as fh:
                contents[entry.data_location] = hashlib.file_digest(fh, "sha256").hexdigest()

    def row(e: FileEntry) -> tuple[Any, ...]:
        digest = contents.get(e.data_location) if e.is_file else None
        return (e.path, e.type, e.mode, e.uid, e.gid, e.size, e.mtime, e.link_target,
                e.layer_index, e.xattrs, digest)  # fmt: skip

    return {
        "layers": [[row(e) for e in layer.files()] for layer in image.layers],
        "whiteouts": [layer.whiteouts for layer in image.layers],
        "squashed": [row(e) for e in squashed],
        "diff_ids": [layer.diff_id for layer in image.layers],
        "config": image.config_digest,
        "platform": str(image.platform),
    }


def _packages(analysis: Any) -> set[tuple[Any, ...]]:
    """Each package with where it was found (path and layer; the layer's blob digest
    differs by design: the registry holds the layers gzip-compressed, the archive not)."""
    return {
        (p.type, p.name, p.version, tuple((loc.path, loc.layer_index) for loc in p.locations))
        for p in analysis.packages
    }


def _distro(analysis: Any) -> Any:
    if analysis.distro is None:
        return None
    return attrs.evolve(
        analysis.distro,
        locations=tuple(attrs.evolve(loc, layer_digest="") for loc in analysis.distro.locations),
    )


@pytest.fixture(scope="module")
def archive_truth(corpus: Path) -> dict[str, Any]:
    """What the docker archive of debian-py holds, and its analysis."""
    with anchore.open_image(corpus / "debian-py.docker.tar") as image:
        analysis = anchore.analyze(image)
        return {
            "files": _fingerprint(image),
            "packages": _packages(analysis),
            "distro": _distro(analysis),
        }


@pytest.mark.parametrize("name", ["corpus/debian-py:1", "corpus/debian-py:oci"])
def test_pull_gives_the_archives_files_and_analysis(
    name: str, registry_plain: Registry, archive_truth: dict[str, Any], tmp_path: Path
) -> None:
    """The issue's proof: pulled (Docker v2 or OCI manifest) == read from the archive."""
    options = _options(tmp_path)
    with anchore.open_image(registry_plain.ref(name), registry=options) as image:
        assert image.format == "registry"
        assert image.manifest_digest == registry_plain.digests[name]
        assert _fingerprint(image) == archive_truth["files"]
        analysis = anchore.analyze(image)
    assert archive_truth["packages"] and len(archive_truth["packages"]) > 100
    assert _packages(analysis) == archive_truth["packages"]
    assert archive_truth["distro"] is not None
    assert _distro(analysis) == archive_truth["distro"]


def test_pull_by_digest(registry_plain: Registry, tmp_path: Path) -> None:
    digest = registry_plain.digests["corpus/debian-min:1"]
    ref = registry_plain.ref(f"corpus/debian-min@{digest}")
    with anchore.open_image(ref, registry=_options(tmp_path)) as image:
        assert image.manifest_digest == digest
        assert image.exists("/etc/os-release")
    absent = "sha256:" + "0" * 64
    with pytest.raises(RegistryNotFoundError) as caught:
        anchore.open_image(
            registry_plain.ref(f"corpus/debian-min@{absent}"), registry=_options(tmp_path)
        )
    assert registry_plain.host in str(caught.value)


@pytest.mark.parametrize("name", ["corpus/debian-min:no-such-tag", "corpus/no-such-repo:1"])
def test_what_is_not_there_is_not_found(
    name: str, registry_plain: Registry, tmp_path: Path
) -> None:
    with pytest.raises(RegistryNotFoundError) as caught:
        anchore.open_image(registry_plain.ref(name), registry=_options(tmp_path))
    assert caught.value.registry == registry_plain.host
    assert name.split(":")[0] in str(caught.value)
    assert isinstance(caught.value, anchore.errors.ImageNotFoundError)


@pytest.mark.parametrize(
    ("platform", "expected"),
    [(None, "linux/amd64"), ("linux/amd64", "linux/amd64"), ("linux/arm64/v8", "linux/arm64/v8")],
)
def test_platform_chosen_in_an_index(
    platform: str | None, expected: str, registry_plain: Registry, tmp_path: Path
) -> None:
    if platform is None and host_platform() != anchore.Platform.parse("linux/amd64"):
        expected = str(host_platform())  # the default is this machine's
    ref = registry_plain.ref("corpus/multi:1")
    try:
        image = anchore.open_image(ref, platform=platform, registry=_options(tmp_path))
    except PlatformNotFoundError:
        assert platform is None and expected not in ("linux/amd64", "linux/arm64/v8")
        return
    with image:
        assert image.read_bytes("/etc/platform").decode().strip() == expected
        assert str(image.platform) == expected


def test_a_single_platform_image_is_checked_against_the_platform(
    registry_plain: Registry, tmp_path: Path
) -> None:
    """No index to choose in, but the config says arm64: read when asked for it, refused
    when another platform (or this machine's, when it is not arm64) is wanted."""
    ref = registry_plain.ref("corpus/arm64:1")
    with anchore.open_image(ref, platform="linux/arm64", registry=_options(tmp_path)) as image:
        assert image.read_bytes("/etc/platform") == b"linux/arm64/v8\n"
    with pytest.raises(PlatformNotFoundError, match="linux/arm64"):
        anchore.open_image(ref, platform="linux/amd64", registry=_options(tmp_path))
    if host_platform().architecture != "arm64":
        with pytest.raises(PlatformNotFoundError):
            anchore.open_image(ref, registry=_options(tmp_path))


def test_a_platform_the_index_lacks_is_refused(registry_plain: Registry, tmp_path: Path) -> None:
    with pytest.raises(PlatformNotFoundError):
        anchore.open_image(
            registry_plain.ref("corpus/multi:1"),
            platform="linux/s390x",
            registry=_options(tmp_path),
        )


def test_plain_http_off_loopback_only_when_named_insecure(
    registry_lan: Registry, tmp_path: Path
) -> None:
    ref = registry_lan.ref("corpus/debian-min:1")
    asked = len(registry_lan.requests())
    with pytest.raises(RegistryConnectionError) as caught:
        anchore.open_image(ref, registry=_options(tmp_path))
    assert registry_lan.host in str(caught.value)
    assert len(registry_lan.requests()) == asked  # nothing asked over plain HTTP
    options = _options(tmp_path, insecure_registries=frozenset({registry_lan.host}))
    with anchore.open_image(ref, registry=options) as image:
        assert image.manifest_digest == registry_lan.digests["corpus/debian-min:1"]
    done = _anchore(["inspect", "--json", ref, "--insecure-registry", registry_lan.host], tmp_path)
    assert done.returncode == 0, done.stderr


# -- TLS and credentials ------------------------------------------------------------------


def _docker_config(
    tmp_path: Path, registry: Registry, password: str | None = None
) -> dict[str, str]:
    """An environment whose ``DOCKER_CONFIG`` holds a real config.json for ``registry``."""
    from registry_server import write_docker_config  # loaded as a plugin by now

    config = write_docker_config(tmp_path / "docker", registry, password=password)
    return {"HOME": str(tmp_path), "DOCKER_CONFIG": str(config.parent)}


def test_tls_with_the_ca_and_credentials_from_docker_config(
    registry_tls: Registry, tmp_path: Path
) -> None:
    environ = _docker_config(tmp_path, registry_tls)
    options = _options(tmp_path, ca_bundle=registry_tls.ca_bundle, environ=environ)
    with anchore.open_image(registry_tls.ref("corpus/debian-min:1"), registry=options) as image:
        assert image.exists("/etc/os-release")
        assert image.manifest_digest == registry_tls.digests["corpus/debian-min:1"]


def test_tls_without_the_ca_is_refused(registry_tls: Registry, tmp_path: Path) -> None:
    environ = _docker_config(tmp_path, registry_tls)
    with pytest.raises(RegistryTLSError) as caught:
        anchore.open_image(
            registry_tls.ref("corpus/debian-min:1"), registry=_options(tmp_path, environ=environ)
        )
    assert registry_tls.host in str(caught.value)


def test_tls_verification_off_when_asked(registry_tls: Registry, tmp_path: Path) -> None:
    """verify_tls=False (--insecure-skip-tls-verify) reads without the CA; digests still
    hold: pulled by digest, the manifest must hash to it."""
    environ = _docker_config(tmp_path, registry_tls)
    options = _options(tmp_path, environ=environ, verify_tls=False)
    digest = registry_tls.digests["corpus/debian-min:1"]
    ref = registry_tls.ref(f"corpus/debian-min@{digest}")
    with anchore.open_image(ref, registry=options) as image:
        assert image.manifest_digest == digest


def test_wrong_or_missing_credentials_are_refused(registry_tls: Registry, tmp_path: Path) -> None:
    wrong = _docker_config(tmp_path, registry_tls, password="not-the-password")
    for environ in (wrong, {"HOME": str(tmp_path / "nobody")}):
        options = _options(tmp_path, ca_bundle=registry_tls.ca_bundle, environ=environ)
        with pytest.raises(RegistryAuthError) as caught:
            anchore.open_image(registry_tls.ref("corpus/debian-min:1"), registry=options)
        assert registry_tls.host in str(caught.value)
        assert "not-the-password" not in str(caught.value)


def test_credentials_passed_in(registry_tls: Registry, tmp_path: Path) -> None:
    creds = Credentials(str(registry_tls.username), str(registry_tls.password), origin="test")
    options = _options(
        tmp_path, ca_bundle=registry_tls.ca_bundle, credentials={registry_tls.host: creds}
    )
    with anchore.open_image(registry_tls.ref("corpus/debian-py:oci"), registry=options) as image:
        assert image.manifest_digest == registry_tls.digests["corpus/debian-py:oci"]


def test_token_auth(registry_token: Registry, tmp_path: Path) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    environ = _docker_config(tmp_path, registry_token)
    before = len(tokens.requests)
    options = _options(tmp_path, environ=environ, allowed_realm_hosts=frozenset({"127.0.0.1"}))
    with anchore.open_image(registry_token.ref("corpus/debian-min:1"), registry=options) as image:
        assert image.exists("/etc/os-release")
    asked = tokens.requests[before:]
    assert asked and all(user == registry_token.username for _, _, user in asked)
    assert any("repository:corpus/debian-min:pull" in scopes for _, scopes, _ in asked)
    assert {method for method, _, _ in asked} == {"GET"}  # Basic auth on a GET, as docker does


def test_token_auth_with_an_identity_token(registry_token: Registry, tmp_path: Path) -> None:
    """An identity token (docker login's refresh token) goes in the POST form."""
    tokens = registry_token.token_server
    assert tokens is not None
    creds = Credentials(identity_token=f"refresh-{registry_token.username}", origin="test")
    options = _options(
        tmp_path,
        credentials={registry_token.host: creds},
        allowed_realm_hosts=frozenset({"127.0.0.1"}),
    )
    before = len(tokens.requests)
    with anchore.open_image(registry_token.ref("corpus/debian-min:1"), registry=options) as image:
        assert image.exists("/etc/os-release")
    assert [m for m, _, user in tokens.requests[before:] if user] and all(
        method == "POST" for method, _, _ in tokens.requests[before:]
    )


def test_token_auth_refuses_wrong_credentials(registry_token: Registry, tmp_path: Path) -> None:
    environ = _docker_config(tmp_path, registry_token, password="wrong")
    options = _options(tmp_path, environ=environ, allowed_realm_hosts=frozenset({"127.0.0.1"}))
    with pytest.raises(RegistryAuthError):
        anchore.open_image(registry_token.ref("corpus/debian-min:1"), registry=options)
    anonymous = _options(tmp_path, allowed_realm_hosts=frozenset({"127.0.0.1"}))
    with pytest.raises(RegistryAuthError):
        anchore.open_image(registry_token.ref("corpus/debian-min:1"), registry=anonymous)


# -- the cache: reuse, resume, two processes ----------------------------------------------


def test_second_pull_downloads_no_blob(registry_proxy: CountingProxy, tmp_path: Path) -> None:
    options = _options(tmp_path)
    with anchore.open_image(registry_proxy.ref("corpus/debian-py:1"), registry=options) as image:
        first = _fingerprint(image)
    fetched = registry_proxy.blob_gets()
    assert len(fetched) >= 4  # the config and the layers
    asked = len(registry_proxy.seen)
    with anchore.open_image(registry_proxy.ref("corpus/debian-py:1"), registry=options) as image:
        assert _fingerprint(image) == first
        digest = image.manifest_digest
    assert registry_proxy.blob_gets() == fetched  # nothing more
    again = [path for _, path, _ in registry_proxy.seen[asked:]]
    assert again[-1] == "/v2/corpus/debian-py/manifests/1"  # a tag may move: asked again
    asked = len(registry_proxy.seen)
    by_digest = registry_proxy.ref(f"corpus/debian-py@{digest}")
    with anchore.open_image(by_digest, registry=options) as image:
        assert _fingerprint(image) == first
    assert registry_proxy.seen[asked:] == []  # by digest, all cached: the registry is not asked


def test_a_dropped_download_resumes_with_range(
    registry_proxy: CountingProxy, registry_plain: Registry, tmp_path: Path
) -> None:
    registry_proxy.cut_blobs = 1
    options = _options(tmp_path)
    with anchore.open_image(registry_proxy.ref("corpus/debian-py:1"), registry=options) as image:
        assert image.exists("/usr/bin/python3")
    assert registry_proxy.cut_blobs == 0  # one download was cut
    ranged = [(path, rng) for path, rng in registry_proxy.blob_gets() if rng]
    assert ranged, registry_proxy.blob_gets()
    rng = ranged[0][1]
    assert re.fullmatch(r"bytes=[1-9]\d*-", rng)  # continued, not started over
    _cache_is_consistent(Path(options.cache_path()))


def test_429_and_5xx_are_retried_and_retry_after_honoured(
    registry_proxy: CountingProxy, tmp_path: Path
) -> None:
    registry_proxy.fail_next = [(429, {"Retry-After": "1"}), (503, {}), (502, {})]
    started = time.monotonic()
    with anchore.open_image(
        registry_proxy.ref("corpus/debian-min:1"), registry=_options(tmp_path)
    ) as image:
        assert image.exists("/etc/os-release")
    assert time.monotonic() - started >= 1.0  # waited as Retry-After said
    assert registry_proxy.fail_next == []
    first = registry_proxy.seen[0][1]
    assert [path for _, path, _ in registry_proxy.seen[:4]] == [first] * 4  # asked again


def test_rate_limited_after_the_retries(registry_proxy: CountingProxy, tmp_path: Path) -> None:
    registry_proxy.fail_next = [(429, {"Retry-After": "0"})] * 10
    options = _options(tmp_path, retries=2)
    with pytest.raises(RegistryRateLimitedError) as caught:
        anchore.open_image(registry_proxy.ref("corpus/debian-min:1"), registry=options)
    assert registry_proxy.host in str(caught.value)
    assert len(registry_proxy.seen) == 3  # the first try and two retries


def test_a_corrupt_blob_is_a_digest_mismatch_and_not_cached(
    registry_proxy: CountingProxy, tmp_path: Path
) -> None:
    registry_proxy.corrupt_blobs = 1000  # every blob, every time
    options = _options(tmp_path)
    ref = registry_proxy.ref("corpus/debian-min:1")
    with pytest.raises(DigestMismatchError) as caught:
        anchore.open_image(ref, registry=options)
    assert registry_proxy.host in str(caught.value)
    cached = [p for p in Path(options.cache_path()).rglob("*") if p.is_file()]
    for path in cached:  # what is kept (manifests) is right; no corrupt blob under its name
        if "." not in path.name:
            with open(path, "rb") as fh:
                assert hashlib.file_digest(fh, path.parent.name).hexdigest() == path.name
    registry_proxy.corrupt_blobs = 0
    with anchore.open_image(ref, registry=options) as image:  # and the next pull is whole
        assert image.exists("/etc/os-release")


def _blob(registry: Registry, repository: str, digest: str) -> bytes:
    host, port = registry.host.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", f"/v2/{repository}/blobs/{digest}")
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    assert answer.status == 200
    return data


def test_a_partial_left_by_a_dead_pull_is_continued(
    registry_proxy: CountingProxy, registry_plain: Registry, tmp_path: Path
) -> None:
    manifest = json.loads(
        _get_body(registry_plain, "/v2/corpus/debian-py/manifests/1", {"Accept": ACCEPT})
    )
    largest = max(manifest["layers"], key=lambda layer: layer["size"])
    data = _blob(registry_plain, "corpus/debian-py", largest["digest"])
    options = _options(tmp_path)
    algorithm, hexdigest = largest["digest"].split(":")
    partial = Path(options.cache_path()) / algorithm / f"{hexdigest}.partial"
    partial.parent.mkdir(parents=True)
    partial.write_bytes(data[: len(data) // 3])
    with anchore.open_image(registry_proxy.ref("corpus/debian-py:1"), registry=options) as image:
        assert image.exists("/usr/bin/python3")
    ranges = [rng for path, rng in registry_proxy.blob_gets() if path.endswith(largest["digest"])]
    assert ranges == [f"bytes={len(data) // 3}-"]
    _cache_is_consistent(Path(options.cache_path()))


def _get_body(registry: Registry, path: str, headers: dict[str, str]) -> bytes:
    host, port = registry.host.split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path, headers=headers)
    data = conn.getresponse().read()
    conn.close()
    return data


def _cache_is_consistent(root: Path) -> None:
    """Every blob is named by its digest; no partial or temporary file is left."""
    blobs = [p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".lock")]
    assert blobs
    for path in blobs:
        assert "." not in path.name, f"left over: {path}"
        with open(path, "rb") as fh:
            assert hashlib.file_digest(fh, path.parent.name).hexdigest() == path.name, path


_PULL = """
import sys
import anchore
from anchore.registry import RegistryOptions

options = RegistryOptions(cache_dir=sys.argv[2], environ={"HOME": sys.argv[3]})
with anchore.open_image(sys.argv[1], registry=options) as image:
    print(len(list(image.files())), image.manifest_digest)
"""


def test_two_processes_pulling_at_once(registry_plain: Registry, tmp_path: Path) -> None:
    cache = tmp_path / "shared-cache"
    ref = registry_plain.ref("corpus/debian-py:1")
    cmd = [sys.executable, "-c", _PULL, ref, str(cache), str(tmp_path)]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outs.append(out.split())
    assert outs[0] == outs[1]
    assert int(outs[0][0]) > 1000 and outs[0][1] == registry_plain.digests["corpus/debian-py:1"]
    _cache_is_consistent(cache)


# -- the command line ---------------------------------------------------------------------


def _anchore(argv: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin",
           "ANCHORE_CACHE_DIR": str(tmp_path / "cache")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "anchore", *argv],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_pulls_with_username_password_stdin_and_ca_bundle(
    registry_tls: Registry, tmp_path: Path
) -> None:
    ref = registry_tls.ref("corpus/debian-min:1")
    argv = ["inspect", "--json", ref, "--ca-bundle", str(registry_tls.ca_bundle)]
    done = _anchore([*argv, "--username", str(registry_tls.username), "--password-stdin"],
                    tmp_path, stdin=f"{registry_tls.password}\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["manifest_digest"] == registry_tls.digests["corpus/debian-min:1"]
    info = _anchore(["cache", "info", "--json"], tmp_path)
    assert json.loads(info.stdout)["blobs"] >= 3  # manifest, config, layer
    wrong = _anchore([*argv, "--username", "nobody", "--password-stdin"], tmp_path, stdin="x\n")
    assert wrong.returncode == anchore.errors.ExitCode.INPUT_ERROR
    assert wrong.stderr.count("\n") == 1 and wrong.stderr.startswith("anchore: error: ")
    assert registry_tls.host in wrong.stderr


def test_cli_a_missing_tag_is_one_line_and_exit_5(registry_plain: Registry, tmp_path: Path) -> None:
    done = _anchore(["analyze", registry_plain.ref("corpus/debian-min:nope")], tmp_path)
    assert done.returncode == anchore.errors.ExitCode.INPUT_ERROR
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert "corpus/debian-min" in done.stderr and registry_plain.host in done.stderr


def test_cli_analyze_of_a_pulled_image_is_the_archives(
    registry_plain: Registry, corpus: Path, tmp_path: Path
) -> None:
    pulled = _anchore(["analyze", "--json", registry_plain.ref("corpus/debian-min:1")], tmp_path)
    local = _anchore(["analyze", "--json", str(corpus / "debian-min.docker.tar")], tmp_path)
    assert pulled.returncode == local.returncode == 0, pulled.stderr + local.stderr

    def names(text: str) -> set[tuple[str, str, str]]:
        return {(p["type"], p["name"], p["version"]) for p in json.loads(text)["packages"]}

    assert names(pulled.stdout) == names(local.stdout) and names(local.stdout)


def test_a_pull_reports_its_layers_arriving(registry_plain: Registry, tmp_path: Path) -> None:
    """RegistryOptions.progress: ("pull", done, total) from 0 to every blob, cached or
    fetched, the callback the command line draws its bar with."""
    calls: list[tuple[str, int, int | None]] = []
    options = attrs.evolve(_options(tmp_path), progress=lambda *call: calls.append(call))
    with anchore.open_image(registry_plain.ref("corpus/debian-py:1"), registry=options) as image:
        layers = len(image.layers)
    assert calls[0] == ("pull", 0, calls[0][2]) and calls[0][2] >= layers
    total = calls[0][2]
    assert [done for _, done, _ in calls] == list(range(total + 1))
    assert {(stage, n) for stage, _, n in calls} == {("pull", total)}
    calls.clear()  # a second pull: every blob from the cache, still reported
    with anchore.open_image(registry_plain.ref("corpus/debian-py:1"), registry=options):
        pass
    assert calls[-1] == ("pull", total, total)
