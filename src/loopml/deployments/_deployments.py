"""``Deployments``: the routing records that ``loopml serve --deployment`` follows.

Built over a tracking ``Client``, like ``loopml.registry.Registry``: on a
database (embedded) it writes through ``SqlDeploymentStore`` on the same
database, on a server (``http(s)://``) it talks to the server's
``/api/v1/deployments``, and the server runs this same class. Every call
validates its input first, so a refused call changes nothing.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from loopml.core.errors import InvalidArgument, NotFound
from loopml.deployments import _codec
from loopml.deployments._labels import label_pairs
from loopml.deployments._rest import RestDeploymentStore
from loopml.deployments._storage import LocalSegments, RemoteSegments, SegmentStorage
from loopml.deployments._validation import (
    validate_deployment_name,
    validate_description,
    validate_feature_service,
    validate_model_uri,
    validate_optional_uri,
    validate_weight,
)
from loopml.store import (
    Deployment,
    DeploymentStore,
    LabelColumns,
    PredictionSegment,
    SqlDeploymentStore,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

if TYPE_CHECKING:
    import pandas as pd

MAX_SEGMENT_BYTES = 64 * 1024 * 1024


def open_deployment_store(client: Client) -> tuple[DeploymentStore, SegmentStorage]:
    """The deployment store and segment storage that go with a tracking client's store."""
    if isinstance(client.store, SqlTrackingStore):
        sql = SqlDeploymentStore(client.store.db)
        return sql, LocalSegments(client, sql)
    if isinstance(client.store, RestTrackingStore):
        rest = RestDeploymentStore(client.store)
        return rest, RemoteSegments(rest)
    raise InvalidArgument(
        f"Deployments need a database or a loopml server; {client.tracking_uri!r} is neither."
    )


