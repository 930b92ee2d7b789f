"""``module:pipeline`` targets and ``--param k=v`` values, as the CLI and schedules give them.

A target is imported like ``python -m`` imports a module: from the given
folder (the current one by default) first. Parameter values arrive as text
and are converted by the pipeline's signature: an annotation of ``int``,
``float``, ``bool`` or ``str`` (or, without one, the default's type) says
how; otherwise the text is read as JSON when it is JSON, else kept as text.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.pipelines._pipeline import Pipeline

_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def check_target(target: str) -> str:
    """A ``module:pipeline`` string (its syntax only; nothing is imported)."""
    if not isinstance(target, str) or not _TARGET.match(target):
        raise InvalidArgument(
            f"Invalid target {target!r}: write module:pipeline, e.g. train_flow:training "
            "(the module is imported from the current folder, like python -m)."
        )
    return target


def resolve_target(target: str, folder: str | Path | None = None) -> Pipeline:
    """The ``Pipeline`` a target names, importing its module from ``folder`` (or cwd) first."""
    module_name, _, attribute = check_target(target).partition(":")
    where = str(Path(folder or ".").resolve())
    if where not in sys.path:
        sys.path.insert(0, where)
    try:
        found: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise InvalidArgument(
                f"Cannot import {module_name!r} from {where}: no such module. Run from the "
                "folder that holds it, or check the name."
            ) from None
        raise InvalidArgument(f"Importing {module_name!r} failed: {exc}") from exc
    except Exception as exc:  # the module's own code failed
        raise InvalidArgument(
            f"Importing {module_name!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    module = found
    for part in attribute.split("."):
        found = getattr(found, part, None)
        if found is None:
            names = sorted(n for n, v in vars(module).items() if isinstance(v, Pipeline))
            raise InvalidArgument(
                f"Module {module_name!r} has no {attribute!r}; its pipelines: "
                f"{', '.join(names) or 'none'}."
            )
    if not isinstance(found, Pipeline):
        raise InvalidArgument(
            f"{target} is a {type(found).__name__}, not a pipeline: decorate it with @lm.pipeline."
        )
    return found


def parse_params(pipeline: Pipeline, texts: Mapping[str, str]) -> dict[str, Any]:
    """Parameter values from text, converted by the pipeline's signature."""
    parameters = pipeline.signature.parameters
    hints = _hints(pipeline)
    values: dict[str, Any] = {}
    for name, text in texts.items():
        parameter = parameters.get(name)
        if parameter is None:
            raise InvalidArgument(
                f"Pipeline {pipeline.name!r} has no parameter {name!r}; its parameters: "
                f"{', '.join(parameters) or 'none'}."
            )
        kind = hints.get(name)
        if kind is None and parameter.default not in (inspect.Parameter.empty, None):
            kind = type(parameter.default)
        values[name] = _convert(pipeline.name, name, text, kind)
    return values


def _hints(pipeline: Pipeline) -> dict[str, Any]:
    try:
        signature = inspect.signature(pipeline.fn, eval_str=True)
    except Exception:  # an annotation that does not evaluate: judge by defaults only
        return {}
    return {
        n: p.annotation
        for n, p in signature.parameters.items()
        if p.annotation in (int, float, bool, str)
    }


def _convert(pipeline: str, name: str, text: str, kind: Any) -> Any:
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in _TRUE | _FALSE:
                return lowered in _TRUE
            raise ValueError("not a boolean")
        if kind in (int, float, str):
            return kind(text)
    except ValueError:
        raise InvalidArgument(
            f"Pipeline {pipeline!r}: parameter {name!r} takes {kind.__name__} values, not {text!r}."
        ) from None
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_pairs(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["k=v", ...]`` as a dict; InvalidArgument for an item without ``=``."""
    found: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidArgument(f"Invalid --param {pair!r}: write key=value.")
        found[key.strip()] = value
    return found
