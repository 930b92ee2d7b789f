"""The ``loopml`` command line (Typer + Rich): thin, every rule lives in the services.

This package module loads nothing itself: the entry point's fast lanes
(:mod:`loopml._entry`) import modules under it without paying for Typer
(~60 ms). The application is in :mod:`loopml.cli._app`; ``loopml.cli.app``
still names it (built on first use).
"""

from __future__ import annotations

from typing import Any

_FROM_APP = ("app", "build_app", "invoked_name", "_root")


def main() -> None:
    """Entry point of the ``loopml`` command (after the fast lanes)."""
    from loopml.cli._app import main as run

    run()


def __getattr__(name: str) -> Any:
    """``app`` and the application's helpers, loaded with Typer on first use."""
    if name in _FROM_APP:
        from loopml.cli import _app

        return getattr(_app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
