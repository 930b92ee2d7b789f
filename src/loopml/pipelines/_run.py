"""``run_pipeline``: build a pipeline, open its parent run, run its DAG, say how it went.

A pipeline run is a parent run in the experiment named after the pipeline
(or a child of the caller's active run), with the pipeline's parameters as
params and its DAG as a tag; the ``Runner`` adds a child run per step. The
parent ends FINISHED, or FAILED with ``loopml.pipeline.error`` naming the
failed steps (``PipelineFailed`` is raised unless the caller opts out), or
KILLED on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Mapping
from typing import Any

from loopml.core.errors import AlreadyExists, InvalidArgument, InvalidState
from loopml.executors import check_choice
from loopml.pipelines import _tags as tags
from loopml.pipelines._build import Graph
from loopml.pipelines._cache import open_pipeline_store
from loopml.pipelines._formats import param_value
from loopml.pipelines._pipeline import Pipeline
from loopml.pipelines._records import PipelineFailed, PipelineRun, get_pipeline_run
from loopml.pipelines._runner import Runner, RunOptions
from loopml.pipelines._target import resolve_target
from loopml.store import Param, RunStatus
from loopml.tracking import (
    Client,
    active_run,
    capture_provenance,
    get_client,
    store_artifacts,
)


def _experiment_id(client: Client, name: str) -> str:
    experiment = client.get_experiment_by_name(name)
    if experiment is None:
        with contextlib.suppress(AlreadyExists):  # another process may create it first
            client.create_experiment(name)
        experiment = client.get_experiment_by_name(name)
        assert experiment is not None
    if experiment.lifecycle_stage != "active":
        raise InvalidState(
            f"Experiment {name!r} is deleted: restore it with `loopml experiments restore "
            f"{experiment.experiment_id}`, or run with experiment=<another name>."
        )
    return experiment.experiment_id


def _start_parent(
    client: Client, pipeline: Pipeline, graph: Graph, params: Mapping[str, Any], options: RunOptions
) -> tuple[str, str]:
    outer = active_run()
    if outer is not None and options.experiment is None:
        experiment_id = outer.info.experiment_id
    else:
        experiment_id = _experiment_id(client, options.experiment or pipeline.name)
    dag = json.dumps(graph.dag(), separators=(",", ":"))
    run_tags = {
        tags.PIPELINE: pipeline.name,
        tags.EXECUTOR: options.executor,
        tags.TARGET: options.target or pipeline.qualified_name,
        "mlflow.source.type": "LOCAL",
    }
    if len(dag) <= tags.MAX_TAG:
        run_tags[tags.DAG] = dag
    if options.schedule:
        run_tags[tags.SCHEDULE] = options.schedule
    # A top-level pipeline run records its code and environment, as lm.start_run does.
    captured = (
        capture_provenance() if outer is None and client.settings.capture_provenance else None
    )
    if captured is not None:
        run_tags = {**captured.tags, **run_tags}
    run = client.create_run(
        experiment_id,
        tags=run_tags,
        run_name=options.run_name,
        parent_run_id=outer.info.run_id if outer is not None else None,
    )
    run_id = run.info.run_id
    if captured is not None:
        store_artifacts(client, run_id, captured)
    client.log_batch(run_id, params=[Param(k, param_value(v)) for k, v in params.items()])
    if tags.DAG not in run_tags:
        client.log_text(run_id, dag, "pipeline/dag.json")
    return run_id, experiment_id


def run_pipeline(
    pipeline: Pipeline | str,
    params: Mapping[str, Any] | None = None,
    *,
    executor: str = "local",
    max_workers: int | None = None,
    ray_address: str | None = None,
    cache: bool = True,
    experiment: str | None = None,
    run_name: str | None = None,
    raise_on_failure: bool = True,
    target: str | None = None,
    schedule: str | None = None,
    on_start: Callable[[str], None] | None = None,
) -> PipelineRun:
    """Build and run a pipeline; return the run with every step's status and outputs.

    ``pipeline`` is a ``Pipeline`` or a ``"module:pipeline"`` target; ``params``
    are its parameters by name. ``executor`` is ``local`` (processes, up to
    ``max_workers`` steps at once), ``ray`` (``ray_address`` or a local Ray)
    or ``inline`` (this process, one step at a time). ``cache=False`` runs
    every step (``--no-cache``). The run is a parent run in the experiment
    named after the pipeline (or ``experiment``), or a child of the active
    run. A failed run raises ``PipelineFailed`` (whose ``run`` says what
    happened) unless ``raise_on_failure=False``.

    For the CLI and the scheduler: ``target`` is recorded as the run's
    ``module:pipeline``, ``schedule`` names the schedule that started it, and
    ``on_start(run_id)`` is called once the parent run exists.
    """
    options = RunOptions(
        executor=executor,
        max_workers=max_workers,
        ray_address=ray_address,
        cache=cache,
        experiment=experiment,
        run_name=run_name,
        raise_on_failure=raise_on_failure,
        target=target,
        schedule=schedule,
        on_start=on_start,
    )
    if isinstance(pipeline, str):
        options = dataclasses.replace(options, target=pipeline)
        pipeline = resolve_target(pipeline)
    if not isinstance(pipeline, Pipeline):
        raise InvalidArgument(
            f"run_pipeline runs a @pipeline function or a 'module:pipeline' target, not a "
            f"{type(pipeline).__name__}."
        )
    check_choice(executor, max_workers=max_workers, address=ray_address)
    values = pipeline.bind((), dict(params or {}))
    graph = pipeline.build(**values)
    client = get_client()
    store = open_pipeline_store(client)
    parent, experiment_id = _start_parent(client, pipeline, graph, values, options)
    runner = Runner(graph, client, store, parent, experiment_id, options)
    try:
        if options.on_start is not None:
            options.on_start(parent)
        runner.run()
    except BaseException as exc:
        status = RunStatus.KILLED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        runner.abort(status)
        with contextlib.suppress(Exception):
            client.set_tag(parent, tags.PIPELINE_ERROR, tags.tail(f"{type(exc).__name__}: {exc}"))
            client.set_terminated(parent, status)
        raise
    finally:
        runner.close()
    failed = runner.failures()
    message = None
    if failed:
        names = ", ".join(repr(s.node.name) for s in failed)
        details = "; ".join(f"{s.node.name}: {s.error}" for s in failed)
        word = "Step" if len(failed) == 1 else "Steps"
        message = tags.tail(f"{word} {names} failed ({details}).", 2000)
        client.set_tag(parent, tags.PIPELINE_ERROR, message)
    client.set_terminated(parent, RunStatus.FAILED if failed else RunStatus.FINISHED)
    result = get_pipeline_run(parent, client)
    if message is not None and raise_on_failure:
        raise PipelineFailed(
            f"Pipeline {pipeline.name!r} (run {parent}) failed: {message} `loopml pipelines "
            f"show {parent}` shows every step.",
            result,
        )
    return result
