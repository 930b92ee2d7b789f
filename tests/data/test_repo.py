"""The data repository: init, find, paths, the lock, the config and the remotes."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from data_support import write_file

from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.data._config import Remote, RepoConfig, read_config, write_config
from loopml.data._repo import DataRepo


def test_init_is_idempotent_and_ignores_local_state(git_root: Path) -> None:
    repo = DataRepo.init(git_root)
    (repo.meta / "config.toml").write_text('[core]\ncache = "c"\n')
    again = DataRepo.init(git_root)
    assert again.root == repo.root
    assert again.config().cache == "c"  # kept, not overwritten
    ignored = (repo.meta / ".gitignore").read_text().split()
    assert {"/state.db", "/lock", "/tmp/"} <= set(ignored)
    with pytest.raises(InvalidArgument, match="not a folder"):
        DataRepo.init(git_root / "absent")


def test_find_walks_up_and_says_what_to_do(repo: DataRepo, tmp_path: Path) -> None:
    deep = repo.root / "a" / "b"
    deep.mkdir(parents=True)
    assert DataRepo.find(deep).root == repo.root
    assert DataRepo.find().root == repo.root  # the current folder
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    with pytest.raises(NotFound, match="run `loopml data init`"):
        DataRepo.find(outside)


def test_relpath_accepts_only_paths_inside(repo: DataRepo, tmp_path: Path) -> None:
    assert repo.relpath("data/x.csv") == "data/x.csv"
    assert repo.relpath(repo.root / "data" / ".." / "y") == "y"
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        repo.relpath(tmp_path)
    with pytest.raises(InvalidArgument, match="outside the data repository"):
        repo.relpath("../escape")
    with pytest.raises(InvalidArgument, match="repository root"):
        repo.relpath(".")
    for inside in (".git/config", ".loopml/state.db"):
        with pytest.raises(InvalidArgument, match="cannot track"):
            repo.relpath(inside)
    with pytest.raises(InvalidArgument, match="invalid path"):
        repo.relpath("bad\x00name")


def test_symlinked_folder_outside_is_outside(repo: DataRepo, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    (repo.root / "link").symlink_to(target)
    with pytest.raises(InvalidArgument, match="outside"):
        repo.relpath("link/file")


_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from loopml.data._repo import DataRepo
    with DataRepo(Path(sys.argv[1])).lock():
        print("locked", flush=True)
        time.sleep(60)
    """
)


def test_lock_excludes_other_processes_and_is_reentrant(repo: DataRepo) -> None:
    with repo.lock(), repo.lock():
        pass  # re-entrant within one thread
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(repo.root)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(InvalidState) as caught, repo.lock():
            pass
        assert f"(pid {holder.pid})" in caught.value.message
        assert "retry when it finishes" in caught.value.message
    finally:
        holder.kill()
        holder.wait()
    with repo.lock():  # the kernel released the dead holder's lock
        pass


def test_config_round_trips_remotes_and_escapes(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    config = RepoConfig(
        remotes={
            "s3": Remote("s3", "s3://bucket/data", {"endpoint_url": 'http://h:9000/"x"\\'}),
            "local.copy": Remote("local.copy", "../store"),
        },
        default_remote="s3",
        cache="cache",
    )
    write_config(path, config)
    assert read_config(path) == config
    assert read_config(tmp_path / "absent.toml") == RepoConfig()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[core\n", "is not valid TOML"),
        ("[colour]\n", "unknown section(s) colour"),
        ("[core]\nspeed = 1\n", "unknown key(s) speed in [core]"),
        ("[core]\nremote = 'x'\n", "default remote 'x' is not configured"),
        ("[remote.a]\nendpoint = 'e'\n", '[remote.a] needs url = "..."'),
        ("[remote.a]\nurl = 'u'\nport = 9\n", "option 'port' must be a string"),
        ("[remote.'a b']\nurl = 'u'\n", "invalid remote name 'a b'"),
    ],
)
def test_malformed_config_names_the_file_and_problem(
    tmp_path: Path, text: str, problem: str
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text)
    with pytest.raises(InvalidArgument) as caught:
        read_config(path)
    assert str(path) in caught.value.message
    assert problem in caught.value.message


def test_remotes_and_their_stores(repo: DataRepo, tmp_path: Path) -> None:
    with pytest.raises(InvalidArgument, match="add one with `loopml data remote add NAME URL`"):
        repo.remote()
    repo.save_config(RepoConfig(remotes={"here": Remote("here", "../store")}))
    with pytest.raises(InvalidArgument, match="loopml data remote default here"):
        repo.remote()
    with pytest.raises(InvalidArgument, match=r"no remote named 'there' \(configured: here\)"):
        repo.remote("there")
    assert repo.remote("here").url == "../store"
    store = repo.remote_store("here")
    assert store.uri == str(repo.root / "../store")  # relative to the repository root
    store.put_bytes(b"x")
    assert (repo.root.parent / "store" / "blobs").is_dir()


def test_cache_override_relative_to_root(repo: DataRepo) -> None:
    assert repo.cache_is_shared
    assert repo.cache_uri == str(Path(os.environ["LOOPML_HOME"]).resolve() / "objects")
    repo.save_config(RepoConfig(cache="cache-here"))
    fresh = DataRepo.find()
    assert not fresh.cache_is_shared
    assert fresh.cache_uri == str(repo.root / "cache-here")


def test_pointer_files_skips_git_state_and_tracked_folders(repo: DataRepo) -> None:
    write_file(repo.root / "a.loopml", "x")
    write_file(repo.root / "sub" / "b.loopml", "x")
    write_file(repo.root / "tracked.loopml", "x")
    write_file(repo.root / "tracked" / "inner.loopml", "x")  # data, not a pointer
    write_file(repo.root / ".git" / "c.loopml", "x")
    write_file(repo.root / "node_modules" / "d.loopml", "x")
    found = [p.relative_to(repo.root).as_posix() for p in repo.pointer_files()]
    assert found == ["a.loopml", "sub/b.loopml", "tracked.loopml"]


def test_the_remembered_cache_location_follows_the_environment(
    repo: DataRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = DataRepo.find().cache_uri
    assert DataRepo.find().cache_uri == first  # remembered in state.db
    monkeypatch.setenv("LOOPML_HOME", str(tmp_path / "elsewhere"))
    assert DataRepo.find().cache_uri == str((tmp_path / "elsewhere" / "objects").resolve())
    monkeypatch.setenv("LOOPML_OBJECT_STORE_URI", "s3://bucket/objects")
    assert DataRepo.find().cache_uri == str((tmp_path / "elsewhere" / "objects").resolve())
    monkeypatch.setenv("LOOPML_CHUNKING_THRESHOLD_BYTES", "1234")
    assert DataRepo.find().chunking_threshold == 1234


def test_every_exported_name_resolves() -> None:
    import loopml.data

    for name in loopml.data.__all__:
        assert getattr(loopml.data, name) is not None, name
    with pytest.raises(AttributeError):
        _ = loopml.data.nothing_here
