"""Bad model files: untrusted types, corrupted or truncated files, unsafe paths, pickles.

Each gets a clear error naming the file or type, and nothing of it runs.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.models import load_model, save_model
from loopml.models._pickle import load_pickle

Table = tuple[pd.DataFrame, pd.Series]


def _fit(table: Table) -> LogisticRegression:
    x, y = table
    return LogisticRegression().fit(x, y)


def test_skops_untrusted_type_is_refused_until_trusted(tmp_path: Path, table: Table) -> None:
    x, y = table
    # A function from outside the trusted families (here: os.path.basename, harmless).
    pipeline = make_pipeline(FunctionTransformer(np.log1p), LogisticRegression()).fit(x, y)
    pipeline.steps.insert(0, ("odd", FunctionTransformer(os.path.basename)))
    save_model(pipeline, tmp_path / "m")
    with pytest.raises(InvalidArgument, match=r"posixpath\.basename.*trusted=\['posixpath"):
        load_model(tmp_path / "m")
    loaded = load_model(tmp_path / "m", trusted=["posixpath.basename"])
    assert loaded.raw.steps[0][1].func is os.path.basename


def test_skops_payload_type_is_refused_even_if_the_manifest_trusts_it(
    tmp_path: Path, table: Table
) -> None:
    x, y = table
    evil = make_pipeline(FunctionTransformer(), LogisticRegression()).fit(x, y)
    evil.steps[0][1].func = os.system  # would run at predict time, with the input as command
    save_model(evil, tmp_path / "m")
    manifest = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(manifest.read_text())
    data["flavors"]["sklearn"]["skops_trusted_types"] = ["posix.system"]  # a forged manifest
    manifest.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidArgument, match=r"posix\.system"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("damage", ["truncate", "flip"])
@pytest.mark.parametrize("flavor", ["sklearn", "xgboost", "lightgbm", "onnx"])
def test_corrupted_or_truncated_model_file_is_named(
    tmp_path: Path, table: Table, flavor: str, damage: str
) -> None:
    file = _save_flavor(flavor, tmp_path / "m", table)
    data = file.read_bytes()
    if damage == "truncate":
        file.write_bytes(data[: len(data) // 2])
    else:
        middle = len(data) // 2
        file.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    with pytest.raises(CorruptObject, match=f"Model file '{file.name}'"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("flavor", ["sklearn", "xgboost", "lightgbm", "onnx"])
def test_damaged_file_without_digests_fails_in_the_reader_not_the_process(
    tmp_path: Path, table: Table, flavor: str
) -> None:
    # No digests (as in an MLflow-written folder): the library's reader meets the damage.
    file = _save_flavor(flavor, tmp_path / "m", table)
    manifest = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(manifest.read_text())
    data["files"] = {}
    manifest.write_text(yaml.safe_dump(data))
    content = file.read_bytes()
    file.write_bytes(content[: len(content) // 2])
    with pytest.raises(InvalidArgument, match=f"Cannot load model file '{file.name}'"):
        load_model(tmp_path / "m")


def test_truncated_lightgbm_text_does_not_abort_the_process(tmp_path: Path, table: Table) -> None:
    # LightGBM itself aborts the process on this file; loopml must refuse it first.
    file = _save_flavor("lightgbm", tmp_path / "m", table)
    content = file.read_bytes()
    file.write_bytes(content[: len(content) // 2])
    script = (
        "import sys; from loopml.models._lightgbm import read_model_text\n"
        "from pathlib import Path\n"
        "from loopml.core.errors import InvalidArgument\n"
        "try:\n    read_model_text(Path(sys.argv[1]))\n"
        "except InvalidArgument as e:\n    print('refused:', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(file)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "refused:" in done.stdout, done.stderr


def _save_flavor(flavor: str, path: Path, table: Table) -> Path:
    x, y = table
    if flavor == "sklearn":
        save_model(LogisticRegression().fit(x, y), path)
        return path / "model.skops"
    if flavor == "xgboost":
        import xgboost as xgb

        save_model(xgb.XGBClassifier(n_estimators=3).fit(x, y), path)
        return path / "model.ubj"
    if flavor == "lightgbm":
        import lightgbm as lgb

        save_model(lgb.LGBMClassifier(n_estimators=3, verbose=-1).fit(x, y), path)
        return path / "model.lgb"
    from skl2onnx import to_onnx

    values = x.to_numpy().astype(np.float32)
    save_model(to_onnx(LogisticRegression().fit(values, y), values[:1]), path)
    return path / "model.onnx"


def test_missing_file_and_added_code_are_refused(tmp_path: Path, table: Table) -> None:
    save_model(_fit(table), tmp_path / "m")
    (tmp_path / "m" / "code").mkdir()
    (tmp_path / "m" / "code" / "sitecustomize.py").write_text("raise SystemExit('ran')\n")
    with pytest.raises(CorruptObject, match=r"code/sitecustomize\.py"):
        load_model(tmp_path / "m")
    (tmp_path / "m" / "code" / "sitecustomize.py").unlink()
    (tmp_path / "m" / "model.skops").unlink()
    with pytest.raises(CorruptObject, match=r"'model\.skops' is missing"):
        load_model(tmp_path / "m")


@pytest.mark.parametrize("path", ["../outside.skops", "/etc/passwd", "a/../../b"])
def test_manifest_paths_cannot_leave_the_folder(tmp_path: Path, table: Table, path: str) -> None:
    save_model(_fit(table), tmp_path / "m")
    (tmp_path / "outside.skops").write_bytes((tmp_path / "m" / "model.skops").read_bytes())
    manifest = tmp_path / "m" / "MLmodel"
    data = yaml.safe_load(manifest.read_text())
    data["flavors"]["sklearn"]["pickled_model"] = path
    manifest.write_text(yaml.safe_dump(data))
    with pytest.raises(InvalidArgument, match=r"unsafe|outside"):
        load_model(tmp_path / "m")


def test_symlink_out_of_the_folder_is_refused(tmp_path: Path, table: Table) -> None:
    save_model(_fit(table), tmp_path / "m")
    target = tmp_path / "m" / "model.skops"
    moved = tmp_path / "elsewhere.skops"
    target.rename(moved)
    target.symlink_to(moved)
    with pytest.raises(InvalidArgument, match="leads outside"):
        load_model(tmp_path / "m")


def test_not_a_model_folder(tmp_path: Path) -> None:
    from loopml.core.errors import NotFound

    with pytest.raises(NotFound, match="No model at"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidArgument, match="no MLmodel file"):
        load_model(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "MLmodel").write_text("flavors: [unclosed")
    with pytest.raises(InvalidArgument, match="not valid YAML"):
        load_model(tmp_path / "bad")
    (tmp_path / "bad" / "MLmodel").write_text("flavors: {}\n")
    with pytest.raises(InvalidArgument, match="names no flavors"):
        load_model(tmp_path / "bad")
    with pytest.raises(InvalidArgument, match="registered model"):
        load_model("models:/churn/1")
    with pytest.raises(InvalidArgument, match="Cannot load a model from 's3://"):
        load_model("s3://bucket/model")


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _EvalPayload:
    def __reduce__(self):
        return (eval, ("__import__('os').system('true')",))


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_pickle_payload_is_refused_even_when_pickles_are_trusted(
    tmp_path: Path, protocol: int
) -> None:
    marker = tmp_path / "pwned"
    file = tmp_path / "model.pkl"
    file.write_bytes(pickle.dumps(_Payload(marker), protocol=protocol))
    with pytest.raises(InvalidArgument, match=r"Refusing to unpickle 'model.pkl'.*system"):
        load_pickle(file, trust_pickle=True, what="This model")
    file.write_bytes(pickle.dumps(_EvalPayload(), protocol=protocol))
    with pytest.raises(InvalidArgument, match=r"builtin\w*\.eval"):
        load_pickle(file, trust_pickle=True, what="This model")
    assert not marker.exists()


def test_plain_pickle_loads_only_when_trusted(tmp_path: Path, table: Table) -> None:
    file = tmp_path / "model.pkl"
    file.write_bytes(pickle.dumps(_fit(table)))
    with pytest.raises(InvalidArgument, match="trust_pickle=True"):
        load_pickle(file, trust_pickle=False, what="This model")
    assert isinstance(load_pickle(file, trust_pickle=True, what="This model"), LogisticRegression)
    file.write_bytes(file.read_bytes()[:-40])
    with pytest.raises(InvalidArgument, match="not a valid pickle"):
        load_pickle(file, trust_pickle=True, what="This model")
