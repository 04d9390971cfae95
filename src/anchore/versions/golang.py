"""Go module versions: semantic versions with a ``v`` (pseudo-versions, ``+incompatible``).

Ordered like ``golang.org/x/mod/semver``: build metadata (``+incompatible``)
is ignored, pseudo-versions are pre-releases and sort as such. Toolchain
versions (``go1.21.3``, ``1.21rc2``) are accepted too, for ``stdlib``.
"""

from __future__ import annotations

import re

from anchore.versions import semver
from anchore.versions.errors import bad, bounded

__all__ = ["compare", "normalize"]

_TOOLCHAIN = re.compile(r"^(?:go)?(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:rc|beta|alpha)\d+)?$", re.ASCII)


def normalize(version: str) -> str:
    """The semver string a Go version stands for (``v1.2`` is ``1.2.0``, ``go1.21rc2`` too)."""
    toolchain = _TOOLCHAIN.match(bounded("go", version))
    if toolchain and not version.startswith("v"):
        major, minor, patch, pre = toolchain.groups()
        core = f"{major}.{minor or 0}.{patch or 0}"
        return f"{core}-{pre}" if pre else core
    if not version.startswith("v"):
        raise bad("go", version, "module versions start with 'v'")
    body = version[1:].split("+", 1)[0]
    core, dash, pre = body.partition("-")
    parts = core.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise bad("go", version, "not a semantic version")
    parts += ["0"] * (3 - len(parts))
    return ".".join(parts) + (dash + pre if dash else "")


def compare(a: str, b: str) -> int:
    return semver.compare(normalize(a), normalize(b))
