"""SQL repository of experiments and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, select, update

from loopml.core.clock import now_ms
from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.store._experiment_search import (
    apply_experiment_search,
    parse_experiment_filter,
    parse_experiment_order,
)
from loopml.store._models import EXPERIMENT_TAGS, EXPERIMENTS, RUNS
from loopml.store._upsert import upsert
from loopml.store._visibility import experiment_key, where_visible
from loopml.store.records import Experiment, LifecycleStage

ARTIFACT_SCHEME = "loopml-artifacts:"
MAX_EXPERIMENT_ID = 2**31 - 1  # the column is a 32-bit integer on PostgreSQL


def parse_experiment_id(experiment_id: str | int) -> int:
    """Experiment ids are strings of integers on the wire, as in MLflow."""
    try:
        value = int(experiment_id)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"Invalid experiment id {experiment_id!r}: experiment ids are integers like '0'."
        ) from exc
    if not 0 <= value <= MAX_EXPERIMENT_ID:
        raise NotFound(f"No experiment with id {experiment_id!r}: ids run from 0 to 2**31 - 1.")
    return value


def _missing(experiment_id: object) -> NotFound:
    return NotFound(
        f"No experiment with id {experiment_id!r}: `loopml experiments list` shows them."
    )


def create(conn: Connection, name: str, artifact_location: str | None, tags: dict[str, str]) -> str:
    existing = conn.execute(
        select(EXPERIMENTS.c.lifecycle_stage).where(EXPERIMENTS.c.name == name)
    ).first()
    if existing is not None:
        hint = " (it is deleted: restore it, or gc it first)" if existing[0] == "deleted" else ""
        raise AlreadyExists(f"An experiment named {name!r} exists already{hint}.")
    created = now_ms()
    new_id = conn.execute(
        EXPERIMENTS.insert().values(
            name=name,
            artifact_location=artifact_location or "",
            lifecycle_stage=LifecycleStage.ACTIVE,
            creation_time=created,
            last_update_time=created,
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    if not artifact_location:
        conn.execute(
            update(EXPERIMENTS)
            .where(EXPERIMENTS.c.experiment_id == new_id)
            .values(artifact_location=f"{ARTIFACT_SCHEME}/{new_id}")
        )
    if tags:
        conn.execute(
            EXPERIMENT_TAGS.insert(),
            [{"experiment_id": new_id, "key": k, "value": v} for k, v in tags.items()],
        )
    return str(new_id)


def _to_records(conn: Connection, rows: Sequence[Any]) -> list[Experiment]:
    ids = [row.experiment_id for row in rows]
    tags: dict[int, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for tag in conn.execute(
            select(EXPERIMENT_TAGS).where(EXPERIMENT_TAGS.c.experiment_id.in_(ids))
        ):
            tags[tag.experiment_id][tag.key] = tag.value
    return [
        Experiment(
            experiment_id=str(row.experiment_id),
            name=row.name,
            artifact_location=row.artifact_location,
            lifecycle_stage=row.lifecycle_stage,
            creation_time=row.creation_time,
            last_update_time=row.last_update_time,
            tags=tags[row.experiment_id],
        )
        for row in rows
    ]


def get(conn: Connection, experiment_id: str) -> Experiment:
    row = conn.execute(
        select(EXPERIMENTS).where(EXPERIMENTS.c.experiment_id == parse_experiment_id(experiment_id))
    ).first()
    if row is None:
        raise _missing(experiment_id)
    return _to_records(conn, [row])[0]


def get_by_name(conn: Connection, name: str) -> Experiment | None:
    row = conn.execute(select(EXPERIMENTS).where(EXPERIMENTS.c.name == name)).first()
    return None if row is None else _to_records(conn, [row])[0]


def search(
    conn: Connection,
    stages: tuple[str, ...],
    filter_string: str | None,
    order_by: Sequence[str] | None,
    offset: int,
    limit: int,
) -> tuple[list[Experiment], bool]:
    """A page of matching experiments (by ``order_by``, then id), and whether more follow."""
    terms = parse_experiment_filter(filter_string)
    order = parse_experiment_order(order_by)
    query = select(EXPERIMENTS).where(EXPERIMENTS.c.lifecycle_stage.in_(stages))
    query = where_visible(query, "experiment", experiment_key(EXPERIMENTS.c.experiment_id))
    rows = conn.execute(
        apply_experiment_search(query, terms, order).offset(offset).limit(limit + 1)
    ).all()
    return _to_records(conn, rows[:limit]), len(rows) > limit


def _touch(conn: Connection, experiment_id: int, **values: object) -> None:
    result = conn.execute(
        update(EXPERIMENTS)
        .where(EXPERIMENTS.c.experiment_id == experiment_id)
        .values(last_update_time=now_ms(), **values)
    )
    if result.rowcount == 0:
        raise _missing(experiment_id)


def rename(conn: Connection, experiment_id: str, new_name: str) -> None:
    exp_id = parse_experiment_id(experiment_id)
    clash = conn.execute(
        select(EXPERIMENTS.c.experiment_id).where(
            EXPERIMENTS.c.name == new_name, EXPERIMENTS.c.experiment_id != exp_id
        )
    ).first()
    if clash is not None:
        raise AlreadyExists(f"An experiment named {new_name!r} exists already.")
    _touch(conn, exp_id, name=new_name)


def set_lifecycle(conn: Connection, experiment_id: str, stage: LifecycleStage) -> None:
    exp_id = parse_experiment_id(experiment_id)
    if exp_id == 0 and stage == LifecycleStage.DELETED:
        raise InvalidArgument("The Default experiment (id 0) cannot be deleted.")
    _touch(conn, exp_id, lifecycle_stage=stage)
    # Runs follow their experiment, as in MLflow.
    deleted_time = now_ms() if stage == LifecycleStage.DELETED else None
    conn.execute(
        update(RUNS)
        .where(RUNS.c.experiment_id == exp_id)
        .values(lifecycle_stage=stage, deleted_time=deleted_time)
    )


def set_tag(conn: Connection, experiment_id: str, key: str, value: str) -> None:
    exp_id = parse_experiment_id(experiment_id)
    _touch(conn, exp_id)
    upsert(
        conn,
        EXPERIMENT_TAGS,
        [{"experiment_id": exp_id, "key": key, "value": value}],
        keys=("experiment_id", "key"),
        update=("value",),
    )


def delete_tag(conn: Connection, experiment_id: str, key: str) -> None:
    exp_id = parse_experiment_id(experiment_id)
    removed = conn.execute(
        EXPERIMENT_TAGS.delete().where(
            EXPERIMENT_TAGS.c.experiment_id == exp_id, EXPERIMENT_TAGS.c.key == key
        )
    )
    if removed.rowcount == 0:
        stage_of(conn, experiment_id)  # NotFound for an unknown experiment
        raise NotFound(f"Experiment {experiment_id} has no tag {key!r}.")
    _touch(conn, exp_id)


def stage_of(conn: Connection, experiment_id: str) -> str:
    """The lifecycle stage of an experiment; NotFound if it does not exist."""
    stage = conn.execute(
        select(EXPERIMENTS.c.lifecycle_stage).where(
            EXPERIMENTS.c.experiment_id == parse_experiment_id(experiment_id)
        )
    ).scalar()
    if stage is None:
        raise _missing(experiment_id)
    return stage
