"""Remote mode: the registry of a loopml server, over its native API (``/api/v1/registry``).

``RestRegistryStore`` implements ``RegistryStore`` with the tracking client's
HTTP session (``RestTrackingStore``: one keep-alive connection pool, and the one
seam where httpx failures and error bodies become ``LoopmlError``s), so the
``Registry`` behaves the same embedded and remote. The server runs the same
``Registry`` on its database: it validates again, reads the model manifest and
snapshots the files itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from types import EllipsisType
from typing import Any
from urllib.parse import quote

from pydantic import TypeAdapter

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
    Stage,
)
from loopml.tracking._rest import RestTrackingStore, error_of

_MODEL = TypeAdapter(RegisteredModel)
_MODELS = TypeAdapter(list[RegisteredModel])
_VERSION = TypeAdapter(ModelVersion)
_VERSIONS = TypeAdapter(list[ModelVersion])
_FILES = TypeAdapter(list[ModelVersionFile])
_EVENT = TypeAdapter(AliasEvent)
_EVENTS = TypeAdapter(list[AliasEvent])
PROMOTION = TypeAdapter(PromotionResult)


def seg(value: object) -> str:
    """One path segment, percent-encoded (names may hold spaces, '%', '?', '#')."""
    return quote(str(value), safe="")


def _model(name: str) -> str:
    return f"/registry/models/{seg(name)}"


def _version(name: str, version: int) -> str:
    return f"{_model(name)}/versions/{int(version)}"


class RestRegistryStore(RegistryStore):
    """The registry of the loopml server that ``tracking`` talks to."""

    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking

    @property
    def uri(self) -> str:
        return self.tracking.uri

    def _call(
        self, method: str, path: str, payload: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        return self.tracking.call(method, path, payload, params)

    # -- registered models ----------------------------------------------------------
    def create_registered_model(
        self, name: str, description: str = "", tags: Mapping[str, str] | None = None
    ) -> RegisteredModel:
        payload = {"name": name, "description": description, "tags": dict(tags or {})}
        body = self._call("POST", "/registry/models", payload)
        return _MODEL.validate_python(body["registered_model"])

    def get_registered_model(self, name: str) -> RegisteredModel:
        return _MODEL.validate_python(self._call("GET", _model(name))["registered_model"])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
    ) -> PagedList[RegisteredModel]:
        params = _search_params(filter_string, order_by, max_results, page_token)
        body = self._call("GET", "/registry/models", params=params)
        return PagedList(
            _MODELS.validate_python(body["registered_models"]), body["next_page_token"]
        )

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        body = self._call("POST", f"{_model(name)}/rename", {"new_name": new_name})
        return _MODEL.validate_python(body["registered_model"])

    def update_registered_model(self, name: str, description: str) -> RegisteredModel:
        body = self._call("PATCH", _model(name), {"description": description})
        return _MODEL.validate_python(body["registered_model"])

    def delete_registered_model(self, name: str) -> None:
        self._call("DELETE", _model(name))

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        self._call("POST", f"{_model(name)}/tags", {"key": key, "value": value})

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._call("DELETE", f"{_model(name)}/tags/{quote(key, safe='/')}")

    # -- versions ---------------------------------------------------------------------
    def create_model_version(self, name: str, new: NewModelVersion) -> ModelVersion:
        # The signature and manifest blob are the server's to read: it does not trust ours.
        payload = {
            "source": new.source,
            "files_source": new.files_source,
            "run_id": new.run_id,
            "description": new.description,
            "tags": dict(new.tags),
            "model_id": new.model_id,
            "user": new.user or None,
        }
        body = self._call("POST", f"{_model(name)}/versions", payload)
        return _VERSION.validate_python(body["model_version"])

    def get_model_version(self, name: str, version: int) -> ModelVersion:
        return _VERSION.validate_python(self._call("GET", _version(name, version))["model_version"])

    def search_model_versions(
        self,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> PagedList[ModelVersion]:
        params = _search_params(filter_string, order_by, max_results, page_token)
        body = self._call("GET", "/registry/versions", params=params)
        return PagedList(_VERSIONS.validate_python(body["model_versions"]), body["next_page_token"])

    def update_model_version(self, name: str, version: int, description: str) -> ModelVersion:
        body = self._call("PATCH", _version(name, version), {"description": description})
        return _VERSION.validate_python(body["model_version"])

    def delete_model_version(self, name: str, version: int) -> None:
        self._call("DELETE", _version(name, version))

    def set_model_version_tag(self, name: str, version: int, key: str, value: str) -> None:
        self._call("POST", f"{_version(name, version)}/tags", {"key": key, "value": value})

    def delete_model_version_tag(self, name: str, version: int, key: str) -> None:
        self._call("DELETE", f"{_version(name, version)}/tags/{quote(key, safe='/')}")

    def model_version_files(self, name: str, version: int) -> list[ModelVersionFile]:
        return _FILES.validate_python(
            self._call("GET", f"{_version(name, version)}/files")["files"]
        )

    def stream_file(self, name: str, version: int, path: str) -> Iterator[bytes]:
        """The raw bytes of one snapshot file, as the server sends them (unverified)."""
        url = f"{_version(name, version)}/files/{quote(path, safe='/')}"
        with self.tracking.reaching(), self.tracking.http.stream("GET", url) as response:
            if not response.is_success:
                response.read()
                raise error_of(response)
            yield from response.iter_bytes(1024 * 1024)

    def transition_stage(
        self, name: str, version: int, stage: Stage, archive_existing_versions: bool = False
    ) -> ModelVersion:
        payload = {
            "stage": str(Stage(stage)),
            "archive_existing_versions": archive_existing_versions,
        }
        body = self._call("POST", f"{_version(name, version)}/stage", payload)
        return _VERSION.validate_python(body["model_version"])

    def get_latest_versions(
        self, name: str, stages: Sequence[Stage] | None = None
    ) -> list[ModelVersion]:
        params = {"stages": [str(Stage(s)) for s in stages]} if stages else None
        body = self._call("GET", f"{_model(name)}/latest-versions", params=params)
        return _VERSIONS.validate_python(body["model_versions"])

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
        path = f"{_model(name)}/aliases/{seg(alias)}"
        condition = None if expected is ... else {"version": expected}
        if version is None:
            params: dict[str, Any] = {"reason": reason, "user": user}
            if condition is not None:
                params["expected"] = "unset" if expected is None else str(expected)
            body = self._call("DELETE", path, params=params)
        else:
            payload = {
                "version": version,
                "reason": reason,
                "user": user,
                "action": str(AliasAction(action)),
                "expected": condition,
            }
            if gates:  # only then: a server without the field still takes plain moves
                payload["gates"] = [dataclasses.asdict(g) for g in gates]
            body = self._call("PUT", path, payload)
        return _EVENT.validate_python(body["event"])

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        body = self._call("GET", f"{_model(name)}/aliases/{seg(alias)}")
        return _VERSION.validate_python(body["model_version"])

    def alias_history(self, name: str, alias: str | None = None) -> list[AliasEvent]:
        params = {"alias": alias} if alias is not None else None
        body = self._call("GET", f"{_model(name)}/alias-history", params=params)
        return _EVENTS.validate_python(body["events"])


def _search_params(
    filter_string: str | None,
    order_by: Sequence[str] | None,
    max_results: int,
    page_token: str | None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"max_results": max_results}
    if filter_string:
        params["filter"] = filter_string
    if order_by:
        params["order_by"] = list(order_by)
    if page_token:
        params["page_token"] = page_token
    return params
