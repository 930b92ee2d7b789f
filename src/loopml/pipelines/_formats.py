"""Step outputs as files: a safe format per type, and back.

=================  ==========================  ==============================
type               format                      file (under outputs/<name>/)
=================  ==========================  ==============================
JSON-able data     ``json``                    data.json
bytes              ``bytes``                   data.bin
pandas DataFrame   ``parquet``                 data.parquet
pandas Series      ``parquet-series``          data.parquet
NumPy array        ``npy``                     data.npy (never pickled)
NumPy scalar       ``npy-scalar``              data.npy
a model            ``model``                   model/ (``loopml.models.save_model``)
anything else      ``pickle``, only with       data.pkl (cloudpickle)
                   ``allow_pickle=True``
=================  ==========================  ==============================

Models are the types a loopml flavor saves without pickle (scikit-learn,
XGBoost, LightGBM, ONNX). JSON-able means ``None``, bools, numbers,
strings, lists/tuples of them and dicts with string keys (tuples come back as
lists). ``FORMAT_VERSION`` is part of every cache key: changing how a type is
written must change it, so old entries are not read the new way.
"""

from __future__ import annotations

import io
import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument

FORMAT_VERSION = 1
MODEL_FLAVORS = frozenset({"sklearn", "xgboost", "lightgbm", "onnx"})
_MAX_DEPTH = 100
_SERIES_COLUMN = "__loopml_series__"
MAX_PARAM = 6000


class UnstorableOutput(InvalidArgument):
    """A step returned a value no safe format fits (and pickle was not allowed)."""


