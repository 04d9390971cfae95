"""File findings from metadata alone: setuid, setgid, world-writable files."""

from __future__ import annotations

import stat
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import FileAnalyzer, within_time
from anchore.analysis.model import AnalyzerError, Finding
from anchore.plugins import hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = ["PermissionsAnalyzer"]


def is_world_writable(file_type: str, mode: int) -> bool:
    """Writable by everyone, for files and directories one writes into: links and device
    nodes (``/dev/null`` is 0666 by design) and sticky directories (``/tmp``) are not."""
    if not mode & stat.S_IWOTH or file_type not in ("file", "hardlink", "directory"):
        return False
    return not (file_type == "directory" and mode & stat.S_ISVTX)


class PermissionsAnalyzer(FileAnalyzer):
    """Setuid/setgid executables and world-writable files (sticky directories aside).

    A finding's location is the layer that set the mode (``written_location``),
    not the one that first wrote the file: ``chmod u+s`` is the later layer's doing.
    Each file is on its own: one whose metadata cannot be read as a mode (a
    hostile tar header) is one error naming it, and every other file's findings
    stand, so one bad entry cannot hide the image's setuid files.
    """

    name = "file-permissions"
    patterns: Sequence[str] = ("**",)
    prefetch = False  # metadata only: no content is read

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        # no parse_file per file (files are many, findings few): a try per file is free
        for f in within_time(files, context, self.name):
            if isinstance(f, AnalyzerError):
                yield f
                continue
            try:
                yield from self.parse(f)
            except Exception as exc:
                yield self.error(f, exc)

    def parse(self, f: FileInput) -> list[Result]:
        """The findings of one file, all or none (a file that raises gives none)."""
        e = f.entry
        if not isinstance(e.mode, int) or not 0 <= e.mode <= 0o7777:
            raise ValueError(f"mode {e.mode!r} is not a file mode (0 to 07777)")
        found: list[Result] = []
        checks: tuple[tuple[Any, str, str, dict[str, int]], ...] = (
            (e.mode & stat.S_ISUID, "setuid", f"setuid (owner uid {e.uid}", {"uid": e.uid}),
            (e.mode & stat.S_ISGID and e.mode & 0o010, "setgid",
             f"setgid (group gid {e.gid}", {"gid": e.gid}),
            (is_world_writable(e.type.value, e.mode), "world-writable",
             "writable by everyone (", {}),
        )  # fmt: skip
        for fired, kind, what, extra in checks:
            if fired:
                found.append(Finding(
                    kind=kind,
                    rule=f"{kind}-file",
                    message=f"{e.path} is {what}{', ' if extra else ''}{e.permissions})",
                    locations=(f.written_location,),
                    severity="warning",
                    data={"mode": f"{e.mode:04o}", **extra},
                ))  # fmt: skip
        return found


@hookimpl
def anchore_analyzers() -> list[PermissionsAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [PermissionsAnalyzer()]
