"""Data versioning: content-addressed datasets tracked by git pointer files.

``loopml data add PATH`` stores a file or folder in the loopml object store
(FastCDC chunks, BLAKE3 ids) and writes ``PATH.loopml`` for git; ``status``,
``checkout``, ``push``/``pull``/``fetch``, ``diff``, ``log``, ``verify`` and
``gc`` work from those pointers. The same functions back the CLI and the
Python API::

    import loopml.data as ld

    repo = ld.DataRepo.find()
    ld.add(repo, [Path("images")])
    with ld.open("images/cat.png", rev="v1") as f: ...

Names are imported on first use (PEP 562), so ``import loopml.data`` is cheap
on the CLI's hot path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.core.lazy import lazy_exports

if TYPE_CHECKING:
    from loopml.data._add import add
    from loopml.data._api import get, open
    from loopml.data._checkout import CheckoutReport, checkout
    from loopml.data._config import Remote, RepoConfig
    from loopml.data._diff import diff
    from loopml.data._gc import DataGcReport, gc
    from loopml.data._history import log
    from loopml.data._pointer import Pointer, read_pointer
    from loopml.data._progress import NO_PROGRESS, Progress
    from loopml.data._remote import fetch, pull, push
    from loopml.data._repo import DataRepo
    from loopml.data._snapshot import snapshot, snapshot_into
    from loopml.data._status import DataStatus, PointerStatus, status
    from loopml.data._verify import VerifyReport, verify

_EXPORTS = {
    "CheckoutReport": "loopml.data._checkout",
    "DataGcReport": "loopml.data._gc",
    "DataRepo": "loopml.data._repo",
    "DataStatus": "loopml.data._status",
    "NO_PROGRESS": "loopml.data._progress",
    "Pointer": "loopml.data._pointer",
    "PointerStatus": "loopml.data._status",
    "Progress": "loopml.data._progress",
    "Remote": "loopml.data._config",
    "RepoConfig": "loopml.data._config",
    "VerifyReport": "loopml.data._verify",
    "add": "loopml.data._add",
    "checkout": "loopml.data._checkout",
    "diff": "loopml.data._diff",
    "fetch": "loopml.data._remote",
    "gc": "loopml.data._gc",
    "get": "loopml.data._api",
    "log": "loopml.data._history",
    "open": "loopml.data._api",
    "pull": "loopml.data._remote",
    "push": "loopml.data._remote",
    "read_pointer": "loopml.data._pointer",
    "snapshot": "loopml.data._snapshot",
    "snapshot_into": "loopml.data._snapshot",
    "status": "loopml.data._status",
    "verify": "loopml.data._verify",
}

__all__ = [
    "NO_PROGRESS",
    "CheckoutReport",
    "DataGcReport",
    "DataRepo",
    "DataStatus",
    "Pointer",
    "PointerStatus",
    "Progress",
    "Remote",
    "RepoConfig",
    "VerifyReport",
    "add",
    "checkout",
    "diff",
    "fetch",
    "gc",
    "get",
    "log",
    "open",
    "pull",
    "push",
    "read_pointer",
    "snapshot",
    "snapshot_into",
    "status",
    "verify",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
