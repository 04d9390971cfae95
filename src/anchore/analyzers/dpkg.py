"""Debian packages: ``/var/lib/dpkg/status`` and distroless ``status.d/*``.

Each package is attributed to the first layer whose copy of the status
database lists it (same name, version, architecture), not to the layer that
last rewrote the database. Owned files come from ``info/*.list``, checksums
from ``info/*.md5sums``, licenses from ``/usr/share/doc/*/copyright``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Container, Hashable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import problem, split_lines
from anchore.analysis.model import AnalyzerError, Finding, Package
from anchore.analyzers.common import package_purl
from anchore.limits import Limits
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["DpkgAnalyzer", "copyright_licenses", "installed", "paragraphs", "parse_status"]

STATUS = "/var/lib/dpkg/status"
STATUS_D = "/var/lib/dpkg/status.d/"
INFO = "/var/lib/dpkg/info/"
#: documentation images often strip; missing files there are not worth a finding
_DOC_PREFIXES = (
    "/usr/share/doc/",
    "/usr/share/man/",
    "/usr/share/info/",
    "/usr/share/locale/",
    "/usr/share/lintian/",
    "/usr/share/doc-base/",
)


def paragraphs(
    lines: Iterable[str], fields: Container[str] | None = None
) -> Iterator[dict[str, str]]:
    """The ``Key: value`` paragraphs of a deb822 file (dpkg status), in linear time.

    Continuation lines and a repeated key's values are gathered in a list and
    joined by newlines once, when the paragraph ends: appending to the string
    each time would make a field of a million continuation lines quadratic.
    ``fields`` keeps only those keys (the rest, and their continuations, are
    skipped), for readers that need a few.
    """
    current: dict[str, str] = {}
    more: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines:
        if not line or line.isspace():
            if current:
                yield _joined(current, more) if more else current
            current, more, last = {}, {}, None
        elif line[0] in " \t":
            if last is not None:
                more.setdefault(last, []).append(line.strip())
        else:
            key, sep, value = line.partition(":")
            if not sep:
                continue
            key = key.strip()
            if fields is not None and key not in fields:
                last = None
                continue
            value = value.strip()
            if key in current:
                more.setdefault(key, []).append(value)
            else:
                current[key] = value
            last = key
    if current:
        yield _joined(current, more) if more else current


def _joined(current: dict[str, str], more: dict[str, list[str]]) -> dict[str, str]:
    for key, parts in more.items():
        current[key] = "\n".join((current[key], *parts))
    return current


def installed(stanzas: Iterable[dict[str, str]]) -> Iterator[dict[str, str]]:
    """The installed stanzas (``deinstall``, ``config-files``... dropped)."""
    for stanza in stanzas:
        if "Package" not in stanza:
            continue
        status = stanza.get("Status", "install ok installed").split()
        if status and status[-1] != "installed":
            continue
        yield stanza


def parse_status(text: str) -> list[dict[str, str]]:
    """The installed stanzas of a status file (``deinstall``, ``config-files``... dropped)."""
    return list(installed(paragraphs(text.splitlines())))


_SOURCE = re.compile(r"^(\S+)(?:\s+\((\S+)\))?$")
#: the value of a DEP-5 ``License:`` field (cut at the line end; stripped in Python: a
#: ``\s*$`` after a lazy group backtracks quadratically on a long line of spaces)
_LICENSE = re.compile(r"^License:([^\n]*)", re.M)
_LICENSE_SPLIT = re.compile(r" (?:or|and) | ?[|,] ?")
#: a name up to its first ``.`` (as the lazy form ``[...]+?(?=[.,;:'\s]|$)`` took it, without
#: retrying each length)
_COMMON_LICENSE = re.compile(
    r"/usr/share/common-licenses/([A-Za-z0-9.+-][A-Za-z0-9+-]*)(?=[.,;:'\s]|$)", re.M
)


def copyright_licenses(text: str) -> list[str]:
    """Licenses a Debian copyright file names (DEP-5 ``License:`` fields, common-licenses).

    Every pattern here runs in linear time on any input: whitespace runs are
    collapsed before the split, so none of its alternatives rescans a run.
    """
    found: dict[str, None] = {}
    for match in _LICENSE.finditer(text):
        value = " ".join(match.group(1).split())
        for part in _LICENSE_SPLIT.split(value):
            part = part.strip()
            if part and not part.startswith(("http", "(")):
                found[part] = None
    for match in _COMMON_LICENSE.finditer(text):
        name = match.group(1).rstrip(".")
        if name:
            found[name] = None
    return list(found)


class DpkgAnalyzer:
    name = "dpkg"
    patterns: Sequence[str] = (
        STATUS,
        STATUS_D + "*",
        INFO + "*.list",
        INFO + "*.md5sums",
        "/usr/share/doc/*/copyright",
    )

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        by_path = {f.path: f for f in files}
        lists = {f.path[len(INFO) : -len(".list")]: f for f in files if f.path.endswith(".list")}
        md5s = {
            f.path[len(INFO) : -len(".md5sums")]: f for f in files if f.path.endswith(".md5sums")
        }
        copyrights = {
            f.path.split("/")[4]: f for f in files if f.path.startswith("/usr/share/doc/")
        }
        distro = context.distro
        distro_id = distro.id if distro else "debian"
        distro_q = f"{distro.id}-{distro.version_id}" if distro and distro.version_id else None

        databases: list[tuple[FileInput, dict[Hashable, int]]] = []
        if STATUS in by_path:
            status = by_path[STATUS]
            try:
                first = context.first_layers(STATUS, functools.partial(_status_keys, status.limits))
            except Exception as exc:  # attribution is a refinement: its failure costs only it
                yield status.error(f"layer attribution: {problem(exc)}")
                first = {}
            databases.append((status, first))
        databases.extend((f, {}) for f in files if f.path.startswith(STATUS_D))

        for db, first in databases:
            try:
                stanzas = installed(paragraphs(db.lines()))
            except Exception as exc:
                yield db.error(problem(exc))
                continue

            build = functools.partial(
                self._record,
                db=db,
                first=first,
                lists=lists,
                md5s=md5s,
                copyrights=copyrights,
                distro_id=distro_id,
                distro_q=distro_q,
                context=context,
            )
            yield from db.each(stanzas, build, describe=_describe)

    def _record(self, stanza: dict[str, str], **sources: Any) -> list[Result]:
        """What one installed stanza gives: its package (after the errors of its own
        files), and a finding when files it installed are gone."""
        if not stanza.get("Version", "").strip():
            # dpkg records a version for every installed package; without one there
            # is no identity to report (no valid purl) and nothing to match
            raise ValueError("has no Version field; not reported")
        pkg, missing, errors = self._package(stanza, **sources)
        out: list[Result] = [*errors, pkg]
        if missing:
            out.append(_files_missing(pkg, missing))
        return out

    def _package(
        self,
        s: dict[str, str],
        db: FileInput,
        first: dict[Any, int],
        lists: dict[str, FileInput],
        md5s: dict[str, FileInput],
        copyrights: dict[str, FileInput],
        distro_id: str,
        distro_q: str | None,
        context: AnalysisContext,
    ) -> tuple[Package, list[str], list[AnalyzerError]]:
        name = s["Package"]
        version = s.get("Version", "")
        arch = s.get("Architecture")
        source_name = source_version = None
        if s.get("Source"):
            m = _SOURCE.match(s["Source"].strip())
            if m:
                source_name = m.group(1)
                source_version = m.group(2) or version
        layer = first.get((name, version, arch or ""), db.entry.layer_index)
        locations = [context.location(db.entry, layer)]
        # info/NAME.list and the like keep their path across versions: the copy that lists
        # this version is the last writer's, not the layer that installed an older one
        # each of the package's own files costs only what it adds: one that cannot be
        # read is an error naming it, and the package is still reported
        errors: list[AnalyzerError] = []
        files: list[str] = []
        list_file = lists.get(f"{name}:{arch}") or lists.get(name)
        if list_file is not None:
            try:
                files = [line for line in list_file.lines() if line and line != "/."]
                locations.append(list_file.written_location)
            except Exception as exc:
                errors.append(list_file.error(problem(exc)))
        checksums: dict[str, str] = {}
        md5_file = md5s.get(f"{name}:{arch}") or md5s.get(name)
        if md5_file is not None:
            try:
                for line in md5_file.lines():
                    digest, _, path = line.partition("  ")
                    if path:
                        checksums["/" + path.lstrip("/")] = digest
                locations.append(md5_file.written_location)
            except Exception as exc:
                checksums = {}
                errors.append(md5_file.error(problem(exc)))
        licenses: list[str] = []
        copyright_file = copyrights.get(name)
        if copyright_file is not None:
            try:
                licenses = copyright_licenses("\n".join(copyright_file.lines()))
                locations.append(copyright_file.written_location)
            except Exception as exc:
                errors.append(copyright_file.error(problem(exc)))
        qualifiers = {"arch": arch, "distro": distro_q}
        if source_name and (source_name != name or source_version != version):
            qualifiers["upstream"] = (
                f"{source_name}@{source_version}" if source_version != version else source_name
            )
        metadata: dict[str, Any] = {
            k: s[k]
            for k in (
                "Maintainer",
                "Installed-Size",
                "Depends",
                "Pre-Depends",
                "Provides",
                "Section",
                "Priority",
                "Essential",
            )
            if k in s
        }
        if checksums:
            metadata["md5sums"] = checksums
        missing = []
        if files and checksums:
            # a file dpkg installed (md5sums lists regular files only) that the image no longer has
            for path in checksums:
                if not path.startswith(_DOC_PREFIXES) and not context.image.exists(path):
                    missing.append(path)
        return (
            Package(
                type="deb",
                name=name,
                version=version,
                purl=package_purl("deb", name, version, namespace=distro_id, qualifiers=qualifiers),
                locations=tuple(locations),
                licenses=tuple(licenses),
                source_name=source_name,
                source_version=source_version,
                architecture=arch,
                files=tuple(files),
                metadata=metadata,
            ),
            missing,
            errors,
        )


def _describe(stanza: dict[str, str]) -> str:
    return f"package {stanza.get('Package')!r}"


def _files_missing(pkg: Package, missing: list[str]) -> Finding:
    return Finding(
        kind="package-files-removed",
        rule="dpkg-files-missing",
        message=(
            f"{pkg.name} {pkg.version} is still recorded as installed, but "
            f"{len(missing)} of its files are gone: {', '.join(missing[:5])}"
            + (" ..." if len(missing) > 5 else "")
        ),
        locations=pkg.locations,
        severity="warning",
        data={"package": pkg.purl, "missing": missing},
    )


#: what layer attribution needs of a paragraph: its identity, and whether it is installed
_KEY_FIELDS = frozenset(("Package", "Version", "Architecture", "Status"))


def _status_keys(limits: Limits, data: bytes) -> list[tuple[str, str, str]]:
    """The (name, version, arch) a layer's copy of the status file lists, read within
    ``limits`` (only the identity fields are kept); a copy past them is skipped."""
    lines = split_lines(data, STATUS, limits)  # past them, first_layers skips this copy
    keys = [
        (s["Package"], s.get("Version", ""), s.get("Architecture", ""))
        for s in installed(paragraphs(lines, _KEY_FIELDS))
    ]
    if len(keys) > limits.max_db_records:
        raise ValueError(f"{STATUS}: more than Limits.max_db_records records")
    return keys


@hookimpl
def anchore_analyzers() -> list[DpkgAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [DpkgAnalyzer()]
