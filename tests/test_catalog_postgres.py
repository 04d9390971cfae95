"""What only a PostgreSQL catalog can get wrong: passwords, servers that are not there."""

from __future__ import annotations

import pytest

from anchore.catalog import Catalog, CatalogConnectionError

pytest_plugins = ["postgres_server"]


def test_wrong_password_is_a_connection_error_without_the_password(postgres_server):
    url = postgres_server.url(postgres_server.create_database(), password="Sekr1t-wrong")
    with pytest.raises(CatalogConnectionError) as err:
        Catalog(url)
    message = str(err.value)
    assert "Sekr1t-wrong" not in message and "password authentication failed" in message
    assert f"anchore:***@127.0.0.1:{postgres_server.port}" in message


def test_the_url_is_redacted(postgres_url, postgres_server):
    with Catalog(postgres_url) as catalog:
        assert catalog.dialect == "postgresql"
        assert postgres_server.password not in catalog.url + repr(catalog)
        assert catalog.url.startswith("postgresql://anchore:***@127.0.0.1:")


def test_no_server_is_a_connection_error():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CatalogConnectionError, match=rf"anchore:\*\*\*@127.0.0.1:{port}/x"):
        Catalog(f"postgresql://anchore:pw@127.0.0.1:{port}/x")
