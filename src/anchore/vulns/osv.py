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

import datetime
import os
import re
import zipfile
from collections.abc import Iterator
from typing import Any

import attrs
import yaml

from anchore.analysis.archives import open_zip
from anchore.documents import load_json, load_yaml
from anchore.errors import LimitExceededError
from anchore.limits import Limits
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


_FRACTION = re.compile(r"(T\d\d:\d\d:\d\d)\.(\d+)")


def _iso_for_python(text: str) -> str:
    """RFC 3339 as ``fromisoformat`` reads it on Python 3.10 too: ``Z`` as ``+00:00`` and
    the fraction as exactly six digits (3.10 takes only 3 or 6)."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    return _FRACTION.sub(lambda m: f"{m.group(1)}.{(m.group(2) + '000000')[:6]}", text, count=1)


def normal_time(text: str) -> str:
    """An RFC 3339 time as one UTC form with microseconds (``2024-05-01T10:00:00.000000Z``),
    so that the store's text comparison of ``modified`` is chronological: a fraction,
    an offset or a missing ``Z`` otherwise sort wrongly. No zone means UTC."""
    try:
        stamp = datetime.datetime.fromisoformat(_iso_for_python(text))
    except ValueError:
        raise MalformedRecordError(f"'modified' is not an RFC 3339 time: {text[:40]!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=datetime.timezone.utc)
    return stamp.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


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
        modified=normal_time(doc["modified"]),
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


def load_feed_text(data: bytes, *, is_yaml: bool) -> Any:
    """A feed file's JSON or YAML, its nesting and YAML aliases bounded
    (:func:`anchore.documents.load_yaml`): past them, a :class:`MalformedRecordError`
    saying so; a syntax error is a ValueError or :class:`yaml.YAMLError`."""
    if is_yaml:
        return load_yaml(data, MalformedRecordError, loader=_YAML_LOADER)
    return load_json(data, MalformedRecordError)


#: the zip archives of a feed are read within the default limits: the entries an
#: archive lists (max_archive_entries), the inflated size of one record
#: (max_json_bytes) and of them all (max_compression_ratio times the archive's size)
_ZIP_LIMITS = Limits()


def _zip_records(path: str, report: LoadReport) -> Iterator[tuple[str, bytes]]:
    """(``path!member``, content) of each record file of an OSV zip archive.

    An archive listing more than ``max_archive_entries`` members, or inflating past
    ``max_compression_ratio`` times its own size, is a :class:`FeedError` naming it; a
    member larger than ``max_json_bytes`` (as declared, and as inflated: zipfile stops
    at the declared size) is skipped and reported.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115 (closed below: this is a generator)
    except OSError as exc:
        raise FeedError(f"{path}: cannot read: {exc.strerror or exc}", source=path) from None
    with fh:
        try:
            archive, _ = open_zip(fh, path, _ZIP_LIMITS)
        except LimitExceededError as exc:
            raise FeedError(exc.message, source=path) from None
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
            raise FeedError(f"{path}: not a readable zip archive: {exc}", source=path) from None
        with archive:
            yield from _zip_members(path, archive, fh.seek(0, 2), report)


def _zip_members(
    path: str, archive: zipfile.ZipFile, size: int, report: LoadReport
) -> Iterator[tuple[str, bytes]]:
    most = _ZIP_LIMITS.max_json_bytes
    ratio = _ZIP_LIMITS.max_compression_ratio
    budget = int(ratio * max(size, 1 << 20))
    for info in archive.infolist():
        if not info.filename.endswith((".json", ".yaml", ".yml")) or info.is_dir():
            continue
        name = f"{path}!{info.filename}"
        if info.file_size > most:
            why = f"{info.file_size} bytes inflated, more than Limits.max_json_bytes ({most})"
            report.skipped.append((name, why))
            continue
        budget -= info.file_size
        if budget < 0:
            raise FeedError(
                f"{path}: inflates to more than Limits.max_compression_ratio ({ratio:g}) "
                f"times its size; not read from {info.filename} on",
                source=path,
                member=info.filename,
            )
        try:
            with archive.open(info) as member:
                data = member.read(most + 1)
        except (OSError, zipfile.BadZipFile, EOFError, ValueError) as exc:
            report.skipped.append((name, f"unreadable: {exc}"))
            continue
        yield name, data


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
            doc = _normalize_times(load_feed_text(data, is_yaml=name.endswith((".yaml", ".yml"))))
        except MalformedRecordError as exc:  # nested too deeply, aliases past the bound
            report.skipped.append((name, str(exc)))
            return
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
        for name, data in _zip_records(path, report):
            yield from parse(name, data)
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise FeedError(f"{path}: cannot read: {exc.strerror or exc}", source=path) from None
        yield from parse(path, data)
