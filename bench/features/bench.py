"""Feature store benchmark: Feast (the anchor), a plain DuckDB ASOF join (the floor), loopml.

Same machine, one run, same data: 1,000,000 feature rows (10,000 entities x
100 timestamps, 5 features) and an entity frame of 100,000 rows, written
once as Parquet under ``bench/.work/features/`` by ``_data.py`` and read by
every side. Each side runs in its own fresh process: Feast in its venv
(``bench/.venvs/feast``, from ``requirements-feast.txt``: file offline store,
SQLite online store), the floor (``floor_side.py``) and loopml
(``loopml_side.py``: SQLite, then Redis at 127.0.0.1:6379 db 15, flushed
before and after) in the project's. Cases, and what loopml must reach:

    training set of 100,000 entity rows (entity frame in
      memory -> pandas DataFrame)                    30x faster than Feast
                                                     within 2x of the floor
    materialisation of the whole window (10,000
      entities) into SQLite / Redis                  (shown)
    online lookup of 100 entities (median of many
      calls) in SQLite / Redis                       under 1 ms
    peak memory of the side's process                (shown)

Every side's training set is checked against the floor's: rows returned
(every entity row must come back, duplicates included), the entity frame's
order, and the values of every row; online answers against the latest
feature row of each key. The notes print these counts.

Figures go to ``bench/.work/features.json``; the data is deleted at the end
(``--keep`` keeps it). Run it alone with ``.venv/bin/python
bench/features/bench.py`` (``--small``: 100 entities and 1,000 entity rows,
a quick check of the harness).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent
for _path in (BENCH_DIR, HERE):  # run alone rather than through bench/run.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _anchor import ensure_venv  # noqa: E402
from _check import check_online, check_training, latest_values  # noqa: E402
from _data import Shape, write_data  # noqa: E402
from _report import WORK_DIR, Report, Row, render, write_json  # noqa: E402

TRAINING_VS_FEAST = 30.0
TRAINING_VS_FLOOR = 0.5  # the floor's seconds / loopml's: within 2x
ONLINE_MS = 1.0
SIDE_TIMEOUT_SECONDS = 3600
SMALL = Shape(entities=100, entity_rows=1_000, lookup_entities=10)


@dataclass(frozen=True)
class SideRun:
    """One side's result.json, its process's wall time and peak memory, or why it failed."""

    result: dict[str, Any] | None
    process_seconds: float | None = None
    peak_mib: float | None = None
    error: str | None = None

    def get(self, *path: str) -> Any:
        value: Any = self.result
        for part in path:
            if not isinstance(value, dict) or part not in value:
                return None
            value = value[part]
        return value

    @property
    def training(self) -> float | None:
        seconds = self.get("training_seconds")
        return statistics.median(seconds) if seconds else None


def run_side(
    name: str, python: Path, spec: Path, out: Path, env: dict[str, str], log: Any
) -> SideRun:
    """Spawn ``<name>_side.py``, wait for it (with a timeout), read its figures and peak memory."""
    print(f"[features] {name} ...", file=sys.stderr, flush=True)
    out.mkdir(parents=True)
    log.write(f"===== {name} =====\n")
    log.flush()
    start = time.perf_counter()
    proc = subprocess.Popen(
        [str(python), str(HERE / f"{name}_side.py"), str(spec), str(out)],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=out,  # whatever a library drops in the cwd stays in the work dir
        env=env,
    )
    deadline = start + SIDE_TIMEOUT_SECONDS
    try:
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                proc.wait()
                return SideRun(None, error=f"{name} timed out after {SIDE_TIMEOUT_SECONDS} s")
            time.sleep(0.05)
    except BaseException:
        proc.kill()
        raise
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    result_file = out / "result.json"
    if proc.returncode != 0 or not result_file.exists():
        return SideRun(None, error=f"{name} exited with {proc.returncode}; see {log.name}")
    return SideRun(json.loads(result_file.read_text()), seconds, usage.ru_maxrss / 1024)


def _clean_env() -> dict[str, str]:
    # No side may pick up a tracking URI, home or online store from the caller's shell.
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("LOOPML_", "PYTHONPATH", "FEAST_"))
    }


def run(shape: Shape | None = None, *, keep: bool = False) -> Report:
    """Build Feast's venv if needed, write the data, run the three sides, check, report."""
    shape = shape or Shape()
    feast_python = ensure_venv("feast", HERE / "requirements-feast.txt")
    loopml_python = REPO / ".venv" / "bin" / "python"
    if not loopml_python.exists():
        loopml_python = Path(sys.executable)
    work = WORK_DIR / "features"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load_before = os.getloadavg()[0]
    try:
        print("[features] writing the data ...", file=sys.stderr, flush=True)
        spec_path = write_data(work / "data", shape)
        os.sync()  # else the first side runs against the writeback of the fresh files
        spec = json.loads(spec_path.read_text())
        env = _clean_env()
        loopml_env = {
            **env,
            "LOOPML_HOME": str(work / "loopml" / "home"),
            "LOOPML_TRACKING_URI": f"sqlite:///{work / 'loopml' / 'loopml.db'}",
        }
        with (WORK_DIR / "features-sides.log").open("w") as log:
            # The floor and loopml back to back: the machine's load drifts less between them.
            floor = run_side("floor", loopml_python, spec_path, work / "floor", env, log)
            loopml = run_side("loopml", loopml_python, spec_path, work / "loopml", loopml_env, log)
            feast = run_side("feast", feast_python, spec_path, work / "feast", env, log)
        report = _compare(spec, work, floor, feast, loopml)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    report.notes.append(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} cores); figures from a busy machine are noisy"
    )
    write_json(report, WORK_DIR / "features.json")
    return report


