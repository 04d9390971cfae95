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


def test_defaults_are_the_safe_ones() -> None:
    options = registry_options(_args(REF), environ={})
    assert options.verify_tls and options.ca_bundle is None and not options.insecure_registries
    assert not registry_options(_args(REF, "--insecure-skip-tls-verify"), environ={}).verify_tls


def test_username_and_password_stdin_are_for_the_images_registry(monkeypatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("pa ss\n"))
    options = registry_options(_args(REF, "--username", "ci", "--password-stdin"), environ={})
    creds = options.credentials["127.0.0.1:5000"]
    assert (creds.username, creds.password, creds.origin) == ("ci", "pa ss", "--username")
    assert "pa ss" not in repr(options)


def test_docker_hub_short_names_get_hubs_credentials() -> None:
    env = {"ANCHORE_REGISTRY_USERNAME": "ci", "ANCHORE_REGISTRY_PASSWORD": "tok"}
    options = registry_options(_args("python:3.12"), environ=env)
    assert options.credentials["index.docker.io"].password == "tok"
    assert options.credentials["index.docker.io"].origin == "$ANCHORE_REGISTRY_USERNAME"


def test_credential_mistakes_are_refused(tmp_path: Path, monkeypatch) -> None:
    with pytest.raises(UsageError, match="needs a password"):
        registry_options(_args(REF, "--username", "ci"), environ={})
    with pytest.raises(UsageError, match="give --username"):
        registry_options(_args(REF, "--password-stdin"), environ={})
    with pytest.raises(CredentialError, match="ANCHORE_REGISTRY_PASSWORD is not"):
        registry_options(_args(REF), environ={"ANCHORE_REGISTRY_USERNAME": "ci"})
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


def test_one_password_is_not_given_to_two_registries() -> None:
    env = {"ANCHORE_REGISTRY_USERNAME": "ci", "ANCHORE_REGISTRY_PASSWORD": "tok"}
    args = _args(REF)
    with pytest.raises(UsageError, match="one registry; the images are on 127.0.0.1:5000, "
                       "index.docker.io"):  # fmt: skip
        registry_options(args, environ=env, images=[REF, "python:3.12"])
    same = registry_options(args, environ=env, images=[REF, "127.0.0.1:5000/base:1"])
    assert set(same.credentials) == {"127.0.0.1:5000"}
