"""Pipelines: steps as plain functions, a DAG from data passing, cached and retried runs.

::

    import loopml as lm

    @lm.step
    def load(n: int) -> pd.DataFrame: ...

    @lm.step(retries=2, timeout=600)
    def train(frame: pd.DataFrame, alpha: float) -> Ridge: ...

    @lm.pipeline
    def training(n: int = 1000, alpha: float = 0.1):
        train(load(n), alpha)

    run = training.run(alpha=0.5, executor="local")     # or lm.run_pipeline(training, {...})
    model = run.output("train")

A pipeline run is a parent run; each step execution is a child run with its
params, metrics, captured output (``logs/step.log``) and outputs (stored by
type: Parquet, ``.npy``, JSON, model folders; pickle only when allowed).
Unchanged steps are skipped and their outputs reused. Steps run on the
``local`` process pool, on ``ray`` or ``inline``; schedules run pipelines
from the server. ``loopml pipelines run|list|show|schedule`` is the CLI.
"""

from loopml.pipelines._build import Graph, Node
from loopml.pipelines._formats import FORMAT_VERSION, UnstorableOutput
from loopml.pipelines._pipeline import Pipeline, pipeline
from loopml.pipelines._records import (
    NOT_RUN,
    SKIPPED,
    PipelineFailed,
    PipelineRun,
    StepRun,
    get_pipeline_run,
    list_pipeline_runs,
)
from loopml.pipelines._run import run_pipeline
from loopml.pipelines._schedules import Schedules
from loopml.pipelines._step import Step, StepOptions, step
from loopml.pipelines._target import parse_params, resolve_target
from loopml.store import MissedRuns, Schedule

__all__ = [
    "FORMAT_VERSION",
    "NOT_RUN",
    "SKIPPED",
    "Graph",
    "MissedRuns",
    "Node",
    "Pipeline",
    "PipelineFailed",
    "PipelineRun",
    "Schedule",
    "Schedules",
    "Step",
    "StepOptions",
    "StepRun",
    "UnstorableOutput",
    "get_pipeline_run",
    "list_pipeline_runs",
    "parse_params",
    "pipeline",
    "resolve_target",
    "run_pipeline",
    "step",
]
