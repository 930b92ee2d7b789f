"""Lineage nodes made from the services' records: one function per kind of object.

Ids are the URIs users already type (``models:/churn/3``, ``runs:/<id>``,
``loopml-dataset:/churn-train/2``, ``deployments:/churn``); objects without a
URI scheme of their own get one here (``monitors:/``, ``alert-rules:/``,
``policy-runs:/``, ``git:``, ``environments:/``). ``attributes["ui"]`` is the
UI page's path (names percent-encoded), None when the object has no page.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import quote

from loopml.automation import PolicyRun
from loopml.datasets import DatasetVersion
from loopml.deployments import Deployment
from loopml.governance._lineage_graph import LineageNode
from loopml.registry import AliasEvent, ModelVersion
from loopml.store import AlertEvent, AlertRule, Monitor, Run

RECENT_ALERTS = 5  # alert events shown on a rule node, newest first

# The tags runs carry that lineage reads (written by provenance, pipelines and tuning).
GIT_COMMIT = "mlflow.source.git.commit"
GIT_BRANCH = "mlflow.source.git.branch"
GIT_REPO = "mlflow.source.git.repoURL"
GIT_DIRTY = "loopml.git.dirty"
ENV_DIGEST = "loopml.env.digest"
ENV_PYTHON = "loopml.env.python"
ENV_PLATFORM = "loopml.env.platform"
PIPELINE_NAME = "loopml.pipeline.name"
TUNING_ROLE = "loopml.tuning.role"
TUNING_STUDY = "loopml.tuning.study"
STEP_NAME = "loopml.step.name"


def _seg(text: str) -> str:
    return quote(text, safe="")


def model_version_id(name: str, version: int) -> str:
    return f"models:/{name}/{version}"


def run_id_uri(run_id: str) -> str:
    return f"runs:/{run_id}"


def deployment_id(name: str) -> str:
    return f"deployments:/{name}"


def model_version_node(version: ModelVersion) -> LineageNode:
    return LineageNode(
        model_version_id(version.name, version.version),
        "model_version",
        f"{version.name} v{version.version}",
        {
            "name": version.name,
            "version": version.version,
            "aliases": list(version.aliases),
            "status": version.status,
            "created": version.creation_time,
            "user": version.user,
            "description": version.description,
            "source": version.source,
            "ui": f"/models/{_seg(version.name)}/versions/{version.version}",
        },
    )


def run_kind(run: Run) -> str:
    """``tuning_study`` and ``pipeline_run`` for the parent runs of studies and pipelines."""
    tags = run.data.tags
    if tags.get(TUNING_ROLE) == "study":
        return "tuning_study"
    if PIPELINE_NAME in tags and STEP_NAME not in tags:
        return "pipeline_run"
    return "run"


def run_node(run: Run) -> LineageNode:
    info, tags = run.info, run.data.tags
    kind = run_kind(run)
    label = info.run_name or info.run_id[:8]
    if kind == "tuning_study":
        label = f"study {tags.get(TUNING_STUDY, label)}"
    elif kind == "pipeline_run":
        label = f"pipeline {tags.get(PIPELINE_NAME, label)}"
    attributes: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "status": info.status,
        "start_time": info.start_time,
        "end_time": info.end_time,
        "user": info.user_id,
        "ui": f"/runs/{info.run_id}",
    }
    for key, tag in (("step", STEP_NAME), ("study", TUNING_STUDY), ("pipeline", PIPELINE_NAME)):
        if tag in tags:
            attributes[key] = tags[tag]
    return LineageNode(run_id_uri(info.run_id), kind, label, attributes)


def commit_node(run: Run) -> LineageNode | None:
    """The code the run ran: its git commit, and whether the work tree was dirty."""
    tags = run.data.tags
    commit = tags.get(GIT_COMMIT)
    if not commit:
        return None
    dirty = tags.get(GIT_DIRTY, "").lower() == "true"
    # A dirty tree is not the commit: each dirty run's code is its own node (its diff).
    node_id = f"git:{commit}" + (f"+dirty@{run.info.run_id}" if dirty else "")
    return LineageNode(
        node_id,
        "commit",
        commit[:12] + (" (dirty)" if dirty else ""),
        {
            "commit": commit,
            "dirty": dirty,
            "branch": tags.get(GIT_BRANCH, ""),
            "repo_url": tags.get(GIT_REPO, ""),
            "ui": f"/runs/{run.info.run_id}" if dirty else None,
        },
    )


def environment_node(run: Run) -> LineageNode | None:
    """The environment lock the run recorded, by its digest (shared by identical ones)."""
    tags = run.data.tags
    digest = tags.get(ENV_DIGEST)
    if not digest:
        return None
    python = tags.get(ENV_PYTHON, "")
    return LineageNode(
        f"environments:/{digest}",
        "environment",
        python or f"environment {digest[:12]}",
        {"digest": digest, "python": python, "platform": tags.get(ENV_PLATFORM, ""), "ui": None},
    )


def dataset_version_node(version: DatasetVersion) -> LineageNode:
    return LineageNode(
        version.uri,
        "dataset_version",
        f"{version.name} v{version.version}",
        {
            "name": version.name,
            "version": version.version,
            "content_id": version.content_id,
            "rows": version.rows,
            "size": version.size,
            "source": version.source,
            "created": version.creation_time,
            "user": version.user,
            "ui": f"/data/{_seg(version.name)}/{version.version}",
        },
    )


def deployment_node(deployment: Deployment) -> LineageNode:
    return LineageNode(
        deployment_id(deployment.name),
        "deployment",
        deployment.name,
        {
            "model_uri": deployment.model_uri,
            "canary_uri": deployment.canary_uri,
            "canary_weight": deployment.canary_weight,
            "shadow_uri": deployment.shadow_uri,
            "revision": deployment.revision,
            "updated": deployment.updated_time,
            "ui": f"/deployments/{_seg(deployment.name)}",
        },
    )


def monitor_node(monitor: Monitor) -> LineageNode:
    return LineageNode(
        f"monitors:/{monitor.name}",
        "monitor",
        monitor.name,
        {
            "deployment": monitor.deployment,
            "window": monitor.spec.get("window"),
            "last_window_end": monitor.last_window_end,
            "ui": f"/monitoring/{_seg(monitor.name)}",
        },
    )


def alert_rule_node(rule: AlertRule, deployment: str, recent: list[AlertEvent]) -> LineageNode:
    """A rule with its newest firings (no destinations: they hold secrets)."""
    return LineageNode(
        f"alert-rules:/{rule.name}",
        "alert_rule",
        rule.name,
        {
            "monitor": rule.monitor,
            "deployment": deployment,
            "condition": rule.condition,
            "enabled": rule.enabled,
            "recent_alerts": [
                {
                    "id": e.id,
                    "time": e.time,
                    "metric": e.metric,
                    "value": e.value,
                    "message": e.message,
                }
                for e in recent[:RECENT_ALERTS]
            ],
            "ui": f"/monitoring/{_seg(rule.monitor)}",
        },
    )


def alias_node(name: str, alias: str, holder: int | None, moves: list[AliasEvent]) -> LineageNode:
    """An alias a version held, with the moves that concern it (who, when, why, gates passed)."""
    return LineageNode(
        f"models:/{name}@{alias}",
        "alias",
        f"{name}@{alias}",
        {
            "name": name,
            "alias": alias,
            "holder": holder,
            "history": [
                {
                    "time": e.time,
                    "user": e.user,
                    "action": e.action,
                    "version": e.version,
                    "previous_version": e.previous_version,
                    "reason": e.reason,
                    "gates": [dataclasses.asdict(g) for g in e.gates],
                }
                for e in moves
            ],
            "ui": f"/models/{_seg(name)}",
        },
    )


def policy_run_node(run: PolicyRun) -> LineageNode:
    return LineageNode(
        f"policy-runs:/{run.id}",
        "policy_run",
        f"policy {run.policy} run {run.id}",
        {
            "policy": run.policy,
            "state": run.state,
            "reason": run.reason,
            "gates": list(run.details.get("gates", [])),
            "created": run.created_time,
            "finished": run.finished_time,
            "ui": None,
        },
    )
