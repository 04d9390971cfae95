"""The keychain reads real config files and runs real credential helpers (scripts on PATH)."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

import pytest

from anchore.registry import CredentialError, Credentials, Keychain, RegistryOptions


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def bindir(tmp_path: Path) -> Path:
    path = tmp_path / "bin"
    path.mkdir()
    return path


def _env(home: Path, bindir: Path, **extra: str) -> dict[str, str]:
    return {"HOME": str(home), "PATH": f"{bindir}:/usr/bin:/bin", **extra}


def _write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _helper(bindir: Path, name: str, script: str) -> Path:
    """A real docker-credential-<name> executable; it logs its stdin to <name>.log."""
    path = bindir / f"docker-credential-{name}"
    log = bindir / f"{name}.log"
    path.write_text(f'#!/bin/bash\nread -r host\necho "$1 $host" >> {log}\n{script}\n')
    path.chmod(0o755)
    return path


def _keychain(env: dict[str, str], **options: object) -> Keychain:
    return Keychain(RegistryOptions(environ=env, **options))  # type: ignore[arg-type]


def test_docker_config_auth_base64(home: Path, bindir: Path) -> None:
    config = _write(
        home / ".docker" / "config.json",
        {"auths": {"registry.example.com": {"auth": _auth("alice", "s3:cret")}}},
    )
    creds = _keychain(_env(home, bindir)).resolve("registry.example.com")
    assert creds is not None
    assert (creds.username, creds.password, creds.origin) == ("alice", "s3:cret", str(config))
    assert "s3:cret" not in repr(creds)


def test_username_password_and_identity_token(home: Path, bindir: Path) -> None:
    _write(
        home / ".docker" / "config.json",
        {
            "auths": {
                "a.example": {"username": "bob", "password": "pw"},
                "b.example": {"auth": _auth("carol", ""), "identitytoken": "refresh-1"},
            }
        },
    )
    keychain = _keychain(_env(home, bindir))
    a = keychain.resolve("a.example")
    b = keychain.resolve("b.example")
    assert a is not None and (a.username, a.password) == ("bob", "pw")
    assert b is not None and (b.username, b.identity_token) == ("carol", "refresh-1")
    assert keychain.resolve("c.example") is None


def test_keys_with_scheme_and_path_and_port(home: Path, bindir: Path) -> None:
    _write(
        home / ".docker" / "config.json",
        {
            "auths": {
                "https://reg.example:5000/v2/": {"auth": _auth("u1", "p1")},
                "http://other.example/": {"auth": _auth("u2", "p2")},
            }
        },
    )
    keychain = _keychain(_env(home, bindir))
    found = keychain.resolve("reg.example:5000")
    assert found is not None and found.username == "u1"
    assert keychain.resolve("reg.example") is None  # another port is another registry
    other = keychain.resolve("OTHER.example")
    assert other is not None and other.username == "u2"


@pytest.mark.parametrize("key", ["https://index.docker.io/v1/", "docker.io", "index.docker.io"])
def test_docker_hub_keys(home: Path, bindir: Path, key: str) -> None:
    _write(home / ".docker" / "config.json", {"auths": {key: {"auth": _auth("hub", "pw")}}})
    for registry in ("index.docker.io", "docker.io", "registry-1.docker.io"):
        creds = _keychain(_env(home, bindir)).resolve(registry)
        assert creds is not None and creds.username == "hub", (key, registry)


def test_search_order(home: Path, bindir: Path, tmp_path: Path) -> None:
    """podman's order (containers/image pkg/docker/config): $REGISTRY_AUTH_FILE instead
    of the two podman files, else $XDG_RUNTIME_DIR's then $XDG_CONFIG_HOME's
    auth.json; docker's config.json last."""
    runtime = tmp_path / "run"
    docker_config = tmp_path / "dockercfg"
    explicit = tmp_path / "explicit.json"
    config_home = tmp_path / "xdgconfig"
    host = "r.example"
    files = {
        "registry_auth_file": explicit,
        "podman_runtime": runtime / "containers" / "auth.json",
        "docker_config": docker_config / "config.json",
        "podman_config": config_home / "containers" / "auth.json",
    }

    def write_all() -> None:
        for name, path in files.items():
            _write(path, {"auths": {host: {"auth": _auth(name, "pw")}}})

    write_all()
    _write(home / ".docker" / "config.json", {"auths": {host: {"auth": _auth("home", "pw")}}})
    env = _env(
        home,
        bindir,
        REGISTRY_AUTH_FILE=str(explicit),
        XDG_RUNTIME_DIR=str(runtime),
        DOCKER_CONFIG=str(docker_config),
        XDG_CONFIG_HOME=str(config_home),
    )
    for expected in ["registry_auth_file", "docker_config"]:
        creds = _keychain(env).resolve(host)
        assert creds is not None and creds.username == expected
        files[expected].unlink()
    assert _keychain(env).resolve(host) is None  # the podman files are not read with it
    write_all()
    del env["REGISTRY_AUTH_FILE"]
    for expected in ["podman_runtime", "podman_config", "docker_config"]:
        creds = _keychain(env).resolve(host)
        assert creds is not None and creds.username == expected
        files[expected].unlink()
    assert _keychain(env).resolve(host) is None  # ~/.docker is not read when DOCKER_CONFIG is set
    del env["DOCKER_CONFIG"]
    creds = _keychain(env).resolve(host)
    assert creds is not None and creds.username == "home"


