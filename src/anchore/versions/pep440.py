"""Python versions (PEP 440), through ``packaging``: the reference implementation."""

from __future__ import annotations

import re

from packaging.version import InvalidVersion, Version

from anchore.versions.errors import VersionError, bad, bounded, parser

__all__ = ["compare", "compare_pypi", "parse"]


@parser("pep440")
def parse(version: str) -> Version:
    try:
        return Version(version)
    except InvalidVersion:
        raise bad("pep440", version, "not a PEP 440 version") from None


def compare(a: str, b: str) -> int:
    va, vb = parse(a), parse(b)
    return (va > vb) - (va < vb)


# ---- PyPI as it is: PEP 440 first, pre-PEP 440 releases after packaging's old rules ----
_LEGACY_PART = re.compile(r"(\d+|[a-z]+|\.|-)")
_LEGACY_MAP = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_key(version: str) -> tuple[int, tuple[str, ...]]:
    """``packaging.version.LegacyVersion``'s key (packaging < 22): sorts before any PEP 440."""
    parts: list[str] = []
    for raw in _LEGACY_PART.split(version.lower()):
        part = _LEGACY_MAP.get(raw, raw)
        if not part or part == ".":
            continue
        part = part.zfill(8) if part[:1] in "0123456789" else "*" + part
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    parts.append("*final")
    return -1, tuple(parts)


def compare_pypi(a: str, b: str) -> int:
    """PyPI's order: PEP 440 versions as PEP 440; others (``0.1-bulbasaur``) by the legacy
    rules packaging used before 22.0, all before any PEP 440 version."""
    bounded("pypi", a)
    bounded("pypi", b)
    try:
        va: Version | None = parse(a)
    except VersionError:
        va = None
    try:
        vb: Version | None = parse(b)
    except VersionError:
        vb = None
    if va is not None and vb is not None:
        return (va > vb) - (va < vb)
    if va is not None:
        return 1
    if vb is not None:
        return -1
    ka, kb = _legacy_key(a), _legacy_key(b)
    return (ka > kb) - (ka < kb)
