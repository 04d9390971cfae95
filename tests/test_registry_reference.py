"""Image references parse as docker spells them (distribution/reference, ggcr pkg/name)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from anchore.registry import InvalidReferenceError, Reference, looks_like_reference, parse_reference

DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("text", "registry", "repository", "tag", "digest"),
    [
        ("python", "index.docker.io", "library/python", None, None),
        ("python:3.12", "index.docker.io", "library/python", "3.12", None),
        ("docker.io/python", "index.docker.io", "library/python", None, None),
        ("docker.io/library/python:3", "index.docker.io", "library/python", "3", None),
        ("registry-1.docker.io/bitnami/redis", "index.docker.io", "bitnami/redis", None, None),
        ("index.docker.io/a/b", "index.docker.io", "a/b", None, None),
        ("team/app", "index.docker.io", "team/app", None, None),
        ("registry.example.com/team/app:1.2", "registry.example.com", "team/app", "1.2", None),
        ("Registry.Example.COM/app", "registry.example.com", "app", None, None),
        ("localhost/app", "localhost", "app", None, None),
        ("localhost:5000/a/b/c", "localhost:5000", "a/b/c", None, None),
        ("127.0.0.1:5000/app:v1", "127.0.0.1:5000", "app", "v1", None),
        ("[::1]:5000/app", "[::1]:5000", "app", None, None),
        ("ghcr.io/o/r@" + DIGEST, "ghcr.io", "o/r", None, DIGEST),
        ("ghcr.io/o/r:t@" + DIGEST, "ghcr.io", "o/r", "t", DIGEST),
        ("docker://quay.io/a/b:x", "quay.io", "a/b", "x", None),
        ("a.b-c/x--y.z_w__q", "a.b-c", "x--y.z_w__q", None, None),
        ("app:" + "T" * 128, "index.docker.io", "library/app", "T" * 128, None),
        ("app@sha512:" + "ab" * 64, "index.docker.io", "library/app", None, "sha512:" + "ab" * 64),
    ],
)
def test_parses_as_docker_does(
    text: str, registry: str, repository: str, tag: str | None, digest: str | None
) -> None:
    ref = parse_reference(text)
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == (
        registry,
        repository,
        tag,
        digest,
    )
    assert ref.original == text


def test_identifier_name_and_full_form() -> None:
    plain = parse_reference("python")
    assert plain.identifier == "latest"
    assert plain.name == "index.docker.io/library/python"
    assert str(plain) == "index.docker.io/library/python"
    both = parse_reference("localhost:5000/a:1@" + DIGEST)
    assert both.identifier == DIGEST
    assert str(both) == "localhost:5000/a:1@" + DIGEST
    assert parse_reference("python:3.12").identifier == "3.12"


def test_default_registry_is_used_without_library() -> None:
    ref = parse_reference("app", default_registry="localhost:5000")
    assert (ref.registry, ref.repository) == ("localhost:5000", "app")


def test_original_is_not_part_of_equality() -> None:
    assert parse_reference("python") == parse_reference("docker.io/library/python")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("docker://", "empty"),
        ("Python", "lowercase"),
        ("example.com/Team/app", "lowercase"),
        ("a b", "whitespace"),
        ("app\t", "whitespace"),
        ("a//b", "empty path component"),
        ("example.com/", "repository name is empty"),
        ("example.com/a/", "empty path component"),
        (":tag", "repository name is empty"),
        ("app:", "tag ''"),
        ("app:-x", "tag '-x'"),
        ("app:" + "t" * 129, "tag"),
        ("app@", "algorithm:hex"),
        ("app@sha256:abc", "64 hex digits"),
        ("app@sha256:" + "A" * 64, "lowercase hex"),
        ("app@md5:" + "a" * 32, "'md5' is not one of"),
        ("app@" + DIGEST + "@" + DIGEST, "more than one '@'"),
        ("a-/b", "component 'a-'"),
        ("_a", "component '_a'"),
        ("a...b", "component 'a...b'"),
        ("exa_mple.com:5000/app", "registry host"),
        ("host:99999999/app", "registry host"),
        ("example.com/" + "a" * 250, "longer than 255"),
        ("café", "characters"),
    ],
)
def test_rejects_with_the_text_and_the_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidReferenceError) as caught:
        parse_reference(text)
    message = str(caught.value)
    assert repr(text) in message
    assert problem.replace("longer than 255", "more than 255") in message


def test_invalid_reference_is_a_value_error_naming_the_reference() -> None:
    with pytest.raises(ValueError) as caught:
        parse_reference("UPPER")
    assert isinstance(caught.value, InvalidReferenceError)
    assert caught.value.reference == "UPPER"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker://anything goes", True),
        ("python:3.12", True),
        ("registry.example.com/team/app:1.2", True),
        ("localhost:5000/app", True),
        ("/abs/path", False),
        ("./rel", False),
        ("../up", False),
        ("~/img", False),
        ("image.tar", False),
        ("image.tgz", False),
        ("image.tar.gz", False),
        ("image.tar.zst", False),
        ("sbom.json", False),
        ("report.xml", False),
        ("C:\\images\\x", False),
        ("Not A Reference", False),
    ],
)
def test_looks_like_reference(text: str, expected: bool) -> None:
    assert looks_like_reference(text) is expected


_component = st.from_regex(r"[a-z0-9]{1,5}(?:(?:[._]|__|-{1,2})[a-z0-9]{1,5}){0,2}", fullmatch=True)
_host = st.one_of(
    st.just("localhost"),
    st.from_regex(r"[a-z][a-z0-9]{0,6}\.(?:com|io|example)", fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9]{0,6}\.[a-z]{2,3}:[1-9][0-9]{0,4}", fullmatch=True),
)
_tag = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True)
_digest = st.from_regex(r"[0-9a-f]{64}", fullmatch=True).map(lambda h: f"sha256:{h}")


@given(
    host=st.none() | _host,
    path=st.lists(_component, min_size=1, max_size=3),
    tag=st.none() | _tag,
    digest=st.none() | _digest,
)
def test_round_trip(host: str | None, path: list[str], tag: str | None, digest: str | None) -> None:
    # without a host, a first component with a '.' would be read as one (docker's rule)
    assume(host is not None or "." not in path[0])
    text = "/".join(path)
    if host is not None:
        text = f"{host}/{text}"
    if tag is not None:
        text += f":{tag}"
    if digest is not None:
        text += f"@{digest}"
    ref = parse_reference(text)
    assert isinstance(ref, Reference)
    assert (ref.tag, ref.digest) == (tag, digest)
    assert ref.repository.endswith("/".join(path))
    again = parse_reference(str(ref))
    assert again == ref
    assert str(again) == str(ref)
    assert looks_like_reference(text)
