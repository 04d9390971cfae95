"""Real registries on loopback for the tests: Debian's ``docker-registry`` (CNCF
distribution 2.8), images pushed to it with ``skopeo`` from the corpus.

Three flavours, each a session-scoped fixture yielding a :class:`Registry`:

- ``registry_plain``: plain HTTP, anonymous pull and push;
- ``registry_tls``: HTTPS with a certificate from a CA made here (``ca_bundle``) and
  htpasswd basic auth (``username``/``password``);
- ``registry_token``: plain HTTP with distribution's token auth; the token server
  (:class:`TokenServer`, ``registry.token_server``) runs in this process, checks basic
  credentials and issues ES256 JWTs carrying their certificate in ``x5c``; it serves
  the GET flow and the OAuth2 POST form and records each request it answered.

Each holds ``corpus/debian-py:1`` (pushed from the docker archive: Docker v2 schema 2
manifest), ``corpus/debian-py:oci`` (from the OCI archive: OCI manifest),
``corpus/debian-min:1``, ``corpus/multi:1`` (an OCI index of two small images,
linux/amd64 and linux/arm64/v8, built by imagebuilder) and ``corpus/arm64:1`` (that
arm64 image alone, a single-platform manifest). ``registry.digests`` has each
one's manifest digest as pushed.

:class:`Registry` also counts requests from the registry's access log
(:meth:`Registry.requests`); :class:`CountingProxy` stands in front of a registry,
counting requests and optionally cutting the first blob download halfway.

A missing Debian binary fails the test, saying which package to install.

Use: ``pytest_plugins = ["registry_server"]`` in a test module registers the fixtures
once for the whole run (session-scoped: one of each registry, however many modules).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

import imagebuilder
from tlsca import TestCA

REGISTRY_BIN = "/usr/bin/docker-registry"
USERNAME, PASSWORD = "anchore-user", "s3cret-pass"
SERVICE, ISSUER = "anchore-test-registry", "anchore-test-token-issuer"
START_TIMEOUT = 30.0

_PACKAGES = {"docker-registry": "docker-registry", "skopeo": "skopeo", "htpasswd": "apache2-utils"}


def require(tool: str) -> str:
    """The path of a Debian tool the registry tests need, or a failure naming its package."""
    path = REGISTRY_BIN if tool == "docker-registry" else shutil.which(tool)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"{tool} not found: the registry tests need it; install the Debian package "
            f"{_PACKAGES[tool]!r} (apt-get install {_PACKAGES[tool]}; nox -s tests does)"
        )
    return path


def free_port(address: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def lan_address() -> str | None:
    """This machine's IPv4 address on its network (not loopback), or None without one.
    (A UDP socket "connected" to a documentation address sends nothing; it only picks
    the interface a packet there would leave by.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))
        except OSError:
            return None
        address = str(s.getsockname()[0])
    return None if address.startswith("127.") or address == "0.0.0.0" else address


@attrs.define
class Registry:
    """A running registry: where it is, how to reach it, what it holds."""

    host: str  #: ``127.0.0.1:PORT``, as a reference names it
    scheme: str  #: ``http`` or ``https``
    root: Path  #: its directory (config, storage, logs)
    ca_bundle: str | None = None  #: the PEM CA that signed its certificate (TLS only)
    username: str | None = None
    password: str | None = None
    token_server: TokenServer | None = None
    #: manifest digest of each pushed ``repository:tag`` (``corpus/debian-py:1``)
    digests: dict[str, str] = attrs.field(factory=dict)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def ref(self, name: str) -> str:
        """``corpus/debian-py:1`` as a full reference on this registry."""
        return f"{self.host}/{name}"

    def creds(self) -> str | None:
        return f"{self.username}:{self.password}" if self.username else None

    def requests(self, pattern: str = "") -> list[tuple[str, str, int]]:
        """(method, path, status) of each request in the access log whose path matches
        ``pattern`` (a regex searched in the path): ``requests("/blobs/sha256:")``.
        The log line is written when the response ends."""
        line = re.compile(r'"(?P<m>[A-Z]+) (?P<p>\S+) HTTP/[\d.]+" (?P<s>\d{3}) ')
        found = []
        for text in self.access_log.read_text(errors="replace").splitlines():
            m = line.search(text)
            if m and re.search(pattern, m["p"]):
                found.append((m["m"], m["p"], int(m["s"])))
        return found

    def blob_gets(self) -> int:
        """Successful GETs of blobs (layers and configs) so far."""
        return sum(
            1 for method, _, status in self.requests(r"/blobs/sha256:")
            if method == "GET" and status in (200, 206)
        )  # fmt: skip


