"""Debian's PostgreSQL as a plain process on 127.0.0.1, in a throwaway data folder.

initdb and postgres refuse to run as root, so as root both run as the `postgres` system user that
Debian's package creates (`runuser -u postgres`); the data folder is made under /tmp and handed
to that user, since pytest's tmp_path is private to root.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mirror_assets_tests.servers.ports import free_port

PG_ROOT = Path("/usr/lib/postgresql")
SYSTEM_USER = "postgres"
USER = "dagster"
PASSWORD = "mirror-assets-test"
DB_NAME = "dagster"


def server_bin() -> Path | None:
    """The newest installed major version's bin folder (e.g. /usr/lib/postgresql/17/bin)."""
    found = [p.parent for p in PG_ROOT.glob("*/bin/postgres") if p.parent.parent.name.isdigit()]
    return max(found, key=lambda p: int(p.parent.name), default=None)


def missing_reason() -> str | None:
    if server_bin() is None:
        return (
            f"PostgreSQL server binaries not found under {PG_ROOT}/*/bin: "
            "apt-get install postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"as root, PostgreSQL runs as the {SYSTEM_USER!r} user, which does not exist"
        if shutil.which("runuser") is None:
            return "as root, starting PostgreSQL needs runuser (util-linux)"
    return None


@dataclass
class PostgresServer:
    """A running server with database `dagster` owned by user `dagster` (password auth)."""

    port: int
    folder: Path
    process: subprocess.Popen

    host = "127.0.0.1"

    @property
    def dagster_env(self) -> dict[str, str]:
        """The variables the README's `storage: postgres:` block reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": USER,
            "DAGSTER_PG_PASSWORD": PASSWORD,
            "DAGSTER_PG_DB": DB_NAME,
        }

    def query(self, sql: str, params: Any = None) -> list[tuple]:
        import psycopg2  # installed with dagster-postgres

        with (
            contextlib.closing(
                psycopg2.connect(
                    host=self.host, port=self.port, user=USER, password=PASSWORD, dbname=DB_NAME
                )
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, params)
            return cursor.fetchall()

    def log(self) -> str:
        path = self.folder / "postgres.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", SYSTEM_USER, "--", *command] if os.geteuid() == 0 else command


def _wait_ready(bin_dir: Path, port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"postgres exited with status {process.returncode}")
        ready = subprocess.run(
            [bin_dir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
        )
        if ready.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"postgres not accepting connections after {timeout:.0f}s")
        time.sleep(0.2)


def _stop(folder: Path, process: subprocess.Popen) -> None:
    if process.poll() is None:
        # The postmaster's pid, not runuser's: SIGINT is PostgreSQL's "fast" shutdown.
        pid_file = folder / "data" / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0]) if pid_file.exists() else process.pid
        os.kill(pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb, start postgres on a free port, create the `dagster` database; stop and delete."""
    bin_dir = server_bin()
    if bin_dir is None:
        raise RuntimeError(missing_reason())
    folder = Path(tempfile.mkdtemp(prefix="mirror-assets-pg-"))
    process = None
    try:
        (folder / "password").write_text(PASSWORD + "\n")
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SYSTEM_USER)
            for path in (folder, folder / "password"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run(
            _as_server_user(
                [
                    str(bin_dir / "initdb"),
                    "--pgdata",
                    str(folder / "data"),
                    "--username",
                    USER,
                    "--pwfile",
                    str(folder / "password"),
                    "--auth",
                    "scram-sha-256",
                    "--encoding",
                    "UTF8",
                    "--no-locale",
                    "--no-sync",
                ]
            ),
            check=True,
            capture_output=True,
            cwd=folder,
        )
        port = free_port()
        with (folder / "postgres.log").open("wb") as log:
            process = subprocess.Popen(
                _as_server_user(
                    [
                        str(bin_dir / "postgres"),
                        "-D",
                        str(folder / "data"),
                        "-p",
                        str(port),
                        "-h",
                        "127.0.0.1",
                        "-k",
                        str(folder),
                        # A test database: durability is not the point.
                        "-c",
                        "fsync=off",
                        "-c",
                        "synchronous_commit=off",
                        "-c",
                        "full_page_writes=off",
                    ]
                ),
                cwd=folder,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_ready(bin_dir, port, process)
        subprocess.run(
            [bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DB_NAME],
            env={**os.environ, "PGPASSWORD": PASSWORD},
            check=True,
            capture_output=True,
        )
        yield PostgresServer(port=port, folder=folder, process=process)
    finally:
        if process is not None:
            _stop(folder, process)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    reason = missing_reason()
    if reason:
        raise SystemExit(reason)
    with running_postgres() as server:
        print(" ".join(f"{k}={v}" for k, v in server.dagster_env.items()))
        print(server.query("SELECT version()")[0][0])
