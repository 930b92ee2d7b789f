"""Running a pipeline's DAG: the cache, the executor, retries, failures.

The runner walks the DAG in waves. Every step whose upstream steps have
finished is ready; the cache keys of all ready steps are looked up in one
query, hits are recorded at once (child runs created in one write, their
outputs indexed from the earlier run: no process starts, no byte is
copied) and the rest are submitted to the executor, which is only created
when a step really has to run. A failed attempt is retried as the step
says; after the last one the step is FAILED, everything downstream of it is
SKIPPED (a child run KILLED with ``loopml.step.status=SKIPPED``, never run),
independent branches go on, and the pipeline run ends FAILED with a message
naming the step. Ctrl-C kills the running steps and ends every open run
KILLED.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from pathlib import Path

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidState, LoopmlError
from loopml.executors import Executor, get_executor
from loopml.pipelines import _tags as tags
from loopml.pipelines._build import Graph, Node, Ref, Value
from loopml.pipelines._cache import cache_key
from loopml.pipelines._formats import param_value
from loopml.pipelines._outputs import StoredOutput, outputs_from_json, outputs_to_json
from loopml.pipelines._worker import Input, StepOutcome, StepTask, execute_step, runner_environment
from loopml.store import (
    MAX_CACHE_LOOKUP,
    NewRun,
    Param,
    PipelineStore,
    RunStatus,
    RunTag,
    StepCacheEntry,
)
from loopml.tracking import Client

PENDING, RUNNING, WAITING = "PENDING", "RUNNING", "WAITING"
FINISHED, FAILED, SKIPPED, KILLED = "FINISHED", "FAILED", "SKIPPED", "KILLED"
DONE = frozenset({FINISHED, FAILED, SKIPPED, KILLED})


@dataclass
class _Step:
    node: Node
    status: str = PENDING
    run_id: str | None = None
    key: str | None = None
    attempt: int = 0
    retry_at: float | None = None
    future: Future[StepOutcome] | None = None
    task: StepTask | None = None
    outputs: dict[str, StoredOutput] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class RunOptions:
    """How to run a pipeline (``run_pipeline``'s keyword arguments)."""

    executor: str = "local"
    max_workers: int | None = None
    ray_address: str | None = None
    cache: bool = True
    experiment: str | None = None
    run_name: str | None = None
    raise_on_failure: bool = True
    target: str | None = None
    schedule: str | None = None
    on_start: Callable[[str], None] | None = None


class Runner:
    """Runs the steps of one pipeline run (see the module docstring)."""

    def __init__(
        self,
        graph: Graph,
        client: Client,
        store: PipelineStore,
        parent: str,
        experiment_id: str,
        options: RunOptions,
    ) -> None:
        self.graph = graph
        self.client = client
        self.store = store
        self.parent = parent
        self.experiment_id = experiment_id
        self.options = options
        self.steps = {name: _Step(graph.nodes[name]) for name in graph.order()}
        self.environment = runner_environment(client)
        self.logs = Path(tempfile.mkdtemp(prefix="loopml-pipeline-"))
        self._executor: Executor | None = None

    # -- the loop ------------------------------------------------------------------------
    def run(self) -> None:
        while any(s.status not in DONE for s in self.steps.values()):
            if self._advance():
                continue
            running = {s.future: s for s in self.steps.values() if s.status == RUNNING and s.future}
            retries = [
                s.retry_at for s in self.steps.values() if s.status == WAITING and s.retry_at
            ]
            if not running and not retries:
                raise InvalidState("The pipeline runner has nothing to wait for (a bug).")
            timeout = max(0.0, min(retries) - time.monotonic()) if retries else None
            done, _ = wait(running, timeout, return_when=FIRST_COMPLETED)
            for future in done:
                self._collect(running[future])

    def _advance(self) -> bool:
        """Resolve or start every ready step, and retry those whose delay is over."""
        now = time.monotonic()
        due = [s for s in self.steps.values() if s.status == WAITING and (s.retry_at or 0) <= now]
        for step in due:
            self._submit(step)
        ready = [
            s
            for s in self.steps.values()
            if s.status == PENDING
            and all(self.steps[u].status == FINISHED for u in s.node.upstream)
        ]
        if not ready:
            return bool(due)
        for step in ready:
            step.key = cache_key(step.node, self._inputs(step.node))
        wanted = [s for s in ready if self.options.cache and s.node.step.options.cache]
        keys = [s.key for s in wanted if s.key]
        hits: dict[str, StepCacheEntry] = {}
        for start in range(0, len(keys), MAX_CACHE_LOOKUP):  # one query per wave, in practice
            hits.update(self.store.lookup_step_cache(keys[start : start + MAX_CACHE_LOOKUP]))
        reused = [s for s in wanted if s.key in hits]
        self._record_hits(reused, hits)
        self._start([s for s in ready if s.status == PENDING])
        return True

    def _inputs(self, node: Node) -> dict[Ref, StoredOutput]:
        refs = [a for a in (*node.args, *node.kwargs.values()) if isinstance(a, Ref)]
        return {r: self.steps[r.node].outputs[r.output] for r in refs}

    # -- cache hits ------------------------------------------------------------------------
    def _record_hits(self, reused: list[_Step], hits: Mapping[str, StepCacheEntry]) -> None:
        if not reused:
            return
        now = now_ms()
        runs = []
        for step in reused:
            entry = hits[step.key or ""]
            step.outputs = outputs_from_json(entry.run_id, entry.outputs)
            extra = {
                tags.STATUS: FINISHED,
                tags.CACHE_HIT: "true",
                tags.CACHED_FROM: entry.run_id,
                tags.OUTPUTS: tags.tail(
                    json.dumps({k: v.summary() for k, v in step.outputs.items()})
                ),
            }
            runs.append(self._new_run(step, FINISHED, now, extra))
        for step, run_id in zip(
            reused, self.client.create_runs(self.experiment_id, runs), strict=True
        ):
            step.run_id = run_id
            try:
                for output in step.outputs.values():
                    self.client.index_artifacts(run_id, output.entries())
            except LoopmlError as exc:  # a blob is gone: run the step after all
                self.client.log_batch(
                    run_id,
                    tags=[
                        RunTag(tags.CACHE_HIT, "false"),
                        RunTag(tags.STATUS, RUNNING),
                        RunTag(tags.CACHED_FROM, f"(unusable: {exc.message[:200]})"),
                    ],
                )
                self.client.update_run(run_id, status=RunStatus.RUNNING)
                step.outputs = {}
                self._submit(step)
                continue
            step.outputs = {k: v.moved_to(run_id) for k, v in step.outputs.items()}
            step.status = FINISHED

    def _new_run(self, step: _Step, status: str, now: int, extra: dict[str, str]) -> NewRun:
        node = step.node
        run_tags = {
            tags.STEP: node.name,
            tags.UPSTREAM: json.dumps(list(node.upstream)),
            tags.CACHE_KEY: step.key or "",
            tags.CACHE_HIT: "false",
            **extra,
        }
        return NewRun(
            run_name=node.name,
            start_time=now,
            end_time=None if status == RUNNING else now,
            status=status if status != SKIPPED else KILLED,
            parent_run_id=self.parent,
            params=tuple(Param(k, param_value(v)) for k, v in node.params.items()),
            tags=tuple(RunTag(k, v) for k, v in run_tags.items()),
        )

    # -- executing -------------------------------------------------------------------------
    def _start(self, steps: list[_Step]) -> None:
        if not steps:
            return
        now = now_ms()
        runs = [self._new_run(s, RUNNING, now, {tags.STATUS: RUNNING}) for s in steps]
        for step, run_id in zip(
            steps, self.client.create_runs(self.experiment_id, runs), strict=True
        ):
            step.run_id = run_id
            self._submit(step)

    def _executor_for_run(self) -> Executor:
        if self._executor is None:
            self._executor = get_executor(
                self.options.executor,
                max_workers=self.options.max_workers,
                address=self.options.ray_address,
                preload=("loopml.pipelines._worker",),  # tracking, store: not in any timeout
            )
        return self._executor

    def _submit(self, step: _Step) -> None:
        node = step.node
        options = node.step.options
        step.attempt += 1
        inputs = self._inputs(node)

        def resolve(arg: Ref | Value) -> Value | Input:
            if isinstance(arg, Value):
                return arg
            producer = self.steps[arg.node].node.step.options
            where = f"Output {arg.output!r} of step {arg.node!r}"
            return Input(inputs[arg], producer.allow_pickle, where)

        assert step.run_id is not None
        step.task = StepTask(
            step=node.step,
            node=node.name,
            run_id=step.run_id,
            args=tuple(resolve(a) for a in node.args),
            kwargs={k: resolve(v) for k, v in node.kwargs.items()},
            attempt=step.attempt,
            attempts=options.attempts,
            environment=self.environment,
            origin_pid=os.getpid(),
            log_path=str(self.logs / f"{node.name}.log"),
        )
        step.status = RUNNING
        step.future = self._executor_for_run().submit(
            execute_step, step.task, timeout=options.timeout, resources=options.resources
        )

    def _collect(self, step: _Step) -> None:
        assert step.future is not None
        try:
            outcome = step.future.result()
        except Exception as exc:  # the executor's own failures: timeout, crash, transport
            text = getattr(exc, "message", None) or str(exc)
            outcome = StepOutcome(
                ok=False, error=f"{type(exc).__name__}: {text}", traceback=_format(exc)
            )
            self._record_lost_attempt(step, outcome)
        step.future = None
        if outcome.ok:
            step.status = FINISHED
            step.outputs = outcome.outputs
            if step.key and step.run_id:
                entry = StepCacheEntry(
                    step.key, step.run_id, step.node.name, outputs_to_json(outcome.outputs)
                )
                self.store.put_step_cache(entry)
            return
        options = step.node.step.options
        if outcome.retryable and step.attempt < options.attempts:
            step.status = WAITING
            step.retry_at = time.monotonic() + options.retry_delay
            return
        self._fail(step, outcome.error or "failed")

    def _record_lost_attempt(self, step: _Step, outcome: StepOutcome) -> None:
        """The worker died or was killed: say so on its run, with whatever it printed."""
        run_id = step.run_id
        assert run_id is not None and step.task is not None
        log = Path(step.task.log_path)
        if log.exists():
            with open(log, "rb") as stream:
                self.client.log_artifact_stream(run_id, stream, tags.LOG_FILE)
        self.client.log_text(run_id, outcome.traceback or "", tags.TRACEBACK_FILE)
        self.client.log_batch(
            run_id,
            tags=[
                RunTag(tags.STATUS, FAILED),
                RunTag(tags.ATTEMPTS, str(step.attempt)),
                RunTag(tags.ERROR, tags.tail(outcome.error or "", 1000)),
                RunTag(tags.TRACEBACK, tags.tail(outcome.traceback or "")),
            ],
        )
        self.client.set_terminated(run_id, RunStatus.FAILED)

    def _fail(self, step: _Step, error: str) -> None:
        step.status = FAILED
        step.error = error
        skipped = [
            self.steps[name]
            for name in self.graph.downstream(step.node.name)
            if self.steps[name].status == PENDING
        ]
        if not skipped:
            return
        now = now_ms()
        why = {
            tags.STATUS: SKIPPED,
            tags.SKIPPED_BECAUSE: f"upstream step {step.node.name!r} failed",
        }
        runs = [self._new_run(s, SKIPPED, now, why) for s in skipped]
        for other, run_id in zip(
            skipped, self.client.create_runs(self.experiment_id, runs), strict=True
        ):
            other.run_id = run_id
            other.status = SKIPPED

    # -- the end -----------------------------------------------------------------------------
    def failures(self) -> list[_Step]:
        return [s for s in self.steps.values() if s.status == FAILED]

    def abort(self, status: str) -> None:
        """Stop what runs (killing it) and end every open step run with ``status``."""
        if self._executor is not None:
            with contextlib.suppress(Exception):
                self._executor.shutdown(kill=True)
        for step in self.steps.values():
            if step.status in (RUNNING, WAITING) and step.run_id is not None:
                with contextlib.suppress(Exception):
                    self.client.set_tag(step.run_id, tags.STATUS, status)
                    self.client.set_terminated(step.run_id, status)
                step.status = KILLED

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown()
        shutil.rmtree(self.logs, ignore_errors=True)


def _format(exc: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(exc))
