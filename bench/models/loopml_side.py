"""The loopml side of the model packaging benchmark; runs in the project venv.

    .venv/bin/python bench/models/loopml_side.py OUT_JSON WORK_DIR

``loopml.models.save_model`` (skops, digests, signature from the example),
``load_model`` (digest check, trusted types) and ``LoadedModel.predict``
(signature enforced).
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import pandas as pd
from _cases import main

from loopml import models


class LoopmlPackager:
    name = "loopml"
    version = version("loopml")

    def save(self, model: Any, path: Path, example: pd.DataFrame) -> None:
        models.save_model(model, path, input_example=example)

    def load(self, path: Path) -> Any:
        return models.load_model(path)


if __name__ == "__main__":
    main(LoopmlPackager())
