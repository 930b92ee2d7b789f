"""``Registry``: registered models, immutable versions, aliases, gates, history.

The one service behind the SDK, the CLI, the native REST API and the MLflow
registry API. Built over a tracking ``Client``: on a database (embedded) it
writes through ``SqlRegistryStore`` on the same database, so a version's files
are snapshotted from the run's artifact index in the transaction that creates
it; on a server (``http(s)://``) it talks to the server's registry endpoints,
and the server runs this same class.

Every call validates its input first (a refused call changes nothing), every
alias move is recorded with who, when and why, and ``promote`` moves an alias
only if every gate passed and nobody moved it while the gates ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from types import EllipsisType
from typing import BinaryIO

from loopml.core.errors import GateFailed, InvalidArgument, NotFound
from loopml.core.ids import is_run_id
from loopml.registry._files import LocalVersionFiles, RemoteVersionFiles, VersionFiles
from loopml.registry._gates import Gate, GateContext, check_gate_results, run_gate
from loopml.registry._history import rollback_target
from loopml.registry._rest import RestRegistryStore
from loopml.registry._uri import parse_models_uri, parse_runs_uri
from loopml.registry._user import current_user
from loopml.registry._validation import (
    validate_alias,
    validate_description,
    validate_model_name,
    validate_reason,
    validate_source,
    validate_stage,
    validate_tag,
    validate_tags,
    validate_user,
    validate_version,
)
from loopml.store import (
    AliasAction,
    AliasEvent,
    GateResult,
    ModelVersion,
    ModelVersionFile,
    NewModelVersion,
    PagedList,
    PromotionResult,
    RegisteredModel,
    RegistryStore,
    SqlRegistryStore,
    SqlTrackingStore,
)
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

MAX_MODEL_ID_LENGTH = 64


def open_registry_store(client: Client) -> tuple[RegistryStore, VersionFiles]:
    """The registry store and file access that go with a tracking client's store."""
    if isinstance(client.store, SqlTrackingStore):
        return SqlRegistryStore(client.store.db), LocalVersionFiles(client)
    if isinstance(client.store, RestTrackingStore):
        rest = RestRegistryStore(client.store)
        return rest, RemoteVersionFiles(rest)
    raise InvalidArgument(
        f"The model registry needs a database or a loopml server; {client.tracking_uri!r} "
        "is neither."
    )


