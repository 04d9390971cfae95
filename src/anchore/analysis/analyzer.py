"""The analyzer contract, and what the engine hands an analyzer.

An analyzer names the paths it wants (``patterns``) and gets only those files,
as :class:`FileInput` values whose content is read on demand and at most once.
It yields :class:`~anchore.analysis.model.Package`,
:class:`~anchore.analysis.model.Finding`, :class:`~anchore.analysis.model.Distro`
or :class:`~anchore.analysis.model.AnalyzerError` values. It never walks the
image itself; for package databases it may ask the context for every layer's
copy of a file, to tell which layer introduced each package. Most analyzers
are made with the kit (:mod:`anchore.analysis.kit`): they supply only
``parse(file)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar, runtime_checkable

import attrs

from anchore.analysis import budget
from anchore.analysis.model import AnalyzerError, Dataset, Distro, Finding, Location, Package
from anchore.image.filetree import FileEntry

if TYPE_CHECKING:
    from anchore.analysis.context import AnalysisContext
    from anchore.limits import Limits

__all__ = ["Analyzer", "FileInput", "Result"]

Result = Package | Finding | Distro | Dataset | AnalyzerError

R = TypeVar("R")


@runtime_checkable
class Analyzer(Protocol):
    """What an analyzer plugin provides (a class instance or any object with these).

    Optional attributes, read with ``getattr`` (not part of the protocol check):
    ``prefetch`` (default True; False keeps its files out of the engine's shared read
    pass, for archives and binaries read in parts through ``open()``) and
    ``needs_files`` (default True; False has ``analyze`` called with no files when
    none matched, to record what it looked for, as the secrets analyzer records the
    rules it ran). An analyzer without ``patterns`` is always called.
    """

    #: unique name, e.g. ``dpkg`` or ``mycompany-licenses``
    name: str
    #: which files it wants: a pattern without ``/`` matches basenames (``*.jar``,
    #: ``package.json``); one with ``/`` matches absolute paths, ``**`` standing for
    #: any number of directories (``/var/lib/dpkg/status.d/*``, ``**/*.dist-info/METADATA``)
    patterns: Sequence[str]

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        """Yield what the matching files say. Raise nothing you can report instead.

        A file you cannot read or parse is an :class:`AnalyzerError` naming it: your
        evidence is then incomplete, and policy rules that need it are not evaluated
        (:class:`~anchore.policy.coverage.MissingEvidenceError`) rather than passing.
        """
        ...


@attrs.define(eq=False)
class FileInput:
    """A file offered to an analyzer: its entry, its content on demand, its location.

    Built per offered file, so it holds only references; the bounded readers
    (:meth:`lines`, :meth:`each`, :meth:`check_time`) are the kit's guards
    against hostile content (:mod:`anchore.analysis.budget`).
    """

    entry: FileEntry
    _context: AnalysisContext = attrs.field(repr=False)
    #: the analyzer the file was offered to (set by the engine): error entries name it
    analyzer: str = ""

    @property
    def path(self) -> str:
        return self.entry.path

    @property
    def context(self) -> AnalysisContext:
        """The analysis this file belongs to: the image, its distro, other layers."""
        return self._context

    def read(self) -> bytes:
        """The whole content (read once per analysis, shared between analyzers)."""
        return self._context.read(self.entry)

    def read_text(self, errors: str = "replace") -> str:
        return self.read().decode("utf-8", errors)

    def open(self) -> BinaryIO:
        """A seekable stream, for large files (archives, binaries) read in parts."""
        return self._context.open(self.entry)

    @property
    def limits(self) -> Limits:
        """The image's limits (:class:`anchore.Limits`): what parsing this file may take."""
        return self._context.limits

    def lines(self, errors: str = "replace") -> Iterator[str]:
        """The content as UTF-8 text split into lines (no line ends), within the limits.

        Raises :class:`~anchore.errors.LimitExceededError` (``max_text_lines`` or
        ``max_line_bytes``) naming this file when it has too many or too long lines:
        parsers of text databases use it instead of ``read_text().splitlines()``.
        """
        return iter(budget.split_lines(self.read(), self.path, self.limits, errors))

    def each(
        self,
        records: Iterable[R],
        build: Callable[[R], Result | Iterable[Result] | None],
        *,
        describe: Callable[[R], str] | None = None,
    ) -> Iterator[Result]:
        """What ``build(record)`` gives for each record, a record that fails costing only itself.

        A record whose ``build`` raises becomes one :class:`AnalyzerError`
        ``"<path>: <describe(record)>: <problem>"`` (``describe`` names it, e.g.
        ``package 'musl'``; default ``record N``) and the next record goes on. Past
        ``max_db_records`` records or the analyzer's ``max_analyzer_seconds``, one
        error names the limit and the rest of the records are not read.
        """
        return budget.each(self, records, build, describe)

    def check_time(self) -> None:
        """Raise :class:`~anchore.errors.LimitExceededError` (``max_analyzer_seconds``) when
        the analyzer has run past its time; for long inner loops (nested archives)."""
        self._context.check_time(self.analyzer, self.path)

    def error(self, message: str) -> AnalyzerError:
        """An error entry of this file's analyzer naming this file: ``"<path>: <message>"``."""
        return AnalyzerError(self.analyzer, f"{self.path}: {message}", self.path)

    @property
    def location(self) -> Location:
        """Where this file's evidence is, attributed to the layer that introduced the file.

        That is the first layer of the unbroken run of layers that kept writing
        the path (:meth:`AnalysisContext.introduced_in`): a later ``chmod -R``
        or re-install does not take the credit. Every package an analyzer
        reports from this file should carry this location, built-in or not.
        """
        return self._context.location(self.entry, self._context.introduced_in(self.entry))

    @property
    def written_location(self) -> Location:
        """This copy's location, in the layer that wrote it (the last writer).

        For findings about the copy as it is now, whichever layer changed it
        last: a setting's value, a secret in the content, a mode bit.
        """
        return self._context.location(self.entry)
