"""What every SBOM format shares: our tool's identity, the package type of an imported
component, and the analysis an imported SBOM becomes."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, BinaryIO

from packageurl import PackageURL

from anchore import ecosystems
from anchore.analysis.model import (
    Analysis,
    AnalyzerError,
    Distro,
    FileRecord,
    ImageInfo,
    Package,
    Relationship,
)
from anchore.documents import load_json
from anchore.errors import LimitExceededError
from anchore.limits import Limits
from anchore.sbom.errors import SbomFormatError

__all__ = [
    "SBOM_EVIDENCE_ANALYZERS",
    "TOOL_NAME",
    "TOOL_VENDOR",
    "Fields",
    "analyzer_errors",
    "analyzers_for",
    "imported_analysis",
    "load_sbom_json",
    "namespace_metadata",
    "package_type_of",
    "read_bounded",
    "tool_version",
]

TOOL_NAME = "anchore"
TOOL_VENDOR = "anchore developers"


def tool_version() -> str:
    """Our version, as SBOMs name their producing tool."""
    # the root package's own __version__: always imported before any of its submodules,
    # so read from sys.modules (an import here would be a hidden upward dependency)
    return str(sys.modules["anchore"].__version__)


def package_type_of(purl: str, stated: str | None = None) -> str:
    """The ``Package.type`` of an imported component: the type the SBOM states (ours, or
    syft's, which are the same names), else the ecosystem row of its purl's type, else
    the purl type itself (a plugin's ``pkg:conan/...`` stays ``conan``)."""
    if stated:
        return stated
    try:
        purl_type = PackageURL.from_string(purl).type
    except ValueError:
        return "unknown"
    row = ecosystems.find_purl_type(purl_type)
    return row.package_type if row is not None else purl_type


def namespace_metadata(
    purl: str, package_type: str, metadata: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``metadata`` with the ecosystem namespace the matcher reads from it (Maven's
    ``group_id``: :attr:`anchore.ecosystems.Ecosystem.namespace`) filled in from the purl
    where it lacks one: CycloneDX and SPDX carry a jar's groupId only in its purl, and a
    Java package without it cannot be matched. An unparsable purl adds nothing (the
    package then stays unchecked, with the matcher's reason)."""
    out = dict(metadata or {})
    row = ecosystems.find(package_type)
    if row is None or row.namespace is None or out.get(row.namespace.metadata_key) or not purl:
        return out
    try:
        namespace = PackageURL.from_string(purl).namespace
    except ValueError:
        return out
    if namespace:
        out[row.namespace.metadata_key] = namespace
    return out


#: the analyzers whose whole evidence an SBOM carries: the package analyzers and the
#: distro's. An analysis we wrote names every analyzer that ran (secrets, setuid
#: files...), but no SBOM format carries their findings: naming them on import would
#: say they ran and found nothing.
SBOM_EVIDENCE_ANALYZERS: frozenset[str] = frozenset(
    {"distro"} | {a for row in ecosystems.ECOSYSTEMS for a in row.analyzers}
)


def analyzers_for(
    packages: Sequence[Package], stated: Iterable[str] = (), distro: Distro | None = None
) -> tuple[str, ...]:
    """The analyzers an imported SBOM stands for: those it names (an SBOM we wrote records
    them) whose evidence an SBOM carries (:data:`SBOM_EVIDENCE_ANALYZERS`), else ``distro``
    when it names a distro and the built-in analyzers of the package types it lists. An
    SBOM is no evidence of anything else (secrets, setuid files, package types it does not
    list): policy rules on those are then unchecked, not passed."""
    named = tuple(a for a in dict.fromkeys(stated) if a in SBOM_EVIDENCE_ANALYZERS)
    if named:
        return named
    found: dict[str, None] = {"distro": None} if distro is not None else {}
    for pkg in packages:
        row = ecosystems.find(pkg.type)
        if row is not None:
            found.update(dict.fromkeys(row.analyzers))
    return tuple(found)


def imported_analysis(
    *,
    origin: str,
    image: ImageInfo,
    distro: Distro | None,
    packages: list[Package],
    relationships: list[Relationship],
    stated: Iterable[str] = (),
    failed: Iterable[str] = (),
    errors: Iterable[AnalyzerError] = (),
    files: list[FileRecord] | None = None,
) -> Analysis:
    """The analysis an SBOM describes: standing for the analyzers :func:`analyzers_for`
    gives, with the failures and errors it records of those analyzers only; no findings
    (no SBOM format carries ours); ``files_known`` only when ``files`` is the whole
    inventory (None: the SBOM lists none, or not all)."""
    analyzers = analyzers_for(packages, stated, distro)
    return Analysis(
        image=image,
        distro=distro,
        packages=packages,
        findings=[],
        files=files or [],
        errors=[e for e in errors if e.analyzer in analyzers],
        relationships=relationships,
        analyzers=analyzers,
        failed_analyzers=tuple(a for a in failed if a in analyzers),
        origin=origin,
        files_known=files is not None,
    )


def analyzer_errors(items: Iterable[Fields] | None) -> list[AnalyzerError]:
    """The :class:`AnalyzerError` objects (``analyzer``, ``message``, ``path``) an SBOM we
    wrote records: what an analyzer could not read, which policy's coverage must see."""
    return [
        AnalyzerError(e.required_text("analyzer"), e.text("message") or "", e.text("path"))
        for e in items or ()
    ]


def read_bounded(path: str, fp: BinaryIO, limits: Limits) -> bytes:
    """The whole SBOM file, refused past ``limits.max_read_bytes`` (an SBOM is read whole:
    an analysis's JSON with a file inventory is larger than image documents' bound)."""
    data = fp.read(limits.max_read_bytes + 1)
    if len(data) > limits.max_read_bytes:
        raise LimitExceededError(
            f"{path}: an SBOM larger than max_read_bytes ({limits.max_read_bytes} bytes)",
            limit="max_read_bytes",
            source=path,
        )
    return data


def load_sbom_json(path: str, data: bytes, limits: Limits) -> Any:
    """A JSON SBOM's document: depth-bounded (``limits.max_json_depth``); malformed JSON
    is an :class:`SbomFormatError` naming the file and the line."""

    def fail(problem: str) -> SbomFormatError:
        return SbomFormatError(f"{path}: {problem}", source=path)

    try:
        return load_json(data, fail, max_depth=limits.max_json_depth)
    except UnicodeDecodeError as exc:
        raise fail(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        if isinstance(exc, SbomFormatError):
            raise
        raise fail(f"not JSON: {exc}") from None


class Fields:
    """Strict reads of one JSON object of an SBOM, every error naming the file and the
    JSON path (``$.components[3].purl``): a value of the wrong type is an
    :class:`SbomFormatError`, a missing key is None (the caller decides whether that is
    unknown or an error)."""

    def __init__(self, path: str, raw: Any, where: str = "$") -> None:
        if not isinstance(raw, Mapping):
            raise SbomFormatError(
                f"{path}: {where} must be an object, not {_kind(raw)}", source=path
            )
        self.path, self.raw, self.where = path, raw, where

    def error(self, key: str | None, problem: str) -> SbomFormatError:
        at = self.where if key is None else f"{self.where}.{key}"
        return SbomFormatError(f"{self.path}: {at} {problem}", source=self.path)

    def _get(self, key: str, types: type | tuple[type, ...], what: str) -> Any:
        value = self.raw.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise self.error(key, f"is {_kind(value)}, not {what}")
        return value

    def text(self, key: str) -> str | None:
        return self._get(key, str, "a string")  # type: ignore[no-any-return]

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "is missing")
        return value

    def integer(self, key: str) -> int | None:
        return self._get(key, int, "an integer")  # type: ignore[no-any-return]

    def flag(self, key: str, default: bool = False) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"is {_kind(value)}, not true or false")
        return value

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, list, "a list of strings") or []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(f"{key}[{i}]", f"is {_kind(item)}, not a string")
        return tuple(value)

    def objects(self, key: str) -> list[Fields] | None:
        """The objects of a list (None when the key is missing or null)."""
        value = self._get(key, list, "a list")
        if value is None:
            return None
        return [Fields(self.path, item, f"{self.where}.{key}[{i}]") for i, item in enumerate(value)]

    def object(self, key: str) -> Fields | None:
        value = self.raw.get(key)
        return None if value is None else Fields(self.path, value, f"{self.where}.{key}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {dict: "an object", list: "a list", str: "a string", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)  # fmt: skip
