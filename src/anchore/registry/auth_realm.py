"""Whether a token realm a registry names may be asked for a token (SSRF guard).

A registry's challenge tells us a URL to send credentials to; a hostile or
compromised registry could point it at a cloud metadata service or an internal
host. So a realm must be https (plain http only on a loopback or insecure host) and,
when it resolves to a private, loopback or link-local address, be on the registry's
own host or in ``RegistryOptions.allowed_realm_hosts``.
"""

from __future__ import annotations

import urllib.parse

from anchore.net import NetworkError, is_loopback_host, is_public_address
from anchore.registry.errors import RegistryAuthError, RegistryResponseError
from anchore.registry.options import RegistryOptions

__all__ = ["check_realm", "registry_host"]


def registry_host(registry: str) -> str:
    """``host`` of ``host[:port]`` (``[::1]:5000`` -> ``::1``), lowercased."""
    return (urllib.parse.urlsplit(f"//{registry}").hostname or registry).lower()


def check_realm(realm: str, registry: str, options: RegistryOptions, reference: str) -> None:
    """Raise unless ``realm`` may be asked: RegistryResponseError when it is no http(s)
    URL, RegistryAuthError when plain http or (SSRF) a private address not allowed."""
    try:
        parts = urllib.parse.urlsplit(realm)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        host, port, parts = "", None, urllib.parse.urlsplit("")
    if parts.scheme.lower() not in ("https", "http") or not host:
        raise RegistryResponseError(
            f"registry {registry} names a token realm that is no http(s) URL: {realm!r}"
            f" (for {reference})",
            registry=registry,
            reference=reference,
        )
    hostport = f"[{host}]:{port}" if ":" in host and port else f"{host}:{port}" if port else host
    insecure = options.insecure_registries
    own = host == registry_host(registry)
    own_insecure = own and (registry in insecure or host in insecure)
    if parts.scheme.lower() == "http" and not (
        is_loopback_host(host) or host in insecure or hostport in insecure or own_insecure
    ):
        raise RegistryAuthError(
            f"registry {registry} names a token realm over plain http, {realm}: refused"
            f" (credentials would travel in clear; for {reference})",
            registry=registry,
            reference=reference,
        )
    allowed = options.allowed_realm_hosts
    if own or host in allowed or hostport in allowed:
        return
    try:
        public = is_public_address(host)
    except NetworkError:
        public = False
    if not public:
        raise RegistryAuthError(
            f"registry {registry} names a token realm {realm} on a private, loopback or"
            f" link-local address (or one that does not resolve): refused, as it could"
            f" reach internal services (SSRF); name {host} in allowed_realm_hosts to"
            f" allow it (for {reference})",
            registry=registry,
            reference=reference,
        )
