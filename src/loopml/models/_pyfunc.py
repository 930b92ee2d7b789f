"""The python_function flavor: a user class, its code files and artifacts. No pickle.

The manifest names the class by import path (``module:QualName``); the
files passed as ``code_paths`` are copied into ``code/`` and put first on
``sys.path`` at load, the ``artifacts`` into ``artifacts/<name>/``. Loading
imports the class, builds it (with the recorded JSON ``init_kwargs``),
calls ``load_context(context)`` where ``context.artifacts`` maps each name
to its local path, and predicts with ``predict(context, model_input)`` as
MLflow's ``PythonModel`` does, or ``predict(model_input)``.

Loading a python_function model runs its code, like importing any module:
load only models whose code you would run.
"""

from __future__ import annotations

import importlib
import inspect
import json
import platform
import re
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models._flavor import LoadOptions, Native, Saved, SaveOptions
from loopml.models._manifest import inside

FLAVOR = "python_function"
LOADER_MODULE = "loopml.models"
CODE_DIR = "code"
ARTIFACTS_DIR = "artifacts"
_ARTIFACT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


@dataclass(frozen=True, slots=True)
class PythonModelContext:
    """What ``load_context`` and ``predict`` receive: artifact paths and the model config."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


def save(model: Any, folder: Path, options: SaveOptions) -> Saved:
    cls = model if isinstance(model, type) else type(model)
    module, qualname = cls.__module__, cls.__qualname__
    if module == "__main__":
        raise InvalidArgument(
            f"Class {qualname} is defined in __main__, so no other process can import it. "
            "Put it in a module file and pass that file as code_paths=['my_model.py']."
        )
    if "<locals>" in qualname:
        raise InvalidArgument(
            f"Class {qualname} is defined inside a function: define it at the top level of a "
            "module and pass that file as code_paths."
        )
    if not callable(getattr(cls, "predict", None)):
        raise InvalidArgument(f"Class {qualname} has no predict method.")
    conf: dict[str, Any] = {
        "python_model_class": f"{module}:{qualname}",
        "code": _copy_code(options.code_paths, folder),
        "artifacts": _copy_artifacts(options.artifacts, folder),
        "init_kwargs": _json_mapping(options.init_kwargs, "init_kwargs"),
        "model_config": _json_mapping(options.model_config, "model_config"),
    }
    return Saved(conf, {}, {})


def _copy_code(code_paths: Sequence[str | Path], folder: Path) -> str | None:
    if not code_paths:
        return None
    target = folder / CODE_DIR
    target.mkdir()
    for item in code_paths:
        source = Path(item)
        destination = target / source.name
        if destination.exists():
            raise InvalidArgument(f"Two code paths are named {source.name!r}: rename one.")
        if source.is_dir():
            shutil.copytree(source, destination, ignore=_IGNORED)
        elif source.is_file():
            shutil.copy2(source, destination)
        else:
            raise InvalidArgument(f"Code path {str(source)!r} is not a file or folder.")
    return CODE_DIR


def _copy_artifacts(artifacts: Mapping[str, str | Path], folder: Path) -> dict[str, str] | None:
    if not artifacts:
        return None
    recorded = {}
    for name, item in artifacts.items():
        if not isinstance(name, str) or not _ARTIFACT_NAME.match(name) or name in (".", ".."):
            raise InvalidArgument(
                f"Artifact name {name!r} is not allowed: use letters, digits, '_', '-', '.'."
            )
        source = Path(item)
        holder = folder / ARTIFACTS_DIR / name
        holder.mkdir(parents=True)
        if source.is_dir():
            shutil.copytree(source, holder / source.name, ignore=_IGNORED)
        elif source.is_file():
            shutil.copy2(source, holder / source.name)
        else:
            raise InvalidArgument(f"Artifact {name!r}: {str(source)!r} is not a file or folder.")
        recorded[name] = f"{ARTIFACTS_DIR}/{name}/{source.name}"
    return recorded


def _json_mapping(value: Mapping[str, Any], what: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        return json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(
            f"{what} must be JSON (strings, numbers, lists, dicts): {exc}."
        ) from exc


def pyfunc_entry(conf: Mapping[str, Any]) -> dict[str, Any]:
    """The ``python_function`` manifest entry of a python_function model."""
    return {"loader_module": LOADER_MODULE, "python_version": platform.python_version(), **conf}


def load(folder: Path, conf: Mapping[str, Any], options: LoadOptions) -> Native:
    spec = str(conf.get("python_model_class") or "")
    module_name, _, qualname = spec.partition(":")
    if not _DOTTED.match(module_name) or not _DOTTED.match(qualname):
        raise InvalidArgument(f"The model's class {spec!r} is not a 'module:QualName' path.")
    if conf.get("code"):
        use_code(inside(folder, conf["code"], "code folder"))
    cls = _import_class(module_name, qualname)
    artifacts = {
        str(name): str(inside(folder, rel, f"artifact {name!r}"))
        for name, rel in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, dict(conf.get("model_config") or {}))
    kwargs = dict(conf.get("init_kwargs") or {})
    try:
        instance = cls(**kwargs)
    except TypeError as exc:
        raise InvalidArgument(f"Cannot build {spec} with the recorded init_kwargs: {exc}") from exc
    return start(instance, context)


def start(instance: Any, context: Any) -> Native:
    """Run ``load_context`` and bind ``predict`` (MLflow's two signatures)."""
    load_context = getattr(instance, "load_context", None)
    if callable(load_context):
        load_context(context)
    predict = bind(instance.predict, context)
    proba = getattr(instance, "predict_proba", None)
    return Native(instance, predict, bind(proba, context) if callable(proba) else None)


def bind(method: Callable[..., Any], context: Any) -> Callable[[Any], Any]:
    """``predict(context, data)`` or ``predict(data)``, whichever the class defines."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    positional = [
        p
        for p in parameters
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
    ]
    if len(positional) >= 2 or (parameters and parameters[0].name == "context"):

        def with_context(data: Any) -> Any:
            return method(context, data)

        return with_context
    return method


def use_code(code: Path) -> None:
    """Put a model's ``code/`` first on ``sys.path``, its modules ahead of any others.

    Modules of the same names imported earlier from elsewhere (another
    version of this model, say) are dropped from ``sys.modules`` so the
    import finds this model's copy; objects built from the old ones keep
    working, they hold their own module.
    """
    root = code.resolve()
    provided = {p.stem if p.suffix == ".py" else p.name for p in root.iterdir()}
    for name in [n for n in sys.modules if n.split(".")[0] in provided]:
        origin = getattr(sys.modules[name], "__file__", None)
        if origin is None or not Path(origin).resolve().is_relative_to(root):
            del sys.modules[name]
    entry = str(root)
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()


def _import_class(module_name: str, qualname: str) -> type:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InvalidArgument(
            f"Cannot import module {module_name!r} of the model's class: {exc}. Save the model "
            "with code_paths=[...] naming the file or package that defines it."
        ) from exc
    found: Any = module
    for part in qualname.split("."):
        found = getattr(found, part, None)
        if found is None:
            raise InvalidArgument(f"Module {module_name!r} has no class {qualname!r}.")
    if not isinstance(found, type):
        raise InvalidArgument(f"{module_name}:{qualname} is not a class.")
    return found
