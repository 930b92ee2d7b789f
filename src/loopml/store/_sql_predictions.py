"""SQL repository of the prediction-log index (segments) and of labels.

A segment row says which blob holds a batch of logged predictions and the
time span it covers, so a read of a time range opens only the segments that
can hold rows in it. Labels are keyed by (deployment, request id); labelling a
request again overwrites its label.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, exists, or_, select

from loopml.store._deployment_base import LabelColumns, unknown_log
from loopml.store._models import DEPLOYMENTS, PREDICTION_LABELS, PREDICTION_SEGMENTS
from loopml.store._upsert import upsert
from loopml.store.deployment_records import PredictionSegment

_LABEL_BATCH = 5_000


def check_known(conn: Connection, deployment: str) -> None:
    """NotFound unless the name has a deployment record or a prediction log."""
    known = conn.execute(
        select(
            or_(
                exists().where(DEPLOYMENTS.c.name == deployment),
                exists().where(PREDICTION_SEGMENTS.c.deployment == deployment),
            )
        )
    ).scalar()
    if not known:
        raise unknown_log(deployment)


def add_segment(
    conn: Connection,
    deployment: str,
    blob_id: str,
    min_time: int,
    max_time: int,
    rows: int,
    now: int,
) -> PredictionSegment:
    segment_id = conn.execute(
        PREDICTION_SEGMENTS.insert()
        .values(
            deployment=deployment,
            blob_id=blob_id,
            min_time=min_time,
            max_time=max_time,
            rows=rows,
            created=now,
        )
        .returning(PREDICTION_SEGMENTS.c.id)
    ).scalar_one()
    return PredictionSegment(segment_id, deployment, blob_id, min_time, max_time, rows, now)


def list_segments(
    conn: Connection, deployment: str, since_ms: int | None, until_ms: int | None
) -> list[PredictionSegment]:
    check_known(conn, deployment)
    t = PREDICTION_SEGMENTS.c
    query = select(t.id, t.deployment, t.blob_id, t.min_time, t.max_time, t.rows, t.created).where(
        t.deployment == deployment
    )
    if since_ms is not None:
        query = query.where(t.max_time >= since_ms)
    if until_ms is not None:
        query = query.where(t.min_time < until_ms)
    return [PredictionSegment(*row) for row in conn.execute(query.order_by(t.min_time, t.id))]


def get_segment(conn: Connection, deployment: str, segment_id: int) -> PredictionSegment | None:
    t = PREDICTION_SEGMENTS.c
    row = conn.execute(
        select(t.id, t.deployment, t.blob_id, t.min_time, t.max_time, t.rows, t.created).where(
            t.deployment == deployment, t.id == segment_id
        )
    ).first()
    return None if row is None else PredictionSegment(*row)


def set_labels(
    conn: Connection, deployment: str, labels: Sequence[tuple[str, str]], now: int
) -> int:
    check_known(conn, deployment)
    # The last label given for a request wins, as if they were set one by one.
    latest = dict(labels)
    rows = [
        {"deployment": deployment, "request_id": rid, "label": text, "time": now}
        for rid, text in latest.items()
    ]
    for start in range(0, len(rows), _LABEL_BATCH):
        upsert(
            conn,
            PREDICTION_LABELS,
            rows[start : start + _LABEL_BATCH],
            keys=("deployment", "request_id"),
            update=("label", "time"),
        )
    return len(rows)


def get_labels(conn: Connection, deployment: str) -> LabelColumns:
    check_known(conn, deployment)
    t = PREDICTION_LABELS.c
    result = conn.execute(
        select(t.request_id, t.label).where(t.deployment == deployment).order_by(t.request_id)
    )
    ids: list[str] = []
    texts: list[str] = []
    for request_id, text in result:
        ids.append(request_id)
        texts.append(text)
    return LabelColumns(ids, texts)


def segment_blobs(conn: Connection) -> Iterator[str]:
    """The blobs of every prediction segment (``loopml gc`` keeps them)."""
    for (blob_id,) in conn.execute(select(PREDICTION_SEGMENTS.c.blob_id).distinct()):
        yield blob_id
