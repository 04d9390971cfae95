"""What only a PostgreSQL catalog can get wrong: passwords, servers that are not there."""

from __future__ import annotations

import attrs
import pytest

import anchore
from anchore.catalog import Catalog, CatalogConnectionError, image_key

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


@pytest.mark.parametrize(
    ("url", "error"),
    [
        # a typo'd scheme: not a URL SQLAlchemy can parse
        ("postgresql ://bob:s3cret@127.0.0.1/db", "not a catalog URL"),
        # libpq takes the password as a query parameter too
        ("postgresql://bob@127.0.0.1:{port}/db?password=s3cret", "cannot open the catalog"),
        ("postgresql://bob:s3cret@127.0.0.1:notaport/db", "port"),
        # SQLAlchemy would silently open a relative x.db, host and user ignored
        ("sqlite://bob:s3cret@127.0.0.1/x.db", "sqlite:///PATH"),
        ("postgresql+nosuch://bob:s3cret@127.0.0.1/db", "not a catalog URL"),
        ("mysql://bob:s3cret@127.0.0.1/db", "not a catalog URL"),
    ],
)
def test_no_url_shows_its_password(url, error, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CatalogConnectionError, match=error) as err:
        Catalog(url.format(port=port))
    assert "s3cret" not in str(err.value) and "bob" in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_a_password_parameter_is_redacted_in_url_and_repr(postgres_server):
    database = postgres_server.create_database()
    url = postgres_server.url(database).replace(f":{postgres_server.password}@", "@")
    with Catalog(f"{url}?password={postgres_server.password}") as catalog:
        shown = catalog.url + repr(catalog)
        assert postgres_server.password not in shown and "password=***" in shown


@pytest.mark.corpus
def test_long_image_strings_store_as_on_sqlite(postgres_url, tmp_path, corpus):
    """Names, versions and tags come from the image (hostile ones included): a 600
    character tag and package name, a 400 character version store on PostgreSQL as on
    SQLite, and come back whole."""
    real = anchore.analyze(corpus / "debian-min.oci.tar")
    first = real.packages[0]
    long_package = attrs.evolve(first, name="p" * 600, version="1." + "9" * 398)
    analysis = attrs.evolve(
        real,
        image=attrs.evolve(real.image, tags=(*real.image.tags, "t" * 600)),
        packages=[long_package, *real.packages[1:]],
        timings={},
    )
    for url in (str(tmp_path / "c.db"), postgres_url):
        with Catalog(url) as catalog:
            catalog.add(analysis, names=["n" * 600])
            assert catalog.analysis("t" * 600) == analysis
            assert catalog.resolve("n" * 600) == image_key(analysis)
            assert {"t" * 600, "n" * 600} <= set(catalog.image(image_key(analysis)).names)
