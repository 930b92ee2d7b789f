"""Where prediction segments go: the object store (embedded) or the server (remote).

Embedded, a segment's bytes become a blob (``client.objects``) and then an
index row, in that order: a crash between the two leaves an unindexed blob,
which ``loopml gc`` collects after its grace period, never an index row
pointing at nothing. Remote, the bytes are uploaded and the server does the
same on its side.
"""

from __future__ import annotations

import abc

from loopml.core.errors import NotFound
from loopml.deployments._rest import RestDeploymentStore
from loopml.store import PredictionSegment, SqlDeploymentStore
from loopml.tracking import Client


class SegmentStorage(abc.ABC):
    """Writes and reads the Parquet segments of prediction logs."""

    @abc.abstractmethod
    def write(
        self, deployment: str, data: bytes, min_time: int, max_time: int, rows: int
    ) -> PredictionSegment:
        """Store one segment and index it."""

    @abc.abstractmethod
    def read(self, segment: PredictionSegment) -> bytes:
        """The verified bytes of one segment."""


class LocalSegments(SegmentStorage):
    """Segments as blobs of the client's object store, indexed in its database."""

    def __init__(self, client: Client, store: SqlDeploymentStore) -> None:
        self.client = client
        self.store = store

    def write(
        self, deployment: str, data: bytes, min_time: int, max_time: int, rows: int
    ) -> PredictionSegment:
        blob_id = self.client.objects.put_bytes(data)
        return self.store.add_segment(deployment, blob_id, min_time, max_time, rows)

    def read(self, segment: PredictionSegment) -> bytes:
        return self.client.objects.get_bytes(segment.blob_id)

    def find(self, deployment: str, segment_id: int) -> PredictionSegment:
        """One indexed segment; NotFound otherwise."""
        segment = self.store.get_segment(deployment, segment_id)
        if segment is None:
            raise NotFound(f"Deployment {deployment!r} has no prediction segment {segment_id}.")
        return segment


class RemoteSegments(SegmentStorage):
    """Segments uploaded to and downloaded from a loopml server."""

    def __init__(self, store: RestDeploymentStore) -> None:
        self.store = store

    def write(
        self, deployment: str, data: bytes, min_time: int, max_time: int, rows: int
    ) -> PredictionSegment:
        # The server reads the span and the row count from the bytes themselves.
        return self.store.upload_segment(deployment, data)

    def read(self, segment: PredictionSegment) -> bytes:
        return self.store.download_segment(segment)