def test_a_file_without_the_host_passes_to_the_next(
    home: Path, bindir: Path, tmp_path: Path
) -> None:
    runtime = tmp_path / "run"
    _write(runtime / "containers" / "auth.json", {"auths": {"other.example": {}}})
    _write(home / ".docker" / "config.json", {"auths": {"r.example": {"auth": _auth("d", "p")}}})
    creds = _keychain(_env(home, bindir, XDG_RUNTIME_DIR=str(runtime))).resolve("r.example")
    assert creds is not None and creds.username == "d"


def test_given_credentials_come_first(home: Path, bindir: Path) -> None:
    _write(home / ".docker" / "config.json", {"auths": {"r.example": {"auth": _auth("f", "p")}}})
    given = Credentials("given", "pw", origin="caller")
    keychain = _keychain(_env(home, bindir), credentials={"r.example": given})
    assert keychain.resolve("r.example") is given
    assert keychain.resolve("R.EXAMPLE") is given


def test_auth_file_option_replaces_the_search(home: Path, bindir: Path, tmp_path: Path) -> None:
    _write(home / ".docker" / "config.json", {"auths": {"r.example": {"auth": _auth("h", "p")}}})
    chosen = _write(tmp_path / "mine.json", {"auths": {"r.example": {"auth": _auth("mine", "p")}}})
    creds = _keychain(_env(home, bindir), auth_file=str(chosen)).resolve("r.example")
    assert creds is not None and creds.username == "mine"
    empty = _write(tmp_path / "empty.json", {})
    assert _keychain(_env(home, bindir), auth_file=str(empty)).resolve("r.example") is None


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "not a JSON object"),
        ('{"auths": []}', "'auths' is not an object"),
        ('{"auths": {"r.example": {"auth": "%%%"}}}', "not base64"),
        ('{"auths": {"r.example": {"auth": "bm9jb2xvbg=="}}}', "user:password"),
        ('{"auths": {"r.example": {"username": 5}}}', "'username' is not a string"),
        ('{"credsStore": 1}', "'credsStore' is not a string"),
    ],
)
def test_malformed_file_names_it(home: Path, bindir: Path, content: str, problem: str) -> None:
    config = home / ".docker" / "config.json"
    config.parent.mkdir()
    config.write_text(content)
    with pytest.raises(CredentialError) as caught:
        _keychain(_env(home, bindir)).resolve("r.example")
    assert str(config) in str(caught.value)
    assert problem in str(caught.value)


def test_cred_helper_then_store_then_auths(home: Path, bindir: Path) -> None:
    """docker's GetCredentialsStore: credHelpers[host], else credsStore when set (a stale
    auths entry left from before Docker Desktop is not used), else auths. A helper that
    holds nothing means anonymous for that file, not its auths entry."""
    _helper(bindir, "pass", 'echo \'{"ServerURL":"x","Username":"from-pass","Secret":"s1"}\'')
    _helper(bindir, "store", 'echo \'{"ServerURL":"x","Username":"from-store","Secret":"s2"}\'')
    _helper(bindir, "empty", "echo credentials not found in native keychain; exit 1")
    _write(
        home / ".docker" / "config.json",
        {
            "credHelpers": {"helped.example": "pass", "nothing.example": "empty"},
            "auths": {
                "helped.example": {"auth": _auth("file", "p")},
                "stale.example": {"auth": _auth("stale", "p")},
                "nothing.example": {"auth": _auth("file", "p")},
            },
            "credsStore": "store",
        },
    )
    keychain = _keychain(_env(home, bindir))
    helped = keychain.resolve("helped.example")
    assert helped is not None and (helped.username, helped.password) == ("from-pass", "s1")
    assert helped.origin == "docker-credential-pass"
    stale = keychain.resolve("stale.example")
    assert stale is not None and stale.username == "from-store"
    assert keychain.resolve("nothing.example") is None
    assert (bindir / "pass.log").read_text() == "get helped.example\n"
    assert (bindir / "store.log").read_text() == "get stale.example\n"
    assert "docker-credential-pass (credential helper)" in keychain.searched()
    _write(
        home / ".docker" / "config.json", {"auths": {"filed.example": {"auth": _auth("f", "p")}}}
    )
    filed = _keychain(_env(home, bindir)).resolve("filed.example")
    assert filed is not None and filed.username == "f"  # no store: the file's entry


