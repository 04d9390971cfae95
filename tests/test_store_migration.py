"""Opening a store written before schema 5: what older distro readers stored under ids
they no longer write is dropped with its coverage (so those distros read as unchecked,
never as clean), and stored ``modified`` times take the one form that compares in time."""

from __future__ import annotations

import json
import sqlite3

from anchore.vulns import load
from anchore.vulns.store import SCHEMA_VERSION, Store
from testdata import DATA


def _as_schema_4_with_old_ids(path) -> None:
    """Turn a store into what a schema-4 anchore left: Alpine's per-CVE ids, mixed times."""
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE meta SET value = '4' WHERE key = 'schema'")
        record = {"id": "ALPINE-CVE-2000-0001", "modified": "2020-01-01T00:00:00Z",
                  "aliases": ["CVE-2000-0001"], "affected": []}  # fmt: skip
        db.execute(
            "INSERT INTO advisories VALUES (?, ?, 'alpine-secdb', ?)",
            (record["id"], record["modified"], json.dumps(record)),
        )
        db.execute("INSERT INTO affected VALUES (?, 'Alpine:v3.10', 'musl')", (record["id"],))
        db.execute("INSERT INTO aliases VALUES (?, 'CVE-2000-0001')", (record["id"],))
        db.execute("UPDATE advisories SET modified = '2021-06-01T12:00:00+02:00' "
                   "WHERE source = 'osv' AND rowid = (SELECT MIN(rowid) FROM advisories "
                   "WHERE source = 'osv')")  # fmt: skip
    db.close()


def test_old_alpine_ids_are_dropped_with_their_coverage(tmp_path):
    path = tmp_path / "store.sqlite"
    load(path, DATA / "alpine-secdb" / "v3.10")
    load(path, DATA / "osv-go" / "osv.zip")
    _as_schema_4_with_old_ids(path)
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.get("ALPINE-CVE-2000-0001") is None
        assert store.by_alias("CVE-2000-0001") == []
        # the Alpine coverage went with the records: its packages are unchecked until reloaded
        assert not any(e.startswith("Alpine:") for e in store.ecosystems())
        assert store.covers("Go")  # other feeds are untouched
        times = [m for (m,) in store._read("SELECT modified FROM advisories")]
        assert times and all(t.endswith("Z") and "+" not in t for t in times)
        assert "2021-06-01T10:00:00.000000Z" in times


def test_a_current_store_keeps_everything(tmp_path):
    path = tmp_path / "store.sqlite"
    load(path, DATA / "alpine-secdb" / "v3.10")
    with Store(path) as store:
        before = len(store), store.ecosystems()
    with Store(path) as store:
        assert (len(store), store.ecosystems()) == before
