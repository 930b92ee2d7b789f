"""The SQL deployment store, on the tracking store's own database.

Sharing the ``Database`` (``SqlTrackingStore.db``) lets ``loopml gc`` keep the
prediction segments' blobs in the same pass as run artifacts and model
snapshots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument
from loopml.store import _sql_predictions as predictions
from loopml.store._database import Database
from loopml.store._deployment_base import (
    UPDATABLE_FIELDS,
    DeploymentStore,
    LabelColumns,
    check_routing,
    missing_deployment,
)
from loopml.store._migrate import upgrade
from loopml.store._models import DEPLOYMENTS
from loopml.store._visibility import where_visible
from loopml.store.deployment_records import Deployment, PredictionSegment


def _record(row: Any) -> Deployment:
    return Deployment(
        name=row.name,
        model_uri=row.model_uri,
        canary_uri=row.canary_uri,
        canary_weight=float(row.canary_weight),
        shadow_uri=row.shadow_uri,
        description=row.description,
        revision=row.revision,
        created_time=row.created_time,
        updated_time=row.updated_time,
        feature_service=row.feature_service,
    )


def _get(conn: Connection, name: str) -> Deployment:
    row = conn.execute(select(DEPLOYMENTS).where(DEPLOYMENTS.c.name == name)).first()
    if row is None:
        raise missing_deployment(name)
    return _record(row)


class SqlDeploymentStore(DeploymentStore):
    """A ``DeploymentStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- deployments ------------------------------------------------------------------
    def create_deployment(
        self,
        name: str,
        model_uri: str,
        *,
        canary_uri: str | None,
        canary_weight: float,
        shadow_uri: str | None,
        description: str,
        feature_service: str | None = None,
    ) -> Deployment:
        check_routing(canary_uri, canary_weight)
        now = now_ms()
        with self.db.write() as conn:
            taken = conn.execute(
                select(DEPLOYMENTS.c.name).where(DEPLOYMENTS.c.name == name)
            ).first()
            if taken is not None:
                raise AlreadyExists(f"A deployment named {name!r} exists already.")
            conn.execute(
                DEPLOYMENTS.insert().values(
                    name=name,
                    model_uri=model_uri,
                    canary_uri=canary_uri,
                    canary_weight=canary_weight,
                    shadow_uri=shadow_uri,
                    description=description,
                    feature_service=feature_service,
                    revision=1,
                    created_time=now,
                    updated_time=now,
                )
            )
            return _get(conn, name)

    def get_deployment(self, name: str) -> Deployment:
        with self.db.read() as conn:
            return _get(conn, name)

    def list_deployments(self) -> list[Deployment]:
        with self.db.read() as conn:
            query = where_visible(select(DEPLOYMENTS), "deployment", DEPLOYMENTS.c.name)
            rows = conn.execute(query.order_by(DEPLOYMENTS.c.name)).all()
        return [_record(row) for row in rows]

    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        unknown = set(changes) - UPDATABLE_FIELDS
        if unknown:
            raise InvalidArgument(f"Deployments have no updatable field {sorted(unknown)[0]!r}.")
        with self.db.write() as conn:
            current = _get(conn, name)
            canary_uri = changes.get("canary_uri", current.canary_uri)
            canary_weight = changes.get("canary_weight", current.canary_weight)
            check_routing(canary_uri, canary_weight)
            conn.execute(
                update(DEPLOYMENTS)
                .where(DEPLOYMENTS.c.name == name)
                .values(
                    **changes,
                    revision=DEPLOYMENTS.c.revision + 1,
                    updated_time=max(now_ms(), current.updated_time),
                )
            )
            return _get(conn, name)

    def delete_deployment(self, name: str) -> None:
        with self.db.write() as conn:
            result = conn.execute(delete(DEPLOYMENTS).where(DEPLOYMENTS.c.name == name))
            if result.rowcount == 0:
                raise missing_deployment(name)

    # -- prediction log -----------------------------------------------------------------
    def add_segment(
        self, deployment: str, blob_id: str, min_time: int, max_time: int, rows: int
    ) -> PredictionSegment:
        """Index a stored Parquet segment (its blob must be in the object store already)."""
        with self.db.write() as conn:
            return predictions.add_segment(
                conn, deployment, blob_id, min_time, max_time, rows, now_ms()
            )

    def get_segment(self, deployment: str, segment_id: int) -> PredictionSegment | None:
        """One segment of a deployment's log, or None."""
        with self.db.read() as conn:
            return predictions.get_segment(conn, deployment, segment_id)

    def list_segments(
        self, deployment: str, since_ms: int | None = None, until_ms: int | None = None
    ) -> list[PredictionSegment]:
        with self.db.read() as conn:
            return predictions.list_segments(conn, deployment, since_ms, until_ms)

    def set_labels(self, deployment: str, labels: Sequence[tuple[str, str]]) -> int:
        with self.db.write() as conn:
            return predictions.set_labels(conn, deployment, labels, now_ms())

    def get_labels(self, deployment: str) -> LabelColumns:
        with self.db.read() as conn:
            return predictions.get_labels(conn, deployment)
