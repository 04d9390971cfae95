"""Retrieved files: the content of a fixed list of small system text files, kept in the
analysis, as the original Anchore's ``retrieve_files`` kept them for ``anchore query
retrieved-files``: who the users are, what the image resolves, which release it is.

Only the files in :data:`RETRIEVED_FILES` are kept, and none that hold secrets
(``/etc/shadow``, ``/etc/gshadow``, private keys are not on the list: a report
must not copy a secret). A file over :data:`MAX_RETRIEVED_BYTES`, or that is not
UTF-8 text, is not kept: it is an error entry naming it, so the retrieved-files
query knows it is missing rather than absent. Each kept file is a
:class:`~anchore.analysis.model.Dataset` named ``file:PATH`` whose value is
``{path, size, sha256, content}``, located in the layer that wrote it. The engine
offers analyzers regular files only: a path that is a symlink (Debian's
``/etc/os-release``) is not kept, its target is when listed (``/usr/lib/os-release``);
the retrieved-files query follows the link through the file inventory and answers the
asked path with its target's content (or an error row), never with nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import FileAnalyzer
from anchore.analysis.model import Dataset
from anchore.plugins import hookimpl

__all__ = ["DATASET_PREFIX", "MAX_RETRIEVED_BYTES", "RETRIEVED_FILES", "RetrieveAnalyzer"]

#: the files kept: accounts, name resolution, release, login and privilege settings
RETRIEVED_FILES: tuple[str, ...] = (
    "/etc/passwd",
    "/etc/group",
    "/etc/shells",
    "/etc/login.defs",
    "/etc/sudoers",
    "/etc/services",
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/etc/nsswitch.conf",
    "/etc/os-release",
    "/usr/lib/os-release",
    "/etc/issue",
    "/etc/debian_version",
    "/etc/alpine-release",
    "/etc/redhat-release",
    "/etc/apt/sources.list",
    "/etc/ssh/sshd_config",
    "/etc/securetty",
    "/etc/crontab",
)
#: a file larger than this is not kept (an error entry names it)
MAX_RETRIEVED_BYTES = 64 * 1024
#: datasets are named ``file:`` and the path
DATASET_PREFIX = "file:"


class RetrieveAnalyzer(FileAnalyzer):
    """Keeps each of :data:`RETRIEVED_FILES` present in the image, as text."""

    name = "retrieve"
    patterns: Sequence[str] = RETRIEVED_FILES

    def parse(self, f: FileInput) -> Iterable[Result]:
        entry = f.entry
        if entry.size > MAX_RETRIEVED_BYTES:
            raise ValueError(
                f"{entry.size} bytes, over the {MAX_RETRIEVED_BYTES} bytes a retrieved "
                "file may have: not kept"
            )
        data = f.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"not UTF-8 text ({exc.reason} at byte {exc.start}): not kept"
            ) from None
        value = {
            "path": f.path,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "content": text,
        }
        yield Dataset(DATASET_PREFIX + f.path, value, (f.written_location,))


@hookimpl
def anchore_analyzers() -> list[RetrieveAnalyzer]:
    """This module's analyzer, registered as a built-in plugin (DEFAULT_PLUGINS)."""
    return [RetrieveAnalyzer()]
