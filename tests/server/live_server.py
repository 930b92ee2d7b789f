"""Start ``loopml server`` as a real subprocess on a free port, as users run it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOOPML = str(Path(sys.executable).with_name("loopml"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    """A running server: its URL, the stores it uses, and control over its process."""

    url: str
    tracking_uri: str
    object_store_uri: str
    home: Path
    port: int
    env: dict[str, str] = field(repr=False)
    workers: int = 1
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def start(self, timeout: float = 60.0) -> None:
        args = [
            LOOPML,
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--backend-store-uri",
            self.tracking_uri,
            "--artifacts-uri",
            self.object_store_uri,
            "--workers",
            str(self.workers),
            *self.extra_args,
        ]
        log = open(self.home / "server.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.process = subprocess.Popen(
            args, env=self.env, stdout=log, stderr=log, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"loopml server exited with {self.process.returncode}: "
                    + (self.home / "server.log").read_text()[-2000:]
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                self.stop(kill=True)  # never leave a half-started server behind
                raise RuntimeError("loopml server did not answer /healthz in time")
            time.sleep(0.1)

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        # The server's own process group: with --workers N its workers go too.
        group = self.process.pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
            self.process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)  # any worker the server left behind
        self.process = None


@contextmanager
def live_server(
    home: Path,
    tracking_uri: str | None = None,
    workers: int = 1,
    *,
    extra_args: tuple[str, ...] = (),
    extra_env: dict[str, str] | None = None,
) -> Iterator[LiveServer]:
    """A started server over ``tracking_uri`` (default: SQLite in ``home``); stopped on exit."""
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "MLFLOW_"))}
    env["LOOPML_HOME"] = str(home)
    env.update(extra_env or {})
    server = LiveServer(
        url=f"http://127.0.0.1:{port}",
        tracking_uri=tracking_uri or f"sqlite:///{home / 'server.db'}",
        object_store_uri=str(home / "objects"),
        home=home,
        port=port,
        env=env,
        workers=workers,
        extra_args=extra_args,
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
