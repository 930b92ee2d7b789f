"""``loopml pipelines``, run as a user runs it: a real subprocess in the folder of their code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

LOOPML = str(Path(sys.executable).with_name("loopml"))

FLOWS = textwrap.dedent(
    """
    import loopml as lm
    from loopml.pipelines import pipeline, step

    @step
    def numbers(n: int) -> list:
        print("making", n, "numbers")
        return list(range(n))

    @step
    def total(values: list, scale: float = 1.0) -> float:
        lm.log_metric("count", len(values))
        return sum(values) * scale

    @step
    def boom(values: list) -> float:
        raise ZeroDivisionError("no way")

    @step
    def report(value: float) -> str:
        return f"total {value}"

    @pipeline
    def etl(n: int = 3, scale: float = 1.0):
        values = numbers(n)
        report(total(values, scale))

    @pipeline
    def broken(n: int = 3):
        values = numbers(n)
        report(boom(values))
        total(values)
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "flows.py").write_text(FLOWS)
    return folder


def _cli(*args: str, project: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")}
    env.update(
        LOOPML_HOME=str(project.parent / "home"),
        LOOPML_TRACKING_URI=f"sqlite:///{project.parent / 'cli.db'}",
        COLUMNS="200",
    )
    return subprocess.run(
        [LOOPML, *args], capture_output=True, text=True, env=env, cwd=project, timeout=300
    )


def test_run_show_and_list(project: Path) -> None:
    first = _cli("pipelines", "run", "flows:etl", "--param", "n=4", "--json", project=project)
    assert first.returncode == 0, first.stderr
    run = json.loads(first.stdout)
    assert run["status"] == "FINISHED" and run["params"] == {"n": "4", "scale": "1.0"}
    assert list(run["steps"]) == ["numbers", "total", "report"]

    again = _cli("pipelines", "run", "flows:etl", "-p", "n=4", project=project)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("cached") == 3 and "FINISHED" in again.stdout

    changed = _cli("pipelines", "run", "flows:etl", "-p", "n=4", "-p", "scale=2",
                   "--executor", "inline", "--json", project=project)  # fmt: skip
    steps = json.loads(changed.stdout)["steps"]
    assert [steps[n]["cache_hit"] for n in steps] == [True, False, False]

    shown = _cli("pipelines", "show", run["run_id"], project=project)
    assert shown.returncode == 0, shown.stderr
    for text in ("pipeline etl", run["run_id"], "numbers", "total", "report", "params: n=4"):
        assert text in shown.stdout
    listed = _cli("pipelines", "list", "--json", project=project)
    assert len(json.loads(listed.stdout)) == 3
    assert _cli("pipelines", "list", project=project).stdout.count("etl") == 3


def test_a_failed_run_exits_1_with_the_failed_step_named(project: Path) -> None:
    answer = _cli("pipelines", "run", "flows:broken", "--executor", "inline", project=project)
    assert answer.returncode == 1
    assert answer.stderr.startswith("Error: Pipeline 'broken' (run ")
    assert "Step 'boom' failed (boom: ZeroDivisionError: no way)" in " ".join(answer.stderr.split())
    assert "Traceback" not in answer.stderr
    for text in ("FAILED", "SKIPPED", "ZeroDivisionError: no way"):
        assert text in answer.stdout  # the tree of what happened


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("run", "nowhere:etl"), "Cannot import 'nowhere'"),
        (("run", "flows:nothing"), "has no 'nothing'; its pipelines: broken, etl"),
        (("run", "flows:numbers"), "not a pipeline"),
        (("run", "flows:etl", "-p", "epochs=3"), "has no parameter 'epochs'"),
        (("run", "flows:etl", "-p", "n=many"), "takes int values, not 'many'"),
        (("run", "flows:etl", "-p", "n"), "write key=value"),
        (("run", "flows:etl", "--executor", "spark"), "Unknown executor 'spark'"),
        (("run", "flows"), "Invalid target"),
        (("show", "0" * 32), "No run"),
        (("schedule", "nightly", "--cron", "daily", "--target", "flows:etl"), "Invalid cron"),
        (("schedule", "nightly", "--cron", "0 3 * * *", "--target", "flows"), "Invalid target"),
        (("schedule", "n", "--cron", "0 3 * * *", "--target", "a:b", "--missed", "x"), "run-once"),
        (("schedule", "remove", "ghost"), "No schedule named 'ghost'"),
    ],
)
def test_bad_input_is_one_clear_line(project: Path, args: tuple[str, ...], message: str) -> None:
    answer = _cli("pipelines", *args, project=project)
    assert answer.returncode == 1, answer.stdout
    assert answer.stderr.startswith("Error:") and "Traceback" not in answer.stderr
    assert message in " ".join(answer.stderr.split())


def test_schedule_list_and_remove(project: Path) -> None:
    created = _cli(
        "pipelines", "schedule", "nightly", "--cron", "0 3 * * *", "--target", "flows:etl",
        "--param", "n=10", "--missed", "run-once", "--json", project=project,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    record = json.loads(created.stdout)
    assert (record["target"], record["params"], record["missed"]) == (
        "flows:etl", {"n": "10"}, "run-once"
    )  # fmt: skip
    assert record["workdir"] == str(project.resolve())
    again = _cli("pipelines", "schedule", "nightly", "--cron", "0 4 * * *", "--target",
                 "flows:etl", project=project)  # fmt: skip
    assert again.returncode == 1 and "schedule remove nightly" in again.stderr
    listed = _cli("pipelines", "schedule", "list", project=project)
    assert "nightly" in listed.stdout and "flows:etl" in listed.stdout and "n=10" in listed.stdout
    removed = _cli("pipelines", "schedule", "remove", "nightly", project=project)
    assert removed.returncode == 0 and "Removed schedule nightly" in removed.stdout
    assert json.loads(_cli("pipelines", "schedule", "list", "--json", project=project).stdout) == []
