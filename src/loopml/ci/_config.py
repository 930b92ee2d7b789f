"""The CI configuration: one checked-in YAML file, overridden by command-line options.

A pull request's evaluation must be the same in every run and for every
reviewer, so what it evaluates (holdout data, target, slices, sensitive
features), what it compares with (the baseline) and which gates decide live
in the repository (``loopml-ci.yaml`` by default); the command line adds what
changes per run, such as the candidate model's URI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from loopml.core.errors import InvalidArgument, NotFound
from loopml.evaluation import Check, as_check

DEFAULT_CONFIG = "loopml-ci.yaml"


@dataclass(frozen=True)
class CiConfig:
    """What ``loopml ci`` evaluates, against what, and with which gates."""

    model: str | None = None
    data: str | None = None
    target: str | None = None
    task: str | None = None
    slices: tuple[Any, ...] = ()
    sensitive_features: tuple[str, ...] = ()
    baseline: str | None = None
    train_data: str | None = None
    gates: tuple[Any, ...] = ()
    register_name: str | None = None
    alias: str = "champion"
    trust_pickle: bool = False
    root: Path = field(default_factory=Path.cwd)

    def checks(self) -> list[Check]:
        """The gates, parsed (a malformed gate is an error before anything runs)."""
        return [as_check(g) for g in self.gates]

    def path(self, value: str | None) -> str | None:
        """A data path from the file, relative to the file's folder."""
        if value is None or "://" in value or os.path.isabs(value):
            return value
        return str(self.root / value)

    def require(self, *names: str) -> None:
        for name in names:
            if getattr(self, name) in (None, ""):
                option = name.replace("_", "-")
                raise InvalidArgument(
                    f"No {name} given: pass --{option} or set '{name}' in {DEFAULT_CONFIG}."
                )

    def merged(self, **overrides: Any) -> CiConfig:
        """This configuration with the command-line values that were given."""
        given = {k: v for k, v in overrides.items() if v not in (None, (), [])}
        for key in ("slices", "sensitive_features", "gates"):
            if key in given:
                given[key] = tuple(given[key])
        return replace(self, **given)


_KEYS = {f.name for f in fields(CiConfig)} - {"root", "register_name"}


def load_config(path: str | os.PathLike[str] | None) -> CiConfig:
    """Read the CI file; without one, ``loopml-ci.yaml`` in the current folder if it exists."""
    explicit = path is not None
    file = Path(path) if path is not None else Path(DEFAULT_CONFIG)
    if not file.is_file():
        if explicit:
            raise NotFound(f"No CI configuration at {str(file)!r}.")
        return CiConfig()
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidArgument(f"{file} must hold a mapping of settings.")
    register = data.pop("register", None) or {}
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        raise InvalidArgument(
            f"{file}: unknown setting {unknown[0]!r} "
            f"(known: {', '.join(sorted(_KEYS | {'register'}))})."
        )
    if not isinstance(register, dict):
        raise InvalidArgument(f"{file}: 'register' is a mapping with 'name' and 'alias'.")
    values: dict[str, Any] = dict(data)
    for key in ("slices", "sensitive_features", "gates"):
        value = values.get(key) or []
        if not isinstance(value, list):
            raise InvalidArgument(f"{file}: {key!r} must be a list.")
        values[key] = tuple(value)
    config = CiConfig(
        **values,
        register_name=register.get("name"),
        alias=str(register.get("alias", "champion")),
        root=file.resolve().parent,
    )
    config.checks()
    return config
