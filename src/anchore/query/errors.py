"""What a query can fail with: an unknown query, a bad parameter, a question the
analysis cannot answer."""

from __future__ import annotations

from anchore.errors import AnchoreError

__all__ = ["QueryError", "QueryNotFoundError", "QueryParamError", "UnanswerableQueryError"]


class QueryError(AnchoreError):
    """A query that cannot be run or answered."""


class QueryNotFoundError(QueryError, KeyError):
    """No query by that name; the message names the closest and lists the known ones."""

    def __str__(self) -> str:
        return self.message


class QueryParamError(QueryError, ValueError):
    """A parameter the query does not take, one missing, or a value that does not parse;
    or the wrong number of images for the query."""


class UnanswerableQueryError(QueryError):
    """The analysis lacks the evidence the query reads (an SBOM imported without a file
    inventory, an analysis without layer changes): the answer would be silently empty."""
