"""The cached re-run of a five-step pipeline, in its own interpreter.

    python pipeline_side.py EXECUTOR REPS

Runs ``_steps.five_steps`` once (every step computes and stores its
outputs), then ``REPS`` times again with nothing changed: every step is a
cache hit, recorded as a child run, and the outputs are not recomputed.
Prints one JSON object: the first run's seconds and each re-run's seconds,
and whether every re-run step was a cache hit.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _steps import five_steps  # noqa: E402

import loopml as lm  # noqa: E402


def main(executor: str, reps: int) -> None:
    with tempfile.TemporaryDirectory(prefix="loopml-bench-pipeline-") as tmp:
        lm.set_tracking_uri(Path(tmp))
        start = time.perf_counter()
        first = five_steps.run(executor=executor)
        first_seconds = time.perf_counter() - start
        again: list[float] = []
        all_hits = True
        for _ in range(reps):
            gc.collect()
            start = time.perf_counter()
            run = five_steps.run(executor=executor)
            again.append(time.perf_counter() - start)
            all_hits = all_hits and all(s.cache_hit for s in run.steps.values())
        print(
            json.dumps(
                {
                    "first": first_seconds,
                    "first_status": first.status,
                    "again": again,
                    "all_cache_hits": all_hits,
                    "steps": len(first.steps),
                }
            )
        )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
