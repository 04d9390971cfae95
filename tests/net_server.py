"""Real HTTP(S) servers and a forward proxy on loopback, for the network client's tests.

``Server`` answers each path with a route the test gives (a function writing the
response through the handler), records every request it saw, and serves TLS when
given a context. ``Proxy`` is a minimal forward proxy: absolute-form requests for
``http://`` and ``CONNECT`` tunnels for ``https://``, sending every host to
127.0.0.1 (so names like ``feeds.example.invalid`` work offline) and counting what
it carried. Both stop when their ``with`` block ends, on failure too.
"""

from __future__ import annotations

import contextlib
import http.client
import select
import socket
import ssl
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

Route = Callable[["Handler"], None]


@attrs.frozen
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet tests
        pass

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path = self.path
        self.server.owner.seen.append(
            Seen(self.command, path, {k.lower(): v for k, v in self.headers.items()}, body)
        )
        route = self.server.owner.routes.get(urllib.parse.urlsplit(path).path)
        if route is None:
            self.reply(404, b"no such route")
        else:
            route(self)

    do_GET = do_POST = do_HEAD = do_PUT = _dispatch

    def reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        headers = dict(headers or {})
        headers.setdefault("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def serve_bytes(self, data: bytes, etag: str | None = None, honour_range: bool = True) -> None:
        """``data`` as a static file server would: Range (one ``bytes=N-`` range),
        If-None-Match, ETag."""
        if etag and self.headers.get("If-None-Match") == etag:
            self.reply(304, headers={"ETag": etag})
            return
        extra = {"ETag": etag} if etag else {}
        wanted = self.headers.get("Range")
        if honour_range and wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[len("bytes=") : -1])
            if start >= len(data):
                self.reply(416, headers={"Content-Range": f"bytes */{len(data)}", **extra})
                return
            self.reply(
                206,
                data[start:],
                {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}", **extra},
            )
            return
        self.reply(200, data, extra)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Server

    def finish_request(self, request: Any, client_address: Any) -> None:
        context = self.owner.tls
        if context is not None:
            try:
                request = context.wrap_socket(request, server_side=True)
            except (OSError, ssl.SSLError):
                request.close()
                return
        with contextlib.suppress(OSError):
            super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-test is what some tests do


class Server:
    """A threaded HTTP(S) server on 127.0.0.1 (``with Server() as s: s.url("/x")``)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self._server = _HTTPServer(("127.0.0.1", 0), Handler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def url(self, path: str = "/", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def __enter__(self) -> Server:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5
    server: _ProxyServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        """Forward an absolute-form request to 127.0.0.1 on the asked port."""
        self.server.owner.carried.append(("GET", self.path))
        self.server.owner.auth.append(self.headers.get("Proxy-Authorization"))
        target = urllib.parse.urlsplit(self.path)
        upstream = http.client.HTTPConnection("127.0.0.1", target.port or 80, timeout=5)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "proxy-authorization"}
        upstream.request("GET", target.path or "/", headers=headers)
        answer = upstream.getresponse()
        body = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Via", "1.1 test-proxy")
        self.end_headers()
        self.wfile.write(body)
        upstream.close()

    def do_CONNECT(self) -> None:
        """Tunnel to 127.0.0.1 on the asked port, bytes both ways until one side ends."""
        self.server.owner.carried.append(("CONNECT", self.path))
        self.server.owner.auth.append(self.headers.get("Proxy-Authorization"))
        port = int(self.path.rsplit(":", 1)[1])
        try:
            upstream = socket.create_connection(("127.0.0.1", port), timeout=5)
        except OSError:
            self.send_error(502)
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.wfile.flush()
        sockets = [self.connection, upstream]
        try:
            while True:
                ready, _, _ = select.select(sockets, [], [], 5)
                if not ready:
                    break
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (upstream if sock is self.connection else self.connection).sendall(data)
        except OSError:
            pass
        finally:
            upstream.close()
            self.close_connection = True


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: Proxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class Proxy:
    """A forward proxy on 127.0.0.1; ``carried`` lists (method, target) it relayed and
    ``auth`` the ``Proxy-Authorization`` each came with."""

    def __init__(self) -> None:
        self.carried: list[tuple[str, str]] = []
        self.auth: list[str | None] = []
        self._server = _ProxyServer(("127.0.0.1", 0), _ProxyHandler)
        self._server.owner = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> Proxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    """A server-side TLS context presenting ``cert``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
