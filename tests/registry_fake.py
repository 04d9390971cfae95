"""A fake registry and token server on loopback that challenge as Docker Hub and GHCR do.

Real HTTP servers (``http.server`` in a thread) speaking the distribution API's
``/v2/`` ping and its auth: anonymous, ``Basic``, or ``Bearer`` with a token server
that answers GET (``?service=&scope=``, anonymous or with basic auth) and the OAuth2
POST form (or refuses POST with 404/405, as some realms do). Each records what it was
asked, so tests assert the flow, not only its outcome. Used as context managers: the
servers stop on the way out, on failure too.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs


@attrs.define
class Seen:
    """One request a fake server answered."""

    method: str
    path: str
    headers: dict[str, str]
    query: dict[str, list[str]] = attrs.field(factory=dict)
    form: dict[str, list[str]] = attrs.field(factory=dict)


def _basic_user(header: str | None, users: dict[str, str]) -> str | None:
    """The user a ``Basic`` header names when its password is right, else None."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return user if users.get(user) == password and password else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def seen(self) -> Seen:
        parts = urllib.parse.urlsplit(self.path)
        form: dict[str, list[str]] = {}
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        seen = Seen(
            self.command,
            parts.path,
            {k.lower(): v for k, v in self.headers.items()},
            urllib.parse.parse_qs(parts.query),
            form,
        )
        self.server.owner.requests.append(seen)
        return seen

    def do_GET(self) -> None:
        self.server.owner.handle(self, self.seen())

    do_HEAD = do_GET
    do_POST = do_GET


