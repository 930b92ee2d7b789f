"""A client process for the crash tests, driven line by line on stdin.

    start         -> start a run, print its id
    log A B       -> log metric "m" for steps A..B-1 (queued calls), print "logged"
    flush         -> lm.flush(), print "flushed"

The tests kill it with SIGKILL at chosen moments.
"""

from __future__ import annotations

import sys

import loopml as lm


def main(url: str) -> None:
    lm.set_tracking_uri(url)
    for line in sys.stdin:
        command, *args = line.split()
        if command == "start":
            print(lm.start_run().info.run_id, flush=True)
        elif command == "log":
            for step in range(int(args[0]), int(args[1])):
                lm.log_metric("m", float(step), step=step)
            print("logged", flush=True)
        elif command == "flush":
            lm.flush()
            print("flushed", flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