def is_json_value(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` is plain JSON data (``json`` writes it and reads it back)."""
    if value is None or isinstance(value, bool | int | str):
        return True
    if isinstance(value, float):
        return True
    if depth > _MAX_DEPTH:
        return False
    if isinstance(value, list | tuple):
        return all(is_json_value(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_json_value(v, depth + 1) for k, v in value.items())
    return False


def check_literal(value: Any, where: str) -> Any:
    """A step argument given as a value: it must be JSON-able (it is logged and hashed)."""
    if not is_json_value(value):
        raise InvalidArgument(
            f"{where} is a {type(value).__name__}: values given to steps must be JSON-able "
            "(numbers, strings, lists, dicts) because they are logged as params and hashed "
            "into the cache key. Produce other values in a step and pass its output."
        )
    return value


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces (what cache keys hash)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=True)


def param_text(value: Any) -> str:
    """How a value is logged as a param: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def param_value(value: Any) -> str:
    """``param_text``, cut to what a param holds (MLflow's 6,000 characters)."""
    text = param_text(value)
    return text if len(text) <= MAX_PARAM else text[: MAX_PARAM - 3] + "..."


def _module(value: Any) -> str:
    return type(value).__module__ or ""


def _model_flavor(value: Any) -> str | None:
    names = {f"{c.__module__}.{c.__qualname__}" for c in type(value).__mro__}
    if not any(n.split(".")[0] in ("sklearn", "xgboost", "lightgbm", "onnx") for n in names):
        return None  # not a library model: do not import the flavor modules at all
    from loopml.models._flavors import detect_flavor

    try:
        flavor = detect_flavor(value)
    except InvalidArgument:
        return None
    return flavor if flavor in MODEL_FLAVORS else None


def write_output(value: Any, folder: Path, *, where: str, allow_pickle: bool) -> str:
    """Write ``value`` into the empty ``folder``; return its format.

    ``where`` names the step and output for errors. UnstorableOutput when no
    safe format fits and ``allow_pickle`` is False.
    """
    folder.mkdir(parents=True, exist_ok=True)
    try:
        return _write(value, folder, where, allow_pickle)
    except UnstorableOutput:
        raise
    except Exception as exc:  # the libraries' own errors (pyarrow, numpy, skops...)
        shutil.rmtree(folder, ignore_errors=True)  # no half-written file is kept
        folder.mkdir(parents=True)
        if allow_pickle:
            return _write_pickle(value, folder)
        raise UnstorableOutput(
            f"{where}: cannot store the {type(value).__name__}: {type(exc).__name__}: {exc}. "
            "Convert it to a type loopml stores safely, or allow_pickle=True."
        ) from exc


def _write(value: Any, folder: Path, where: str, allow_pickle: bool) -> str:
    if is_json_value(value):
        (folder / "data.json").write_bytes(json.dumps(value, allow_nan=True).encode())
        return "json"
    if isinstance(value, bytes | bytearray):
        (folder / "data.bin").write_bytes(bytes(value))
        return "bytes"
    module = _module(value)
    if module.startswith("pandas"):
        import pandas as pd

        if isinstance(value, pd.DataFrame):
            value.to_parquet(folder / "data.parquet")
            return "parquet"
        if isinstance(value, pd.Series):
            column = value.name if isinstance(value.name, str) else _SERIES_COLUMN
            value.to_frame(name=column).to_parquet(folder / "data.parquet")
            return "parquet-series"
    if module == "numpy":
        import numpy as np

        if isinstance(value, np.ndarray | np.generic):
            if isinstance(value, np.ndarray) and value.dtype.hasobject:
                if allow_pickle:
                    return _write_pickle(value, folder)
                raise UnstorableOutput(
                    f"{where} is a NumPy array of Python objects, which only pickle can "
                    "store: give it a numeric or string dtype, or allow_pickle=True."
                )
            np.save(folder / "data.npy", np.asarray(value), allow_pickle=False)
            return "npy" if isinstance(value, np.ndarray) else "npy-scalar"
    if _model_flavor(value) is not None:
        from loopml.models import save_model

        save_model(value, folder / "model")
        return "model"
    if allow_pickle:
        return _write_pickle(value, folder)
    raise UnstorableOutput(
        f"{where} is a {module}.{type(value).__qualname__}, which loopml cannot store "
        "safely. Return a pandas DataFrame or Series, a NumPy array, JSON-able data, bytes, "
        "or a model loopml saves (scikit-learn, XGBoost, LightGBM, ONNX); or declare the "
        "step with @lm.step(allow_pickle=True) to store it with cloudpickle."
    )


def _write_pickle(value: Any, folder: Path) -> str:
    import cloudpickle

    (folder / "data.pkl").write_bytes(cloudpickle.dumps(value))
    return "pickle"


def read_output(
    fmt: str,
    data: Callable[[], bytes],
    folder: Callable[[], Path],
    *,
    allow_pickle: bool,
    where: str,
) -> Any:
    """The value of a stored output: ``data()`` gives a one-file output's bytes,
    ``folder()`` a local copy of a folder output (only models)."""
    if fmt == "json":
        return json.loads(data())
    if fmt == "bytes":
        return data()
    if fmt in ("parquet", "parquet-series"):
        import pandas as pd

        frame = pd.read_parquet(io.BytesIO(data()))
        if fmt == "parquet":
            return frame
        series = frame.iloc[:, 0]
        return series.rename(None) if series.name == _SERIES_COLUMN else series
    if fmt in ("npy", "npy-scalar"):
        import numpy as np

        array = np.load(io.BytesIO(data()), allow_pickle=False)
        return array if fmt == "npy" else array[()]
    if fmt == "model":
        from loopml.models import load_model

        return load_model(folder()).raw
    if fmt == "pickle":
        if not allow_pickle:
            raise InvalidArgument(
                f"{where} was stored with pickle, which can run code when loaded: pass "
                "allow_pickle=True if you trust the pipeline that wrote it."
            )
        import pickle

        return pickle.loads(data())  # allow-unsafe: only with allow_pickle=True (checked above)
    raise InvalidArgument(
        f"{where} has the format {fmt!r}, which this loopml does not know: upgrade loopml."
    )


def file_name(fmt: str) -> str:
    """The file (or folder) an output of ``fmt`` is written to."""
    return {
        "json": "data.json",
        "bytes": "data.bin",
        "parquet": "data.parquet",
        "parquet-series": "data.parquet",
        "npy": "data.npy",
        "npy-scalar": "data.npy",
        "model": "model",
        "pickle": "data.pkl",
    }[fmt]
