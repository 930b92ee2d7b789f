"""The policy-run state machine: each call moves a run held by this worker as far as it can.

queued -> training -> evaluating -> gated -> registered -> canary, then
promoted, rolled_back or failed. Training and evaluation are bounded and run
here, synchronously, while a heartbeat thread keeps the lease; the canary
spans ticks, and each tick reads the deployment's prediction log since the
canary started. Every move is one transaction with its event
(``PolicyStore.transition``), so a worker that dies leaves a run in a
state the next tick understands: training/evaluating with a dead lease is
failed cleanly, a canary simply resumes.

Failures of the pipeline, the evaluation, the gates or the canary end the
run with the champion untouched and the reason recorded; only the
deployment's canary and the ``challenger`` alias (which the run itself set)
are cleared.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from loopml.automation._canary import PROMOTE, ROLLBACK, CanaryStats, canary_stats, verdict
from loopml.automation._policy import Policy
from loopml.core.clock import now_ms
from loopml.core.errors import InvalidState, LoopmlError, NotFound
from loopml.datasets import Datasets
from loopml.deployments import Deployments
from loopml.evaluation import check_gates, evaluate, evaluation_gates
from loopml.pipelines import PipelineRun, resolve_target, run_pipeline
from loopml.registry import GateContext, GateResult, Registry
from loopml.store import (
    NewPolicyEvent,
    PolicyRun,
    PolicyStore,
    RunStatus,
    Transition,
)
from loopml.store.policy_records import (
    CANARY,
    EVALUATING,
    FAILED,
    GATED,
    PROMOTED,
    QUEUED,
    REGISTERED,
    ROLLED_BACK,
    TRAINING,
)
from loopml.tracking import Client, get_client

log = logging.getLogger("loopml.automation")

CHAMPION, CHALLENGER = "champion", "challenger"


class _Stop(Exception):
    """A step ended the run (the transition is recorded already)."""

    def __init__(self, run: PolicyRun) -> None:
        super().__init__(run.reason)
        self.run = run


class _Verdict:
    """A gate that replays a verdict the run already reached on the same champion."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.name = str(result["gate"])
        self._result = GateResult(self.name, bool(result["passed"]), str(result["message"]))

    def __call__(self, context: GateContext) -> GateResult:
        return self._result

    def describe(self) -> dict[str, Any]:
        return {"type": "policy-evaluation", "gate": self.name}


