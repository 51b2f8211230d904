"""A throwaway PostgreSQL cluster on 127.0.0.1 for the tests (standard library only).

Used by `.ci/run` (``python3 tests/postgres_server.py start DIR`` prints the ``export`` line of
TEST_POSTGRESQL_URL; ``stop DIR`` stops it) and by the tests themselves when that variable is
unset but PostgreSQL's programs are installed (Debian: ``apt-get install postgresql``). As root,
the cluster runs as the ``postgres`` user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

URL_VARIABLE = "TEST_POSTGRESQL_URL"


class Unavailable(RuntimeError):
    """PostgreSQL's programs are not installed (or cannot run here)."""


def bindir() -> Path:
    """Where initdb and pg_ctl are: pg_config's answer, else Debian's newest /usr/lib/postgresql/*/bin."""
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = Path(subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout.strip())
        if (found / "initdb").exists():
            return found
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    if shutil.which("initdb"):
        return Path(shutil.which("initdb")).resolve().parent
    raise Unavailable("PostgreSQL is not installed (Debian: apt-get install postgresql)")


def _as_cluster_owner(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    if not shutil.which("runuser"):
        raise Unavailable("running as root needs runuser to start PostgreSQL as the postgres user")
    return ["runuser", "-u", "postgres", "--", *command]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(directory: Path) -> str:
    """Create and start a cluster under ``directory``; returns its SQLAlchemy URL."""
    programs = bindir()
    directory.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres")
    data, port = directory / "data", _free_port()
    subprocess.run(_as_cluster_owner([str(programs / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                                      "-E", "UTF8", "--no-sync"]), check=True, capture_output=True)
    options = f"-h 127.0.0.1 -p {port} -k {directory} -c fsync=off -c max_connections=100"
    subprocess.run(_as_cluster_owner([str(programs / "pg_ctl"), "-D", str(data), "-l", str(directory / "log"),
                                      "-o", options, "-w", "-t", "60", "start"]), check=True, capture_output=True)
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"


def stop(directory: Path) -> None:
    subprocess.run(_as_cluster_owner([str(bindir() / "pg_ctl"), "-D", str(directory / "data"), "-m", "immediate",
                                      "-w", "stop"]), check=False, capture_output=True)


if __name__ == "__main__":
    action, where = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(f"export {URL_VARIABLE}={start(where)}")
    else:
        stop(where)
