"""Where a dataset version's bytes go: the tracking store's object store, or the server's.

A path is first captured (hashed and stored) into a local object store: the
data repository's cache when the path is tracked data (its stat index spares
re-hashing unchanged files), else the staging store the sink names. Then the
sink makes the content present where the metadata store's ``gc`` protects it:

- ``LocalContent`` (embedded): the client's object store. When the capture
  went to another store (a repository cache that is not the platform's), the
  stored objects are copied as they are, only those missing.
- ``RemoteContent`` (a loopml server): asks the server which objects it
  lacks, uploads only those (in parallel; the server checks each hash), then
  the folder's tree. An interrupted upload resumes where it stopped.

``check_content`` is the server's side of the bargain: a version is recorded
only if its content, and every file of its tree, is in the object store.
"""

from __future__ import annotations

import abc
import os
from concurrent.futures import ThreadPoolExecutor

from loopml.core.errors import CorruptObject, InvalidArgument, NotFound
from loopml.core.settings import Settings
from loopml.data import Pointer, Progress
from loopml.datasets._rest import RestDatasetStore
from loopml.objects import ObjectStore, open_object_store, transfer
from loopml.store import NewDatasetVersion
from loopml.tracking import Client

UPLOAD_JOBS = 8


class ContentSink(abc.ABC):
    """Receives the captured content of a dataset version."""

    @property
    @abc.abstractmethod
    def staging(self) -> ObjectStore:
        """The store a path outside any data repository is captured into."""

    @abc.abstractmethod
    def receive(self, source: ObjectStore, pointer: Pointer, progress: Progress) -> None:
        """Make ``pointer``'s content (stored in ``source``) present for the dataset store."""


class LocalContent(ContentSink):
    """The client's own object store (embedded mode)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @property
    def staging(self) -> ObjectStore:
        return self.client.objects

    def receive(self, source: ObjectStore, pointer: Pointer, progress: Progress) -> None:
        target = self.client.objects
        if _location(source) == _location(target):
            return
        started = False

        def begin(objects: int, size: int) -> None:
            nonlocal started
            progress.start("Copying into the object store", objects, "objects")
            started = True

        try:
            report = transfer(
                source, target, [pointer.id], on_total=begin, on_bytes=lambda _: progress.advance()
            )
        finally:
            if started:
                progress.finish()
        if report.missing or report.corrupt:
            raise CorruptObject(
                f"{len(report.missing)} object(s) of {pointer.path} are missing from {source.uri} "
                f"and {len(report.corrupt)} damaged: run `loopml data verify` (or `loopml data "
                "pull`), then register again."
            )


class RemoteContent(ContentSink):
    """A loopml server's object store, reached through its dataset-content endpoints."""

    def __init__(self, store: RestDatasetStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self._staging: ObjectStore | None = None

    @property
    def staging(self) -> ObjectStore:
        # The platform's local store (shared with data repositories): a second
        # registration of the same files stores nothing new and uploads nothing.
        if self._staging is None:
            self._staging = open_object_store(local_store_uri(self.settings))
        return self._staging

    def receive(self, source: ObjectStore, pointer: Pointer, progress: Progress) -> None:
        tree = source.get_tree(pointer.id) if pointer.kind == "dir" else None
        contents = sorted({e.id for e in tree.values()}) if tree is not None else [pointer.id]
        asked = [*contents, pointer.id] if tree is not None else contents
        missing = set(self.store.missing_objects(asked))
        wanted = [object_id for object_id in contents if object_id in missing]
        progress.start("Uploading to the server", len(wanted), "files")
        try:
            with ThreadPoolExecutor(UPLOAD_JOBS, thread_name_prefix="loopml-upload") as pool:
                for _ in pool.map(lambda oid: self._upload(source, oid, progress), wanted):
                    pass
        finally:
            progress.finish()
        if tree is not None and pointer.id in missing:
            stored = self.store.put_tree(tree.entries)
            if stored != pointer.id:
                raise InvalidArgument(
                    f"The server stored the tree of {pointer.path} as {stored}, not "
                    f"{pointer.id}: the server and this client disagree on the tree format."
                )

    def _upload(self, source: ObjectStore, object_id: str, progress: Progress) -> None:
        self.store.upload_object(object_id, source.open(object_id))
        progress.advance()


def local_store_uri(settings: Settings) -> str:
    """The platform's local object store: the configured one when local, else the home's."""
    uri = settings.resolved_object_store_uri()
    if "://" in uri and not uri.startswith("file://"):
        return str(settings.home.expanduser().resolve() / "objects")
    return uri


def _location(store: ObjectStore) -> str:
    uri = store.uri
    if uri.startswith("file://"):
        uri = uri[len("file://") :]
    if "://" in uri:
        return uri.rstrip("/")
    return os.path.realpath(os.path.expanduser(uri))


def check_content(objects: ObjectStore, new: NewDatasetVersion) -> None:
    """InvalidArgument unless ``new``'s content is stored whole and matches its size and count."""
    upload = "upload the content first (the SDK and CLI do this when they register a path)"
    if new.kind == "file":
        try:
            size = objects.stat(new.content_id).size
        except NotFound:
            raise InvalidArgument(f"Content {new.content_id} is not stored: {upload}.") from None
        if (size, new.files) != (new.size, 1):
            raise InvalidArgument(
                f"Content {new.content_id} holds 1 file of {size} bytes, not {new.files} "
                f"file(s) of {new.size} bytes."
            )
        return
    if new.kind != "dir":
        raise InvalidArgument(f"Invalid dataset kind {new.kind!r}: use 'file' or 'dir'.")
    try:
        tree = objects.get_tree(new.content_id)
    except NotFound:
        raise InvalidArgument(f"Tree {new.content_id} is not stored: {upload}.") from None
    absent = [path for path, entry in tree.items() if not objects.exists(entry.id)]
    if absent:
        raise InvalidArgument(
            f"{len(absent)} file(s) of tree {new.content_id} are not stored (first: "
            f"{absent[0]!r}): {upload}."
        )
    size = sum(entry.size for entry in tree.values())
    if (size, len(tree)) != (new.size, new.files):
        raise InvalidArgument(
            f"Tree {new.content_id} holds {len(tree)} file(s) of {size} bytes, not "
            f"{new.files} file(s) of {new.size} bytes."
        )
