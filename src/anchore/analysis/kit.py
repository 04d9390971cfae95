"""The analyzer kit: one generic analyzer that owns everything but the parsing.

An ecosystem supplies ``parse(file) -> results``; :class:`FileAnalyzer` owns
the rest, the same for built-ins and third parties:

- which files: the patterns each parser is registered for (see
  :mod:`anchore.analysis.paths`); the engine offers only those;
- where: each ``file.location`` is attributed to the layer that introduced the
  file (:meth:`~anchore.analysis.context.AnalysisContext.introduced_in`);
- reading: small files come from the engine's shared prefetch pass unless
  ``prefetch=False`` (for archives read by seeking);
- errors: a file whose parser raises yields one
  :class:`~anchore.analysis.model.AnalyzerError` naming the analyzer, the file
  and the problem in plain words (:func:`problem`), nothing half-parsed from
  it, and the other files go on. The analyzer's evidence is then incomplete:
  policy rules that need it are not evaluated (:mod:`anchore.policy.coverage`),
  since what the file says is unknown;
- bounds: ``file.lines()`` splits text within ``max_text_lines`` and
  ``max_line_bytes``; ``file.each(records, build)`` builds one record at a time,
  a record that raises costing only itself (an error naming the file and the
  record), within ``max_db_records``; the analyzer's ``max_analyzer_seconds`` is
  checked between files and records (``file.check_time()`` in longer loops),
  the files left when it runs out being one error naming the limit.

Either build one (syft's ``generic.NewCataloger(name).WithParserByGlobs(...)``
is the model)::

    def parse_cargo_lock(file):
        for item in tomllib.loads(file.read_text())["package"]:
            yield Package(type="rust-crate", name=item["name"], ..., locations=(file.location,))

    analyzer = FileAnalyzer("cargo").with_parser(parse_cargo_lock, "Cargo.lock")

or subclass it, with ``name``, ``patterns`` and a ``parse`` method.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from anchore.analysis.analyzer import FileInput, Result
from anchore.analysis.budget import about, problem
from anchore.analysis.model import AnalyzerError
from anchore.analysis.paths import PathMatcher

if TYPE_CHECKING:
    from anchore.analysis.context import AnalysisContext

__all__ = ["FileAnalyzer", "Parse", "out_of_time", "problem", "within_time"]


#: a parser: what one file (its path, read(), read_text(), open(), location, context)
#: says: packages mostly; findings, datasets and errors too
Parse = Callable[[FileInput], Iterable[Result]]


class FileAnalyzer:
    """An analyzer made of parsers, each for the files its patterns match.

    A file no added parser claims (the subclass' own ``patterns``) goes to
    :meth:`parse`. Instances are shared by concurrent analyses: they keep no
    state between calls.
    """

    #: unique name, e.g. ``ruby`` or ``mycompany-licenses``
    name: str = ""
    #: which files: see :mod:`anchore.analysis.paths`
    patterns: Sequence[str] = ()
    #: whether offered files are read in the engine's shared pass (False for large archives)
    prefetch: bool = True
    #: whether :meth:`analyze` is skipped when no file matched (False: called with none)
    needs_files: bool = True

    def __init__(self, name: str | None = None, *, prefetch: bool | None = None) -> None:
        if name is not None:
            self.name = name
        if prefetch is not None:
            self.prefetch = prefetch
        self._parsers: list[Parse] = []
        self._groups: list[tuple[str, ...]] = []
        self._matcher: PathMatcher | None = None

    def with_parser(self, parse: Parse, *patterns: str) -> FileAnalyzer:
        """Send the files ``patterns`` match to ``parse``; returns the analyzer, for chaining."""
        if not patterns:
            raise ValueError(f"{self.name}: a parser needs at least one pattern")
        self._parsers.append(parse)
        self._groups.append(tuple(patterns))
        self.patterns = tuple(dict.fromkeys((*self.patterns, *patterns)))
        self._matcher = PathMatcher(self._groups)
        return self

    def parse(self, file: FileInput) -> Iterable[Result]:
        """What one file says; subclasses override it (or add parsers instead)."""
        raise NotImplementedError(f"{type(self).__name__} has no parser for {file.path}")

    def parsers_for(self, path: str) -> list[Parse]:
        """The parsers registered for ``path``; :meth:`parse` when none is."""
        if self._matcher is not None:
            hits = self._matcher.match(path)
            if hits:
                return [self._parsers[i] for i in sorted(hits)]
        return [self.parse]

    def analyze(self, files: Sequence[FileInput], context: AnalysisContext) -> Iterable[Result]:
        """Each file through its parsers, in the order offered, within the analyzer's time."""
        for file in within_time(files, context, self.name):
            if isinstance(file, AnalyzerError):
                yield file
            else:
                yield from self.parse_file(file)

    def parse_file(self, file: FileInput, parse: Parse | None = None) -> list[Result]:
        """What ``file`` says through ``parse`` (its registered parsers by default).

        A parser that raises gives one error naming the file instead of its results.
        """
        results: list[Result] = []
        for parser in [parse] if parse is not None else self.parsers_for(file.path):
            try:
                parsed = list(parser(file))  # all of it, or nothing half-parsed
            except Exception as exc:
                results.append(self.error(file, exc))
            else:
                results.extend(parsed)
        return results

    def error(self, file: FileInput, exc: BaseException) -> AnalyzerError:
        """The error for a file whose parsing raised ``exc``: the file and the problem."""
        return AnalyzerError(self.name, about(file.path, exc), file.path)


def within_time(
    files: Sequence[FileInput], context: AnalysisContext, analyzer: str
) -> Iterator[FileInput | AnalyzerError]:
    """The files, in order, until ``analyzer`` runs past ``max_analyzer_seconds``; then one
    error naming the limit and the files left (:func:`out_of_time`), and no more files."""
    deadlines = context.deadlines
    for number, file in enumerate(files):
        if deadlines.expired(analyzer):
            yield out_of_time(context, analyzer, files[number:])
            return
        yield file


def out_of_time(
    context: AnalysisContext, analyzer: str, left: Sequence[FileInput]
) -> AnalyzerError:
    """The one error for the files an analyzer had no time left for."""
    first = left[0].path if left else None
    more = f" and {len(left) - 1} more file(s)" if len(left) > 1 else ""
    return AnalyzerError(
        analyzer,
        f"{first}{more}: not analyzed: {problem(context.deadlines.exceeded(analyzer))}",
        first,
    )
