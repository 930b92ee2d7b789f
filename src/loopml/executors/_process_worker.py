"""A local worker process: ``python -m loopml.executors._process_worker FD [PRELOAD...]``.

It imports the ``PRELOAD`` modules, then reads packed calls from the socket
``FD``, answers ``S`` when a call starts (the parent's timeout clock starts
there, once the task's modules are imported, not while they load) and
``D`` + the packed outcome when it ends, and exits when the parent closes
the socket. A fresh interpreter rather than a fork: the parent runs threads
(the tracking client's flusher), and a script that calls a pipeline at top
level is not re-imported, as it would be by multiprocessing's spawn.

Ctrl-C is ignored here: the parent decides what stops, and kills the
worker's process group when it must.
"""

from __future__ import annotations

import contextlib
import signal
import sys
from multiprocessing.connection import Connection


def serve(fd: int, preload: list[str]) -> None:
    """Import ``preload``, then run calls from the socket ``fd`` until it closes."""
    import importlib

    from loopml.executors._payload import DONE, STARTED, load_call, run_loaded

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in preload:  # while idle: not counted in any task's timeout
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    conn = Connection(fd)
    while True:
        try:
            blob = conn.recv_bytes()
        except (EOFError, OSError):
            return
        loaded = load_call(blob, chdir=True)
        conn.send_bytes(STARTED)
        outcome = loaded if isinstance(loaded, bytes) else run_loaded(loaded)
        try:
            conn.send_bytes(DONE + outcome)
        except OSError:
            return


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2:])
