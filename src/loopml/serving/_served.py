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
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from loopml.core.errors import LoopmlError
from loopml.models import LoadedModel, read_companion, read_manifest
from loopml.models import load_model as load_model_folder
from loopml.serving._batcher import MicroBatcher
from loopml.serving._config import ServeConfig
from loopml.serving._fastpath import SKLEARN, FastPath, OnnxPredictor, choose_fast_path
from loopml.serving._onnx_cache import cache_key, cached_predictor, keep_predictor
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
    folder = _model_folder(key.uri, client)
    cache_root = Path(config.onnx_cache) if config.onnx and config.onnx_cache else None
    model_key = cache_key(folder) if cache_root is not None and folder is not None else None
    ready = _ready_conversion(folder, cache_root, model_key) if config.onnx else None
    deferred: DeferredNative | None = None
    if ready is not None and folder is not None:
        # Serve from a verified conversion while scikit-learn loads in the background.
        deferred = DeferredNative(folder, config.trust_pickle)  # Native's attributes, deferred
        model = LoadedModel(read_manifest(folder), deferred, folder)  # type: ignore[arg-type]
        fast = FastPath(
            "onnx", f"{ready.reason} (the native model loads in the background)", ready.predictor
        )
    elif folder is not None:
        model = load_model_folder(folder, trust_pickle=config.trust_pickle)
        fast = _first_fast_path(model, config)
    else:  # runs:/ (downloaded by the tracking client)
        from loopml._model_fluent import load_model  # not at the top: see _model_folder

        model = load_model(key.uri, trust_pickle=config.trust_pickle, client=client)
        fast = _first_fast_path(model, config)
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
    if deferred is not None:
        threading.Thread(
            target=_settle_cached_path,
            args=(served, deferred, ready),
            name="loopml-native",
            daemon=True,
        ).start()
    elif fast.reason == CHECKING_IN_BACKGROUND:
        keep = (cache_root, model_key) if cache_root and model_key else None
        threading.Thread(
            target=_settle_fast_path, args=(served, keep), name="loopml-onnx", daemon=True
        ).start()
    else:
        served.fast_path_settled.set()
    return served


CHECKING_IN_BACKGROUND = "the ONNX fast path is being checked in the background"


def _first_fast_path(model: LoadedModel, config: ServeConfig) -> FastPath:
    """Native at first for scikit-learn (checked in the background), else decided now."""
    if config.onnx and model.flavor == SKLEARN:
        return FastPath("native", CHECKING_IN_BACKGROUND)
    return choose_fast_path(model, enabled=config.onnx)


def _model_folder(uri: str, client: Client | None) -> Path | None:
    """The local folder of a model URI: a path, or a registered version's cache; None for runs:/."""
    if not reads_store(uri):
        return Path(unquote(urlparse(uri).path)) if uri.startswith("file:") else Path(uri)
    if uri.startswith("models:/"):
        # Not at the top: the registry and tracking store (SQLAlchemy) slow every cold start.
        from loopml._model_fluent import registered_model_folder

        return registered_model_folder(uri, client=client)
    return None


@dataclass(frozen=True, slots=True)
class Ready:
    """A conversion verified before this start, and where its verification happened."""

    predictor: OnnxPredictor
    reason: str


def _ready_conversion(
    folder: Path | None, cache_root: Path | None, model_key: str | None
) -> Ready | None:
    """The conversion saved with the model, else the one kept from an earlier start."""
    if folder is None:
        return None
    try:
        saved = read_companion(folder, read_manifest(folder))
    except LoopmlError as exc:  # a damaged twin costs the background conversion, not the model
        log.warning("Ignoring the ONNX conversion saved with %s: %s", folder, exc)
        saved = None
    if saved is not None:
        return Ready(
            OnnxPredictor.from_plan(saved.model_bytes, saved.plan),
            f"the conversion saved with the model was verified when it was saved: {saved.reason}",
        )
    cached = cached_predictor(cache_root, model_key) if cache_root and model_key else None
    if cached is None:
        return None
    return Ready(cached, "this model's conversion was verified at an earlier start")


class DeferredNative:
    """A model's native predict, loaded in a background thread.

    The cached ONNX conversion answers meanwhile; input it leaves to the
    native model waits here until the load is done (or raises its error).
    """

    def __init__(self, folder: Path, trust_pickle: bool) -> None:
        self.loaded = threading.Event()  # set when the load is over, loaded or failed
        self._model: LoadedModel | None = None
        self._error: BaseException | None = None
        threading.Thread(
            target=self._load, args=(folder, trust_pickle), name="loopml-native", daemon=True
        ).start()

    def _load(self, folder: Path, trust_pickle: bool) -> None:
        try:
            self._model = load_model_folder(folder, trust_pickle=trust_pickle)
        except BaseException as exc:  # raised by every predict that needs the native model
            log.error("The native model in %s failed to load: %s", folder, exc)
            self._error = exc
        finally:
            self.loaded.set()

    def _loaded(self) -> LoadedModel:
        self.loaded.wait()
        if self._error is not None:
            raise self._error
        assert self._model is not None
        return self._model

    def predict(self, data: Any) -> Any:
        return self._loaded().predict(data)

    @property
    def predict_proba(self) -> Any:
        return self._loaded().predict_proba if self._loaded().has_predict_proba else None

    @property
    def raw(self) -> Any:
        return self._loaded().raw


def _settle_cached_path(served: ServedModel, native: DeferredNative, ready: Ready) -> None:
    """Once the native model is in, the verified conversion is simply the settled path."""
    native.loaded.wait()
    served.adopt(FastPath("onnx", ready.reason, ready.predictor))


def _settle_fast_path(served: ServedModel, keep: tuple[Path, str] | None) -> None:
    started = time.perf_counter()
    fast = choose_fast_path(served.model)
    if keep is not None and fast.predictor is not None:
        keep_predictor(keep[0], keep[1], fast.predictor)  # kept first: settled means kept
    served.adopt(fast)
    log.info(
        "%s: predict path %s after %.2fs in the background, because %s.",
        served.key.uri,
        fast.path,
        time.perf_counter() - started,
        fast.reason,
    )
