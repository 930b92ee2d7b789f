"""Logging the best trial's model into its run, and registering it, in one call.

Imported only when a model is logged: the model packaging and the registry
(with their gates) cost a second to import, which a study that logs no
model should not pay.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from loopml.models import ModelInfo, log_model
from loopml.registry import Registry
from loopml.tracking import Client


def log_and_register(
    client: Client,
    run_id: str,
    model: Any,
    name: str,
    register_as: str | None,
    **options: Any,
) -> ModelInfo:
    """Save ``model`` under ``name`` in run ``run_id``; a new version of ``register_as``."""
    info = log_model(model, name, client=client, run_id=run_id, **options)
    if register_as is None:
        return info
    version = Registry(client).create_model_version(register_as, info.model_uri, run_id=run_id)
    return dataclasses.replace(info, registered_model_version=version.version)


def has_model(client: Client, run_id: str, name: str) -> bool:
    """Whether the run already holds files under ``name`` (logged by an earlier session)."""
    return bool(client.list_artifact_entries(run_id, name))
