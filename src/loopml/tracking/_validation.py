"""MLflow's naming and value rules, checked before anything is written.

A rejected call raises ``InvalidArgument`` naming the offending key or value
and saying what would be accepted; nothing of it reaches the store.
"""

from __future__ import annotations

import numbers
import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache

from loopml.core.errors import InvalidArgument
from loopml.objects import validate_tree_path
from loopml.store.records import DatasetInput, Metric, Param, RunTag

MAX_KEY_LENGTH = 250
MAX_PARAM_VALUE_LENGTH = 6000
MAX_TAG_VALUE_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 256
MAX_RUN_NAME_LENGTH = 250
MAX_BATCH_ITEMS = 1_000_000

_VALID_KEY = re.compile(r"^[/\w.\- :]+$")


def validate_key(key: object, what: str) -> str:
    """A metric, param or tag key: MLflow's characters, a clean relative path."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument(f"Invalid {what} name {key!r}: it must be a non-empty string.")
    return _validate_text_key(key, what)


@lru_cache(maxsize=65_536)
def _validate_text_key(key: str, what: str) -> str:
    # Cached: a training loop logs the same few keys millions of times; only keys
    # that passed are remembered (a rejected key raises every time).
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidArgument(
            f"Invalid {what} name {key[:40]!r}...: longer than {MAX_KEY_LENGTH} characters."
        )
    if not _VALID_KEY.match(key):
        raise InvalidArgument(
            f"Invalid {what} name {key!r}: names may only contain alphanumerics, underscores (_), "
            "dashes (-), periods (.), spaces ( ), colons (:) and slashes (/)."
        )
    if key.startswith("/") or posixpath.normpath(key) != key or ".." in key.split("/"):
        raise InvalidArgument(
            f"Invalid {what} name {key!r}: it must be a normalized relative path "
            "(no leading '/', no '..', '.', or '//' segments, no trailing '/')."
        )
    return key


def validate_metric(metric: Metric) -> Metric:
    """A metric point: valid key, a real number (NaN/inf allowed), int step and timestamp."""
    validate_key(metric.key, "metric")
    return _checked_point(metric)


def _checked_point(metric: Metric) -> Metric:
    value = metric.value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgument(
            f"Invalid value {value!r} for metric {metric.key!r}: give a number "
            "(NaN and infinity are accepted)."
        )
    if not isinstance(metric.step, numbers.Integral) or isinstance(metric.step, bool):
        raise InvalidArgument(
            f"Invalid step {metric.step!r} for metric {metric.key!r}: give an int."
        )
    if not isinstance(metric.timestamp, numbers.Integral) or isinstance(metric.timestamp, bool):
        raise InvalidArgument(
            f"Invalid timestamp {metric.timestamp!r} for metric {metric.key!r}: "
            "give milliseconds since the epoch as an int."
        )
    if type(value) is float and type(metric.step) is int and type(metric.timestamp) is int:
        return metric
    return Metric(metric.key, float(value), int(metric.timestamp), int(metric.step))


def _text_value(what: str, key: str, value: object, limit: int, hint: str = "") -> str:
    """A param or tag value as text, within its length limit."""
    text = value if isinstance(value, str) else str(value)
    if len(text) > limit:
        raise InvalidArgument(
            f"{what} {key!r} has a value of {len(text)} characters; the limit is {limit}.{hint}"
        )
    return text


def validate_param(param: Param) -> Param:
    validate_key(param.key, "param")
    hint = " Log long values as an artifact (log_text)."
    value = _text_value("Param", param.key, param.value, MAX_PARAM_VALUE_LENGTH, hint)
    return param if value is param.value else Param(param.key, value)


def validate_tag(tag: RunTag) -> RunTag:
    validate_key(tag.key, "tag")
    value = _text_value("Tag", tag.key, tag.value, MAX_TAG_VALUE_LENGTH)
    return tag if value is tag.value else RunTag(tag.key, value)


def validate_batch(
    metrics: Iterable[Metric], params: Iterable[Param], tags: Iterable[RunTag]
) -> tuple[list[Metric], list[Param], list[RunTag]]:
    """Validate every item of a batch; return them normalized (str values, float metrics)."""
    checked_keys: set[str] = set()
    good_metrics = []
    for metric in metrics:
        if metric.key not in checked_keys:
            validate_key(metric.key, "metric")
            checked_keys.add(metric.key)
        # Fast path for the common exact types; anything else gets the full check.
        if (
            type(metric.value) is float
            and type(metric.step) is int
            and type(metric.timestamp) is int
        ):
            good_metrics.append(metric)
        else:
            good_metrics.append(_checked_point(metric))
    good_params = [validate_param(p) for p in params]
    good_tags = [validate_tag(t) for t in tags]
    if len(good_metrics) + len(good_params) + len(good_tags) > MAX_BATCH_ITEMS:
        raise InvalidArgument(f"A batch may hold at most {MAX_BATCH_ITEMS} items; split it.")
    return good_metrics, good_params, good_tags


def validate_experiment_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid experiment name {name!r}: it must be a non-empty string.")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise InvalidArgument(
            f"Experiment name is {len(name)} characters; the limit is {MAX_EXPERIMENT_NAME_LENGTH}."
        )
    return name


def validate_run_name(name: object) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgument(f"Invalid run name {name!r}: it must be a non-empty string.")
    if len(name) > MAX_RUN_NAME_LENGTH:
        raise InvalidArgument(
            f"Run name is {len(name)} characters; the limit is {MAX_RUN_NAME_LENGTH}."
        )
    return name


def validate_artifact_path(path: str | None) -> str:
    """A folder or file path inside a run's artifacts: relative, normalized, no '..'.

    This is the path-traversal defence for everything written under a run and
    for everything downloaded from one (the object store's tree-path rule).
    Returns "" for the root; a trailing '/' names the same folder.
    """
    if path is None or path in ("", "."):
        return ""
    if isinstance(path, str) and not path.startswith("/"):
        path = path.rstrip("/")
    try:
        return validate_tree_path(path)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"Invalid artifact path {path!r}: {exc.message}. Artifact paths are relative and "
            "stay inside the run's artifacts."
        ) from exc


_DATASET_LIMITS = {"name": 256, "digest": 256, "context": 256, "source_type": 64}


def validate_dataset_input(dataset: DatasetInput) -> DatasetInput:
    """A dataset input: a name and a digest, and fields within their stored lengths."""
    for field_name in ("name", "digest"):
        value = getattr(dataset, field_name)
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"Dataset {field_name} must be a non-empty string.")
    for field_name, limit in _DATASET_LIMITS.items():
        value = getattr(dataset, field_name)
        if not isinstance(value, str) or len(value) > limit:
            raise InvalidArgument(
                f"Dataset {field_name} must be a string of at most {limit} characters."
            )
    for field_name in ("source", "schema", "profile"):
        if not isinstance(getattr(dataset, field_name), str):
            raise InvalidArgument(f"Dataset {field_name} must be a string.")
    return dataset
