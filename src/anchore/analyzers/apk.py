"""Alpine packages: ``/lib/apk/db/installed`` (origin, license, owned files).

Like dpkg, each package is attributed to the first layer whose copy of the
database lists it. The database is read within the limits (lines, line
length, records); a record that makes no package (no version, a name such as
``/`` that no package URL can hold) is an error entry naming it, and the other
records are reported.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import problem, split_lines
from anchore.analysis.model import Package
from anchore.analyzers.common import package_purl
from anchore.limits import Limits
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["ApkAnalyzer", "parse_installed", "records"]

INSTALLED = "/lib/apk/db/installed"


def records(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Records of the apk database: single-letter keys, F:/R: lines making the file list.

    One pass over the lines, each record yielded as it ends; a record without a
    ``P:`` (name) line is no package and is dropped.
    """
    current: dict[str, Any] = {}
    directory = ""
    for line in lines:
        if not line or line.isspace():
            if current.get("P"):
                yield current
            current, directory = {}, ""
            continue
        key, sep, value = line.partition(":")
        if not sep or len(key) != 1:
            continue
        if key == "F":
            directory = value
        elif key == "R":
            current.setdefault("files", []).append(
                f"/{directory}/{value}" if directory else f"/{value}"
            )
        elif key not in current:
            current[key] = value
    if current.get("P"):
        yield current


def parse_installed(text: str) -> list[dict[str, Any]]:
    """Records of the apk database (see :func:`records`)."""
    return list(records(text.splitlines()))


def _installed_keys(limits: Limits, data: bytes) -> list[tuple[str, str]]:
    """The (name, version) a layer's copy of the database lists, read within ``limits``;
    a copy past them raises, and ``first_layers`` skips it."""
    keys = [(r["P"], r.get("V", "")) for r in records(split_lines(data, INSTALLED, limits))]
    if len(keys) > limits.max_db_records:
        raise ValueError(f"{INSTALLED}: more than Limits.max_db_records records")
    return keys


def _describe(record: dict[str, Any]) -> str:
    return f"package {record.get('P')!r}"


class ApkAnalyzer:
    name = "apk"
    patterns: Sequence[str] = (INSTALLED,)

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            try:
                lines = f.lines()
            except Exception as exc:
                yield f.error(problem(exc))
                continue
            try:
                first = context.first_layers(f.path, functools.partial(_installed_keys, f.limits))
            except Exception as exc:  # attribution is a refinement: its failure costs only it
                yield f.error(f"layer attribution: {problem(exc)}")
                first = {}
            build = functools.partial(self._package, f=f, first=first, context=context)
            yield from f.each(records(lines), build, describe=_describe)

    def _package(
        self, r: dict[str, Any], f: FileInput, first: dict[Any, int], context: AnalysisContext
    ) -> Package:
        """One record's package; raises, in words, for a record that makes none."""
        if not r.get("V"):
            raise ValueError("has no version; not reported")
        distro = context.distro
        distro_q = f"{distro.id}-{distro.version_id}" if distro and distro.version_id else None
        layer = first.get((r["P"], r["V"]), f.entry.layer_index)
        origin = r.get("o")
        qualifiers = {"arch": r.get("A"), "distro": distro_q}
        if origin and origin != r["P"]:
            qualifiers["upstream"] = origin
        return Package(
            type="apk",
            name=r["P"],
            version=r["V"],
            purl=package_purl(
                "apk",
                r["P"],
                r["V"],
                namespace=distro.id if distro else "alpine",
                qualifiers=qualifiers,
            ),
            locations=(context.location(f.entry, layer),),
            licenses=tuple(r.get("L", "").split()),
            source_name=origin,
            source_version=r["V"] if origin else None,
            architecture=r.get("A"),
            files=tuple(r.get("files", ())),
            metadata={
                k: r[v]
                for k, v in (
                    ("description", "T"),
                    ("url", "U"),
                    ("maintainer", "m"),
                    ("commit", "c"),
                    ("depends", "D"),
                    ("provides", "p"),
                    ("checksum", "C"),
                )
                if r.get(v)
            },
        )


@hookimpl
def anchore_analyzers() -> list[ApkAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [ApkAnalyzer()]
