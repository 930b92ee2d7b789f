"""The SQL registry store, on the tracking store's own database.

Sharing the ``Database`` (``SqlTrackingStore.db``) is what lets a new version
copy its files from the run's artifact index in the same write transaction,
and lets ``loopml gc`` see both in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import EllipsisType

from loopml.core.clock import now_ms
from loopml.store import _sql_registry_aliases as aliases
from loopml.store import _sql_registry_models as models
from loopml.store import _sql_registry_versions as versions
from loopml.store._database import Database
from loopml.store._migrate import upgrade
from loopml.store._paging import check_max_results, decode_token, encode_token
from loopml.store._registry_base import (
    SEARCH_MODELS_MAX_RESULTS,
    SEARCH_VERSIONS_MAX_RESULTS,
    NewModelVersion,
    RegistryStore,
)
from loopml.store._registry_filter import parse_registry_filter, parse_registry_order
from loopml.store.records import PagedList
from loopml.store.registry_records import (
    AliasAction,
    AliasEvent,
    GateResult,
    ModelVersion,
    ModelVersionFile,
    RegisteredModel,
    Stage,
)


class SqlRegistryStore(RegistryStore):
    """A ``RegistryStore`` on a metadata database (migrated on first use)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        upgrade(db)

    # -- registered models ----------------------------------------------------------
    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        with self.db.write() as conn:
            models.create(conn, name, description, tags or {}, now_ms())
            return models.get(conn, name)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self.db.read() as conn:
            return models.get(conn, name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        check_max_results(max_results, SEARCH_MODELS_MAX_RESULTS)
        terms = parse_registry_filter(filter_string, "model")
        order = parse_registry_order(order_by, "model")
        offset = decode_token(page_token)
        with self.db.read() as conn:
            items, more = models.search(conn, terms, order, offset, max_results)
        return PagedList(items, encode_token(offset + max_results) if more else None)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        with self.db.write() as conn:
            models.rename(conn, name, new_name, now_ms())
            return models.get(conn, new_name)

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        with self.db.write() as conn:
            models.touch(conn, name, now_ms(), description=description)
            return models.get(conn, name)

    def delete_registered_model(self, name: str) -> None:
        with self.db.write() as conn:
            models.delete_model(conn, name)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        with self.db.write() as conn:
            models.set_tag(conn, name, key, value, now_ms())

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        with self.db.write() as conn:
            models.delete_tag(conn, name, key, now_ms())

    # -- versions ---------------------------------------------------------------------
    def create_model_version(self, name: str, new: NewModelVersion) -> ModelVersion:
        with self.db.write() as conn:
            return versions.create(conn, name, new, now_ms())

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        with self.db.read() as conn:
            return versions.get(conn, name, version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        check_max_results(max_results, SEARCH_VERSIONS_MAX_RESULTS)
        terms = parse_registry_filter(filter_string, "version")
        order = parse_registry_order(order_by, "version")
        offset = decode_token(page_token)
        with self.db.read() as conn:
            items, more = versions.search(conn, terms, order, offset, max_results)
        return PagedList(items, encode_token(offset + max_results) if more else None)

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        with self.db.write() as conn:
            versions.touch(conn, name, version, now_ms(), description=description)
            return versions.get(conn, name, version)

    def delete_model_version(self, name: str, version: int) -> None:
        with self.db.write() as conn:
            versions.delete_version(conn, name, version)

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        with self.db.write() as conn:
            versions.set_tag(conn, name, version, key, value, now_ms())

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        with self.db.write() as conn:
            versions.delete_tag(conn, name, version, key, now_ms())

    def model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        with self.db.read() as conn:
            return versions.files(conn, name, version)

    def transition_stage(
        self, name: str, version: int, stage: Stage, archive_existing_versions: bool = False
    ) -> ModelVersion:
        with self.db.write() as conn:
            return versions.transition_stage(
                conn, name, version, Stage(stage), archive_existing_versions, now_ms()
            )

    # -- aliases ----------------------------------------------------------------------
    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        user: str,
        reason: str = "",
        action: AliasAction = AliasAction.SET,
        expected: int | EllipsisType | None = ...,
        gates: Sequence[GateResult] = (),
    ) -> AliasEvent:
        with self.db.write() as conn:
            return aliases.set_alias(
                conn,
                name,
                alias,
                version,
                user=user,
                reason=reason,
                action=AliasAction(action),
                expected=expected,
                now=now_ms(),
                gates=gates,
            )

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        with self.db.read() as conn:
            return aliases.history(conn, name, alias)
