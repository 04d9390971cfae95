"""Registry failures: each names the registry and the reference, never a raw HTTP error.

The network error underneath (if any) is the ``__cause__``. A blob or manifest
whose content does not match its digest is :class:`anchore.errors.DigestMismatchError`
(an image error, as for archives), its message naming the registry and reference.
"""

from __future__ import annotations

from anchore.errors import AnchoreError, ImageNotFoundError

__all__ = [
    "BlobCacheError",
    "CredentialError",
    "InvalidReferenceError",
    "RegistryAuthError",
    "RegistryConnectionError",
    "RegistryError",
    "RegistryNotFoundError",
    "RegistryRateLimitedError",
    "RegistryResponseError",
    "RegistryTLSError",
    "UnsupportedMediaTypeError",
]


class RegistryError(AnchoreError):
    """Something went wrong talking to a registry; ``registry`` and ``reference`` name it."""

    def __init__(
        self,
        message: str,
        *,
        registry: str | None = None,
        reference: str | None = None,
        status: int | None = None,
        source: object = None,
        member: str | None = None,
    ) -> None:
        super().__init__(message, source=source if source is not None else reference, member=member)
        #: the registry host (``index.docker.io``, ``localhost:5000``)
        self.registry = registry
        #: the reference as the user wrote it, or its full form
        self.reference = reference
        #: the HTTP status, when a response came
        self.status = status


class InvalidReferenceError(RegistryError, ValueError):
    """Not an image reference: a bad host, repository, tag or digest spelling."""


class RegistryConnectionError(RegistryError):
    """The registry cannot be reached: name, connection, timeout (after the retries), or
    plain HTTP refused to a host not named insecure."""


class RegistryTLSError(RegistryConnectionError):
    """The registry's TLS certificate is not trusted (``--ca-bundle`` adds a CA) or is
    for another host."""


class RegistryAuthError(RegistryError):
    """Unauthorized (401) or denied (403): no credentials, wrong ones, or not allowed to
    pull; names where credentials were looked for."""


class RegistryNotFoundError(RegistryError, ImageNotFoundError):
    """The repository, tag, manifest or blob does not exist (404)."""


class RegistryRateLimitedError(RegistryError):
    """429 after the retries (Docker Hub's pull limit); ``retry_after`` when it said."""

    retry_after: float | None = None


class UnsupportedMediaTypeError(RegistryError):
    """A manifest of a kind we do not read (Docker schema 1, an artifact that is no image)."""


class RegistryResponseError(RegistryError):
    """A response that breaks the distribution protocol: a malformed challenge or token,
    another status than the protocol allows, a body past its bound."""


class CredentialError(RegistryError):
    """Credentials that cannot be read: a malformed ``config.json``/``auth.json`` (naming
    the file), or a ``docker-credential-*`` helper that fails, hangs or is missing."""


class BlobCacheError(RegistryError):
    """The blob cache directory cannot be used (permissions, disk full), naming it."""
