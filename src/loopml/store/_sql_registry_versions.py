"""SQL repository of model versions: creation with its file snapshot, tags, stages.

A version's files are copied from the run's artifact index (path, blob, size)
inside the transaction that creates it, so the version is immutable: the run
may overwrite or purge its artifacts later, the version still names the same
blobs (and ``loopml gc`` keeps them, see ``referenced_blobs``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, tuple_, update

from loopml.core.errors import InvalidArgument, InvalidState, NotFound
from loopml.store import _sql_artifacts as artifacts
from loopml.store import _sql_registry_models as models
from loopml.store._filter import Comparison
from loopml.store._models import (
    MODEL_ALIASES,
    MODEL_VERSION_FILES,
    MODEL_VERSION_TAGS,
    MODEL_VERSIONS,
    REGISTERED_MODELS,
    RUNS,
)
from loopml.store._registry_base import NewModelVersion
from loopml.store._sql_registry_search import apply_version_search
from loopml.store._upsert import insert_ignore, upsert
from loopml.store._visibility import where_visible
from loopml.store.records import LifecycleStage
from loopml.store.registry_records import (
    ModelVersion,
    ModelVersionFile,
    ModelVersionStatus,
    Stage,
)

MANIFEST = "MLmodel"
_INSERT_CHUNK = 1000


def missing_version(conn: Connection, name: str, version: int) -> NotFound:
    models.check_exists(conn, name)
    return NotFound(f"Registered model {name!r} has no version {version}.")


def _snapshot(conn: Connection, new: NewModelVersion) -> list[ModelVersionFile]:
    """The files below the run folder, relative to it; the checks of ``create``."""
    run = conn.execute(
        select(RUNS.c.lifecycle_stage).where(RUNS.c.run_uuid == new.files_run_id)
    ).first()
    if run is None:
        raise NotFound(f"No run with id {new.files_run_id!r} (from {new.files_source!r}).")
    if run.lifecycle_stage != LifecycleStage.ACTIVE:
        raise InvalidState(
            f"Run {new.files_run_id} is deleted: restore it before registering its files."
        )
    folder = new.files_path
    entries = artifacts.list_entries(conn, new.files_run_id, folder)
    if not entries:
        if folder:
            raise NotFound(
                f"Run {new.files_run_id} has no artifact folder {folder!r}: "
                "list_artifacts shows what it has."
            )
        raise InvalidArgument(
            f"Run {new.files_run_id} has no artifacts: log the model's files before registering."
        )
    if len(entries) == 1 and entries[0].path == folder:
        raise InvalidArgument(
            f"{new.files_source!r} is a single file: register the folder that holds the model."
        )
    cut = len(folder) + 1 if folder else 0
    files = [ModelVersionFile(e.path[cut:], e.blob_id, e.size) for e in entries]
    manifest = next((f.blob_id for f in files if f.path == MANIFEST), None)
    if manifest != new.manifest_blob:
        raise InvalidState(
            f"The files under {new.files_source!r} changed while the version was being "
            "registered: register it again."
        )
    return files


def create(conn: Connection, name: str, new: NewModelVersion, now: int) -> ModelVersion:
    files = _snapshot(conn, new)
    # Like MLflow's log_model(registered_model_name=...): the model is created if new;
    # ON CONFLICT DO NOTHING lets two first registrations race without failing.
    insert_ignore(
        conn,
        REGISTERED_MODELS,
        [
            {
                "name": name,
                "creation_time": now,
                "last_updated_time": now,
                "description": "",
                "last_version": 0,
            }
        ],
    )
    # The increment takes the model row's lock, so concurrent versions get distinct numbers.
    conn.execute(
        update(REGISTERED_MODELS)
        .where(REGISTERED_MODELS.c.name == name)
        .values(last_version=REGISTERED_MODELS.c.last_version + 1, last_updated_time=now)
    )
    version = conn.execute(
        select(REGISTERED_MODELS.c.last_version).where(REGISTERED_MODELS.c.name == name)
    ).scalar_one()
    conn.execute(
        MODEL_VERSIONS.insert().values(
            name=name,
            version=version,
            creation_time=now,
            last_updated_time=now,
            description=new.description,
            source=new.source,
            files_source=new.files_source,
            run_id=new.run_id,
            status=ModelVersionStatus.READY,
            stage=Stage.NONE,
            signature=None if new.signature is None else json.dumps(new.signature),
            model_id=new.model_id,
            user_id=new.user,
        )
    )
    if new.tags:
        conn.execute(
            MODEL_VERSION_TAGS.insert(),
            [{"name": name, "version": version, "key": k, "value": v} for k, v in new.tags.items()],
        )
    rows = [
        {"name": name, "version": version, "path": f.path, "blob_id": f.blob_id, "size": f.size}
        for f in files
    ]
    for start in range(0, len(rows), _INSERT_CHUNK):
        conn.execute(MODEL_VERSION_FILES.insert(), rows[start : start + _INSERT_CHUNK])
    return get(conn, name, version)


def load(conn: Connection, rows: Sequence[Any]) -> list[ModelVersion]:
    """Version rows as records, with their tags and aliases (bulk reads per page)."""
    keys = sorted({(row.name, row.version) for row in rows})
    tags: dict[tuple[str, int], dict[str, str]] = {k: {} for k in keys}
    aliases: dict[tuple[str, int], list[str]] = {k: [] for k in keys}
    for start in range(0, len(keys), 250):
        chunk = keys[start : start + 250]
        tag_key = tuple_(MODEL_VERSION_TAGS.c.name, MODEL_VERSION_TAGS.c.version)
        for name, version, key, value in conn.execute(
            select(
                MODEL_VERSION_TAGS.c.name,
                MODEL_VERSION_TAGS.c.version,
                MODEL_VERSION_TAGS.c.key,
                MODEL_VERSION_TAGS.c.value,
            )
            .where(tag_key.in_(chunk))
            .order_by(MODEL_VERSION_TAGS.c.key)
        ):
            tags[name, version][key] = value
        alias_key = tuple_(MODEL_ALIASES.c.name, MODEL_ALIASES.c.version)
        for name, alias, version in conn.execute(
            select(MODEL_ALIASES.c.name, MODEL_ALIASES.c.alias, MODEL_ALIASES.c.version)
            .where(alias_key.in_(chunk))
            .order_by(MODEL_ALIASES.c.alias)
        ):
            aliases[name, version].append(alias)
    return [
        ModelVersion(
            name=row.name,
            version=row.version,
            creation_time=row.creation_time,
            last_updated_time=row.last_updated_time,
            description=row.description,
            source=row.source,
            run_id=row.run_id,
            status=row.status,
            stage=row.stage,
            tags=tags[row.name, row.version],
            aliases=tuple(aliases[row.name, row.version]),
            signature=None if row.signature is None else json.loads(row.signature),
            model_id=row.model_id,
            user=row.user_id,
        )
        for row in rows
    ]


def _where(name: str, version: int) -> Any:
    return (MODEL_VERSIONS.c.name == name) & (MODEL_VERSIONS.c.version == version)


def get(conn: Connection, name: str, version: int) -> ModelVersion:
    row = conn.execute(select(MODEL_VERSIONS).where(_where(name, version))).first()
    if row is None:
        raise missing_version(conn, name, version)
    return load(conn, [row])[0]


def search(
    conn: Connection,
    terms: Sequence[Comparison],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> tuple[list[ModelVersion], bool]:
    visible = where_visible(select(MODEL_VERSIONS), "registered_model", MODEL_VERSIONS.c.name)
    query = apply_version_search(visible, terms, order)
    rows = conn.execute(query.offset(offset).limit(limit + 1)).all()
    return load(conn, rows[:limit]), len(rows) > limit


def touch(conn: Connection, name: str, version: int, now: int, **values: Any) -> None:
    result = conn.execute(
        update(MODEL_VERSIONS).where(_where(name, version)).values(last_updated_time=now, **values)
    )
    if result.rowcount == 0:
        raise missing_version(conn, name, version)


def delete_version(conn: Connection, name: str, version: int) -> None:
    get(conn, name, version)
    held = conn.execute(
        select(MODEL_ALIASES.c.alias)
        .where(MODEL_ALIASES.c.name == name, MODEL_ALIASES.c.version == version)
        .order_by(MODEL_ALIASES.c.alias)
    ).scalars()
    aliases = ", ".join(repr(a) for a in held)
    if aliases:
        raise InvalidState(
            f"Version {version} of {name!r} holds the alias {aliases}: move or delete the "
            "alias before deleting the version."
        )
    conn.execute(delete(MODEL_VERSIONS).where(_where(name, version)))


def set_tag(conn: Connection, name: str, version: int, key: str, value: str, now: int) -> None:
    touch(conn, name, version, now)
    upsert(
        conn,
        MODEL_VERSION_TAGS,
        [{"name": name, "version": version, "key": key, "value": value}],
        keys=("name", "version", "key"),
        update=("value",),
    )


def delete_tag(conn: Connection, name: str, version: int, key: str, now: int) -> None:
    touch(conn, name, version, now)
    result = conn.execute(
        delete(MODEL_VERSION_TAGS).where(
            MODEL_VERSION_TAGS.c.name == name,
            MODEL_VERSION_TAGS.c.version == version,
            MODEL_VERSION_TAGS.c.key == key,
        )
    )
    if result.rowcount == 0:
        raise NotFound(f"Version {version} of {name!r} has no tag {key!r}.")


def files(conn: Connection, name: str, version: int) -> list[ModelVersionFile]:
    rows = conn.execute(
        select(
            MODEL_VERSION_FILES.c.path, MODEL_VERSION_FILES.c.blob_id, MODEL_VERSION_FILES.c.size
        )
        .where(MODEL_VERSION_FILES.c.name == name, MODEL_VERSION_FILES.c.version == version)
        .order_by(MODEL_VERSION_FILES.c.path)
    ).all()
    if not rows:
        get(conn, name, version)  # NotFound for a missing version; else it has no files
    return [ModelVersionFile(*row) for row in rows]


def transition_stage(
    conn: Connection, name: str, version: int, stage: Stage, archive_existing: bool, now: int
) -> ModelVersion:
    touch(conn, name, version, now, stage=stage)
    if archive_existing and stage in (Stage.STAGING, Stage.PRODUCTION):
        conn.execute(
            update(MODEL_VERSIONS)
            .where(
                MODEL_VERSIONS.c.name == name,
                MODEL_VERSIONS.c.version != version,
                MODEL_VERSIONS.c.stage == stage,
            )
            .values(stage=Stage.ARCHIVED, last_updated_time=now)
        )
    models.touch(conn, name, now)
    return get(conn, name, version)