# -- the token server -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """distribution's token auth, played by Python: basic credentials in, a JWT out.

    ``requests`` records ``(method, scope list, user or None)`` per token request.
    Anonymous requests get a token granting nothing (the registry then answers 401),
    as Docker Hub does for a private repository; wrong credentials get 401 here.
    """

    def __init__(self, directory: Path, ca: TestCA) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        signing = ca.server(names=("token-signer",), stem="token-signer", key=self.key)
        self.cert_der = x509.load_pem_x509_certificate(signing.cert.read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
        self.rootcertbundle = str(ca.pem.cert)
        self.requests: list[tuple[str, list[str], str | None]] = []
        self.port = free_port()
        self.realm = f"http://127.0.0.1:{self.port}/token"
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                user = self._basic()
                server._answer(self, "GET", query, user)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                user: str | bool | None = None
                if form.get("grant_type") == ["password"]:
                    given = (form.get("username", [""])[0], form.get("password", [""])[0])
                    user = given[0] if given == (USERNAME, PASSWORD) else False
                elif form.get("grant_type") == ["refresh_token"]:
                    user = (
                        USERNAME if form.get("refresh_token") == ["refresh-" + USERNAME] else False
                    )
                server._answer(self, "POST", form, user)

            def _basic(self) -> str | bool | None:
                auth = self.headers.get("Authorization", "")
                if not auth.startswith("Basic "):
                    return None
                try:
                    name, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                except ValueError:
                    return False
                return name if (name, password) == (USERNAME, PASSWORD) else False

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _answer(
        self,
        handler: http.server.BaseHTTPRequestHandler,
        method: str,
        params: dict[str, list[str]],
        user: str | bool | None,
    ) -> None:
        scopes = params.get("scope", [])
        self.requests.append((method, scopes, user if isinstance(user, str) else None))
        if user is False:
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
            handler.send_response(401)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        access = []
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            if kind == "repository" and user:
                access.append({"type": kind, "name": name, "actions": actions.split(",")})
        token = self.token(user if isinstance(user, str) else "", access)
        now = datetime.datetime.now(datetime.timezone.utc)
        answer: dict[str, Any] = {"expires_in": 300, "issued_at": now.isoformat()}
        answer["access_token" if method == "POST" else "token"] = token
        if method == "GET":
            answer["access_token"] = token
        body = json.dumps(answer).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def token(self, subject: str, access: list[dict[str, Any]]) -> str:
        """An ES256 JWT the registry verifies through the x5c chain."""
        header = {"typ": "JWT", "alg": "ES256", "x5c": [base64.b64encode(self.cert_der).decode()]}
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": uuid.uuid4().hex,
            "access": access,
        }
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        der = self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


# -- the registry process ----------------------------------------------------------------


def _config(root: Path, address: str, port: int, extra: dict[str, Any]) -> Path:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": False}},
        "storage": {
            "filesystem": {"rootdirectory": str(root / "storage")},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"{address}:{port}", "secret": uuid.uuid4().hex},
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key].update(value)
        else:
            config[key] = value
    path = root / "config.yml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


def _wait_ready(registry: Registry, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    host, port = registry.host.split(":")
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"docker-registry exited ({process.returncode}): "
                + (registry.root / "registry.log").read_text(errors="replace")[-2000:]
            )
        try:
            if registry.scheme == "https":
                context = ssl.create_default_context(cafile=registry.ca_bundle)
                conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                    host, int(port), timeout=2, context=context
                )
            else:
                conn = http.client.HTTPConnection(host, int(port), timeout=2)
            conn.request("GET", "/v2/")
            status = conn.getresponse().status
            conn.close()
            if status in (200, 401):
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"docker-registry on {registry.host} did not answer /v2/ in time")


@contextlib.contextmanager
def run_registry(
    root: Path,
    *,
    scheme: str = "http",
    extra: dict[str, Any] | None = None,
    address: str = "127.0.0.1",
    **fields: Any,
) -> Iterator[Registry]:
    """Start ``docker-registry serve`` in ``root`` listening on ``address``; stop it
    (terminate, wait) on the way out."""
    binary = require("docker-registry")
    root.mkdir(parents=True, exist_ok=True)
    for attempt in range(3):  # the free port may be taken between looking and binding
        port = free_port(address)
        registry = Registry(host=f"{address}:{port}", scheme=scheme, root=root, **fields)
        config = _config(root, address, port, extra or {})
        env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTRY_")}
        with open(registry.access_log, "ab") as out, open(root / "registry.log", "ab") as err:
            process = subprocess.Popen(
                [binary, "serve", str(config)], stdout=out, stderr=err, env=env, cwd=root
            )
        try:
            try:
                _wait_ready(registry, process)
            except RuntimeError:
                if attempt < 2 and process.poll() is not None:
                    continue
                raise
            yield registry
            return
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def skopeo_copy(
    source: str,
    registry: Registry,
    name: str,
    *,
    all_images: bool = False,
    src_registry: Registry | None = None,
) -> str:
    """``skopeo copy source docker://registry/name``; the manifest digest pushed."""
    skopeo = require("skopeo")
    digest_file = registry.root / f"digest-{uuid.uuid4().hex}"
    cmd = [skopeo, "--insecure-policy", "copy", "--quiet", "--digestfile", str(digest_file)]
    cmd += ["--dest-tls-verify=false"]
    if registry.creds():
        cmd += ["--dest-creds", str(registry.creds())]
    if src_registry is not None:
        cmd += ["--src-tls-verify=false"]
        if src_registry.creds():
            cmd += ["--src-creds", str(src_registry.creds())]
    if all_images:
        cmd += ["--all"]
    cmd += [source, f"docker://{registry.ref(name)}"]
    env = dict(os.environ, REGISTRY_AUTH_FILE=str(registry.root / "skopeo-auth.json"))
    env["HOME"] = str(registry.root)  # no user's containers config or auth
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-2000:]}")
    digest = digest_file.read_text().strip()
    digest_file.unlink()
    registry.digests[name] = digest
    return digest


