"""The demo's parts that need no server: its data, its folder rule, its timeline.

The whole loop runs in ``tests/e2e/test_closed_loop_demo.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from loopml.automation import PolicyEvent
from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings
from loopml.demo import FEATURES, STEPS, TARGET, Timeline, churn_frame
from loopml.demo._automation import show_event
from loopml.demo._model import fit, roc_auc
from loopml.demo._timeline import DONE, FAILED, PENDING, RUNNING
from loopml.quickstart import demo_folder


def test_the_data_is_reproducible_and_the_shift_hurts_the_old_model() -> None:
    before = churn_frame(1500, seed=1)
    assert before.equals(churn_frame(1500, seed=1))
    assert list(before.columns) == [*FEATURES, TARGET]
    after = churn_frame(1500, regime="drifted", seed=2)
    # Inputs move (what monitoring sees) ...
    assert after["monthly_charges"].mean() > before["monthly_charges"].mean() + 10
    assert after["tenure_months"].max() <= 30 < before["tenure_months"].max()
    assert "wallet" in set(after["payment"]) and "wallet" not in set(before["payment"])
    # ... and so does the relation to churn: retraining on new data wins on new data.
    params = {"kind": "logreg", "C": 1.0}
    old, new = fit(before, params), fit(after, params)
    fresh = churn_frame(1000, regime="drifted", seed=3)
    assert roc_auc(new, fresh) > roc_auc(old, fresh) + 0.05
    with pytest.raises(ValueError, match="rows must be positive"):
        churn_frame(0)


def test_a_demo_gets_a_fresh_folder_and_never_reuses_one_holding_data(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    first = demo_folder(settings)
    second = demo_folder(settings)
    assert first != second and first.parent == second.parent == tmp_path / "home" / "demo"
    (first / "summary.json").write_text("{}")
    with pytest.raises(InvalidArgument, match="not empty"):
        demo_folder(settings, first)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert demo_folder(settings, empty) == empty.resolve()


def _event(event_id: int, step: str, status: str, reason: str = "") -> PolicyEvent:
    return PolicyEvent(
        id=event_id,
        run_id=1,
        policy="churn-retrain",
        time_ms=int(time.time() * 1000),
        step=step,
        status=status,
        reason=reason or f"{step} {status}",
        links={},
    )


def test_policy_events_move_the_timeline_along_in_order() -> None:
    timeline = Timeline.of(STEPS)
    changes: list[str] = []
    timeline.on_change = lambda t: changes.append(t.status)
    show_event(timeline, _event(1, "trigger", "queued"))
    assert timeline.step("retrain").status == RUNNING
    show_event(timeline, _event(2, "training", "passed", "pipeline run x finished"))
    assert timeline.step("retrain").status == DONE
    assert timeline.step("gates").status == RUNNING  # evaluation follows training
    show_event(timeline, _event(3, "gates", "passed"))
    show_event(timeline, _event(4, "registration", "done", "registered version 2"))
    assert timeline.step("canary").status == RUNNING
    assert timeline.step("canary").detail == "registered version 2"
    show_event(timeline, _event(5, "canary", "progress", "39 requests"))
    assert timeline.step("canary").detail == "39 requests"
    show_event(timeline, _event(6, "promotion", "done", "version 2 is champion"))
    assert [timeline.step(k).status for k in ("gates", "canary", "promote")] == [DONE] * 3
    assert timeline.step("promote").detail == "version 2 is champion"
    assert len(timeline.events) == 6 and changes


def test_a_rollback_fails_the_canary_and_promotes_nothing() -> None:
    timeline = Timeline.of(STEPS)
    for event_id, (step, status) in enumerate(
        [("training", "passed"), ("gates", "passed"), ("canary", "started")], start=1
    ):
        show_event(timeline, _event(event_id, step, status))
    show_event(timeline, _event(9, "rollback", "done", "error rate 0.30 > 0.02"))
    assert timeline.step("canary").status == FAILED
    assert timeline.step("canary").detail == "error rate 0.30 > 0.02"
    assert timeline.step("promote").status == PENDING
