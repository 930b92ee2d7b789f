"""The pull-request comment: an evaluation, its gates and the data changes as Markdown.

Plain GitHub-flavoured Markdown that GitLab renders too: tables, a verdict line
first (what a reviewer reads), images referenced by relative path so the CI
job can upload the folder as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from loopml.evaluation import Evaluation
from loopml.store import GateResult

PASS, FAIL = "✅", "❌"
NONE = "\N{EN DASH}"
_PLOT_TITLES = {
    "confusion_matrix.png": "Confusion matrix",
    "roc.png": "ROC curve",
    "calibration.png": "Calibration",
    "residuals.png": "Residuals",
    "importance_permutation.png": "Permutation importance",
    "importance_shap.png": "SHAP importance",
}


def cell(value: Any) -> str:
    """A table cell: numbers to 4 significant digits, pipes and newlines escaped."""
    if value is None:
        return NONE
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def delta(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NONE
    return f"{value:+.4g}"


def table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _gates(results: Sequence[GateResult]) -> list[str]:
    if not results:
        return ["No gates are configured.", ""]
    return table(
        ["", "Gate", "Result"],
        [(PASS if r.passed else FAIL, r.gate, r.message) for r in results],
    )


def _metrics(evaluation: Evaluation) -> list[str]:
    base = evaluation.baseline
    names = [k for k in evaluation.metrics if k != "rows"]
    if base is None:
        return table(["Metric", "Candidate"], [(n, evaluation.metrics[n]) for n in names])
    return table(
        ["Metric", "Candidate", "Baseline", "Δ"],
        [(n, evaluation.metrics[n], base.metrics.get(n), delta(base.deltas.get(n))) for n in names],
    )


def _primary(evaluation: Evaluation) -> str:
    keys = ("f1", "accuracy") if evaluation.task == "classification" else ("rmse", "mae")
    return next((k for k in keys if k in evaluation.metrics), keys[0])


def _slices(evaluation: Evaluation) -> list[str]:
    if not evaluation.slices:
        return []
    metric = _primary(evaluation)
    base = evaluation.baseline
    rows = []
    for name, entry in evaluation.slices.items():
        value = (entry.get("metrics") or {}).get(metric)
        other = (base.slices.get(name) or {}) if base else {}
        rows.append(
            (
                name,
                entry.get("rows"),
                value,
                (other.get("metrics") or {}).get(metric),
                delta((other.get("deltas") or {}).get(metric)),
            )
        )
    return ["### Slices", "", *table(["Slice", "Rows", metric, "Baseline", "Δ"], rows)]


def _fairness(evaluation: Evaluation) -> list[str]:
    if not evaluation.fairness:
        return []
    rows = [
        (
            feature,
            len(entry.get("groups") or {}),
            entry.get("demographic_parity_difference"),
            entry.get("equalized_odds_difference"),
        )
        for feature, entry in evaluation.fairness.items()
    ]
    header = ["Sensitive feature", "Groups", "Demographic parity diff.", "Equalized odds diff."]
    return ["### Fairness", "", *table(header, rows)]


def _latency(evaluation: Evaluation) -> list[str]:
    base = evaluation.baseline.latency if evaluation.baseline else {}
    keys = [
        k
        for k in ("batch_ms_per_row", "single_row_ms_p50", "single_row_ms_p95")
        if k in evaluation.latency
    ]
    if not keys:
        return []
    rows = [(k.replace("_", " "), evaluation.latency[k], base.get(k)) for k in keys]
    return ["### Latency (ms)", "", *table(["", "Candidate", "Baseline"], rows)]


def _data(changes: dict[str, Any]) -> list[str]:
    lines = ["### Data changes since the baseline's training data", ""]
    if "notice" in changes:
        return [*lines, f"_{changes['notice']}_", ""]
    schema = changes["schema"]
    before, after = schema["rows_before"], schema["rows_after"]
    growth = f" ({(after - before) / before:+.1%})" if before else ""
    lines += [
        f"`{changes['baseline_data']}` → `{changes['candidate_data']}`",
        "",
        f"- rows: {before:,} → {after:,}{growth}",
        f"- columns added: {', '.join(schema['columns_added']) or 'none'}",
        f"- columns removed: {', '.join(schema['columns_removed']) or 'none'}",
    ]
    for change in schema["types_changed"]:
        lines.append(f"- `{change['column']}` type: {change['old']} → {change['new']}")
    result = changes.get("drift")
    if result:
        lines += [
            f"- drift: {result['number_of_drifted_columns']} of "
            f"{result['number_of_tested_columns']} "
            f"columns drifted (share {result['share']:.2f}; dataset drift: "
            f"{'yes' if result['dataset_drift'] else 'no'})",
            "",
        ]
        columns = sorted(result["columns"].values(), key=lambda c: (not c["drifted"], c["column"]))
        lines += table(
            ["Column", "Test", "Score", "Threshold", "Drifted"],
            [(c["column"], c["method"], c["score"], c["threshold"], c["drifted"]) for c in columns],
        )
    return [*lines, ""]


def _plots(evaluation: Evaluation) -> list[str]:
    names = [n for n in _PLOT_TITLES if n in evaluation.plots]
    names += sorted(n for n in evaluation.plots if n not in _PLOT_TITLES)
    if not names:
        return []
    lines = ["### Plots", ""]
    for name in names:
        lines.append(f"![{_PLOT_TITLES.get(name, name)}](plots/{name})")
    return [*lines, ""]


def render_report(
    evaluation: Evaluation, gates: Sequence[GateResult], changes: dict[str, Any]
) -> str:
    """The whole Markdown document."""
    failed = [g for g in gates if not g.passed]
    verdict = (
        f"{FAIL} **{len(failed)} of {len(gates)} gates failed**"
        if failed
        else f"{PASS} **all {len(gates)} gates passed**"
        if gates
        else "No gates configured"
    )
    base = evaluation.baseline.model if evaluation.baseline else "none"
    lines = [
        "## loopml model report",
        "",
        verdict,
        "",
        f"- candidate: `{evaluation.model}`",
        f"- baseline: `{base}`",
        f"- {evaluation.task} on {evaluation.rows:,} rows, target `{evaluation.target}`",
        "",
        "### Gates",
        "",
        *_gates(gates),
        "### Metrics",
        "",
        *_metrics(evaluation),
        *_slices(evaluation),
        *_fairness(evaluation),
        *_latency(evaluation),
        *_data(changes),
        *_plots(evaluation),
    ]
    if evaluation.notices:
        lines += ["### Notices", "", *[f"- {n}" for n in evaluation.notices], ""]
    return "\n".join(lines)
