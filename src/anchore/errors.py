"""Every failure anchore raises, in one hierarchy.

Catch :class:`AnchoreError` to handle anything the library reports; catch a
subclass to handle one kind of problem. Every message names the file (the
image source, and the blob or member inside it) and the problem, so that it can
be shown to a user as it is.

::

    AnchoreError
    ├── ImageError                  something is wrong with the image itself
    │   ├── ImageNotFoundError      the source does not exist
    │   ├── ImageReadError          the source exists but cannot be read (permissions, I/O)
    │   │                           (also an OSError)
    │   ├── ImageFormatError        not an image we can read, malformed JSON, corrupt tar
    │   │   ├── MissingBlobError    a blob the manifest names is not in the image
    │   │   └── TruncatedBlobError  a blob or layer ends early or cannot be decompressed
    │   ├── ImageSelectionError     the source holds images, but not the one asked for
    │   │   ├── PlatformNotFoundError
    │   │   ├── InvalidPlatformError    not os/arch[/variant] (also a ValueError)
    │   │   └── LayerNotFoundError      no layer with that index (also an IndexError)
    │   ├── DigestMismatchError     a blob's content does not match its digest
    │   ├── UnsafeImageError        path traversal and other hostile content
    │   │   └── SymlinkLoopError    a link chain that loops or is too deep
    │   └── LimitExceededError      a configured limit (sizes, counts, ratios) was hit
    ├── ImageFileError              asking for a file the image cannot give
    │   ├── PathNotFoundError       no such path (also a FileNotFoundError)
    │   ├── NotAFileError           the path is a directory, device or other non-file
    │   └── FileDecodeError         read_text of content not in the encoding
    │                               (also a UnicodeDecodeError)
    ├── InvalidLimitError           a Limits field that is not a positive number (also a ValueError)
    ├── AnalyzerNotFoundError       no analyzer by that name (also a KeyError)
    ├── VersionError                anchore.versions: a version that does not parse
    ├── PurlError                   anchore.purls: a package URL not valid for its type
    ├── UnknownEcosystemError       anchore.ecosystems: no ecosystem for a package type
    │                               (also a KeyError)
    ├── NetworkError                anchore.net: a server could not give what was asked
    │                               (connection, TLS, status, transfer), naming the URL
    ├── RegistryError               anchore.registry: a pull that failed, naming the registry
    │                               and reference (auth, not found, rate limited, TLS...)
    ├── StoreError                  anchore.vulns: the advisory store is missing
    │                               (StoreNotFoundError), not a store (StoreFormatError),
    │                               holds nothing (StoreEmptyError), a bad export
    │                               (StoreArchiveError) or busy (StoreBusyError)
    ├── FeedError                   anchore.vulns: a feed that is missing, unreadable, empty
    │                               or cannot be downloaded (FeedDownloadError)
    ├── VexError, IgnoreRuleError   anchore.vulns: unreadable VEX documents and ignore files
    ├── BundleError                 anchore.policy: a malformed (or missing) policy bundle
    ├── QueryError                  anchore.query: an unknown query (QueryNotFoundError), a bad
    │                               parameter (QueryParamError), or an analysis lacking what the
    │                               query reads (UnanswerableQueryError)
    ├── SbomError                   anchore.sbom: an SBOM that cannot be read (SbomFormatError)
    │                               or a format that does not exist (UnknownSbomFormatError)
    ├── MissingEvidenceError        anchore.policy: a rule needs evidence the analysis lacks
    └── PluginError                 anchore.plugins: a plugin that cannot be used (an unknown
        │                           hook, a duplicate name, an item lacking what its hook needs)
        └── ExternalPluginError     anchore.analyzers.executables: an executable analyzer that
                                    cannot describe itself

The classes from VersionError down live beside the code that raises them,
with their subclasses; docs/errors.md lists every one.

:class:`ExitCode` is what the ``anchore`` command exits with, one meaning each.
"""

from __future__ import annotations

import enum
import errno
from typing import Any

__all__ = [
    "AnalyzerNotFoundError",
    "AnchoreError",
    "DigestMismatchError",
    "ExitCode",
    "FileDecodeError",
    "ImageError",
    "ImageFileError",
    "ImageFormatError",
    "ImageNotFoundError",
    "ImageReadError",
    "ImageSelectionError",
    "InvalidLimitError",
    "InvalidPlatformError",
    "LayerNotFoundError",
    "LimitExceededError",
    "MissingBlobError",
    "NotAFileError",
    "PathNotFoundError",
    "PlatformNotFoundError",
    "SymlinkLoopError",
    "TruncatedBlobError",
    "UnsafeImageError",
    "one_line",
]


