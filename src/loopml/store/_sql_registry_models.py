"""SQL repository of registered models and their tags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, select, update

from loopml.core.errors import AlreadyExists, InvalidState, NotFound
from loopml.store._filter import Comparison
from loopml.store._models import MODEL_ALIASES, REGISTERED_MODEL_TAGS, REGISTERED_MODELS
from loopml.store._sql_registry_search import apply_model_search
from loopml.store._upsert import upsert
from loopml.store._visibility import where_visible
from loopml.store.registry_records import RegisteredModel


def missing_model(name: str) -> NotFound:
    return NotFound(
        f"No registered model named {name!r}: `loopml models list` shows the registered models."
    )


def check_exists(conn: Connection, name: str) -> None:
    """NotFound unless the model exists."""
    found = conn.execute(
        select(REGISTERED_MODELS.c.name).where(REGISTERED_MODELS.c.name == name)
    ).first()
    if found is None:
        raise missing_model(name)


def touch(conn: Connection, model: str, now: int, **values: Any) -> None:
    """Set ``last_updated_time`` (and ``values``); NotFound if the model does not exist."""
    result = conn.execute(
        update(REGISTERED_MODELS)
        .where(REGISTERED_MODELS.c.name == model)
        .values(last_updated_time=now, **values)
    )
    if result.rowcount == 0:
        raise missing_model(model)


def create(
    conn: Connection, name: str, description: str, tags: Mapping[str, str], now: int
) -> None:
    found = conn.execute(
        select(REGISTERED_MODELS.c.name).where(REGISTERED_MODELS.c.name == name)
    ).first()
    if found is not None:
        raise AlreadyExists(f"A registered model named {name!r} exists already.")
    conn.execute(
        REGISTERED_MODELS.insert().values(
            name=name,
            creation_time=now,
            last_updated_time=now,
            description=description,
            last_version=0,
        )
    )
    if tags:
        conn.execute(
            REGISTERED_MODEL_TAGS.insert(),
            [{"name": name, "key": k, "value": v} for k, v in tags.items()],
        )


def load(conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
    """Registered-model rows as records, with their tags and aliases (two bulk reads)."""
    names = [row.name for row in rows]
    tags: dict[str, dict[str, str]] = {n: {} for n in names}
    aliases: dict[str, dict[str, int]] = {n: {} for n in names}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        for name, key, value in conn.execute(
            select(
                REGISTERED_MODEL_TAGS.c.name,
                REGISTERED_MODEL_TAGS.c.key,
                REGISTERED_MODEL_TAGS.c.value,
            )
            .where(REGISTERED_MODEL_TAGS.c.name.in_(chunk))
            .order_by(REGISTERED_MODEL_TAGS.c.key)
        ):
            tags[name][key] = value
        for name, alias, version in conn.execute(
            select(MODEL_ALIASES.c.name, MODEL_ALIASES.c.alias, MODEL_ALIASES.c.version)
            .where(MODEL_ALIASES.c.name.in_(chunk))
            .order_by(MODEL_ALIASES.c.alias)
        ):
            aliases[name][alias] = version
    return [
        RegisteredModel(
            name=row.name,
            creation_time=row.creation_time,
            last_updated_time=row.last_updated_time,
            description=row.description,
            tags=tags[row.name],
            aliases=aliases[row.name],
        )
        for row in rows
    ]


def get(conn: Connection, name: str) -> RegisteredModel:
    row = conn.execute(select(REGISTERED_MODELS).where(REGISTERED_MODELS.c.name == name)).first()
    if row is None:
        raise missing_model(name)
    return load(conn, [row])[0]


def search(
    conn: Connection,
    terms: Sequence[Comparison],
    order: Sequence[tuple[str, bool]],
    offset: int,
    limit: int,
) -> tuple[list[RegisteredModel], bool]:
    """A page of matching models, and whether more follow."""
    visible = where_visible(select(REGISTERED_MODELS), "registered_model", REGISTERED_MODELS.c.name)
    query = apply_model_search(visible, terms, order)
    rows = conn.execute(query.offset(offset).limit(limit + 1)).all()
    return load(conn, rows[:limit]), len(rows) > limit


def rename(conn: Connection, name: str, new_name: str, now: int) -> None:
    check_exists(conn, name)
    if new_name == name:
        return
    clash = conn.execute(
        select(REGISTERED_MODELS.c.name).where(REGISTERED_MODELS.c.name == new_name)
    ).first()
    if clash is not None:
        raise AlreadyExists(f"A registered model named {new_name!r} exists already.")
    # Versions, tags, files, aliases and history follow through ON UPDATE CASCADE.
    touch(conn, name, now, name=new_name)


def delete_model(conn: Connection, name: str) -> None:
    check_exists(conn, name)
    held = conn.execute(
        select(MODEL_ALIASES.c.alias, MODEL_ALIASES.c.version)
        .where(MODEL_ALIASES.c.name == name)
        .order_by(MODEL_ALIASES.c.alias)
    ).all()
    if held:
        listed = ", ".join(f"{alias!r} (version {version})" for alias, version in held)
        raise InvalidState(
            f"Registered model {name!r} cannot be deleted while aliases point at its versions: "
            f"{listed}. Delete the aliases first (delete_alias)."
        )
    conn.execute(delete(REGISTERED_MODELS).where(REGISTERED_MODELS.c.name == name))


def set_tag(conn: Connection, name: str, key: str, value: str, now: int) -> None:
    touch(conn, name, now)
    upsert(
        conn,
        REGISTERED_MODEL_TAGS,
        [{"name": name, "key": key, "value": value}],
        keys=("name", "key"),
        update=("value",),
    )


def delete_tag(conn: Connection, name: str, key: str, now: int) -> None:
    touch(conn, name, now)
    result = conn.execute(
        delete(REGISTERED_MODEL_TAGS).where(
            REGISTERED_MODEL_TAGS.c.name == name, REGISTERED_MODEL_TAGS.c.key == key
        )
    )
    if result.rowcount == 0:
        raise NotFound(f"Registered model {name!r} has no tag {key!r}.")
