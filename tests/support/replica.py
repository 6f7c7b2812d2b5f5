"""A PostgreSQL primary and its streaming replica, of their own, on loopback: what the
tests of :mod:`opiekun.replica` read from. ``initdb`` and start a primary, copy it with
``pg_basebackup -R`` (the copy knows to stream from it), start the copy as a hot standby.
The server programs come from ``OPIEKUN_TEST_PG_BIN`` or the newest
``/usr/lib/postgresql/*/bin``; as root, they run as the ``postgres`` user."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg


def server_programs() -> Path | None:
    """The folder of ``initdb``, ``pg_ctl`` and ``pg_basebackup``, or ``None``."""
    configured = os.environ.get("OPIEKUN_TEST_PG_BIN")
    if configured:
        return Path(configured)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(Path(path).parent.name))
    return Path(found[-1]) if found else None


@dataclass
class StreamingPair:
    primary_url: str
    replica_url: str
    folder: Path
    programs: Path

    def new_database(self) -> tuple[str, str]:
        """A new database on the primary (streamed to the replica too): its URL on each."""
        name = f"opiekun_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.primary_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.wait_until_caught_up()
        return self.primary_url.rsplit("/", 1)[0] + f"/{name}", self.replica_url.rsplit("/", 1)[0] + f"/{name}"

    def on_replica(self, sql: str):
        with psycopg.connect(self.replica_url, autocommit=True) as connection:
            return connection.execute(sql).fetchone()

    def pause_replay(self) -> None:
        """The replica keeps receiving the primary's changes but stops applying them."""
        self.on_replica("SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        self.on_replica("SELECT pg_wal_replay_resume()")

    def wait_until_caught_up(self, timeout: float = 30) -> None:
        """Until the replica has applied everything the primary has written so far."""
        with psycopg.connect(self.primary_url, autocommit=True) as connection:
            target = connection.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        while not self.on_replica(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")[0]:
            assert time.monotonic() < deadline, "the replica did not catch up"
            time.sleep(0.05)

    def stop_replica(self) -> None:
        _as_postgres(self.programs / "pg_ctl", "-D", self.folder / "replica", "-m", "immediate", "-w", "stop")


@contextmanager
def streaming_pair() -> Iterator[StreamingPair]:
    programs = server_programs()
    assert programs is not None, "no PostgreSQL server programs: set OPIEKUN_TEST_PG_BIN"
    folder = Path(tempfile.mkdtemp(prefix="opiekun-replica-", dir="/tmp"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    primary_port, replica_port = _free_port(), _free_port()
    try:
        _as_postgres(
            programs / "initdb", "-D", folder / "primary", "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        _start(programs, folder, "primary", primary_port)
        _as_postgres(
            programs / "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
            "-D", folder / "replica", "-R", "-X", "stream",
        )  # fmt: skip
        _start(programs, folder, "replica", replica_port)
        yield StreamingPair(
            primary_url=f"postgresql://postgres@127.0.0.1:{primary_port}/postgres",
            replica_url=f"postgresql://postgres@127.0.0.1:{replica_port}/postgres",
            folder=folder,
            programs=programs,
        )
    finally:
        for name in ("replica", "primary"):
            if (folder / name / "postmaster.pid").exists():
                _as_postgres(programs / "pg_ctl", "-D", folder / name, "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(folder, ignore_errors=True)


def _start(programs: Path, folder: Path, name: str, port: int) -> None:
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_senders=4"
    _as_postgres(
        programs / "pg_ctl", "-D", folder / name, "-l", folder / f"{name}.log", "-o", options, "-w", "start"
    )  # fmt: skip


def _as_postgres(*command, check: bool = True) -> None:
    arguments = [str(part) for part in command]
    if os.geteuid() == 0:
        arguments = ["runuser", "-u", "postgres", "--", *arguments]
    subprocess.run(arguments, check=check, capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
