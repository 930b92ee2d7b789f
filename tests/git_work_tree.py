"""A real, empty git work tree for tests of code that reads git (data pointers, the CLI).

Shared by tests/data and tests/cli: a fixed committer identity and no commit
signing, so ``git commit`` in a test never depends on the machine's git config.
"""

from __future__ import annotations

import subprocess
from pathlib import Path


def init_git_work_tree(root: Path) -> Path:
    """``git init`` a new folder ``root`` (branch main) with a committer identity."""
    root.mkdir()
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.name", "Loopml Tester"),
        ("config", "user.email", "tester@example.com"),
        ("config", "commit.gpgsign", "false"),
    ):
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)
    return root
