"""capture_code on real git repositories: clean, dirty, detached, shallow, empty, none, no git."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import orjson
import pytest

from git_work_tree import init_git_work_tree
from loopml.core.errors import InvalidArgument
from loopml.provenance import capture_code, strip_credentials

BINARY = b"\x00\x01\x02binary\xff"


@pytest.fixture(autouse=True)
def _no_outer_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git never walks up out of tmp_path into some repository around it."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return done.stdout.decode().strip()


def commit_all(root: Path, message: str = "commit") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository with one commit: a text file, a binary file and a .gitignore."""
    root = init_git_work_tree(tmp_path / "repo")
    (root / "train.py").write_text("print('train')\n")
    (root / "weights.bin").write_bytes(BINARY)
    (root / ".gitignore").write_text("*.log\n")
    commit_all(root, "first")
    return root


def test_clean_repository(repo: Path) -> None:
    git(repo, "remote", "add", "origin", "https://alice:s3cret@example.com/team/x.git")
    state = capture_code(repo, ["train.py"])
    assert state.in_repo and state.root == str(repo)
    assert state.commit == git(repo, "rev-parse", "HEAD")
    assert state.branch == "main" and not state.detached and not state.shallow
    assert state.remote_url == "https://example.com/team/x.git"
    assert not state.dirty and state.diff is None and not state.diff_truncated
    assert state.binary_files == () and state.warnings == ()
    tags = state.tags()
    assert tags["mlflow.source.git.commit"] == state.commit
    assert tags["mlflow.source.git.branch"] == "main"
    assert tags["mlflow.source.git.repoURL"] == "https://example.com/team/x.git"
    assert tags["loopml.git.dirty"] == "false" and tags["loopml.git.in_repo"] == "true"
    assert "loopml.capture.warnings" not in tags
    assert "s3cret" not in repr(state) and "alice" not in repr(tags)


