"""Evaluation plots are valid, non-trivial PNG images drawn without pyplot."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from matplotlib.image import imread

from loopml.evaluation import _plots
from loopml.evaluation._metrics import calibration, confusion

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RNG = np.random.default_rng(7)
LABELS = RNG.integers(0, 2, 400)
SCORES = np.clip(LABELS * 0.4 + RNG.random(400) * 0.6, 0, 1)


def _size(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which must come first."""
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _check(png: bytes, size: tuple[int, int] | None = None) -> np.ndarray:
    assert png.startswith(SIGNATURE)
    assert len(png) > 5_000  # axes, title and labels, not an empty canvas
    if size is not None:
        assert _size(png) == size
    pixels = imread(io.BytesIO(png), format="png")  # decodes: the file is whole
    assert pixels.std() > 0.01  # something is drawn
    return pixels


PLOTS = {
    "confusion": lambda: _plots.confusion_matrix_png(
        confusion(["a", "b", "a", "c"], ["a", "a", "a", "c"], ["a", "b", "c"])
    ),
    "calibration": lambda: _plots.calibration_png(calibration(LABELS, SCORES, 1)),
    "roc": lambda: _plots.roc_png(LABELS, SCORES, 1),
    "residuals": lambda: _plots.residuals_png(RNG.normal(size=300), RNG.normal(size=300)),
    "importance": lambda: _plots.importance_png(["a", "b", "c"], [0.3, 0.1, 0.2], "Importance"),
}


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_each_plot_is_a_valid_png(name):
    _check(PLOTS[name]())


def test_sizes_are_small_and_fixed():
    assert _size(PLOTS["roc"]()) == (500, 400)
    assert _size(PLOTS["calibration"]()) == (500, 400)
    assert _size(PLOTS["residuals"]()) == (900, 400)


def test_the_image_depends_on_the_data():
    first = _plots.confusion_matrix_png({"labels": [0, 1], "matrix": [[5, 0], [0, 5]]})
    second = _plots.confusion_matrix_png({"labels": [0, 1], "matrix": [[0, 5], [5, 0]]})
    assert first != second
    assert _plots.roc_png(LABELS, SCORES, 1) != _plots.roc_png(LABELS, 1 - SCORES, 1)


def test_empty_and_degenerate_inputs_still_give_images():
    _check(_plots.confusion_matrix_png({"labels": [], "matrix": []}))
    _check(_plots.calibration_png({"prob_pred": [], "prob_true": [], "count": []}))
    _check(_plots.roc_png([1, 1, 1], [0.2, 0.5, 0.9], 1))  # one class: a note, no curve
    _check(_plots.residuals_png([], []))
    _check(_plots.importance_png([], [], "Nothing"), (600, 240))


def test_importance_keeps_the_top_20_and_duplicate_names():
    names = [f"feature_{i}" for i in range(40)]
    values = list(np.linspace(0, 1, 40))
    png = _plots.importance_png(names, values, "Top", errors=[0.01] * 40)
    _check(png, (600, 720))  # 1.2 + 0.3 * 20 inches high at 100 dpi
    _check(_plots.importance_png(["x", "x"], [0.5, 0.25], "Twins"))


def test_many_points_are_sampled_and_string_labels_work():
    _check(_plots.residuals_png(RNG.normal(size=20_000), RNG.normal(size=20_000)), (900, 400))
    names = np.where(LABELS == 1, "yes", "no")
    _check(_plots.roc_png(names, SCORES, "yes"))


def test_plots_draw_concurrently_in_threads():
    with ThreadPoolExecutor(max_workers=4) as pool:
        images = list(pool.map(lambda name: PLOTS[name](), sorted(PLOTS) * 2))
    for png in images:
        _check(png)


def test_drawing_does_not_import_pyplot():
    code = (
        "import sys\n"
        "from loopml.evaluation import _plots\n"
        "_plots.roc_png([0, 1], [0.2, 0.8], 1)\n"
        "_plots.residuals_png([1.0, 2.0], [1.5, 2.5])\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
