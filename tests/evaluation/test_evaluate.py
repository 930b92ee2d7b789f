"""lm.evaluate end to end: real models logged in a real store, metrics checked independently."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, roc_auc_score

import loopml as lm
from churn_models import FEATURES, churn, log_classifier, log_regressor
from loopml.core.errors import InvalidArgument
from loopml.evaluation import Evaluation

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def data(sdk: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return churn(600, seed=0), churn(300, seed=1)


def test_classification_metrics_slices_fairness_baseline_and_run_logging(data) -> None:
    train, holdout = data
    candidate = log_classifier(train)
    weak = log_classifier(train, weak=True)
    with lm.start_run() as run:
        result = lm.evaluate(
            candidate,
            holdout,
            target="churned",
            slices=[
                "plan",
                "age >= 65 and tickets > 0",
                {"name": "nobody", "expression": "age > 500"},
            ],
            sensitive_features=["gender"],
            baseline=weak,
            shap_rows=5,
            permutation_repeats=2,
        )
    model = lm.load_model(candidate)
    predicted = model.predict(holdout[FEATURES])
    proba = model.predict_proba(holdout[FEATURES])[:, 1]
    y = holdout["churned"].to_numpy()
    assert result.task == "classification"
    assert result.rows == 300
    assert result.metrics["accuracy"] == pytest.approx(accuracy_score(y, predicted))
    assert result.metrics["f1"] == pytest.approx(f1_score(y, predicted))
    assert result.metrics["roc_auc"] == pytest.approx(roc_auc_score(y, proba))
    basic = holdout["plan"] == "basic"
    assert result.slices["plan=basic"]["rows"] == int(basic.sum())
    assert result.metric("accuracy", "plan=basic") == pytest.approx(
        accuracy_score(y[basic], predicted[basic.to_numpy()])
    )
    assert result.slices["nobody"]["rows"] == 0
    assert any("'nobody' matches no rows" in n for n in result.notices)
    assert "demographic_parity_difference" in result.fairness["gender"]
    # The dummy baseline predicts the majority class: the candidate beats it on roc_auc.
    assert result.baseline is not None
    assert result.baseline.metrics["roc_auc"] == pytest.approx(0.5)
    assert result.baseline.deltas["roc_auc"] == pytest.approx(result.metrics["roc_auc"] - 0.5)
    assert result.baseline.slices["plan=basic"]["metrics"]["accuracy"] is not None
    assert result.latency["batch_ms_per_row"] > 0
    assert {"confusion_matrix.png", "roc.png", "calibration.png"} <= set(result.plots)
    assert result.explanations["permutation"]["features"]
    # Logged to the run: plain overall metrics, prefixed slice/fairness/latency/delta ones.
    logged = lm.get_run(run.info.run_id).data.metrics
    assert logged["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert logged["slice/plan_basic/accuracy"] == pytest.approx(
        result.metric("accuracy", "plan=basic")
    )
    assert "fairness/gender/demographic_parity_difference" in logged
    assert logged["delta/roc_auc"] == pytest.approx(result.baseline.deltas["roc_auc"])
    artifacts = {f.path for f in lm.list_artifacts(run.info.run_id, "evaluation/plots")}
    assert "evaluation/plots/roc.png" in artifacts
    folder = Path(lm.download_artifacts(run_id=run.info.run_id, artifact_path="evaluation"))
    document = json.loads((folder / "evaluation.json").read_text())
    assert document["metrics"]["accuracy"] == pytest.approx(result.metrics["accuracy"])
    assert (folder / "plots" / "roc.png").read_bytes().startswith(PNG)


def test_regression_metrics_and_residuals(data) -> None:
    train, holdout = data
    uri = log_regressor(train)
    result = lm.evaluate(uri, holdout, target="charges", explain_model=False)
    predicted = lm.load_model(uri).predict(holdout[["tenure", "tickets"]])
    assert result.task == "regression"
    assert result.metrics["mae"] == pytest.approx(
        mean_absolute_error(holdout["charges"], predicted)
    )
    assert result.metrics["rmse"] == pytest.approx(
        float(np.sqrt(np.mean((holdout["charges"] - predicted) ** 2)))
    )
    assert "residuals.png" in result.plots
    assert result.details["residuals"]["mean"] == pytest.approx(
        float(np.mean(holdout["charges"] - predicted)), abs=1e-9
    )


def test_saved_evaluation_round_trips(data, tmp_path: Path) -> None:
    train, holdout = data
    result = lm.evaluate(log_classifier(train), holdout, target="churned", explain_model=False)
    result.save(tmp_path / "out")
    again = Evaluation.load(tmp_path / "out")
    assert again.metrics == pytest.approx(result.metrics)
    assert set(again.plots) == set(result.plots)
    assert again.to_dict() == result.to_dict()


def test_data_from_a_file_and_rows_without_labels(data, tmp_path: Path) -> None:
    train, holdout = data
    holdout = holdout.astype({"churned": "float64"})
    holdout.loc[:9, "churned"] = np.nan
    path = tmp_path / "holdout.parquet"
    holdout.to_parquet(path)
    result = lm.evaluate(log_classifier(train), str(path), target="churned", explain_model=False)
    assert result.rows == 290
    assert any("10 rows without a 'churned' value" in n for n in result.notices)


def test_missing_target_is_a_clear_error(data) -> None:
    train, holdout = data
    uri = log_classifier(train)
    with pytest.raises(InvalidArgument, match="no target column 'label'"):
        lm.evaluate(uri, holdout, target="label")
    with pytest.raises(InvalidArgument, match="no sensitive feature column 'race'"):
        lm.evaluate(
            uri, holdout, target="churned", sensitive_features=["race"], explain_model=False
        )
    with pytest.raises(InvalidArgument, match="no column 'plan'"):
        lm.evaluate(uri, holdout.drop(columns=["plan"]), target="churned")
    with pytest.raises(InvalidArgument, match="Unknown task"):
        lm.evaluate(uri, holdout, target="churned", task="ranking")


def test_single_sensitive_group_is_a_notice_not_a_failure(data) -> None:
    train, holdout = data
    holdout = holdout.assign(gender="f")
    result = lm.evaluate(
        log_classifier(train),
        holdout,
        target="churned",
        sensitive_features=["gender"],
        explain_model=False,
    )
    assert result.fairness["gender"]["demographic_parity_difference"] == 0.0
    assert any("one group" in n for n in result.notices)
    assert result.metrics["accuracy"] > 0


def test_baseline_with_incompatible_signature_is_reported(data) -> None:
    train, holdout = data
    candidate = log_classifier(train)
    other = log_classifier(train.assign(extra=1.0), features=["tenure", "extra"])
    result = lm.evaluate(candidate, holdout, target="churned", baseline=other, explain_model=False)
    assert result.baseline is not None
    assert result.baseline.signature_problems
    assert result.baseline.metrics == {}
    assert any("baseline was not scored" in n and "'extra'" in n for n in result.notices)


def test_missing_baseline_alias_is_a_notice(data) -> None:
    train, holdout = data
    lm.register_model(log_classifier(train), "churn")
    result = lm.evaluate(
        "models:/churn/1",
        holdout,
        target="churned",
        baseline="models:/churn@champion",
        explain_model=False,
    )
    assert result.baseline is None
    assert any("no baseline" in n for n in result.notices)


def test_unsupported_explainer_leaves_a_notice_and_the_rest(data) -> None:
    train, holdout = data
    labelled = train.assign(churned=np.where(train["churned"] == 1, "yes", "no"))
    from sklearn.svm import LinearSVC

    model = LinearSVC().fit(labelled[["tenure", "tickets"]], labelled["churned"])
    with lm.start_run():
        uri = lm.log_model(
            model, "model", input_example=labelled[["tenure", "tickets"]].head()
        ).model_uri
    target = holdout.assign(churned=np.where(holdout["churned"] == 1, "yes", "no"))
    result = lm.evaluate(uri, target, target="churned", shap_rows=5, permutation_repeats=2)
    assert result.task == "classification"
    assert result.metrics["accuracy"] > 0
    assert "roc_auc" not in result.metrics  # no probabilities
    assert any("SHAP values were not computed" in n for n in result.notices)
    assert result.explanations["permutation"]["features"]


def test_multiclass_metrics_and_explanations(data) -> None:
    train, holdout = data
    from sklearn.linear_model import LogisticRegression

    columns = ["tenure", "charges", "tickets"]
    model = LogisticRegression(max_iter=1000).fit(train[columns], train["plan"])
    with lm.start_run():
        uri = lm.log_model(model, "model", input_example=train[columns].head()).model_uri
    result = lm.evaluate(uri, holdout, target="plan", shap_rows=5, permutation_repeats=2)
    assert result.classes == ["basic", "plus", "pro"]
    assert result.metrics["accuracy"] == pytest.approx(
        accuracy_score(holdout["plan"], model.predict(holdout[columns]))
    )
    assert len(result.details["confusion_matrix"]["matrix"]) == 3
    assert "calibration" not in result.details
    assert any("3 classes has no single output" in n for n in result.notices)
    assert result.explanations["permutation"]["features"]
