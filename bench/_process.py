"""Server processes of the benchmarks: a free port, and stopping a whole process group.

Each benchmark starts its servers with ``start_new_session=True``, so the
server's pid is its process group: stopping the group stops the workers a
server spawned, and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.05


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's group, then SIGKILL whatever outlives the grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            continue
        # The leader is gone; give its children the same grace, then force them.
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while time.monotonic() < deadline and _group_alive(proc.pid):
            time.sleep(_POLL_SECONDS)
        if not _group_alive(proc.pid):
            return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def log_tail(log: Path, lines: int = 15) -> str:
    """The last lines of a server's log, for the error that says why it failed."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
