"""Remote mode: the datasets of a loopml server, over its native API (``/api/v1/datasets``).

``RestDatasetStore`` implements ``DatasetStore`` with the tracking client's
HTTP session (``RestTrackingStore``: one keep-alive connection pool, and the
one seam where httpx failures and error bodies become ``LoopmlError``s), so
``Datasets`` behaves the same embedded and remote. The content itself goes
through ``/api/v1/dataset-content``: which objects the server lacks, the
upload of one object (the server checks its hash), and the tree of a folder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict
from typing import Any, BinaryIO
from urllib.parse import quote

from pydantic import TypeAdapter

from loopml.objects import TreeEntry
from loopml.store import Dataset, DatasetStore, DatasetVersion, NewDatasetVersion
from loopml.tracking._rest import RestTrackingStore, error_of

IDS_PER_REQUEST = 10_000  # keeps each JSON body small next to the server's 64 MiB cap
READ_SIZE = 1024 * 1024

_VERSION = TypeAdapter(DatasetVersion)
_VERSIONS = TypeAdapter(list[DatasetVersion])
_DATASETS = TypeAdapter(list[Dataset])


def _path(name: str) -> str:
    return f"/datasets/{quote(name, safe='')}"


class RestDatasetStore(DatasetStore):
    """The datasets of the loopml server that ``tracking`` talks to."""

    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking

    def create_dataset_version(
        self, name: str, new: NewDatasetVersion
    ) -> tuple[DatasetVersion, bool]:
        body = self.tracking.call("POST", f"{_path(name)}/versions", asdict(new))
        return _VERSION.validate_python(body["dataset_version"]), bool(body["created"])

    def get_dataset_version(self, name: str, version: int | None = None) -> DatasetVersion:
        which = "latest" if version is None else str(int(version))
        body = self.tracking.call("GET", f"{_path(name)}/versions/{which}")
        return _VERSION.validate_python(body["dataset_version"])

    def list_datasets(self) -> list[Dataset]:
        return _DATASETS.validate_python(self.tracking.call("GET", "/datasets")["datasets"])

    def list_dataset_versions(self, name: str) -> list[DatasetVersion]:
        body = self.tracking.call("GET", f"{_path(name)}/versions")
        return _VERSIONS.validate_python(body["dataset_versions"])

    # -- content ----------------------------------------------------------------------
    def missing_objects(self, ids: Sequence[str]) -> list[str]:
        """The ids among ``ids`` that the server's object store does not hold."""
        missing: list[str] = []
        for start in range(0, len(ids), IDS_PER_REQUEST):
            part = list(ids[start : start + IDS_PER_REQUEST])
            body = self.tracking.call("POST", "/dataset-content/missing", {"ids": part})
            missing.extend(str(found) for found in body["missing"])
        return missing

    def upload_object(self, object_id: str, stream: BinaryIO) -> None:
        """Send one content (read from ``stream`` to its end); the server checks its id."""
        with self.tracking.reaching():
            response = self.tracking.http.put(
                f"/dataset-content/objects/{object_id}",
                content=_chunks(stream),
                headers={"Content-Type": "application/octet-stream"},
            )
        if not response.is_success:
            raise error_of(response)

    def put_tree(self, entries: Mapping[str, TreeEntry]) -> str:
        """Store a folder's tree on the server; its id."""
        payload: dict[str, Any] = {
            "entries": {
                path: {"id": e.id, "size": e.size, "mode": e.mode} for path, e in entries.items()
            }
        }
        return str(self.tracking.call("POST", "/dataset-content/trees", payload)["tree_id"])


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    try:
        while chunk := stream.read(READ_SIZE):
            yield chunk
    finally:
        stream.close()
