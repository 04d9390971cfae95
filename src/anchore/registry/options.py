"""How to reach registries: TLS, plain-HTTP hosts, credentials, the blob cache."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import attrs

from anchore.net.models import environ_repr

__all__ = ["Credentials", "RegistryOptions", "default_cache_dir"]


@attrs.frozen(repr=False)
class Credentials:
    """What to authenticate with: a user and password (or token as password), or an
    identity token (an OAuth2 refresh token, sent in the token POST form)."""

    username: str = ""
    password: str = attrs.field(default="")
    identity_token: str = attrs.field(default="")
    #: where they came from, for messages (``~/.docker/config.json``, ``docker-credential-pass``)
    origin: str = ""

    def __repr__(self) -> str:  # never print a secret
        return f"Credentials(username={self.username!r}, origin={self.origin!r})"


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$ANCHORE_CACHE_DIR``, else ``$XDG_CACHE_HOME/anchore/blobs`` (``~/.cache/...``)."""
    env = os.environ if environ is None else environ
    if env.get("ANCHORE_CACHE_DIR"):
        return Path(env["ANCHORE_CACHE_DIR"])
    cache = env.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return Path(cache) / "anchore" / "blobs"


@attrs.frozen
class RegistryOptions:
    """Everything registry access can be told; the defaults are safe.

    ``environ`` is where ``DOCKER_CONFIG``, ``REGISTRY_AUTH_FILE``,
    ``XDG_RUNTIME_DIR``, proxies and ``ANCHORE_CACHE_DIR`` are read (None:
    ``os.environ``), so tests and embedders control it.
    """

    #: registries (``host`` or ``host:port``) that may be reached over plain HTTP;
    #: loopback ones (localhost, 127.0.0.0/8, ::1) always may
    insecure_registries: frozenset[str] = frozenset()
    #: a PEM file of CAs to trust in addition to the system's
    ca_bundle: str | None = None
    #: False disables TLS verification (only when a user asks)
    verify_tls: bool = True
    #: credentials by registry host, used before any file or helper
    credentials: Mapping[str, Credentials] = attrs.field(factory=dict)
    #: an auth file to read instead of the usual search (``--registry-auth FILE``)
    auth_file: str | None = None
    #: token realms on private, loopback or link-local addresses are refused unless
    #: their host is listed here (SSRF); the registry's own host is always allowed
    allowed_realm_hosts: frozenset[str] = frozenset()
    #: the blob cache (None: :func:`default_cache_dir`)
    cache_dir: str | None = None
    #: the cache is pruned to this after a pull (least recently used first); 0: no bound
    cache_max_bytes: int = 20 * 1024**3
    #: layers fetched at the same time
    parallel_downloads: int = 4
    #: seconds to connect and between bytes; retries for 408/429/5xx and dropped connections
    timeout: float = 30.0
    retries: int = 5
    #: seconds a credential helper may take
    helper_timeout: float = 30.0
    #: shown in repr as a count of variables only (they may hold secrets)
    environ: Mapping[str, str] | None = attrs.field(default=None, repr=environ_repr)
    #: ``progress("pull", done, total)`` as an image's layers arrive (cached ones count
    #: as arrived), the callback :func:`anchore.analyze` takes; called from the
    #: download threads, so it must be thread-safe (a lock or a queue)
    progress: Callable[[str, int, int | None], None] | None = attrs.field(
        default=None, repr=False, eq=False
    )

    def env(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def cache_path(self) -> Path:
        return Path(self.cache_dir) if self.cache_dir else default_cache_dir(self.environ)
