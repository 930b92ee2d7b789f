"""Real git repositories with a loopml data repository at their root, for history tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from loopml.data._add import add
from loopml.data._pointer import Pointer
from loopml.data._repo import DataRepo

_IDENTITY = ("-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com")


def git(root: Path, *args: str) -> str:
    """Run git in ``root`` with a fixed identity; its stdout (fails the test on error)."""
    done = subprocess.run(
        ["git", *_IDENTITY, "-c", "commit.gpgsign=false", "-C", str(root), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def commit(root: Path, message: str) -> str:
    """Stage everything (pointer files, .gitignore, config) and commit; the new sha."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


def git_repo(path: Path) -> Path:
    """A fresh git work tree at ``path`` (no commits)."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    return path


def data_repo(path: Path) -> DataRepo:
    """A git work tree with ``loopml data init`` done and committed."""
    repo = DataRepo.init(git_repo(path))
    commit(repo.root, "init data repo")
    return repo


def write(path: Path, content: bytes | str) -> Path:
    """Create or replace a data file, even one linked read-only from the cache."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()  # never write through a hardlink into the cache
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


def remove(path: Path) -> None:
    """Delete a data file or folder, read-only files included."""
    if path.is_dir() and not path.is_symlink():
        for folder, _, _ in os.walk(path):
            os.chmod(folder, 0o755)
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def track(repo: DataRepo, *relpaths: str) -> list[Pointer]:
    """``loopml data add`` of paths relative to the repository root."""
    return add(repo, [repo.root / rel for rel in relpaths])


def blob_file(repo: DataRepo, object_id: str) -> Path:
    """Where the cache keeps a plain blob."""
    return Path(repo.cache_uri) / "blobs" / object_id[:2] / object_id[2:]


def tree_file(repo: DataRepo, object_id: str) -> Path:
    """Where the cache keeps a tree."""
    return Path(repo.cache_uri) / "trees" / object_id[:2] / object_id[2:]
