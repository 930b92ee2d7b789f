"""``loopml data``, run as a user runs it: a real subprocess of the installed script in git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from git_work_tree import init_git_work_tree

LOOPML = str(Path(sys.executable).with_name("loopml"))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    return init_git_work_tree(tmp_path / "work")


def _cli(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), COLUMNS="200")
    return subprocess.run(
        [LOOPML, "data", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _fails(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert message in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr


def test_add_status_checkout_round_trip(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fails(_cli(work, "status", home=home), "run `loopml data init`")
    assert "Initialised" in _ok(_cli(work, "init", home=home))
    _ok(_cli(work, "init", home=home))  # idempotent
    images = work / "images"
    images.mkdir()
    for i in range(30):
        (images / f"{i}.txt").write_text(f"image {i}")
    assert "Added images (30 files" in _ok(_cli(work, "add", "images", home=home))
    assert (work / "images.loopml").is_file()
    assert "up to date (1 tracked paths)" in _ok(_cli(work, "status", home=home))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "v1")

    os.unlink(images / "3.txt")
    (images / "3.txt").write_text("edited")
    (images / "new.txt").write_text("new")
    out = _ok(_cli(work, "status", home=home))
    assert "images: modified" in out
    assert "modified: images/3.txt" in out and "added: images/new.txt" in out
    quiet = _cli(work, "status", "-q", home=home)
    assert quiet.returncode == 1 and quiet.stdout == ""
    entries = json.loads(_ok(_cli(work, "status", "--json", home=home)))
    assert entries[0]["modified"] == ["3.txt"] and entries[0]["state"] == "modified"

    _fails(_cli(work, "checkout", home=home), "would overwrite local changes")
    assert "Restored images" in _ok(_cli(work, "checkout", "--force", home=home))
    assert (images / "3.txt").read_text() == "image 3"
    assert not (images / "new.txt").exists()

    (images / "extra.txt").write_text("v2 file")
    _ok(_cli(work, "add", "images", home=home))
    _git(work, "commit", "-qam", "v2")
    assert "Restored images at HEAD~1" in _ok(_cli(work, "checkout", "HEAD~1", home=home))
    assert not (images / "extra.txt").exists()
    assert "Restored images at main" in _ok(_cli(work, "checkout", "main", "images", home=home))
    assert (images / "extra.txt").read_text() == "v2 file"


def test_log_diff_gc_and_verify(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(_cli(work, "init", home=home))
    (work / "table.csv").write_text("a,b\n1,2\n")
    _ok(_cli(work, "add", "table.csv", home=home))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", "first table")
    os.unlink(work / "table.csv")
    (work / "table.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    _ok(_cli(work, "add", "table.csv", home=home))
    _git(work, "commit", "-qam", "second table")

    log = _ok(_cli(work, "log", "table.csv", home=home))
    assert log.index("second table") < log.index("first table")
    diff = _ok(_cli(work, "diff", "HEAD~1", "HEAD", home=home))
    assert "modified" in diff and "table.csv" in diff
    assert "rows: 1 -> 2" in diff and "column added: c" in diff

    assert "Would delete" in _ok(_cli(work, "gc", "--dry-run", "--grace", "0", home=home))
    gc = json.loads(_ok(_cli(work, "gc", "--all-commits", "--grace", "0", "--json", home=home)))
    assert gc["deleted"] == 0
    assert "Deleted 1 objects" in _ok(_cli(work, "gc", "--grace", "0", home=home))
    assert "Verified 1 objects" in _ok(_cli(work, "verify", home=home))


def test_remotes_push_and_pull(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(_cli(work, "init", home=home))
    assert "No remotes" in _ok(_cli(work, "remote", "list", home=home))
    _fails(_cli(work, "push", home=home), "loopml data remote add NAME URL")
    store = tmp_path / "remote-store"
    assert "(default)" in _ok(_cli(work, "remote", "add", "store", str(store), home=home))
    _fails(_cli(work, "remote", "add", "store", "x", home=home), "use --force to replace it")
    _ok(_cli(work, "remote", "add", "s3", "s3://b/p", "-o", "endpoint_url=http://h", home=home))
    listed = json.loads(_ok(_cli(work, "remote", "list", "--json", home=home)))
    assert [(r["name"], r["default"]) for r in listed] == [("s3", False), ("store", True)]
    assert listed[0]["options"] == {"endpoint_url": "http://h"}
    _fails(_cli(work, "remote", "add", "s3b", "u", "-o", "novalue", home=home), "KEY=VALUE")
    assert _ok(_cli(work, "remote", "default", home=home)).strip() == "store"
    _ok(_cli(work, "remote", "remove", "s3", home=home))
    _fails(_cli(work, "remote", "remove", "s3", home=home), "no remote named 's3'")

    (work / "data").mkdir()
    (work / "data" / "x.bin").write_bytes(os.urandom(5000))
    _ok(_cli(work, "add", "data", home=home))
    assert "Pushed 2 objects" in _ok(_cli(work, "push", home=home))
    assert "Pushed 0 objects" in _ok(_cli(work, "push", home=home))

    # A fresh cache (another machine) pulls the data back.
    other = tmp_path / "other-home"
    os.chmod(work / "data" / "x.bin", 0o644)
    os.unlink(work / "data" / "x.bin")
    pulled = _ok(_cli(work, "pull", home=other))
    assert "Restored data" in pulled and "Fetched 2 objects" in pulled
    assert (work / "data" / "x.bin").stat().st_size == 5000


def test_bad_input_is_one_clear_line(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _ok(_cli(work, "init", home=home))
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    _fails(_cli(work, "add", str(outside), home=home), "outside the data repository")
    _fails(_cli(work, "add", "missing", home=home), "does not exist")
    (work / "f").write_text("x")
    _ok(_cli(work, "add", "f", home=home))
    pointer = work / "f.loopml"
    pointer.write_text(pointer.read_text().replace("size: 1", "size: lots"))
    _fails(_cli(work, "status", home=home), f"{pointer}:6: invalid pointer file: size")
    _fails(_cli(work, "checkout", "nosuchrev", home=home), "nosuchrev")


def _entry(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The fast entry point (``loopml._entry:main``) as the ``loopml`` script would run it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), COLUMNS="200")
    code = "from loopml._entry import main; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, capture_output=True, text=True, env=env
    )


def test_fast_status_entry_says_what_the_full_cli_says(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fails(_entry(work, "data", "status", home=home), "run `loopml data init`")
    _ok(_cli(work, "init", home=home))
    assert _ok(_entry(work, "data", "status", home=home)) == _ok(_cli(work, "status", home=home))
    (work / "images").mkdir()
    (work / "images" / "a.txt").write_text("a")
    _ok(_cli(work, "add", "images", home=home))
    (work / "images" / "b.txt").write_text("b")
    fast = _ok(_entry(work, "data", "status", "images", home=home))
    assert fast == _ok(_cli(work, "status", "images", home=home))
    assert "added: images/b.txt" in fast
    assert _entry(work, "data", "status", "-q", home=home).returncode == 1
    # Anything else goes to the full CLI: JSON, help, other commands.
    assert json.loads(_ok(_entry(work, "data", "status", "--json", home=home)))[0]["added"]
    assert "Usage" in _ok(_entry(work, "data", "status", "--help", home=home))
    assert "Remote" in _ok(_entry(work, "data", "remote", "add", "r", "../r", home=home))


def _full_cli(cwd: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """The Typer CLI itself, past the entry point's fast lanes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(LOOPML_HOME=str(home), COLUMNS="200")
    code = "import sys; from loopml.cli import main; sys.argv[0] = 'loopml'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, "data", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )


