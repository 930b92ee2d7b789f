"""``loopml drift`` on real files: exit codes, the table, report files, option parsing."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from loopml.cli import _root, drift

RNG = np.random.default_rng(17)


def _app() -> typer.Typer:
    """Registered the way ``loopml.cli`` registers it, under the same root callback."""
    app = typer.Typer(pretty_exceptions_enable=False)
    app.callback()(_root)
    app.command("drift")(drift.drift)
    return app


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(_app(), ["drift", *args], env={"COLUMNS": "200"})
    assert "Traceback" not in result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    rows = 600
    cities = np.array(["paris", "berlin", "rome"])
    ref = pd.DataFrame({"age": RNG.normal(40, 8, rows), "city": cities[RNG.integers(0, 3, rows)]})
    shifted = pd.DataFrame(
        {"age": RNG.normal(55, 8, rows), "city": cities[RNG.choice(3, rows, p=[0.8, 0.1, 0.1])]}
    )
    ref.to_parquet(tmp_path / "ref.parquet")
    ref.sample(frac=1.0, random_state=1).to_csv(tmp_path / "same.csv", index=False)
    folder = tmp_path / "shifted"
    folder.mkdir()
    shifted.iloc[:300].to_parquet(folder / "part-0.parquet")
    shifted.iloc[300:].to_parquet(folder / "part-1.parquet")
    return {
        "ref": str(tmp_path / "ref.parquet"),
        "same": str(tmp_path / "same.csv"),
        "shifted": str(folder),
        "dir": str(tmp_path),
    }


def test_same_distribution_exits_0_with_a_table(files: dict[str, str]) -> None:
    code, out, err = _run(files["ref"], files["same"], "--fail-on-drift")
    assert code == 0, out + err
    assert "No dataset drift: 0 of 2 tested columns drifted" in out
    age_row = next(line for line in out.splitlines() if "age" in line)
    assert "numerical" in age_row and "ks" in age_row and "no" in age_row


def test_shifted_data_fails_with_reports(files: dict[str, str]) -> None:
    html, doc = Path(files["dir"]) / "drift.html", Path(files["dir"]) / "drift.json"
    code, out, err = _run(
        files["ref"], files["shifted"], "--fail-on-drift", "--html", str(html), "--json", str(doc)
    )
    assert code == 1, out + err
    assert "Dataset drift: 2 of 2 tested columns drifted" in out
    assert f"HTML report: {html}" in out and f"JSON report: {doc}" in out
    data = json.loads(doc.read_text(encoding="utf-8"))
    assert data["dataset_drift"] is True and set(data["columns"]) == {"age", "city"}
    assert html.read_text(encoding="utf-8").count('role="img"') == 2
    # without --fail-on-drift the same comparison is a report, not a failure
    assert _run(files["ref"], files["shifted"])[0] == 0


def test_options_map_onto_the_drift_call(files: dict[str, str]) -> None:
    doc = Path(files["dir"]) / "psi.json"
    code, out, err = _run(
        files["ref"],
        files["shifted"],
        "--json",
        str(doc),
        "--method",
        "age=psi",
        "--threshold",
        "age=5",
        "--columns",
        "age,city",
        "--stattest-threshold",
        "0.5",
        "--drift-share",
        "1.0",
    )
    assert code == 0, out + err
    columns = json.loads(doc.read_text(encoding="utf-8"))["columns"]
    assert columns["age"]["method"] == "psi" and columns["age"]["threshold"] == 5.0
    assert columns["age"]["drifted"] is False  # PSI of the shift is below 5
    assert columns["city"]["threshold"] == 0.5  # --stattest-threshold for the others
    assert "No dataset drift: 1 of 2 tested columns drifted" in out  # --drift-share 1.0

    code, out, _ = _run(files["ref"], files["shifted"], "--columns", "city")
    assert code == 0 and "of 1 tested columns" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--method", "age=nope"], "unknown drift method 'nope'"),
        (["--method", "age"], "--method 'age' is not COL=VALUE"),
        (["--method", "age=psi", "--method", "age=ks"], "given twice for column 'age'"),
        (["--threshold", "age=high"], "the threshold must be a number"),
        (["--method", "salary=psi"], "not in the reference data"),
        (["--method", "city=ks"], "does not apply to categorical columns"),
        (["--columns", " , "], "--columns is empty"),
        (["--drift-share", "2"], "drift_share must be between 0 and 1"),
    ],
)
def test_bad_options_exit_2_with_a_message(
    files: dict[str, str], args: list[str], message: str
) -> None:
    code, out, err = _run(files["ref"], files["shifted"], *args)
    assert code == 2, out + err
    assert message in err and "Error:" in err


def test_missing_or_unreadable_files_exit_2(files: dict[str, str]) -> None:
    code, _, err = _run(files["ref"], str(Path(files["dir"]) / "nothing.parquet"))
    assert code == 2 and "does not exist" in err
    notes = Path(files["dir"]) / "notes.txt"
    notes.write_text("not data", encoding="utf-8")
    code, _, err = _run(str(notes), files["ref"])
    assert code == 2 and "Unknown data format" in err
    code, _, err = _run(files["ref"], files["same"], "--html", str(notes / "x.html"))
    assert code == 2 and "could not write" in err
