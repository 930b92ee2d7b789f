"""What to serve (a model URI or a deployment record) and which model takes a request.

A ``Source`` turns the configuration into a ``Plan``: the resolved primary
model, an optional canary with its weight, an optional shadow. It is asked
again at every reload interval; a different plan means a swap.

``Routing`` is the loaded form of a plan. It is immutable and replaced as a
whole, so a request sees either the old routing or the new one, never half.
The canary share is decided by the request id alone (a hash mapped to
[0, 1)), so a caller retrying with the same id meets the same model.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from loopml.core.errors import InvalidArgument
from loopml.core.ids import is_run_id
from loopml.serving._served import ModelKey, ServedModel

if TYPE_CHECKING:
    from loopml.registry import Registry

MODELS_SCHEME = "models:/"
RUNS_SCHEME = "runs:/"
PRIMARY, CANARY, SHADOW = "primary", "canary", "shadow"


@dataclass(frozen=True, slots=True)
class Plan:
    """The models that should serve now."""

    primary: ModelKey
    canary: ModelKey | None = None
    canary_weight: float = 0.0
    shadow: ModelKey | None = None
    revision: int | None = None

    def models(self) -> list[ModelKey]:
        return [k for k in (self.primary, self.canary, self.shadow) if k is not None]


class Source(Protocol):
    """Where the plan comes from (a model URI, or a deployment record)."""

    @property
    def name(self) -> str:
        """The model name on the V2 protocol."""
        ...

    @property
    def deployment(self) -> str:
        """The name predictions are logged under."""
        ...

    def plan(self) -> Plan:
        """The current plan (blocking: registry or database reads)."""
        ...


def resolve_key(uri: str, registry: Registry | None) -> ModelKey:
    """The servable model a URI names now (an alias is resolved to its version).

    ``registry`` may be None only for URIs that never need it (folders, ``runs:/``).
    """
    if uri.startswith(MODELS_SCHEME):
        if registry is None:
            raise InvalidArgument(f"{uri!r} names a registered model, but no registry was given.")
        version = registry.resolve(uri)
        return ModelKey(
            f"{MODELS_SCHEME}{version.name}/{version.version}", str(version.version), version.name
        )
    if uri.startswith(RUNS_SCHEME):
        return ModelKey(uri, "1", uri.rstrip("/").rsplit("/", 1)[-1] or "model")
    path = Path(uri).expanduser()
    if not path.exists():
        raise InvalidArgument(
            f"{uri!r} is neither a model URI (models:/..., runs:/...) nor an existing folder."
        )
    resolved = path.resolve()
    return ModelKey(str(resolved), "1", resolved.name or "model")


def check_uri(uri: str) -> None:
    """Refuse, before anything starts, a URI that can never name a model (no I/O for URIs)."""
    if uri.startswith(MODELS_SCHEME):
        from loopml.registry import parse_models_uri  # the registry's store: only for models:/

        parse_models_uri(uri)
    elif uri.startswith(RUNS_SCHEME):
        run_id = uri[len(RUNS_SCHEME) :].lstrip("/").partition("/")[0]
        if not is_run_id(run_id):
            raise InvalidArgument(
                f"{uri!r} is not a runs:/ URI: write runs:/<run_id>/<artifact path>, with the "
                "32-character run id."
            )
    elif "://" in uri or not Path(uri).expanduser().is_dir():
        raise InvalidArgument(
            f"{uri!r} is neither a model URI (models:/name@alias, models:/name/N, "
            "runs:/<run_id>/<path>) nor a model folder."
        )


def default_name(uri: str) -> str:
    """The V2 model name for a URI: the registered model's, or the folder's."""
    if uri.startswith(MODELS_SCHEME):
        rest = uri[len(MODELS_SCHEME) :].lstrip("/")
        return rest.split("@", 1)[0].split("/", 1)[0]
    return os.path.basename(uri.rstrip("/")) or "model"


class UriSource:
    """Serve one model URI; a ``models:/name@alias`` follows its alias."""

    def __init__(self, uri: str, registry: Registry | None, name: str | None = None) -> None:
        self.uri = uri
        self._registry = registry
        self._name = name or default_name(uri)

    @property
    def name(self) -> str:
        return self._name

    @property
    def deployment(self) -> str:
        return self._name

    def plan(self) -> Plan:
        return Plan(resolve_key(self.uri, self._registry))


class DeploymentSource:
    """Follow a deployment record: its primary, canary and shadow URIs and their aliases."""

    def __init__(
        self, deployment: str, deployments: Any, registry: Registry, name: str | None = None
    ) -> None:
        self._deployment = deployment
        self._deployments = deployments  # loopml.deployments.Deployments
        self._registry = registry
        self._name = name or deployment

    @property
    def name(self) -> str:
        return self._name

    @property
    def deployment(self) -> str:
        return self._deployment

    def plan(self) -> Plan:
        record = self._deployments.get(self._deployment)
        canary = resolve_key(record.canary_uri, self._registry) if record.canary_uri else None
        shadow = resolve_key(record.shadow_uri, self._registry) if record.shadow_uri else None
        return Plan(
            resolve_key(record.model_uri, self._registry),
            canary,
            float(record.canary_weight) if canary is not None else 0.0,
            shadow,
            int(record.revision),
        )


def canary_share(request_id: str) -> float:
    """Where ``request_id`` falls in [0, 1): the same id always falls at the same place."""
    return _share(b"canary:", request_id)


def log_share(request_id: str) -> float:
    """Like ``canary_share`` but independent of it, for the prediction log's sample.

    The same request is logged (or not) for its primary or canary and its
    shadow alike, and the sample does not lean toward either side of a canary.
    """
    return _share(b"log:", request_id)


def _share(salt: bytes, request_id: str) -> float:
    data = salt + request_id.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


@dataclass(frozen=True, slots=True)
class Routing:
    """The loaded plan: which served model takes which request."""

    plan: Plan
    primary: ServedModel
    canary: ServedModel | None = None
    shadow: ServedModel | None = None
    models: dict[ModelKey, ServedModel] = field(default_factory=dict)

    def choose(self, request_id: str) -> tuple[ServedModel, str]:
        """The model for a request and its role (``primary`` or ``canary``)."""
        canary = self.canary
        if canary is not None and canary_share(request_id) < self.plan.canary_weight:
            return canary, CANARY
        return self.primary, PRIMARY

    def by_version(self, version: str) -> ServedModel | None:
        """The served model (primary or canary) with this version label."""
        for model in (self.primary, self.canary):
            if model is not None and model.key.version == version:
                return model
        return None
