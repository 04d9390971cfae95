"""Distro feeds, read into OSV form: the Debian security tracker and Alpine's secdb.

Both are keyed by source package (Debian's source, Alpine's origin) and
release, with one affected entry per (release, package): ``introduced: 0`` and,
once fixed, ``fixed: <version>``. A fixed version of ``0`` means the release was
never affected: no entry. Distro severities are kept as given. The CVE is every
advisory's alias, so ignore rules and VEX statements naming it apply.

Advisory ids: one per (secdb file, CVE) for Alpine, ``ALPINE-v3.18-main-CVE-…``
(release and repository, as the file's ``distroversion`` and ``reponame`` say),
so that loading one file replaces only what that file describes; one per CVE
for the tracker, ``DEBIAN-TRACKER-CVE-…``. Neither collides with osv.dev's own
``DEBIAN-CVE-…`` and ``ALPINE-CVE-…`` records, which would otherwise replace
ours (or ours theirs) by id. :data:`DISTRO_PREFIXES` names our ids: matching
prefers them when OSV's record of the same CVE is in the store too.
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

import yaml

from anchore.ecosystems import distro_release
from anchore.vulns.osv import (
    Advisory,
    LoadReport,
    MalformedRecordError,
    load_feed_text,
    parse_osv,
)

__all__ = ["DEBIAN_RELEASES", "DISTRO_PREFIXES", "read_alpine_secdb", "read_debian_tracker"]

DEBIAN_TRACKER_PREFIX = "DEBIAN-TRACKER"

#: the largest tracker JSON and secdb file read: both are parsed whole (the tracker
#: was ~70 MB in 2026, a secdb file ~1 MB)
TRACKER_MAX_BYTES = 512 * 1024 * 1024
SECDB_MAX_BYTES = 64 * 1024 * 1024
#: the id prefixes of the advisories read from the distros' own feeds
DISTRO_PREFIXES = (f"{DEBIAN_TRACKER_PREFIX}-", "ALPINE-v")

#: how advisories name the releases of each distro (their ecosystem rows' DistroRelease)
_DEBIAN = distro_release("debian")
_ALPINE = distro_release("alpine")

#: an Alpine release as secdb files name it, and a repository name
_ALPINE_RELEASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._]*")
_REPO = re.compile(r"[a-z][a-z0-9_-]*")

#: Debian codenames to release numbers, as OSV's "Debian:<n>" ecosystems name them
DEBIAN_RELEASES = dict(_DEBIAN.codenames)


def _bounded(fh: BinaryIO, limit: int) -> bytes:
    """The whole file, or a ValueError past ``limit`` (parsed whole: it must fit)."""
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"larger than {limit} bytes, the bound for this feed's files")
    return data


def _mtime(path: str) -> str:
    stamp = datetime.datetime.fromtimestamp(os.path.getmtime(path), tz=datetime.timezone.utc)
    return stamp.strftime("%Y-%m-%dT%H:%M:%SZ")


def _advisories(
    prefix: str, by_cve: dict[str, dict[str, Any]], modified: str, report: LoadReport, source: str
) -> Iterator[Advisory]:
    for cve, record in sorted(by_cve.items()):
        doc = {
            "id": f"{prefix}-{cve}",
            "modified": modified,
            "aliases": [cve],
            "summary": record.get("summary", ""),
            "affected": record["affected"],
        }
        try:
            yield parse_osv(doc)
        except MalformedRecordError as exc:
            report.skipped.append((source, f"{cve}: {exc}"))


def read_debian_tracker(
    path: str | os.PathLike[str], report: LoadReport | None = None
) -> Iterator[Advisory]:
    """The tracker's JSON (``{source: {CVE: {releases: {codename: {...}}}}}``)."""
    report = report if report is not None else LoadReport()
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = load_feed_text(_bounded(fh, TRACKER_MAX_BYTES), is_yaml=False)
    except MalformedRecordError as exc:  # nested too deeply
        report.skipped.append((path, str(exc)))
        return
    except (OSError, ValueError) as exc:
        report.skipped.append((path, f"not read as JSON: {exc}"))
        return
    if not isinstance(data, dict):
        report.skipped.append((path, "expected an object of source packages"))
        return
    by_cve: dict[str, dict[str, Any]] = {}
    for source, cves in data.items():
        if not isinstance(cves, dict):
            report.skipped.append((path, f"{source}: expected an object of CVEs"))
            continue
        for cve, info in cves.items():
            if not isinstance(info, dict) or not isinstance(info.get("releases"), dict | list):
                report.skipped.append((path, f"{source} {cve}: no releases"))
                continue
            if not info["releases"]:
                continue  # tracked, but no release carries the package
            if not isinstance(info["releases"], dict):
                report.skipped.append((path, f"{source} {cve}: 'releases' is not an object"))
                continue
            entry = by_cve.setdefault(cve, {"summary": str(info.get("description") or "")[:500],
                                            "affected": []})  # fmt: skip
            for codename, rel in info["releases"].items():
                release = _DEBIAN.codename_release(codename)
                if release is None or not isinstance(rel, dict):
                    continue
                # the tracker follows this release: it is covered, affected or not
                report.covered.add(_DEBIAN.ecosystem_of(release))
                fixed = rel.get("fixed_version")
                status = rel.get("status")
                if fixed == "0" or status == "undetermined":
                    continue  # never affected, or nobody knows yet
                events: list[dict[str, str]] = [{"introduced": "0"}]
                if status == "resolved" and fixed:
                    events.append({"fixed": str(fixed)})
                entry["affected"].append({
                    "package": {"ecosystem": _DEBIAN.ecosystem_of(release), "name": source},
                    "ranges": [{"type": "ECOSYSTEM", "events": events}],
                    "ecosystem_specific": {"urgency": str(rel.get("urgency", "")).rstrip("*"),
                                           "status": status},
                })  # fmt: skip
    yield from _advisories(DEBIAN_TRACKER_PREFIX, by_cve, _mtime(path), report, path)


