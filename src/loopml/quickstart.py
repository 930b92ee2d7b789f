"""The quickstart: the whole closed loop, run by ``make demo`` and ``loopml quickstart``.

The demo itself lives in :mod:`loopml.demo`; this module says where a run of
it goes. Every run gets a fresh folder (a fresh home for its servers) under
``<LOOPML_HOME>/demo/``, so a demo never touches the user's own runs,
models or data, and two demos never share state.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

from loopml.core.errors import InvalidArgument
from loopml.core.settings import Settings

# What the demo imports, beyond loopml's core: servers, models, data, pipelines, tuning.
_NEEDS = ("sklearn", "skops", "optuna", "fastapi", "uvicorn", "pyarrow", "cloudpickle", "croniter")


def require_extras() -> None:
    """InvalidArgument naming the install command when a part the demo needs is missing."""
    missing = [name for name in _NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise InvalidArgument(
            f"The demo needs {', '.join(missing)}: pip install 'loopml[quickstart]'."
        )


def demo_folder(settings: Settings, folder: Path | None = None) -> Path:
    """Where a demo run keeps everything: ``folder`` if given (must be empty or absent),
    else a new ``<home>/demo/<UTC time>`` folder."""
    if folder is None:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        folder = settings.home.expanduser() / "demo" / stamp
        suffix = 1
        while folder.exists():
            suffix += 1
            folder = folder.with_name(f"{stamp}-{suffix}")
    folder = folder.expanduser().resolve()
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise InvalidArgument(
            f"The demo folder {folder} is not empty: give a new or empty folder, so the demo "
            "starts from nothing."
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
