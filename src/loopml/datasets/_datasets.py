"""``Datasets``: named, numbered versions of data, and the runs that read them.

Built over a tracking ``Client``, like ``loopml.registry.Registry``: on a
database (embedded) it records through ``SqlDatasetStore`` on the same
database and stores the bytes in the client's object store; on a server
(``http(s)://``) it uploads the bytes the server lacks and talks to the
server's ``/api/v1/datasets``, and the server runs this same class. Every call
validates its input first, so a refused call records nothing.

``register`` snapshots a file or folder (tracked data of a data repository is
captured through the repository's cache and stat index), profiles it when it
is tabular, and records it as the dataset's next version, unless a version of
that name already holds exactly this content: then that version is returned,
as registering the same data twice should not make a new version.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from loopml.core.errors import InvalidArgument, NotFound
from loopml.core.hashing import is_hash
from loopml.data import NO_PROGRESS, DataRepo, Pointer, Progress, snapshot, snapshot_into
from loopml.data._pointer import pointer_file_for
from loopml.datasets._content import ContentSink, LocalContent, RemoteContent, check_content
from loopml.datasets._frame import read_version_frame
from loopml.datasets._lineage import (
    DEFAULT_CONTEXT,
    dataset_input,
    recorded_versions,
    run_of,
    validate_context,
)
from loopml.datasets._profile import table_facts
from loopml.datasets._rest import RestDatasetStore
from loopml.datasets._validation import (
    parse_dataset_ref,
    validate_dataset_name,
    validate_dataset_version,
    validate_description,
    validate_tags,
)
from loopml.objects import ObjectStore, TreeEntry
from loopml.registry import Registry, current_user
from loopml.store import (
    Dataset,
    DatasetStore,
    DatasetVersion,
    NewDatasetVersion,
    SqlDatasetStore,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Registration:
    """The version a registration resolved to, and whether it made that version."""

    version: DatasetVersion
    created: bool


def open_dataset_store(client: Client) -> tuple[DatasetStore, ContentSink]:
    """The dataset store, and where content goes, for a tracking client's store."""
    if isinstance(client.store, SqlTrackingStore):
        return SqlDatasetStore(client.store.db), LocalContent(client)
    if isinstance(client.store, RestTrackingStore):
        rest = RestDatasetStore(client.store)
        return rest, RemoteContent(rest, client.settings)
    raise InvalidArgument(
        f"Datasets need a database or a loopml server; {client.tracking_uri!r} is neither."
    )


