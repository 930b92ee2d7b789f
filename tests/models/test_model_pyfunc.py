"""python_function models: a user class, its code files and artifacts, no pickle."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from loopml.core.errors import CorruptObject, InvalidArgument
from loopml.models import load_model, read_manifest, save_model

MODULE = "loopml_test_user_model"

SOURCE = textwrap.dedent(
    """
    import json

    from {module}_helpers.scaling import scale


    class Shift:
        def __init__(self, factor=1.0):
            self.factor = factor
            self.offset = None

        def load_context(self, context):
            with open(context.artifacts["config"]) as stream:
                self.offset = json.load(stream)["offset"]
            self.config = context.model_config

        def predict(self, context, model_input):
            return scale(model_input["x"].to_numpy(), self.factor) + self.offset


    class NoContext:
        def predict(self, model_input):
            return [len(model_input)]
    """
).format(module=MODULE)


@pytest.fixture
def user_code(tmp_path: Path) -> Iterator[Path]:
    """A user module and a helper package in a folder of their own, importable while saving."""
    folder = tmp_path / "project"
    helpers = folder / f"{MODULE}_helpers"
    helpers.mkdir(parents=True)
    (folder / f"{MODULE}.py").write_text(SOURCE)
    (helpers / "__init__.py").write_text("")
    (helpers / "scaling.py").write_text("def scale(values, factor):\n    return values * factor\n")
    sys.path.insert(0, str(folder))
    yield folder
    _forget(folder)
    # Loading puts each model's code/ on sys.path; no later test may import from there.
    sys.path[:] = [p for p in sys.path if not p.startswith(str(tmp_path))]


def _code(folder: Path) -> list[Path]:
    return [folder / f"{MODULE}.py", folder / f"{MODULE}_helpers"]


def _forget(folder: Path) -> None:
    """Make the code unimportable from where it was written: only the model's copy remains."""
    if str(folder) in sys.path:
        sys.path.remove(str(folder))
    for name in [n for n in sys.modules if n.startswith(MODULE)]:
        del sys.modules[name]


def test_class_code_and_artifacts_travel_with_the_model(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user  # type: ignore[import-not-found]

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"offset": 10}))
    save_model(
        user.Shift(3.0),
        tmp_path / "m",
        code_paths=_code(user_code),
        artifacts={"config": config},
        init_kwargs={"factor": 3.0},
        model_config={"threshold": 0.5},
        input_example=pd.DataFrame({"x": [1.0, 2.0]}),
    )
    _forget(user_code)
    config.write_text(json.dumps({"offset": -1}))  # the model keeps its own copy

    loaded = load_model(tmp_path / "m")
    assert loaded.flavor == "python_function"
    assert loaded.predict({"x": [1, 2]}).tolist() == [13.0, 16.0]
    assert loaded.raw.config == {"threshold": 0.5}
    manifest = read_manifest(tmp_path / "m")
    assert manifest.flavors["python_function"]["python_model_class"] == f"{MODULE}:Shift"
    assert f"code/{MODULE}_helpers/scaling.py" in manifest.files
    assert "artifacts/config/config.json" in manifest.files
    with pytest.raises(InvalidArgument, match="Missing column 'x'"):
        loaded.predict({"y": [1.0]})


def test_predict_without_context_and_without_signature(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user

    save_model(user.NoContext(), tmp_path / "m", code_paths=_code(user_code))
    _forget(user_code)
    assert load_model(tmp_path / "m").predict(pd.DataFrame({"a": [1, 2, 3]})) == [3]


def test_missing_code_is_a_clear_error(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user

    save_model(user.NoContext(), tmp_path / "m")  # no code_paths
    _forget(user_code)
    with pytest.raises(InvalidArgument, match=f"Cannot import module '{MODULE}'.*code_paths"):
        load_model(tmp_path / "m")


def test_a_new_version_of_the_code_replaces_the_old_one(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user

    save_model(user.NoContext(), tmp_path / "v1", code_paths=_code(user_code))
    module = user_code / f"{MODULE}.py"
    module.write_text(module.read_text().replace("[len(model_input)]", "[-len(model_input)]"))
    _forget(user_code)
    sys.path.insert(0, str(user_code))
    import loopml_test_user_model as edited

    save_model(edited.NoContext(), tmp_path / "v2", code_paths=_code(user_code))
    _forget(user_code)
    first = load_model(tmp_path / "v1")
    second = load_model(tmp_path / "v2")
    frame = pd.DataFrame({"a": [1, 2]})
    assert first.predict(frame) == [2] and second.predict(frame) == [-2]


def test_edited_code_is_refused(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user

    save_model(user.NoContext(), tmp_path / "m", code_paths=_code(user_code))
    _forget(user_code)
    code = tmp_path / "m" / "code" / f"{MODULE}.py"
    code.write_text(code.read_text() + "\nimport os\n")
    with pytest.raises(CorruptObject, match=f"code/{MODULE}.py"):
        load_model(tmp_path / "m")


class Local:
    def predict(self, model_input):
        return model_input


def test_classes_nobody_else_can_import_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Local, "__module__", "__main__")
    with pytest.raises(InvalidArgument, match=r"defined in __main__.*code_paths"):
        save_model(Local(), tmp_path / "main")

    def build() -> object:
        class Inner:
            def predict(self, model_input):
                return model_input

        return Inner()

    with pytest.raises(InvalidArgument, match="inside a function"):
        save_model(build(), tmp_path / "inner")
    assert not (tmp_path / "main").exists() and not (tmp_path / "inner").exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"artifacts": {"../up": "x"}}, "Artifact name '../up'"),
        ({"artifacts": {"cfg": "/no/such/file"}}, "not a file or folder"),
        ({"code_paths": ["/no/such/module.py"]}, "not a file or folder"),
        ({"init_kwargs": {"array": np.zeros(2)}}, "init_kwargs must be JSON"),
    ],
)
def test_bad_pyfunc_options(tmp_path: Path, user_code: Path, kwargs: dict, message: str) -> None:
    import loopml_test_user_model as user

    with pytest.raises(InvalidArgument, match=message):
        save_model(user.NoContext(), tmp_path / "m", **kwargs)
    assert not (tmp_path / "m").exists()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_mlflow_client_loads_a_loopml_python_function(tmp_path: Path, user_code: Path) -> None:
    import loopml_test_user_model as user
    import mlflow.pyfunc

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"offset": 1}))
    save_model(
        user.Shift(),
        tmp_path / "m",
        code_paths=_code(user_code),
        artifacts={"config": config},
        input_example=pd.DataFrame({"x": [1.0]}),
    )
    _forget(user_code)
    model = mlflow.pyfunc.load_model(str(tmp_path / "m"))
    assert np.asarray(model.predict(pd.DataFrame({"x": [1.0, 2.0]}))).tolist() == [2.0, 3.0]
