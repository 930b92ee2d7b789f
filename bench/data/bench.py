"""Data versioning benchmark: DVC (the anchor) against ``loopml data``, same data, one run.

Each tool works in its own fresh git repository under ``bench/.work/data/``
(``git init`` + ``dvc init`` / ``loopml data init``, a local-folder remote as
default), on its own copy of the same seeded data, written for both in one
pass before anything is timed. Every command is a subprocess timed from
spawn to exit; the tools take turns (the order flips at every step), and the
disks are synced before each timed command. Cases, and what loopml must reach
(DVC's figure / loopml's):

    add of one 1 GiB file of random bytes (median of 3)      3x faster
    add of a folder of 10,000 files of 4 KiB (median of 3)   3x faster
    status with nothing changed (median of 3, alternating)   5x faster
    re-add after overwriting 1 MiB in the middle of the
      1 GiB file: time                                       (shown)
      new bytes in the cache (cache size after - before)     100x fewer
    push of everything to the local-folder remote            (shown)
    pull into a fresh clone (git clone, empty cache)         (shown)

Each add is timed three times, the tools alternating, every time in a new
repository with an empty cache (the data is moved over, untimed); the
median is reported. A single add of a 1 GiB file swings by a third from one
run to the next on these machines, for both tools.

The cache is DVC's ``.dvc/cache`` and loopml's object store
(``$LOOPML_HOME/objects``, a fresh LOOPML_HOME per run, unless
``.loopml/config.toml`` names another cache). Pulled data is compared with
the original, byte for byte. If a loopml command fails, DVC's figures are
still reported and the failure is printed.

Figures (wall seconds, and CPU seconds of each command and its children)
go to ``bench/.work/data.json``, each tool's commands and output to
``bench/.work/data-dvc.log`` / ``data-loopml.log``; the generated data is
deleted at the end (``--keep`` keeps it). Run it alone with
``.venv/bin/python bench/data/bench.py`` (``--small`` for a quick check of
the harness on 64 MiB and 500 files).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BENCH_DIR = HERE.parent
REPO = BENCH_DIR.parent
for _path in (BENCH_DIR, HERE):  # run alone rather than through bench/run.py
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from _anchor import ensure_venv  # noqa: E402
from _dataset import MIB, Shape, digest, edit_middle, tree_bytes, write_big, write_files  # noqa: E402
from _report import WORK_DIR, Report, Row, render, write_json  # noqa: E402
from _tools import CommandFailed, Dvc, Loopml, Tool, git  # noqa: E402

BIG, FILES = "big.bin", "samples"
STATUS_RUNS = 3
ADD_RUNS = 3
TARGETS = {"add_big": 3.0, "add_files": 3.0, "status": 5.0, "edit_bytes": 100.0}


class Side:
    """One tool's repository and its figures; ``failed`` stops its later steps."""

    def __init__(self, tool: Tool, root: Path) -> None:
        self.tool = tool
        self.root = root
        self.repo = root / "repo"
        self.seconds: dict[str, float] = {}  # wall
        self.cpu: dict[str, float] = {}  # user + system, the tool and its children
        self.facts: dict[str, Any] = {}
        self.failed: str | None = None

    def step(self, name: str, action: Callable[[], None]) -> None:
        if self.failed is None:
            try:
                action()
            except (CommandFailed, subprocess.TimeoutExpired) as exc:
                self.failed = f"{name}: {exc}"

    def time(self, key: str, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        """Run one timed verb and keep its figures under ``key``."""
        timing = self.tool.timed(cwd, *args, env=env)
        self.seconds[key], self.cpu[key] = timing

    def cache_bytes(self) -> int:
        return tree_bytes(self.tool.cache_dir(self.repo, self.tool.env))

    def keep_median(self, key: str, runs: int) -> None:
        """``key``'s figures: the median of ``key_0`` .. ``key_{runs-1}``, if all ran."""
        for figures in (self.seconds, self.cpu):
            values = [figures[f"{key}_{i}"] for i in range(runs) if f"{key}_{i}" in figures]
            if len(values) == runs:
                figures[key] = statistics.median(values)


def run(shape: Shape | None = None, *, keep: bool = False) -> Report:
    """Build DVC's venv if needed, run every case on both tools, report and keep the JSON."""
    shape = shape or Shape()
    dvc_python = ensure_venv("dvc", HERE / "requirements-dvc.txt")
    work = WORK_DIR / "data"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    _precompile_loopml()
    load_before = os.getloadavg()[0]
    with (
        (WORK_DIR / "data-dvc.log").open("w") as dvc_log,
        (WORK_DIR / "data-loopml.log").open("w") as loopml_log,
    ):
        sides = [
            Side(Dvc.make(dvc_python, work / "dvc", dvc_log), work / "dvc"),
            Side(
                Loopml.make(REPO / ".venv", work / "loopml" / "home", loopml_log), work / "loopml"
            ),
        ]
        try:
            _measure(sides, shape)
        finally:
            if not keep:
                shutil.rmtree(work, ignore_errors=True)
    report = _compare(sides, shape)
    report.notes.append(
        f"load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} cores); figures from a busy machine are noisy"
    )
    write_json(report, WORK_DIR / "data.json")
    return report


def _precompile_loopml() -> None:
    """Give loopml's modules the .pyc files an installed package has.

    DVC comes from wheels, compiled at install; loopml is installed editable
    from ``src/``, and with PYTHONDONTWRITEBYTECODE set (as in the dev
    sessions) it would compile every module it imports at each start. The
    .pyc files land in ``src/**/__pycache__`` (ignored by git).
    """
    source = REPO / "src" / "loopml"
    if source.is_dir():
        python = REPO / ".venv" / "bin" / "python"
        subprocess.run([str(python), "-m", "compileall", "-q", str(source)], check=False)


def _measure(sides: list[Side], shape: Shape) -> None:
    for side in sides:
        side.step("init", partial(_init, side))
    _progress(f"generating {shape.big_bytes // MIB} MiB + {shape.files:,} files per tool")
    write_big([s.repo / BIG for s in _alive(sides)], shape.big_bytes, shape.seed)
    write_files([s.repo / FILES for s in _alive(sides)], shape.files, shape.file_bytes, shape.seed)

    for run in range(ADD_RUNS):
        if run:
            _each(sides, run, "new repository", partial(_fresh_repo, number=run))
        _each(sides, run, "add_big", _timed(f"add_big_{run}", "add", BIG))
        _each(sides, run + 1, "add_files", _timed(f"add_files_{run}", "add", FILES))
    for side in sides:
        side.keep_median("add_big", ADD_RUNS)
        side.keep_median("add_files", ADD_RUNS)
    for side in _alive(sides):
        side.facts["workspace_link"] = _link_kind(side.repo / FILES / "sample_00000.bin")
        side.facts["cache_bytes_after_adds"] = side.cache_bytes()
    for i in range(STATUS_RUNS):
        _each(sides, i, "status", _timed(f"status_{i}", "status"))
    for side in sides:
        side.keep_median("status", STATUS_RUNS)
    _each(sides, 0, "edit", partial(_edit_and_add, shape=shape))
    _each(sides, 1, "push", _timed("push", "push"))
    for side in _alive(sides):
        side.facts["remote_bytes"] = tree_bytes(side.root / "remote")
    _each(sides, 0, "pull", _clone_and_pull)


def _alive(sides: list[Side]) -> list[Side]:
    return [side for side in sides if side.failed is None]


def _each(sides: list[Side], turn: int, name: str, action: Callable[[Side], None]) -> None:
    """Run ``action`` on every side, the order flipped on odd turns."""
    _progress(name)
    for side in sides if turn % 2 == 0 else reversed(sides):
        side.step(name, partial(action, side))


def _init(side: Side) -> None:
    side.facts["version"] = side.tool.version()
    side.tool.init_repo(side.repo)
    side.tool.set_remote(side.repo, side.root / "remote")


def _fresh_repo(side: Side, number: int) -> None:
    """Move the data into a new repository with an empty cache, for the next timed adds."""
    old = side.repo
    shutil.rmtree(side.tool.cache_dir(old, side.tool.env), ignore_errors=True)
    shutil.rmtree(side.root / "remote", ignore_errors=True)
    side.tool.forget_state()
    side.repo = side.root / f"repo-{number}"
    side.tool.init_repo(side.repo)
    side.tool.set_remote(side.repo, side.root / "remote")
    for name in (BIG, FILES):
        (old / name).chmod(0o755 if (old / name).is_dir() else 0o644)
        os.rename(old / name, side.repo / name)
    shutil.rmtree(old)


def _timed(key: str, *args: str) -> Callable[[Side], None]:
    """The step that runs ``args`` timed and keeps the seconds under ``key``."""

    def step(side: Side) -> None:
        side.time(key, side.repo, *args)

    return step


def _edit_and_add(side: Side, shape: Shape) -> None:
    side.facts["edit"] = edit_middle(side.repo / BIG, shape.edit_bytes, shape.seed)
    before = side.cache_bytes()
    side.time("edit_add", side.repo, "add", BIG)
    side.facts["edit_new_bytes"] = side.cache_bytes() - before


def _clone_and_pull(side: Side) -> None:
    """Commit, clone with git, pull into the clone (empty cache), compare with the original."""
    side.facts["not_gitignored"] = side.tool.commit(side.repo, [BIG, FILES])
    clone = side.root / "clone"
    git(side.root, side.tool.env, side.tool.log, "clone", "-q", str(side.repo), str(clone))
    env = {**side.tool.env}
    if "LOOPML_HOME" in env:
        env["LOOPML_HOME"] = str(side.root / "clone-home")
    side.time("pull", clone, "pull", env=env)
    side.facts["pull_cache_bytes"] = tree_bytes(side.tool.cache_dir(clone, env))
    side.facts["pulled_equal"] = all(
        (clone / name).exists() and digest(clone / name) == digest(side.repo / name)
        for name in (BIG, FILES)
    )


def _link_kind(path: Path) -> str:
    if not path.exists():
        return "missing"
    stat = path.stat()
    kind = "hardlink" if stat.st_nlink > 1 else "own copy (or reflink)"
    return kind + ("" if os.access(path, os.W_OK) else ", read-only")


def _compare(sides: list[Side], shape: Shape) -> Report:
    dvc, loopml = sides
    big = (
        f"{shape.big_bytes / MIB / 1024:g} GiB"
        if shape.big_bytes >= 1024 * MIB
        else f"{shape.big_bytes // MIB} MiB"
    )
    edit = f"{shape.edit_bytes / MIB:g} MiB"
    files = f"{shape.files:,} files x {shape.file_bytes // 1024} KiB"
    cases = [  # key, label, unit, target
        ("add_big", f"add {big} file", "s", TARGETS["add_big"]),
        ("add_files", f"add {files}", "s", TARGETS["add_files"]),
        ("status", "status, nothing changed", "s", TARGETS["status"]),
        ("edit_add", f"re-add after {edit} edit", "s", None),
        ("edit_bytes", f"cache growth, {edit} edit", "MiB", TARGETS["edit_bytes"]),
        ("push", "push to local remote", "s", None),
        ("pull", "pull into fresh clone", "s", None),
    ]
    rows = [
        Row(
            case=label,
            anchor_seconds=_figure(dvc, key),
            loopml_seconds=_figure(loopml, key),
            target=target,
            unit=unit,
        )
        for key, label, unit, target in cases
    ]
    notes = [
        f"data: seeded random bytes, one {big} file and {shape.files:,} files of "
        f"{shape.file_bytes:,} B, one copy per tool; page cache not dropped (no permission): "
        "both tools read files that were just written; adds: the median of "
        f"{ADD_RUNS} runs, each in a new repository with an empty cache; status: the median "
        f"of {STATUS_RUNS} runs; the tools alternating; both run from compiled .pyc files",
        "workspace after add of the folder: "
        + "; ".join(f"{s.tool.name} {s.facts.get('workspace_link', '-')}" for s in sides),
    ]
    cpu = [
        f"{key} {dvc.cpu[key]:.1f}/{loopml.cpu[key]:.1f}"
        for key in ("add_big", "add_files", "status_0", "edit_add", "push", "pull")
        if key in dvc.cpu and key in loopml.cpu
    ]
    if cpu:
        notes.append("CPU seconds, dvc/loopml (less noisy than wall time): " + ", ".join(cpu))
    for side in sides:
        facts = side.facts
        if "cache_bytes_after_adds" in facts:
            notes.append(
                f"{side.tool.name}: cache {facts['cache_bytes_after_adds'] / MIB:,.1f} MiB "
                "after the adds, "
                f"remote {facts.get('remote_bytes', 0) / MIB:,.1f} MiB after push, "
                f"clone cache {facts.get('pull_cache_bytes', 0) / MIB:,.1f} MiB after pull"
            )
        if facts.get("pulled_equal") is False:
            notes.append(f"[red]{side.tool.name}: the pulled data differs from the original[/]")
        if facts.get("not_gitignored"):
            notes.append(f"[red]{side.tool.name}: git does not ignore {facts['not_gitignored']}[/]")
        if side.failed:
            notes.append(f"[yellow]{side.tool.name} failed at[/] {side.failed}")
    return Report(
        name="data",
        anchor=dvc.facts.get("version", "dvc"),
        loopml=loopml.facts.get("version", "loopml") + (" (failed)" if loopml.failed else ""),
        rows=rows,
        notes=notes,
        details={
            s.tool.name: {
                "seconds": s.seconds,
                "cpu_seconds": s.cpu,
                "facts": s.facts,
                "failed": s.failed,
            }
            for s in sides
        },
    )


def _figure(side: Side, key: str) -> float | None:
    if key == "edit_bytes":
        new = side.facts.get("edit_new_bytes")
        return None if new is None else new / MIB
    return side.seconds.get(key)


def _progress(message: str) -> None:
    print(f"data: {message} ...", file=sys.stderr, flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="DVC vs loopml data benchmark")
    parser.add_argument(
        "--small", action="store_true", help="64 MiB and 500 files: check the harness"
    )
    parser.add_argument("--keep", action="store_true", help="keep bench/.work/data/ afterwards")
    options = parser.parse_args()
    small = Shape(big_bytes=64 * MIB, files=500) if options.small else None
    render(run(small, keep=options.keep))
