"""Provenance of a run: the code it ran and the environment it ran in.

Both are captured at run start without the user asking, so that
``loopml reproduce`` can check out the commit, apply the dirty diff and
install the same packages::

    from loopml.provenance import capture_code, capture_environment, diff_environments

    code = capture_code()             # git commit, branch, remote, dirty diff, entry point
    code.tags()                       # run tags (mlflow.source.git.commit, loopml.git.dirty, ...)
    if code.diff:                     # `git apply` reproduces the tree on a checkout of code.commit
        ...

    lock = capture_environment()      # cached per process
    lock.text()                       # requirements file: pip install -r works elsewhere
    lock.digest()                     # store the lock once per distinct environment
    diff_environments(EnvironmentLock.parse(old_text), lock).changed

Nothing here fails a run: what could not be recorded (no git, no commits, a
diff over the size cap, unreadable package metadata) is listed in ``warnings``.
"""

from loopml.provenance._code import CodeState, capture_code, strip_credentials
from loopml.provenance._environment import (
    EnvironmentDiff,
    EnvironmentLock,
    canonical_name,
    capture_environment,
    diff_environments,
)

__all__ = [
    "CodeState",
    "EnvironmentDiff",
    "EnvironmentLock",
    "canonical_name",
    "capture_code",
    "capture_environment",
    "diff_environments",
    "strip_credentials",
]
