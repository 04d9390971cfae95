"""Built-in queries (being written for issue 11)."""

from __future__ import annotations

from collections.abc import Sequence

from anchore.plugins import hookimpl
from anchore.query.model import Query


@hookimpl
def anchore_queries() -> Sequence[Query]:
    return []