class Deployments:
    """The deployments of one tracking store (embedded or remote)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        self.store, self.segments = open_deployment_store(self.client)

    def create(
        self,
        name: str,
        model_uri: str,
        *,
        canary_uri: str | None = None,
        canary_weight: float = 0.0,
        shadow_uri: str | None = None,
        description: str = "",
        feature_service: str | None = None,
    ) -> Deployment:
        """Create a deployment (revision 1); AlreadyExists if the name is taken.

        URIs are ``models:/`` or ``runs:/``; ``canary_weight`` (0 to 1) is the share
        of requests routed to ``canary_uri`` and needs one when above 0.
        ``feature_service`` names the feature service the server looks features up by.
        """
        return self.store.create_deployment(
            validate_deployment_name(name),
            validate_model_uri(model_uri),
            canary_uri=validate_optional_uri(canary_uri, "canary_uri"),
            canary_weight=validate_weight(canary_weight),
            shadow_uri=validate_optional_uri(shadow_uri, "shadow_uri"),
            description=validate_description(description),
            feature_service=validate_feature_service(feature_service),
        )

    def get(self, name: str) -> Deployment:
        """One deployment; NotFound otherwise."""
        return self.store.get_deployment(validate_deployment_name(name))

    def list(self) -> builtins.list[Deployment]:
        """Every deployment, by name."""
        return self.store.list_deployments()

    def update(
        self,
        name: str,
        *,
        model_uri: str | EllipsisType = ...,
        canary_uri: str | EllipsisType | None = ...,
        canary_weight: float | EllipsisType = ...,
        shadow_uri: str | EllipsisType | None = ...,
        description: str | EllipsisType = ...,
        feature_service: str | EllipsisType | None = ...,
    ) -> Deployment:
        """Change only the given fields (revision + 1); None clears the canary or shadow.

        Clearing the canary also sets its weight to 0 unless a weight is given. A
        result with a canary weight but no canary is refused (nothing written).
        """
        name = validate_deployment_name(name)
        changes: dict[str, Any] = {}
        if model_uri is not ...:
            changes["model_uri"] = validate_model_uri(model_uri)
        if canary_uri is not ...:
            changes["canary_uri"] = validate_optional_uri(canary_uri, "canary_uri")
            if canary_uri is None and canary_weight is ...:
                changes["canary_weight"] = 0.0
        if canary_weight is not ...:
            changes["canary_weight"] = validate_weight(canary_weight)
        if shadow_uri is not ...:
            changes["shadow_uri"] = validate_optional_uri(shadow_uri, "shadow_uri")
        if description is not ...:
            changes["description"] = validate_description(description)
        if feature_service is not ...:
            changes["feature_service"] = validate_feature_service(feature_service)
        if not changes:
            raise InvalidArgument(
                f"Nothing to update in deployment {name!r}: give model_uri, canary_uri, "
                "canary_weight, shadow_uri, description or feature_service."
            )
        return self.store.update_deployment(name, changes)

    def delete(self, name: str) -> None:
        """Delete a deployment record; its prediction log and labels stay readable."""
        self.store.delete_deployment(validate_deployment_name(name))

    # -- the prediction log ---------------------------------------------------------------
    def list_segments(
        self, name: str, since_ms: int | None = None, until_ms: int | None = None
    ) -> builtins.list[PredictionSegment]:
        """The prediction-log segments that may hold rows in ``[since_ms, until_ms)``."""
        return self.store.list_segments(
            validate_deployment_name(name), _time(since_ms, "since_ms"), _time(until_ms, "until_ms")
        )

    def add_segment(self, name: str, data: bytes) -> PredictionSegment:
        """Validate a Parquet segment (the log's columns, this deployment's rows), store it.

        Its span and row count are read from the bytes. InvalidArgument, with nothing
        stored, for anything else than a prediction-log segment of ``name``.
        """
        name = validate_deployment_name(name)
        if len(data) > MAX_SEGMENT_BYTES:
            raise InvalidArgument(
                f"The prediction segment is larger than {MAX_SEGMENT_BYTES // 2**20} MiB."
            )
        table = _codec.decode(data)
        lo, hi = _codec.span(table)
        pc = _codec.arrow().compute
        names = pc.unique(table.column("deployment")).to_pylist()
        if names != [name]:
            raise InvalidArgument(
                f"The prediction segment holds rows of {names[:3]!r}, not only of {name!r}."
            )
        return self.segments.write(name, data, lo, hi, table.num_rows)

    def log_labels(self, name: str, labels: Mapping[str, Any] | pd.DataFrame) -> int:
        """Attach labels by request id (see ``loopml.deployments.log_labels``)."""
        name = validate_deployment_name(name)
        pairs = label_pairs(labels)
        return self.store.set_labels(name, pairs) if pairs else 0

    def get_labels(self, name: str) -> LabelColumns:
        """Every label of a deployment's requests; NotFound for an unknown name."""
        return self.store.get_labels(validate_deployment_name(name))

    def read_predictions(
        self,
        name: str,
        *,
        since_ms: int | None = None,
        until_ms: int | None = None,
        with_labels: bool = True,
    ) -> pd.DataFrame:
        """The log's rows in a time range (see ``loopml.deployments.read_predictions``).

        Only the segments whose indexed span meets the range are opened; filtering,
        sorting and the label join (a hash lookup, ``index_in``) are whole-column
        operations, so a million rows cost a handful of vectorised steps.
        """
        name = validate_deployment_name(name)
        segments = self.list_segments(name, since_ms, until_ms)
        tables = [_codec.decode(self.segments.read(s)) for s in segments]
        table = _codec.concat(tables) if tables else _codec.empty_table()
        table = _codec.in_range(table, since_ms, until_ms)
        if with_labels:
            table = _codec.join_labels(table, self.store.get_labels(name))
        return table.to_pandas()

    def segment_bytes(self, name: str, segment_id: int) -> tuple[PredictionSegment, bytes]:
        """One segment and its verified bytes; NotFound if the deployment has no such segment."""
        name = validate_deployment_name(name)
        if not isinstance(self.segments, LocalSegments):
            found = [s for s in self.list_segments(name) if s.id == segment_id]
            if not found:
                raise NotFound(f"Deployment {name!r} has no prediction segment {segment_id}.")
            return found[0], self.segments.read(found[0])
        segment = self.segments.find(name, segment_id)
        return segment, self.segments.read(segment)


def _time(value: object, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"Invalid {what} {value!r}: give epoch milliseconds (an integer).")
    return value
