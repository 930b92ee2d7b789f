"""The README's tour runs as written: copied out of the file, in a fresh folder and store."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def tour_code() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## A tour in one script", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "the README's tour has no python block"
    return match.group(1)


def test_the_readme_tour_runs(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LOOPML_")},
        "LOOPML_HOME": str(tmp_path / "home"),
        "LOOPML_CAPTURE_PROVENANCE": "false",
    }
    done = subprocess.run(
        [sys.executable, "-c", tour_code()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "True"  # promoted through the gate
    assert "income" in lines[-1]  # the shifted column drifted
    assert (tmp_path / "home" / "loopml.db").exists()
