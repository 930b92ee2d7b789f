"""``ServeConfig``: everything ``loopml serve`` was told, in one typed record.

The CLI builds it once and passes it down; uvicorn worker processes receive
it as JSON in one environment variable (``LOOPML_SERVE_CONFIG``) because a
worker is a fresh interpreter that imports the app factory by name.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from loopml.core.errors import InvalidArgument

CONFIG_VARIABLE = "LOOPML_SERVE_CONFIG"
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """What to serve and how.

    Exactly one of ``model_uri`` (``models:/name@alias``, ``models:/name/3``,
    ``runs:/<run>/<path>`` or a local folder) and ``deployment`` (a record of
    ``loopml.deployments``) is set. ``name`` is the model name on the V2
    protocol (default: the registered model's, the deployment's, or the
    folder's name). ``onnx`` allows the ONNX Runtime fast path for
    scikit-learn models (it is still used only when it reproduces the
    model's outputs). ``feature_service`` makes requests carry entity keys
    (and request fields): the server looks that service's features up in the
    online store and builds the model's input from them (a deployment's own
    ``feature_service`` is used when this is None).
    """

    model_uri: str | None = None
    deployment: str | None = None
    name: str | None = None
    max_batch_size: int = 64
    max_batch_delay_ms: float = 2.0
    trust_pickle: bool = False
    prediction_log: bool = True
    log_sample_rate: float = 1.0
    reload_interval: float = 2.0
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    onnx: bool = True
    # Where verified ONNX conversions are kept across starts (None: not kept).
    onnx_cache: str | None = None
    feature_service: str | None = None

    def __post_init__(self) -> None:
        if (self.model_uri is None) == (self.deployment is None):
            raise InvalidArgument("Serve either a MODEL_URI or --deployment NAME (exactly one).")
        if self.model_uri is not None and not self.model_uri.strip():
            raise InvalidArgument("MODEL_URI is empty.")
        if self.max_batch_size < 1:
            raise InvalidArgument(
                f"--max-batch-size must be at least 1, not {self.max_batch_size}."
            )
        if not 0 <= self.max_batch_delay_ms <= 10_000:
            raise InvalidArgument(
                f"--max-batch-delay-ms must be within 0..10000, not {self.max_batch_delay_ms}."
            )
        if not 0.0 <= self.log_sample_rate <= 1.0:
            raise InvalidArgument(
                f"--log-sample-rate must be within 0..1, not {self.log_sample_rate}."
            )
        if self.reload_interval <= 0:
            raise InvalidArgument(
                f"--reload-interval must be positive (seconds), not {self.reload_interval}."
            )
        if self.feature_service is not None and not self.feature_service.strip():
            raise InvalidArgument("--feature-service is empty.")
        if self.max_body_bytes < 1:
            raise InvalidArgument(f"--max-body-bytes must be positive, not {self.max_body_bytes}.")

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> ServeConfig:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidArgument(f"{CONFIG_VARIABLE} is not valid JSON: {exc}.") from exc
        if not isinstance(data, dict):
            raise InvalidArgument(f"{CONFIG_VARIABLE} must hold a JSON object.")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidArgument(f"{CONFIG_VARIABLE} has unknown fields: {unknown}.")
        return cls(**data)
