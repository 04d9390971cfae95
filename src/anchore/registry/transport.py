"""The one HTTP client a registry pull talks through, set up from its options."""

from __future__ import annotations

from anchore.net import ClientOptions, HttpClient
from anchore.registry.options import RegistryOptions

__all__ = ["http_client"]


def http_client(options: RegistryOptions) -> HttpClient:
    """An :class:`HttpClient` with the TLS, plain-HTTP, time-out, retry and environment
    (proxies) settings ``options`` asks for; the same for every registry and realm."""
    return HttpClient(
        ClientOptions(
            ca_bundle=options.ca_bundle,
            verify_tls=options.verify_tls,
            insecure_hosts=frozenset(options.insecure_registries),
            timeout=options.timeout,
            retries=options.retries,
            environ=options.environ,
        )
    )
