"""push, fetch and pull against real remotes: a local folder and S3 (moto)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from data_git_support import commit, data_repo, git, remove, track, write
from data_support import Recorder

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.data._checkout import checkout
from loopml.data._config import Remote, RepoConfig
from loopml.data._git import pointers_at
from loopml.data._pointer import read_pointer
from loopml.data._remote import fetch, fetch_ids, pull, push
from loopml.data._repo import DataRepo
from loopml.objects import reachable
from s3_server import BUCKET, S3Server

MiB = 1024 * 1024


def _files() -> dict[str, bytes]:
    files = {f"images/{i:02d}.png": os.urandom(1000 + i) for i in range(12)}
    files["images/same-a.txt"] = files["images/same-b.txt"] = b"identical\n"
    files["model.bin"] = os.urandom(9 * MiB)  # above the 8 MiB threshold: stored chunked
    return files


def _setup(root: Path, url: str, options: dict[str, str] | None = None) -> DataRepo:
    """A committed data repository tracking ``images/`` and ``model.bin``, remote ``origin``."""
    repo = data_repo(root)
    for rel, content in _files().items():
        write(root / rel, content)
    track(repo, "images", "model.bin")
    remote = Remote("origin", url, options or {})
    repo.save_config(RepoConfig(remotes={"origin": remote}, default_remote="origin"))
    commit(root, "data v1")
    return repo


def _clone(repo: DataRepo, dest: Path, monkeypatch: pytest.MonkeyPatch) -> DataRepo:
    """A fresh git clone, whose cache (another LOOPML_HOME) is empty."""
    git(dest.parent, "clone", "-q", str(repo.root), str(dest))
    monkeypatch.setenv("LOOPML_HOME", str(dest.parent / f"home-{dest.name}"))
    clone = DataRepo.find(dest)
    assert list(clone.cache.iter_ids()) == []
    return clone


def _same_data(a: DataRepo, b: DataRepo) -> None:
    for rel in ["model.bin", *(f"images/{n}" for n in sorted(os.listdir(a.root / "images")))]:
        assert (b.root / rel).read_bytes() == (a.root / rel).read_bytes(), rel


def _roots(repo: DataRepo) -> list[str]:
    return [read_pointer(pf).id for pf in repo.pointer_files()]


@pytest.fixture
def local_remote(tmp_path: Path) -> str:
    return str(tmp_path / "remote")


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def remote_url(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A remote URL and its options: a local folder, or a fresh prefix in the moto bucket."""
    if request.param == "local":
        return str(tmp_path / "remote"), {}
    server: S3Server = request.getfixturevalue("s3_server")
    options = {k: v for k, v in server.storage_options.items() if isinstance(v, str)}
    return f"s3://{BUCKET}/remote-{uuid.uuid4().hex}", options


