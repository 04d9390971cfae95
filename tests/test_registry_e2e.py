"""The registry proof: images pulled from a real registry on loopback (Debian's
docker-registry, pushed with skopeo from the corpus) read as the archives do.

The first tests check the servers themselves (so a failure below is the client's,
not the fixture's); the rest pull through ``anchore.open_image``.
"""

from __future__ import annotations

import base64
import http.client
import json
import ssl
import urllib.parse
from typing import TYPE_CHECKING

import attrs
import pytest

if TYPE_CHECKING:
    from registry_server import Registry

pytest_plugins = ["registry_server"]  # the registry fixtures, started once per session
pytestmark = pytest.mark.corpus

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
ACCEPT = ", ".join(
    [
        DOCKER_MANIFEST,
        OCI_MANIFEST,
        OCI_INDEX,
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def _get(
    registry: Registry, path: str, headers: dict[str, str] | None = None, port: str | None = None
) -> http.client.HTTPResponse:
    host, default_port = registry.host.split(":")
    if registry.scheme == "https":
        context = ssl.create_default_context(cafile=registry.ca_bundle)
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, int(port or default_port), timeout=10, context=context
        )
    else:
        conn = http.client.HTTPConnection(host, int(port or default_port), timeout=10)
    conn.request("GET", path, headers=headers or {})
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


# -- the servers, checked without anchore ------------------------------------------------


def test_plain_registry_holds_docker_and_oci_manifests_and_an_index(
    registry_plain: Registry,
) -> None:
    kinds = {}
    for name in ("corpus/debian-py:1", "corpus/debian-py:oci", "corpus/multi:1"):
        repo, tag = name.split(":")
        answer = _get(registry_plain, f"/v2/{repo}/manifests/{tag}", {"Accept": ACCEPT})
        assert answer.status == 200, name
        assert answer.headers["Docker-Content-Digest"] == registry_plain.digests[name]
        kinds[name] = answer.headers["Content-Type"]
    assert kinds == {
        "corpus/debian-py:1": DOCKER_MANIFEST,
        "corpus/debian-py:oci": OCI_MANIFEST,
        "corpus/multi:1": OCI_INDEX,
    }


def test_tls_registry_wants_its_ca_and_basic_credentials(registry_tls: Registry) -> None:
    user, password = registry_tls.username or "", registry_tls.password or ""
    assert _get(registry_tls, "/v2/").status == 401
    assert _get(registry_tls, "/v2/", {"Authorization": _basic(user, password)}).status == 200
    assert _get(registry_tls, "/v2/", {"Authorization": _basic(user, "wrong")}).status == 401
    untrusted = attrs.evolve(registry_tls, ca_bundle=None)
    with pytest.raises(ssl.SSLCertVerificationError):
        _get(untrusted, "/v2/")


def test_token_registry_accepts_the_token_servers_jwt(registry_token: Registry) -> None:
    tokens = registry_token.token_server
    assert tokens is not None
    user, password = registry_token.username or "", registry_token.password or ""
    challenge = _get(registry_token, "/v2/corpus/debian-min/manifests/1", {"Accept": ACCEPT})
    assert challenge.status == 401
    assert f'realm="{tokens.realm}"' in challenge.headers["WWW-Authenticate"]
    realm = urllib.parse.urlsplit(tokens.realm)
    query = urllib.parse.urlencode(
        {"service": "anchore-test-registry", "scope": "repository:corpus/debian-min:pull"}
    )
    conn = http.client.HTTPConnection(realm.hostname, realm.port, timeout=10)
    conn.request("GET", f"{realm.path}?{query}", headers={"Authorization": _basic(user, password)})
    token = json.loads(conn.getresponse().read())["token"]
    form = urllib.parse.urlencode(
        {
            "grant_type": "password",
            "username": user,
            "password": password,
            "service": "anchore-test-registry",
            "scope": "repository:corpus/debian-min:pull",
            "client_id": "test",
        }
    )
    conn.request("POST", realm.path, body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    posted = json.loads(conn.getresponse().read())["access_token"]
    conn.request("GET", f"{realm.path}?{query}", headers={"Authorization": _basic(user, "no")})
    refused = conn.getresponse()
    refused.read()
    conn.close()
    assert refused.status == 401
    for jwt in (token, posted):
        answer = _get(
            registry_token,
            "/v2/corpus/debian-min/manifests/1",
            {"Accept": ACCEPT, "Authorization": f"Bearer {jwt}"},
        )
        assert answer.status == 200
    anonymous = tokens.token("", [])
    denied = _get(
        registry_token,
        "/v2/corpus/debian-min/manifests/1",
        {"Accept": ACCEPT, "Authorization": f"Bearer {anonymous}"},
    )
    assert denied.status == 401
