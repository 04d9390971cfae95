"""A catalog of analyses: many images over time, in SQLite or PostgreSQL.

::

    import anchore
    with anchore.Catalog("catalog.db") as catalog:
        for outcome in anchore.catalog.scan(catalog, ["a.tar", "registry.example/app:1"]):
            print(outcome.source, outcome.key, outcome.added)
        rows = anchore.catalog.who_has(catalog, "openssl", version="<3.0.7")

``docs/catalog.md`` is the reference.
"""

from __future__ import annotations

from anchore.catalog.catalog import (
    AddResult,
    Catalog,
    EvaluationRecord,
    ImageRecord,
    MatchRunRecord,
    Sighting,
    StoredMatch,
    default_catalog,
)
from anchore.catalog.errors import (
    AmbiguousImageError,
    CatalogConnectionError,
    CatalogError,
    CatalogNotFoundError,
    CatalogSchemaError,
    ImageNotCataloguedError,
)
from anchore.catalog.queries import (
    AffectedRow,
    CustodyRow,
    affected,
    custody,
    diff,
    query,
    who_has,
)
from anchore.catalog.rematch import RematchReport, RematchRow, rematch
from anchore.catalog.scan import ScanOutcome, scan
from anchore.catalog.schema import SCHEMA_VERSION, image_key

__all__ = [
    "SCHEMA_VERSION",
    "AddResult",
    "AffectedRow",
    "AmbiguousImageError",
    "Catalog",
    "CatalogConnectionError",
    "CatalogError",
    "CatalogNotFoundError",
    "CatalogSchemaError",
    "CustodyRow",
    "EvaluationRecord",
    "ImageNotCataloguedError",
    "ImageRecord",
    "MatchRunRecord",
    "RematchReport",
    "RematchRow",
    "ScanOutcome",
    "Sighting",
    "StoredMatch",
    "affected",
    "custody",
    "default_catalog",
    "diff",
    "image_key",
    "query",
    "rematch",
    "scan",
    "who_has",
]