def read_alpine_secdb(
    path: str | os.PathLike[str], report: LoadReport | None = None
) -> Iterator[Advisory]:
    """Alpine secdb files (YAML or JSON) or a directory of them (``v3.10/main.yaml``...)."""
    report = report if report is not None else LoadReport()
    path = os.fspath(path)
    files = []
    if os.path.isdir(path):
        for root, dirs, names in os.walk(path):
            dirs.sort()
            files += [
                os.path.join(root, n) for n in sorted(names) if n.endswith((".yaml", ".json"))
            ]
    else:
        files = [path]
    for name in files:
        yield from _read_secdb_file(name, report)


def _read_secdb_file(name: str, report: LoadReport) -> Iterator[Advisory]:
    """One secdb file: one advisory per CVE, named by the file's release and repository."""
    try:
        with open(name, "rb") as fh:
            doc = load_feed_text(_bounded(fh, SECDB_MAX_BYTES), is_yaml=not name.endswith(".json"))
    except MalformedRecordError as exc:  # nested too deeply, aliases past the bound
        report.skipped.append((name, str(exc)))
        return
    except (OSError, ValueError, yaml.YAMLError) as exc:
        report.skipped.append((name, f"unreadable: {exc}"))
        return
    if isinstance(doc, dict) and doc.get("packages") in (None, ""):
        doc["packages"] = []  # a repository with no fixes yet
    if not isinstance(doc, dict) or not isinstance(doc.get("packages"), list):
        report.skipped.append((name, "no 'packages' list"))
        return
    release = str(doc.get("distroversion") or "")
    if not _ALPINE_RELEASE.fullmatch(release):
        report.skipped.append((name, f"no 'distroversion' like v3.18: {release[:40]!r}"))
        return
    repo = str(doc.get("reponame") or os.path.splitext(os.path.basename(name))[0])
    if not _REPO.fullmatch(repo):
        report.skipped.append((name, f"'reponame' is not a repository name: {repo[:40]!r}"))
        return
    # a release's secdb covers it, even with no fixes recorded yet
    report.covered.add(_ALPINE.ecosystem_of(release))
    by_cve: dict[str, dict[str, Any]] = {}
    for item in doc["packages"]:
        pkg = item.get("pkg") if isinstance(item, dict) else None
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str):
            report.skipped.append((name, f"malformed package entry {str(item)[:80]}"))
            continue
        secfixes = pkg.get("secfixes") or {}
        if not isinstance(secfixes, dict):
            report.skipped.append((name, f"{pkg['name']}: 'secfixes' is not a mapping"))
            continue
        for fixed, ids in secfixes.items():
            if not isinstance(ids, list):
                ids = [ids] if ids else []
            for ident in ids:
                for cve in str(ident).split():
                    entry = by_cve.setdefault(cve, {"affected": []})
                    if str(fixed) == "0":
                        continue  # 'fixed in 0': the release was never affected
                    entry["affected"].append({
                        "package": {"ecosystem": _ALPINE.ecosystem_of(release),
                                    "name": pkg["name"]},
                        "ranges": [{"type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": str(fixed)}]}],
                    })  # fmt: skip
    yield from _advisories(f"ALPINE-{release}-{repo}", by_cve, _mtime(name), report, name)
