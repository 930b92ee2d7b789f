"""Every page at 1280 px and at 400 px: nothing wider than the window (tables scroll inside
their own box, the nav wraps), with a screenshot of each into the test output."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from runs_seed import Seeded
from ui_seed import SeededDeployment, SeededModel, seed_deployment, seed_model, unique

from loopml.tracking import Client


@pytest.fixture(scope="module")
def everything(
    ui_client: Client, seeded: Seeded, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("narrow")
    model: SeededModel = seed_model(ui_client, folder, unique("narrow-model"), (0.8, 0.9))
    dep: SeededDeployment = seed_deployment(ui_client, folder, model.name)
    name = quote(model.name, safe="")
    compare = "&".join(f"runs={r}" for r in seeded.run_ids[:3])
    return {
        "experiments": "/experiments",
        "runs": f"/experiments/{seeded.experiment_id}?col=params.optimizer&col=metrics.loss",
        "run": f"/runs/{seeded.detail}",
        "compare": f"/compare?{compare}",
        "models": "/models",
        "model": f"/models/{name}",
        "version": f"/models/{name}/versions/2",
        "deployments": "/deployments",
        "deployment": f"/deployments/{dep.name}",
        "monitoring": "/monitoring",
        "monitor": f"/monitoring/{dep.monitor}",
        "data": "/data",
        "dataset": "/data/" + model.dataset.split("@")[0],
        "dataset-version": "/data/" + model.dataset.replace("@", "/"),
    }


PAGES = (
    "experiments", "runs", "run", "compare", "models", "model", "version",
    "deployments", "deployment", "monitoring", "monitor", "data", "dataset", "dataset-version",
)  # fmt: skip


@pytest.mark.parametrize("width", [1280, 400])
@pytest.mark.parametrize("name", PAGES)
def test_page_fits_the_window(
    page: Any, everything: dict[str, str], name: str, width: int, shot: Any
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    response = page.goto(everything[name])
    assert response.status == 200
    page.wait_for_load_state("networkidle")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{name} is {overflow}px wider than a {width}px window"
    wide = page.evaluate(
        """() => Array.from(document.querySelectorAll('main table'))
              .filter(t => !t.closest('.table-wrap, .compare-table'))
              .filter(t => !t.classList.contains('u-legend'))
              .map(t => t.id || t.className)"""
    )
    assert wide == [], f"tables without a scrolling box on {name}: {wide}"
    nav = page.locator("header.topbar").bounding_box()
    assert nav is not None and nav["width"] <= width
    path: Path = shot(page, f"{name}-{width}")
    assert path.stat().st_size > 0
