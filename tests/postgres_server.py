"""A real PostgreSQL server on loopback for the tests: Debian's ``postgresql`` package.

The session starts one server: ``initdb`` into a temporary directory as a non-root user
(the ``postgres`` system user the package created, through ``runuser`` when the tests
run as root; the current user otherwise), SCRAM password authentication for a user made
here, listening on 127.0.0.1 on a free port with its unix socket in the same directory.
It is stopped at the end of the session (``pg_ctl stop -m immediate``) and its
directory removed.

Fixtures:

- ``postgres_server`` (session): the :class:`PostgresServer`;
- ``postgres_url`` (function): a ``postgresql://user:password@127.0.0.1:port/db`` URL of
  a fresh, empty database for each test;
- ``catalog_url`` (function, parametrized ``sqlite`` and ``postgresql``): a catalog URL,
  ``tmp_path/"catalog.db"`` for SQLite and a fresh database for PostgreSQL.

A missing binary fails the test, naming the Debian package to install (``postgresql``).

Use: ``pytest_plugins = ["postgres_server"]`` in a test module registers the fixtures
once for the whole run.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

_PG_ROOT = Path("/usr/lib/postgresql")


@attrs.frozen
class PostgresServer:
    """A running server: connect as ``user``/``password`` to 127.0.0.1:``port``."""

    directory: Path
    port: int
    user: str
    password: str

    def url(self, database: str = "postgres", *, password: str | None = None) -> str:
        """A ``postgresql://`` URL of ``database`` (with another ``password`` if given)."""
        pw = self.password if password is None else password
        return f"postgresql://{self.user}:{pw}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its name."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:16]
        with psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password,
            dbname="postgres",
            autocommit=True,
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _binaries() -> Path:
    versions = sorted(
        (p for p in _PG_ROOT.glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if not versions:
        pytest.fail(
            f"no PostgreSQL server binaries under {_PG_ROOT}/*/bin: "
            "install the Debian package 'postgresql'"
        )
    return versions[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(argv: list[str]) -> tuple[list[str], int | None, int | None]:
    """The command run as a non-root user (PostgreSQL refuses to run as root), and
    that user's uid and gid for chowning its directory (None: the current user)."""
    if os.geteuid() != 0:
        return argv, None, None
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("no 'postgres' system user: install the Debian package 'postgresql'")
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.fail("no runuser to start PostgreSQL as a non-root user (util-linux)")
    return [runuser, "-u", "postgres", "--", *argv], pw.pw_uid, pw.pw_gid


def _run(argv: list[str], what: str) -> None:
    cmd, _, _ = _as_server_user(argv)
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _binaries()
    _, uid, gid = _as_server_user([])
    # /tmp (not pytest's basetemp, whose parents the server user may not be allowed to
    # enter); a short path too, since the unix socket's path must fit in 107 bytes
    directory = Path(tempfile.mkdtemp(prefix="anchore-pg-", dir="/tmp"))
    data = directory / "data"
    try:
        user = "anchore"
        password = secrets.token_urlsafe(16)
        pwfile = directory / "pwfile"
        pwfile.write_text(password + "\n")
        if uid is not None and gid is not None:
            os.chown(directory, uid, gid)
            os.chown(pwfile, uid, gid)
        os.chmod(directory, 0o700)
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                user,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} "
            f"-c unix_socket_directories={directory} -c fsync=off -c max_connections=100"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(directory / "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            "pg_ctl start",
        )
        server = PostgresServer(directory=directory, port=port, user=user, password=password)
        _wait_ready(server)
        yield server
    finally:
        # also when initdb or the start failed (or the session is interrupted): no
        # server or temporary directory is left behind
        cmd, _, _ = _as_server_user(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]
        )
        subprocess.run(cmd, capture_output=True, check=False)
        shutil.rmtree(directory, ignore_errors=True)


def _wait_ready(server: PostgresServer) -> None:
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            psycopg.connect(server.url(), connect_timeout=5).close()
            return
        except psycopg.OperationalError as e:
            if time.monotonic() > deadline:
                log = server.directory / "log"
                text = log.read_text(errors="replace") if log.exists() else ""
                pytest.fail(f"PostgreSQL did not accept connections: {e}\n{text}")
            time.sleep(0.1)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh empty database's URL (password included)."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new catalog's URL: SQLite in ``tmp_path``, and a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.url(server.create_database())