class _Running:
    """Start/stop of one server on ``host`` (port chosen by the system)."""

    def __init__(self, host: str = "127.0.0.1", tls: tuple[str, str] | None = None) -> None:
        self.requests: list[Seen] = []
        self._server = _Server((host, 0), _Handler)
        self._server.owner = self
        scheme = "http"
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            scheme = "https"
        self.host = host
        self.port = self._server.server_address[1]
        #: ``host:port``, what a registry reference names
        self.address = f"{host}:{self.port}"
        self.url = f"{scheme}://{self.address}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def handle(self, handler: _Handler, seen: Seen) -> None:
        handler.reply(404)  # each fake answers in its own way

    def __enter__(self) -> _Running:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class TokenServer(_Running):
    """A token realm: ``/token`` issues tokens for the scopes asked.

    ``users`` may authenticate (basic auth on GET, ``grant_type=password`` on POST);
    ``refresh_tokens`` maps an identity token to its user; ``post_status`` (404 or
    405) refuses POST as realms without OAuth2 do; ``anonymous`` lets a GET without
    credentials have a token; ``expires_in`` (None: not said) is told with each.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        users: dict[str, str] | None = None,
        refresh_tokens: dict[str, str] | None = None,
        anonymous: bool = True,
        post_status: int | None = None,
        expires_in: float | None = 300,
    ) -> None:
        super().__init__(host)
        self.users = users or {}
        self.refresh_tokens = refresh_tokens or {}
        self.anonymous = anonymous
        self.post_status = post_status
        self.expires_in = expires_in
        #: token -> (scopes granted, monotonic deadline)
        self.issued: dict[str, tuple[frozenset[str], float]] = {}
        self.realm = f"{self.url}/token"

    def token_requests(self) -> list[Seen]:
        return [seen for seen in self.requests if seen.path == "/token"]

    def handle(self, handler: _Handler, seen: Seen) -> None:
        if seen.path != "/token":
            handler.reply(404)
            return
        if seen.method == "POST":
            if self.post_status is not None:
                handler.reply(self.post_status)
                return
            form = {k: v[0] for k, v in seen.form.items()}
            grant = form.get("grant_type")
            if grant == "password":
                ok = (
                    bool(form.get("password"))
                    and self.users.get(form.get("username", "")) == form["password"]
                )
            elif grant == "refresh_token":
                ok = form.get("refresh_token", "") in self.refresh_tokens
            else:
                ok = False
            if not ok:
                handler.reply(401, b'{"error":"invalid_grant"}')
                return
            self._issue(handler, form.get("scope", "").split(), "access_token")
            return
        header = seen.headers.get("authorization")
        if header is not None and _basic_user(header, self.users) is None:
            handler.reply(401, b'{"details":"incorrect username or password"}')
            return
        if header is None and not self.anonymous:
            handler.reply(401, b'{"details":"authentication required"}')
            return
        self._issue(handler, seen.query.get("scope", []), "token")

    def _issue(self, handler: _Handler, scopes: list[str], member: str) -> None:
        token = secrets.token_hex(16)
        lifetime = self.expires_in if self.expires_in is not None else 60
        self.issued[token] = (frozenset(scopes), time.monotonic() + lifetime)
        answer: dict[str, object] = {member: token}
        if self.expires_in is not None:
            answer["expires_in"] = self.expires_in
        handler.reply(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})


class FakeRegistry(_Running):
    """The ``/v2/`` API for the blobs and manifests in ``content`` (path -> body).

    ``auth`` is ``"anonymous"``, ``"basic"`` (``users``) or ``"bearer"`` (tokens from
    ``token_server``, each path needing ``repository:<name>:pull``, plus what
    ``extra_scopes`` lists for a path: a second challenge with ``insufficient_scope``).
    ``revoke()`` makes every token issued so far refused; ``status`` maps a path to a
    status to answer instead (429, 500...).
    """

    def __init__(
        self,
        *,
        auth: str = "anonymous",
        users: dict[str, str] | None = None,
        token_server: TokenServer | None = None,
        realm: str | None = None,
        content: dict[str, bytes] | None = None,
        extra_scopes: dict[str, str] | None = None,
        tls: tuple[str, str] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(host, tls)
        self.auth = auth
        self.users = users or {}
        self.token_server = token_server
        self.realm = realm or (token_server.realm if token_server else "")
        self.service = "fake-registry"
        self.content = content or {}
        self.extra_scopes = extra_scopes or {}
        self.revoked: set[str] = set()
        self.status: dict[str, tuple[int, dict[str, str]]] = {}

    def revoke(self) -> None:
        assert self.token_server is not None
        self.revoked.update(self.token_server.issued)

    def registry_requests(self, path: str | None = None) -> list[Seen]:
        return [s for s in self.requests if path is None or s.path == path]

    def _needed(self, path: str) -> set[str]:
        parts = path.split("/")
        for marker in ("manifests", "blobs"):
            if marker in parts:
                name = "/".join(parts[2 : parts.index(marker)])
                needed = {f"repository:{name}:pull"}
                if path in self.extra_scopes:
                    needed.add(self.extra_scopes[path])
                return needed
        return set()

    def _bearer_challenge(self, scopes: set[str], error: str | None = None) -> dict[str, str]:
        value = f'Bearer realm="{self.realm}",service="{self.service}"'
        if scopes:
            value += f',scope="{" ".join(sorted(scopes))}"'
        if error:
            value += f',error="{error}"'
        return {"WWW-Authenticate": value, "Content-Type": "application/json"}

    def handle(self, handler: _Handler, seen: Seen) -> None:
        path = seen.path
        needed = self._needed(path)
        header = seen.headers.get("authorization", "")
        if self.auth == "basic" and _basic_user(header, self.users) is None:
            handler.reply(
                401,
                b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                {"WWW-Authenticate": 'Basic realm="fake registry"'},
            )
            return
        if self.auth == "bearer":
            token = header[7:] if header.startswith("Bearer ") else ""
            assert self.token_server is not None
            granted, deadline = self.token_server.issued.get(token, (frozenset(), 0.0))
            if not token or token in self.revoked or time.monotonic() > deadline:
                handler.reply(
                    401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', self._bearer_challenge(needed)
                )
                return
            if not needed <= granted:
                handler.reply(
                    401,
                    b'{"errors":[{"code":"DENIED"}]}',
                    self._bearer_challenge(needed, "insufficient_scope"),
                )
                return
        if path in self.status:
            code, headers = self.status[path]
            handler.reply(code, b"{}", headers)
            return
        if path == "/v2/":
            handler.reply(200, b"{}", {"Content-Type": "application/json"})
            return
        body = self.content.get(path)
        if body is None:
            handler.reply(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
            return
        handler.reply(200, body, {"Content-Type": "application/octet-stream"})


@contextmanager
def running(*servers: _Running) -> Iterator[None]:
    """Start the servers, and stop them all on the way out."""
    started: list[_Running] = []
    try:
        for server in servers:
            server.__enter__()
            started.append(server)
        yield
    finally:
        for server in reversed(started):
            server.__exit__(None, None, None)
