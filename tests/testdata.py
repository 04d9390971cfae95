"""Where the tests find their real data: ``tests/data`` (sources and licences in its README).

The OSV databases are kept as the zip archives OSV itself publishes; they are
unpacked once per test run into a temporary directory, for the tests that read
single records or sub-directories. Loading from the zip is tested as well.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import zipfile
from pathlib import Path

DATA = Path(__file__).parent / "data"

PYPA_ZIP = DATA / "osv-pypa" / "vulns.zip"
GO_ZIP = DATA / "osv-go" / "osv.zip"
SECDB = DATA / "alpine-secdb"
ORACLES = DATA / "oracles" / "osv-scalibr"
SYFT_CATALOGERS = DATA / "syft-testdata" / "syft" / "pkg" / "cataloger"
VUNNEL = DATA / "vunnel" / "providers"
DEBIAN_TRACKER = VUNNEL / "debian" / "test-fixtures" / "input" / "debian.json"

_UNPACKED = Path(tempfile.mkdtemp(prefix="anchore-testdata-"))
atexit.register(shutil.rmtree, _UNPACKED, True)


def _unpack(archive: Path, top: str) -> Path:
    target = _UNPACKED / archive.parent.name
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(target)
    return target / top


#: the PyPA advisory database, one directory per package
PYPA = _unpack(PYPA_ZIP, "vulns")
#: the Go vulnerability database, one JSON file per advisory
GO = _unpack(GO_ZIP, "osv")
