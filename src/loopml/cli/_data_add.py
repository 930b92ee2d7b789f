"""What ``loopml data add PATH...`` does and prints, shared by the command and the fast lane."""

from __future__ import annotations

from pathlib import Path

from loopml.cli._data_progress import progress_bars, say
from loopml.cli._output import print_json


def add_and_report(paths: list[Path], *, as_json: bool = False) -> None:
    """Store ``paths`` in the cache, write their pointer files, and say so (or print JSON)."""
    from loopml.data._add import add as add_paths
    from loopml.data._repo import DataRepo

    repo = DataRepo.find()
    with progress_bars() as progress:
        pointers = add_paths(repo, paths, progress=progress)
    if as_json:
        print_json(pointers)
        return
    for path, pointer in zip(paths, pointers, strict=False):
        say(
            f"Added {path} ({pointer.files} files, {pointer.size:,} bytes). "
            f"Commit {path}.loopml with git."
        )
