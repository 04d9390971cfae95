"""Manifests, blobs and tags from registries: the distribution API's read side.

:class:`RegistryClient` keeps one authenticated :class:`RegistrySession` per
registry host (sharing one HTTP connection pool and one keychain), fetches
manifests with the Accept headers for OCI and Docker v2 manifests and lists,
verifies what it gets against the digests it was asked for, and downloads blobs
into the :class:`~anchore.registry.cache.BlobCache`.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from pathlib import Path

import attrs

from anchore.errors import DigestMismatchError
from anchore.registry.cache import BlobCache
from anchore.registry.digests import algorithm_of, digest_of
from anchore.registry.errors import (
    BlobCacheError,
    RegistryResponseError,
    UnsupportedMediaTypeError,
)
from anchore.registry.keychain import Keychain
from anchore.registry.options import RegistryOptions
from anchore.registry.reference import Reference
from anchore.registry.session import RegistrySession
from anchore.registry.transport import http_client

__all__ = ["MANIFEST_TYPES", "Manifest", "RegistryClient"]

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
#: the manifest kinds we read, in the order the Accept header prefers them
MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST)
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
_SCHEMA1 = (
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
)
_ACCEPT = ", ".join(MANIFEST_TYPES)
#: pages of ``tags/list`` followed at most (a registry linking forever is refused)
_MAX_TAG_PAGES = 1000


@attrs.frozen
class Manifest:
    """A manifest or index as the registry sent it, verified against its digest."""

    data: bytes
    #: one of :data:`MANIFEST_TYPES`
    media_type: str
    #: ``sha256:<hex>`` of ``data`` (the algorithm of the digest asked for, if any)
    digest: str

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _declared_type(data: bytes) -> tuple[object, object]:
    """The document's own ``mediaType`` and ``schemaVersion`` (None when unreadable)."""
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(doc, dict):
        return None, None
    return doc.get("mediaType"), doc.get("schemaVersion")


