"""The inference server's ASGI app (Starlette): MLflow scoring, Open Inference V2, metrics.

Handlers are thin: parse the body into a payload (``_scoring``, ``_v2``),
pick the model for the request id (``Routing.choose``), await its
micro-batcher, encode with orjson. Every answer carries ``X-Request-Id``
(the caller's, or a new one) and ``X-Model-Version``; never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from loopml import __version__
from loopml.core.errors import InvalidArgument, LoopmlError, NotFound
from loopml.serving._routing import CANARY, PRIMARY, Routing
from loopml.serving._scoring import loads, parse_invocation
from loopml.serving._served import ServedModel
from loopml.serving._state import (
    JSON,
    MLFLOW,
    V2,
    NotReady,
    ServingApp,
    dumps,
    headers,
    mlflow_error,
    predictions_json,
    request_id_of,
    v2_error,
)
from loopml.serving._v2 import encode_outputs, parse_infer, tensor_metadata

log = logging.getLogger("loopml.serving")


def build_app(state: ServingApp) -> Starlette:
    """The Starlette app over ``state`` (the lifespan loads the first model)."""
    features = state.features

    async def invocations(request: Request) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request)
        version = state.current_version()
        logged = None
        chosen = None  # the route a request took, once taken (its failures are logged)
        try:
            routing = state.routing()
            body = await state.body(request)
            payload = parse_invocation(body, request.headers.get("content-type"))
            model, role = routing.choose(request_id)
            chosen = (model, role, payload)
            version = model.key.uri
            if features is not None:  # entity keys in, the service's features looked up
                payload, logged = await features.assemble(payload, model.model.signature)
            predictions = await model.infer(payload)
            content = predictions_json(predictions)
        except LoopmlError as exc:
            state.observe(version, MLFLOW, exc.http_status, started)
            if chosen is not None:  # a canary's error rate is read from the log
                state.failed(*chosen, request_id, started, exc)
            return mlflow_error(exc, headers(request_id, version))
        state.observe(version, MLFLOW, 200, started)
        # Runs on the next turn of the loop, after the answer is written to the socket.
        asyncio.get_running_loop().call_soon(
            state.after, routing, model, role, request_id, payload, predictions, started, logged
        )
        return Response(content, 200, headers(request_id, version), JSON)

    async def v2_infer(request: Request) -> Response:
        started = time.perf_counter()
        request_id = request_id_of(request)
        version = state.current_version()
        try:
            routing = state.routing()
            _check_name(state, request)
            if features is not None:
                raise InvalidArgument(
                    f"This server looks features up by feature service {features.service!r}: "
                    "send entity keys to /invocations (Open Inference V2 takes model inputs)."
                )
            body = await state.body(request)
            if "inference-header-content-length" in request.headers:
                raise InvalidArgument(
                    "The binary data extension is not supported: send the tensors as JSON "
                    "'data' (tritonclient: binary_data=False)."
                )
            document = loads(body)
            if "x-request-id" not in request.headers and isinstance(document, dict):
                given = document.get("id")
                if isinstance(given, str) and 0 < len(given) <= 200:
                    request_id = given
            model, role = _v2_model(routing, request, request_id)
            version = model.key.uri
            parsed = parse_infer(document, model.model.signature)
            predictions = await model.infer(parsed.payload)
            outputs = encode_outputs(predictions, model.model.signature, parsed.outputs)
            answer: dict[str, Any] = {
                "model_name": state.name,
                "model_version": model.key.version,
                "outputs": outputs,
            }
            if parsed.id is not None:
                answer["id"] = parsed.id
            content = dumps(answer)
        except LoopmlError as exc:
            state.observe(version, V2, exc.http_status, started)
            return v2_error(exc, headers(request_id, version))
        state.observe(version, V2, 200, started)
        asyncio.get_running_loop().call_soon(
            state.after, routing, model, role, request_id, parsed.payload, predictions, started
        )
        return Response(content, 200, headers(request_id, version), JSON)

    async def v2_model(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            routing = state.routing()
            _check_name(state, request)
            model, _ = _v2_model(routing, request, request_id)
        except LoopmlError as exc:
            return v2_error(exc, headers(request_id, state.current_version()))
        inputs, outputs = tensor_metadata(model.model.signature)
        versions = sorted(
            {m.key.version for m in (routing.primary, routing.canary) if m is not None}
        )
        body = {
            "name": state.name,
            "versions": versions,
            "platform": f"loopml_{model.model.flavor}",
            "inputs": inputs,
            "outputs": outputs,
            "parameters": {"model_uri": model.key.uri, "predict_path": model.path},
        }
        return Response(dumps(body), 200, headers(request_id, model.key.uri), JSON)

    async def v2_model_ready(request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            routing = state.routing()
            _check_name(state, request)
            model, _ = _v2_model(routing, request, request_id)
        except NotReady as exc:
            body = {"name": request.path_params["name"], "ready": False, "reason": exc.message}
            return Response(dumps(body), 503, headers(request_id, "none"), JSON)
        except LoopmlError as exc:
            return v2_error(exc, headers(request_id, state.current_version()))
        body = {"name": state.name, "version": model.key.version, "ready": True}
        return Response(dumps(body), 200, headers(request_id, model.key.uri), JSON)

    async def ready(request: Request) -> Response:
        status = state.manager.status()
        code = 200 if status["ready"] else 503
        return Response(
            dumps(status), code, headers(request_id_of(request), state.current_version()), JSON
        )

    async def ping(request: Request) -> Response:
        code = 200 if state.manager.ready else 503
        return Response(b"\n", code, headers(request_id_of(request), state.current_version()), JSON)

    async def live(request: Request) -> Response:
        return Response(b'{"live":true}', 200, {"x-request-id": request_id_of(request)}, JSON)

    async def version(_request: Request) -> Response:
        return Response(__version__, 200, media_type="text/plain")

    async def server_metadata(_request: Request) -> Response:
        body = {"name": "loopml", "version": __version__, "extensions": []}
        return Response(dumps(body), 200, media_type=JSON)

    async def metrics(_request: Request) -> Response:
        return Response(
            state.metrics.exposition(state.refresh_gauges), 200, media_type=CONTENT_TYPE_LATEST
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        message = (
            f"No route {request.method} {request.url.path}" if status in (404, 405) else str(exc)
        )
        if request.url.path.startswith("/v2"):
            return Response(dumps({"error": message}), status, media_type=JSON)
        code = "ENDPOINT_NOT_FOUND" if status in (404, 405) else "BAD_REQUEST"
        return Response(dumps({"error_code": code, "message": message}), status, media_type=JSON)

    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("Unhandled error on %s %s", request.method, request.url.path)
        message = f"The server failed: {type(exc).__name__}. See its log."
        if request.url.path.startswith("/v2"):
            return Response(dumps({"error": message}), 500, media_type=JSON)
        return Response(
            dumps({"error_code": "INTERNAL_ERROR", "message": message}), 500, media_type=JSON
        )

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await state.manager.start()
        try:
            yield
        finally:
            await state.close()

    routes = [
        Route("/ping", ping, methods=["GET"]),
        Route("/health", ready, methods=["GET"]),
        Route("/version", version, methods=["GET"]),
        Route("/invocations", invocations, methods=["POST"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", ready, methods=["GET"]),
        Route("/v2/models/{name}", v2_model, methods=["GET"]),
        Route("/v2/models/{name}/ready", v2_model_ready, methods=["GET"]),
        Route("/v2/models/{name}/infer", v2_infer, methods=["POST"]),
        Route("/v2/models/{name}/versions/{version}", v2_model, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/ready", v2_model_ready, methods=["GET"]),
        Route("/v2/models/{name}/versions/{version}/infer", v2_infer, methods=["POST"]),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: unexpected},
    )
    app.state.serving = state
    return app


def _check_name(state: ServingApp, request: Request) -> None:
    name = request.path_params["name"]
    if name != state.name:
        raise NotFound(f"Unknown model {name!r}: this server serves {state.name!r}.")


def _v2_model(routing: Routing, request: Request, request_id: str) -> tuple[ServedModel, str]:
    """The model a V2 request addresses: a given version, else the routed one."""
    version = request.path_params.get("version")
    if version is None:
        return routing.choose(request_id)
    model = routing.by_version(version)
    if model is None:
        served = ", ".join(sorted({m.key.version for m in (routing.primary, routing.canary) if m}))
        name = request.path_params["name"]
        raise NotFound(f"Model {name!r} has no version {version!r} served here (serving {served}).")
    return model, PRIMARY if model is routing.primary else CANARY
