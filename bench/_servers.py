"""Start a tracking server as a subprocess, wait until it answers, stop it for sure.

``serve`` runs any server command; ``serve_tracking`` runs ``mlflow server`` or
``loopml server`` over a store, as the server and UI benchmarks both do.

Each server runs in its own process group (``start_new_session``), so
stopping it reaches everything it forked (uvicorn workers, MLflow's job
runner) and nothing else. Its output goes to a log file under
``bench/.work/``; a server that exits or stays silent past its start-up
timeout raises ``RuntimeError`` with the end of that log.
"""

from __future__ import annotations

import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from _process import free_port, log_tail, start_group, stop_group

POLL_SECONDS = 0.25
_TRACKING = {  # tool: its flag for the artifact root, its health route
    "mlflow": ("--artifacts-destination", "/health"),
    "loopml": ("--artifacts-uri", "/healthz"),
}


@dataclass(frozen=True)
class Server:
    """A running server: where to reach it and where its output goes."""

    name: str
    url: str  # http://127.0.0.1:<port>
    pid: int
    log: Path
    started_in: float  # seconds from launch to the first healthy answer


@contextmanager
def serve(
    name: str,
    cmd: list[str],
    *,
    port: int,
    health_path: str,
    env: dict[str, str],
    cwd: Path,
    log: Path,
    timeout: float,
) -> Iterator[Server]:
    """Run ``cmd`` (a server on ``port``) for the duration of the block."""
    log.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        proc = start_group(cmd, cwd=cwd, env=env, out=out)
        try:
            started_in = _wait_healthy(name, proc, url + health_path, log, timeout)
            yield Server(name=name, url=url, pid=proc.pid, log=log, started_in=started_in)
        finally:
            stop_group(proc)


@contextmanager
def serve_tracking(
    tool: str,
    python: Path,
    *,
    store_uri: str,
    work: Path,
    env: dict[str, str],
    log: Path,
    timeout: float,
    say: Callable[[str], None],
) -> Iterator[Server]:
    """``<tool> server`` (mlflow or loopml) from ``python``'s venv on a free loopback port,
    over ``store_uri`` with its artifacts under ``work``, for the duration of the block."""
    artifacts_flag, health_path = _TRACKING[tool]
    port = free_port()
    cmd = [
        str(python.parent / tool),
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--backend-store-uri",
        store_uri,
        artifacts_flag,
        str(work / "artifacts"),
    ]
    say(f"starting {tool} server on port {port} ...")
    with serve(
        tool, cmd, port=port, health_path=health_path, env=env, cwd=work, log=log, timeout=timeout
    ) as server:
        yield server


def _wait_healthy(
    name: str, proc: subprocess.Popen[bytes], url: str, log: Path, timeout: float
) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} server exited ({proc.returncode}); {log}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - start
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(POLL_SECONDS)
    raise RuntimeError(f"{name} server not healthy after {timeout:.0f} s; {log}:\n{log_tail(log)}")
