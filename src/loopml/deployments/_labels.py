"""Labels as the store keeps them: (request id, JSON text) pairs, all checked first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from loopml.core.errors import InvalidArgument
from loopml.deployments._validation import validate_request_id

MAX_LABELS = 10_000_000


def _label_json(request_id: str, label: Any) -> str:
    try:
        return orjson.dumps(label, option=orjson.OPT_SERIALIZE_NUMPY).decode()
    except TypeError as exc:
        raise InvalidArgument(
            f"The label of request {request_id!r} is not JSON-able: {label!r:.80}."
        ) from exc


def label_pairs(labels: Any) -> list[tuple[str, str]]:
    """(request id, JSON text) pairs from a mapping or a DataFrame (request_id, label)."""
    if isinstance(labels, Mapping):
        items = list(labels.items())
    elif hasattr(labels, "columns") and hasattr(labels, "__getitem__"):
        missing = {"request_id", "label"} - set(labels.columns)
        if missing:
            raise InvalidArgument(
                f"The labels DataFrame has no column {sorted(missing)[0]!r}: give columns "
                "request_id and label."
            )
        items = list(zip(labels["request_id"].tolist(), labels["label"].tolist(), strict=True))
    else:
        raise InvalidArgument(
            f"Invalid labels {type(labels).__name__}: give a mapping of request id to label "
            "or a DataFrame with columns request_id and label."
        )
    if len(items) > MAX_LABELS:
        raise InvalidArgument(f"Too many labels in one call: at most {MAX_LABELS}.")
    pairs = []
    for request_id, label in items:
        rid = validate_request_id(request_id)
        pairs.append((rid, _label_json(rid, label)))
    return pairs
