"""Where credentials come from, as docker, podman and go-containerregistry look for them.

CONTRACT (issue 12): signatures fixed; bodies are the registry-auth engineer's.
"""

from __future__ import annotations

from anchore.registry.options import Credentials, RegistryOptions

__all__ = ["Keychain"]


class Keychain:
    """Credentials for a registry host, looked up in this order:

    1. ``RegistryOptions.credentials`` (given by the caller);
    2. the auth file ``RegistryOptions.auth_file`` if set, else each of
       ``$REGISTRY_AUTH_FILE``, ``$XDG_RUNTIME_DIR/containers/auth.json`` (podman),
       ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``, and
       ``~/.config/containers/auth.json``, the first that exists and names the host;
       in one file: ``credHelpers[host]``, then ``auths[host]`` (``auth`` base64
       ``user:password``, or ``username``/``password``, ``identitytoken``), then
       ``credsStore``; Docker Hub is looked up as ``https://index.docker.io/v1/`` too,
       and keys may carry a scheme or path (``https://host/v1/``);
    3. none: anonymous.

    A helper is run as ``docker-credential-<name> get`` with the host on stdin,
    within ``helper_timeout``; its "credentials not found" answer means none, any
    other failure is a :class:`CredentialError` naming the helper. A malformed file
    is a :class:`CredentialError` naming it. Results are cached per host.
    """

    def __init__(self, options: RegistryOptions | None = None) -> None:
        raise NotImplementedError

    def resolve(self, registry: str) -> Credentials | None:
        """The credentials for ``registry`` (``host`` or ``host:port``), or None."""
        raise NotImplementedError

    def searched(self) -> list[str]:
        """Where :meth:`resolve` looked (files and helpers), for a RegistryAuthError message."""
        raise NotImplementedError
