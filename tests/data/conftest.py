"""Fixtures of the data tests: a real git work tree holding a loopml data repository.

LOOPML_HOME is already a fresh temporary folder (tests/conftest.py), so the
cache (the platform object store under it) is empty in every test.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from data_support import make_folder, write_file

from git_work_tree import init_git_work_tree
from loopml.data._add import add
from loopml.data._repo import DataRepo


@pytest.fixture
def git_root(tmp_path: Path) -> Path:
    """An empty git work tree with a committer identity."""
    return init_git_work_tree(tmp_path / "work")


@pytest.fixture
def repo(git_root: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DataRepo]:
    """``loopml data init`` at the git root, which is also the current folder.

    Hardlinks are configured explicitly (``link = "hardlink"``): the default
    leaves them out for root, and these tests (and CI) run as root.
    """
    monkeypatch.chdir(git_root)
    data_repo = DataRepo.init(git_root)
    data_repo.save_config(dataclasses.replace(data_repo.config(), link="hardlink"))
    yield data_repo
    data_repo.close()


@pytest.fixture
def tracked(repo: DataRepo) -> DataRepo:
    """``repo`` with a folder (images: a, b, sub/c) and a file (model.bin) added."""
    make_folder(repo.root / "images", {"a": "aaa", "b": "bbb", "sub/c": "ccc"})
    write_file(repo.root / "model.bin", b"weights")
    add(repo, [Path("images"), Path("model.bin")])
    return repo
