"""A throwaway PostgreSQL cluster for the tests, started with the machine's own binaries.

`initdb` in a temporary folder, a Unix socket there (its owner only), trust authentication, no fsync
(the tests need a real server, not a durable one); stopped and deleted at the end. PostgreSQL
refuses to run as root, so as root the cluster runs as the `postgres` user (Debian's package
creates it) or `nobody`. Without the binaries the PostgreSQL half of the suite is skipped
with a line saying so; LECTURE_BOT_REQUIRE_POSTGRES=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

REQUIRE_ENV = "LECTURE_BOT_REQUIRE_POSTGRES"


class PostgresUnavailable(RuntimeError):
    pass


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str | None:
    """Who runs the server: this user, unless it is root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise PostgresUnavailable("running as root and no unprivileged user to run PostgreSQL")


class ThrowawayCluster:
    """One server for the session; `new_database()` gives each test an empty database."""

    def __init__(self):
        self.initdb, self.pg_ctl = _binary("initdb"), _binary("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            raise PostgresUnavailable("initdb/pg_ctl not found")
        self.user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="lecture-bot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self._names = itertools.count(1)

    def _as_server_user(self, command: list[str]) -> list[str]:
        if self.user is None:
            return command
        return ["setpriv", f"--reuid={self.user}", f"--regid={pwd.getpwnam(self.user).pw_gid}",
                "--clear-groups", *command]

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(self._as_server_user(command), capture_output=True, text=True,
                              cwd=self.root, timeout=120)
        if done.returncode != 0:
            raise PostgresUnavailable(f"{command[0]} failed: {done.stderr.strip()[-500:]}")

    def start(self) -> ThrowawayCluster:
        if self.user is not None:
            self.root.chmod(0o755)
            shutil.chown(self.root, user=self.user)
        self._run([self.initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres",
                   "-E", "UTF8", "--no-sync", "--locale=C"])
        # A Unix socket only, open to its owner alone (root passes anyway): with trust
        # authentication, a TCP port or an open socket would make any local user superuser.
        options = (f"-p {self.port} -c listen_addresses='' -k {self.root} "
                   "-c unix_socket_permissions=0700 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                   "-c max_connections=200")
        self._run([self.pg_ctl, "-D", str(self.data), "-o", options, "-l",
                   str(self.root / "server.log"), "-w", "-t", "60", "start"])
        return self

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._run([self.pg_ctl, "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.root}&port={self.port}"

    def new_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f"CREATE DATABASE {name}")
        return self.url(name)


def postgres_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")
