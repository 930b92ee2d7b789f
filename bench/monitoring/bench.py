"""Drift benchmark: Evidently's DataDriftPreset (the anchor) against ``loopml.monitoring.drift``.

Same machine, one run, same data: a seeded reference and current window are
written once as Parquet under ``bench/.work/monitoring/`` and read by both
sides. Each side runs in its own fresh process (``drift_side.py``): Evidently
in its venv (``bench/.venvs/evidently``, pandas 2), loopml in the project's.
Cases, and what loopml must reach (Evidently's figure / loopml's):

    100,000 rows x 20 numerical + 5 categorical columns
      drift computation (after the data is loaded)    10x faster
      whole process (spawn -> exit: imports, Parquet  (shown)
        read, drift, result)
      peak memory (ru_maxrss of the process)           (shown)
    1,000,000 rows x 20 numerical columns
      the same three figures                           10x faster / shown / shown

The current window shifts a few columns (means, spreads, category shares),
so both sides have drift to find; the notes say whether they flagged the
same columns. Both tests at these sizes are Evidently's defaults for large
references: normed Wasserstein for numbers, Jensen-Shannon for categories.

Figures go to ``bench/.work/monitoring.json``; the data is deleted at the
end (``--keep`` keeps it). Run it alone with
``.venv/bin/python bench/monitoring/bench.py`` (``--small`` divides the row
counts by 100, for a quick check of the harness).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent
for _path in (BENCH_DIR, HERE):  # run alone rather than through bench/run.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _anchor import ensure_venv  # noqa: E402
from _report import WORK_DIR, Report, Row, render, write_json  # noqa: E402

SIDE_SCRIPT = HERE / "drift_side.py"
TARGET = 10.0
SEED = 2026
SIDE_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class Case:
    name: str
    rows: int
    numerical: int
    categorical: int


CASES = (Case("100k x 20 num + 5 cat", 100_000, 20, 5), Case("1M x 20 num", 1_000_000, 20, 0))


@dataclass(frozen=True)
class SideRun:
    """One side's figures on one case, or why it failed."""

    drift_seconds: float | None = None
    process_seconds: float | None = None
    peak_mib: float | None = None
    drifted: tuple[str, ...] = ()
    error: str | None = None


def write_case(case: Case, folder: Path, scale: int = 1) -> tuple[Path, Path]:
    """Write the seeded reference and current windows of ``case`` as Parquet.

    In the current window, the first quarter of the numerical columns moves
    its mean by 0.3 standard deviations, the next eighth doubles its spread,
    and the first two categorical columns change their shares; the rest is
    drawn from the reference's distributions.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng([SEED, case.rows, case.numerical, case.categorical])
    rows = case.rows // scale
    categories = np.array([f"cat_{i:02d}" for i in range(12)])
    base_weights = 1.0 / np.arange(1, len(categories) + 1)
    paths = folder / f"{case.rows}-reference.parquet", folder / f"{case.rows}-current.parquet"
    for current, path in zip((False, True), paths, strict=True):
        columns: dict[str, Any] = {}
        for i in range(case.numerical):
            mean = 0.3 if current and i < case.numerical // 4 else 0.0
            spread = 2.0 if current and case.numerical // 4 <= i < case.numerical * 3 // 8 else 1.0
            columns[f"num_{i:02d}"] = 10.0 * i + mean + spread * rng.normal(size=rows)
        for i in range(case.categorical):
            weights = base_weights ** (0.3 if current and i < 2 else 1.0)
            columns[f"cat_{i}"] = rng.choice(categories, size=rows, p=weights / weights.sum())
        pq.write_table(pa.table(columns), path)
    return paths


def run_side(python: Path, side: str, reference: Path, current: Path, log: Any) -> SideRun:
    """Spawn one side, wait for it, and read its figures and peak memory."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), str(SIDE_SCRIPT), side, str(reference), str(current)],
        stdout=subprocess.PIPE,
        stderr=log,
        cwd=REPO,
    )
    assert proc.stdout is not None
    try:
        output = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
    except BaseException:
        proc.kill()
        raise
    process_seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        return SideRun(error=f"{side} exited with {proc.returncode}; see {log.name}")
    data = json.loads(output)
    return SideRun(
        drift_seconds=float(data["drift_seconds"]),
        process_seconds=process_seconds,
        peak_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        drifted=tuple(data["drifted"]),
    )


def _rows(case: Case, anchor: SideRun, ours: SideRun) -> list[Row]:
    return [
        Row(f"{case.name}: drift computation", anchor.drift_seconds, ours.drift_seconds, TARGET),
        Row(f"{case.name}: whole process", anchor.process_seconds, ours.process_seconds, None),
        Row(f"{case.name}: peak memory", anchor.peak_mib, ours.peak_mib, None, unit="MiB"),
    ]


def run(*, keep: bool = False, scale: int = 1) -> Report:
    """Build Evidently's venv if needed, run both sides on every case, report and keep JSON."""
    evidently_python = ensure_venv("evidently", HERE / "requirements-evidently.txt")
    loopml_python = REPO / ".venv" / "bin" / "python"
    work = WORK_DIR / "monitoring"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows: list[Row] = []
    notes: list[str] = []
    details: dict[str, Any] = {}
    load_before = os.getloadavg()[0]
    try:
        with (WORK_DIR / "monitoring-sides.log").open("w") as log:
            for case in CASES:
                print(f"[monitoring] writing {case.name} ...", file=sys.stderr, flush=True)
                reference, current = write_case(case, work, scale)
                print(f"[monitoring] {case.name}: Evidently ...", file=sys.stderr, flush=True)
                anchor = run_side(evidently_python, "evidently", reference, current, log)
                print(f"[monitoring] {case.name}: loopml ...", file=sys.stderr, flush=True)
                ours = run_side(loopml_python, "loopml", reference, current, log)
                rows += _rows(case, anchor, ours)
                notes += [f"{case.name}: {r.error}" for r in (anchor, ours) if r.error]
                if anchor.error is None and ours.error is None:
                    same = anchor.drifted == ours.drifted
                    notes.append(
                        f"{case.name}: {len(ours.drifted)} drifted columns for loopml, "
                        f"{len(anchor.drifted)} for Evidently ("
                        + ("the same columns)" if same else "DIFFERENT columns)")
                    )
                details[case.name] = {
                    "rows": case.rows // scale,
                    "evidently_drifted": list(anchor.drifted),
                    "loopml_drifted": list(ours.drifted),
                }
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    notes.append(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} cores); figures from a busy machine are noisy"
    )
    report = Report(
        name="monitoring",
        anchor=f"evidently {_version(evidently_python, 'evidently')}",
        loopml=f"loopml {_version(loopml_python, 'loopml')}",
        rows=rows,
        notes=notes,
        details=details,
    )
    write_json(report, WORK_DIR / "monitoring.json")
    return report


def _version(python: Path, package: str) -> str:
    code = f"from importlib.metadata import version; print(version({package!r}))"
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the generated Parquet files")
    parser.add_argument("--small", action="store_true", help="1/100 of the rows: a harness check")
    args = parser.parse_args()
    render(run(keep=args.keep, scale=100 if args.small else 1))


if __name__ == "__main__":
    main()
