"""loopml's drift decisions agree with Evidently's DataDriftPreset on the same data.

Evidently 0.7 does not import with pandas 3 (loopml's), so it runs in its own
venv, built once from ``requirements-evidently.txt`` into a cache folder
outside the checkout (``$XDG_CACHE_HOME/loopml-tests``, else
``~/.cache/loopml-tests``) and reused while that file is unchanged. Both sides
read the same seeded Parquet files: the five scenarios of the issue (no shift,
mean shift, variance shift, category shift, missing-value surge), each at a
small reference size (<= 1000 rows: K-S, chi-squared, Z-test) and a large one
(Wasserstein, Jensen-Shannon), several seeds each.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.monitoring import drift

pytestmark = pytest.mark.xdist_group("evidently")

HERE = Path(__file__).resolve().parent
REQUIREMENTS = HERE / "requirements-evidently.txt"
SIDE_SCRIPT = HERE / "evidently_side.py"
MIN_AGREEMENT = 0.95
SIZES = {"small": (600, 500), "large": (5000, 4000)}  # (reference rows, current rows)
SEEDS = (1, 2, 3)
COLORS = np.array(["red", "green", "blue", "black"])
FLAGS = np.array(["no", "yes"])
CITIES = np.array([f"city_{i:02d}" for i in range(12)])

Shift = Callable[[np.random.Generator, int], pd.DataFrame]


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "loopml-tests"


def _build_venv(venv: Path, log: Path) -> None:
    with log.open("w") as out:
        for cmd in (
            [sys.executable, "-m", "venv", str(venv)],
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-r", str(REQUIREMENTS)],
        ):
            if subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
                pytest.fail(
                    f"building the Evidently venv failed: {' '.join(cmd)}\n{tail}\n"
                    f"full log: {log}; fix the cause (network? package index?) and rerun"
                )


@pytest.fixture(scope="session")
def evidently_python() -> Path:
    """The Python of a venv with Evidently, keyed by the requirements file's hash.

    A lock serialises concurrent sessions; the ``.complete`` stamp is written
    only after pip succeeded, so an interrupted build is redone.
    """
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:16]
    cache = _cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    venv = cache / f"evidently-{digest}"
    with (cache / f"evidently-{digest}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / ".complete").exists():
            _build_venv(venv, cache / f"evidently-{digest}.log")
            (venv / ".complete").touch()
    return venv / "bin" / "python"


def _frame(
    rng: np.random.Generator,
    rows: int,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    colors: tuple[float, ...] = (0.4, 0.3, 0.2, 0.1),
    flag_yes: float = 0.3,
    codes: tuple[float, ...] = (0.3, 0.3, 0.2, 0.1, 0.1),
    cities: float = 1.0,
) -> pd.DataFrame:
    """Four numerical and four categorical columns; the knobs shift their distributions.

    ``mean`` moves every number by that many standard deviations, ``scale``
    multiplies their spread; the category knobs set the category shares
    (``cities`` is the exponent of a Zipf-like weighting, 1 the reference).
    """
    city_weights = 1.0 / np.arange(1, len(CITIES) + 1) ** cities
    return pd.DataFrame(
        {
            "income": 50.0 + 10.0 * (mean + scale * rng.normal(size=rows)),
            "latency": np.exp(0.5 * (mean + scale * rng.normal(size=rows))),
            "ratio": 0.5 + 0.29 * (mean + scale * rng.uniform(-1.73, 1.73, size=rows)),
            "visits": np.maximum(
                0, np.round(30 + 5 * (mean + scale * rng.normal(size=rows)))
            ).astype(np.int64),
            "color": rng.choice(COLORS, size=rows, p=colors),
            "flag": rng.choice(FLAGS, size=rows, p=(1 - flag_yes, flag_yes)),
            "code": rng.choice(5, size=rows, p=codes).astype(np.int64),
            "city": rng.choice(CITIES, size=rows, p=city_weights / city_weights.sum()),
        }
    )


def _with_missing(frame: pd.DataFrame, rng: np.random.Generator, share: float) -> pd.DataFrame:
    """Blank ``share`` of the float and string cells (integer columns stay complete)."""
    frame = frame.copy()
    for name in ("income", "latency", "ratio", "color", "flag", "city"):
        mask = rng.random(len(frame)) < share
        frame[name] = frame[name].where(~mask)
    return frame


def _tickets(rng: np.random.Generator, rows: int) -> list[str]:
    """Ids, nearly all distinct: free text to Evidently, which loopml leaves untested."""
    return [f"T-{n:09d}" for n in rng.integers(0, 10**9, size=rows)]


SCENARIOS: dict[str, Shift] = {
    "no_shift": lambda rng, rows: _frame(rng, rows),
    "mean_shift": lambda rng, rows: _frame(rng, rows, mean=0.4),
    "variance_shift": lambda rng, rows: _frame(rng, rows, scale=1.6),
    "category_shift": lambda rng, rows: _frame(
        rng,
        rows,
        colors=(0.2, 0.3, 0.2, 0.3),
        flag_yes=0.45,
        codes=(0.1, 0.2, 0.2, 0.2, 0.3),
        cities=0.3,
    ),
    "missing_surge": lambda rng, rows: _with_missing(_frame(rng, rows), rng, 0.35),
}


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Every scenario x size x seed as a reference and a current Parquet file."""
    root = tmp_path_factory.mktemp("drift_scenarios")
    files: dict[str, dict[str, str]] = {}
    for scenario, make_current in SCENARIOS.items():
        for size, (ref_rows, cur_rows) in SIZES.items():
            for seed in SEEDS:
                name = f"{scenario}-{size}-{seed}"
                rng = np.random.default_rng([seed, len(files)])
                reference = _with_missing(_frame(rng, ref_rows), rng, 0.02)
                current = make_current(rng, cur_rows)
                if seed == SEEDS[0]:  # Evidently's text test is slow: one seed is enough
                    for frame in (reference, current):
                        frame["ticket"] = _tickets(rng, len(frame))
                paths = {
                    "reference": root / f"{name}-ref.parquet",
                    "current": root / f"{name}-cur.parquet",
                }
                reference.to_parquet(paths["reference"], index=False)
                current.to_parquet(paths["current"], index=False)
                files[name] = {side: str(path) for side, path in paths.items()}
    return files


