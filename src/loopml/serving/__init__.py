"""The inference server behind ``loopml serve``: MLflow scoring and Open Inference V2.

::

    from loopml.serving import ServeConfig, create_serving_app

    app = create_serving_app(ServeConfig(model_uri="models:/fraud@champion"))
    # uvicorn.run(app, port=8080): /invocations, /v2/models/fraud/infer, /metrics ...

Requests are micro-batched per model and predicted in a thread (scikit-learn
models through ONNX Runtime when the conversion reproduces them); the
alias or deployment record is followed and new versions are swapped in
without a failed request; a deployment's canary takes a share of requests
decided by request id and its shadow sees every request without answering
any. Every prediction can go to the deployment's prediction log. With a
feature service, requests carry entity keys and the server looks the
features up in the online store before predicting.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from starlette.applications import Starlette

from loopml.core.errors import InvalidArgument
from loopml.serving._app import build_app
from loopml.serving._config import CONFIG_VARIABLE, DEFAULT_MAX_BODY_BYTES, ServeConfig
from loopml.serving._fastpath import FastPath, choose_fast_path
from loopml.serving._features import FeatureInputs
from loopml.serving._metrics import ServingMetrics
from loopml.serving._reload import ModelManager
from loopml.serving._routing import (
    DeploymentSource,
    Source,
    UriSource,
    canary_share,
    check_uri,
)
from loopml.serving._served import reads_store
from loopml.serving._sink import LogEntry, LoggerSink, NullSink, PredictionSink
from loopml.serving._state import ServingApp

if TYPE_CHECKING:
    from loopml.tracking import Client

__all__ = [
    "CONFIG_VARIABLE",
    "DEFAULT_MAX_BODY_BYTES",
    "FastPath",
    "LogEntry",
    "NullSink",
    "PredictionSink",
    "ServeConfig",
    "app_from_environment",
    "canary_share",
    "check_uri",
    "choose_fast_path",
    "configure_logging",
    "create_serving_app",
]


def create_serving_app(
    config: ServeConfig,
    *,
    client: Client | None = None,
    sink: PredictionSink | None = None,
) -> Starlette:
    """The ASGI app serving ``config``; the first model loads when the app starts.

    ``client`` is the tracking client models and deployment records are read
    through (the settings' by default); ``sink`` replaces the prediction log
    (by default the deployment's ``PredictionLogger``, or nothing with
    ``prediction_log=False``).
    """
    logs = sink is None and config.prediction_log
    needs_store = config.model_uri is None or reads_store(config.model_uri)
    if client is None and (logs or needs_store or config.feature_service is not None):
        client = _default_client()
    source = _source(config, client)
    features = _feature_inputs(config, client)
    if sink is None:
        sink = _prediction_log(client, source.deployment) if logs else NullSink()
    metrics = ServingMetrics()
    manager = ModelManager(
        source,
        config,
        client,
        on_batch=metrics.batch_size.observe,
        on_load=lambda outcome: metrics.reloads.labels(outcome).inc(),
    )
    return build_app(ServingApp(manager, sink, metrics, features))


# The functions below import the store's services (tracking, registry, deployments: SQLAlchemy,
# pyarrow) when called: a folder served without a prediction log starts faster without them.


def _default_client() -> Client:
    from loopml.core.settings import load_settings
    from loopml.tracking import Client

    return Client(settings=load_settings())


def _source(config: ServeConfig, client: Client | None) -> Source:
    """Where the plan comes from; a folder needs neither the registry nor a client."""
    if config.model_uri is not None and not reads_store(config.model_uri):
        return UriSource(config.model_uri, None, config.name)
    from loopml.registry import Registry

    assert client is not None  # create_serving_app makes one for these sources
    registry = Registry(client)
    if config.deployment is not None:
        from loopml.deployments import Deployments

        return DeploymentSource(config.deployment, Deployments(client), registry, config.name)
    assert config.model_uri is not None  # ServeConfig guarantees one of the two
    return UriSource(config.model_uri, registry, config.name)


def _feature_inputs(config: ServeConfig, client: Client | None) -> FeatureInputs | None:
    """The feature lookups of a feature service (the config's, else the deployment's), or None."""
    service = config.feature_service
    if service is None and config.deployment is not None:
        from loopml.deployments import Deployments

        assert client is not None  # a deployment is read through the store
        service = Deployments(client).get(config.deployment).feature_service
    if service is None:
        return None
    from loopml.features._online_service import OnlineFeatures

    assert client is not None  # create_serving_app makes one for a feature service
    inputs = FeatureInputs(OnlineFeatures(client), service)
    try:
        inputs.check()
    except BaseException:
        inputs.close()
        raise
    return inputs


def _prediction_log(client: Client | None, deployment: str) -> PredictionSink:
    from loopml.deployments import PredictionLogger, PredictionRecord

    assert client is not None  # create_serving_app makes one when the log is on
    # The server samples by request id itself (so shadow and primary agree).
    return LoggerSink(PredictionLogger(client, deployment, sample_rate=1.0), PredictionRecord)


def app_from_environment() -> Starlette:
    """The app of one uvicorn worker: its ``ServeConfig`` comes in ``LOOPML_SERVE_CONFIG``."""
    text = os.environ.get(CONFIG_VARIABLE)
    if not text:
        raise InvalidArgument(
            f"{CONFIG_VARIABLE} is not set: start the server with `loopml serve`."
        )
    configure_logging()
    return create_serving_app(ServeConfig.from_json(text))


def configure_logging() -> None:
    """Send the server's own log lines (which path serves, reloads, load errors) to stderr."""
    logger = logging.getLogger("loopml.serving")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(
            logging.Formatter("%(asctime)s loopml serve %(levelname)s %(message)s")
        )
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