class Advancer:
    """Advances the runs this worker holds (``owner``), with a heartbeat while it works."""

    def __init__(self, client: Client, store: PolicyStore, owner: str, lease_ms: int) -> None:
        self.client = client
        self.store = store
        self.owner = owner
        self.lease_ms = lease_ms
        self.registry = Registry(client, user="loopml-automation")
        self.deployments = Deployments(client)
        self.datasets = Datasets(client)

    # -- moving ---------------------------------------------------------------------------
    def _move(
        self,
        run: PolicyRun,
        state: str,
        step: str,
        status: str,
        why: str,
        *,
        links: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
        outcome: str | None = None,
        canary_started: int | None = None,
    ) -> PolicyRun:
        """One transition, its event carrying ``why`` and the links it adds."""
        added = {k: v for k, v in (links or {}).items() if v is not None}
        move = Transition(
            state=state,
            event=NewPolicyEvent(step, status, why, {**run.links, **added}),
            links=added,
            details=details or {},
            reason=outcome,
            canary_started=canary_started,
        )
        return self.store.transition(run.id, self.owner, move)

    def _fail(
        self,
        run: PolicyRun,
        step: str,
        why: str,
        *,
        links: dict[str, Any] | None = None,
        details: dict[str, Any] | None = None,
    ) -> _Stop:
        """End the run as failed (undoing its canary), champion untouched."""
        self._clear_canary(run)
        ended = self._move(
            run, FAILED, step, "failed", why, links=links, details=details, outcome=why
        )
        return _Stop(ended)

    def advance(self, run: PolicyRun) -> PolicyRun:
        """Move ``run`` (claimed by this worker) through every step it can take now."""
        policy = Policy.from_dict(run.spec)
        try:
            if run.state in (TRAINING, EVALUATING):  # found so: its worker died mid-step
                raise self._fail(
                    run,
                    "training" if run.state == TRAINING else "evaluation",
                    f"the server restarted (or its worker died) during {run.state}; "
                    "re-trigger the policy",
                )
            if run.state == QUEUED:
                run = self._train(run, policy)
            if run.state == EVALUATING:
                run = self._evaluate(run, policy)
            if run.state == GATED:
                run = self._register(run, policy)
            if run.state == REGISTERED:
                run = self._start_canary(run, policy)
            if run.state == CANARY:
                run = self._watch_canary(run, policy)
        except _Stop as stop:
            return stop.run
        return run

    # -- training -------------------------------------------------------------------------
    def _train(self, run: PolicyRun, policy: Policy) -> PolicyRun:
        data = self._training_data(run, policy)
        params = dict(policy.params)
        links: dict[str, Any] = {}
        if data is not None:
            params["dataset"] = data
            links["dataset"] = data
        run = self._move(
            run,
            TRAINING,
            "training",
            "started",
            f"running {policy.pipeline} ({policy.executor})",
            links=links,
        )
        if get_client().tracking_uri != self.client.tracking_uri:
            raise self._fail(
                run,
                "training",
                f"pipelines run on {get_client().tracking_uri}, the policy's store is "
                f"{self.client.tracking_uri}: point the SDK at the same store",
            )
        started: dict[str, str] = {}

        def record_start(run_id: str) -> None:
            # On the run at once: a worker dying mid-training leaves the link behind.
            started["run"] = run_id
            self._move(
                run,
                TRAINING,
                "training",
                "progress",
                f"pipeline run {run_id} started",
                links={"pipeline_run": run_id},
            )

        try:
            with self._heartbeat(run):
                pipeline = resolve_target(policy.pipeline, policy.workdir)
                result = run_pipeline(
                    pipeline,
                    params,
                    executor=policy.executor,
                    target=policy.pipeline,
                    raise_on_failure=False,
                    on_start=record_start,
                )
        except LoopmlError as exc:
            raise self._fail(
                run,
                "training",
                f"the pipeline did not run: {exc.message}",
                links={"pipeline_run": started.get("run")},
            ) from None
        except Exception as exc:  # the user's pipeline code failed while building
            raise self._fail(
                run,
                "training",
                f"the pipeline did not run: {type(exc).__name__}: {exc}",
                links={"pipeline_run": started.get("run")},
            ) from None
        links = {"pipeline_run": result.run_id}
        if result.status != RunStatus.FINISHED:
            raise self._fail(run, "training", f"the pipeline failed: {result.error}", links=links)
        try:
            source = _model_source(result, policy)
        except LoopmlError as exc:
            raise self._fail(run, "training", exc.message, links=links) from None
        return self._move(
            run,
            EVALUATING,
            "training",
            "passed",
            f"pipeline run {result.run_id} finished",
            links=links,
            details={"candidate_source": source},
        )

    def _training_data(self, run: PolicyRun, policy: Policy) -> str | None:
        name = policy.training_dataset
        if name is None:
            return None
        fired = run.trigger.get("dataset")
        if isinstance(fired, str) and fired.partition("@")[0] == name:
            return fired
        try:
            return f"{name}@{self.datasets.latest(name).version}"
        except NotFound as exc:
            raise self._fail(run, "training", exc.message) from None

    # -- evaluation and gates -------------------------------------------------------------
    def _evaluate(self, run: PolicyRun, policy: Policy) -> PolicyRun:
        source = run.details["candidate_source"]
        try:
            champion = self.registry.get_model_version_by_alias(policy.model, CHAMPION).version
        except NotFound:
            champion = None
        # The exact version read above: the verdict is about that champion.
        baseline = None if champion is None else f"models:/{policy.model}/{champion}"
        try:
            holdout = self.datasets.get(policy.holdout)
            evaluation_run = self._evaluation_run(run)
        except LoopmlError as exc:
            raise self._fail(run, "evaluation", f"the evaluation failed: {exc.message}") from None
        try:
            with self._heartbeat(run):
                self.datasets.log_input(holdout, evaluation_run, context="evaluation")
                evaluation = evaluate(
                    source,
                    holdout,
                    target=policy.target,
                    task=policy.task,
                    slices=policy.slices,
                    sensitive_features=policy.sensitive_features,
                    baseline=baseline,
                    explain_model=False,
                    log=True,
                    run_id=evaluation_run,
                    client=self.client,
                )
        except Exception as exc:  # the candidate cannot be scored: the run ends here
            with contextlib.suppress(LoopmlError):
                self.client.set_terminated(evaluation_run, RunStatus.FAILED)
            words = exc.message if isinstance(exc, LoopmlError) else f"{type(exc).__name__}: {exc}"
            raise self._fail(
                run,
                "evaluation",
                f"the evaluation failed: {words}",
                links={"evaluation_run": evaluation_run},
            ) from None
        self.client.set_terminated(evaluation_run, RunStatus.FINISHED)
        results = check_gates(evaluation, policy.gates)
        gates = [{"gate": r.gate, "passed": r.passed, "message": r.message} for r in results]
        links = {
            "evaluation_run": evaluation_run,
            "holdout": f"{holdout.name}@{holdout.version}",
            "previous_champion": champion,
        }
        details = {
            "metrics": _finite(evaluation.metrics),
            "baseline_metrics": {}
            if evaluation.baseline is None
            else _finite(evaluation.baseline.metrics),
            "gates": gates,
        }
        failed = [g for g in gates if not g["passed"]]
        if failed:
            words = "; ".join(f"{g['gate']}: {g['message']}" for g in failed)
            raise self._fail(run, "gates", f"gates failed: {words}", links=links, details=details)
        passed = "; ".join(f"{g['gate']}: {g['message']}" for g in gates) or "no gates"
        return self._move(run, GATED, "gates", "passed", passed, links=links, details=details)

    def _evaluation_run(self, run: PolicyRun) -> str:
        parent = self.client.get_run(run.links["pipeline_run"])
        created = self.client.create_run(
            parent.info.experiment_id,
            tags={"loopml.policy": run.policy, "loopml.policy.run": str(run.id)},
            run_name="policy-evaluation",
            parent_run_id=parent.info.run_id,
        )
        return created.info.run_id

    # -- registration and canary ----------------------------------------------------------
    def _register(self, run: PolicyRun, policy: Policy) -> PolicyRun:
        try:
            version = self.registry.create_model_version(
                policy.model,
                run.details["candidate_source"],
                description=f"Trained by policy {policy.name!r}, run {run.id}.",
                tags={"loopml.policy": policy.name, "loopml.policy.run": str(run.id)},
            ).version
            self.registry.set_alias(
                policy.model,
                CHALLENGER,
                version,
                reason=f"policy {policy.name!r} run {run.id}: gates passed",
            )
        except LoopmlError as exc:
            raise self._fail(run, "registration", f"registration failed: {exc.message}") from None
        return self._move(
            run,
            REGISTERED,
            "registration",
            "done",
            f"registered version {version} of {policy.model!r} as {CHALLENGER}",
            links={"model_version": version},
        )

    def _start_canary(self, run: PolicyRun, policy: Policy) -> PolicyRun:
        uri = _challenger_uri(policy)
        try:
            deployment = self.deployments.get(policy.deployment)
            if deployment.canary_uri not in (None, uri):
                raise self._fail(
                    run,
                    "canary",
                    f"deployment {policy.deployment!r} already routes a canary to "
                    f"{deployment.canary_uri}; clear it and re-trigger",
                )
            self.deployments.update(
                policy.deployment, canary_uri=uri, canary_weight=policy.canary["weight"]
            )
        except LoopmlError as exc:
            raise self._fail(run, "canary", f"the canary did not start: {exc.message}") from None
        weight = policy.canary["weight"]
        return self._move(
            run,
            CANARY,
            "canary",
            "started",
            f"{weight:.0%} of {policy.deployment!r} traffic to version "
            f"{run.links['model_version']} ({uri})",
            canary_started=now_ms(),
        )

    def _watch_canary(self, run: PolicyRun, policy: Policy) -> PolicyRun:
        assert run.canary_started is not None
        now = now_ms()
        try:
            frame = self.deployments.read_predictions(
                policy.deployment, since_ms=run.canary_started, with_labels=False
            )
        except NotFound:
            frame = None
        version = str(run.links["model_version"])
        stats = CanaryStats(0, 0, 0.0, None) if frame is None else canary_stats(frame, version)
        decision, why = verdict(
            stats, (now - run.canary_started) / 1000, policy.canary, policy.limits
        )
        details = {"canary": stats.to_dict()}
        if decision == ROLLBACK:
            return self._rollback(run, policy, why, details)
        if decision == PROMOTE:
            return self._promote(run, policy, why, details)
        if run.details.get("canary", {}).get("requests") != stats.requests:
            run = self._move(run, CANARY, "canary", "progress", why, details=details)
        self.store.release(run.id, self.owner)  # any worker may take the next look
        return self.store.get_run(run.id)

    # -- endings --------------------------------------------------------------------------
    def _promote(
        self, run: PolicyRun, policy: Policy, why: str, details: dict[str, Any]
    ) -> PolicyRun:
        version = int(run.links["model_version"])
        reason = f"policy {policy.name!r} run {run.id}: {why}"
        try:
            result = self.registry.promote(
                policy.model,
                version,
                CHAMPION,
                gates=self._promotion_gates(run, policy),
                reason=reason,
            )
        except LoopmlError as exc:  # the champion moved meanwhile (InvalidState), ...
            return self._rollback(run, policy, f"promotion refused: {exc.message}", details)
        if not result.promoted:
            words = "; ".join(f"{r.gate}: {r.message}" for r in result.failures)
            return self._rollback(run, policy, f"promotion gates failed: {words}", details)
        champion_uri = f"models:/{policy.model}@{CHAMPION}"
        try:
            deployment = self.deployments.get(policy.deployment)
            changes: dict[str, Any] = {"canary_uri": None, "canary_weight": 0.0}
            if deployment.model_uri != champion_uri:
                changes["model_uri"] = champion_uri
            self.deployments.update(policy.deployment, **changes)
        except LoopmlError as exc:
            log.warning("Policy %s: the deployment was not updated: %s", policy.name, exc)
        self._drop_challenger(run, policy, f"{reason}; promoted to {CHAMPION}")
        return self._move(
            run,
            PROMOTED,
            "promotion",
            "done",
            f"version {version} is {CHAMPION} ({why})",
            outcome=f"promoted version {version}: {why}",
            details=details,
        )

    def _promotion_gates(self, run: PolicyRun, policy: Policy) -> list[Any]:
        """The run's verdicts when the champion is the one it was compared with, else anew."""
        try:
            current = self.registry.get_model_version_by_alias(policy.model, CHAMPION).version
        except NotFound:
            current = None
        if current == run.links.get("previous_champion"):
            return [_Verdict(g) for g in run.details.get("gates", [])]
        return list(
            evaluation_gates(
                self.datasets.read_frame(run.links["holdout"]),
                target=policy.target,
                checks=policy.gates,
                task=policy.task,
                slices=policy.slices,
                sensitive_features=policy.sensitive_features,
            )
        )

    def _rollback(
        self, run: PolicyRun, policy: Policy, why: str, details: dict[str, Any]
    ) -> PolicyRun:
        self._clear_canary(run)
        return self._move(
            run,
            ROLLED_BACK,
            "rollback",
            "done",
            f"challenger version {run.links.get('model_version')} rolled back: {why}",
            outcome=f"rolled back: {why}",
            details=details,
        )

    def _clear_canary(self, run: PolicyRun) -> None:
        """Undo what the run routed: the deployment's canary and the challenger alias."""
        if run.state not in (REGISTERED, CANARY):
            return
        policy = Policy.from_dict(run.spec)
        with contextlib.suppress(LoopmlError):  # only the canary this run routed
            if self.deployments.get(policy.deployment).canary_uri == _challenger_uri(policy):
                self.deployments.update(policy.deployment, canary_uri=None, canary_weight=0.0)
        self._drop_challenger(run, policy, f"policy {policy.name!r} run {run.id} ended")

    def _drop_challenger(self, run: PolicyRun, policy: Policy, reason: str) -> None:
        """Remove the ``challenger`` alias if it still points at this run's version."""
        with contextlib.suppress(LoopmlError):
            held = self.registry.get_model_version_by_alias(policy.model, CHALLENGER).version
            if held == run.links.get("model_version"):
                self.registry.delete_alias(policy.model, CHALLENGER, reason=reason)

    # -- the lease while working ----------------------------------------------------------
    @contextlib.contextmanager
    def _heartbeat(self, run: PolicyRun) -> Iterator[None]:
        stop = threading.Event()
        period = max(self.lease_ms / 4000, 0.05)

        def beat() -> None:
            while not stop.wait(period):
                try:
                    if not self.store.heartbeat(run.id, self.owner, now_ms()):
                        return
                except LoopmlError as exc:  # the database is away a moment: try again
                    log.warning("Policy run %s: heartbeat failed: %s", run.id, exc)

        thread = threading.Thread(target=beat, name=f"loopml-policy-{run.id}", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _model_source(result: PipelineRun, policy: Policy) -> str:
    """The ``runs:/`` URI of the candidate: a model output of the step, or a model it logged.

    ``model_output`` names an output of the step, or else a model the step's body
    logged itself (``lm.log_model(model, "model", input_example=...)``, which
    gives it a signature); a cached step's logged model is in the run it reused.
    """
    step = result.steps.get(policy.model_step)
    if step is None or step.run_id is None:
        raise InvalidState(
            f"The pipeline has no step {policy.model_step!r} that ran (steps: "
            f"{', '.join(result.steps) or 'none'}): set model_step."
        )
    outputs = step.outputs
    name = policy.model_output
    if name is None:
        models = [n for n, o in outputs.items() if o.get("format") == "model"]
        if len(models) != 1:
            raise InvalidState(
                f"Step {policy.model_step!r} has {len(models)} model outputs "
                f"({', '.join(outputs) or 'none'}): set model_output."
            )
        name = models[0]
    found = outputs.get(name)
    if found is None and policy.model_output is not None:
        origin = step.cached_from if step.cache_hit and step.cached_from else step.run_id
        return f"runs:/{origin}/{name}"
    if found is None or found.get("format") != "model":
        raise InvalidState(
            f"Output {name!r} of step {policy.model_step!r} is not a model "
            f"(outputs: {', '.join(outputs) or 'none'})."
        )
    return f"runs:/{step.run_id}/{found['path']}"


def _challenger_uri(policy: Policy) -> str:
    return f"models:/{policy.model}@{CHALLENGER}"


def _finite(metrics: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v
        for k, v in metrics.items()
        if isinstance(v, int | float)
        and not isinstance(v, bool)
        and v == v
        and abs(v) != float("inf")
    }
