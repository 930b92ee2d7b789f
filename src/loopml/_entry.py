"""The ``loopml`` script's entry point: fast lanes for ``loopml data status`` and ``add``.

``loopml data status`` is the command people run most, often from scripts
and prompts, and its useful work on 10,000 files takes ~0.1 s, while loading
Typer, Rich and the command modules (Typer checks parameters with pydantic)
takes ~0.15 s more. ``loopml data add`` comes next, and pays the same ~0.2 s
on top of its work. So the plain forms of both (``loopml data status``,
optionally ``-q``/``--quiet`` and paths; ``loopml data add PATH...``) are
answered here, printing the very lines the Typer commands print (they share
the code that prints them); everything else, ``--json``, ``--help`` and
anything unusual included, goes to :func:`loopml.cli.main` unchanged.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Run ``loopml`` (see the module docstring)."""
    code = _data_status(sys.argv[1:])
    if code is None:
        code = _data_add(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from loopml.cli import main as cli_main

    cli_main()


def _data_status(args: list[str]) -> int | None:
    """The exit code of a plain ``data status``, or None when the full CLI must answer."""
    if args[:2] != ["data", "status"]:
        return None
    quiet = False
    targets: list[str] = []
    for arg in args[2:]:
        if arg in ("-q", "--quiet"):
            quiet = True
        elif arg.startswith("-"):
            return None  # --json, --help, typos: the full CLI's parsing and messages
        else:
            targets.append(arg)
    from pathlib import Path

    from loopml.core.errors import LoopmlError
    from loopml.data._repo import DataRepo
    from loopml.data._status import status

    try:
        result = status(DataRepo.find(), [Path(t) for t in targets] or None)
    except LoopmlError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        return 1
    if quiet:
        return 0 if result.clean else 1
    print("\n".join(result.summary_lines()))
    return 0


def _data_add(args: list[str]) -> int | None:
    """The exit code of a plain ``data add PATH...``, or None when the full CLI must answer."""
    if args[:2] != ["data", "add"] or len(args) < 3 or any(a.startswith("-") for a in args[2:]):
        return None
    from pathlib import Path

    from loopml.cli._data_add import add_and_report
    from loopml.cli._output import print_error
    from loopml.core.errors import LoopmlError

    try:
        add_and_report([Path(arg) for arg in args[2:]])
    except LoopmlError as exc:
        print_error(exc)
        return 1
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)  # what the full CLI (Click) says
        return 1
    return 0