def test_push_then_pull_into_a_fresh_clone_restores_the_bytes(
    tmp_path: Path, remote_url: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, options = remote_url
    repo = _setup(tmp_path / "a", url, options)
    progress = Recorder()
    pushed = push(repo, progress=progress)
    objects = reachable(repo.cache, _roots(repo))
    assert pushed.complete and pushed.skipped == 0
    assert pushed.copied == len(objects) and pushed.bytes == objects.size
    # A comparison phase, then the bytes, and every phase finished.
    expected = (f"Pushing to origin ({len(objects)} objects)", objects.size, "B")
    assert progress.phases[-1] == expected
    assert progress.advanced == pushed.bytes and progress.finished == len(progress.phases)

    again = push(repo)
    assert (again.copied, again.bytes, again.skipped) == (0, 0, len(objects))

    clone = _clone(repo, tmp_path / "b", monkeypatch)
    pulled = pull(clone)
    assert pulled.complete and pulled.copied == len(objects)
    assert pulled.checkout is not None and pulled.checkout.complete
    _same_data(repo, clone)
    assert pull(clone).copied == 0


def test_push_and_fetch_select_targets(
    tmp_path: Path, local_remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    report = push(repo, [repo.root / "images"])
    clone = _clone(repo, tmp_path / "b", monkeypatch)
    assert fetch(clone, [clone.root / "images"]).copied == report.copied
    missing = fetch(clone, [clone.root / "model.bin.loopml"])
    assert missing.missing == [read_pointer(clone.root / "model.bin.loopml").id]
    assert not missing.complete


def test_an_interrupted_push_resumes(tmp_path: Path, local_remote: str) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    total = len(reachable(repo.cache, _roots(repo)))
    # A broken remote: a folder where one object must go, so that write fails.
    chunk_id = sorted(reachable(repo.cache, _roots(repo)).blobs)[5]
    blocker = Path(local_remote) / "blobs" / chunk_id[:2] / chunk_id[2:]
    blocker.mkdir(parents=True)
    with pytest.raises(StorageError, match=r"(?s)writing to the object store .*remote.*Check that"):
        push(repo, jobs=2)
    written = [p for p in Path(local_remote).rglob("*") if p.is_file()]
    assert not any(".tmp-" in p.name for p in written)
    assert not (Path(local_remote) / "trees").exists()  # parents are written last

    blocker.rmdir()
    resumed = push(repo)
    assert resumed.complete
    assert resumed.copied + resumed.skipped == total and resumed.skipped == len(written)


def test_objects_deleted_from_the_remote_are_pushed_again(
    tmp_path: Path, local_remote: str
) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    push(repo)
    stored = sorted(p for p in Path(local_remote).rglob("*") if p.is_file())
    for victim in stored[::3]:
        victim.unlink()
    assert push(repo).copied == len(stored[::3])


def test_a_corrupt_cache_object_is_not_pushed(tmp_path: Path, local_remote: str) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    tree = repo.cache.get_tree(read_pointer(repo.root / "images.loopml").id)
    damaged = tree["03.png"].id
    blob = Path(repo.cache_uri) / "blobs" / damaged[:2] / damaged[2:]
    os.chmod(blob, 0o644)  # it is the workspace file too (hardlinked), so this damages both
    blob.write_bytes(b"bit rot" + blob.read_bytes()[7:])
    report = push(repo)
    assert report.corrupt == [damaged] and not report.complete
    remote = Path(local_remote)
    assert not (remote / "blobs" / damaged[:2] / damaged[2:]).exists()
    assert not (remote / "trees" / tree.id[:2] / tree.id[2:]).exists()  # incomplete: held back
    other = tree["04.png"].id
    assert (remote / "blobs" / other[:2] / other[2:]).exists()


def test_fetch_at_a_revision_and_fetch_ids(
    tmp_path: Path, local_remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    v1 = git(repo.root, "rev-parse", "HEAD").strip()
    push(repo)
    old = (repo.root / "images" / "00.png").read_bytes()
    write(repo.root / "images" / "00.png", b"version two")
    track(repo, "images")
    commit(repo.root, "data v2")
    push(repo)

    clone = _clone(repo, tmp_path / "b", monkeypatch)
    fetched = fetch(clone, rev=v1)
    assert fetched.complete and fetched.copied > 0
    restored = checkout(clone, pointers=pointers_at(clone, v1))
    assert restored.complete
    assert (clone.root / "images" / "00.png").read_bytes() == old
    with pytest.raises(NotFound, match="nothing-here is tracked at"):
        fetch(clone, [clone.root / "nothing-here"], rev=v1)

    # fetch_ids brings back an object (and whatever it reaches) the cache lost.
    remove(clone.root / "images")
    image_tree = read_pointer(clone.root / "images.loopml").id
    entry = clone.cache.get_tree(image_tree)["05.png"].id
    os.unlink(Path(clone.cache_uri) / "blobs" / entry[:2] / entry[2:])
    assert fetch_ids(clone, [image_tree]).copied == 1
    assert clone.cache.exists(entry)


def test_pull_reports_what_the_remote_lacks(
    tmp_path: Path, local_remote: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    push(repo, [repo.root / "images"])
    clone = _clone(repo, tmp_path / "b", monkeypatch)
    report = pull(clone)
    model = read_pointer(clone.root / "model.bin.loopml").id
    assert report.missing == [model]
    assert report.checkout is not None and "model.bin" in report.checkout.missing
    assert (clone.root / "images" / "00.png").read_bytes() == (
        repo.root / "images" / "00.png"
    ).read_bytes()


@pytest.mark.s3
def test_an_unreachable_remote_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # fail fast instead of retrying a dead port
    options = {"endpoint_url": "http://127.0.0.1:9", "key": "k", "secret": "s"}
    repo = _setup(tmp_path / "a", "s3://data/team", options)
    for call in (lambda: push(repo), lambda: fetch(repo), lambda: pull(repo)):
        with pytest.raises(StorageError, match=r"s3://data/team.*Could not connect.*Check the URL"):
            call()


@pytest.mark.s3
def test_a_missing_bucket_is_a_clear_error(tmp_path: Path, s3_server: S3Server) -> None:
    options = {k: v for k, v in s3_server.storage_options.items() if isinstance(v, str)}
    repo = _setup(tmp_path / "a", "s3://no-such-bucket/data", options)
    with pytest.raises(StorageError, match=r"s3://no-such-bucket/data.*bucket exists"):
        push(repo)


def test_bad_input(tmp_path: Path, local_remote: str) -> None:
    repo = _setup(tmp_path / "a", local_remote)
    with pytest.raises(InvalidArgument, match="list of paths"):
        push(repo, repo.root / "images")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="no remote named 'elsewhere'"):
        push(repo, remote="elsewhere")
    with pytest.raises(NotFound, match="not tracked"):
        push(repo, [repo.root / "README.md"])
    with pytest.raises(InvalidArgument, match="jobs"):
        push(repo, jobs=0)
    with pytest.raises(NotFound, match=r"remote 'origin' is the folder .*remote, which does not"):
        fetch(repo)  # nothing pushed yet: the folder is not there, and is not made
    assert not Path(local_remote).exists()
    bare = data_repo(tmp_path / "bare")
    with pytest.raises(InvalidArgument, match="remote add"):
        fetch(bare)
