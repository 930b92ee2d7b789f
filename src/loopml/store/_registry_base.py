"""The registry store interface: a few primitives, conveniences written once here.

The SQL store (SQLite and PostgreSQL, sharing the tracking store's database so a
version's file snapshot is copied from the run's artifact index in the same
transaction) implements it; the remote store (``loopml.registry``'s REST client
of a loopml server) implements it too, and both pass one shared test suite.

Callers (``loopml.registry.Registry``) validate names and values first; the
store guarantees atomicity: a call is written whole or not at all, a refused
call writes nothing, and every alias move is recorded in the same transaction.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import EllipsisType
from typing import Any

from loopml.core.errors import NotFound
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

SEARCH_MODELS_MAX_RESULTS = 1000  # MLflow's threshold for registered models
SEARCH_VERSIONS_MAX_RESULTS = 200_000  # MLflow's threshold for model versions


@dataclass(frozen=True, slots=True)
class NewModelVersion:
    """What a new version is made of; the files are those of a run's artifact folder.

    ``files_run_id``/``files_path`` name the folder whose files are snapshotted
    (``""`` is the run's root). ``signature`` is what the caller read from the
    folder's ``MLmodel``, and ``manifest_blob`` the blob it read it from (None: the
    folder had no ``MLmodel``); the SQL store refuses the version if the folder's
    ``MLmodel`` is another blob by the time it snapshots (the run changed
    meanwhile). A remote store leaves both to the server, which reads them itself.
    """

    source: str
    files_run_id: str
    files_path: str = ""
    run_id: str | None = None
    description: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)
    model_id: str | None = None
    user: str = ""
    signature: dict[str, Any] | None = None
    manifest_blob: str | None = None

    @property
    def files_source(self) -> str:
        """The folder as a ``runs:/`` URI."""
        path = f"/{self.files_path}" if self.files_path else ""
        return f"runs:/{self.files_run_id}{path}"


class RegistryStore(abc.ABC):
    """Where registered models, their versions, aliases and alias history live."""

    # -- registered models ----------------------------------------------------------
    @abc.abstractmethod
    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        """Create a registered model; AlreadyExists if the name is taken."""

    @abc.abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags and aliases; NotFound otherwise."""

    @abc.abstractmethod
    def search_registered_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching MLflow's registered-model filter, ordered (then by name), paged."""

    @abc.abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; its versions, aliases and history follow."""

    @abc.abstractmethod
    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        """Replace a model's description."""

    @abc.abstractmethod
    def delete_registered_model(self, name: str) -> None:
        """Delete a model and its versions; InvalidState (naming it) if an alias is set."""

    @abc.abstractmethod
    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        """Set (or overwrite) a tag of a model."""

    @abc.abstractmethod
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Remove a tag of a model; NotFound if it has no such tag."""

    # -- versions ---------------------------------------------------------------------
    @abc.abstractmethod
    def create_model_version(self, name: str, new: NewModelVersion) -> ModelVersion:
        """Snapshot the run folder's files as the next version (the model is created if new).

        NotFound if the run or the folder does not exist; InvalidArgument if the
        folder is empty or is a single file; InvalidState if the run is deleted.
        """

    @abc.abstractmethod
    def get_model_version(self, name: str, version: int) -> ModelVersion:
        """One version; NotFound if the model or the version does not exist."""

    @abc.abstractmethod
    def search_model_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching MLflow's model-version filter, ordered, paged.

        Without ``order_by``: last update first, then name, then newest version.
        """

    @abc.abstractmethod
    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        """Replace a version's description (its files and source never change)."""

    @abc.abstractmethod
    def delete_model_version(self, name: str, version: int) -> None:
        """Delete a version; InvalidState (naming the alias) if it holds an alias."""

    @abc.abstractmethod
    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        """Set (or overwrite) a tag of a version."""

    @abc.abstractmethod
    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        """Remove a tag of a version; NotFound if it has no such tag."""

    @abc.abstractmethod
    def model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        """The version's snapshot, ordered by path."""

    @abc.abstractmethod
    def transition_stage(
        self, name: str, version: int, stage: Stage, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a legacy stage (and others of that stage to Archived if asked)."""

    # -- aliases ----------------------------------------------------------------------
    @abc.abstractmethod
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
        """Point ``alias`` at ``version`` (None: delete it) and record the move.

        ``gates`` (the verdicts of a promotion's gates) are recorded with the move.

        With ``expected`` (a version, or None for "unset") the move happens only if
        the alias still has that holder, else InvalidState: a promotion whose gates
        judged one holder never replaces another. NotFound for an unknown model or
        version, or (deleting) an alias that is not set.
        """

    @abc.abstractmethod
    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of one alias (or of all the model's aliases), oldest first."""

    # -- conveniences, written once ---------------------------------------------------
    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points at; NotFound if the alias is not set."""
        model = self.get_registered_model(name)
        if alias not in model.aliases:
            raise no_alias(name, alias)
        return self.get_model_version(name, model.aliases[alias])

    def iter_model_versions(self, name: str) -> Iterator[ModelVersion]:
        """Every version of one model, newest first."""
        token: str | None = None
        while True:
            page = self.search_model_versions(
                f"name = {quote_literal(name)}", ["version_number DESC"], 1000, token
            )
            yield from page
            token = page.token
            if not token:
                return

    def get_latest_versions(
        self, name: str, stages: Sequence[Stage] | None = None
    ) -> list[ModelVersion]:
        """The newest version in each stage (every stage when None), ordered by stage."""
        self.get_registered_model(name)
        wanted = list(stages) if stages else list(Stage)
        latest: dict[str, ModelVersion] = {}
        for version in self.iter_model_versions(name):
            latest.setdefault(version.stage, version)
        return [latest[stage] for stage in wanted if stage in latest]


def quote_literal(value: str) -> str:
    """``value`` as a single-quoted filter literal (quotes doubled, backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def no_alias(name: str, alias: str) -> NotFound:
    return NotFound(
        f"Registered model {name!r} has no alias {alias!r}: alias_history shows its moves."
    )
