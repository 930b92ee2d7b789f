"""Gates as data: the CLI text form, the REST JSON form, and what each refuses.

The signature comparison behind SignatureGate is ``loopml.models.signature_problems``
(tested with the models); the gate itself is exercised in ``test_model_registry``.
"""

from __future__ import annotations

import pytest

from loopml.core.errors import InvalidArgument
from loopml.registry import (
    MetricGate,
    SignatureGate,
    ValidationGate,
    describe_gate,
    gate_from_dict,
    parse_gate,
)


def test_gates_from_text_and_dicts_round_trip() -> None:
    metric = parse_gate("metric:rmse:lower:0.5")
    assert isinstance(metric, MetricGate)
    assert describe_gate(metric) == {
        "type": "metric",
        "metric": "rmse",
        "greater_is_better": False,
        "min_delta": 0.5,
    }
    assert describe_gate(gate_from_dict(describe_gate(metric))) == describe_gate(metric)
    assert isinstance(parse_gate("signature"), SignatureGate)
    validation = parse_gate("validation:qa/report.json")
    assert isinstance(validation, ValidationGate) and validation.report_path == "qa/report.json"
    assert describe_gate(parse_gate("metric:auc")) == describe_gate(MetricGate("auc"))
    assert describe_gate(lambda c: True) == {"type": "custom", "name": "<lambda>"}


@pytest.mark.parametrize(
    "text",
    [
        "metric",
        "metric:",
        "metric:auc:sideways",
        "metric:auc:higher:-1",
        "metric:auc:higher:nan",
        "signature:x",
        "validation:../escape",
        "nonsense",
        "",
    ],
)
def test_bad_gate_text_is_refused(text: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_gate(text)


@pytest.mark.parametrize(
    "spec",
    [
        {"type": "rocket"},
        {"metric": "auc"},
        {"type": "metric"},
        {"type": "signature", "x": 1},
        {"type": "metric", "metric": "auc", "min_delta": "1"},
        "metric:auc",
    ],
)
def test_bad_gate_dicts_are_refused(spec: object) -> None:
    with pytest.raises(InvalidArgument):
        gate_from_dict(spec)  # type: ignore[arg-type]