def multi_platform_layout(directory: Path) -> str:
    """An OCI layout whose index ``multi`` holds a linux/amd64 and a linux/arm64/v8 image,
    each one layer with ``/etc/platform`` naming it; ``arm64`` is the arm64 one alone."""
    f, d = imagebuilder.f, imagebuilder.d
    layout = imagebuilder.OCILayout()
    descriptors = []
    for arch, variant in (("amd64", None), ("arm64", "v8")):
        name = f"linux/{arch}" + (f"/{variant}" if variant else "")
        built = imagebuilder.build(
            [[d("etc"), f("etc/platform", name + "\n")]], arch=arch, variant=variant
        )
        platform = {"os": "linux", "architecture": arch}
        if variant:
            platform["variant"] = variant
        descriptors.append(layout.add_image(built, platform=platform))
    layout.tag(layout.add_index(descriptors), "multi")
    layout.tag(descriptors[1], "arm64")  # the arm64 image alone, without an index
    return layout.write_dir(directory)


def _fill(registry: Registry, corpus: Path, source: Registry | None) -> None:
    """Push the corpus images (from the archives, or copied from ``source``)."""
    names = (
        "corpus/debian-py:1",
        "corpus/debian-py:oci",
        "corpus/debian-min:1",
        "corpus/multi:1",
        "corpus/arm64:1",
    )
    if source is not None:
        for name in names:
            skopeo_copy(
                f"docker://{source.ref(name)}",
                registry,
                name,
                all_images=True,
                src_registry=source,
            )
        return
    skopeo_copy(f"docker-archive:{corpus}/debian-py.docker.tar", registry, names[0])
    skopeo_copy(f"oci-archive:{corpus}/debian-py.oci.tar", registry, names[1])
    skopeo_copy(f"docker-archive:{corpus}/debian-min.docker.tar", registry, names[2])
    layout = multi_platform_layout(registry.root / "multi-layout")
    skopeo_copy(f"oci:{layout}:multi", registry, names[3], all_images=True)
    skopeo_copy(f"oci:{layout}:arm64", registry, names[4])