class RegistryClient:
    """Reads images from any number of registries; safe to share between threads.

    ``close()`` (or ``with``) releases the connections.
    """

    def __init__(self, options: RegistryOptions | None = None) -> None:
        self.options = options or RegistryOptions()
        o = self.options
        self._http = http_client(o)
        self._keychain = Keychain(o)
        self._sessions: dict[str, RegistrySession] = {}
        self._lock = threading.Lock()

    def session(self, registry: str) -> RegistrySession:
        """The session for ``registry`` (``host[:port]``), made on first use."""
        with self._lock:
            if registry not in self._sessions:
                self._sessions[registry] = RegistrySession(
                    registry, options=self.options, client=self._http, keychain=self._keychain
                )
            return self._sessions[registry]

    def cache(self, ref: Reference | None = None) -> BlobCache:
        """The blob cache, its errors naming ``ref``."""
        return BlobCache(
            self.options.cache_path(),
            registry=ref.registry if ref else None,
            reference=str(ref) if ref else None,
        )

    def get_manifest(
        self, ref: Reference, identifier: str | None = None, *, max_bytes: int = 4 * 1024 * 1024
    ) -> Manifest:
        """GET the manifest ``identifier`` (a tag or digest; default: the reference's own).

        The bytes must hash to the digest asked for, and to the
        ``Docker-Content-Digest`` the registry sent (else
        :class:`~anchore.errors.DigestMismatchError`); the ``Content-Type`` must be
        one of :data:`MANIFEST_TYPES` (else :class:`UnsupportedMediaTypeError`).
        """
        identifier = identifier or ref.identifier
        repo = ref.repository
        response = self.session(ref.registry).request(
            "GET",
            repo,
            f"/v2/{repo}/manifests/{identifier}",
            reference=str(ref),
            headers={"Accept": _ACCEPT},
            max_bytes=max_bytes,
        )
        data = response.body
        media_type = self._media_type(ref, identifier, response.header("content-type"), data)
        asked = identifier if ":" in identifier else None
        digest = digest_of(data, algorithm_of(asked) if asked else "sha256")
        if asked is not None and digest != asked:
            raise self._mismatch(ref, identifier, "manifest", asked, digest)
        sent = (response.header("docker-content-digest") or "").strip()
        if sent:
            actual = digest_of(data, algorithm_of(sent))
            if actual != sent:
                raise self._mismatch(ref, identifier, "Docker-Content-Digest", sent, actual)
        return Manifest(data, media_type, digest)

    def cached_manifest(
        self, ref: Reference, *, max_bytes: int = 4 * 1024 * 1024
    ) -> Manifest | None:
        """The manifest ``ref`` names by digest, from the cache when an earlier pull kept it
        (a digest names immutable bytes: no request needed, so such pulls work offline).

        None when ``ref`` has no digest, the cache lacks it, it no longer hashes to its
        digest, or it does not say its media type (then the registry is asked).
        """
        if ref.digest is None:
            return None
        try:
            path = self.cache(ref).lookup(ref.digest)
            if path is None or path.stat().st_size > max_bytes:
                return None
            data = path.read_bytes()
        except (OSError, BlobCacheError):
            return None  # unreadable here: the registry is asked
        if digest_of(data, algorithm_of(ref.digest)) != ref.digest:
            return None
        declared, version = _declared_type(data)
        if declared not in MANIFEST_TYPES or version != 2:
            return None
        return Manifest(data, str(declared), ref.digest)

    def _media_type(self, ref: Reference, identifier: str, header: str | None, data: bytes) -> str:
        content_type = (header or "").split(";", 1)[0].strip().lower()
        declared, version = _declared_type(data)
        if content_type in _SCHEMA1 or declared in _SCHEMA1 or version == 1:
            raise UnsupportedMediaTypeError(
                f"{ref.registry}: {ref} ({identifier}): a Docker schema 1 manifest "
                f"({content_type or 'schemaVersion 1'}), deprecated since 2017 and not read "
                "here; push the image again with a current docker, podman or skopeo",
                registry=ref.registry,
                reference=str(ref),
            )
        if content_type in MANIFEST_TYPES:
            return content_type
        if content_type in ("", "application/json", "text/plain") and declared in MANIFEST_TYPES:
            return str(declared)  # an older registry: the document says what it is
        raise UnsupportedMediaTypeError(
            f"{ref.registry}: {ref} ({identifier}): a manifest of type "
            f"{content_type or '(none given)'}, which is not an image; expected one of "
            + ", ".join(MANIFEST_TYPES),
            registry=ref.registry,
            reference=str(ref),
        )

    @staticmethod
    def _mismatch(
        ref: Reference, identifier: str, what: str, expected: str, actual: str
    ) -> DigestMismatchError:
        return DigestMismatchError(
            f"{ref.registry}: {ref}: the manifest {identifier} hashes to {actual}, "
            f"not the {what} digest {expected}",
            expected=expected,
            actual=actual,
            source=str(ref),
        )

    def fetch_blob(self, ref: Reference, digest: str, size: int | None = None) -> Path:
        """The blob ``digest`` of ``ref``'s repository, from the cache or downloaded into it
        (verified against ``digest`` and ``size``; resumed if a pull was interrupted)."""
        repo = ref.repository
        session = self.session(ref.registry)

        def download(dest: Path) -> None:
            # a mismatch comes as the session words it: registry, blob URL, reference
            session.download(
                repo,
                f"/v2/{repo}/blobs/{digest}",
                str(dest),
                reference=str(ref),
                expected_digest=digest,
                expected_size=size,
            )

        return self.cache(ref).fetch(digest, download, size=size)

    def list_tags(self, ref: Reference) -> list[str]:
        """Every tag of ``ref``'s repository, following the ``Link`` header's pages."""
        repo = ref.repository
        session = self.session(ref.registry)
        path: str | None = f"/v2/{repo}/tags/list?n=1000"
        tags: list[str] = []
        for _ in range(_MAX_TAG_PAGES):
            if path is None:
                return tags
            response = session.request("GET", repo, path, reference=str(ref))
            where = f"{ref.registry}: {ref}: tags/list"
            try:
                doc = json.loads(response.body)
            except (ValueError, RecursionError) as exc:
                raise RegistryResponseError(
                    f"{where}: not JSON ({exc})", registry=ref.registry, reference=str(ref)
                ) from None
            page = doc.get("tags") if isinstance(doc, dict) else None
            if page is None:
                page = []
            if not isinstance(page, list) or not all(isinstance(t, str) for t in page):
                raise RegistryResponseError(
                    f"{where}: 'tags' is not a list of strings",
                    registry=ref.registry,
                    reference=str(ref),
                )
            tags += page
            path = _next_page(response.header("link"), where, ref)
        raise RegistryResponseError(
            f"{ref.registry}: {ref}: tags/list links more than {_MAX_TAG_PAGES} pages",
            registry=ref.registry,
            reference=str(ref),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _next_page(link: str | None, where: str, ref: Reference) -> str | None:
    """The path of a ``Link: <...>; rel="next"`` header (None: the last page).

    A link to another host is refused: the registry's pages are its own.
    """
    if not link:
        return None
    for part in link.split(","):
        target, _, params = part.partition(";")
        if 'rel="next"' not in params.replace(" ", "") and "rel=next" not in params.replace(
            " ", ""
        ):
            continue
        url = target.strip().strip("<>")
        parsed = urllib.parse.urlsplit(url)
        if parsed.netloc and parsed.netloc != ref.registry:
            raise RegistryResponseError(
                f"{where}: the next page is on another host ({parsed.netloc})",
                registry=ref.registry,
                reference=str(ref),
            )
        if not parsed.path.startswith("/v2/"):
            raise RegistryResponseError(
                f"{where}: the next page {url!r} is not under /v2/",
                registry=ref.registry,
                reference=str(ref),
            )
        return parsed.path + (f"?{parsed.query}" if parsed.query else "")
    return None
