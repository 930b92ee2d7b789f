"""Tasks the executor tests submit: module-level, so workers import them by reference."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path


def square(x: int) -> int:
    return x * x


def fail(message: str) -> None:
    raise ValueError(message)


def sleep_then(seconds: float, value: str) -> str:
    time.sleep(seconds)
    return value


def die(code: int) -> None:
    os._exit(code)


def meet(folder: str, me: str, other: str, timeout: float = 30.0) -> str:
    """Write my file, then wait for the other task's: only possible if both run at once."""
    Path(folder, me).write_text(str(os.getpid()))
    deadline = time.monotonic() + timeout
    while not Path(folder, other).exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{other} never arrived")
        time.sleep(0.01)
    return me


def spawn_sleeper(marker: str) -> None:
    """Start a child process that would outlive a plain kill, then hang."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    Path(marker).write_text(str(child.pid))
    time.sleep(60)


def where() -> tuple[str, list[str]]:
    return os.getcwd(), list(sys.path)


def returns_lock() -> threading.Lock:
    return threading.Lock()


class Unpicklable(Exception):
    """An exception that cannot be pickled (it holds a lock)."""

    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def raise_unpicklable() -> None:
    raise Unpicklable()
