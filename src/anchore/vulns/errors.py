"""What :mod:`anchore.vulns` raises: stores, feeds, ignore files and VEX documents.

Each message names the file (and the entry, where there is one), the problem
and the fix, so it can be shown to a user as it is. Each class also narrows
the builtin it replaces, so ``except ValueError`` / ``except FileNotFoundError``
code keeps working::

    AnchoreError
    ├── StoreError                  the advisory store cannot be used
    │   ├── StoreNotFoundError      no store at that path (also FileNotFoundError)
    │   ├── StoreFormatError        the file is not an anchore store (also sqlite3.DatabaseError)
    │   └── StoreEmptyError         the store holds no advisories: nothing could be checked
    ├── FeedError                   a feed that cannot be loaded
    │   ├── FeedNotFoundError       the feed path does not exist (also FileNotFoundError)
    │   ├── EmptyFeedError          the path holds no advisory records
    │   └── MalformedRecord         one OSV record that cannot be read (also ValueError)
    ├── IgnoreRuleError             an ignore rule or ignore file that is wrong (also ValueError)
    └── VexError                    a VEX document that cannot be read (also ValueError)
"""

from __future__ import annotations

import sqlite3

from anchore.errors import AnchoreError

__all__ = [
    "EmptyFeedError",
    "FeedError",
    "FeedNotFoundError",
    "IgnoreRuleError",
    "MalformedRecord",
    "StoreEmptyError",
    "StoreError",
    "StoreFormatError",
    "StoreNotFoundError",
    "VexError",
]

#: what every "load some data first" message ends with
LOAD_HINT = (
    "load advisories first: anchore db load{db} FEED... "
    "(an OSV zip or directory, the Debian security tracker JSON, Alpine secdb)"
)


class StoreError(AnchoreError):
    """The advisory store cannot be used as asked."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store exists at the path given (or the default path); ``anchore db load`` makes one."""

    def __init__(self, message: str, *, source: object = None) -> None:
        StoreError.__init__(self, message, source=source)


class StoreFormatError(StoreError, sqlite3.DatabaseError):
    """The file is not an anchore advisory store: not SQLite, another schema, a newer version."""


class StoreEmptyError(StoreError):
    """The store holds no advisory data at all: a scan against it would check nothing."""


class FeedError(AnchoreError):
    """No reader recognises the data, the named reader does not exist, or the data is unreadable."""


class FeedNotFoundError(FeedError, FileNotFoundError):
    """The feed path does not exist."""

    def __init__(self, message: str, *, source: object = None) -> None:
        FeedError.__init__(self, message, source=source)


class EmptyFeedError(FeedError):
    """The path was read, but holds no advisory record (or only malformed ones)."""


class MalformedRecord(FeedError, ValueError):
    """One advisory record that does not follow the OSV schema; loading skips and reports it."""


class IgnoreRuleError(AnchoreError, ValueError):
    """An ignore rule, or an ignore file, that cannot be used; names the file and the entry."""


class VexError(AnchoreError, ValueError):
    """A VEX document that cannot be read; names the file and the statement."""
