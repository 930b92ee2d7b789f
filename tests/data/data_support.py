"""Helpers of the data tests (H1's modules): files, folders and cache paths."""

from __future__ import annotations

import subprocess
from pathlib import Path

from loopml.data._repo import DataRepo


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
