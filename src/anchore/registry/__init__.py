"""Pulling images from registries (the OCI distribution API v2), daemonless.

``anchore.open_image("registry.example.com/team/app:1.2")`` pulls through this
package: references (:func:`parse_reference`), credentials (:class:`Keychain`),
the auth challenge flow (:class:`RegistrySession`) and a content-addressed blob
cache. Every failure is a :class:`RegistryError` naming the registry and reference.
"""

from anchore.registry.cache import BlobCache
from anchore.registry.client import Manifest, RegistryClient
from anchore.registry.errors import (
    BlobCacheError,
    CredentialError,
    InvalidReferenceError,
    RegistryAuthError,
    RegistryConnectionError,
    RegistryError,
    RegistryNotFoundError,
    RegistryRateLimitedError,
    RegistryResponseError,
    RegistryTLSError,
    UnsupportedMediaTypeError,
)
from anchore.registry.keychain import Keychain
from anchore.registry.options import Credentials, RegistryOptions, default_cache_dir
from anchore.registry.reference import Reference, looks_like_reference, parse_reference
from anchore.registry.session import RegistrySession

__all__ = [
    "BlobCache",
    "BlobCacheError",
    "CredentialError",
    "Credentials",
    "InvalidReferenceError",
    "Keychain",
    "Manifest",
    "Reference",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryConnectionError",
    "RegistryError",
    "RegistryNotFoundError",
    "RegistryOptions",
    "RegistryRateLimitedError",
    "RegistryResponseError",
    "RegistrySession",
    "RegistryTLSError",
    "UnsupportedMediaTypeError",
    "default_cache_dir",
    "looks_like_reference",
    "parse_reference",
]
