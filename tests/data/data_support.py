"""Helpers of the data tests (H1's modules): files, folders and cache paths."""

from __future__ import annotations

import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

from loopml.data._repo import DataRepo


@dataclass
class Recorder:
    """A Progress that remembers every call (the protocol, implemented for real; thread-safe)."""

    phases: list[tuple[str, int | None, str]] = field(default_factory=list)
    advances: list[int] = field(default_factory=list)
    finished: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def advanced(self) -> int:
        return sum(self.advances)

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        self.phases.append((description, total, unit))

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            self.advances.append(amount)

    def finish(self) -> None:
        self.finished += 1


def run_git(root: Path, *args: str) -> str:
    """Run git in ``root``; its stdout (fails the test on error)."""
    done = subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def write_file(path: Path, content: bytes | str) -> Path:
    """Create or replace a file (unlinking first: never write through a cache hardlink)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def make_folder(root: Path, files: dict[str, bytes | str]) -> Path:
    """A folder holding ``files`` (relative path -> content)."""
    for rel, content in files.items():
        write_file(root / rel, content)
    return root


def blob_path(repo: DataRepo, object_id: str) -> Path:
    """Where the cache keeps a plain blob."""
    return Path(repo.cache_uri) / "blobs" / object_id[:2] / object_id[2:]
