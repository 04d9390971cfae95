"""A named query: what it is called, the parameters it takes, the columns of its rows,
and the plain function that answers it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import attrs

from anchore import display
from anchore.serialize import to_dict

__all__ = ["IMAGE_COUNTS", "Param", "Query", "QueryResult", "columns_of"]

#: how many analyses a query takes: exactly one, exactly two, one or more
IMAGE_COUNTS = ("one", "two", "many")


def _text(value: str) -> str:
    return value


@attrs.frozen
class Param:
    """One parameter of a query."""

    name: str
    description: str
    #: how a command line's text (``--param name=TEXT``) becomes the value; a value
    #: given from Python that is not a string is taken as it is
    parse: Callable[[str], Any] = _text
    #: the value when not given
    default: Any = None
    #: whether it must be given
    required: bool = False


def _params(value: Iterable[Param]) -> tuple[Param, ...]:
    return tuple(value)


def columns_of(row: type) -> tuple[str, ...]:
    """The documented columns of a row class: its attrs fields, in order."""
    return tuple(f.name for f in attrs.fields(row))


@attrs.frozen
class Query:
    """A registered query (``anchore_queries`` hook): a plain function, its rows' class
    and its parameters."""

    name: str
    description: str
    #: called as ``function(analysis, **params)`` (``images="one"``), ``function(a, b,
    #: **params)`` (``"two"``) or ``function(analyses, **params)`` (``"many"``); with
    #: ``store=`` when ``needs_store``
    function: Callable[..., Iterable[Any]]
    #: the attrs class of its rows; its fields are the columns
    row: type
    images: str = attrs.field(default="one", validator=attrs.validators.in_(IMAGE_COUNTS))
    params: tuple[Param, ...] = attrs.field(default=(), converter=_params)
    #: whether it reads the advisory store (``store=`` is then passed)
    needs_store: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return columns_of(self.row)

    @classmethod
    def from_function(
        cls,
        name: str,
        function: Callable[..., Iterable[Any]],
        row: type,
        *params: Param,
        **options: Any,
    ) -> Query:
        """A query described by the first paragraph of its function's docstring, so
        ``--list`` and the reference say what the Python docs say."""
        doc = (function.__doc__ or "").strip().split("\n\n")[0].replace("``", "`")
        return cls(name, " ".join(doc.split()), function, row=row, params=params, **options)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)


@attrs.frozen
class QueryResult(Sequence[Any]):
    """The rows a query returned, with its name and columns."""

    query: str
    columns: tuple[str, ...]
    rows: tuple[Any, ...] = attrs.field(converter=tuple)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def __getitem__(self, index: Any) -> Any:
        return self.rows[index]

    def to_records(self) -> list[dict[str, Any]]:
        """The rows as flat dicts, one key per column: lists joined with ", " and
        mappings as ``key=value, ...``, so a DataFrame's cells group and compare (the
        nested form is :meth:`to_dict`'s, the JSON output's)."""
        return [{k: _flat(v) for k, v in _record(row).items()} for row in self.rows]

    def to_dataframe(self) -> Any:
        """:meth:`to_records` as a ``pandas.DataFrame`` (``pip install 'anchore[pandas]'``),
        its columns those of the query, in order."""
        records = self.to_records()
        columns = list(records[0]) if records else list(self.columns)
        return display.dataframe(records, columns)

    def __repr__(self) -> str:
        columns = ", ".join(self.columns)
        columns = columns if len(columns) <= 120 else columns[:119] + "…"
        name = display.short_repr(self.query, 60)
        return f"<QueryResult {name}: {len(self.rows):,} rows; columns {columns}>"

    def _repr_html_(self) -> str:
        # only the rows shown are converted: a 40,000-row answer renders as fast as 40
        shown = (_record(row) for row in islice(self.rows, display.ROW_CAP))
        rows = ([_cell(r.get(c)) for c in self.columns] for r in shown)
        table = display.table(self.columns, rows, total=len(self.rows))
        title = f"{self.query} ({len(self.rows):,} rows)"
        return display.fragment(display.section(title, table))

    def to_dict(self) -> dict[str, Any]:
        rows = [_record(row) for row in self.rows]
        return {"query": self.query, "columns": list(self.columns), "rows": rows}


def _record(row: Any) -> dict[str, Any]:
    """A row as a JSON-ready dict: attrs rows through to_dict, mappings as they are."""
    return dict(row) if isinstance(row, Mapping) else to_dict(row)


def _flat(value: Any) -> Any:
    """A record's value as a scalar, as the terminal table writes it: lists joined with
    ", ", mappings as ``key=value, ...``."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(_flat(v)) for v in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_flat(v)}" for k, v in value.items())
    return value


def _cell(value: Any) -> Any:
    """A table cell: lists joined, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return value
