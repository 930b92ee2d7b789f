"""One monitor window of a prediction log: traffic, drift, prediction drift and quality."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.deployments import PredictionLogger, PredictionRecord, log_labels, read_predictions
from loopml.monitoring._window_eval import WindowResult, decoded, evaluate_window
from loopml.tracking import Client

HOUR = 3_600_000
START = 1_700_000_000_000 // HOUR * HOUR
END = START + HOUR


def _reference(rows: int = 600, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 1, rows)
    return pd.DataFrame(
        {
            "a": a,
            "b": rng.normal(5, 2, rows),
            "city": rng.choice(["paris", "lyon", "nice"], rows, p=[0.5, 0.3, 0.2]),
            "y": 2 * a + rng.normal(0, 0.5, rows),
        }
    )


def _log(
    rows: int = 400,
    *,
    seed: int = 2,
    shift: float = 0.0,
    start: int = START,
    role: str = "primary",
    prefix: str = "r",
) -> pd.DataFrame:
    """A prediction log frame like read_predictions returns: one request per row here."""
    rng = np.random.default_rng(seed)
    a = rng.normal(shift, 1, rows)
    return pd.DataFrame(
        {
            "request_id": [f"{prefix}{i}" for i in range(rows)],
            "row": np.zeros(rows, dtype=np.int32),
            "time_ms": start + np.arange(rows, dtype=np.int64) * 1_000,
            "deployment": "fraud",
            "model_uri": "models:/fraud@champion",
            "model_version": "3",
            "role": role,
            "latency_ms": rng.uniform(5, 15, rows),
            "error": pd.Series([None] * rows, dtype=object),
            "input.a": a,
            "input.b": rng.normal(5 + 3 * shift, 2, rows),
            "input.city": rng.choice(["paris", "lyon", "nice"], rows, p=[0.5, 0.3, 0.2]),
            "prediction": 2 * a,
            "label": pd.Series([None] * rows, dtype=object),
        }
    )


def _evaluate(log: pd.DataFrame, reference: pd.DataFrame | None = None, **kw: Any) -> WindowResult:
    return evaluate_window(log, reference, window_start=START, window_end=END, **kw)


def test_shifted_window_drifts_and_unshifted_does_not() -> None:
    ref = _reference()
    same = _evaluate(_log(), ref, target="y")
    assert same.status == "ok" and same.drift is not None
    assert same.metrics["dataset_drift"] == 0.0 and same.metrics["drifted_columns"] == 0.0
    assert {c.column for c in same.drift.columns} == {"a", "b", "city", "prediction"}
    assert same.metrics["drift.a"] == 0.0 and same.metrics["drift_score.a"] is not None
    moved = _evaluate(_log(shift=1.0), ref, target="y")
    assert moved.metrics["dataset_drift"] == 1.0
    assert moved.drift is not None and set(moved.drift.drifted_columns) == {"a", "b", "prediction"}
    assert moved.metrics["drift.a"] == 1.0 and moved.metrics["drift.city"] == 0.0
    assert moved.metrics["drift_share"] == pytest.approx(3 / 4)
    assert moved.metrics["drift_score.a"] == pytest.approx(moved.drift["a"].score)
    json.dumps(moved.to_dict(), allow_nan=False)
    assert moved.to_dict()["drift"]["columns"]["a"]["drifted"] is True


def test_only_rows_inside_the_window_and_not_shadow_count() -> None:
    inside = _log(300)
    before = _log(50, start=START - 60_000, prefix="early")
    at_end = _log(20, start=END, prefix="late")  # time_ms == window_end is the next window
    shadow = _log(200, shift=3.0, role="shadow", prefix="s")
    canary = _log(30, role="canary", prefix="c")
    frame = pd.concat([before, inside, shadow, canary, at_end], ignore_index=True)
    result = _evaluate(frame, _reference())
    assert result.metrics["rows"] == 330.0 and result.metrics["requests"] == 330.0
    assert result.metrics["dataset_drift"] == 0.0  # the shifted shadow rows were left out
    with_shadow = _evaluate(frame, _reference(), roles=["primary", "shadow"])
    assert with_shadow.metrics["rows"] == 500.0 and with_shadow.metrics["dataset_drift"] == 1.0


def test_latency_percentiles_are_per_request_and_error_rate_per_row() -> None:
    # One slow request of 98 rows and two fast one-row requests: per row the median
    # would be the slow latency, per request it is the middle of three.
    frame = _log(100)
    frame["request_id"] = ["slow"] * 98 + ["fast1", "fast2"]
    frame["latency_ms"] = [900.0] * 98 + [10.0, 20.0]
    frame["error"] = pd.Series([None] * 95 + ["boom"] * 5, dtype=object)
    metrics = _evaluate(frame).metrics
    assert metrics["requests"] == 3.0 and metrics["rows"] == 100.0
    assert metrics["latency_p50_ms"] == 20.0
    assert metrics["latency_p95_ms"] == pytest.approx(np.percentile([10, 20, 900], 95))
    assert metrics["errors"] == 5.0 and metrics["error_rate"] == pytest.approx(0.05)


def test_labels_give_classification_metrics() -> None:
    frame = _log(200)
    frame["prediction"] = ["yes", "no"] * 100
    labels: list[Any] = ["yes", "no"] * 50 + ["no", "no"] * 25 + [None] * 50
    frame["label"] = pd.Series(labels, dtype=object)
    result = _evaluate(frame, task="classification")
    assert result.status == "ok" and result.metrics["labeled_rows"] == 150.0
    assert result.metrics["accuracy"] == pytest.approx(125 / 150)
    assert result.metrics["roc_auc"] is not None
    assert "accuracy" not in _evaluate(frame).metrics  # no task, no quality metrics


def test_regression_metrics_and_missing_labels_noted() -> None:
    frame = _log(100)
    frame["label"] = frame["prediction"] + 1.0
    metrics = _evaluate(frame, task="regression").metrics
    assert metrics["mae"] == pytest.approx(1.0) and metrics["rmse"] == pytest.approx(1.0)
    unlabeled = _evaluate(_log(100), task="regression")
    assert unlabeled.status == "ok" and "mae" not in unlabeled.metrics
    assert "no labelled rows" in unlabeled.detail


def test_empty_window() -> None:
    result = _evaluate(_log(50, start=END), _reference(), task="classification")
    assert result.status == "empty" and result.drift is None
    assert result.metrics["rows"] == 0.0 and result.metrics["error_rate"] is None
    assert result.to_dict()["metrics"]["latency_p50_ms"] is None
    no_columns = evaluate_window(pd.DataFrame(), None, window_start=START, window_end=END)
    assert no_columns.status == "empty"


def test_missing_columns_are_reported() -> None:
    ref = _reference().assign(tenure=1.0)
    frame = _log().drop(columns=["input.b"])
    chosen = _evaluate(frame, ref, columns=["a", "b"])
    assert chosen.drift is not None and chosen.drift["b"].status == "error"
    assert "missing from the current data" in chosen.drift["b"].detail
    assert chosen.metrics["drift.b"] is None and chosen.metrics["drift_score.b"] is None
    assert "drift not tested for ['b']" in chosen.detail
    default = _evaluate(frame, ref, target="y")
    assert "missing from the window's inputs: ['b', 'tenure']" in default.detail
    assert default.drift is not None and "b" not in {c.column for c in default.drift.columns}
    disjoint = _evaluate(_log(), pd.DataFrame({"zzz": [1.0, 2.0]}), task="regression")
    assert disjoint.status == "ok" and disjoint.drift is None
    assert "['zzz']" in disjoint.detail and "drift skipped" in disjoint.detail


def test_all_nan_and_type_changed_columns_are_per_column_errors() -> None:
    frame = _log()
    frame["input.a"] = np.nan
    frame["input.b"] = "oops"
    result = _evaluate(frame, _reference())
    assert result.status == "ok" and result.drift is not None
    assert result.drift["a"].detail == "no non-missing values in the current data"
    assert "type changed" in result.drift["b"].detail
    assert result.metrics["drift_score.a"] is None and result.drift["city"].status == "ok"


def test_prediction_drift_against_the_target() -> None:
    ref = _reference()
    frame = _log()
    assert _evaluate(frame, ref, target="y", columns=["city"]).metrics["drift.prediction"] == 0.0
    frame["prediction"] = frame["prediction"] + 4.0  # inputs unchanged, the model went off
    result = _evaluate(frame, ref, target="y", columns=["city"])
    assert result.metrics["drift.prediction"] == 1.0 and result.metrics["drift.city"] == 0.0
    frame["prediction"] = [[0.3, 0.7]] * len(frame)
    lists = _evaluate(frame, ref, target="y", columns=["city"])
    assert "drift.prediction" not in lists.metrics and "class probabilities" in lists.detail


def test_uncomparable_labels_make_an_error_status_not_a_raise() -> None:
    frame = _log(20)
    frame["label"] = pd.Series([1, "a"] * 10, dtype=object)
    frame["prediction"] = pd.Series([1, "a"] * 10, dtype=object)
    result = _evaluate(frame, task="classification")
    assert result.status == "error" and "mix value types" in result.detail
    assert result.metrics["rows"] == 20.0


def test_real_log_with_json_text_predictions_and_labels(tmp_path: Path, settings: Settings) -> None:
    client = Client(
        f"sqlite:///{tmp_path / 'loopml.db'}",
        settings=settings,
        object_store_uri=str(tmp_path / "objects"),
    )
    try:
        with PredictionLogger(client, "iris") as logger:
            for i in range(30):
                logger.record(
                    PredictionRecord(
                        request_id=f"q{i}",
                        time_ms=START + i,
                        deployment="iris",
                        model_uri="models:/iris@champion",
                        model_version="1",
                        role="primary",
                        inputs={"a": [float(i), float(i) + 0.5]},
                        outputs=[[0.1, 0.9], [0.8, 0.2]] if i % 3 else [[0.9, 0.1], [0.2, 0.8]],
                        latency_ms=float(i),
                    )
                )
        log_labels("iris", {f"q{i}": 1 for i in range(10)}, client=client)
        frame = read_predictions("iris", client=client)
    finally:
        client.close()
    assert isinstance(frame["prediction"].iloc[0], str)  # the log keeps lists as JSON text
    result = _evaluate(frame, pd.DataFrame({"a": np.arange(60.0)}), task="classification")
    assert result.status == "ok" and result.metrics["rows"] == 60.0
    assert result.metrics["requests"] == 30.0 and result.metrics["labeled_rows"] == 20.0
    # Requests 1,2,4,5,7,8 predict class 1 then 0; 0,3,6,9 class 0 then 1: half right.
    assert result.metrics["accuracy"] == pytest.approx(0.5)
    assert result.drift is not None and result.drift["a"].status == "ok"


def test_text_forms_of_the_log_are_decoded() -> None:
    numbers = decoded(pd.Series(["0.5", None, "2"], dtype="str"))
    assert numbers.iloc[0] == 0.5 and pd.isna(numbers.iloc[1]) and numbers.iloc[2] == 2.0
    assert decoded(pd.Series(["true", "false", None])).tolist()[:2] == [True, False]
    mixed = decoded(pd.Series(["[0.1,0.9]", '{"a":1}', '"cat"', "[oops", None]))
    assert mixed.tolist()[:4] == [[0.1, 0.9], {"a": 1}, "cat", "[oops"]
    labels = pd.Series(["cat", "dog"])
    assert decoded(labels) is labels


def test_numeric_inputs_stored_as_text_are_tested_as_numbers() -> None:
    frame = _log()
    frame["input.a"] = frame["input.a"].map(repr).astype("str")
    result = _evaluate(frame, _reference())
    assert result.drift is not None and result.drift["a"].status == "ok"
    assert result.metrics["drift.a"] == 0.0


def test_binary_probabilities_drift_as_the_labels_they_stand_for() -> None:
    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"y": rng.integers(0, 2, 600)})
    frame = _log()
    frame["prediction"] = rng.uniform(0, 1, len(frame))  # about half above 0.5, like y
    result = _evaluate(frame, ref, target="y", task="classification")
    assert result.drift is not None and result.drift["prediction"].column_type == "categorical"
    assert result.metrics["drift.prediction"] == 0.0
    frame["prediction"] = rng.uniform(0.6, 1, len(frame))  # every row now predicts 1
    assert (
        _evaluate(frame, ref, target="y", task="classification").metrics["drift.prediction"] == 1.0
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task": "ranking"}, "unknown task 'ranking'"),
        ({"window_end": START}, "must be after window_start"),
        ({"columns": ["a", "nope"]}, r"columns \['nope'\] are not in the reference"),
        ({"columns": "a"}, "must be a list of names"),
        ({"roles": "primary"}, "must be a list of names"),
        ({"roles": ["primry"]}, "roles must name at least one of"),
        ({"drift_options": {"columns": ["a"]}}, "drift_options has unknown keys"),
        ({"drift_options": {"method": "nope"}}, "unknown drift method"),
    ],
)
def test_caller_mistakes_raise_invalid_argument(kwargs: dict[str, Any], message: str) -> None:
    call: dict[str, Any] = {"window_start": START, "window_end": END, **kwargs}
    with pytest.raises(InvalidArgument, match=message):
        evaluate_window(_log(20), _reference(), **call)


def test_a_frame_that_is_not_a_prediction_log_is_refused() -> None:
    with pytest.raises(InvalidArgument, match="no column"):
        _evaluate(pd.DataFrame({"x": [1]}))
    with pytest.raises(InvalidArgument, match="must be a pandas DataFrame"):
        _evaluate([{"time_ms": 1}])  # type: ignore[arg-type]
