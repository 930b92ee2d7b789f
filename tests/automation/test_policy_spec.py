"""Policies from Python, YAML and JSON: bad input is refused, by name, before anything is saved."""

from __future__ import annotations

from pathlib import Path

import pytest
from policy_world import PIPELINE, World

from loopml.automation import Policy, load_policy
from loopml.core.errors import InvalidArgument, NotFound

BASE = {
    "name": "retrain",
    "model": "churn",
    "deployment": "churn",
    "pipeline": PIPELINE,
    "holdout": "churn-holdout",
    "target": "churned",
}


def test_defaults_and_the_stored_form() -> None:
    policy = Policy.from_dict(
        {**BASE, "triggers": [{"type": "alert", "rule": "drift"}], "limits": {"min_requests": 5}}
    )
    assert policy.canary == {"weight": 0.1, "requests": 100, "max_seconds": 600.0}
    assert policy.limits == {"max_error_rate": 0.05, "max_latency_p95_ms": None, "min_requests": 5}
    assert policy.triggers == [{"type": "alert", "rules": ["drift"]}]
    assert Policy.from_dict(policy.to_dict()) == policy
    assert policy.training_dataset is None
    with_data = Policy.from_dict({**BASE, "triggers": [{"type": "dataset", "name": "train"}]})
    assert with_data.training_dataset == "train"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "no spaces"}, "Invalid policy name"),
        ({"pipeline": "not a target"}, "module:pipeline"),
        ({"gates": ["min:roc_auc"]}, "Invalid gate 'min:roc_auc'"),
        ({"gates": [{"type": "best"}]}, "Unknown gate type 'best'"),
        ({"triggers": [{"type": "webhook"}]}, "needs a type"),
        ({"triggers": [{"type": "schedule", "cron": "every day"}]}, "Invalid cron"),
        ({"triggers": [{"type": "alert"}]}, "names its rule"),
        ({"canary": {"weight": 0}}, "canary.weight must be above 0"),
        ({"canary": {"weight": 1.5}}, "between 0.0 and 1.0"),
        ({"canary": {"share": 0.1}}, "Unknown canary option"),
        ({"limits": {"max_error_rate": "low"}}, "must be a number"),
        ({"executor": "cluster"}, "Unknown executor"),
        ({"params": {"not valid": 1}}, "Invalid pipeline parameter name"),
        ({"holdout": "a@b@c"}, "Invalid holdout"),
        ({"colour": "red"}, "Unknown policy field(s) 'colour'"),
    ],
)
def test_bad_fields_are_refused_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("(", r"\(").replace(")", r"\)")):
        Policy.from_dict({**BASE, **changes})


def test_missing_fields_are_named() -> None:
    with pytest.raises(InvalidArgument, match="needs 'holdout', 'target'"):
        Policy.from_dict({k: v for k, v in BASE.items() if k not in ("holdout", "target")})


def test_yaml_files(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "name: retrain\nmodel: churn\ndeployment: churn\npipeline: policy_flows:training\n"
        "holdout: churn-holdout\ntarget: churned\ngates: ['regression:roc_auc:0.0']\n"
        "triggers:\n  - {type: schedule, cron: '0 3 * * *'}\n"
    )
    assert load_policy(path).gates == ["regression:roc_auc:0.0"]
    path.write_text("name: [unclosed\n")
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        load_policy(path)
    path.write_text("!!python/object/apply:os.system ['echo no']\n")
    with pytest.raises(InvalidArgument):
        load_policy(path)  # safe YAML: a file never runs code
    with pytest.raises(InvalidArgument, match="Cannot read"):
        load_policy(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"model": "nobody"}, NotFound, "nobody"),
        ({"deployment": "nowhere"}, NotFound, "nowhere"),
        ({"holdout": "no-such-data"}, NotFound, "no-such-data"),
        ({"dataset": "no-such-data"}, NotFound, "no-such-data"),
        ({"triggers": [{"type": "dataset", "name": "gone"}]}, NotFound, "gone"),
        ({"triggers": [{"type": "alert", "rule": "no-rule"}]}, NotFound, "no-rule"),
        ({"pipeline": "no_such_module:training"}, InvalidArgument, "no such module"),
        ({"pipeline": "policy_flows:missing"}, InvalidArgument, "has no 'missing'"),
    ],
)
def test_a_policy_naming_what_does_not_exist_is_refused_when_saved(
    world: World, changes: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        world.policies.create(world.policy(**changes))
    assert world.policies.list() == []


def test_bad_arguments_of_the_service(world: World) -> None:
    world.policies.create(world.policy())
    with pytest.raises(InvalidArgument, match="reason"):
        world.policies.trigger("retrain", reason="x" * 1001)
    with pytest.raises(NotFound, match="loopml policies list"):
        world.policies.trigger("other")
    with pytest.raises(InvalidArgument, match="limit"):
        world.policies.runs(limit=0)
    with pytest.raises(InvalidArgument, match="integer"):
        world.policies.get_run("1")  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        world.policies.events(run_id=42)
