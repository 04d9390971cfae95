"""Analyzers that are plain executables, in any language (a bash script works).

The contract (docs/plugins.md has the full text):

- ``EXE describe`` prints one JSON object: ``{"name": ..., "patterns": [...]}``.
- ``EXE analyze`` gets on stdin a JSON object: ``{"image": {...metadata...},
  "root": DIR, "files": [{"path": "/etc/x", "file": "DIR/rootfs/etc/x",
  "layer_index": 0, "size": 12}]}``; the requested files are materialized
  read-only under ``DIR/rootfs``, a temporary directory we own and remove.
- It prints JSON lines on stdout: ``{"type": "package", "package_type": "deb",
  "name": ..., "version": ..., "path": "/etc/x"}`` or ``{"type": "finding",
  "kind": ..., "rule": ..., "message": ..., "path": "/etc/x", "line": 3}``.
- Exit 0 for success. A non-zero exit, a line that is not such an object, or
  running past the time limit (then it is killed) is an error entry for this
  plugin; the rest of the analysis completes.

This module is one of the default plugins: when a registry loads, its
``anchore_plugins`` hook registers one plugin per executable found in the
``ANCHORE_PLUGIN_PATH`` directories.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.kit import problem
from anchore.analysis.model import AnalyzerError, Finding, Package
from anchore.analyzers.common import make_purl, package_purl
from anchore.ecosystems import find
from anchore.errors import AnchoreError
from anchore.plugins import PluginError, hookimpl

if TYPE_CHECKING:
    from anchore.analysis.engine import AnalysisContext

__all__ = [
    "PLUGIN_PATH_ENV",
    "ExecutableAnalyzer",
    "ExecutablePlugin",
    "ExternalPluginError",
    "discover",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
DESCRIBE_TIMEOUT = 10.0
#: executables in ANCHORE_PLUGIN_PATH directories with this prefix are analyzers
PREFIX = "anchore-analyzer-"
#: directories (os.pathsep-separated) searched for executable analyzers
PLUGIN_PATH_ENV = "ANCHORE_PLUGIN_PATH"


class ExternalPluginError(PluginError):
    """An executable plugin could not describe itself."""


class ExecutableAnalyzer:
    """An analyzer backed by an executable that follows the contract above."""

    def __init__(self, executable: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.executable = os.path.abspath(executable)
        self.timeout = timeout
        description = self._describe()
        self.name = str(description["name"])
        self.patterns = tuple(str(p) for p in description["patterns"])

    def _describe(self) -> dict[str, Any]:
        try:
            done = subprocess.run(
                [self.executable, "describe"],
                capture_output=True,
                timeout=DESCRIBE_TIMEOUT,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ExternalPluginError(f"{self.executable}: cannot describe itself: {exc}") from None
        try:
            description = json.loads(done.stdout)
        except ValueError:
            description = None
        if (
            done.returncode != 0
            or not isinstance(description, dict)
            or not isinstance(description.get("name"), str)
            or not isinstance(description.get("patterns"), list)
        ):
            raise ExternalPluginError(
                f"{self.executable}: 'describe' must exit 0 and print "
                '{"name": ..., "patterns": [...]}; it printed '
                f"{done.stdout[:200]!r} (exit {done.returncode})"
            )
        return description

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        root = tempfile.mkdtemp(prefix="anchore-plugin-")
        try:
            yield from self._run(files, context, root)
        finally:
            _remove_tree(root)

    def _run(
        self, files: Sequence[FileInput], context: AnalysisContext, root: str
    ) -> Iterator[Result]:
        by_path = {}
        listing = []
        for f in files:
            target = os.path.join(root, "rootfs", f.path.lstrip("/"))
            try:  # one file that cannot be given (too large, a path clash) costs only itself
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "wb") as out:
                    out.write(f.read())
                os.chmod(target, 0o444)
            except (AnchoreError, OSError) as exc:
                yield AnalyzerError(self.name, f"{f.path}: not given to the plugin: {problem(exc)}",
                                    f.path)  # fmt: skip
                continue
            by_path[f.path] = f
            listing.append(
                {
                    "path": f.path,
                    "file": target,
                    "layer_index": f.entry.layer_index,
                    "size": f.entry.size,
                }
            )
        request = json.dumps({"image": context.image.to_dict(), "root": root, "files": listing})
        try:
            done = subprocess.run(
                [self.executable, "analyze"],
                input=request.encode(),
                capture_output=True,
                timeout=self.timeout,
                cwd=root,
                check=False,
            )
        except subprocess.TimeoutExpired:
            yield AnalyzerError(
                self.name, f"{self.executable}: killed after its time limit of {self.timeout}s"
            )
            return
        except OSError as exc:
            yield AnalyzerError(self.name, f"{self.executable}: cannot run: {exc}")
            return
        if done.returncode != 0:
            tail = done.stderr.decode("utf-8", "replace").strip()[-500:]
            yield AnalyzerError(
                self.name, f"{self.executable}: exit status {done.returncode}: {tail}"
            )
            return
        for number, line in enumerate(done.stdout.decode("utf-8", "replace").splitlines(), 1):
            if line.strip():
                yield self._parse(line, number, by_path, context)

    def _parse(
        self, line: str, number: int, by_path: dict[str, FileInput], context: AnalysisContext
    ) -> Result:
        def bad(why: str) -> AnalyzerError:
            return AnalyzerError(self.name, f"{self.executable}: output line {number}: {why}")

        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            return bad(f"not JSON: {line[:120]!r}")
        if not isinstance(item, dict):
            return bad("not a JSON object")
        path = item.get("path")
        source = by_path.get(path) if isinstance(path, str) else None
        if source is None:
            return bad(f"'path' must name one of the files it was given, not {path!r}")
        kind = item.get("type")
        # a package is attributed as the built-ins attribute theirs (the layer that introduced
        # its evidence); a finding is about the content as it is now, so it is the layer that
        # wrote this copy (as secrets and permission findings are)
        location = source.location if kind == "package" else source.written_location
        try:
            if kind == "package":
                name, version = str(item["name"]), str(item["version"])
                ptype = str(item.get("package_type") or "generic")
                metadata = dict(item.get("metadata") or {})
                return Package(
                    type=ptype,
                    name=name,
                    version=version,
                    purl=str(item.get("purl") or _purl(ptype, name, version, metadata)),
                    locations=(location,),
                    licenses=tuple(str(x) for x in item.get("licenses") or ()),
                    metadata=metadata,
                    found_by=self.name,
                )
            if kind == "finding":
                line_no = item.get("line")
                return Finding(
                    kind=str(item["kind"]),
                    rule=str(item.get("rule") or self.name),
                    message=str(item["message"]),
                    locations=(location,),
                    line=int(line_no) if line_no is not None else None,
                    severity=str(item.get("severity") or "info"),
                    found_by=self.name,
                )
        except Exception as exc:  # the plugin's output is data: any field may be wrong
            return bad(f"malformed: {problem(exc)}")
        return bad(f"'type' must be 'package' or 'finding', not {kind!r}")


def _purl(ptype: str, name: str, version: str, metadata: Mapping[str, Any]) -> str:
    """The purl of a plugin's package that gives none: as its type's ecosystem row spells
    it (``python``: ``pkg:pypi/`` and the PEP 503 name; the namespace from the name or the
    metadata), else ``pkg:<type>/<name>``."""
    row = find(ptype)
    if row is None:
        return make_purl(ptype, name, version)
    name, namespace = row.name_key(name), None
    if row.namespace is not None:
        namespace = metadata.get(row.namespace.metadata_key)
    elif row.purl.in_name:
        namespace, _, name = name.rpartition("/")
    return package_purl(ptype, name, version, namespace=str(namespace or "") or None)


def _remove_tree(root: str) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o700, follow_symlinks=False)
    shutil.rmtree(root, ignore_errors=True)


class ExecutablePlugin:
    """A pluggy plugin wrapping one executable analyzer."""

    def __init__(self, analyzer: ExecutableAnalyzer) -> None:
        self.analyzer = analyzer
        self.plugin_name = f"executable:{analyzer.name}"
        self.plugin_source = f"executable {analyzer.executable}"

    @hookimpl
    def anchore_analyzers(self) -> list[ExecutableAnalyzer]:
        return [self.analyzer]


def discover(search_path: str) -> list[ExecutablePlugin]:
    """Executables named ``anchore-analyzer-*`` in the given directories."""
    found = []
    for directory in filter(None, search_path.split(os.pathsep)):
        if not os.path.isdir(directory):
            continue
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name.startswith(PREFIX) and os.path.isfile(path) and os.access(path, os.X_OK):
                try:
                    found.append(ExecutablePlugin(ExecutableAnalyzer(path)))
                except ExternalPluginError as exc:
                    log.warning("skipping plugin: %s", exc)
    return found


@hookimpl
def anchore_plugins(environ: Mapping[str, str]) -> list[ExecutablePlugin]:
    """One plugin per executable analyzer in the ``ANCHORE_PLUGIN_PATH`` directories."""
    return discover(environ.get(PLUGIN_PATH_ENV, ""))
