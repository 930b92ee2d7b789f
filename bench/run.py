"""Run every benchmark (``bench/*/bench.py``) and print its figures.

    .venv/bin/python bench/run.py [NAME ...]     # e.g. `tracking`; default: all

Each ``bench.py`` exposes ``run() -> Report``. Benchmarks are not tests: a
missed target is printed, not failed on; only a benchmark that crashes makes
the exit status non-zero.
"""

from __future__ import annotations

import importlib.util
import sys
import time
import traceback
from pathlib import Path
from types import ModuleType

from _report import render
from rich.console import Console

BENCH_DIR = Path(__file__).resolve().parent


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{path.parent.name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name while the class body runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main(names: list[str]) -> int:
    console = Console()
    paths = sorted(BENCH_DIR.glob("*/bench.py"))
    if names:
        paths = [p for p in paths if p.parent.name in names]
    failed = 0
    for path in paths:
        start = time.perf_counter()
        try:
            report = _load(path).run()
        except Exception:
            failed += 1
            console.print(f"[red]{path.parent.name}: crashed[/]")
            traceback.print_exc()
            continue
        render(report, console)
        console.print(f"  ({path.parent.name} took {time.perf_counter() - start:.0f} s)\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
