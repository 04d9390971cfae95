"""What a catalog can fail with: it cannot be reached or opened, its schema is not ours
or is newer, or an image asked for is not in it (or is ambiguous)."""

from __future__ import annotations

from anchore.errors import AnchoreError

__all__ = [
    "AmbiguousImageError",
    "CatalogConnectionError",
    "CatalogError",
    "CatalogNotFoundError",
    "CatalogSchemaError",
    "ImageNotCataloguedError",
]


class CatalogError(AnchoreError):
    """A catalog of analyses that cannot be used as asked; the message names the catalog
    (its path, or its URL without the password)."""


class CatalogNotFoundError(CatalogError, FileNotFoundError):
    """A SQLite catalog that does not exist, opened for reading (``create=False``): a
    typo must not read as an empty catalog."""


class CatalogConnectionError(CatalogError):
    """The catalog's database cannot be reached or refuses us: a PostgreSQL server down,
    a wrong password, a SQLite file that is not a database or not writable, a driver
    (``anchore[postgresql]``) not installed."""


class CatalogSchemaError(CatalogError):
    """The database is not an anchore catalog, or its schema is newer than this anchore
    knows (upgrade anchore); an older schema is migrated, never refused."""


class ImageNotCataloguedError(CatalogError, KeyError):
    """No stored image has that digest (or digest prefix), tag or reference; the message
    names what was asked and the closest known name."""

    def __str__(self) -> str:
        return self.message


class AmbiguousImageError(CatalogError, ValueError):
    """A digest prefix or name that fits several stored images; the message lists them."""
