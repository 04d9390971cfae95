"""Where credentials come from, as docker, podman and go-containerregistry look for them.

docs/credentials.md describes the search for users; the code reads the files
(:mod:`json`) and runs the helpers (:mod:`subprocess`), nothing else.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from anchore.registry.errors import CredentialError
from anchore.registry.options import Credentials, RegistryOptions
from anchore.registry.reference import DOCKER_HUB, DOCKER_HUB_ALIASES

__all__ = ["Keychain"]

#: what docker and the helpers call Docker Hub: the first is the helpers' server URL
_HUB_KEYS = (
    "https://index.docker.io/v1/",
    DOCKER_HUB,
    *sorted(DOCKER_HUB_ALIASES - {DOCKER_HUB}),
)
#: a helper's answer when it holds nothing for the host (docker-credential-helpers)
_NOT_FOUND = "credentials not found"
#: the Username a helper answers when Secret is an identity (refresh) token
_TOKEN_USER = "<token>"
#: the largest auth file read
_MAX_FILE = 4 * 1024 * 1024


def _normalise_key(key: str) -> str:
    """``https://host/v1/`` -> ``host``, as docker's ``ConvertToHostname``; lowercased."""
    host = key.strip()
    for scheme in ("https://", "http://"):
        if host.lower().startswith(scheme):
            host = host[len(scheme) :]
            break
    return host.split("/", 1)[0].lower()


def _is_hub(registry: str) -> bool:
    return _normalise_key(registry) in DOCKER_HUB_ALIASES


