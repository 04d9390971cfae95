"""File findings from metadata alone: setuid, setgid, world-writable files."""

from __future__ import annotations

import stat
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.model import Finding

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["PermissionsAnalyzer"]


class PermissionsAnalyzer:
    """Setuid/setgid executables and world-writable files (sticky directories aside)."""

    name = "file-permissions"
    patterns: Sequence[str] = ("**",)
    prefetch = False  # metadata only: no content is read

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        for f in files:
            entry = f.entry
            mode = entry.mode
            if mode & stat.S_ISUID:
                yield Finding(
                    kind="setuid",
                    rule="setuid-file",
                    message=f"{entry.path} is setuid (owner uid {entry.uid}, {entry.permissions})",
                    locations=(f.location,),
                    severity="warning",
                    data={"mode": f"{mode:04o}", "uid": entry.uid},
                )
            if mode & stat.S_ISGID and mode & 0o010:
                yield Finding(
                    kind="setgid",
                    rule="setgid-file",
                    message=f"{entry.path} is setgid (group gid {entry.gid}, {entry.permissions})",
                    locations=(f.location,),
                    severity="warning",
                    data={"mode": f"{mode:04o}", "gid": entry.gid},
                )
            if mode & stat.S_IWOTH:
                yield Finding(
                    kind="world-writable",
                    rule="world-writable-file",
                    message=f"{entry.path} is writable by everyone ({entry.permissions})",
                    locations=(f.location,),
                    severity="warning",
                    data={"mode": f"{mode:04o}"},
                )
