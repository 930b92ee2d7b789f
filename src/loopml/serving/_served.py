"""A model being served: the loaded model, its predict path, its batcher.

Loading happens off the request path (a thread): download and load, then
warm up with one prediction on the input example, so the first real request
pays for nothing. A scikit-learn model starts on its native path; the ONNX
fast path (importing skl2onnx, converting, checking the outputs: seconds) is
settled in a background thread and swapped in when it agrees, so it never
delays the first answer of a cold start or a reload.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loopml.models import LoadedModel
from loopml.models import load_model as load_model_folder
from loopml.serving._batcher import MicroBatcher
from loopml.serving._config import ServeConfig
from loopml.serving._fastpath import SKLEARN, FastPath, choose_fast_path
from loopml.serving._payload import Payload, to_native

if TYPE_CHECKING:
    from loopml.tracking import Client

log = logging.getLogger("loopml.serving")
# Batches of at most this many rows run through the ONNX fast path without a thread
# hop: ONNX Runtime takes microseconds on them, the hop about a hundred.
FAST_INLINE_ROWS = 16
STORE_SCHEMES = ("models:/", "runs:/")


def reads_store(uri: str) -> bool:
    """Whether serving ``uri`` reads the registry or a run (a folder needs neither)."""
    return uri.startswith(STORE_SCHEMES)


@dataclass(frozen=True, slots=True)
class ModelKey:
    """One servable model: its resolved URI (``models:/x/3``), version label and name.

    ``uri`` is what ``X-Model-Version`` carries; it never changes for the
    same files, so two keys are equal exactly when they serve the same model.
    """

    uri: str
    version: str
    name: str


class ServedModel:
    """A loaded model ready to take requests through its micro-batcher."""

    def __init__(
        self,
        key: ModelKey,
        model: LoadedModel,
        fast: FastPath,
        config: ServeConfig,
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        self.key = key
        self.model = model
        self.fast = fast
        self._onnx = fast.predictor
        self.fast_path_settled = threading.Event()
        self.batcher = MicroBatcher(
            self.predict,
            max_batch_size=config.max_batch_size,
            max_delay_seconds=config.max_batch_delay_ms / 1000.0,
            name=key.name,
            on_batch=on_batch,
            fast=fast.predictor,
            fast_rows=FAST_INLINE_ROWS,
        )

    @property
    def path(self) -> str:
        """``onnx`` or ``native``."""
        return self.fast.path

    def predict(self, payload: Payload) -> Any:
        """Predict synchronously (the batcher's thread): fast path when it takes the input."""
        if self._onnx is not None:
            out = self._onnx(payload)
            if out is not None:
                return out
        return self.model.predict(to_native(payload))

    def adopt(self, fast: FastPath) -> None:
        """Take the settled predict path (one assignment each: requests see old or new)."""
        self.fast = fast
        self._onnx = fast.predictor
        self.batcher.set_fast(fast.predictor, FAST_INLINE_ROWS)
        self.fast_path_settled.set()

    async def infer(self, payload: Payload) -> Any:
        """Predict through the micro-batcher."""
        return await self.batcher.submit(payload)

    async def close(self) -> None:
        await self.batcher.close()


def load_served(
    key: ModelKey,
    config: ServeConfig,
    client: Client | None,
    on_batch: Callable[[int], None] | None = None,
) -> ServedModel:
    """Load, choose the predict path, and warm up ``key`` (blocking: call it in a thread).

    ``client`` reads ``models:/`` and ``runs:/`` URIs; a folder is loaded without it.
    """
    started = time.perf_counter()
    if reads_store(key.uri):
        # Not at the top: the registry and tracking store (SQLAlchemy) slow every cold start.
        from loopml._model_fluent import load_model

        model = load_model(key.uri, trust_pickle=config.trust_pickle, client=client)
    else:
        model = load_model_folder(key.uri, trust_pickle=config.trust_pickle)
    deferred = config.onnx and model.flavor == SKLEARN
    if deferred:
        fast = FastPath("native", "the ONNX fast path is being checked in the background")
    else:
        fast = choose_fast_path(model, enabled=config.onnx)
    served = ServedModel(key, model, fast, config, on_batch)
    example = model.input_example()
    if example is not None:
        served.predict(example)  # warm-up: first-call costs are paid here, not by a caller
    log.info(
        "Loaded %s (%s) in %.2fs; predict path: %s, because %s.",
        key.uri,
        model.flavor,
        time.perf_counter() - started,
        fast.path,
        fast.reason,
    )
    if deferred:
        threading.Thread(
            target=_settle_fast_path, args=(served,), name="loopml-onnx", daemon=True
        ).start()
    else:
        served.fast_path_settled.set()
    return served


def _settle_fast_path(served: ServedModel) -> None:
    started = time.perf_counter()
    fast = choose_fast_path(served.model)
    served.adopt(fast)
    log.info(
        "%s: predict path %s after %.2fs in the background, because %s.",
        served.key.uri,
        fast.path,
        time.perf_counter() - started,
        fast.reason,
    )
