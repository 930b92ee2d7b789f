"""Runs table paging (next, previous, the range shown) and the column chooser's full key list.

The chooser lists every key of the experiment (from ``Client.run_keys``, the key
indexes only), not only those of the page shown; a search box narrows hundreds of keys.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect
from runs_seed import Seeded

from loopml.store import LifecycleStage, Metric, NewRun, Param, RunTag, TrackingStore
from loopml.tracking import Client


def test_pages_go_forward_and_back_and_say_which_runs_they_show(
    page: Any, seeded: Seeded, shot: Any
) -> None:
    trials = "filter=attributes.run_name+LIKE+%27trial-%25%27"
    page.goto(f"/experiments/{seeded.experiment_id}?size=25&sort=run_name&desc=false&{trials}")
    names = page.locator("#runs tbody tr td:nth-child(2)")
    assert page.locator("#page-range").inner_text() == "runs 1\u201325 · page 1"
    assert page.locator("#previous-page").count() == 0
    page.click("#next-page")
    page.wait_for_url(re.compile(r"page="))
    expect(page.locator("#page-range")).to_contain_text("26")
    assert names.first.inner_text() == "trial-025"
    page.click("#next-page")
    expect(page.locator("#page-range")).to_contain_text("51")
    assert page.locator("#page-range").inner_text() == "runs 51\u201360 · page 3"
    assert page.locator("#next-page").count() == 0
    third = page.url
    page.click("#previous-page")
    expect(page.locator("#page-range")).to_contain_text("26")
    assert names.first.inner_text() == "trial-025"
    shot(page, "page-2")
    page.click("#previous-page")
    expect(page.locator("#page-range")).to_contain_text("1\u201325")
    assert "page=" not in page.url  # the first page has the plain URL
    assert names.first.inner_text() == "trial-000"
    page.go_back()  # the back button walks the pages visited
    expect(page.locator("#page-range")).to_contain_text("26")
    page.goto(third)  # a shared link opens the same page
    assert page.locator("#page-range").inner_text() == "runs 51\u201360 · page 3"
    assert page.locator("#runs tbody tr td:nth-child(2)").first.inner_text() == "trial-050"


def test_an_invalid_page_token_is_a_clear_error(page: Any, seeded: Seeded) -> None:
    response = page.goto(f"/experiments/{seeded.experiment_id}?page=not-a-token")
    page.js_errors.clear()
    assert response.status == 400
    assert "Invalid page token" in page.locator(".message").inner_text()


@pytest.fixture(scope="module")
def wide(ui_client: Client) -> str:
    """An experiment of 30 runs over 500 keys: each run has a slice of them."""
    experiment = ui_client.create_experiment(f"wide-{uuid.uuid4().hex[:8]}")
    ui_client.create_runs(
        experiment,
        [
            NewRun(
                run_name=f"w{i:02d}",
                start_time=1_700_000_000_000 + i,
                metrics=tuple(
                    Metric(f"m{k:03d}", float(k), 0, 0) for k in range(i * 10, i * 10 + 10)
                ),
                params=tuple(Param(f"p{k:03d}", str(k)) for k in range(i * 6, i * 6 + 6)),
                tags=(RunTag(f"t{i:02d}", "x"),),
            )
            for i in range(30)
        ],
    )
    return experiment


def test_the_chooser_offers_every_key_of_the_experiment_and_finds_one(
    page: Any, wide: str, shot: Any
) -> None:
    page.goto(f"/experiments/{wide}?size=25&sort=run_name&desc=false")
    assert page.locator("#runs tbody tr").count() == 25  # w00..w24: w29's keys are not shown
    page.click("#column-chooser summary")
    page.wait_for_selector("[data-column-find]")
    options = page.locator(".column-option")
    assert options.count() == 300 + 180 + 30
    assert page.locator('.column-option input[value="metrics.m295"]').count() == 1
    page.fill("[data-column-find]", "m29")
    assert page.locator(".column-option:visible").count() == 10
    assert page.locator("[data-column-count]").inner_text() == "10 match"
    page.fill("[data-column-find]", "params.p17")
    assert page.locator(".column-option:visible").count() == 10  # p170..p179
    page.fill("[data-column-find]", "m295")
    page.check('#column-chooser input[value="metrics.m295"]')
    shot(page, "chooser")
    page.click("text=Show columns")
    page.wait_for_url(re.compile(r"col=metrics.m295"))
    assert page.locator("#runs thead th", has_text="m295").count() == 1
    page.go_back()
    page.wait_for_url(re.compile(r"desc=false$"))


def test_the_chooser_keeps_the_page_state_and_the_shown_columns(page: Any, wide: str) -> None:
    page.goto(
        f"/experiments/{wide}?size=25&col=params.p000&filter=attributes.run_name+%3D+%27w00%27"
    )
    page.click("#column-chooser summary")
    page.wait_for_selector("[data-column-find]")
    assert page.locator('#column-chooser input[value="params.p000"]').is_checked()
    page.check('#column-chooser input[value="tags.t00"]')
    page.click("text=Show columns")
    page.wait_for_url(re.compile(r"col=tags.t00"))
    assert "filter=attributes.run_name" in page.url
    assert page.locator("#runs tbody tr").count() == 1
    assert page.locator("#runs thead th", has_text="p000").count() == 1


def test_run_keys_lists_each_kind_from_the_key_indexes(store: Any) -> None:
    """SQLite and PostgreSQL agree with the base class's run-by-run default."""
    busy, other = store.create_experiment("busy"), store.create_experiment("other")
    store.create_runs(
        busy,
        [
            NewRun(run_name="a", start_time=1, metrics=(Metric("loss", 1.0, 0, 0),)),
            NewRun(
                run_name="b",
                start_time=2,
                metrics=(Metric("acc", 0.5, 0, 0), Metric("loss", 0.5, 0, 1)),
                params=(Param("lr", "0.1"),),
                tags=(RunTag("team", "x"),),
            ),
        ],
    )
    store.create_runs(other, [NewRun(run_name="c", start_time=3, params=(Param("depth", "3"),))])
    gone = store.create_runs(
        busy, [NewRun(run_name="gone", metrics=(Metric("old", 1.0, 0, 0),), start_time=4)]
    )
    store.set_run_lifecycle(gone[0], LifecycleStage.DELETED, 5)
    found = store.run_keys([busy])
    assert found["metrics"] == ["acc", "loss"]
    assert found["params"] == ["lr"]
    assert "team" in found["tags"] and "depth" not in found["params"]
    assert found == TrackingStore.run_keys(store, [busy])
    assert store.run_keys([busy], view_type="DELETED_ONLY")["metrics"] == ["old"]
    assert store.run_keys([busy, other])["params"] == ["depth", "lr"]
    assert store.run_keys([store.create_experiment("empty")]) == {
        "metrics": [],
        "params": [],
        "tags": [],
    }


def test_client_run_keys_takes_one_id_or_many(client: Client) -> None:
    experiment = client.create_experiment("keys")
    run = client.create_run(experiment)
    client.log_metric(run.info.run_id, "loss", 1.0, synchronous=False)  # queued, then seen
    assert client.run_keys(experiment)["metrics"] == ["loss"]
    assert client.run_keys([experiment], "ALL")["metrics"] == ["loss"]
