"""The HTML report in a real browser: headless Chromium (Debian's ``chromium``) opens
``anchore report``'s page of debian-py from a file:// URL, takes a screenshot and dumps
the DOM it rendered; the page must show the library's own decision and counts, draw
something (not a blank page), and load nothing from anywhere.

Chromium runs with its HOME, TMPDIR and profile under the test's tmp_path, a timeout,
and in a process group of its own that is killed afterwards: no process and no /tmp
entry is left behind.
"""

from __future__ import annotations

import contextlib
import html.parser
import os
import re
import signal
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

import anchore
from anchore.cli import main
from anchore.errors import ExitCode
from anchore.policy import evaluate
from anchore.vulns import Store, load, match
from testdata import DEBIAN_TRACKER, GO_ZIP, PYPA_ZIP

pytestmark = pytest.mark.corpus

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "policy" / "bundle.json"
#: the tag the example bundle maps to its vulnerability policy (as tests/test_policy.py)
TAG = "docker.io/corpus/debian-py:latest"
CHROMIUM = "/usr/bin/chromium"
TIMEOUT = 90
#: the STOP badge's colour (display.CSS: .anchore .STOP { background: #c62828 })
STOP_RED = (0xC6, 0x28, 0x28)


@pytest.fixture(scope="module")
def scan(corpus, tmp_path_factory):
    """The report the command writes, and the library's own numbers for the same scan."""
    where = tmp_path_factory.mktemp("report")
    db = where / "vulns.sqlite"
    with Store(db, create=True) as store:
        for feed in (PYPA_ZIP, GO_ZIP, DEBIAN_TRACKER):  # the real advisory data in tests/data
            load(store, feed)
    image = corpus / "debian-py.oci.tar"
    report = where / "report.html"
    code = main(["report", str(image), "-o", str(report), "--db", str(db),
                 "--bundle", str(BUNDLE), "--tag-as", TAG, "-q"])  # fmt: skip
    analysis = anchore.analyze(anchore.open_image(image))
    with Store(db) as store:
        result = match(analysis, store)
        evaluation = evaluate(analysis, BUNDLE, tag=TAG, matches=result, store=store)
    return code, report, analysis, result, evaluation


@pytest.fixture
def short_tmp(tmp_path_factory) -> Path:
    """A directory with a short path: Chromium's singleton socket lives in its TMPDIR,
    and a Unix socket's path may not pass 107 bytes."""
    path = tmp_path_factory.mktemp("c")
    assert len(str(path)) + len("/t/org.chromium.Chromium.XXXXXX/SingletonSocket") < 108, (
        f"{path}: too long a path for Chromium's socket; run with a shorter TMPDIR"
    )
    return path


def _chromium(where: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run headless Chromium confined to ``where``; kill its whole process group after."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (nox -s tests does)")
    home, tmp, profile = (where / name for name in ("h", "t", "p"))
    for d in (home, tmp, profile):
        d.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "LANG": "C.UTF-8",
    }
    command = [
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        # no name resolves: a page that reached for the network would find nothing
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--hide-scrollbars",
        *args,
    ]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)  # fmt: skip
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        out, err = b"", b"timed out"
    finally:
        with contextlib.suppress(ProcessLookupError):  # its group: renderer, zygote, gpu
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert err != b"timed out", f"chromium did not finish within {TIMEOUT}s"
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


def _chromium_in_tmp() -> set[str]:
    """Entries Chromium makes at the top of /tmp when TMPDIR is not its own."""
    names = os.listdir("/tmp")
    return {n for n in names if re.search(r"chrom|\.org\.chromium|\.com\.google", n, re.I)}


class _Text(html.parser.HTMLParser):
    """The page's visible text, one line per element's text; and every URL attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        if tag in ("style", "title"):
            self._skip += 1
        for name, value in attrs:
            if name in ("src", "href", "srcset", "action", "data", "poster", "xlink:href"):
                self.urls.append((tag, name, value or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "title"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip and data.strip():
            self.lines.append(" ".join(data.split()))


def _png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """Width, height and rows of RGB(A) bytes of an 8-bit PNG, as Chromium writes them."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = (
            raw[y * (stride + 1)],
            bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)]),
        )
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        prev = line
    # RGB only: the alpha of a screenshot is opaque
    return width, height, [b"".join(r[i : i + 3] for i in range(0, stride, bpp)) for r in rows]


def test_the_report_is_self_contained(scan):
    """Nothing to fetch: no script, no link, no URL but in-page anchors and data:, and a
    Content-Security-Policy that forbids loading anything if something slipped in."""
    _, report, *_ = scan
    text = report.read_text(encoding="utf-8")
    page = _Text()
    page.feed(text)
    assert not page.tags & {"script", "link", "iframe", "img", "object", "embed", "base"}
    assert [u for u in page.urls if not u[2].startswith(("#", "data:"))] == []
    assert not re.search(r"@import|url\(", text, re.I)
    assert not re.search(r"(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", text, re.I)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert csp and "default-src 'none'" in csp.group(1), "no CSP forbidding external loads"


def test_chromium_renders_the_decision_and_the_counts(scan, short_tmp):
    code, report, analysis, result, evaluation = scan
    assert evaluation.final_action == "STOP"  # the example bundle stops debian-py
    assert code == ExitCode.FAILED == evaluation.exit_code  # the page is written; exit says STOP
    before = _chromium_in_tmp()
    done = _chromium(short_tmp, "--dump-dom", report.as_uri())
    dom = done.stdout.decode("utf-8")
    assert "</body></html>" in dom.replace("\n", "")  # the whole document was rendered
    page = _Text()
    page.feed(dom)
    text = "\n".join(page.lines)
    # the decision: the badge, and the evaluation's own reason
    assert re.search(r'<span class="badge STOP">STOP</span>', dom)
    assert evaluation.reason in text
    # the counts: packages, vulnerabilities, what was checked, the triggered items
    assert re.search(rf"^packages\n{len(analysis.packages):,}$", text, re.M), text[:3000]
    assert f"{len(result.matches):,} matches" in text
    assert f"{len(result.checked):,} packages checked; {len(result.unchecked):,} unchecked" in text
    assert f"{len(evaluation.items):,} triggered items" in text
    assert len(result.matches) > 100 and len(result.unchecked) > 0  # a real scan, not an empty one
    # one match and one triggered item as the library found them
    worst = min(result.matches, key=lambda m: (m.rating != "high", m.advisory_id))
    assert worst.advisory_id in text and worst.package_name in text
    assert any("/app/config/credentials" in line for line in text.splitlines())
    assert _chromium_in_tmp() <= before, "chromium wrote to the top of /tmp"


def test_chromium_screenshot_shows_the_page(scan, short_tmp):
    _, report, *_ = scan
    shot = short_tmp / "report.png"
    _chromium(short_tmp, "--window-size=1280,1600", f"--screenshot={shot}", report.as_uri())
    assert shot.stat().st_size > 10_000
    width, height, rows = _png_pixels(shot)
    assert (width, height) == (1280, 1600)
    pixels = [row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 12)]
    colours = set(pixels)
    background = max(colours, key=pixels.count)
    drawn = sum(p != background for p in pixels) / len(pixels)
    assert len(colours) > 20 and drawn > 0.02, f"a blank page: {len(colours)} colours, {drawn:.1%}"
    # the STOP badge near the top, in its colour
    top = {row[i : i + 3] for row in rows[:400] for i in range(0, len(row), 3)}
    assert bytes(STOP_RED) in top, "no STOP badge drawn in the first 400 rows"
