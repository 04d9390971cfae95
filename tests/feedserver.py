"""A local feed server: the advisory data the repository carries, in each feed's
published format, at the real URL layout, on 127.0.0.1.

:func:`build_feeds` repackages tests/data once into a directory:

- ``osv/ecosystems.txt``, ``osv/PyPI/all.zip`` (the PyPA YAML records as OSV JSON at
  the zip's root, as osv-vulnerabilities.storage.googleapis.com has them),
  ``osv/Go/all.zip`` (the Go database's JSON moved to the root);
- ``debian/tracker/data/json`` (vunnel's slice of the Debian security tracker);
- ``alpine/index.html`` (the secdb's directory listing) and
  ``alpine/v3.x/main.json``, ``community.json`` (the secdb YAML as JSON).

:class:`FeedServer` serves such a directory as the publishers do: ``ETag`` and
``Last-Modified`` with ``If-None-Match``/``If-Modified-Since`` answered by 304,
``Range`` by 206, ``x-goog-hash: md5=...`` on the OSV paths (Google Cloud Storage
sends it), every request logged, and failures on demand (:attr:`FeedServer.fail`:
``"500"`` always, ``"drop"`` the connection halfway through the body, ``"bad-md5"``
a wrong ``x-goog-hash``).
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import http.server
import json
import os
import threading
import urllib.parse
import zipfile
from pathlib import Path

import attrs
import yaml

from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA_ZIP, SECDB

#: the ecosystems our OSV mirror lists: two it serves, one (Hex) we do not match, and a
#: release sub-ecosystem that the updater must skip
ECOSYSTEMS_TXT = "Go\nHex\nPyPI\nDebian:12\n"

#: every scalar a string (libyaml's loader when PyYAML has it: ten times faster)
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

#: a fixed Last-Modified for the packaged files, so that reruns agree
EPOCH = 1_700_000_000


def _zip(dest: Path, records: list[tuple[str, bytes]]) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in records:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)


def _strings(path: Path) -> object:
    """A YAML file with every scalar a string, as the publishers' JSON has them."""
    return yaml.load(path.read_bytes(), Loader=_LOADER)


def build_feeds(root: Path) -> Path:
    """Repackage the repository's advisory data into the published layouts under ``root``."""
    osv = root / "osv"
    osv.mkdir(parents=True)
    (osv / "ecosystems.txt").write_text(ECOSYSTEMS_TXT)
    with zipfile.ZipFile(PYPA_ZIP) as zf:
        pypa = []
        for name in sorted(zf.namelist()):
            if name.endswith(".yaml"):
                record = yaml.load(zf.read(name), Loader=_LOADER)
                pypa.append((f"{record['id']}.json", json.dumps(record).encode()))
    _zip(osv / "PyPI" / "all.zip", pypa)
    with zipfile.ZipFile(GO_ZIP) as zf:
        go = [
            (name.rsplit("/", 1)[-1], zf.read(name))
            for name in sorted(zf.namelist())
            if name.endswith(".json")
        ]
    _zip(osv / "Go" / "all.zip", go)

    tracker = root / "debian" / "tracker" / "data" / "json"
    tracker.parent.mkdir(parents=True)
    tracker.write_bytes(DEBIAN_TRACKER.read_bytes())

    alpine = root / "alpine"
    releases = sorted(p.name for p in SECDB.iterdir() if p.is_dir())
    for release in releases:
        for repo in ("main", "community"):
            source = SECDB / release / f"{repo}.yaml"
            if source.exists():
                dest = alpine / release / f"{repo}.json"
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_text(json.dumps(_strings(source), indent=1))
    links = "\n".join(f'<a href="{r}/">{r}/</a>' for r in ["edge", *releases])
    (alpine / "index.html").write_text(
        f"<html><head><title>Index of /</title></head><body><h1>Index of /</h1><hr><pre>"
        f'<a href="../">../</a>\n{links}\n<a href="license.txt">license.txt</a>\n'
        f"</pre><hr></body></html>\n"
    )
    for path in root.rglob("*"):
        os.utime(path, (EPOCH, EPOCH))
    return root


@attrs.frozen
class Logged:
    method: str
    path: str
    status: int
    #: body bytes sent
    sent: int
    headers: dict[str, str]


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server keeps its own log

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _log(self, status: int, sent: int) -> None:
        with self.server.lock:
            self.server.log.append(
                Logged(self.command, self.path, status, sent, dict(self.headers.items()))
            )

    def _plain(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self._log(status, len(data))

    def _answer(self, body: bool) -> None:
        path = urllib.parse.unquote(self.path.split("?", 1)[0])  # GitHub%20Actions
        failure = self.server.fail.get(path)
        if failure == "500":
            self._plain(500, "injected failure")
            return
        file = self.server.root / path.lstrip("/")
        if path.endswith("/"):
            file = file / "index.html"
        if ".." in path.split("/") or not file.is_file():
            self._plain(404, "not found")
            return
        data = file.read_bytes()
        stat = file.stat()
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        modified = email.utils.formatdate(stat.st_mtime, usegmt=True)
        match = self.headers.get("If-None-Match")
        since = self.headers.get("If-Modified-Since")
        if (match is not None and etag in [t.strip() for t in match.split(",")]) or (
            match is None
            and since is not None
            and int(stat.st_mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
        ):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", modified)
            self.end_headers()
            self._log(304, 0)
            return
        start = 0
        status = 200
        ranged = self.headers.get("Range", "")
        if ranged.startswith("bytes=") and ranged.endswith("-"):
            start = int(ranged[len("bytes=") : -1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                self._log(416, 0)
                return
            status = 206
        part = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(part)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", modified)
        self.send_header("Accept-Ranges", "bytes")
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        if path.startswith("/osv/"):
            md5 = hashlib.md5(data, usedforsecurity=False).digest()
            if failure == "bad-md5":
                md5 = hashlib.md5(data + b"x", usedforsecurity=False).digest()
            self.send_header("x-goog-hash", "crc32c=AAAAAA==")  # not checked by us
            self.send_header("x-goog-hash", "md5=" + base64.b64encode(md5).decode())
        self.end_headers()
        if not body:
            self._log(status, 0)
            return
        if failure == "drop":
            half = part[: len(part) // 2]
            self.wfile.write(half)
            self.wfile.flush()
            self._log(status, len(half))
            self.close_connection = True
            return
        self.wfile.write(part)
        self._log(status, len(part))


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    root: Path
    lock: threading.Lock
    log: list[Logged]
    fail: dict[str, str]


class FeedServer:
    """Serves ``root`` on 127.0.0.1 on a free port; ``with FeedServer(root) as s:`` stops it
    at the end of the block, failing or not."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.root = root
        self._server.lock = threading.Lock()
        self._server.log = []
        self._server.fail = {}
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def log(self) -> list[Logged]:
        with self._server.lock:
            return list(self._server.log)

    @property
    def fail(self) -> dict[str, str]:
        """Path -> ``"500"``, ``"drop"`` or ``"bad-md5"``: the failures to inject."""
        return self._server.fail

    def clear_log(self) -> None:
        with self._server.lock:
            self._server.log.clear()

    def mirrors(self) -> dict[str, str]:
        """Each built-in feed's base URL on this server."""
        return {
            "osv": f"{self.url}/osv",
            "debian-tracker": f"{self.url}/debian",
            "alpine-secdb": f"{self.url}/alpine",
        }

    def start(self) -> FeedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
