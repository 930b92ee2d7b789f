"""The models pages in a real browser: versions, lineage, promote and roll back with gates.

Promotion and rollback are POST forms with a review step: the review changes
nothing and shows every gate's verdict; only the confirmation moves the alias,
and only when the alias still has the holder the review showed. Forms posted
from another site are refused. Markup in user-supplied names stays text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from live_server import LiveServer
from ui_seed import XSS, SeededModel, seed_model, unique

from loopml.registry import Registry
from loopml.tracking import Client
from loopml.ui._models import model_filter, signature_summary, signature_tables


@pytest.fixture
def model(ui_client: Client, tmp_path: Path) -> SeededModel:
    """v1 (auc 0.80, champion), v2 (auc 0.90), v3 (auc 0.70): a name with markup in it."""
    return seed_model(ui_client, tmp_path, unique(XSS), (0.80, 0.90, 0.70))


def model_url(name: str) -> str:
    return f"/models/{quote(name, safe='')}"


def no_dialogs(page: Any) -> list[str]:
    """Any alert() (an injected script running) is recorded, and dismissed."""
    seen: list[str] = []

    def dismiss(dialog: Any) -> None:
        seen.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return seen


def test_models_list_and_model_page_show_versions_signatures_and_metrics(
    page: Any, model: SeededModel, shot: Callable[[Any, str], Path]
) -> None:
    dialogs = no_dialogs(page)
    page.goto("/models")
    page.get_by_label("Search models").fill(model.name)
    page.get_by_label("Search models").press("Enter")  # htmx swaps the list, pushes the URL
    page.wait_for_url("**/models?filter=*")
    assert page.locator("#models tbody tr").count() == 1
    page.goto("/models?filter=" + quote(model.name))  # the URL is shareable
    row = page.locator("#models tbody tr", has_text=model.name)
    assert row.count() == 1
    assert "champion → v1" in row.inner_text()
    row.get_by_role("link", name=model.name).click()
    page.wait_for_url("**" + model_url(model.name))
    assert page.locator("h1").inner_text() == model.name  # the markup is text
    assert page.locator("main img").count() == 0
    versions = page.locator("#versions tbody tr")
    assert versions.count() == 3
    assert versions.nth(0).inner_text().startswith("v3")  # newest first
    assert "x: double, y: long" in versions.nth(0).inner_text()
    assert "0.9" in versions.nth(1).inner_text()  # auc of v2's run
    assert page.locator("#versions thead").inner_text().count("auc") == 1
    history = page.locator(".alias-history tbody tr")
    assert history.count() == 1 and "first release" in history.inner_text()
    shot(page, "model")
    assert dialogs == []


def test_version_page_shows_signature_files_and_lineage_to_data(
    page: Any, model: SeededModel
) -> None:
    page.goto(model_url(model.name) + "/versions/3")
    inputs = page.locator(".signature-inputs tbody tr")
    assert [inputs.nth(i).inner_text().split("\t")[0] for i in range(2)] == ["x", "y"]
    assert "MLmodel" in page.locator("#files").inner_text()
    lineage = page.locator("#lineage")
    assert model.runs[-1][:8] in lineage.inner_text()
    assert lineage.locator(f'a[href="/runs/{model.runs[-1]}"]').count() == 1
    dataset, version = model.dataset.split("@")
    lineage.get_by_role("link", name=f"{dataset} v{version}").click()
    page.wait_for_url(f"**/data/{dataset}/{version}")
    assert page.locator("#profile tbody tr").count() == 3  # x, city, y


def test_promote_reviews_the_gates_then_moves_the_alias_on_confirm(
    page: Any, model: SeededModel, ui_client: Client, shot: Callable[[Any, str], Path]
) -> None:
    registry = Registry(ui_client)
    page.goto(model_url(model.name))
    form = page.locator("#promote form")
    form.locator("select[name=version]").select_option("2")
    form.locator("input[name=metric]").fill("auc")
    form.locator("input[name=reason]").fill("better auc")
    form.get_by_role("button", name="Check gates…").click()
    page.wait_for_selector("#gate-results")
    results = page.locator("#gate-results tbody tr")
    assert results.count() == 2
    text = page.locator("#gate-results").inner_text()
    assert "signature" in text and "metric:auc" in text and "failed" not in text
    assert "0.9 passes the bar >= 0.8" in text
    shot(page, "promote-review")
    # The review changed nothing.
    assert registry.get_registered_model(model.name).aliases == {"champion": 1}
    page.get_by_role("button", name="Confirm: promote v2").click()
    page.wait_for_selector("#outcome")
    assert page.locator("#outcome").inner_text() == "Promoted: champion → v2"
    assert registry.get_registered_model(model.name).aliases == {"champion": 2}
    newest = registry.alias_history(model.name, "champion")[-1]
    assert (newest.action, newest.version, newest.reason) == ("promote", 2, "better auc")
    page.get_by_role("link", name=f"Back to {model.name}").click()
    assert "promote" in page.locator(".alias-history tbody tr").first.inner_text()


def test_a_failing_gate_shows_why_and_offers_no_confirmation(
    page: Any, model: SeededModel, ui_client: Client
) -> None:
    page.goto(model_url(model.name))
    form = page.locator("#promote form")
    form.locator("select[name=version]").select_option("3")
    form.locator("input[name=metric]").fill("auc")
    form.get_by_role("button", name="Check gates…").click()
    page.wait_for_selector("#refused")
    failed = page.locator("#gate-results tr.fail")
    assert failed.count() == 1
    assert "0.7 fails the bar >= 0.8" in failed.inner_text()
    assert page.get_by_role("button", name="Confirm: promote v3").count() == 0
    assert Registry(ui_client).get_registered_model(model.name).aliases == {"champion": 1}


def test_confirming_after_the_alias_moved_is_refused_with_a_message(
    page: Any, model: SeededModel, ui_client: Client
) -> None:
    registry = Registry(ui_client)
    page.goto(model_url(model.name))
    page.locator("#promote select[name=version]").select_option("2")
    page.get_by_role("button", name="Check gates…").click()
    page.wait_for_selector("#confirm")
    registry.set_alias(model.name, "champion", 3, reason="someone else")
    page.get_by_role("button", name="Confirm: promote v2").click()
    page.wait_for_selector("#form-error")
    page.js_errors.clear()  # the refusal answers 400, which the console reports
    assert "moved to version 3 since the review" in page.locator("#form-error").inner_text()
    assert registry.get_registered_model(model.name).aliases == {"champion": 3}


def test_rollback_reviews_then_moves_the_alias_back(
    page: Any, model: SeededModel, ui_client: Client
) -> None:
    registry = Registry(ui_client)
    registry.set_alias(model.name, "champion", 2, reason="v2 out")
    page.goto(model_url(model.name))
    page.locator("#aliases form.rollback button").click()
    page.wait_for_selector("#confirm")
    assert "now points at v2" in page.locator("#holder").inner_text()
    assert registry.get_registered_model(model.name).aliases == {"champion": 2}
    page.locator("#r-reason").fill("v2 broke")
    page.get_by_role("button", name="Confirm rollback").click()
    page.wait_for_selector("#outcome")
    assert page.locator("#outcome").inner_text() == "Rolled back: champion → v1"
    assert registry.get_registered_model(model.name).aliases == {"champion": 1}
    assert registry.alias_history(model.name, "champion")[-1].reason == "v2 broke"


def test_state_changes_need_a_same_site_post(
    ui_server: LiveServer, model: SeededModel, ui_client: Client
) -> None:
    url = ui_server.url + model_url(model.name)
    form = {"step": "confirm", "version": "2", "alias": "champion", "expected": "1"}
    forged = httpx.post(f"{url}/promote", data=form, headers={"Origin": "https://evil.example"})
    assert forged.status_code == 403
    assert "another site" in forged.text or "evil.example" in forged.text
    fetched = httpx.post(f"{url}/promote", data=form, headers={"Sec-Fetch-Site": "cross-site"})
    assert fetched.status_code == 403
    assert httpx.get(f"{url}/promote", params=form).status_code == 405
    rollback = httpx.post(
        f"{url}/aliases/champion/rollback",
        data={"step": "confirm", "expected": "1"},
        headers={"Origin": "null"},
    )
    assert rollback.status_code == 403
    assert Registry(ui_client).get_registered_model(model.name).aliases == {"champion": 1}


def test_bad_input_is_a_message_on_the_page(
    page: Any, ui_server: LiveServer, model: SeededModel
) -> None:
    url = ui_server.url + model_url(model.name)
    answer = httpx.post(
        f"{url}/promote", data={"step": "review", "version": "1", "metric": "auc:sideways"}
    )
    assert answer.status_code == 400
    assert 'id="form-error"' in answer.text and "Traceback" not in answer.text
    missing = httpx.get(ui_server.url + "/models/no-such-model")
    assert missing.status_code == 404 and "no-such-model" in missing.text
    bad = httpx.post(f"{url}/promote", data={"step": "review", "version": "x1"})
    assert bad.status_code == 400 and "Invalid version" in bad.text
    page.goto(model_url(model.name) + "/versions/99")
    page.js_errors.clear()
    assert "404" in page.locator("h1").inner_text()


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("fraud", "name ILIKE '%fraud%'"),
        ("o'neil", "name ILIKE '%o''neil%'"),
        ("tags.team = 'risk'", "tags.team = 'risk'"),
        ("name LIKE 'fr%'", "name LIKE 'fr%'"),
        ("  ", None),
    ],
)
def test_the_search_box_takes_words_or_the_filter_language(typed: str, sent: str | None) -> None:
    assert model_filter(typed) == sent


def test_signature_tables_read_mlflow_column_specs() -> None:
    signature = {
        "inputs": '[{"type": "double", "name": "x"}, {"type": "tensor", '
        '"tensor-spec": {"dtype": "float32", "shape": [-1, 4]}}]',
        "outputs": "not json",
    }
    assert signature_tables(signature) == {
        "inputs": [{"name": "x", "type": "double"}, {"name": "", "type": "tensor float32 [-1, 4]"}]
    }
    assert signature_summary(signature) == "x: double, tensor float32 [-1, 4]"
    assert signature_tables(None) == {}
