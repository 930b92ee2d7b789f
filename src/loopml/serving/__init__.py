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
any. Every prediction can go to the deployment's prediction log.
"""

from __future__ import annotations

import logging
import os
import sys

from starlette.applications import Starlette

from loopml.core.errors import InvalidArgument
from loopml.core.settings import load_settings
from loopml.deployments import Deployments, PredictionLogger, PredictionRecord
from loopml.registry import Registry
from loopml.serving._app import build_app
from loopml.serving._config import CONFIG_VARIABLE, DEFAULT_MAX_BODY_BYTES, ServeConfig
from loopml.serving._fastpath import FastPath, choose_fast_path
from loopml.serving._metrics import ServingMetrics
from loopml.serving._reload import ModelManager
from loopml.serving._routing import (
    DeploymentSource,
    Source,
    UriSource,
    canary_share,
    check_uri,
)
from loopml.serving._sink import LogEntry, LoggerSink, NullSink, PredictionSink
from loopml.serving._state import ServingApp
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
    client = client if client is not None else Client(settings=load_settings())
    registry = Registry(client)
    source: Source
    if config.deployment is not None:
        source = DeploymentSource(config.deployment, Deployments(client), registry, config.name)
    else:
        assert config.model_uri is not None  # ServeConfig guarantees one of the two
        source = UriSource(config.model_uri, registry, config.name)
    if sink is None:
        if config.prediction_log:
            # The server samples by request id itself (so shadow and primary agree).
            logger = PredictionLogger(client, source.deployment, sample_rate=1.0)
            sink = LoggerSink(logger, PredictionRecord)
        else:
            sink = NullSink()
    metrics = ServingMetrics()
    manager = ModelManager(
        source,
        config,
        client,
        on_batch=metrics.batch_size.observe,
        on_load=lambda outcome: metrics.reloads.labels(outcome).inc(),
    )
    return build_app(ServingApp(manager, sink, metrics))


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
