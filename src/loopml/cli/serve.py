"""``loopml serve``: the inference server (MLflow scoring + Open Inference V2)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from loopml.cli._output import console, fails_cleanly
from loopml.core.errors import InvalidArgument


@fails_cleanly
def serve(
    ctx: typer.Context,
    model_uri: str = typer.Argument(
        None,
        help="models:/name@alias, models:/name/N, runs:/<run_id>/<path> or a model folder.",
        show_default=False,
    ),
    deployment: str = typer.Option(
        None, "--deployment", help="Follow this deployment record instead of one model URI."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes."),
    max_batch_size: int = typer.Option(
        64, "--max-batch-size", min=1, help="Most rows predicted in one model call."
    ),
    max_batch_delay_ms: float = typer.Option(
        2.0,
        "--max-batch-delay-ms",
        min=0.0,
        help="Longest a batch waits for more requests under load (an idle server never waits).",
    ),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow the pickle formats of models saved by MLflow."
    ),
    log_sample_rate: float = typer.Option(
        1.0, "--log-sample-rate", min=0.0, max=1.0, help="Share of requests logged (by request id)."
    ),
    no_prediction_log: bool = typer.Option(
        False, "--no-prediction-log", help="Do not log predictions."
    ),
    reload_interval: float = typer.Option(
        2.0, "--reload-interval", help="Seconds between checks of the alias or deployment record."
    ),
    name: str = typer.Option(
        None, "--name", help="Model name on the V2 protocol (default: the registered model's)."
    ),
    max_body_mb: float = typer.Option(
        64.0, "--max-body-mb", help="Largest request body accepted, in MiB (413 beyond)."
    ),
    no_onnx: bool = typer.Option(
        False, "--no-onnx", help="Never use the ONNX Runtime fast path for scikit-learn models."
    ),
    feature_service: str = typer.Option(
        None,
        "--feature-service",
        help="Requests carry entity keys: look this feature service's features up first.",
    ),
) -> None:
    """Serve a model, or follow a deployment, over MLflow scoring and Open Inference V2."""
    import uvicorn  # the [serve] extra; imported only to serve

    from loopml._prometheus import multiprocess_metrics
    from loopml.serving import (
        CONFIG_VARIABLE,
        ServeConfig,
        check_uri,
        configure_logging,
        create_serving_app,
    )

    if max_body_mb <= 0:
        raise InvalidArgument(f"--max-body-mb must be positive, not {max_body_mb}.")
    config = ServeConfig(
        model_uri=model_uri,
        deployment=deployment,
        name=name,
        max_batch_size=max_batch_size,
        max_batch_delay_ms=max_batch_delay_ms,
        trust_pickle=trust_pickle,
        prediction_log=not no_prediction_log,
        log_sample_rate=log_sample_rate,
        reload_interval=reload_interval,
        max_body_bytes=int(max_body_mb * 1024 * 1024),
        onnx=not no_onnx,
        onnx_cache=str(_settings_home() / "cache" / "onnx"),
        feature_service=feature_service,
    )
    if model_uri is not None:
        check_uri(model_uri)  # a typo fails here, not as a server that is never ready
    root_uri = (ctx.find_root().obj or {}).get("tracking_uri")
    if root_uri:  # workers are separate processes: they read their store from the environment
        os.environ["LOOPML_TRACKING_URI"] = root_uri
    configure_logging()
    what = f"deployment {deployment!r}" if deployment else model_uri
    console.print(f"loopml serve {what} on http://{host}:{port} ({workers} worker(s))")
    options = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }
    if workers == 1:
        uvicorn.run(create_serving_app(config), **options)  # type: ignore[arg-type]
        return
    os.environ[CONFIG_VARIABLE] = config.to_json()
    with multiprocess_metrics(workers):  # one /metrics for all workers
        uvicorn.run("loopml.serving:app_from_environment", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def _settings_home() -> Path:
    from loopml.core.settings import load_settings  # pydantic: loaded by this command only

    return load_settings().home.expanduser()
