"""The Typer application of the ``loopml`` command: its groups and commands, built on demand."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib import import_module
from typing import Any

import typer

# Each name the ``loopml`` command takes: (module under loopml.cli, attribute). A
# group is a Typer app of its own, a command a function. Only the module of the
# command invoked is imported and only its commands are built (Typer inspects
# every parameter of every command it registers): that halves the start of a
# short command such as ``loopml data add``. ``--help`` and unknown names get
# the whole CLI, so listings and "did you mean" stay complete.
_GROUPS: dict[str, tuple[str, str]] = {
    "experiments": ("experiments", "app"),
    "runs": ("runs", "app"),
    "models": ("models", "app"),
    "deployments": ("deployments", "app"),
    "data": ("data", "app"),
    "datasets": ("datasets", "app"),
    "tune": ("tune", "app"),
    "pipelines": ("pipelines", "app"),
    "monitor": ("monitor", "app"),
    "alerts": ("alerts", "app"),
    "policies": ("policies", "app"),
    "features": ("features", "app"),
    "ci": ("ci", "app"),
    "users": ("users", "app"),
    "tokens": ("tokens", "app"),
    "workspaces": ("workspaces", "app"),
    "audit": ("audit", "app"),
    "db": ("maintenance", "db_app"),
}
_COMMANDS: dict[str, tuple[str, str]] = {
    "gc": ("maintenance", "gc"),
    "quickstart": ("quickstart", "quickstart"),
    "server": ("server", "server"),
    "serve": ("serve", "serve"),
    "sync": ("sync", "sync"),
    "validate": ("validate", "validate"),
    "drift": ("drift", "drift"),
    "reproduce": ("repro", "reproduce"),
    "lineage": ("lineage", "lineage"),
    "login": ("login", "login"),
    "logout": ("login", "logout"),
}
_ROOT_OPTIONS_WITH_VALUE = ("--tracking-uri",)


def _root(
    ctx: typer.Context,
    tracking_uri: str = typer.Option(
        None,
        "--tracking-uri",
        envvar="LOOPML_TRACKING_URI",
        help="sqlite:///path/loopml.db or postgresql+psycopg://... (default: ~/.loopml).",
    ),
) -> None:
    ctx.obj = {"tracking_uri": tracking_uri}


def build_app(names: Iterable[str] | None = None) -> typer.Typer:
    """The ``loopml`` CLI with every command, or only the groups and commands ``names``."""
    app = typer.Typer(
        help="loopml: track, version, validate, deploy and monitor machine-learning models.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name in [*_GROUPS, *_COMMANDS] if names is None else names:
        if name in _GROUPS:
            module, attribute = _GROUPS[name]
            app.add_typer(getattr(import_module(f"loopml.cli.{module}"), attribute), name=name)
        else:
            module, attribute = _COMMANDS[name]
            app.command(name)(getattr(import_module(f"loopml.cli.{module}"), attribute))
    return app


def invoked_name(args: list[str]) -> str | None:
    """The group or command ``args`` invoke, if it is known; None for help and the unknown."""
    rest = iter(args)
    for arg in rest:
        if arg in _ROOT_OPTIONS_WITH_VALUE:
            next(rest, None)
            continue
        if arg.startswith(tuple(f"{option}=" for option in _ROOT_OPTIONS_WITH_VALUE)):
            continue
        if arg.startswith("-"):
            return None
        return arg if arg in _GROUPS or arg in _COMMANDS else None
    return None


def __getattr__(name: str) -> Any:
    """``loopml.cli.app``: the whole CLI, built on first use (tests, documentation)."""
    if name == "app":
        app = build_app()
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Entry point of the ``loopml`` script."""
    name = invoked_name(sys.argv[1:])
    build_app(None if name is None else [name])()
