"""Capturing what a step prints (stdout and stderr) into its log file.

In a worker process the file descriptors 1 and 2 themselves are pointed at
the log, so output of C extensions and of child processes is captured too.
In the caller's own process (the inline executor) only ``sys.stdout`` and
``sys.stderr`` are swapped: the descriptors belong to the whole program.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def captured(path: Path, *, descriptors: bool) -> Iterator[None]:
    """Append everything printed inside the block to ``path``."""
    if not descriptors:
        with (
            open(path, "a", encoding="utf-8", errors="replace") as log,
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
        ):
            yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    saved = (os.dup(1), os.dup(2))
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)
