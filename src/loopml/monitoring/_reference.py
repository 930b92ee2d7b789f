"""The reference data a monitor compares each window with.

Either the dataset version the monitor names, or, by default, the training
data of the model the deployment serves now: the dataset versions its run
logged as inputs (``lm.log_input``), the "training" context first. Frames
are cached per dataset version, since a scheduler re-runs the same monitor
every few seconds and reference data only changes with a new version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loopml.core.errors import InvalidArgument
from loopml.datasets import DEFAULT_CONTEXT, Datasets, DatasetVersion
from loopml.deployments import Deployments
from loopml.monitoring._spec import MonitorSpec
from loopml.tracking import Client

if TYPE_CHECKING:
    import pandas as pd

CACHED_FRAMES = 4


@dataclass(frozen=True)
class Reference:
    """Reference rows and the dataset version they are (``label``: ``name@version``)."""

    label: str
    frame: pd.DataFrame


class ReferenceCache:
    """The last few reference frames read, by dataset version (thread-safe)."""

    def __init__(self, size: int = CACHED_FRAMES) -> None:
        self._frames: OrderedDict[tuple[str, int, str], pd.DataFrame] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def frame(self, datasets: Datasets, version: DatasetVersion) -> pd.DataFrame:
        key = (version.name, version.version, version.content_id)
        with self._lock:
            if key in self._frames:
                self._frames.move_to_end(key)
                return self._frames[key]
        frame = datasets.read_frame(version)
        with self._lock:
            self._frames[key] = frame
            while len(self._frames) > self._size:
                self._frames.popitem(last=False)
        return frame


def reference_version(client: Client, spec: MonitorSpec, deployment: str) -> DatasetVersion:
    """The dataset version a monitor of ``deployment`` compares with, now."""
    datasets = Datasets(client)
    if spec.reference is not None:
        return datasets.get(spec.reference)
    model_uri = Deployments(client).get(deployment).model_uri
    versions = datasets.lineage(model_uri, context=DEFAULT_CONTEXT) or datasets.lineage(model_uri)
    tabular = [v for v in versions if v.schema is not None]
    if not tabular:
        raise InvalidArgument(
            f"No reference data for deployment {deployment!r}: the run of {model_uri} logged no "
            "tabular input dataset. Log the training data with lm.log_input(...) when training, "
            "or give the monitor a reference (--reference NAME@VERSION)."
        )
    return tabular[0]


def load_reference(
    client: Client, spec: MonitorSpec, deployment: str, cache: ReferenceCache
) -> Reference:
    version = reference_version(client, spec, deployment)
    return Reference(f"{version.name}@{version.version}", cache.frame(Datasets(client), version))
