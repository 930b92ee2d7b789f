"""``LoadedModel``: a model ready to predict, with its signature enforced.

This is the serving hot path. Everything that can be decided once (the
column plan from the signature, the bound predict method of the flavor) is
decided at load; a ``predict`` call runs the plan and the native model and
nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loopml.core.errors import InvalidArgument
from loopml.models._enforce import make_plan
from loopml.models._example import read_example
from loopml.models._flavor import Native
from loopml.models._manifest import Manifest
from loopml.models._signature import Signature


class LoadedModel:
    """A loaded model: ``predict`` checks input against the signature, then predicts.

    ``raw`` is the library's own object (the estimator, booster, ONNX
    Runtime session or user class instance); ``manifest`` says how it was
    saved.
    """

    __slots__ = ("__weakref__", "_native", "_plan", "_predict", "manifest", "path")

    def __init__(self, manifest: Manifest, native: Native, path: Path) -> None:
        self.manifest = manifest
        self.path = path
        self._native = native
        self._predict = native.predict
        self._plan = make_plan(manifest.signature.inputs if manifest.signature else None)

    @property
    def flavor(self) -> str:
        return self.manifest.flavor

    @property
    def signature(self) -> Signature | None:
        return self.manifest.signature

    @property
    def raw(self) -> Any:
        """The native model object."""
        return self._native.raw

    @property
    def has_predict_proba(self) -> bool:
        return self._native.predict_proba is not None

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict on a DataFrame, a dict of lists, a list of dicts or a NumPy array.

        The input is checked against the signature first: a missing column,
        an unexpected one, or a value that cannot be converted without loss
        is an InvalidArgument naming the column. ``params`` is accepted for
        MLflow's pyfunc interface and ignored.
        """
        return self._predict(self._plan(data))

    def predict_proba(self, data: Any) -> Any:
        """Class probabilities, for models that have them."""
        proba = self._native.predict_proba
        if proba is None:
            raise InvalidArgument(
                f"This {self.flavor} model ({type(self.raw).__name__}) has no predict_proba."
            )
        return proba(self._plan(data))

    def input_example(self) -> Any:
        """The input example saved with the model (a DataFrame or an array), or None."""
        return read_example(self.path, self.manifest.saved_input_example_info)

    def __repr__(self) -> str:
        model = type(self.raw).__name__
        return f"LoadedModel(flavor={self.flavor!r}, model={model}, path={str(self.path)!r})"