class Keychain:
    """Credentials for a registry host, looked up in this order:

    1. ``RegistryOptions.credentials`` (given by the caller);
    2. the auth file ``RegistryOptions.auth_file`` if set, else in podman's order
       ``$REGISTRY_AUTH_FILE`` (or, when not set, ``$XDG_RUNTIME_DIR/containers/auth.json``
       and ``~/.config/containers/auth.json``), then ``$DOCKER_CONFIG/config.json`` or
       ``~/.docker/config.json``: the first that exists and names the host;
       in one file, as docker: ``credHelpers[host]``, else ``credsStore`` when set,
       else ``auths[host]`` (``auth`` base64 ``user:password``, or
       ``username``/``password``, ``identitytoken``); Docker Hub is looked up as
       ``https://index.docker.io/v1/`` too, and keys may carry a scheme or path (``https://host/v1/``);
    3. none: anonymous.

    A helper is run as ``docker-credential-<name> get`` with the host on stdin,
    within ``helper_timeout``; its "credentials not found" answer means none, any
    other failure is a :class:`CredentialError` naming the helper. A malformed file
    is a :class:`CredentialError` naming it. Results are cached per host.
    """

    def __init__(self, options: RegistryOptions | None = None) -> None:
        self._options = options or RegistryOptions()
        self._env = self._options.env()
        self._lock = threading.Lock()
        self._cache: dict[str, Credentials | None] = {}
        self._searched: list[str] = []

    def resolve(self, registry: str) -> Credentials | None:
        """The credentials for ``registry`` (``host`` or ``host:port``), or None."""
        host = _normalise_key(registry)
        with self._lock:
            if host in self._cache:
                return self._cache[host]
            found = self._lookup(host)
            self._cache[host] = found
            return found

    def searched(self) -> list[str]:
        """Where :meth:`resolve` looked (files and helpers), for a RegistryAuthError message."""
        with self._lock:
            if self._searched:
                return list(self._searched)
        places = ["credentials passed in (RegistryOptions.credentials)"]
        places += [self._describe(path) for path in self._files()]
        return places

    # -- the search -------------------------------------------------------

    def _note(self, place: str) -> None:
        if place not in self._searched:
            self._searched.append(place)

    def _lookup(self, host: str) -> Credentials | None:
        self._note("credentials passed in (RegistryOptions.credentials)")
        given = self._given(host)
        if given is not None:
            return given
        for path in self._files():
            self._note(self._describe(path))
            if not path.is_file():
                continue
            found = self._from_file(path, host)
            if found is not None:
                return found
        return None

    def _given(self, host: str) -> Credentials | None:
        for key, creds in self._options.credentials.items():
            if _normalise_key(key) == host or (_is_hub(key) and _is_hub(host)):
                return creds
        return None

    def _home(self) -> Path:
        home = self._env.get("HOME")
        return Path(home) if home else Path.home()

    def _files(self) -> list[Path]:
        """The auth files in the order they are consulted (existing or not)."""
        if self._options.auth_file:
            return [Path(self._options.auth_file)]
        env = self._env
        files: list[Path] = []
        # podman's order (containers/image pkg/docker/config getAuthFilePaths):
        # $REGISTRY_AUTH_FILE replaces both podman files; docker's file comes last
        if env.get("REGISTRY_AUTH_FILE"):
            files.append(Path(env["REGISTRY_AUTH_FILE"]))
        else:
            if env.get("XDG_RUNTIME_DIR"):
                files.append(Path(env["XDG_RUNTIME_DIR"]) / "containers" / "auth.json")
            config_home = env.get("XDG_CONFIG_HOME")
            base = Path(config_home) if config_home else self._home() / ".config"
            files.append(base / "containers" / "auth.json")
        if env.get("DOCKER_CONFIG"):
            files.append(Path(env["DOCKER_CONFIG"]) / "config.json")
        else:
            files.append(self._home() / ".docker" / "config.json")
        return files

    def _describe(self, path: Path) -> str:
        if path.is_file():
            return str(path)
        return f"{path} (absent)"

    # -- one file ---------------------------------------------------------

    def _read(self, path: Path) -> dict[str, Any]:
        try:
            with path.open("rb") as f:
                raw = f.read(_MAX_FILE + 1)
        except OSError as e:
            raise CredentialError(f"cannot read the auth file {path}: {e.strerror or e}") from e
        if len(raw) > _MAX_FILE:
            raise CredentialError(f"the auth file {path} is larger than {_MAX_FILE} bytes")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as e:
            raise CredentialError(f"the auth file {path} is not valid JSON: {e}") from e
        if not isinstance(data, dict):
            raise CredentialError(f"the auth file {path} is not a JSON object")
        for member in ("auths", "credHelpers"):
            if not isinstance(data.get(member, {}), dict):
                raise CredentialError(f"the auth file {path}: {member!r} is not an object")
        store = data.get("credsStore", "")
        if not isinstance(store, str):
            raise CredentialError(f"the auth file {path}: 'credsStore' is not a string")
        return data

    def _keys_for(self, host: str) -> tuple[str, ...]:
        return _HUB_KEYS if _is_hub(host) else (host,)

    def _entry(self, table: Mapping[str, Any], host: str) -> tuple[str, Any] | None:
        """The value ``table`` holds for ``host``: an exact key first, then a key that
        normalises to it (a scheme or path around the host)."""
        keys = self._keys_for(host)
        for key in keys:
            if key in table:
                return key, table[key]
        wanted = {_normalise_key(k) for k in keys}
        for key, value in table.items():
            if isinstance(key, str) and _normalise_key(key) in wanted:
                return key, value
        return None

    def _from_file(self, path: Path, host: str) -> Credentials | None:
        """As docker's ``GetCredentialsStore``: the helper ``credHelpers[host]``, else
        ``credsStore`` when set, decides alone (its "not found" is none, whatever
        ``auths`` holds: an old entry there is stale); ``auths`` only without either."""
        data = self._read(path)
        server = _HUB_KEYS[0] if _is_hub(host) else host
        helper = self._entry(data.get("credHelpers", {}), host)
        if helper is not None:
            name = helper[1]
            if not isinstance(name, str) or not name:
                raise CredentialError(
                    f"the auth file {path}: credHelpers[{helper[0]!r}] is not a name"
                )
            return self._run_helper(name, server)
        store = data.get("credsStore", "")
        if store:
            return self._run_helper(store, server)
        entry = self._entry(data.get("auths", {}), host)
        if entry is not None:
            return self._from_entry(path, entry[0], entry[1])
        return None

    def _from_entry(self, path: Path, key: str, entry: Any) -> Credentials | None:
        where = f"the auth file {path}: auths[{key!r}]"
        if not isinstance(entry, dict):
            raise CredentialError(f"{where} is not an object")
        for member in ("auth", "username", "password", "identitytoken"):
            if not isinstance(entry.get(member, ""), str):
                raise CredentialError(f"{where}: {member!r} is not a string")
        username = entry.get("username", "")
        password = entry.get("password", "")
        if entry.get("auth"):
            try:
                decoded = base64.b64decode(entry["auth"], validate=True).decode("utf-8")
            except (binascii.Error, ValueError) as e:
                raise CredentialError(f"{where}: 'auth' is not base64 of user:password") from e
            username, colon, password = decoded.partition(":")
            if not colon:
                raise CredentialError(f"{where}: 'auth' does not decode to user:password")
        token = entry.get("identitytoken", "")
        if not (username or password or token):
            return None  # a placeholder: docker keeps the secret in credsStore
        return Credentials(username, password, identity_token=token, origin=str(path))

    # -- helpers ----------------------------------------------------------

    def _run_helper(self, name: str, server: str) -> Credentials | None:
        program = f"docker-credential-{name}"
        self._note(f"{program} (credential helper)")
        path_env = self._env.get("PATH", os.defpath)
        executable = shutil.which(program, path=path_env)
        if executable is None:
            raise CredentialError(f"the credential helper {program} is not on PATH", source=program)
        timeout = self._options.helper_timeout
        try:
            proc = subprocess.Popen(
                [executable, "get"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=dict(self._env),
                start_new_session=True,
            )
        except OSError as e:
            raise CredentialError(
                f"cannot run the credential helper {program}: {e.strerror or e}", source=program
            ) from e
        try:
            out, err = proc.communicate(server.encode(), timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CredentialError(
                f"the credential helper {program} did not answer within {timeout:g} s",
                source=program,
            ) from None
        return self._parse_helper(program, proc.returncode, out, err)

    def _parse_helper(
        self, program: str, returncode: int, out: bytes, err: bytes
    ) -> Credentials | None:
        said = (out + err).decode("utf-8", "replace")
        if returncode != 0:
            if _NOT_FOUND in said.lower():
                return None
            # the first line only, and no more than a line's worth: a helper's
            # diagnostics should not carry secrets, but keep them short anyway
            first = err.decode("utf-8", "replace").strip().splitlines()[:1]
            detail = f": {first[0][:200]}" if first else ""
            raise CredentialError(
                f"the credential helper {program} failed (exit status {returncode}){detail}",
                source=program,
            )
        try:
            answer = json.loads(out)
        except (ValueError, UnicodeDecodeError):
            answer = None
        if (
            not isinstance(answer, dict)
            or not isinstance(answer.get("Username", ""), str)
            or not isinstance(answer.get("Secret", ""), str)
        ):
            raise CredentialError(
                f"the credential helper {program} answered something other than"
                " {Username, Secret} JSON",
                source=program,
            )
        username, secret = answer.get("Username", ""), answer.get("Secret", "")
        if not username and not secret:
            return None
        if username == _TOKEN_USER:
            return Credentials(identity_token=secret, origin=program)
        return Credentials(username, secret, origin=program)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill a helper and whatever it started (a shell's ``sleep`` holds the pipes)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        proc.kill()
    proc.communicate()
