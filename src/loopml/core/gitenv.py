"""The environment every git subprocess of loopml runs with.

Data repositories, run provenance and ``loopml reproduce`` all shell out to
git; one definition keeps them deterministic on any user's machine.
"""

from __future__ import annotations

import os


def git_env() -> dict[str, str]:
    """No pager, no prompts, English messages (one is matched), paths taken literally."""
    env = dict(os.environ)
    env.update(
        {
            "GIT_PAGER": "cat",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LITERAL_PATHSPECS": "1",
            "LC_ALL": "C",
            "LANGUAGE": "C",
        }
    )
    return env