def test_drift_decisions_agree_with_evidently(
    evidently_python: Path, scenario_files: dict[str, dict[str, str]], tmp_path: Path
) -> None:
    manifest = tmp_path / "scenarios.json"
    manifest.write_text(json.dumps(scenario_files))
    run = subprocess.run(
        [str(evidently_python), str(SIDE_SCRIPT), str(manifest)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert run.returncode == 0, f"the Evidently side failed:\n{run.stderr[-3000:]}"
    theirs: dict[str, dict[str, dict[str, object]]] = json.loads(run.stdout)

    total, agreed, same_method = 0, 0, 0
    disagreements: list[str] = []
    for name, paths in scenario_files.items():
        ours = drift(pd.read_parquet(paths["reference"]), pd.read_parquet(paths["current"]))
        assert sorted(c.column for c in ours.columns) == sorted(theirs[name]), name
        for column in ours.columns:
            other = theirs[name][column.column]
            total += 1
            same_method += column.status == "ok" and _display(column.method) == other["method"]
            if column.drifted == other["drifted"]:
                agreed += 1
            else:
                disagreements.append(
                    f"{name}/{column.column}: loopml {column.drifted} ({column.detail}); "
                    f"evidently {other['drifted']} ({other['method']} = {other['score']}, "
                    f"threshold {other['threshold']})"
                )
    share = agreed / total
    print(f"\nagreement {agreed}/{total} = {share:.1%}; same test chosen {same_method}/{total}")
    print("\n".join(disagreements) or "no disagreements")
    assert share >= MIN_AGREEMENT, "\n".join(disagreements)


def _display(method: str | None) -> str | None:
    from loopml.monitoring import STATTESTS

    return None if method is None else STATTESTS[method].display_name


def test_scenarios_cover_both_reference_sizes(scenario_files: dict[str, dict[str, str]]) -> None:
    """The small size picks K-S/chi-squared/Z, the large one Wasserstein/Jensen-Shannon."""
    methods: dict[str, set[str]] = {"small": set(), "large": set()}
    for name, paths in scenario_files.items():
        size = name.split("-")[1]
        result = drift(pd.read_parquet(paths["reference"]), pd.read_parquet(paths["current"]))
        methods[size] |= {c.method for c in result.columns if c.method}
    assert methods["small"] == {"ks", "chisquare", "z"}
    assert methods["large"] == {"wasserstein", "jensenshannon"}


def test_free_text_columns_are_reported_untested(
    scenario_files: dict[str, dict[str, str]],
) -> None:
    """Evidently runs a text-content test on ids; loopml says why it has none, no drift."""
    paths = scenario_files[f"category_shift-large-{SEEDS[0]}"]
    reference, current = pd.read_parquet(paths["reference"]), pd.read_parquet(paths["current"])
    result = drift(reference, current)
    ticket = result["ticket"]
    assert (ticket.column_type, ticket.status, ticket.drifted) == ("text", "error", False)
    assert "declare it categorical" in ticket.detail
    assert result.number_of_tested_columns == len(reference.columns) - 1

    as_categories = drift(reference, current, categorical=["ticket"])["ticket"]
    assert (as_categories.status, as_categories.method) == ("ok", "jensenshannon")
    assert as_categories.drifted  # every id is new: as categories, that is drift
