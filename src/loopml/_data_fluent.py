"""The fluent SDK's dataset calls: register data, record it as a run's input, trace it back.

::

    v = lm.register_dataset("iris", "data/iris.csv")   # version 1 (or the version holding it)
    with lm.start_run():
        lm.log_input(v)                                 # or "iris@1", "iris" (the newest)
        ...
    lm.dataset_lineage("models:/iris@champion")         # the versions its run recorded

They run ``loopml.datasets.Datasets`` over the process-wide client (or the
``client`` given). ``log_input`` also takes MLflow-style ``DatasetInput``
records, which it passes to the tracking store as they are.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.datasets import DEFAULT_CONTEXT, Datasets, DatasetVersion
from loopml.store import DatasetInput
from loopml.tracking import Client, active_run, get_client, start_run
from loopml.tracking import log_input as log_tracking_input


def _datasets(client: Client | None) -> Datasets:
    return Datasets(client if client is not None else get_client())


def register_dataset(
    name: str,
    path: str | os.PathLike[str],
    *,
    description: str | None = None,
    tags: Mapping[str, Any] | None = None,
    client: Client | None = None,
) -> DatasetVersion:
    """Record the file or folder at ``path`` as the next version of dataset ``name``.

    Versions count 1, 2, 3... per name; registering content a version already
    holds returns that version. CSV and Parquet data (a file, or a folder of
    Parquet files) get a schema, row count and per-column profile.
    """
    return _datasets(client).register(name, path, description=description, tags=tags)


def log_input(
    dataset: DatasetVersion | DatasetInput | str,
    *,
    context: str | None = None,
    run_id: str | None = None,
    client: Client | None = None,
) -> None:
    """Record that a run (the active one by default) read a dataset version.

    ``dataset`` is a ``DatasetVersion``, a reference (``"iris"`` for the newest
    version now, ``"iris@3"``, ``"iris:3"``) or a ``DatasetInput``. ``context``
    defaults to "training" (a ``DatasetInput`` keeps its own unless one is given).
    Without ``run_id`` and an active run, a run is started, as MLflow does.
    """
    if isinstance(dataset, DatasetInput):
        if context is not None:
            dataset = dataclasses.replace(dataset, context=context)
        if run_id is None and client is None:
            log_tracking_input(dataset)  # starts a run when none is active, as MLflow does
            return
        tracking = client if client is not None else get_client()
        tracking.log_inputs(run_id or _active_run_id(start=False), [dataset])
        return
    datasets = _datasets(client)
    version = datasets.get(dataset)  # resolved first: a bad reference starts no run
    if run_id is None:
        run_id = _active_run_id(start=client is None)
    datasets.log_input(version, run_id, context=DEFAULT_CONTEXT if context is None else context)


def dataset_lineage(
    model_uri_or_run_id: str, *, context: str | None = None, client: Client | None = None
) -> list[DatasetVersion]:
    """The dataset versions recorded by the run behind a model version or run.

    Takes ``models:/<name>/<version>``, ``models:/<name>@<alias>``,
    ``runs:/<run id>/...`` or a run id; ``context`` keeps only inputs with it.
    """
    return _datasets(client).lineage(model_uri_or_run_id, context=context)


def _active_run_id(*, start: bool) -> str:
    run = active_run()
    if run is not None:
        return run.info.run_id
    if start:
        return start_run().info.run_id
    raise InvalidArgument("No active run: start one with lm.start_run(), or pass run_id.")
