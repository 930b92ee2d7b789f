"""``push``, ``fetch`` and ``pull``: move cached objects between the cache and a remote.

A remote is a loopml object store at any fsspec URL (a local folder,
``s3://bucket/prefix``). What moves is what the pointer files reach (each
tree, its files, their chunks), and only what the other side lacks; objects
travel as stored, verified on the way, children before parents, each write
atomic. So an interrupted push or pull finishes by running it again, and a
damaged cache object is reported instead of spread to the remote.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from loopml.core.errors import CorruptObject, InvalidArgument, NotFound, StorageError
from loopml.data._checkout import CheckoutReport, checkout
from loopml.data._pointer import read_pointer
from loopml.data._progress import NO_PROGRESS, Progress
from loopml.data._repo import DataRepo
from loopml.data._status import pointer_targets
from loopml.data._workspace import Linker
from loopml.objects import ObjectStore, TransferReport, transfer

DEFAULT_JOBS = 8


@dataclass
class PullReport(TransferReport):
    """A fetch's report, plus what the checkout that followed it did."""

    checkout: CheckoutReport | None = None


def push(
    repo: DataRepo,
    targets: Sequence[Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = NO_PROGRESS,
) -> TransferReport:
    """Upload what the pointer files (or those ``targets`` name) need and the remote lacks.

    Cache objects that are missing or damaged are listed in the report's
    ``missing`` and ``corrupt`` and not uploaded, nor is any tree or chunked
    content that needs them. InvalidArgument for an unknown remote, NotFound
    for an untracked target, StorageError naming the remote and what to check
    when it cannot be reached or written.
    """
    _check_arguments(targets, jobs)
    with repo.lock():
        roots = _workspace_roots(repo, targets)
        name, store = _open_remote(repo, remote)
        what = f"Pushing to {name}"
        return _move(repo.cache, store, roots, jobs=jobs, progress=progress, what=what)


def fetch(
    repo: DataRepo,
    targets: Sequence[Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = NO_PROGRESS,
    rev: str | None = None,
) -> TransferReport:
    """Download what the pointers need and the cache lacks; the workspace is left untouched.

    With ``rev``, the pointers are those committed at that git revision
    (``targets`` then select among them). Objects the remote lacks are listed
    in the report's ``missing``. Errors as for :func:`push`.
    """
    _check_arguments(targets, jobs)
    with repo.lock():
        roots = _workspace_roots(repo, targets) if rev is None else _roots_at(repo, rev, targets)
        name, store = _open_remote(repo, remote, must_exist=True)
        what = f"Fetching from {name}"
        report = _move(
            store, repo.cache, roots, jobs=jobs, progress=progress, what=what, cache=repo
        )
        # Fetched data is this repository's like added data: pinned against the
        # platform's gc, and collectable by this repository's `loopml data gc`.
        repo.index.record_added(roots)
        repo.cache.pin(repo.pin_name, roots)
        return report


def pull(
    repo: DataRepo,
    targets: Sequence[Path] | None = None,
    *,
    remote: str | None = None,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = NO_PROGRESS,
    force: bool = False,
) -> PullReport:
    """:func:`fetch`, then :func:`~loopml.data._checkout.checkout` the same targets.

    The checkout refuses to overwrite local modifications unless ``force``
    (InvalidState naming the files; the fetched objects stay in the cache).
    """
    with repo.lock():
        fetched = fetch(repo, targets, remote=remote, jobs=jobs, progress=progress)
        restored = checkout(repo, targets, force=force, progress=progress)
    return PullReport(
        copied=fetched.copied,
        skipped=fetched.skipped,
        bytes=fetched.bytes,
        missing=fetched.missing,
        corrupt=fetched.corrupt,
        checkout=restored,
    )


def fetch_ids(
    repo: DataRepo,
    ids: Iterable[str],
    *,
    remote: str | None = None,
    jobs: int = DEFAULT_JOBS,
) -> TransferReport:
    """Download the objects ``ids`` reach (trees, contents, chunks) that the cache lacks.

    Takes no lock: it only adds verified objects to the cache, atomically
    (``verify`` calls it while holding the lock).
    """
    name, store = _open_remote(repo, remote, must_exist=True)
    return _move(
        store, repo.cache, list(ids), jobs=jobs, progress=NO_PROGRESS, what=name, cache=repo
    )


def _check_arguments(targets: Sequence[Path] | None, jobs: int) -> None:
    """Reject bad arguments before anything is opened (opening a local remote creates it)."""
    if isinstance(targets, str | Path):
        raise InvalidArgument("targets must be a list of paths")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise InvalidArgument(f"jobs must be an int >= 1, got {jobs!r}")


def _workspace_roots(repo: DataRepo, targets: Sequence[Path] | None) -> list[str]:
    """The ids the workspace pointer files name (malformed pointers raise, naming the file)."""
    return sorted({read_pointer(pf).id for pf in pointer_targets(repo, targets)})


def _roots_at(repo: DataRepo, rev: str, targets: Sequence[Path] | None) -> list[str]:
    """The ids the pointer files committed at ``rev`` name."""
    from loopml.data._git import pointers_at

    wanted = None if targets is None else [repo.relpath(t) for t in targets]
    pointers = pointers_at(repo, rev, targets=wanted)
    if wanted and not pointers:
        raise NotFound(
            f"none of {', '.join(wanted)} is tracked at {rev}; check the paths and the revision"
        )
    return sorted({pointer.id for pointer in pointers.values()})


def _open_remote(
    repo: DataRepo, name: str | None, *, must_exist: bool = False
) -> tuple[str, ObjectStore]:
    """The remote's name and store; with ``must_exist``, a local remote folder must be there.

    Opening a local store creates its folder, which is right for a first push
    but would turn a mistyped path into an empty remote to fetch nothing from.
    """
    remote = repo.remote(name)
    if must_exist:
        folder = _local_folder(repo, remote.url)
        if folder is not None and not folder.is_dir():
            raise NotFound(
                f"remote {remote.name!r} is the folder {folder}, which does not exist; "
                f"check its URL (`loopml data remote list`) or push to it first"
            )
    with _about(f"remote {remote.name!r}"):
        return remote.name, repo.remote_store(remote.name)


def _local_folder(repo: DataRepo, url: str) -> Path | None:
    """The folder of a local remote URL (relative to the repository root), None if not local."""
    path = url.removeprefix("file://")
    if "://" in path:
        return None
    folder = Path(os.path.expanduser(path))
    return folder if folder.is_absolute() else repo.root / folder


@contextmanager
def _about(what: str) -> Iterator[None]:
    """Prefix storage failures with the remote they concern (corruption names its object)."""
    try:
        yield
    except CorruptObject:
        raise
    except StorageError as exc:
        raise StorageError(f"{what}: {exc.message}") from exc


def _move(
    src: ObjectStore,
    dst: ObjectStore,
    roots: list[str],
    *,
    jobs: int,
    progress: Progress,
    what: str,
    cache: DataRepo | None = None,
) -> TransferReport:
    """Transfer ``roots``: a comparison phase (no total known), then the bytes copied.

    Into the ``cache`` of a repository, whole files are packed only if its
    workspace copies files out of the cache; linked workspaces need them loose.
    """
    pack_files = cache is None or Linker(cache).mode == "copy"

    def on_total(objects: int, size: int) -> None:
        progress.finish()
        progress.start(f"{what} ({objects} objects)", size, "B")

    progress.start(f"{what}: comparing", None, "objects")
    try:
        return transfer(
            src,
            dst,
            roots,
            jobs=jobs,
            on_total=on_total,
            on_bytes=progress.advance,
            pack_files=pack_files,
        )
    finally:
        progress.finish()
