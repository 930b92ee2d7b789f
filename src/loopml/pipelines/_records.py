"""Pipeline runs read back from the tracking store: what ``show`` and ``list`` display.

Everything comes from the runs themselves (the parent's tags and params,
each child's tags and status), so a pipeline run looks the same from the
SDK, the CLI and any MLflow-compatible client, during and after the run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from loopml.core.errors import InvalidArgument, InvalidState, LoopmlError, NotFound
from loopml.pipelines import _tags as tags
from loopml.pipelines._outputs import StoredOutput, load_output
from loopml.pipelines._step import check_name
from loopml.store import Run, RunStatus, ViewType
from loopml.tracking import Client, get_client

SKIPPED = "SKIPPED"
NOT_RUN = "NOT_RUN"  # no step run (yet): the pipeline stopped, or is still running


@dataclass(frozen=True)
class StepRun:
    """One step of a pipeline run: its run, status, cache hit and outputs."""

    name: str
    run_id: str | None
    status: str  # FINISHED, FAILED, SKIPPED, RUNNING, KILLED or NOT_RUN
    upstream: tuple[str, ...]
    cache_hit: bool = False
    cached_from: str | None = None
    outputs: dict[str, dict[str, str]] = field(default_factory=dict)
    error: str | None = None
    attempts: int = 0
    start_time: int | None = None
    end_time: int | None = None

    @property
    def duration_ms(self) -> int | None:
        if self.start_time is None or self.end_time is None:
            return None
        return self.end_time - self.start_time


@dataclass(frozen=True)
class PipelineRun:
    """A pipeline run: the parent run, its parameters and each step."""

    run_id: str
    pipeline: str
    experiment_id: str
    status: str
    params: dict[str, str]
    steps: dict[str, StepRun]
    error: str | None = None
    start_time: int | None = None
    end_time: int | None = None

    def output(
        self,
        step: str,
        name: str | None = None,
        *,
        allow_pickle: bool = False,
        client: Client | None = None,
    ) -> Any:
        """Load an output of a step (the only one when ``name`` is None).

        A pickled output loads only with ``allow_pickle=True`` (it can run code).
        """
        found = self.steps.get(step)
        if found is None:
            raise NotFound(
                f"Pipeline run {self.run_id} has no step {step!r}: it has "
                f"{', '.join(self.steps) or 'none'}."
            )
        if not found.outputs or found.run_id is None:
            raise InvalidState(
                f"Step {step!r} has no stored outputs (its status is {found.status})."
            )
        if name is None:
            if len(found.outputs) != 1:
                raise InvalidArgument(
                    f"Step {step!r} has several outputs ({', '.join(found.outputs)}): name one."
                )
            name = next(iter(found.outputs))
        summary = found.outputs.get(name)
        if summary is None:
            raise NotFound(
                f"Step {step!r} has no output {name!r}: it has {', '.join(found.outputs)}."
            )
        fmt, path = summary["format"], summary["path"]
        stored = StoredOutput(found.run_id, fmt, summary["id"], path, ((path, summary["id"], 0),))
        where = f"Output {name!r} of step {step!r}"
        return load_output(client or get_client(), stored, allow_pickle=allow_pickle, where=where)


class PipelineFailed(LoopmlError):
    """A pipeline run ended FAILED; ``run`` holds every step's status and error."""

    def __init__(self, message: str, run: PipelineRun) -> None:
        super().__init__(message)
        self.run = run


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def read_dag(client: Client, parent: Run) -> dict[str, list[str]]:
    """The pipeline's DAG as recorded on its run (the tag, or the artifact when it was long)."""
    text = parent.data.tags.get(tags.DAG)
    if text is None:
        try:
            _, reader = client.open_artifact(parent.info.run_id, "pipeline/dag.json")
        except LoopmlError:
            return {}
        with reader:
            text = reader.read().decode()
    found = _json(text, {})
    return found if isinstance(found, dict) else {}


