"""Run `paperbot` where its data directory really is read-only, or its disk really is full.

A Linux user namespace (`unshare --user --map-root-user --mount`) lets any user, root included,
give one process tree a read-only bind mount or a small tmpfs of its own: the commands meet the
same EROFS / ENOSPC a real read-only mount or full disk gives. Where user namespaces are not
allowed, a read-only directory falls back to chmod, which restricts every user but root.
"""

from __future__ import annotations

import functools
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

_UNSHARE = ["unshare", "--user", "--map-root-user", "--mount"]


@functools.cache
def namespaces_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run([*_UNSHARE, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def paperbot_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "paperbot.bot.cli", *args]


def run(command: Sequence[str], data_dir: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PAPERBOT_DATA_DIR=str(data_dir), PAPERBOT_LOG_LEVEL="WARNING")
    return subprocess.run(list(command), env=env, capture_output=True, text=True, check=False, timeout=600)


def in_namespace(script: str, data_dir: Path) -> subprocess.CompletedProcess:
    """Run a shell script as root of a new user and mount namespace (mounts vanish with it)."""
    return run([*_UNSHARE, "sh", "-euc", script], data_dir)


def read_only_technique() -> str | None:
    """'mount' or 'chmod', or None when neither can make a directory read-only here."""
    if namespaces_available():
        return "mount"
    if os.geteuid() != 0:
        return "chmod"
    return None


def run_read_only(data_dir: Path, *commands: Sequence[str]) -> list[subprocess.CompletedProcess]:
    """Run each command with ``data_dir`` read-only, by the technique available."""
    if read_only_technique() == "mount":
        results = []
        for command in commands:
            quoted = " ".join(quote(part) for part in command)
            results.append(in_namespace(f"mount --bind {quote(str(data_dir))} {quote(str(data_dir))}\n"
                                        f"mount -o remount,bind,ro {quote(str(data_dir))}\n"
                                        f"exec {quoted}\n", data_dir))
        return results
    modes = {path: path.stat().st_mode for path in [data_dir, *data_dir.rglob("*")]}
    try:
        for path, mode in modes.items():
            path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        return [run(command, data_dir) for command in commands]
    finally:
        for path, mode in modes.items():
            path.chmod(mode)


def quote(text: str) -> str:
    """Shell quoting for a script line."""
    return "'" + text.replace("'", "'\\''") + "'"

