"""Cold start: serving a model folder must not load the tracking store's stack.

Each check runs in a fresh interpreter, since this test process has long
imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Imported only when a model URI, a deployment or the prediction log needs the store.
STORE_STACK = ("sqlalchemy", "loopml.tracking", "loopml.store", "loopml.registry")


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "code",
    [
        "import loopml.serving",
        "import loopml.cli",
        "import loopml, loopml.models",
    ],
)
def test_the_serve_path_does_not_import_the_store(code: str) -> None:
    loaded = _loaded_after(code)
    assert not loaded & set(STORE_STACK), sorted(loaded & set(STORE_STACK))
    assert "loopml.deployments" not in loaded  # and so no pyarrow prediction log


def test_the_lazy_names_still_resolve() -> None:
    loaded = _loaded_after(
        "import loopml as lm, loopml.models as m\n"
        "assert lm.start_run.__module__ == 'loopml.tracking._fluent'\n"
        "assert m.log_model.__module__ == 'loopml.models._log'\n"
        "assert 'start_run' in dir(lm) and 'autolog' in dir(m)\n"
        "assert lm.models is m and lm.tracking.Client is lm.Client\n"
        "assert lm.log_labels is lm.deployments.log_labels\n"
        "assert sorted(lm.__all__) == sorted(set(lm.__all__))\n"
        "assert all(getattr(lm, name) is not None for name in lm.__all__)"
    )
    assert "sqlalchemy" in loaded