def one_line(text: str) -> str:
    """``text`` as one line: each line stripped, blank ones dropped, the rest joined by
    one space. An error message is shown on one line (the CLI's ``anchore: error: ...``,
    an :class:`~anchore.analysis.many.AnalysisFailure`), yet what it quotes (a parser's
    error, a server's reply) may span several."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


class ExitCode(enum.IntEnum):
    """What the ``anchore`` command exits with; a pipeline can tell each case apart."""

    #: success; policy GO; no match at or above ``--fail-on``
    OK = 0
    #: the image fails: policy STOP, or a match rated at least ``--fail-on``
    FAILED = 1
    #: policy WARN
    WARN = 2
    #: some packages could not be checked (no advisory data for their ecosystem or
    #: distro release): with ``--fail-on``, nothing checked met the threshold;
    #: without it, nothing at all could be checked (``--allow-unchecked`` accepts it)
    UNCHECKED = 3
    #: the command line is wrong: unknown option, bad value, missing argument
    USAGE_ERROR = 4
    #: an input cannot be used: image, bundle, store, feed, ignore or VEX file
    #: (any :class:`AnchoreError`); the message names the file and the problem
    INPUT_ERROR = 5
    #: a bug in anchore or a plugin: an unexpected exception (``--debug`` shows it)
    INTERNAL_ERROR = 6
    #: interrupted (Ctrl-C)
    INTERRUPTED = 130
    #: the reader of the output went away (``anchore ... | head``) before the
    #: command finished, so its verdict was never given: not a success
    BROKEN_PIPE = 141


class AnchoreError(Exception):
    """Base class of every error anchore raises."""

    #: set on the subclasses that are also a FileNotFoundError (as OSError has them)
    errno: int | None
    filename: Any

    def __init__(self, message: str, *, source: object = None, member: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: The image source (a path) the error is about, when known.
        self.source = str(source) if source is not None else None
        #: The blob, layer member or image path the error is about, when known.
        self.member = member
        if isinstance(self, FileNotFoundError):  # what code catching OSErrors reads
            self.errno = errno.ENOENT
            self.filename = member if member is not None else self.source

    def __str__(self) -> str:
        return self.message


class ImageError(AnchoreError):
    """The image (or what claims to be one) cannot be read as it is."""


class ImageNotFoundError(ImageError):
    """The image source does not exist."""


class ImageReadError(ImageError, OSError):
    """The source exists but cannot be read: no permission, an I/O error.

    Also an :class:`OSError`, which escaped before.
    """


class ImageFormatError(ImageError):
    """The source is not an image in a format we read, or a part of it is malformed."""


class MissingBlobError(ImageFormatError):
    """A manifest, config or layer that the image refers to is not present."""


class TruncatedBlobError(ImageFormatError):
    """A blob ends before its declared size, or its compressed stream is corrupt."""


class ImageSelectionError(ImageError):
    """The source holds images, but none (or more than one) matches what was asked for."""

    def __init__(
        self,
        message: str,
        *,
        available: list[str] | None = None,
        source: object = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message, source=source, member=member)
        #: What the source does hold (tags or platforms), to offer the user a choice.
        self.available = available or []


class PlatformNotFoundError(ImageSelectionError):
    """No image in an index matches the requested platform."""


class InvalidPlatformError(ImageSelectionError, ValueError):
    """A platform string that is not ``os/architecture[/variant]``.

    Also a :class:`ValueError`, which :meth:`anchore.Platform.parse` raised before.
    """


class LayerNotFoundError(ImageSelectionError, IndexError):
    """The image has no layer with the index asked for (``.available`` lists the valid ones).

    Also an :class:`IndexError`, as indexing ``image.layers`` raised before.
    """


class DigestMismatchError(ImageError):
    """A blob's content hashes to something other than the digest that names it."""

    def __init__(
        self,
        message: str,
        *,
        expected: str,
        actual: str,
        source: object = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message, source=source, member=member)
        self.expected = expected
        self.actual = actual


class UnsafeImageError(ImageError):
    """The image holds content that tries to escape its root or otherwise attack the reader."""


class SymlinkLoopError(UnsafeImageError):
    """Resolving a path meets a symlink loop or more links than the configured limit."""


class LimitExceededError(ImageError):
    """A configured limit was exceeded (see :class:`anchore.Limits`)."""

    def __init__(
        self,
        message: str,
        *,
        limit: str,
        source: object = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message, source=source, member=member)
        #: The name of the :class:`anchore.Limits` field that was exceeded.
        self.limit = limit


class ImageFileError(AnchoreError):
    """A file inside the image cannot be given as asked."""


class PathNotFoundError(ImageFileError, FileNotFoundError):
    """The path does not exist in the image (or layer) it was looked up in."""


class NotAFileError(ImageFileError):
    """The path exists but has no content to read (a directory, device, fifo...)."""


class FileDecodeError(ImageFileError, UnicodeDecodeError):
    """A file's content is not text in the encoding it was read with.

    Also a :class:`UnicodeDecodeError` (so a :class:`ValueError`), which
    ``read_text`` raised before; the message names the path.
    """

    def __init__(
        self,
        message: str,
        cause: UnicodeDecodeError,
        *,
        source: object = None,
        member: str | None = None,
    ) -> None:
        UnicodeDecodeError.__init__(
            self, cause.encoding, cause.object, cause.start, cause.end, cause.reason
        )
        self.message = message
        self.source = str(source) if source is not None else None
        self.member = member

    def __str__(self) -> str:
        return self.message


class InvalidLimitError(AnchoreError, ValueError):
    """A :class:`anchore.Limits` field given a value that is not a positive number."""


class AnalyzerNotFoundError(AnchoreError, KeyError):
    """No registered analyzer has the name asked for; the message lists the ones that do.

    Also a :class:`KeyError` (the registry lookup it narrows).
    """


class ConfigError(AnchoreError, ValueError):
    """A configuration the command line cannot use: an ``anchore.yaml`` that does not
    parse, a key or ``ANCHORE_*`` variable anchore does not know (with the closest one
    it does), or a value of the wrong type. Never ignored: a misspelt ``fail-on`` that
    fell back to the default would pass images it was meant to stop. Also a ValueError.
    """


class MissingExtraError(AnchoreError, ImportError):
    """A feature needs an optional extra that is not installed (``to_dataframe()`` needs
    ``anchore[pandas]``); the message gives the pip command. Also an ImportError."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        #: the extra to install: ``pip install 'anchore[EXTRA]'``
        self.extra = extra