def test_placeholder_entry_defers_to_the_store(home: Path, bindir: Path) -> None:
    _helper(bindir, "desktop", 'echo \'{"Username":"hub-user","Secret":"pat"}\'')
    _write(
        home / ".docker" / "config.json",
        {"auths": {"https://index.docker.io/v1/": {}}, "credsStore": "desktop"},
    )
    creds = _keychain(_env(home, bindir)).resolve("index.docker.io")
    assert creds is not None and (creds.username, creds.password) == ("hub-user", "pat")
    # docker's helpers know Docker Hub by its v1 URL
    assert (bindir / "desktop.log").read_text() == "get https://index.docker.io/v1/\n"


def test_helper_identity_token(home: Path, bindir: Path) -> None:
    _helper(bindir, "tok", 'echo \'{"Username":"<token>","Secret":"refresh-xyz"}\'')
    _write(home / ".docker" / "config.json", {"credHelpers": {"r.example": "tok"}})
    creds = _keychain(_env(home, bindir)).resolve("r.example")
    assert creds is not None
    assert (creds.username, creds.password, creds.identity_token) == ("", "", "refresh-xyz")


def test_helper_not_found_is_anonymous(home: Path, bindir: Path) -> None:
    _helper(bindir, "none", "echo 'credentials not found in native keychain'; exit 1")
    _write(home / ".docker" / "config.json", {"credsStore": "none"})
    keychain = _keychain(_env(home, bindir))
    assert keychain.resolve("r.example") is None
    assert keychain.resolve("r.example") is None
    assert (bindir / "none.log").read_text().count("\n") == 1  # cached per host


@pytest.mark.parametrize(
    ("script", "problem"),
    [
        ("echo 'secret-ish failure' >&2; exit 3", "failed (exit status 3): secret-ish failure"),
        ("echo 'this is not json'", "answered something other than"),
        ("echo '[1, 2]'", "answered something other than"),
        ('echo \'{"Username": 1, "Secret": "x"}\'', "answered something other than"),
    ],
)
def test_helper_failures_name_the_helper(
    home: Path, bindir: Path, script: str, problem: str
) -> None:
    _helper(bindir, "bad", script)
    _write(home / ".docker" / "config.json", {"credHelpers": {"r.example": "bad"}})
    with pytest.raises(CredentialError) as caught:
        _keychain(_env(home, bindir)).resolve("r.example")
    assert "docker-credential-bad" in str(caught.value)
    assert problem in str(caught.value)


def test_helper_that_hangs_is_killed(home: Path, bindir: Path) -> None:
    pidfile = bindir / "sleep.pid"
    # the sleep is a child of the shell and holds its pipes: the whole group must go
    _helper(bindir, "hang", f"sleep 60 & echo $! > {pidfile}; wait")
    _write(home / ".docker" / "config.json", {"credHelpers": {"r.example": "hang"}})
    started = time.monotonic()
    with pytest.raises(CredentialError) as caught:
        _keychain(_env(home, bindir), helper_timeout=0.5).resolve("r.example")
    assert time.monotonic() - started < 10
    assert "docker-credential-hang did not answer within 0.5 s" in str(caught.value)
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"the helper's child {pid} outlived the timeout")


def test_missing_helper(home: Path, bindir: Path) -> None:
    _write(home / ".docker" / "config.json", {"credsStore": "nonexistent-xyz"})
    with pytest.raises(CredentialError, match="docker-credential-nonexistent-xyz is not on PATH"):
        _keychain(_env(home, bindir)).resolve("r.example")


def test_searched_lists_the_places(home: Path, bindir: Path, tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    env = _env(home, bindir, XDG_RUNTIME_DIR=str(runtime))
    keychain = _keychain(env)
    assert keychain.resolve("r.example") is None
    places = keychain.searched()
    assert places[0].startswith("credentials passed in")
    assert f"{runtime}/containers/auth.json (absent)" in places
    assert f"{home}/.docker/config.json (absent)" in places
    assert f"{home}/.config/containers/auth.json (absent)" in places


def test_docker_hub_aliases_are_one_list(home: Path, bindir: Path) -> None:
    """reference, session and keychain share DOCKER_HUB_ALIASES (review A #14): every
    alias is one session and finds the credentials docker keeps for Docker Hub."""
    from anchore.registry import RegistrySession
    from anchore.registry.reference import DOCKER_HUB, DOCKER_HUB_ALIASES, parse_reference

    _write(
        home / ".docker" / "config.json",
        {"auths": {"https://index.docker.io/v1/": {"auth": _auth("hub", "pw")}}},
    )
    assert {"docker.io", "index.docker.io", "registry-1.docker.io"} == DOCKER_HUB_ALIASES
    for alias in sorted(DOCKER_HUB_ALIASES):
        assert parse_reference(f"{alias}/library/alpine:3").registry == DOCKER_HUB
        assert RegistrySession(alias.upper(), options=RegistryOptions()).registry == DOCKER_HUB
        creds = _keychain(_env(home, bindir)).resolve(alias)
        assert creds is not None and creds.username == "hub"