def write_docker_config(
    directory: Path, registry: Registry, *, password: str | None = None
) -> Path:
    """A docker ``config.json`` in ``directory`` with the registry's credentials (or
    ``password`` instead); point ``DOCKER_CONFIG`` at ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    secret = f"{registry.username}:{password if password is not None else registry.password}"
    auth = base64.b64encode(secret.encode()).decode()
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    return path


# -- fixtures ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry_plain(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """Plain HTTP, anonymous; holds the corpus images (see the module docstring)."""
    with run_registry(tmp_path_factory.mktemp("registry-plain")) as registry:
        _fill(registry, corpus, None)
        yield registry


@pytest.fixture(scope="session")
def registry_tls(
    registry_plain: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """HTTPS (``ca_bundle`` trusts it) with htpasswd basic auth (``username``/``password``)."""
    require("htpasswd")
    root = tmp_path_factory.mktemp("registry-tls")
    ca = TestCA(root / "ca")
    server = ca.server(names=("localhost", "127.0.0.1"))
    line = subprocess.run(
        ["htpasswd", "-Bbn", USERNAME, PASSWORD], capture_output=True, text=True, check=True
    ).stdout.strip()
    (root / "htpasswd").write_text(line + "\n")
    extra = {
        "http": {"tls": {"certificate": str(server.cert), "key": str(server.key)}},
        "auth": {"htpasswd": {"realm": "anchore-test", "path": str(root / "htpasswd")}},
    }
    with run_registry(
        root,
        scheme="https",
        extra=extra,
        ca_bundle=str(ca.pem.cert),
        username=USERNAME,
        password=PASSWORD,
    ) as registry:
        _fill(registry, Path(), registry_plain)
        yield registry


@pytest.fixture(scope="session")
def registry_lan(
    registry_plain: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """Plain HTTP, anonymous, read-only, on this machine's network address (not
    loopback), holding ``corpus/debian-min:1``: plain HTTP there is refused unless the
    registry is named insecure. The image is pushed through loopback first, so that
    nothing on the network can push while it listens there. Skipped on a machine with no
    network interface but loopback."""
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no network address but loopback")
    root = tmp_path_factory.mktemp("registry-lan")
    name = "corpus/debian-min:1"
    with run_registry(root) as loading:
        skopeo_copy(f"docker://{registry_plain.ref(name)}", loading, name,
                    src_registry=registry_plain)  # fmt: skip
    readonly = {"storage": {"maintenance": {"readonly": {"enabled": True}}}}
    with run_registry(root, address=address, extra=readonly) as registry:
        registry.digests.update(loading.digests)
        yield registry


@pytest.fixture(scope="session")
def registry_token(
    registry_plain: Registry, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Registry]:
    """Plain HTTP with token auth; ``token_server`` issues the tokens (see TokenServer)."""
    root = tmp_path_factory.mktemp("registry-token")
    tokens = TokenServer(root, TestCA(root / "ca", name="anchore token CA"))
    try:
        extra = {
            "auth": {
                "token": {
                    "realm": tokens.realm,
                    "service": SERVICE,
                    "issuer": ISSUER,
                    "rootcertbundle": tokens.rootcertbundle,
                }
            }
        }
        with run_registry(
            root,
            extra=extra,
            username=USERNAME,
            password=PASSWORD,
            token_server=tokens,
        ) as registry:
            _fill(registry, Path(), registry_plain)
            yield registry
    finally:
        tokens.close()


# -- a proxy in front of a registry ------------------------------------------------------


class CountingProxy:
    """A reverse proxy to a plain-HTTP registry: counts requests by path and, while
    ``cut_blobs`` is above 0, sends only the first half of a blob's body and closes the
    connection (a dropped download), decrementing it. ``fail_next`` is a list of
    ``(status, headers)`` answers given, in order, to the next requests instead of the
    registry's (429 with ``Retry-After``, 503...). While ``corrupt_blobs`` is above 0, a
    blob's body is sent with its last byte changed. ``host`` is where clients go."""

    def __init__(self, registry: Registry) -> None:
        assert registry.scheme == "http", "the proxy speaks plain HTTP to the registry"
        self.target = registry.host
        self.seen: list[tuple[str, str, str | None]] = []  # method, path, Range
        self.cut_blobs = 0
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.corrupt_blobs = 0
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:
                self._forward()

            def do_GET(self) -> None:
                self._forward()

            def _forward(self) -> None:
                with proxy.lock:
                    proxy.seen.append((self.command, self.path, self.headers.get("Range")))
                    failure = proxy.fail_next.pop(0) if proxy.fail_next else None
                if failure is not None:
                    status, extra = failure
                    body = b'{"errors":[{"code":"TOOMANYREQUESTS","message":"injected"}]}'
                    self.send_response(status)
                    for key, value in {**extra, "Content-Type": "application/json"}.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(body)
                    return
                host, port = proxy.target.split(":")
                upstream = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = proxy.target
                upstream.request(self.command, self.path, headers=headers)
                answer = upstream.getresponse()
                whole = None if answer.getheader("Content-Length") else answer.read()
                length = (
                    len(whole) if whole is not None else int(answer.getheader("Content-Length", 0))
                )
                cut = corrupt = False
                if self.command == "GET" and "/blobs/" in self.path and answer.status == 200:
                    with proxy.lock:
                        if proxy.cut_blobs > 0 and length > 1:
                            proxy.cut_blobs -= 1
                            cut = True
                        elif proxy.corrupt_blobs > 0 and length > 0:
                            proxy.corrupt_blobs -= 1
                            corrupt = True
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("connection", "transfer-encoding"):
                        self.send_header(key, value)
                if whole is not None:
                    self.send_header("Content-Length", str(length))
                if cut:
                    self.send_header("Connection", "close")
                self.end_headers()
                left = length // 2 if cut else length
                if whole is not None and self.command != "HEAD":
                    self.wfile.write(whole)
                    left = 0
                while self.command != "HEAD" and left > 0:
                    chunk = answer.read(min(left, 1 << 16))
                    if not chunk:
                        break
                    left -= len(chunk)
                    if corrupt and left == 0:
                        chunk = chunk[:-1] + bytes([chunk[-1] ^ 0xFF])
                    self.wfile.write(chunk)
                if cut:
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                upstream.close()

        port = free_port()
        self.host = f"127.0.0.1:{port}"
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def ref(self, name: str) -> str:
        return f"{self.host}/{name}"

    def blob_gets(self) -> list[tuple[str, str | None]]:
        """(path, Range header) of each blob GET so far."""
        with self.lock:
            return [(p, r) for m, p, r in self.seen if m == "GET" and "/blobs/" in p]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def registry_proxy(registry_plain: Registry) -> Iterator[CountingProxy]:
    """A fresh :class:`CountingProxy` in front of ``registry_plain``."""
    proxy = CountingProxy(registry_plain)
    try:
        yield proxy
    finally:
        proxy.close()
