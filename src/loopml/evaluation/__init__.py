"""Evaluation: metrics overall and per slice, fairness, explanations, baseline deltas, gates.

::

    import loopml as lm

    result = lm.evaluate("models:/churn@challenger", "holdout.parquet", target="churned",
                         slices=["country", "age >= 65"], sensitive_features=["gender"],
                         baseline="models:/churn@champion")
    result.metrics["f1"], result.baseline.deltas["f1"], result.notices

    check_gates(result, ["min:f1:0.8", "regression:roc_auc:0.01:slices", "signature"])
    lm.promote("churn", 7, "champion",
               gates=evaluation_gates("holdout.parquet", target="churned",
                                      checks=[MinMetric("f1", 0.8), MaxRegression("f1", 0.01)]))

Results are logged to the active run (metrics, ``evaluation/evaluation.json``
and plots); ``loopml ci report`` and ``loopml ci gate`` build on the same calls.
"""

from loopml.evaluation._evaluate import evaluate
from loopml.evaluation._gates import (
    GATE_SYNTAX,
    Check,
    MaxFairnessDifference,
    MaxLatency,
    MaxMetric,
    MaxRegression,
    MinMetric,
    SignatureCompatible,
    as_check,
    check_from_dict,
    check_gates,
    parse_check,
)
from loopml.evaluation._promotion import EvaluationGate, evaluation_gates
from loopml.evaluation._record import evaluation_metrics, log_evaluation
from loopml.evaluation._result import Comparison, Evaluation

__all__ = [
    "GATE_SYNTAX",
    "Check",
    "Comparison",
    "Evaluation",
    "EvaluationGate",
    "MaxFairnessDifference",
    "MaxLatency",
    "MaxMetric",
    "MaxRegression",
    "MinMetric",
    "SignatureCompatible",
    "as_check",
    "check_from_dict",
    "check_gates",
    "evaluate",
    "evaluation_gates",
    "evaluation_metrics",
    "log_evaluation",
    "parse_check",
]