def test_fast_add_entry_says_and_does_what_the_full_cli_does(work: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    _fails(_entry(work, "data", "add", "x.csv", home=home), "run `loopml data init`")
    _ok(_cli(work, "init", home=home))
    for name in ("a.csv", "b.csv"):
        (work / name).write_text(f"{name}\n1,2\n")
    fast = _ok(_entry(work, "data", "add", "a.csv", home=home))
    full = _ok(_full_cli(work, "add", "b.csv", home=home))
    assert fast.replace("a.csv", "b.csv") == full
    assert fast == "Added a.csv (1 files, 10 bytes). Commit a.csv.loopml with git.\n"
    assert (work / "a.csv.loopml").is_file() and "a.csv" in (work / ".gitignore").read_text()
    # Refusals read the same both ways: one red line, exit 1, no traceback.
    for run in (_entry, _full_cli):
        args = ("data", "add", "missing.csv") if run is _entry else ("add", "missing.csv")
        _fails(run(work, *args, home=home), "missing.csv does not exist")
    # Options go to the full CLI.
    pointers = json.loads(_ok(_entry(work, "data", "add", "--json", "a.csv", home=home)))
    assert pointers[0]["size"] == 10
    assert "Usage" in _ok(_entry(work, "data", "add", "--help", home=home))
