"""Which workspaces' objects a search may return: a filter every listing query applies.

Authorization decides, per request, the set of workspaces the caller may read;
the searches and listings of experiments, registered models (and their
versions), datasets, deployments and policies then add one SQL condition, so a
page is filled with visible objects only and paging stays exact. The set is
held in a context variable (like a PostgreSQL session setting read by a
row-level security policy): every path that lists these objects (the native
API, the MLflow API, the UI pages) is filtered without each caller passing it
along. With no scope set (the embedded SDK, the CLI, an admin) nothing is
filtered.

An object with no ``workspace_objects`` row belongs to the workspace "default".
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, String, and_, cast, select

from loopml.store._governance_models import WORKSPACE_OBJECTS

DEFAULT_WORKSPACE = "default"

_VISIBLE: ContextVar[frozenset[str] | None] = ContextVar("loopml_visible_workspaces", default=None)


@contextmanager
def visible_workspaces(workspaces: Iterable[str]) -> Iterator[None]:
    """Within this block, searches return only objects owned by ``workspaces``."""
    token = _VISIBLE.set(frozenset(workspaces))
    try:
        yield
    finally:
        _VISIBLE.reset(token)


def current_visibility() -> frozenset[str] | None:
    """The workspaces searches are limited to now; None when they are not limited."""
    return _VISIBLE.get()


def visibility_clause(kind: str, key: ColumnElement[str]) -> ColumnElement[bool] | None:
    """A condition keeping the objects of ``kind`` (keyed by ``key``) that may be seen.

    None when nothing is filtered. With "default" visible, an object is kept unless it
    is assigned to a hidden workspace (unassigned ones are "default"'s); otherwise it
    must be assigned to a visible one.
    """
    visible = _VISIBLE.get()
    if visible is None:
        return None
    owned = WORKSPACE_OBJECTS.c
    if DEFAULT_WORKSPACE in visible:
        hidden = select(owned.key).where(
            and_(owned.kind == kind, owned.workspace.not_in(sorted(visible)))
        )
        return key.not_in(hidden)
    shown = select(owned.key).where(and_(owned.kind == kind, owned.workspace.in_(sorted(visible))))
    return key.in_(shown)


def experiment_key(column: ColumnElement[int]) -> ColumnElement[str]:
    """An integer experiment id as the string key ownership rows use."""
    return cast(column, String)


S = TypeVar("S", bound=Select[Any])


def where_visible(query: S, kind: str, key: ColumnElement[str]) -> S:
    """``query`` keeping only the objects of ``kind`` the current scope may see."""
    clause = visibility_clause(kind, key)
    return query if clause is None else query.where(clause)