def _rows(floor: SideRun, feast: SideRun, loopml: SideRun) -> list[Row]:
    feast_materialize = feast.get("materialize_seconds", "sqlite")
    feast_online = feast.get("online_ms", "sqlite")
    ours = loopml.get
    return [
        Row("training set vs Feast", feast.training, loopml.training, TRAINING_VS_FEAST),
        Row("training set vs floor*", floor.training, loopml.training, TRAINING_VS_FLOOR),
        Row("materialize, SQLite", feast_materialize, ours("materialize_seconds", "sqlite"), None),
        Row("materialize, Redis**", feast_materialize, ours("materialize_seconds", "redis"), None),
        Row(
            "online lookup, SQLite",
            feast_online,
            ours("online_ms", "sqlite"),
            None,
            "ms",
            ONLINE_MS,
        ),
        Row(
            "online lookup, Redis**",
            feast_online,
            ours("online_ms", "redis"),
            None,
            "ms",
            ONLINE_MS,
        ),
        Row("peak memory", feast.peak_mib, loopml.peak_mib, None, unit="MiB"),
    ]


def _checks(
    spec: dict[str, Any], work: Path, floor: SideRun, sides: dict[str, SideRun]
) -> tuple[list[str], dict[str, Any]]:
    """Rows returned and values of each side's training set and online answers, as notes."""
    notes: list[str] = []
    details: dict[str, Any] = {}
    if floor.result is not None:
        for name, side in sides.items():
            if side.result is not None:
                check = check_training(
                    work / "floor" / "training.parquet",
                    work / name.lower() / "training.parquet",
                    spec,
                )
                notes.append(check.describe(name))
                details[f"{name.lower()}_check"] = asdict(check)
    expected = latest_values(spec)
    for name, side in sides.items():
        for store, values in (side.get("online_values") or {}).items():
            wrong = check_online(values, expected)
            notes.append(
                f"{name} online ({store}): {wrong} of {len(expected)} keys "
                "missing or not the latest row"
            )
    return notes, details


def _compare(
    spec: dict[str, Any], work: Path, floor: SideRun, feast: SideRun, loopml: SideRun
) -> Report:
    notes = [
        f"data: {spec['feature_rows']:,} feature rows, {spec['entity_rows']:,} entity rows, "
        "5 features, TTL 30 days; materialize: the whole window, one row per entity; "
        f"online lookup: {len(spec['lookup_keys'])} entities per call, the median of many "
        "calls; peak memory: the whole side process",
        "* anchor = the DuckDB floor; 0.5x = loopml within 2x of it",
        "** loopml's Redis store against Feast's SQLite one (Feast's figure repeated)",
        f"training set figures: the median of {_runs(feast)} run(s) for Feast, "
        f"{_runs(floor)} for the floor, {_runs(loopml)} for loopml",
    ]
    for name, side in (("floor", floor), ("feast", feast), ("loopml", loopml)):
        if side.error:
            notes.append(f"[red]{name} side failed:[/] {side.error}")
        for case, error in (side.get("errors") or {}).items():
            notes.append(f"[red]{name} side, {case} skipped:[/] {error}")
    if floor.training is not None and feast.training is not None:
        notes.append(
            f"DuckDB floor {floor.training:.3f} s (duckdb {floor.get('version')}), "
            f"{feast.training / floor.training:.0f}x faster than Feast's {feast.training:.1f} s"
        )
    check_notes, details = _checks(spec, work, floor, {"Feast": feast, "loopml": loopml})
    details.update(spec=spec, floor=floor.result, feast=feast.result, loopml=loopml.result)
    return Report(
        name="features",
        anchor=f"feast {feast.get('version') or '(did not run)'}",
        loopml=f"loopml {loopml.get('version')}" if loopml.result else "loopml (did not run)",
        rows=_rows(floor, feast, loopml),
        notes=notes + check_notes,
        details=details,
    )


def _runs(side: SideRun) -> int:
    return len(side.get("training_seconds") or [])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the generated Parquet files")
    parser.add_argument("--small", action="store_true", help="100 entities: a harness check")
    args = parser.parse_args()
    render(run(SMALL if args.small else None, keep=args.keep))


if __name__ == "__main__":
    main()
