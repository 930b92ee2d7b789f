"""The prediction log's functions for the SDK: attach labels, read rows back.

Both run ``Deployments`` over a tracking client (the process's default one
unless given), embedded or against a loopml server.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from loopml.deployments._deployments import Deployments
from loopml.tracking import Client

if TYPE_CHECKING:
    import pandas as pd


def log_labels(
    deployment: str,
    labels: Mapping[str, Any] | pd.DataFrame,
    *,
    client: Client | None = None,
) -> int:
    """Attach ground truth to logged requests, by request id; how many were stored.

    ``labels`` maps request ids to labels (any JSON value), or is a DataFrame with
    columns ``request_id`` and ``label``. Labelling a request again overwrites its
    label. Every label is checked before any is stored. NotFound if ``deployment``
    has neither a record nor a prediction log.
    """
    return Deployments(client).log_labels(deployment, labels)


def read_predictions(
    deployment: str,
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    with_labels: bool = True,
    client: Client | None = None,
) -> pd.DataFrame:
    """The logged rows with ``since_ms <= time_ms < until_ms``, oldest first.

    One row per predicted row: request_id, row, time_ms, deployment, model_uri,
    model_version, role, latency_ms, error, one ``input.<col>`` column per input
    column, ``prediction`` and (``with_labels``) ``label``, joined by request id
    (null where none). NotFound if ``deployment`` has neither a record nor a log.
    """
    return Deployments(client).read_predictions(
        deployment, since_ms=since_ms, until_ms=until_ms, with_labels=with_labels
    )
