"""System files as data: users, groups, and the settings of well-known config files.

Policies ask about these (a UID 0 account that is not root, ``PermitRootLogin
yes``); the analysis records them as :class:`Dataset` values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import FileAnalyzer
from anchore.analysis.model import Dataset
from anchore.plugins import hookimpl

__all__ = ["CONFIG_FILES", "SystemFilesAnalyzer", "parse_group", "parse_passwd"]

_MAX_ID_DIGITS = 20  # uids and gids are 32-bit; a longer "number" is not one

#: files read as "key value" (or "key=value") settings; the last value of a key wins
CONFIG_FILES = (
    "/etc/ssh/sshd_config",
    "/etc/ssh/ssh_config",
    "/etc/login.defs",
    "/etc/sudoers",
    "/etc/sysctl.conf",
    "/etc/security/limits.conf",
    "/etc/default/useradd",
)


def parse_passwd(text: str | Iterable[str]) -> list[dict[str, Any]]:
    entries = []
    for line in _lines(text):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 7:
            continue
        entries.append({"name": f[0], "uid": _int(f[2]), "gid": _int(f[3]), "gecos": f[4],
                        "home": f[5], "shell": f[6], "line": line})  # fmt: skip
    return entries


def parse_group(text: str | Iterable[str]) -> list[dict[str, Any]]:
    entries = []
    for line in _lines(text):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.split(":")
        if len(f) < 4:
            continue
        members = [m for m in f[3].split(",") if m]
        entries.append({"name": f[0], "gid": _int(f[2]), "members": members, "line": line})
    return entries


def parse_settings(text: str | Iterable[str]) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for raw in _lines(text):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if "=" in line and (" " not in line.split("=", 1)[0].strip()):
            key, _, value = line.partition("=")
        else:
            key, _, value = line.partition(" ")
        settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def _lines(text: str | Iterable[str]) -> Iterable[str]:
    return text.splitlines() if isinstance(text, str) else text


def _int(text: str) -> int | None:
    digits = text.strip().lstrip("-")
    return int(text) if digits.isdigit() and len(digits) <= _MAX_ID_DIGITS else None


class SystemFilesAnalyzer(FileAnalyzer):
    """One dataset per file. Its location is the layer that wrote the file as it is
    (``written_location``): a setting or an account is that layer's doing, even in a
    file an earlier layer introduced. A file it cannot read (over ``max_read_bytes``)
    is an error naming it, and the others' datasets stand; policy rules on these
    datasets are then refused (:mod:`anchore.policy.coverage`), not passed for want
    of the dataset."""

    name = "system-files"
    patterns: Sequence[str] = ("/etc/passwd", "/etc/group", *CONFIG_FILES)

    def parse(self, f: FileInput) -> Iterable[Result]:
        text = f.lines()  # within max_text_lines and max_line_bytes
        where = (f.written_location,)
        if f.path == "/etc/passwd":
            yield Dataset("passwd", parse_passwd(text), where)
        elif f.path == "/etc/group":
            yield Dataset("group", parse_group(text), where)
        else:
            yield Dataset(f"config:{f.path}", parse_settings(text), where)


@hookimpl
def anchore_analyzers() -> list[SystemFilesAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [SystemFilesAnalyzer()]
