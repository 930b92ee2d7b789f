"""``Deployments``: routing records, validated before anything is written."""

from __future__ import annotations

import pytest
from deployments_support import unique

from loopml.core.errors import AlreadyExists, InvalidArgument, NotFound
from loopml.deployments import Deployments

RUN = "0123456789abcdef0123456789abcdef"


def test_lifecycle_and_revisions(deployments: Deployments) -> None:
    name = unique("fraud")
    created = deployments.create(
        name,
        "models:/fraud@champion",
        canary_uri="models:/fraud@challenger",
        canary_weight=0.1,
        shadow_uri=f"runs:/{RUN}/model",
        description="cards",
    )
    assert (created.revision, created.canary_weight, created.description) == (1, 0.1, "cards")
    assert deployments.get(name) == created
    assert name in [d.name for d in deployments.list()]

    moved = deployments.update(name, model_uri="models:/fraud/4")
    assert moved.revision == 2 and moved.model_uri == "models:/fraud/4"
    assert moved.canary_uri == "models:/fraud@challenger" and moved.canary_weight == 0.1

    no_canary = deployments.update(name, canary_uri=None)  # the weight goes with it
    assert (no_canary.canary_uri, no_canary.canary_weight, no_canary.revision) == (None, 0.0, 3)
    no_shadow = deployments.update(name, shadow_uri=None, description="")
    assert (no_shadow.shadow_uri, no_shadow.description, no_shadow.revision) == (None, "", 4)

    deployments.delete(name)
    with pytest.raises(NotFound, match=name):
        deployments.get(name)
    assert name not in [d.name for d in deployments.list()]


@pytest.mark.parametrize(
    "bad_name", ["", " ", "a/b", "a:b", "..", ".", "a\x00b", "x" * 257, "a\nb", 5]
)
def test_invalid_names_are_refused(deployments: Deployments, bad_name: object) -> None:
    with pytest.raises(InvalidArgument, match="deployment name"):
        deployments.create(bad_name, "models:/m/1")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="deployment name"):
        deployments.get(bad_name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "uri",
    [
        "http://169.254.169.254/latest",
        "https://example.com/model",
        "file:///etc/passwd",
        "s3://bucket/model",
        "/tmp/model",
        "models:/",
        "models:/a/b/c",
        "models:/m@latest",
        "runs:/not-a-run/model",
        f"runs:/{RUN}/../../etc",
        "",
        None,
    ],
)
def test_only_model_and_run_uris_are_accepted(deployments: Deployments, uri: object) -> None:
    name = unique("uri")
    with pytest.raises(InvalidArgument):
        deployments.create(name, uri)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument):
        deployments.create(name, "models:/m/1", canary_uri=uri, canary_weight=0.5)  # type: ignore[arg-type]
    if uri is not None:
        with pytest.raises(InvalidArgument):
            deployments.create(name, "models:/m/1", shadow_uri=uri)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        deployments.get(name)  # nothing half-written


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), float("inf"), True, "0.5", None])
def test_weights_outside_zero_to_one_are_refused(deployments: Deployments, weight: object) -> None:
    name = unique("weight")
    with pytest.raises(InvalidArgument, match="canary_weight"):
        deployments.create(name, "models:/m/1", canary_uri="models:/m/2", canary_weight=weight)  # type: ignore[arg-type]
    with pytest.raises(NotFound):
        deployments.get(name)


def test_routing_rules_hold_on_create_and_update(deployments: Deployments) -> None:
    name = unique("route")
    with pytest.raises(InvalidArgument, match="canary"):
        deployments.create(name, "models:/m/1", canary_weight=0.2)
    with pytest.raises(NotFound):
        deployments.get(name)
    deployments.create(name, "models:/m/1", canary_uri="models:/m/2", canary_weight=1)
    with pytest.raises(InvalidArgument, match="canary"):
        deployments.update(name, canary_uri=None, canary_weight=0.5)
    with pytest.raises(InvalidArgument, match="Nothing to update"):
        deployments.update(name)
    with pytest.raises(InvalidArgument):
        deployments.update(name, model_uri="https://evil.example/model")
    assert deployments.get(name).revision == 1  # refused updates wrote nothing
    with pytest.raises(AlreadyExists, match=name):
        deployments.create(name, "models:/m/3")
    with pytest.raises(NotFound, match="ghost"):
        deployments.update(unique("ghost"), description="x")
    with pytest.raises(NotFound):
        deployments.delete(unique("ghost"))
