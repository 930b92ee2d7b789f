"""The CI steps: report on a candidate, gate it, and on merge register and promote it.

``report`` evaluates the candidate on the holdout data against the baseline,
checks the gates, summarises the training data's changes and writes
``report.md``, ``evaluation.json``, ``gates.json`` and ``plots/`` into one
folder (the job uploads it and posts the Markdown as the comment). ``gate``
re-reads that evaluation in a later step and decides. ``promote`` registers the
candidate and moves the alias only if the same gates pass against the alias's
holder at that moment.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.ci._config import CiConfig
from loopml.ci._data_changes import data_changes
from loopml.ci._markdown import render_report
from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument
from loopml.evaluation import (
    Check,
    Evaluation,
    check_gates,
    evaluate,
    evaluation_gates,
    log_evaluation,
)
from loopml.registry import PromotionResult, Registry, parse_runs_uri
from loopml.store import GateResult
from loopml.tracking import Client, get_client

REPORT_FILE = "report.md"
GATES_FILE = "gates.json"


@dataclass
class CiReport:
    """What ``report`` wrote, and what it found."""

    folder: Path
    evaluation: Evaluation
    gates: list[GateResult]
    changes: dict[str, Any]

    @property
    def markdown(self) -> Path:
        return self.folder / REPORT_FILE

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)


def _run_of(model: str) -> str | None:
    if model.startswith("runs:/"):
        return parse_runs_uri(model, "model")[0]
    return None


def report(config: CiConfig, out: str | os.PathLike[str], client: Client | None = None) -> CiReport:
    """Evaluate, gate and summarise the candidate into the folder ``out``."""
    config.require("model", "data", "target")
    assert config.model is not None and config.target is not None
    checks = config.checks()
    client = client if client is not None else get_client()
    evaluation = evaluate(
        config.model,
        config.path(config.data),
        target=config.target,
        task=config.task,
        slices=list(config.slices),
        sensitive_features=list(config.sensitive_features),
        baseline=config.baseline,
        log=False,
        trust_pickle=config.trust_pickle,
        client=client,
    )
    results = check_gates(evaluation, checks)
    _record(client, config.model, evaluation)
    baseline = config.baseline if evaluation.baseline is not None else None
    changes = data_changes(client, baseline, config.model, config.path(config.train_data))
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    evaluation.save(folder)
    write_text_atomic(folder / GATES_FILE, json.dumps([_gate_dict(r) for r in results], indent=2))
    write_text_atomic(folder / REPORT_FILE, render_report(evaluation, results, changes))
    return CiReport(folder, evaluation, results, changes)


def _record(client: Client, model: str, evaluation: Evaluation) -> str | None:
    """Log the evaluation as a child run of the candidate's (finished) training run."""
    parent_id = _run_of(model)
    if parent_id is None:
        return None
    parent = client.get_run(parent_id)
    run = client.create_run(
        parent.info.experiment_id,
        run_name="ci-evaluation",
        parent_run_id=parent_id,
        tags={"loopml.evaluation.model": model},
    )
    try:
        log_evaluation(client, run.info.run_id, evaluation)
    except BaseException:
        client.set_terminated(run.info.run_id, "FAILED")
        raise
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def _gate_dict(result: GateResult) -> dict[str, Any]:
    return {"gate": result.gate, "passed": result.passed, "message": result.message}


def gate(evaluation_path: str | os.PathLike[str], checks: list[Check]) -> list[GateResult]:
    """The gates' verdicts on a saved evaluation (the folder ``report`` wrote, or its JSON)."""
    if not checks:
        raise InvalidArgument("No gates to check: pass --gate or list 'gates' in loopml-ci.yaml.")
    return check_gates(Evaluation.load(evaluation_path), checks)


def promote(config: CiConfig, client: Client | None = None) -> PromotionResult:
    """Register the candidate as a new version and promote it through the gates."""
    config.require("model", "register_name", "data", "target")
    assert config.model and config.register_name and config.target
    if not config.model.startswith("runs:/"):
        raise InvalidArgument(
            f"Only a run's model can be registered: give --model runs:/<run id>/<path>, "
            f"not {config.model!r}."
        )
    registry = Registry(client if client is not None else get_client())
    version = registry.create_model_version(
        config.register_name, config.model, run_id=_run_of(config.model)
    )
    gates = evaluation_gates(
        config.path(config.data) or "",
        target=config.target,
        checks=config.checks(),
        task=config.task,
        slices=list(config.slices),
        sensitive_features=list(config.sensitive_features),
        trust_pickle=config.trust_pickle,
    )
    return registry.promote(
        config.register_name,
        version.version,
        config.alias,
        gates,
        reason="loopml ci promote: gates passed on merge",
    )
