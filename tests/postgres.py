"""A throwaway PostgreSQL cluster for the tests: initdb in a temp dir, a Unix socket, no fsync.

``Cluster.start()`` finds PostgreSQL's server binaries (``$PG_BIN``, Debian's
``/usr/lib/postgresql/<version>/bin``, or ``pg_ctl`` on ``PATH``), runs ``initdb`` and starts
the server on a free port with ``fsync=off``, listening only on a socket in the temp dir.
PostgreSQL refuses to run as root, so as root every server command runs as the ``postgres``
OS user (``runuser -u postgres --``) in a dir that user owns.  ``database()`` makes a fresh,
empty database and returns its URL; ``stop()`` removes everything.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

POOLER_HOW_TO_ENABLE = (
    "PgBouncer tests skipped: no pgbouncer found; install it (Debian: apt-get install "
    "pgbouncer) or set PGBOUNCER to the binary"
)

HOW_TO_ENABLE = (
    "PostgreSQL tests skipped: no PostgreSQL server binaries (initdb, pg_ctl) found; "
    "install them (Debian: apt-get install postgresql) or set PG_BIN to their directory"
)


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    candidates = [os.environ.get("PG_BIN", "")]
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Cluster:
    """One PostgreSQL server for a test session."""

    def __init__(self, binaries: Path, *, fsync: bool = False) -> None:
        self.binaries = binaries
        self.fsync = fsync
        self.root = Path(tempfile.mkdtemp(prefix="incidentflow-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.as_root = os.geteuid() == 0
        self.superuser = "postgres"
        self._names = itertools.count(1)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        done = subprocess.run(
            [*prefix, *command],
            check=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:  # say why: pg_ctl writes it, and the server's log has more
            log = self.log.read_text()[-2000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(command[:2])} exited {done.returncode}: {done.stdout.strip()}\n"
                f"server log (end):\n{log}"
            )

    def start(self) -> None:
        """initdb and start the server; wait until it accepts connections."""
        self.socket_dir.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run(
            str(self.binaries / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.superuser,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
            "--no-instructions",
        )
        self.pg_ctl("start")

    def pg_ctl(self, action: str) -> None:
        """Run ``pg_ctl start``, ``stop`` or ``restart`` on the cluster, waiting for it."""
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
            f"-c fsync={'on' if self.fsync else 'off'} -c synchronous_commit=on "
            f"-c full_page_writes={'on' if self.fsync else 'off'} -c max_connections=200"
        )
        extra = ["-m", "fast"] if action != "start" else []
        self._run(
            str(self.binaries / "pg_ctl"),
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
            "-w",
            *extra,
        )

    def url(self, database: str = "postgres", *, user: str | None = None) -> str:
        """A libpq URL of ``database`` over the cluster's socket."""
        return (
            f"postgresql:///{database}?host={self.socket_dir}&port={self.port}"
            f"&user={user or self.superuser}"
        )

    def database(self) -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"test_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        """Stop the server and remove its files."""
        try:
            self.pg_ctl("stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def find_pooler() -> Path | None:
    """PgBouncer's binary, or None when it is not installed."""
    for candidate in (os.environ.get("PGBOUNCER", ""), shutil.which("pgbouncer") or ""):
        if candidate and Path(candidate).exists():
            return Path(candidate)
    for candidate in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"):
        if Path(candidate).exists():
            return Path(candidate)
    return None


class Pooler:
    """PgBouncer in transaction mode in front of a :class:`Cluster`, one server connection per
    database: every client's transactions share it, as behind a busy pooler."""

    def __init__(self, binary: Path, cluster: Cluster) -> None:
        self.binary = binary
        self.cluster = cluster
        self.root = cluster.root / "pooler"
        self.port = _free_port()

    def start(self) -> None:
        """Write the configuration and start PgBouncer; wait until it accepts connections."""
        import time

        import psycopg

        self.root.mkdir()
        config = self.root / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={self.cluster.socket_dir} port={self.cluster.port} "
            f"user={self.cluster.superuser}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            "auth_type = any\npool_mode = transaction\ndefault_pool_size = 1\n"
            "max_client_conn = 200\n"
            f"logfile = {self.root / 'pgbouncer.log'}\npidfile = {self.root / 'pgbouncer.pid'}\n"
        )
        if self.cluster.as_root:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(config, "postgres", "postgres")
        self.cluster._run(str(self.binary), "-d", str(config))
        deadline = time.monotonic() + 30
        while True:
            try:
                psycopg.connect(self.url("postgres"), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def url(self, database: str) -> str:
        """A libpq URL of ``database`` through the pooler."""
        return f"postgresql://{self.cluster.superuser}@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new, empty database on the cluster; its URL through the pooler."""
        direct = self.cluster.database()
        return self.url(direct.split("?")[0].rsplit("/", 1)[1])

    def stop(self) -> None:
        """Stop PgBouncer."""
        import signal

        pid = self.root / "pgbouncer.pid"
        if pid.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid.read_text().strip()), signal.SIGTERM)
