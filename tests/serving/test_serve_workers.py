"""``loopml serve --workers 2``: two processes behind one port, one ``/metrics`` for both.

The model is a folder saved with ``onnx=True``, so this also runs the saved
conversion in a real server process, with no registry and no store.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
from serving_support import FEATURES, classifier, features, free_port, live_serve

from loopml.models import save_model

REQUESTS = 30


def test_two_workers_answer_and_count_together(tmp_path: Path) -> None:
    folder = tmp_path / "iris-onnx"
    save_model(classifier(), folder, input_example=features()[:5], onnx=True)
    rows = features(REQUESTS, seed=11)
    expected = classifier().predict(rows).tolist()
    args = [str(folder), "--workers", "2", "--no-prediction-log"]
    with live_serve(tmp_path, args, free_port()) as served:
        health = httpx.get(f"{served.url}/health", timeout=10).json()
        assert "when it was saved" in str(health), health
        answers = []
        for row in rows.to_numpy().tolist():
            body = {"dataframe_split": {"columns": FEATURES, "data": [row]}}
            # A new connection each time, so both workers take requests.
            response = httpx.post(f"{served.url}/invocations", json=body, timeout=10)
            assert response.status_code == 200, response.text
            answers += response.json()["predictions"]
        assert answers == expected
        metrics = httpx.get(f"{served.url}/metrics", timeout=10).text
    ok = r'^loopml_serving_requests_total\{[^}]*protocol="mlflow"[^}]*status="200"[^}]*\} (\S+)$'
    counted = sum(float(m.group(1)) for m in re.finditer(ok, metrics, re.MULTILINE))
    assert counted == REQUESTS  # both workers' counts, summed in one exposition
