"""The deployment store interface: routing records, the prediction-log index, labels.

The SQL store (SQLite and PostgreSQL, on the tracking store's database so
``loopml gc`` sees the segment blobs in the same pass as every other blob)
implements it; the remote store (``loopml.deployments``' REST client of a
loopml server) implements it too, and both pass the same service tests.

Callers (``loopml.deployments.Deployments``) validate names, URIs and values
first; the store guarantees atomicity: a call is written whole or not at all,
and an update that would break the routing invariant (a canary weight without
a canary) is refused inside the transaction that would write it.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from loopml.core.errors import InvalidArgument, NotFound
from loopml.store.deployment_records import Deployment, PredictionSegment

# The fields an update may change; any other key is a programming error.
UPDATABLE_FIELDS = frozenset(
    {"model_uri", "canary_uri", "canary_weight", "shadow_uri", "description", "feature_service"}
)


@dataclass(frozen=True, slots=True)
class LabelColumns:
    """A deployment's labels as two parallel columns: request ids and JSON texts.

    Columns, not records: the prediction log joins them vectorised, and a
    million labels as a million objects would cost more than the join.
    """

    request_ids: list[str]
    labels_json: list[str]


class DeploymentStore(abc.ABC):
    """Where deployments, the index of their prediction logs and their labels live."""

    # -- deployments ------------------------------------------------------------------
    @abc.abstractmethod
    def create_deployment(
        self,
        name: str,
        model_uri: str,
        *,
        canary_uri: str | None,
        canary_weight: float,
        shadow_uri: str | None,
        description: str,
        feature_service: str | None = None,
    ) -> Deployment:
        """Create a deployment at revision 1; AlreadyExists if the name is taken."""

    @abc.abstractmethod
    def get_deployment(self, name: str) -> Deployment:
        """One deployment; NotFound otherwise."""

    @abc.abstractmethod
    def list_deployments(self) -> list[Deployment]:
        """Every deployment, by name."""

    @abc.abstractmethod
    def update_deployment(self, name: str, changes: Mapping[str, Any]) -> Deployment:
        """Change the given fields (see ``UPDATABLE_FIELDS``), revision + 1.

        InvalidArgument (nothing written) if the result has a canary weight but no
        canary; NotFound for an unknown deployment.
        """

    @abc.abstractmethod
    def delete_deployment(self, name: str) -> None:
        """Delete a deployment record (its prediction log and labels stay); NotFound."""

    # -- prediction log -----------------------------------------------------------------
    @abc.abstractmethod
    def list_segments(
        self, deployment: str, since_ms: int | None = None, until_ms: int | None = None
    ) -> list[PredictionSegment]:
        """Segments whose span meets ``[since_ms, until_ms)``, oldest first.

        NotFound if the name has neither a deployment record nor a prediction log.
        """

    @abc.abstractmethod
    def set_labels(self, deployment: str, labels: Sequence[tuple[str, str]]) -> int:
        """Store (request id, JSON text) labels, overwriting earlier ones; how many.

        NotFound if the name has neither a deployment record nor a prediction log.
        """

    @abc.abstractmethod
    def get_labels(self, deployment: str) -> LabelColumns:
        """Every label of a deployment's requests; NotFound as for ``list_segments``."""


def check_routing(canary_uri: str | None, canary_weight: float) -> None:
    """The routing invariant: a positive canary weight needs a canary to route to."""
    if canary_weight > 0 and canary_uri is None:
        raise InvalidArgument(
            f"Invalid canary_weight {canary_weight}: a deployment without a canary cannot "
            "route traffic to one. Give canary_uri, or a weight of 0."
        )


def missing_deployment(name: str) -> NotFound:
    return NotFound(
        f"No deployment named {name!r}: `loopml deployments list` shows the deployments."
    )


def unknown_log(name: str) -> NotFound:
    return NotFound(
        f"No deployment or prediction log named {name!r}: `loopml deployments list` shows "
        "the deployments."
    )
