"""Load definitions from Python files, as ``feast apply`` does with a feature repository.

``load_definitions(path)`` imports a ``.py`` file, or every ``.py`` file
under a folder (hidden folders, ``__pycache__`` and virtual environments
skipped), and collects the module-level objects that are definitions. A
file is imported under its dotted path relative to the folder (the file's
stem for a single file), with that folder on ``sys.path`` while importing
(and only then). An on-demand view keeps its function object, and stores
it as ``module:qualname``: other processes import it that way with the
folder on their ``PYTHONPATH``.

A ``FileSource`` with a relative path is made absolute against the folder
of the file defining it, so the definitions mean the same data whichever
directory ``loopml features apply`` ran in. Loading runs the files' code:
only load files you trust, as with any Python import.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from loopml.core.errors import InvalidArgument
from loopml.features._definitions import DEFINITION_KINDS, Definition, FeatureView, FileSource

_MARK = "__loopml_features_repo__"
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages"})


def _python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts[:-1]
        if any(p.startswith(".") or p in _SKIPPED_DIRS for p in parts):
            continue
        if any((root.joinpath(*parts[: i + 1]) / "pyvenv.cfg").exists() for i in range(len(parts))):
            continue  # a virtual environment inside the repository
        yield path


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    if not parts or not all(p.isidentifier() for p in parts):
        raise InvalidArgument(
            f"Cannot import {path}: its path relative to {root} is not a Python module name "
            "(use letters, digits and '_')."
        )
    return ".".join(parts)


def _import(root: Path, path: Path) -> ModuleType:
    name = _module_name(root, path)
    loaded = sys.modules.get(name)
    ours = getattr(loaded, _MARK, False)  # an earlier load of a repository: replaced
    if (
        loaded is not None
        and not ours
        and Path(getattr(loaded, "__file__", None) or "").resolve() != path
    ):
        raise InvalidArgument(
            f"Cannot import {path} as module {name!r}: that name is taken by "
            f"{getattr(loaded, '__file__', None) or 'a built-in module'}. Rename the file."
        )
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py file always has one
        raise InvalidArgument(f"Cannot import {path}.")
    module = importlib.util.module_from_spec(spec)
    setattr(module, _MARK, True)
    sys.modules[name] = module  # decorators and dataclasses look the module up while it runs
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(name, None)
        where = traceback.extract_tb(exc.__traceback__)[-1]
        raise InvalidArgument(
            f"Loading {path} failed at line {where.lineno}: {type(exc).__name__}: {exc}"
        ) from exc
    return module


def _anchored(definition: Definition, folder: Path) -> Definition:
    if isinstance(definition, FeatureView) and isinstance(definition.source, FileSource):
        source = definition.source
        if "://" not in source.path and not Path(source.path).is_absolute():
            absolute = str((folder / source.path).resolve())
            return dataclasses.replace(
                definition, source=dataclasses.replace(source, path=absolute)
            )
    return definition


def load_definitions(path: str | Path) -> list[Definition]:
    """The definitions at module level in a ``.py`` file or in the ``.py`` files of a folder.

    In file order, then order of appearance; an object bound to two names is
    collected once. InvalidArgument when the path is missing, not Python,
    fails to import (with the line), or defines nothing.
    """
    target = Path(path).expanduser().resolve()
    if target.is_dir():
        root, files = target, list(_python_files(target))
    elif target.is_file() and target.suffix == ".py":
        root, files = target.parent, [target]
    elif target.exists():
        raise InvalidArgument(f"{path} is not a Python file (.py) or a folder of them.")
    else:
        raise InvalidArgument(f"{path} does not exist.")
    found: list[Definition] = []
    seen: set[int] = set()
    classes = tuple(DEFINITION_KINDS.values())
    added = str(root) not in sys.path
    if added:
        sys.path.insert(0, str(root))
    try:
        for file in files:
            module = _import(root, file)
            for value in list(vars(module).values()):
                if isinstance(value, classes) and id(value) not in seen:
                    seen.add(id(value))
                    found.append(_anchored(value, file.parent))
    finally:
        # Only while importing: left on sys.path, a file named like a standard module
        # (json.py) would shadow it here and in every process spawned from here.
        if added and str(root) in sys.path:
            sys.path.remove(str(root))
    if not found:
        raise InvalidArgument(
            f"{path} defines no entity, feature view, on-demand feature view or feature "
            "service at module level."
        )
    return found