def _step(name: str, upstream: list[str], run: Run | None) -> StepRun:
    if run is None:
        return StepRun(name, None, NOT_RUN, tuple(upstream))
    t = run.data.tags
    status = t.get(tags.STATUS) or run.info.status
    if run.info.status in (RunStatus.KILLED, RunStatus.FAILED) and status == RunStatus.RUNNING:
        status = run.info.status  # the process died before it could say so
    outputs = _json(t.get(tags.OUTPUTS), {})
    return StepRun(
        name=name,
        run_id=run.info.run_id,
        status=status,
        upstream=tuple(upstream),
        cache_hit=t.get(tags.CACHE_HIT) == "true",
        cached_from=t.get(tags.CACHED_FROM),
        outputs=outputs if isinstance(outputs, dict) else {},
        error=t.get(tags.ERROR) or t.get(tags.SKIPPED_BECAUSE),
        attempts=int(t.get(tags.ATTEMPTS, "0") or 0),
        start_time=run.info.start_time,
        end_time=run.info.end_time,
    )


def get_pipeline_run(run_id: str, client: Client | None = None) -> PipelineRun:
    """A pipeline run with each step, read from the tracking store."""
    client = client or get_client()
    parent = client.get_run(run_id)
    name = parent.data.tags.get(tags.PIPELINE)
    if name is None:
        raise InvalidArgument(
            f"Run {run_id} is not a pipeline run: `loopml pipelines list` shows pipeline runs."
        )
    children: dict[str, Run] = {}
    for child in client.search_runs(
        [parent.info.experiment_id],
        f"tags.`{tags.PARENT}` = '{run_id}'",
        ViewType.ALL,
        max_results=10_000,
        order_by=["attributes.start_time ASC"],
    ):
        step = child.data.tags.get(tags.STEP)
        if step is not None:
            children[step] = child  # the latest run of a step name wins
    dag = read_dag(client, parent)
    steps = {n: _step(n, up, children.get(n)) for n, up in dag.items()}
    for n, child in children.items():  # steps missing from the DAG record (none normally)
        steps.setdefault(n, _step(n, [], child))
    return PipelineRun(
        run_id=parent.info.run_id,
        pipeline=name,
        experiment_id=parent.info.experiment_id,
        status=parent.info.status,
        params=dict(parent.data.params),
        steps=steps,
        error=parent.data.tags.get(tags.PIPELINE_ERROR),
        start_time=parent.info.start_time,
        end_time=parent.info.end_time,
    )


def list_pipeline_runs(
    pipeline: str | None = None, max_results: int = 20, client: Client | None = None
) -> list[PipelineRun]:
    """The most recent pipeline runs (of ``pipeline``, or of any), newest first.

    Steps are not read (``get_pipeline_run`` does that for one run).
    """
    client = client or get_client()
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 1:
        raise InvalidArgument(f"max_results must be an int >= 1, not {max_results!r}.")
    experiments: list[str] = []
    token: str | None = None
    while True:
        page = client.search_experiments(max_results=1000, page_token=token)
        experiments.extend(e.experiment_id for e in page)
        token = page.token
        if not token:
            break
    condition = f"tags.`{tags.PIPELINE}` IS NOT NULL"
    if pipeline is not None:
        condition = f"tags.`{tags.PIPELINE}` = '{check_name(pipeline, 'pipeline')}'"
    runs = client.search_runs(
        experiments, condition, max_results=max_results, order_by=["attributes.start_time DESC"]
    )
    return [
        PipelineRun(
            run_id=r.info.run_id,
            pipeline=r.data.tags.get(tags.PIPELINE, ""),
            experiment_id=r.info.experiment_id,
            status=r.info.status,
            params=dict(r.data.params),
            steps={},
            error=r.data.tags.get(tags.PIPELINE_ERROR),
            start_time=r.info.start_time,
            end_time=r.info.end_time,
        )
        for r in runs
    ]
