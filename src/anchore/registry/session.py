"""Talking to one registry: the scheme, the ``/v2/`` ping and the auth challenge flow.

CONTRACT (issue 12): signatures fixed; bodies are the registry-auth engineer's.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from anchore.net import Download, HttpClient, Response, Validators
from anchore.registry.keychain import Keychain
from anchore.registry.options import RegistryOptions

__all__ = ["RegistrySession"]


class RegistrySession:
    """Authenticated requests to one registry, shared by every repository on it.

    The first request pings ``/v2/`` (https; plain http only for loopback or
    ``insecure_registries``). A 401 carries a ``WWW-Authenticate`` challenge:
    ``Basic`` sends the keychain's credentials; ``Bearer realm=...,service=...,scope=...``
    fetches a token from the realm: the OAuth2 POST form
    (``grant_type=password`` or ``refresh_token`` with an identity token,
    ``service``, ``scope``, ``client_id=anchore``) when there are credentials, falling
    back to GET with basic auth when the realm answers the POST with 404/405, and GET
    (``?service=&scope=``) anonymously; the ``token`` or ``access_token`` is kept per
    scope until ``expires_in`` (60 s when not given). A second 401 naming another
    ``scope`` adds it to the ones asked (``repository:a/b:pull`` and the new one) and
    asks once more; a third 401 is a :class:`RegistryAuthError` naming where
    credentials were looked for. A realm must be https (or plain http on a
    loopback or insecure host) and, when it resolves to a private, loopback or
    link-local address, be the registry's own host or in ``allowed_realm_hosts``
    (else :class:`RegistryAuthError`, SSRF). Network errors are translated to the
    ``anchore.registry.errors`` class naming the registry and ``reference``.
    Thread-safe: layers are fetched in parallel through one session.
    """

    def __init__(
        self,
        registry: str,
        *,
        options: RegistryOptions | None = None,
        client: HttpClient | None = None,
        keychain: Keychain | None = None,
    ) -> None:
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """``https://host[:port]`` (or ``http://`` for a loopback or insecure registry),
        known after the ping."""
        raise NotImplementedError

    def request(
        self,
        method: str,
        repository: str,
        path: str,
        *,
        reference: str,
        actions: Sequence[str] = ("pull",),
        headers: Mapping[str, str] | None = None,
        max_bytes: int = 16 * 1024 * 1024,
        ok: tuple[int, ...] = (),
    ) -> Response:
        """``method`` ``base_url + path`` (``/v2/<repository>/manifests/<tag>``), with the
        token for ``repository:<repository>:<actions>``; ``reference`` names the image
        in errors. 404 is :class:`RegistryNotFoundError`, 429 (after the retries)
        :class:`RegistryRateLimitedError`, other failures as the class says."""
        raise NotImplementedError

    def stream(
        self,
        repository: str,
        path: str,
        *,
        reference: str,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[Response, Iterator[bytes]]:
        """GET ``path`` authenticated, streaming the body (see ``HttpClient.stream``)."""
        raise NotImplementedError

    def download(
        self,
        repository: str,
        path: str,
        dest: str,
        *,
        reference: str,
        expected_digest: str | None = None,
        expected_size: int | None = None,
        validators: Validators | None = None,
    ) -> Download:
        """``HttpClient.download`` of ``path`` authenticated (a blob redirect to another
        host drops our token), errors translated as :meth:`request` does."""
        raise NotImplementedError