def test_dirty_patch_applies_on_a_fresh_clone(repo: Path, tmp_path: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('train harder')\n")
    (repo / "staged.py").write_text("x = 1\n")
    git(repo, "add", "staged.py")  # in the user's index: it must stay exactly as it is
    (repo / "src").mkdir()
    (repo / "src" / "new.py").write_text("def f():\n    return 2\n")
    (repo / "model.bin").write_bytes(BINARY)
    (repo / "weights.bin").write_bytes(BINARY + b"changed")
    (repo / "debug.log").write_text("ignored secret\n")
    status_before = git(repo, "status", "--porcelain")
    index_before = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()

    state = capture_code(repo, ["train.py"])

    assert git(repo, "status", "--porcelain") == status_before
    assert hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest() == index_before
    assert state.dirty and state.commit == commit and state.diff
    assert state.binary_files == ("model.bin", "weights.bin")
    assert b"debug.log" not in state.diff and b"ignored secret" not in state.diff
    assert b"Binary files" not in state.diff
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", commit)
    (tmp_path / "run.patch").write_bytes(state.diff)
    git(clone, "apply", str(tmp_path / "run.patch"))
    for name in ("train.py", "staged.py", "src/new.py"):
        assert (clone / name).read_bytes() == (repo / name).read_bytes()
    assert not (clone / "model.bin").exists() and not (clone / "debug.log").exists()
    assert (clone / "weights.bin").read_bytes() == BINARY  # binaries are listed, not patched


def test_deleted_tracked_file_is_in_the_patch(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").unlink()
    state = capture_code(repo, ["x"])
    assert state.dirty and state.diff and b"deleted file mode" in state.diff
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    (tmp_path / "p.patch").write_bytes(state.diff)
    git(clone, "apply", str(tmp_path / "p.patch"))
    assert not (clone / "train.py").exists()


def test_only_binary_changes_give_an_empty_patch(repo: Path) -> None:
    (repo / "weights.bin").write_bytes(BINARY * 2)
    state = capture_code(repo, ["x"])
    assert state.dirty and state.diff == b"" and state.binary_files == ("weights.bin",)


def test_detached_head(repo: Path) -> None:
    commit = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "--detach")
    state = capture_code(repo, ["x"])
    assert state.detached and state.branch is None and state.commit == commit
    assert "detached HEAD" in state.warnings
    assert "mlflow.source.git.branch" not in state.tags()
    assert "detached HEAD" in state.tags()["loopml.capture.warnings"]


def test_shallow_clone(repo: Path, tmp_path: Path) -> None:
    (repo / "train.py").write_text("print('v2')\n")
    head = commit_all(repo, "second")
    shallow = tmp_path / "shallow"
    url = f"file://{repo}"
    subprocess.run(["git", "clone", "-q", "--depth", "1", url, str(shallow)], check=True)
    state = capture_code(shallow, ["x"])
    assert state.shallow and state.commit == head and state.branch == "main"
    assert state.remote_url == url
    assert "shallow clone: history beyond HEAD is absent" in state.warnings


def test_repository_without_commits(tmp_path: Path) -> None:
    root = init_git_work_tree(tmp_path / "empty")
    (root / "a.py").write_text("a = 1\n")
    state = capture_code(root, ["a.py"])
    assert state.in_repo and state.commit is None and state.branch == "main"
    assert state.dirty and state.diff is None and not state.diff_truncated
    assert state.warnings == ("the repository has no commits",)
    assert "mlflow.source.git.commit" not in state.tags()


def test_outside_any_repository(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    script = plain / "job.py"
    script.write_text("pass\n")
    state = capture_code(argv=[str(script)])  # cwd: the script's folder
    assert not state.in_repo and state.root is None and state.commit is None
    assert not state.dirty and state.diff is None and state.warnings == ()
    assert state.entry_point == str(script.resolve())
    tags = state.tags()
    assert tags["loopml.git.in_repo"] == "false"
    assert not any(key.startswith("mlflow.source.git") for key in tags)
    assert "loopml.git.dirty" not in tags


def test_inside_the_git_folder_is_a_warning_not_an_error(repo: Path) -> None:
    state = capture_code(repo / ".git", ["x"])
    assert not state.in_repo
    assert len(state.warnings) == 1 and "git could not read the repository" in state.warnings[0]


def test_git_not_on_path(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    state = capture_code(repo, ["train.py"])
    assert not state.in_repo and state.commit is None
    assert len(state.warnings) == 1 and "git is not installed" in state.warnings[0]
    assert "git is not installed" in state.tags()["loopml.capture.warnings"]


def test_git_that_hangs_is_a_warning(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "slow-tools"
    tools.mkdir()
    (tools / "git").write_text(f"#!/bin/sh\nexec {shutil.which('sleep')} 30\n")
    (tools / "git").chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    state = capture_code(repo, ["x"], timeout=0.3)
    assert not state.in_repo
    assert state.warnings == ("git did not answer within 0.3 s (`git rev-parse`)",)


def test_oversized_diff_is_dropped_whole(repo: Path) -> None:
    (repo / "train.py").write_text("print('changed')\n" * 50)
    state = capture_code(repo, ["x"], max_diff_bytes=100)
    assert state.dirty and state.diff is None and state.diff_truncated
    assert state.warnings == ("diff larger than 100 bytes not recorded",)
    assert capture_code(repo, ["x"]).diff is not None  # the default cap (5 MiB) keeps it


def test_large_untracked_files_are_not_read_into_the_patch(repo: Path) -> None:
    (repo / "big.bin").write_bytes(BINARY * 400)
    state = capture_code(repo, ["x"], max_diff_bytes=2000)
    assert state.binary_files == ("big.bin",) and state.diff == b""
    (repo / "big.csv").write_text("a,b\n" * 1000)
    state = capture_code(repo, ["x"], max_diff_bytes=2000)
    assert state.diff_truncated and state.diff is None and "big.bin" in state.binary_files


def test_remote_choice(repo: Path) -> None:
    git(repo, "remote", "add", "backup", "ssh://git:pw@backup.example.com/x.git")
    assert capture_code(repo, ["x"]).remote_url == "ssh://git@backup.example.com/x.git"
    git(repo, "remote", "add", "origin", "git@github.com:team/x.git")
    assert capture_code(repo, ["x"]).remote_url == "git@github.com:team/x.git"
    git(repo, "config", "branch.main.remote", "backup")
    assert capture_code(repo, ["x"]).remote_url == "ssh://git@backup.example.com/x.git"


def test_entry_point_and_command(repo: Path) -> None:
    (repo / "src").mkdir()
    script = repo / "src" / "train.py"
    script.write_text("pass\n")
    state = capture_code(argv=[str(script), "--lr", "0.1"])
    assert state.root == str(repo) and state.entry_point == "src/train.py"
    assert state.command == (os.path.basename(sys.executable), str(script), "--lr", "0.1")
    assert orjson.loads(state.tags()["loopml.command"]) == list(state.command)
    assert state.tags()["loopml.entry_point"] == "src/train.py"


def test_interactive_and_notebook_entry_points(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert capture_code(repo, ["-c", "import x"]).entry_point == "<interactive>"
    assert capture_code(repo, [""]).entry_point == "<interactive>"
    monkeypatch.setenv("JPY_SESSION_NAME", str(repo / "nb" / "explore.ipynb"))
    # Inherited by `!python x.py` from a notebook: only a kernel process is the notebook.
    assert capture_code(repo, [str(repo / "train.py")]).entry_point == "train.py"
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    assert capture_code(repo, ["kernel"]).entry_point == "nb/explore.ipynb"
    # The kernel's argv[0] is its launcher, outside the project: the repository is cwd's.
    launcher = tmp_path / "site-packages" / "ipykernel_launcher.py"
    launcher.parent.mkdir()
    launcher.write_text("")
    monkeypatch.chdir(repo)
    state = capture_code(argv=[str(launcher), "-f", "kernel.json"])
    assert state.root == str(repo) and state.entry_point == "nb/explore.ipynb"
    monkeypatch.delenv("JPY_SESSION_NAME")
    assert capture_code(repo, ["kernel"]).entry_point == "<notebook>"


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("https://user:token@host/x.git", "https://host/x.git"),
        ("https://ghp_token@github.com/a/b.git", "https://github.com/a/b.git"),
        ("http://u:p@host:8080/x?y=1", "http://host:8080/x?y=1"),
        ("ssh://git:pw@host/x.git", "ssh://git@host/x.git"),
        ("ssh://git@host/x.git", "ssh://git@host/x.git"),
        ("git@github.com:a/b.git", "git@github.com:a/b.git"),
        ("/srv/repos/x.git", "/srv/repos/x.git"),
        ("https://host/p@th/x.git", "https://host/p@th/x.git"),
    ],
)
def test_strip_credentials(url: str, stripped: str) -> None:
    assert strip_credentials(url) == stripped


def test_bad_arguments_say_what_to_pass(repo: Path) -> None:
    with pytest.raises(InvalidArgument, match="is not a folder"):
        capture_code(repo / "train.py", ["x"])
    with pytest.raises(InvalidArgument, match="list of strings"):
        capture_code(repo, "train.py")
    with pytest.raises(InvalidArgument, match="max_diff_bytes"):
        capture_code(repo, ["x"], max_diff_bytes=-1)
    with pytest.raises(InvalidArgument, match="timeout"):
        capture_code(repo, ["x"], timeout=0)
    with pytest.raises(InvalidArgument, match="must be a string"):
        strip_credentials(None)  # type: ignore[arg-type]
