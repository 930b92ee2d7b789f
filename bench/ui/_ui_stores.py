"""The two populated stores, loaded once and cached under ``bench/ui/.cache/``.

A store is built by its loader script (``load_loopml.py``, ``load_mlflow.py``) in a
scratch folder in memory (``/dev/shm`` when there is room: MLflow's per-run commits
would otherwise wait on the disk), then moved into the cache under a name made of
the data's size and seed and of what shapes the database (loopml's migrations,
MLflow's pinned requirements). A second run finds it there and skips loading. A
benchmark run serves a copy, so a server's migrations or WAL files never touch the
cached database.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _ui_data import Size

HERE = Path(__file__).resolve().parent
CACHE_DIR = HERE / ".cache"
LOAD_TIMEOUT_SECONDS = 1800
_DONE = "manifest.json"
_SCRATCH = Path("/dev/shm")
_SCRATCH_NEEDS = 4 << 30  # bytes free in /dev/shm before it is used


@dataclass(frozen=True)
class Store:
    """A cached database and what its loader reported (experiment id, run ids, load time)."""

    side: str
    db: Path
    manifest: dict
    cached: bool  # found in the cache (no load in this run)


def cached_store(
    side: str, python: Path, size: Size, shape: str, env: dict[str, str], log: Path
) -> Store:
    """The store of ``side`` for ``size``: from the cache, or loaded now and cached."""
    folder = CACHE_DIR / f"{side}-{size.key}-{shape}"
    if (folder / _DONE).exists():
        return Store(side, folder / f"{side}.db", json.loads((folder / _DONE).read_text()), True)
    if folder.exists():
        shutil.rmtree(folder)  # a load that did not finish
    scratch_root = _SCRATCH if _has_room(_SCRATCH) else CACHE_DIR
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"loopml-bench-ui-{side}-", dir=scratch_root) as tmp:
        db, manifest = Path(tmp) / f"{side}.db", Path(tmp) / _DONE
        print(f"ui: loading {size.runs:,} runs into {side} (then cached) ...", file=sys.stderr)
        start = time.perf_counter()
        with log.open("w") as out:
            proc = subprocess.run(
                [
                    str(python),
                    str(HERE / f"load_{side}.py"),
                    str(db),
                    str(manifest),
                    str(size.runs),
                    str(size.big_points),
                ],
                cwd=tmp,  # anything a library drops in the cwd (mlruns/) goes with the scratch
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=LOAD_TIMEOUT_SECONDS,
                check=False,
            )
        if proc.returncode != 0 or not manifest.exists():
            tail = "\n".join(log.read_text().splitlines()[-15:])
            raise RuntimeError(f"loading {side} failed ({proc.returncode}); {log}:\n{tail}")
        data = json.loads(manifest.read_text())
        data["load_wall_s"] = time.perf_counter() - start
        folder.mkdir(parents=True)
        for path in Path(tmp).iterdir():  # the database with any -wal/-shm beside it
            if path.name.startswith(db.name):
                shutil.move(str(path), folder / path.name)
        (folder / _DONE).write_text(json.dumps(data))  # last: marks the cache entry complete
    return Store(side, folder / db.name, data, False)


def working_copy(store: Store, into: Path) -> Path:
    """A copy of the store's database (and its -wal) for a server to open."""
    into.mkdir(parents=True, exist_ok=True)
    for path in store.db.parent.iterdir():
        if path.name.startswith(store.db.name):
            shutil.copyfile(path, into / path.name)
    return into / store.db.name


def loopml_shape(repo: Path) -> str:
    """What makes a cached loopml database stale: the set of schema migrations."""
    versions = repo / "src" / "loopml" / "store" / "migrations" / "versions"
    names = sorted(p.name for p in versions.glob("*.py"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]


def file_shape(path: Path) -> str:
    """A requirements file's hash: another MLflow version means another database."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def _has_room(folder: Path) -> bool:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return False
    return stats.f_bavail * stats.f_frsize >= _SCRATCH_NEEDS
