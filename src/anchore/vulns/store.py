"""The advisory store: one SQLite file, indexed by ecosystem and package name.

Loading is idempotent and incremental: a record replaces the stored one only
when its ``modified`` is newer. The schema carries a version; opening an
older file migrates it.
"""

from __future__ import annotations

import datetime
import json
import os
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from anchore.vulns.osv import Advisory, LoadReport, parse_osv

__all__ = ["SCHEMA_VERSION", "Store", "default_path"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS advisories (
    id TEXT PRIMARY KEY,
    modified TEXT NOT NULL,
    source TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS affected (
    advisory_id TEXT NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_package ON affected (ecosystem, name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (advisory_id);
CREATE TABLE IF NOT EXISTS aliases (advisory_id TEXT NOT NULL, alias TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS aliases_by_alias ON aliases (alias);
CREATE INDEX IF NOT EXISTS aliases_by_advisory ON aliases (advisory_id);
"""


def default_path() -> Path:
    """``$ANCHORE_VULN_DB``, else ``$XDG_CACHE_HOME/anchore/vulnerabilities.sqlite``."""
    if os.environ.get("ANCHORE_VULN_DB"):
        return Path(os.environ["ANCHORE_VULN_DB"])
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(cache) / "anchore" / "vulnerabilities.sqlite"


def ecosystem_key(ecosystem: str) -> str:
    """Ecosystems compare without their release suffix case: 'Debian:12' stays, 'pypi' is 'PyPI'."""
    known = {"pypi": "PyPI", "go": "Go", "npm": "npm", "maven": "Maven", "rubygems": "RubyGems",
             "crates.io": "crates.io", "packagist": "Packagist", "nuget": "NuGet"}  # fmt: skip
    return known.get(ecosystem.lower(), ecosystem)


class Store:
    """Advisories by ecosystem and package name."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if str(self.path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False)
        self._lock = threading.Lock()
        self._db.execute("PRAGMA foreign_keys = ON")
        self._migrate()

    def _migrate(self) -> None:
        with self._db:
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            version = int(row[0]) if row else 0
            # future migrations go here, one step per version
            if version < SCHEMA_VERSION:
                self._db.execute(
                    "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
                )

    @property
    def schema_version(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load(
        self, advisories: Iterable[Advisory], source: str, report: LoadReport | None = None
    ) -> LoadReport:
        """Store advisories; one is replaced only by a record with a newer ``modified``."""
        report = report if report is not None else LoadReport()
        with self._lock, self._db:
            for advisory in advisories:
                row = self._db.execute(
                    "SELECT modified FROM advisories WHERE id = ?", (advisory.id,)
                ).fetchone()
                if row is not None and row[0] >= advisory.modified:
                    report.unchanged += 1
                    continue
                if row is not None:
                    self._db.execute("DELETE FROM affected WHERE advisory_id = ?", (advisory.id,))
                    self._db.execute("DELETE FROM aliases WHERE advisory_id = ?", (advisory.id,))
                self._db.execute(
                    "INSERT OR REPLACE INTO advisories VALUES (?, ?, ?, ?)",
                    (advisory.id, advisory.modified, source, json.dumps(advisory.raw)),
                )
                self._db.executemany(
                    "INSERT INTO affected VALUES (?, ?, ?)",
                    {(advisory.id, ecosystem_key(a.ecosystem), a.name) for a in advisory.affected},
                )
                self._db.executemany(
                    "INSERT INTO aliases VALUES (?, ?)",
                    [(advisory.id, x) for x in advisory.aliases],
                )
                report.loaded += 1
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('updated', ?)",
                (datetime.datetime.now(datetime.timezone.utc).isoformat(),),
            )
        return report

    @property
    def updated(self) -> datetime.datetime | None:
        """When a feed was last loaded."""
        row = self._db.execute("SELECT value FROM meta WHERE key = 'updated'").fetchone()
        return datetime.datetime.fromisoformat(row[0]) if row else None

    def ecosystems(self) -> set[str]:
        """Every ecosystem some advisory names (``PyPI``, ``Debian:12``...)."""
        return {r[0] for r in self._db.execute("SELECT DISTINCT ecosystem FROM affected")}

    def __len__(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM advisories").fetchone()[0])

    def get(self, advisory_id: str) -> Advisory | None:
        row = self._db.execute(
            "SELECT record FROM advisories WHERE id = ?", (advisory_id,)
        ).fetchone()
        return parse_osv(json.loads(row[0])) if row else None

    def for_package(self, ecosystem: str, name: str) -> list[Advisory]:
        """Advisories naming this package in this ecosystem."""
        rows = self._db.execute(
            "SELECT DISTINCT a.record FROM affected f JOIN advisories a ON a.id = f.advisory_id "
            "WHERE f.ecosystem = ? AND f.name = ? ORDER BY a.id",
            (ecosystem_key(ecosystem), name),
        ).fetchall()
        return [parse_osv(json.loads(r[0])) for r in rows]
