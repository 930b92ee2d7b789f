"""The fluent model lifecycle: log and register, promote through gates, load by alias, roll back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import loopml as lm
from loopml.core.errors import GateFailed, InvalidArgument, NotFound


def _train(table: tuple[pd.DataFrame, pd.Series], c: float, accuracy: float) -> lm.models.ModelInfo:
    features, labels = table
    model = LogisticRegression(C=c, max_iter=500).fit(features, labels)
    with lm.start_run():
        lm.log_metric("accuracy", accuracy)
        return lm.log_model(
            model, "model", input_example=features.head(3), registered_model_name="churn"
        )


def test_log_promote_load_and_roll_back(sdk: str, table: tuple[pd.DataFrame, pd.Series]) -> None:
    features, _ = table
    first = _train(table, 1.0, accuracy=0.80)
    second = _train(table, 0.01, accuracy=0.90)
    worse = _train(table, 0.5, accuracy=0.70)
    assert (first.registered_model_version, second.registered_model_version) == (1, 2)

    assert lm.promote("churn", 1, gates=[lm.MetricGate("accuracy")]).promoted  # no holder yet
    champion = lm.load_model("models:/churn@champion")
    expected = LogisticRegression(C=1.0, max_iter=500).fit(*table).predict(features)
    assert np.array_equal(champion.predict(features), expected)

    refused = lm.promote("churn", 3, gates=[lm.MetricGate("accuracy"), lm.SignatureGate()])
    assert not refused.promoted
    assert [r.passed for r in refused.gate_results] == [False, True]
    assert lm.Registry().get_registered_model("churn").aliases["champion"] == 1
    with pytest.raises(GateFailed, match="accuracy"):
        lm.promote(
            "churn",
            worse.registered_model_version,
            gates=[lm.MetricGate("accuracy")],
            raise_on_failure=True,
        )

    assert lm.promote("churn", 2, gates=[lm.MetricGate("accuracy")], reason="better").promoted
    by_alias = lm.load_model("models:/churn@champion")
    assert np.array_equal(
        by_alias.predict(features), lm.load_model(second.model_uri).predict(features)
    )
    assert lm.rollback("churn", "champion").version == 1
    assert (
        lm.load_model("models:/churn/1").manifest
        == lm.load_model("models:/churn@champion").manifest
    )


def test_registry_uris_fail_clearly(sdk: str, table: tuple[pd.DataFrame, pd.Series]) -> None:
    _train(table, 1.0, accuracy=0.8)
    with pytest.raises(NotFound):
        lm.load_model("models:/churn@nobody")
    with pytest.raises(NotFound):
        lm.load_model("models:/churn/99")
    with pytest.raises(NotFound):
        lm.load_model("models:/unknown/1")
    with pytest.raises(InvalidArgument):
        lm.load_model("models:/")


def test_versions_are_cached_by_content(sdk: str, table: tuple[pd.DataFrame, pd.Series]) -> None:
    info = _train(table, 1.0, accuracy=0.8)
    first = lm.load_model("models:/churn/1")
    again = lm.load_model("models:/churn/1")
    assert first.path == again.path  # the same immutable folder, downloaded once
    assert info.registered_model_version == 1
    version = lm.register_model(info.model_uri, "churn-copy")
    assert lm.load_model(f"models:/churn-copy/{version.version}").path == first.path
