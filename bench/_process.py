"""Processes of the benchmarks: the interpreters and environment they run with, a free
port, and stopping a whole process group.

Each benchmark starts its servers with ``start_new_session=True``, so the
server's pid is its process group: stopping the group stops the workers a
server spawned, and nothing else.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

STOP_GRACE_SECONDS = 10.0
_POLL_SECONDS = 0.05


REPO = Path(__file__).resolve().parent.parent


def loopml_interpreter() -> Path:
    """The interpreter of loopml's side: the repo's venv, else the one running the benchmark."""
    python = REPO / ".venv" / "bin" / "python"
    return python if python.exists() else Path(sys.executable)


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would pick a tracking URI or home
    (or modules) from the caller's shell: each side sets its own."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MLFLOW_", "LOOPML_", "PYTHONPATH"))
    }


def with_path_first(env: dict[str, str], python: Path) -> dict[str, str]:
    """``env`` with ``python``'s venv ``bin`` first on PATH: a server started from it finds
    its own tools there (uvicorn, alembic), not another venv's."""
    return {**env, "PATH": f"{python.parent}{os.pathsep}{env.get('PATH', '')}"}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_group(
    cmd: list[str], *, cwd: Path, env: dict[str, str], out: IO[str]
) -> subprocess.Popen[bytes]:
    """Start ``cmd`` as the leader of a new process group, its output (both streams) to ``out``."""
    return subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


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
