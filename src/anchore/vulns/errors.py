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
    │   ├── UnknownFeedError        no feed reader by that name (also KeyError)
    │   └── MalformedRecordError    one OSV record that cannot be read (also ValueError)
    ├── IgnoreRuleError             an ignore rule or ignore file that is wrong (also ValueError)
    │   └── IgnoreFileNotFoundError no ignore file at that path (also FileNotFoundError)
    └── VexError                    a VEX document that cannot be read (also ValueError)
        └── VexNotFoundError        no VEX file at that path (also FileNotFoundError)

``MalformedRecord`` is the old name of :class:`MalformedRecordError`, kept as an
alias for code that catches it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from anchore.errors import AnchoreError

__all__ = [
    "EmptyFeedError",
    "FeedDownloadError",
    "FeedError",
    "FeedNotFoundError",
    "IgnoreFileNotFoundError",
    "IgnoreRuleError",
    "MalformedRecordError",
    "StoreArchiveError",
    "StoreBusyError",
    "StoreEmptyError",
    "StoreError",
    "StoreFormatError",
    "StoreNotFoundError",
    "UnknownFeedError",
    "VexError",
    "VexNotFoundError",
]

#: what every "load some data first" message ends with: download first, files at hand offline
LOAD_HINT = (
    "load advisories first: anchore db update{db} downloads the published feeds; "
    "offline, anchore db load{db} FEED... reads files at hand "
    "(an OSV zip or directory, the Debian security tracker JSON, Alpine secdb), "
    "and anchore db import{db} FILE a store exported elsewhere"
)


class StoreError(AnchoreError):
    """The advisory store cannot be used as asked."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store exists at the path given (or the default path); ``anchore db load`` makes one."""


class StoreFormatError(StoreError, sqlite3.DatabaseError):
    """The file is not an anchore advisory store: not SQLite, another schema, a newer version."""


class StoreEmptyError(StoreError):
    """The store holds no advisory data at all: a scan against it would check nothing."""


class StoreArchiveError(StoreError):
    """A store export file (``anchore db export``) that cannot be imported: not one,
    truncated, its checksum wrong, or written by a newer anchore; names the file."""


class StoreBusyError(StoreError):
    """Another update or import of the same store holds its lock past the wait."""


class FeedError(AnchoreError):
    """No reader recognises the data, the named reader does not exist, or the data is unreadable."""


class FeedDownloadError(FeedError):
    """A feed file that cannot be fetched (naming the feed and the URL; the network error
    is the cause), or whose published checksum does not match what came. The store is
    left as it was."""


class FeedNotFoundError(FeedError, FileNotFoundError):
    """The feed path does not exist."""


class EmptyFeedError(FeedError):
    """The path was read, but holds no advisory record (or only malformed ones)."""


class UnknownFeedError(FeedError, KeyError):
    """No feed reader has the name asked for (``--feed osvv``); lists those that exist.

    Also a :class:`KeyError` (a lookup by name that failed), without the quotes
    KeyError puts around its message.
    """

    def __init__(self, name: str, available: Iterable[str]) -> None:
        import difflib

        self.name = name
        self.available = tuple(available)
        close = difflib.get_close_matches(name, self.available, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        have = ", ".join(self.available) or "none"
        super().__init__(f"no feed reader named {name!r}{hint}; the readers are: {have}")

    def __str__(self) -> str:
        return self.message


class MalformedRecordError(FeedError, ValueError):
    """One advisory record that does not follow the OSV schema; loading skips and reports it."""


#: the old name, kept so that ``except MalformedRecord`` keeps working (deprecated)
MalformedRecord = MalformedRecordError


class IgnoreRuleError(AnchoreError, ValueError):
    """An ignore rule, or an ignore file, that cannot be used; names the file and the entry."""


class IgnoreFileNotFoundError(IgnoreRuleError, FileNotFoundError):
    """No ignore file at the path given (also a :class:`FileNotFoundError`)."""


class VexError(AnchoreError, ValueError):
    """A VEX document that cannot be read; names the file and the statement."""


class VexNotFoundError(VexError, FileNotFoundError):
    """No VEX file at the path given (also a :class:`FileNotFoundError`)."""
