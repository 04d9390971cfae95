"""The ``query`` command: run a named query over images or SBOM files.

``anchore query NAME IMAGE... [--param k=v ...] [--json]`` and ``anchore query
--list``. The query's name, its parameters and the number of images are checked
before any image is analyzed: an unknown query, an unknown parameter, a value
that does not parse or the wrong number of images is a bad command line (exit
USAGE_ERROR, one line naming the problem). A query the analysis cannot answer
(its analyzer did not run, an SBOM without files) is an unusable input
(INPUT_ERROR), as every :class:`~anchore.errors.AnchoreError` is.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from anchore.cli import output
from anchore.cli.common import (
    UsageError,
    analysis_of,
    platform_arg,
    registry_args,
    registry_options,
)
from anchore.cli.output import cell, table, terminal_width
from anchore.cli.vulns import severity_style
from anchore.errors import ExitCode

if TYPE_CHECKING:
    from anchore.analysis.model import Analysis
    from anchore.query.model import Query, QueryResult

__all__ = [
    "add_parsers",
    "cell",
    "cmd_query",
    "list_queries",
    "parse_params",
    "print_result",
    "table",
    "terminal_width",
]

_Parser = TypeVar("_Parser", bound=argparse.ArgumentParser)
#: result columns coloured as severities on a terminal
_SEVERITY_COLUMNS = ("severity", "rating")


def parse_params(texts: Sequence[str]) -> dict[str, str]:
    """``--param NAME=VALUE`` texts as a dict; a malformed or repeated one is a usage error."""
    params: dict[str, str] = {}
    for text in texts:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {text!r}: expected NAME=VALUE")
        if key.strip() in params:
            raise UsageError(f"--param {key.strip()} given twice")
        params[key.strip()] = value
    return params


def cmd_query(args: argparse.Namespace) -> int:
    from anchore import query as queries
    from anchore.query import QueryNotFoundError, QueryParamError

    if args.list:
        if args.name or args.images:
            raise UsageError("--list takes no query name or image")
        return list_queries()
    if not args.name or not args.images:
        raise UsageError("give a query name and at least one image (or --list)")
    params = parse_params(args.param or [])
    try:
        found, _ = queries.check(args.name, len(args.images), params)
    except (QueryNotFoundError, QueryParamError) as exc:
        raise UsageError(str(exc)) from None
    fmt = output.output_format(args)
    pull = registry_options(args, images=args.images)
    analyses = []
    for image in args.images:
        with output.progress(args.quiet, f"analyzing {image}") as bar:
            analyses.append(analysis_of(image, platform=args.platform, tag=args.tag,
                                        registry_options=pull, progress=bar))  # fmt: skip
    try:
        result = _run(found, analyses, params, args)
    except QueryParamError as exc:
        raise UsageError(str(exc)) from None
    print_result(result, fmt == "json")
    return ExitCode.OK


def _run(
    query: Query, analyses: list[Analysis], params: dict[str, str], args: argparse.Namespace
) -> QueryResult:
    from anchore.query import run

    if not query.needs_store:
        return run(query, analyses, params)
    from anchore.vulns.store import open_store

    with open_store(args.db) as store:
        store.require_data()
        return run(query, analyses, params, store=store)


def print_result(result: QueryResult, as_json: bool) -> None:
    """A result as JSON, or as a table fitted to :func:`terminal_width` (no rows: a note
    on stderr)."""
    if as_json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    records = result.to_records()
    rows = [[r.get(c) for c in result.columns] for r in records]
    styles = {i: severity_style for i, c in enumerate(result.columns) if c in _SEVERITY_COLUMNS}
    output.print_table([c.upper() for c in result.columns], rows, styles=styles)
    if not rows:
        print(f"anchore: query {result.query}: no rows", file=sys.stderr)


def list_queries() -> int:
    """``--list``: every registered query, its image count and parameters."""
    from anchore import query as queries

    found = queries.queries()
    rows = [
        [q.name, q.images, " ".join(p.name for p in q.params) or "-", q.description] for q in found
    ]
    output.print_table(["QUERY", "IMAGES", "PARAMS", "DESCRIPTION"], rows, keep=(0,))
    return ExitCode.OK


def add_parsers(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "query",
        help="answer a named question about images or SBOMs (anchore query --list)",
        description="Run a named query (packages, files, diff...) over images or SBOM "
        "files and print its rows as a table, or as JSON.",
    )
    p.add_argument("name", nargs="?", help="the query (anchore query --list shows them)")
    p.add_argument(
        "images",
        nargs="*",
        metavar="IMAGE",
        help="docker-save archive, OCI layout or archive (path[:tag]), a registry "
        "reference (registry/repository:tag, python:3.12), or an SBOM file",
    )
    p.add_argument("--param", "-p", action="append", metavar="NAME=VALUE",
                   help="a parameter of the query (repeatable)")  # fmt: skip
    output.output_arg(p)
    p.add_argument("--list", action="store_true", help="list the queries and their parameters")
    p.add_argument(
        "--db",
        help="the vulnerability store, for queries that read advisories (default: "
        "$ANCHORE_VULN_DB, else $XDG_CACHE_HOME/anchore/vulnerabilities.sqlite)",
    )
    p.add_argument("--platform", type=platform_arg,
                   help="os/arch[/variant] in a multi-platform index")  # fmt: skip
    p.add_argument("--tag", help="which image, when a source holds several")
    registry_args(p)
    p.set_defaults(func=cmd_query)
