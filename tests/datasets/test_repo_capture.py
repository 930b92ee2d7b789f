"""Registering tracked data of a data repository: its cache and stat index are used."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from datasets_support import unique, write_csv, write_tree

from loopml.core.errors import InvalidState
from loopml.core.settings import Settings
from loopml.data import DataRepo, RepoConfig, add
from loopml.datasets import Datasets
from loopml.objects import ObjectStore, open_object_store
from loopml.tracking import Client
from server.live_server import LiveServer


def _repo(root: Path, settings: Settings, cache: Path | None = None) -> DataRepo:
    root.mkdir(parents=True)
    repo = DataRepo.init(root, settings=settings)
    if cache is not None:
        config = repo.config()
        repo.save_config(RepoConfig(config.remotes, config.default_remote, str(cache)))
    return repo


def test_tracked_data_in_the_platform_store_is_registered_as_added(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = Settings(home=home, object_store_uri=str(home / "objects"))
    repo = _repo(tmp_path / "project", settings)
    images = write_tree(repo.root / "images", {"a.png": b"aaa", "b/c.png": b"ccc"})
    [pointer] = add(repo, [images])
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=settings)
    try:
        v = Datasets(client).register("images", images)
        assert (v.content_id, v.kind, v.files, v.size) == (pointer.id, "dir", 2, 6)
        assert client.objects.get_tree(v.content_id)["b/c.png"].size == 3
    finally:
        client.close()


def test_a_repository_with_its_own_cache_copies_into_the_object_store(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    repo = _repo(tmp_path / "project", settings, cache=tmp_path / "repo-cache")
    table = write_csv(repo.root / "data" / "iris.csv")
    [pointer] = add(repo, [table])
    client = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    try:
        v = Datasets(client).register(unique("iris"), table)
        assert v.content_id == pointer.id and v.rows == 4
        assert client.objects.get_bytes(v.content_id) == table.read_bytes()
    finally:
        client.close()


def test_untracked_paths_inside_a_repository_are_captured_directly(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    repo = _repo(tmp_path / "project", settings, cache=tmp_path / "repo-cache")
    loose = write_tree(repo.root / "loose", {"x.txt": b"x"})
    client = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    try:
        v = Datasets(client).register("loose", loose)
        assert client.objects.exists(v.content_id)
        cache: ObjectStore = open_object_store(str(tmp_path / "repo-cache"))
        assert not cache.exists(v.content_id)  # nothing written to the repository's cache
    finally:
        client.close()


def test_a_busy_repository_is_a_clear_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    repo = _repo(tmp_path / "project", settings)
    table = write_csv(repo.root / "iris.csv")
    add(repo, [table])
    client = Client(f"sqlite:///{tmp_path / 'loopml.db'}", settings=settings)
    held, release = threading.Event(), threading.Event()

    def hold() -> None:  # another `loopml data` command, in another thread
        with repo.lock():
            held.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert held.wait(60)
        with pytest.raises(InvalidState, match="another loopml data command"):
            Datasets(client).register("iris", table)
        assert Datasets(client).list() == []
    finally:
        release.set()
        holder.join()
        client.close()


def test_a_server_receives_tracked_data_from_the_repository_cache(
    tmp_path: Path, datasets_server: LiveServer
) -> None:
    settings = Settings(home=tmp_path / "home")
    repo = _repo(tmp_path / "project", settings, cache=tmp_path / "repo-cache")
    images = write_tree(repo.root / "images", {"a.png": b"aaa", "b.png": b"bbb"})
    [pointer] = add(repo, [images])
    client = Client(datasets_server.url, settings=settings)
    try:
        v = Datasets(client).register(unique("images"), images)
        assert v.content_id == pointer.id
        served = open_object_store(datasets_server.object_store_uri)
        assert served.get_bytes(served.get_tree(v.content_id)["b.png"].id) == b"bbb"
        staging = open_object_store(str(tmp_path / "home" / "objects"))
        assert not staging.exists(v.content_id)  # uploaded straight from the repository cache
    finally:
        client.close()
