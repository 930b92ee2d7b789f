"""Deployments and their prediction logs.

::

    from loopml.deployments import Deployments, PredictionLogger, read_predictions

    deployments = Deployments()                    # over loopml.tracking.get_client()
    deployments.create("fraud", "models:/fraud@champion",
                       canary_uri="models:/fraud@challenger", canary_weight=0.1)

    logger = PredictionLogger(client, "fraud")     # what the inference server calls
    logger.record(PredictionRecord(...))           # never blocks, never raises
    logger.close()

    log_labels("fraud", {"req-1": 1, "req-2": 0})
    frame = read_predictions("fraud", since_ms=..., until_ms=...)

A deployment is the record a serving process follows (primary, canary with a
weight, shadow); its prediction log is Parquet segments in the object store,
indexed by time span in the metadata store; labels join by request id.
Embedded or against a loopml server, the same calls behave the same.
"""

from loopml.deployments._deployments import Deployments
from loopml.deployments._log import log_labels, read_predictions
from loopml.deployments._logger import PredictionLogger
from loopml.deployments._validation import validate_deployment_name, validate_model_uri
from loopml.store.deployment_records import (
    Deployment,
    PredictionLabel,
    PredictionRecord,
    PredictionSegment,
    Role,
)

__all__ = [
    "Deployment",
    "Deployments",
    "PredictionLabel",
    "PredictionLogger",
    "PredictionRecord",
    "PredictionSegment",
    "Role",
    "log_labels",
    "read_predictions",
    "validate_deployment_name",
    "validate_model_uri",
]