class Datasets:
    """The datasets of one tracking store (embedded or remote)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        self.store, self.content = open_dataset_store(self.client)

    # -- registering ------------------------------------------------------------------
    def register(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> DatasetVersion:
        """Record the file or folder at ``path`` as the next version of dataset ``name``.

        Returns the newest version instead when it already holds the same content
        (its ``description`` and ``tags`` are kept): registering twice is a no-op.
        NotFound if ``path`` does not exist; InvalidArgument for a bad name or tags.
        """
        return self.add(name, path, description=description, tags=tags, progress=progress).version

    def add(
        self,
        name: str,
        path: str | os.PathLike[str],
        *,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
        progress: Progress = NO_PROGRESS,
    ) -> Registration:
        """``register``, also telling whether a new version was made (see ``Registration``)."""
        name = validate_dataset_name(name)
        new_description = validate_description(description)
        new_tags = validate_tags(tags)
        source = _existing(path)
        pointer, stored_in = self._capture(source, progress)
        facts, problem = table_facts(source)
        if problem is not None:
            log.warning("%s is not profiled: %s", source, problem)
        self.content.receive(stored_in, pointer, progress)
        new = NewDatasetVersion(
            content_id=pointer.id,
            kind=pointer.kind,
            size=pointer.size,
            files=pointer.files,
            source=str(source),
            description=new_description,
            tags=new_tags,
            user=current_user(),
            schema=None if facts is None else facts.schema,
            rows=None if facts is None else facts.rows,
            profile=None if facts is None else facts.profile,
        )
        version, created = self.store.create_dataset_version(name, new)
        return Registration(version, created)

    def record(self, name: str, new: NewDatasetVersion) -> Registration:
        """Record content that is in this client's object store already (the server's path).

        InvalidArgument, with nothing recorded, unless the content and every file of
        its tree are stored and match ``new``'s size and file count.
        """
        name = validate_dataset_name(name)
        check_content(self.client.objects, new)
        checked = dataclasses.replace(
            new, description=validate_description(new.description), tags=validate_tags(new.tags)
        )
        version, created = self.store.create_dataset_version(name, checked)
        return Registration(version, created)

    # -- content (what a server does for its remote clients) -------------------------
    def missing_content(self, ids: Sequence[str]) -> builtins.list[str]:
        """The ids among ``ids`` that this client's object store lacks."""
        objects = self.client.objects
        return [object_id for object_id in ids if not objects.exists(_object_id(object_id))]

    def store_content(self, object_id: str, stream: BinaryIO) -> int:
        """Store what ``stream`` holds, which must hash to ``object_id``; its size.

        InvalidArgument when the bytes hash to another id (damaged on the way);
        nothing then refers to what was stored, and ``loopml gc`` collects it.
        """
        object_id = _object_id(object_id)
        info = self.client.objects.put_stream(stream)
        if info.id != object_id:
            raise InvalidArgument(
                f"The uploaded content hashes to {info.id}, not {object_id}: it was damaged on "
                "the way. Upload it again."
            )
        return info.size

    def store_tree(self, entries: Mapping[str, TreeEntry]) -> str:
        """Store a folder's tree (its entries' contents may follow); its id."""
        return self.client.objects.put_tree(entries)

    def _capture(self, path: Path, progress: Progress) -> tuple[Pointer, ObjectStore]:
        repo = _tracking_repo(path, self.client)
        if repo is not None:
            with repo.lock():  # the stat index is the repository's: one data command at a time
                return snapshot(repo, path, progress=progress), repo.cache
        store = self.content.staging
        return snapshot_into(store, path, progress=progress), store

    # -- reading ----------------------------------------------------------------------
    def get(self, ref: str | DatasetVersion, version: int | str | None = None) -> DatasetVersion:
        """The version ``ref`` names: ``NAME`` (the newest), ``NAME@3``, ``NAME:3``,
        ``loopml-dataset:/NAME/3`` or a ``DatasetVersion`` (read again).

        With ``version``, ``ref`` must be a plain name. NotFound for an unknown
        dataset or version; InvalidArgument for a malformed reference.
        """
        if isinstance(ref, DatasetVersion):
            return self.store.get_dataset_version(ref.name, ref.version)
        if version is not None:
            return self.store.get_dataset_version(
                validate_dataset_name(ref), validate_dataset_version(version)
            )
        name, wanted = parse_dataset_ref(ref)
        return self.store.get_dataset_version(name, wanted)

    def latest(self, name: str) -> DatasetVersion:
        """The newest version of a dataset; NotFound for an unknown name."""
        return self.store.get_dataset_version(validate_dataset_name(name))

    def list(self) -> builtins.list[Dataset]:
        """Every dataset with its newest version, by name."""
        return self.store.list_datasets()

    def versions(self, name: str) -> builtins.list[DatasetVersion]:
        """Every version of a dataset, newest first; NotFound for an unknown name."""
        return self.store.list_dataset_versions(validate_dataset_name(name))

    def read_frame(
        self, ref: str | DatasetVersion, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The rows of a tabular version as a DataFrame, read from the object store.

        Only beside the store's object store (embedded, or inside the server):
        a remote client has no access to the server's blobs.
        """
        if not isinstance(self.client.store, SqlTrackingStore):
            raise InvalidArgument(
                "Reading a dataset version's rows needs the server's object store: run this "
                "on the server, or check the data out with `loopml data checkout`."
            )
        return read_version_frame(self.client.objects, self.get(ref), columns)

    # -- lineage ----------------------------------------------------------------------
    def log_input(
        self,
        dataset: str | DatasetVersion,
        run_id: str,
        *,
        context: str = DEFAULT_CONTEXT,
    ) -> DatasetVersion:
        """Record that run ``run_id`` read a dataset version; returns the version.

        ``NAME`` alone records the newest version as it is now, so the run names
        exact data even if a newer version is registered later.
        """
        context = validate_context(context)
        version = self.get(dataset)
        self.client.log_inputs(run_id, [dataset_input(version, context)])
        return version

    def lineage(
        self, model_uri_or_run_id: str, *, context: str | None = None
    ) -> builtins.list[DatasetVersion]:
        """The dataset versions the run recorded (a model version's run, via the registry).

        ``context`` keeps only the inputs recorded with it ("training", say).
        """
        if context is not None:
            context = validate_context(context)
        run = self.client.get_run(run_of(Registry(self.client), model_uri_or_run_id))
        return [self.store.get_dataset_version(n, v) for n, v in recorded_versions(run, context)]


def _object_id(value: object) -> str:
    if not isinstance(value, str) or not is_hash(value):
        raise InvalidArgument(
            f"Invalid object id {value!r:.80}: ids are 64 lowercase hex characters (BLAKE3)."
        )
    return value


def _existing(path: str | os.PathLike[str]) -> Path:
    raw = os.fspath(path)
    if not raw or "\x00" in raw:
        raise InvalidArgument(f"Invalid dataset path {raw!r}: name a file or a folder.")
    resolved = Path(os.path.abspath(os.path.expanduser(raw)))
    if not resolved.exists():
        raise NotFound(f"No file or folder at {raw}: give the path of the data to register.")
    return resolved


def _tracking_repo(path: Path, client: Client) -> DataRepo | None:
    """The data repository tracking ``path`` (a pointer file beside it), if any."""
    if not pointer_file_for(path).is_file():
        return None
    try:
        return DataRepo.find(path, settings=client.settings)
    except NotFound:
        return None