class Registry:
    """The model registry of one tracking store (embedded or remote).

    ``user`` is recorded as the author of versions and alias moves unless a call
    names another (the server passes the requester); by default the OS user.
    """

    def __init__(self, client: Client | None = None, *, user: str | None = None) -> None:
        self.client = client if client is not None else get_client()
        self.store, self._files = open_registry_store(self.client)
        self._user = validate_user(user) if user is not None else None

    def _who(self, user: str | None) -> str:
        if user is not None:
            return validate_user(user)
        return self._user if self._user is not None else current_user()

    # -- registered models ----------------------------------------------------------
    def create_registered_model(
        self, name: str, description: str = "", tags: dict[str, str] | None = None
    ) -> RegisteredModel:
        """Create an empty registered model; AlreadyExists if the name is taken."""
        return self.store.create_registered_model(
            validate_model_name(name), validate_description(description), validate_tags(tags)
        )

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags and aliases (alias -> version); NotFound otherwise."""
        return self.store.get_registered_model(validate_model_name(name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        """Models matching MLflow's filter (``name LIKE 'fraud%' AND tags.team = 'risk'``)."""
        return self.store.search_registered_models(filter_string, order_by, max_results, page_token)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a model; versions, aliases and history follow. AlreadyExists on a clash."""
        return self.store.rename_registered_model(
            validate_model_name(name), validate_model_name(new_name, "new registered model name")
        )

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        return self.store.update_registered_model(
            validate_model_name(name), validate_description(description)
        )

    def delete_registered_model(self, name: str) -> None:
        """Delete a model and all its versions; refused (naming them) while aliases are set."""
        self.store.delete_registered_model(validate_model_name(name))

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self.store.set_registered_model_tag(validate_model_name(name), *validate_tag(key, value))

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        key, _ = validate_tag(key, "")
        self.store.delete_registered_model_tag(validate_model_name(name), key)

    # -- versions ---------------------------------------------------------------------
    def create_model_version(
        self,
        name: str,
        source: str,
        *,
        run_id: str | None = None,
        description: str = "",
        tags: dict[str, str] | None = None,
        model_id: str | None = None,
        files_source: str | None = None,
        user: str | None = None,
    ) -> ModelVersion:
        """Register the files of a run folder as the model's next version.

        ``source`` is stored verbatim; ``files_source`` (default: ``source``) is
        ``runs:/<run id>[/<path>]`` and names the folder whose files are
        snapshotted: the version keeps those exact files even if the run's
        artifacts change later. The folder's ``MLmodel`` fills ``signature``. The
        registered model is created if it does not exist. NotFound for a missing
        run or folder, InvalidArgument for an empty folder or a bad URI.
        """
        name = validate_model_name(name)
        source = validate_source(source)
        files_run_id, files_path = parse_runs_uri(
            source if files_source is None else files_source,
            "source" if files_source is None else "files_source",
        )
        if run_id is not None and (not isinstance(run_id, str) or not is_run_id(run_id)):
            raise InvalidArgument(f"Invalid run_id {run_id!r}: 32 lowercase hex characters.")
        if model_id is not None and (
            not isinstance(model_id, str)
            or not model_id
            or len(model_id) > MAX_MODEL_ID_LENGTH
            or "\x00" in model_id
        ):
            raise InvalidArgument(
                f"Invalid model_id {model_id!r}: a string of 1 to {MAX_MODEL_ID_LENGTH} characters."
            )
        run = files_run_id if run_id is None else run_id
        description = validate_description(description)
        checked_tags = validate_tags(tags)
        who = self._who(user)
        signature, manifest_blob = self._files.describe(files_run_id, files_path)
        new = NewModelVersion(
            source=source,
            files_run_id=files_run_id,
            files_path=files_path,
            run_id=run,
            description=description,
            tags=checked_tags,
            model_id=model_id,
            user=who,
            signature=signature,
            manifest_blob=manifest_blob,
        )
        return self.store.create_model_version(name, new)

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        name = validate_model_name(name)
        return self.store.get_model_version(name, validate_version(version, name))

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at; NotFound if the model or the alias is unknown."""
        return self.store.get_model_version_by_alias(
            validate_model_name(name), validate_alias(alias)
        )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        """Versions matching MLflow's filter (``name = 'fraud' AND version_number > 2``)."""
        return self.store.search_model_versions(filter_string, order_by, max_results, page_token)

    def list_model_versions(self, name: str, max_results: int | None = None) -> list[ModelVersion]:
        """The versions of one model, newest first (at most ``max_results``)."""
        found: list[ModelVersion] = []
        for version in self.store.iter_model_versions(self.get_registered_model(name).name):
            if max_results is not None and len(found) >= max_results:
                break
            found.append(version)
        return found

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        name = validate_model_name(name)
        return self.store.update_model_version(
            name, validate_version(version, name), validate_description(description)
        )

    def delete_model_version(self, name: str, version: int) -> None:
        """Delete a version; refused (naming the alias) while it holds an alias."""
        name = validate_model_name(name)
        self.store.delete_model_version(name, validate_version(version, name))

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        name = validate_model_name(name)
        number = validate_version(version, name)
        self.store.set_model_version_tag(name, number, *validate_tag(key, value))

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        name = validate_model_name(name)
        number = validate_version(version, name)
        self.store.delete_model_version_tag(name, number, validate_tag(key, "")[0])

    def model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        """The version's snapshot: (path, blob id, size) per file, ordered by path."""
        name = validate_model_name(name)
        return self.store.model_version_files(name, validate_version(version, name))

    def open_model_version_file(
        self, name: str, version: int, path: str
    ) -> tuple[ModelVersionFile, BinaryIO]:
        """One snapshot file and a reader that verifies its bytes; NotFound if absent."""
        name = validate_model_name(name)
        number = validate_version(version, name)
        for file in self.store.model_version_files(name, number):
            if file.path == path:
                return file, self._files.open(name, number, file)
        raise NotFound(f"Version {number} of {name!r} has no file {path!r}.")

    def download_model_version(self, name: str, version: int, dst: str | Path) -> Path:
        """Write the version's files below ``dst`` (created if needed); returns ``dst``."""
        name = validate_model_name(name)
        number = validate_version(version, name)
        files = self.store.model_version_files(name, number)
        target = Path(dst)
        target.mkdir(parents=True, exist_ok=True)
        self._files.download(name, number, files, target)
        return target

    # -- aliases ----------------------------------------------------------------------
    def set_alias(
        self, name: str, alias: str, version: int, *, reason: str = "", user: str | None = None
    ) -> None:
        """Point ``alias`` at ``version`` unconditionally (no gates); the move is recorded."""
        self.move_alias(name, alias, version, reason=reason, user=user)

    def delete_alias(
        self, name: str, alias: str, *, reason: str = "", user: str | None = None
    ) -> None:
        """Remove an alias (recorded); NotFound if it is not set."""
        self.move_alias(name, alias, None, reason=reason, user=user, action=AliasAction.DELETE)

    def move_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        reason: str = "",
        user: str | None = None,
        action: AliasAction | str = AliasAction.SET,
        expected: int | EllipsisType | None = ...,
        gates: Sequence[GateResult] = (),
    ) -> AliasEvent:
        """The one alias write: point ``alias`` at ``version`` (None deletes it), recorded.

        With ``expected`` (a version, or None for unset) it moves only if the alias
        still has that holder, else InvalidState. ``action`` says what moved it;
        ``gates``, the verdicts a promotion passed (a remote ``promote`` runs its
        gates on the client and sends them here), are recorded with the move.
        """
        name = validate_model_name(name)
        try:
            kind = AliasAction(action)
        except ValueError as exc:
            names = ", ".join(a.value for a in AliasAction)
            raise InvalidArgument(f"Invalid alias action {action!r}: use one of {names}.") from exc
        if (kind is AliasAction.DELETE) != (version is None):
            raise InvalidArgument("An alias is deleted with version None and action 'delete'.")
        if expected is not ... and expected is not None:
            expected = validate_version(expected, name)
        verdicts = check_gate_results(gates, kind.value)
        return self.store.set_alias(
            name,
            validate_alias(alias),
            None if version is None else validate_version(version, name),
            user=self._who(user),
            reason=validate_reason(reason),
            action=kind,
            expected=expected,
            gates=verdicts,
        )

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        """Every move of ``alias`` (or of all the model's aliases), oldest first."""
        return self.store.alias_history(
            validate_model_name(name), None if alias is None else validate_alias(alias)
        )

    def promote(
        self,
        name: str,
        version: int,
        alias: str = "champion",
        gates: Iterable[Gate] = (),
        *,
        reason: str = "",
        user: str | None = None,
        raise_on_failure: bool = False,
    ) -> PromotionResult:
        """Move ``alias`` to ``version`` if every gate passes; else change nothing.

        Every gate runs (so the result explains all failures at once). If the
        alias moved while the gates ran, nothing changes and InvalidState says so.
        A version that holds the alias already is promoted without running gates.
        With ``raise_on_failure`` a refused promotion raises ``GateFailed``.
        """
        name = validate_model_name(name)
        alias = validate_alias(alias)
        number = validate_version(version, name)
        reason = validate_reason(reason)
        who = self._who(user)
        checks = list(gates)
        for gate in checks:
            if not callable(gate):
                raise InvalidArgument(f"Gate {gate!r} is not callable: pass gate objects.")
        candidate = self.store.get_model_version(name, number)
        model = self.store.get_registered_model(name)
        held = model.aliases.get(alias)
        if held == number:
            return PromotionResult(True, name, alias, number, held, ())
        current = None if held is None else self.store.get_model_version(name, held)
        context = GateContext(self, name, alias, candidate, current)
        results = tuple(run_gate(gate, context) for gate in checks)
        promoted = all(r.passed for r in results)
        if promoted:
            self.store.set_alias(
                name,
                alias,
                number,
                user=who,
                reason=reason,
                action=AliasAction.PROMOTE,
                expected=held,
                gates=results,
            )
        result = PromotionResult(promoted, name, alias, number, held, results)
        if not promoted and raise_on_failure:
            failed = "; ".join(f"{r.gate}: {r.message}" for r in result.failures)
            raise GateFailed(
                f"Version {number} of {name!r} was not promoted to {alias!r}: {failed}", result
            )
        return result

    def rollback(
        self, name: str, alias: str, *, reason: str = "", user: str | None = None
    ) -> ModelVersion:
        """Move ``alias`` back to its previous holder (from its history) and return it."""
        name = validate_model_name(name)
        alias = validate_alias(alias)
        reason = validate_reason(reason)
        who = self._who(user)
        held = self.store.get_registered_model(name).aliases.get(alias)
        events = self.store.alias_history(name, alias)
        target = rollback_target(name, alias, events, held, lambda v: self._exists(name, v))
        self.store.set_alias(
            name,
            alias,
            target,
            user=who,
            reason=reason,
            action=AliasAction.ROLLBACK,
            expected=held,
        )
        return self.store.get_model_version(name, target)

    def _exists(self, name: str, version: int) -> bool:
        try:
            self.store.get_model_version(name, version)
        except NotFound:
            return False
        return True

    # -- legacy stages ----------------------------------------------------------------
    def transition_stage(
        self, name: str, version: int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to an MLflow stage (None, Staging, Production, Archived)."""
        name = validate_model_name(name)
        return self.store.transition_stage(
            name,
            validate_version(version, name),
            validate_stage(stage),
            bool(archive_existing_versions),
        )

    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> list[ModelVersion]:
        """The newest version in each of ``stages`` (every stage by default)."""
        wanted = [validate_stage(s) for s in stages] if stages else None
        return self.store.get_latest_versions(validate_model_name(name), wanted)

    # -- URIs -------------------------------------------------------------------------
    def resolve(self, uri: str) -> ModelVersion:
        """The version ``models:/<name>/<version>`` or ``models:/<name>@<alias>`` names."""
        ref = parse_models_uri(uri)
        if ref.alias is not None:
            return self.store.get_model_version_by_alias(ref.name, ref.alias)
        if ref.version is not None:
            return self.get_model_version(ref.name, ref.version)
        stages = None if ref.stage is None else [ref.stage]
        found = self.store.get_latest_versions(ref.name, stages)
        if ref.latest:
            found = sorted(found, key=lambda v: v.version)[-1:]
        if not found:
            raise NotFound(f"No version matches {uri!r}.")
        return found[-1]
