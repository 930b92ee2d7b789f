"""Virtual environments for the anchors a benchmark compares loopml against.

Each anchor (MLflow, ...) gets its own venv under ``bench/.venvs/<name>``,
built on demand from a pinned requirements file, so its dependencies never
meet the project's. A stamp file holds the hash of the requirements file the
venv was built from: an edited file rebuilds the venv from scratch, a missing
stamp (an interrupted install) resumes it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VENVS_DIR = Path(__file__).resolve().parent / ".venvs"
_STAMP_NAME = ".requirements.sha256"


def ensure_venv(name: str, requirements_file: Path) -> Path:
    """Return the Python of the anchor venv ``name``, built from ``requirements_file``.

    The venv is (re)built only when the requirements file's hash differs from
    the one it was built from; otherwise this returns at once. Build output
    goes to ``bench/.venvs/<name>.log``; a failed build raises
    ``RuntimeError`` naming that log.
    """
    venv = VENVS_DIR / name
    python = venv / "bin" / "python"
    stamp = venv / _STAMP_NAME
    wanted = _file_hash(requirements_file)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if stamp.exists():
        shutil.rmtree(venv)  # requirements changed: start clean, no stale packages
    log = VENVS_DIR / f"{name}.log"
    VENVS_DIR.mkdir(parents=True, exist_ok=True)
    with _progress(f"Building the {name} venv (a few minutes; log: {log})"), log.open("w") as out:
        if not python.exists():
            _run([sys.executable, "-m", "venv", str(venv)], out, log)
        _run([str(python), "-m", "pip", "install", "-r", str(requirements_file)], out, log)
    stamp.write_text(wanted + "\n")
    return python


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(cmd: list[str], out: object, log: Path) -> None:
    result = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False)  # type: ignore[arg-type]
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({result.returncode}); see {log}")


@contextmanager
def _progress(message: str) -> Iterator[None]:
    # Rich is a project dependency, but the helper must not need it.
    try:
        from rich.console import Console
    except ImportError:
        print(message, "...", file=sys.stderr, flush=True)
        yield
        return
    with Console(stderr=True).status(message):
        yield
