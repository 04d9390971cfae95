"""Named queries over analyses: what is in one image, how two differ, what many share.

Each query is a plain function over one or many :class:`~anchore.Analysis` values
returning rows (attrs values whose fields are its documented columns), registered
through the ``anchore_queries`` hook, ours exactly like a plugin's. Call the
functions directly (``anchore.query.image.packages(result, type="deb")``), or by
name, as the command line does::

    from anchore import query
    rows = query.run("packages", [result], {"type": "deb"})
    rows.to_records()

``docs/queries.md`` lists every built-in query, its parameters and columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from anchore.analysis.model import Analysis
from anchore.documents import did_you_mean
from anchore.plugins import Registry, default_registry
from anchore.query.errors import (
    QueryError,
    QueryNotFoundError,
    QueryParamError,
    UnanswerableQueryError,
)
from anchore.query.model import Param, Query, QueryResult

if TYPE_CHECKING:
    from anchore.vulns.store import Store

__all__ = [
    "Param",
    "Query",
    "QueryError",
    "QueryNotFoundError",
    "QueryParamError",
    "QueryResult",
    "UnanswerableQueryError",
    "check",
    "find",
    "queries",
    "run",
]


def queries(registry: Registry | None = None) -> list[Query]:
    """Every registered query, ours first."""
    return (registry or default_registry()).queries()


def find(name: str, registry: Registry | None = None) -> Query:
    """The query of that name, or :class:`QueryNotFoundError` naming the closest."""
    known = {q.name: q for q in queries(registry)}
    if name not in known:
        raise QueryNotFoundError(
            f"no query named {name!r}{did_you_mean(name, known)}; "
            f"the queries: {', '.join(sorted(known))} (anchore query --list)"
        )
    return known[name]


def _values(query: Query, given: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters, parsed; unknown or missing ones refused, naming the query."""
    names = [p.name for p in query.params]
    for key in given:
        if query.param(key) is None:
            valid = ", ".join(names) or "none"
            raise QueryParamError(
                f"query {query.name!r} takes no parameter {key!r}"
                f"{did_you_mean(key, names)}; its parameters: {valid}"
            )
    values: dict[str, Any] = {}
    for param in query.params:
        if param.name not in given:
            if param.required:
                raise QueryParamError(
                    f"query {query.name!r} needs the parameter {param.name!r} "
                    f"({param.description}): --param {param.name}=VALUE"
                )
            values[param.name] = param.default
            continue
        value = given[param.name]
        if isinstance(value, str) and param.parse is not str:
            try:
                value = param.parse(value)
            except (ValueError, QueryError) as exc:  # AnchoreErrors of parsing are ValueErrors
                raise QueryParamError(
                    f"query {query.name!r}: parameter {param.name}={given[param.name]!r} "
                    f"does not parse: {exc}"
                ) from None
        values[param.name] = value
    return values


_COUNTS = {"one": "one image", "two": "two images", "many": "one image or more"}


def check(
    query: str | Query,
    count: int,
    params: Mapping[str, Any] | None = None,
    *,
    registry: Registry | None = None,
) -> tuple[Query, dict[str, Any]]:
    """The query and its parsed parameters, before anything is analyzed: an unknown
    query (:class:`QueryNotFoundError`), the wrong number of images ``count``, or an
    unknown, missing or unparsable parameter (:class:`QueryParamError`) fails here,
    so a command line can refuse a typo before a slow analysis."""
    found = query if isinstance(query, Query) else find(query, registry)
    wanted = {"one": count == 1, "two": count == 2, "many": count >= 1}
    if not wanted[found.images]:
        raise QueryParamError(f"query {found.name!r} takes {_COUNTS[found.images]}; {count} given")
    return found, _values(found, params or {})


def run(
    query: str | Query,
    analyses: Sequence[Analysis] | Analysis,
    params: Mapping[str, Any] | None = None,
    *,
    store: Store | None = None,
    registry: Registry | None = None,
) -> QueryResult:
    """Run a query (by name, or a :class:`Query`) over ``analyses``.

    ``params`` are values or the command line's texts (parsed by each ``Param``).
    A query that reads the advisory store needs ``store``; one given the wrong
    number of analyses, an unknown parameter or a missing one raises
    :class:`QueryParamError`.
    """
    items = [analyses] if isinstance(analyses, Analysis) else list(analyses)
    found, values = check(query, len(items), params, registry=registry)
    if found.needs_store:
        if store is None:
            raise QueryParamError(
                f"query {found.name!r} reads the advisory store: give one (--db FILE)"
            )
        values["store"] = store
    rows: Iterable[Any]
    if found.images == "one":
        rows = found.function(items[0], **values)
    elif found.images == "two":
        rows = found.function(items[0], items[1], **values)
    else:
        rows = found.function(items, **values)
    return QueryResult(found.name, found.columns, tuple(rows))
