"""The command line's registry options, as the RegistryOptions they become (no registry
needed: the pulls they steer are tests/test_registry_e2e.py's)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from anchore.cli import build_parser, main
from anchore.cli.common import UsageError, registry_options
from anchore.errors import ExitCode
from anchore.registry import CredentialError

REF = "127.0.0.1:5000/team/app:1.2"


def _args(*argv: str):
    return build_parser().parse_args(["analyze", *argv])


def test_registry_options_from_the_command_line(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    auth = tmp_path / "auth.json"
    auth.write_text("{}")
    args = _args(
        REF,
        "--ca-bundle", str(ca),
        "--registry-auth", str(auth),
        "--insecure-registry", "registry.lan:5000",
        "--insecure-registry", "other.lan",
        "--cache-dir", str(tmp_path / "cache"),
    )  # fmt: skip
    options = registry_options(args, environ={})
    assert options.ca_bundle == str(ca)
    assert options.auth_file == str(auth)
    assert options.insecure_registries == {"registry.lan:5000", "other.lan"}
    assert options.cache_path() == tmp_path / "cache"
    assert options.verify_tls and not options.credentials


def test_defaults_are_the_safe_ones(capsys) -> None:
    options = registry_options(_args(REF), environ={})
    assert options.verify_tls and options.ca_bundle is None and not options.insecure_registries
    assert not capsys.readouterr().err
    assert not registry_options(_args(REF, "--insecure-skip-tls-verify"), environ={}).verify_tls


def test_skipping_tls_verification_is_said_on_stderr_naming_the_registries(capsys) -> None:
    registry_options(_args(REF, "--insecure-skip-tls-verify"), environ={})
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "--insecure-skip-tls-verify" in lines[0] and "127.0.0.1:5000" in lines[0]
    assert "not verified" in lines[0]
    images = [REF, "python:3.12"]
    registry_options(_args(REF, "--insecure-skip-tls-verify"), environ={}, images=images)
    assert "127.0.0.1:5000, index.docker.io" in capsys.readouterr().err


def test_username_and_password_stdin_are_for_the_images_registry(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pa ss\n"))
    options = registry_options(_args(REF, "--username", "ci", "--password-stdin"), environ={})
    creds = options.credentials["127.0.0.1:5000"]
    assert (creds.username, creds.password, creds.origin) == ("ci", "pa ss", "--username")
    assert "pa ss" not in repr(options)


def test_environment_credentials_never_go_to_another_registry(capsys) -> None:
    # set for a private registry in CI; a later step reads python:3.12 from Docker Hub
    env = {
        "ANCHORE_REGISTRY_USERNAME": "ci",
        "ANCHORE_REGISTRY_PASSWORD": "private-secret",
        "ANCHORE_REGISTRY_HOST": "127.0.0.1:5000",
    }
    options = registry_options(_args("python:3.12"), environ=env)
    assert not options.credentials
    assert "private-secret" not in repr(options)
    note = capsys.readouterr().err
    assert "for 127.0.0.1:5000" in note and "index.docker.io" in note and "not used" in note
    mine = registry_options(_args(REF), environ=env).credentials
    assert mine["127.0.0.1:5000"].password == "private-secret"
    assert mine["127.0.0.1:5000"].origin == "$ANCHORE_REGISTRY_USERNAME"


def test_environment_credentials_without_their_host_are_refused() -> None:
    env = {"ANCHORE_REGISTRY_USERNAME": "ci", "ANCHORE_REGISTRY_PASSWORD": "tok"}
    for image in ("python:3.12", REF):
        with pytest.raises(CredentialError, match="ANCHORE_REGISTRY_HOST is not"):
            registry_options(_args(image), environ=env)


def test_the_host_variable_names_docker_hub_as_references_do() -> None:
    for host in ("docker.io", "index.docker.io", "registry-1.docker.io"):
        env = {
            "ANCHORE_REGISTRY_USERNAME": "ci",
            "ANCHORE_REGISTRY_PASSWORD": "tok",
            "ANCHORE_REGISTRY_HOST": host,
        }
        options = registry_options(_args("python:3.12"), environ=env)
        assert options.credentials["index.docker.io"].password == "tok"
    for bad in ("https://registry.example.com", "registry.example.com/team", "myregistry"):
        env["ANCHORE_REGISTRY_HOST"] = bad
        with pytest.raises(UsageError, match="not a registry host"):
            registry_options(_args(REF), environ=env)


def test_credential_mistakes_are_refused(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(UsageError, match="needs a password"):
        registry_options(_args(REF, "--username", "ci"), environ={})
    with pytest.raises(UsageError, match="give --username"):
        registry_options(_args(REF, "--password-stdin"), environ={})
    with pytest.raises(CredentialError, match="ANCHORE_REGISTRY_PASSWORD is not"):
        env = {"ANCHORE_REGISTRY_USERNAME": "ci", "ANCHORE_REGISTRY_HOST": "127.0.0.1:5000"}
        registry_options(_args(REF), environ=env)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    with pytest.raises(UsageError, match="empty"):
        registry_options(_args(REF, "--username", "ci", "--password-stdin"), environ={})
    archive = tmp_path / "image.tar"
    archive.write_bytes(b"")
    with pytest.raises(UsageError, match="not an image reference"):
        registry_options(_args(str(archive), "--username", "ci"), environ={})
    # the environment's credentials are for registries; a file ignores them
    env = {"ANCHORE_REGISTRY_USERNAME": "ci", "ANCHORE_REGISTRY_PASSWORD": "x"}
    assert not registry_options(_args(str(archive)), environ=env).credentials
    with pytest.raises(UsageError, match="--ca-bundle .*: no such file"):
        registry_options(_args(REF, "--ca-bundle", str(tmp_path / "none.pem")), environ={})


def test_a_missing_ca_bundle_is_a_usage_error_on_the_command_line(tmp_path: Path, capsys) -> None:
    code = main(["analyze", REF, "--ca-bundle", str(tmp_path / "none.pem")])
    assert code == ExitCode.USAGE_ERROR
    assert "--ca-bundle" in capsys.readouterr().err


def test_one_password_is_not_given_to_two_registries(monkeypatch) -> None:
    args = _args(REF, "--username", "ci", "--password-stdin")
    monkeypatch.setattr("sys.stdin", io.StringIO("tok\n"))
    with pytest.raises(UsageError, match="one registry; the images are on 127.0.0.1:5000, "
                       "index.docker.io"):  # fmt: skip
        registry_options(args, environ={}, images=[REF, "python:3.12"])
    same = registry_options(args, environ={}, images=[REF, "127.0.0.1:5000/base:1"])
    assert set(same.credentials) == {"127.0.0.1:5000"}
    # the environment's credentials go to their host's images only, with others beside
    env = {
        "ANCHORE_REGISTRY_USERNAME": "ci",
        "ANCHORE_REGISTRY_PASSWORD": "tok",
        "ANCHORE_REGISTRY_HOST": "127.0.0.1:5000",
    }
    both = registry_options(_args(REF), environ=env, images=[REF, "python:3.12"])
    assert set(both.credentials) == {"127.0.0.1:5000"}
