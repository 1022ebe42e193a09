"""A throwaway PostgreSQL server for one test session.

The server refuses to run as root, and CI runs as root: then `initdb` and `pg_ctl` run as the
unprivileged `postgres` user, in a temporary folder that user owns. It listens on a free port of
127.0.0.1 (and on a socket in its folder), with `fsync=off`: a test database needs no durability.
Loopback logins are trusted, except for the role `PASSWORD_ROLE`, which must give its password
(so a test can see a failed login).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PASSWORD_ROLE = "dlquiz_pw"
PASSWORD = "s3cret-Pa55"
UNPRIVILEGED_USER = "postgres"


class ServerUnavailable(Exception):
    """Why no PostgreSQL server can be started here (binaries missing, no unprivileged user)."""


def find_binaries() -> Path:
    """The folder holding `initdb`, `pg_ctl` and `postgres`."""
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    # Debian keeps them off PATH.
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists():
            return Path(folder)
    raise ServerUnavailable("PostgreSQL is not installed here (no initdb on PATH)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PgServer:
    root: Path
    port: int
    bin_dir: Path
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", *, user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"},
        )

    @classmethod
    def start(cls) -> PgServer:
        bin_dir = find_binaries()
        run_as = None
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam(UNPRIVILEGED_USER)
            except KeyError:
                raise ServerUnavailable(
                    f"running as root and there is no {UNPRIVILEGED_USER!r} user to run"
                    " PostgreSQL as"
                ) from None
            if not shutil.which("runuser"):
                raise ServerUnavailable("running as root and runuser is missing")
            run_as = UNPRIVILEGED_USER
        root = Path(tempfile.mkdtemp(prefix="dlquiz-pg-"))
        if run_as:
            os.chown(root, owner.pw_uid, owner.pw_gid)
        server = cls(root=root, port=0, bin_dir=bin_dir, run_as=run_as)
        try:
            server._init()
            for _ in range(5):  # another program may take the free port first
                server.port = free_port()
                if server._start():
                    return server
            raise ServerUnavailable(f"PostgreSQL did not start: {server._log_tail()}")
        except BaseException:
            server.stop()
            raise

    def _init(self) -> None:
        done = self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip
        if done.returncode != 0:
            raise ServerUnavailable(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        hba = self.data / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        lines.insert(0, f"host all {PASSWORD_ROLE} 127.0.0.1/32 scram-sha-256")
        hba.write_text("\n".join(lines) + "\n")

    def _start(self) -> bool:
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port}"
            f" -c unix_socket_directories={self.root}"
            " -c fsync=off -c full_page_writes=off -c max_connections=300"
            " -c shared_buffers=32MB"
        )
        done = self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-t", "30", "-o", options, "start",
        )  # fmt: skip
        return done.returncode == 0

    def _log_tail(self) -> str:
        try:
            return " | ".join((self.root / "server.log").read_text().splitlines()[-5:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server at once and remove its folder."""
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            deadline = time.monotonic() + 10
            while (self.data / "postmaster.pid").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)
