"""OSV records: parsing, and reading them from directories, files and zip archives.

OSV (https://ossf.github.io/osv-schema/) is the common form: every feed we read
becomes :class:`Advisory` values. A malformed record is reported in the
:class:`LoadReport` with its file name, and skipped; the rest loads.

Coverage: a zip or a directory of records is a database (OSV publishes
``ECOSYSTEM/all.zip``), so it covers every ecosystem its records name; a single
record file covers nothing. Its advisories are stored and matched, but one
record for PyPI says nothing about every other Python package, so those stay
unchecked until a whole feed covers PyPI.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from typing import Any

import attrs
import yaml

from anchore.vulns.errors import FeedError, MalformedRecordError
from anchore.vulns.errors import MalformedRecord as MalformedRecord  # the old name

__all__ = ["Advisory", "Affected", "LoadReport", "MalformedRecordError", "parse_osv", "read_osv"]

#: every scalar stays a string: a version written 1.10 must not become the float 1.1.
#: libyaml's loader when PyYAML has it (ten times faster), else the Python one.
_YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


@attrs.frozen
class Affected:
    """One affected package of an advisory, with its ranges and listed versions."""

    ecosystem: str
    name: str
    #: OSV ranges as given: [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, ...]}]
    ranges: tuple[dict[str, Any], ...] = ()
    versions: tuple[str, ...] = ()
    purl: str | None = None
    #: the entry as read (ecosystem_specific, database_specific...)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Advisory:
    id: str
    modified: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    published: str | None = None
    withdrawn: str | None = None
    affected: tuple[Affected, ...] = ()
    #: [{"type": "CVSS_V3", "score": "CVSS:3.1/..."}]
    severity: tuple[dict[str, str], ...] = ()
    references: tuple[str, ...] = ()
    #: the record as read, for anything not modelled
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.define
class LoadReport:
    """What a load read, and what it skipped (file name and why)."""

    loaded: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = attrs.field(factory=list)
    #: ecosystems the feed is a whole database for (a package of one that no
    #: advisory names was checked and found clean); readers add to it as they
    #: read. Only these count as coverage: naming an ecosystem is not covering it.
    covered: set[str] = attrs.field(factory=set)


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedRecordError(f"'{field}' must be a list of strings")
    return tuple(value)


def parse_osv(doc: Any) -> Advisory:
    """An Advisory from an OSV record (a dict), or MalformedRecordError saying what is wrong."""
    if not isinstance(doc, dict):
        raise MalformedRecordError("an OSV record must be an object")
    for field in ("id", "modified"):
        if not isinstance(doc.get(field), str) or not doc[field]:
            raise MalformedRecordError(f"missing '{field}'")
    if not isinstance(doc.get("affected") or [], list):
        raise MalformedRecordError("'affected' must be a list")
    affected = []
    for item in doc.get("affected") or []:
        if not isinstance(item, dict) or not isinstance(item.get("package"), dict):
            raise MalformedRecordError("'affected' entries need a 'package'")
        pkg = item["package"]
        if not isinstance(pkg.get("ecosystem"), str) or not isinstance(pkg.get("name"), str):
            raise MalformedRecordError("'affected.package' needs 'ecosystem' and 'name'")
        if not isinstance(item.get("versions") or [], list):
            raise MalformedRecordError("'affected.versions' must be a list")
        ranges = item.get("ranges") or []
        if not isinstance(ranges, list) or not all(
            isinstance(r, dict) and isinstance(r.get("events"), list) for r in ranges
        ):
            raise MalformedRecordError("'ranges' must be a list of objects with 'events'")
        for r in ranges:
            for event in r["events"]:
                if not isinstance(event, dict) or len(event) != 1:
                    raise MalformedRecordError("each range event must be one key and one version")
        affected.append(
            Affected(
                ecosystem=pkg["ecosystem"],
                name=pkg["name"],
                ranges=tuple(ranges),
                versions=tuple(str(v) for v in _strings(
                    [str(v) for v in item.get("versions") or []], "versions")),
                purl=pkg["purl"] if isinstance(pkg.get("purl"), str) else None,
                raw=item,
            )
        )  # fmt: skip
    for field in ("published", "withdrawn"):
        if doc.get(field) is not None and not isinstance(doc[field], str):
            raise MalformedRecordError(f"'{field}' must be a string")
    if not isinstance(doc.get("references") or [], list):
        raise MalformedRecordError("'references' must be a list")
    severity = doc.get("severity") or []
    if not isinstance(severity, list) or not all(isinstance(s, dict) for s in severity):
        raise MalformedRecordError("'severity' must be a list of objects")
    return Advisory(
        id=doc["id"],
        modified=doc["modified"],
        aliases=_strings(doc.get("aliases"), "aliases"),
        summary=str(doc.get("summary") or ""),
        details=str(doc.get("details") or ""),
        published=doc.get("published"),
        withdrawn=doc.get("withdrawn"),
        affected=tuple(affected),
        severity=tuple({k: str(v) for k, v in s.items()} for s in severity),
        references=tuple(
            str(r.get("url")) for r in doc.get("references") or [] if isinstance(r, dict)
        ),
        raw=doc,
    )


def _load_text(name: str, data: bytes) -> Any:
    if name.endswith((".yaml", ".yml")):
        return yaml.load(data, Loader=_YAML_LOADER)
    return json.loads(data)


def _normalize_times(doc: Any) -> Any:
    """YAML turns timestamps into datetimes; OSV means the RFC 3339 strings."""
    import datetime

    if isinstance(doc, dict):
        return {k: _normalize_times(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_normalize_times(v) for v in doc]
    if isinstance(doc, datetime.datetime):
        text = doc.isoformat()
        return text.replace("+00:00", "Z") if doc.tzinfo else text + "Z"
    return doc


def read_osv(path: str | os.PathLike[str], report: LoadReport | None = None) -> Iterator[Advisory]:
    """Every record under ``path``: a directory (recursively), a .json/.yaml file, or a .zip.

    A JSON file may hold one record or a list of them. Bad records go to
    ``report``. A directory or zip adds the ecosystems its records name to
    ``report.covered``; a record file on its own adds none (see the module doc).
    """
    report = report if report is not None else LoadReport()
    path = os.fspath(path)
    database = os.path.isdir(path) or path.endswith(".zip")

    def parse(name: str, data: bytes) -> Iterator[Advisory]:
        for advisory in parse_records(name, data):
            if database:
                report.covered.update(a.ecosystem for a in advisory.affected)
            yield advisory

    def parse_records(name: str, data: bytes) -> Iterator[Advisory]:
        try:
            doc = _normalize_times(_load_text(name, data))
        except (ValueError, yaml.YAMLError) as exc:
            report.skipped.append((name, f"not valid {name.rsplit('.', 1)[-1].upper()}: {exc}"))
            return
        for record in doc if isinstance(doc, list) else [doc]:
            try:
                yield parse_osv(record)
            except MalformedRecordError as exc:
                report.skipped.append((name, str(exc)))

    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                if name.endswith((".json", ".yaml", ".yml")):
                    full = os.path.join(root, name)
                    try:
                        with open(full, "rb") as fh:
                            data = fh.read()
                    except OSError as exc:
                        report.skipped.append((full, f"unreadable: {exc.strerror or exc}"))
                        continue
                    yield from parse(full, data)
    elif path.endswith(".zip"):
        try:
            archive = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as exc:
            raise FeedError(f"{path}: not a readable zip archive: {exc}", source=path) from None
        with archive:
            for info in archive.infolist():
                if info.filename.endswith((".json", ".yaml", ".yml")) and not info.is_dir():
                    try:
                        data = archive.read(info)
                    except (OSError, zipfile.BadZipFile, EOFError) as exc:
                        report.skipped.append((f"{path}!{info.filename}", f"unreadable: {exc}"))
                        continue
                    yield from parse(f"{path}!{info.filename}", data)
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise FeedError(f"{path}: cannot read: {exc.strerror or exc}", source=path) from None
        yield from parse(path, data)
