"""Network errors as registry errors: each names the registry and the reference.

The network error stays the ``__cause__``; messages carry no credential (a
RegistryAuthError names where credentials were looked for, never what they were).
"""

from __future__ import annotations

from collections.abc import Iterator

from anchore.errors import DigestMismatchError
from anchore.net import (
    ConnectionFailedError,
    HttpStatusError,
    InsecureTransportError,
    NetworkError,
    NotFoundError,
    RateLimitedError,
    RefusedAddressError,
    TlsError,
    TransferError,
    UnauthorizedError,
)
from anchore.net.wire import display_url
from anchore.registry.errors import (
    CredentialError,
    RegistryAuthError,
    RegistryConnectionError,
    RegistryError,
    RegistryNotFoundError,
    RegistryRateLimitedError,
    RegistryResponseError,
    RegistryTLSError,
)
from anchore.registry.keychain import Keychain
from anchore.registry.options import Credentials

__all__ = ["Translator"]


class Translator:
    """Builds the registry error for one registry's failures."""

    def __init__(self, registry: str, keychain: Keychain) -> None:
        self.registry = registry
        self.keychain = keychain

    def _places(self) -> str:
        try:
            places = self.keychain.searched()
        except CredentialError:  # pragma: no cover - searched() reads no file
            places = []
        return "; ".join(places) or "nowhere"

    def refused(self, url: str | None, reference: str, status: int | None) -> RegistryAuthError:
        shown = display_url(url or self.registry)  # a presigned URL's signature hidden
        return RegistryAuthError(
            f"registry {self.registry} refused access to {reference}"
            f" (HTTP {status or 401} from {shown}): no credentials, wrong ones, or not allowed"
            f" to pull; credentials were looked for in: {self._places()}",
            registry=self.registry,
            reference=reference,
            status=status,
        )

    def request(self, error: NetworkError, reference: str) -> RegistryError:
        """A failed request to the registry itself (manifest, blob)."""
        reg = self.registry
        cls: type[RegistryError]
        if isinstance(error, UnauthorizedError):
            return self.refused(error.url, reference, error.status)
        if isinstance(error, TlsError):
            cls, message = (
                RegistryTLSError,
                (f"TLS with registry {reg} failed for {reference}: {error}"),
            )
        elif isinstance(error, InsecureTransportError):
            cls, message = (
                RegistryConnectionError,
                (
                    f"plain HTTP to registry {reg} refused for {reference}: {error}"
                    " (name it in insecure_registries to allow it)"
                ),
            )
        elif isinstance(error, NotFoundError):
            cls, message = (
                RegistryNotFoundError,
                f"{reference} not found on registry {reg}: {error}",
            )
        elif isinstance(error, RateLimitedError):
            wait = f" (retry after {error.retry_after:g} s)" if error.retry_after else ""
            cls, message = (
                RegistryRateLimitedError,
                (f"registry {reg} rate-limited the pull of {reference}{wait}: {error}"),
            )
        elif isinstance(error, HttpStatusError):
            cls, message = (
                RegistryResponseError,
                (f"registry {reg} answered HTTP {error.status} for {reference}: {error}"),
            )
        elif isinstance(error, (TransferError, RefusedAddressError)):
            cls, message = (
                RegistryResponseError,
                (f"registry {reg} sent a response that cannot be used for {reference}: {error}"),
            )
        elif isinstance(error, ConnectionFailedError):
            cls, message = (
                RegistryConnectionError,
                (f"cannot reach registry {reg} for {reference}: {error}"),
            )
        else:
            cls, message = (
                RegistryConnectionError,
                f"registry {reg} failed for {reference}: {error}",
            )
        translated = cls(message, registry=reg, reference=reference, status=error.status)
        if isinstance(translated, RegistryRateLimitedError):
            translated.retry_after = error.retry_after
        return translated

    def ping(self, error: NetworkError, reference: str) -> RegistryError:
        """A failed ``/v2/`` ping: a 404 there means no registry, not no image."""
        if isinstance(error, HttpStatusError) and not isinstance(
            error, (UnauthorizedError, RateLimitedError)
        ):
            return RegistryResponseError(
                f"{error.url} does not answer as an OCI distribution registry"
                f" (HTTP {error.status}) for {reference}",
                registry=self.registry,
                reference=reference,
                status=error.status,
            )
        return self.request(error, reference)

    def token(
        self, error: NetworkError, realm: str, reference: str, creds: Credentials | None
    ) -> RegistryError:
        """A failed token request to ``realm``."""
        if isinstance(error, UnauthorizedError):
            whose = (
                f"the credentials from {creds.origin or 'the caller'}"
                if creds
                else "an anonymous request"
            )
            user = f" for user {creds.username!r}" if creds and creds.username else ""
            return RegistryAuthError(
                f"the token server {realm} of registry {self.registry} refused {whose}{user}"
                f" (HTTP {error.status}) for {reference}; credentials were looked for in:"
                f" {self._places()}",
                registry=self.registry,
                reference=reference,
                status=error.status,
            )
        translated = self.request(error, reference)
        translated.message = f"token server {realm}: {translated.message}"
        translated.args = (translated.message,)
        return translated

    def digest(self, error: DigestMismatchError, url: str, reference: str) -> DigestMismatchError:
        return DigestMismatchError(
            f"registry {self.registry} sent {url} for {reference} with digest {error.actual},"
            f" not {error.expected}",
            expected=error.expected,
            actual=error.actual,
            source=reference,
            member=error.member,
        )

    def chunks(self, chunks: Iterator[bytes], reference: str) -> Iterator[bytes]:
        """The body chunks, a failure mid-body translated."""
        try:
            yield from chunks
        except NetworkError as e:
            raise self.request(e, reference) from e
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
