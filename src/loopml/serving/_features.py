"""Requests that carry entity keys: look the features up, then build the model's input.

A server started with a feature service (``loopml serve --feature-service``
or a deployment's ``feature_service``) takes requests whose rows hold the
entity join keys and any request-time fields. ``FeatureInputs.assemble``
looks up the service's features for those rows (in a small thread pool, so
a slow online store never blocks the event loop) and builds the model input:

- when the model's signature names its input columns, those columns in that
  order, each taken from the features or else from the request;
- without one, the service's features in the service's order.

It also returns the columns the prediction log records: the request's and
every looked-up feature value, so a logged prediction shows which feature
values the model saw. Numeric inputs become one array without pandas (a
DataFrame costs more than the lookup). Servers without a feature service
never reach this module.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from loopml.core.errors import InvalidArgument
from loopml.serving._payload import Payload, Table

if TYPE_CHECKING:
    from loopml.features._online_service import OnlineFeatures
    from loopml.models._signature import Signature

LOOKUP_THREADS = 4


class FeatureInputs:
    """The feature service of one server and the lookups that serve it."""

    def __init__(self, lookups: OnlineFeatures, service: str) -> None:
        self.lookups = lookups
        self.service = service
        self._pool = ThreadPoolExecutor(LOOKUP_THREADS, thread_name_prefix="loopml-features")

    def check(self) -> None:
        """Resolve the service now: an unknown service fails the start, not every request."""
        self.lookups.plan(self.service)

    async def assemble(
        self, payload: Payload, signature: Signature | None
    ) -> tuple[Payload, dict[str, list[Any]]]:
        """The model input for ``payload``'s entity rows, and the columns to log.

        A feature and a request field of the same name: the feature wins.
        """
        columns = _request_columns(payload, self.service)
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(
            self._pool, self.lookups.get_online, self.service, columns
        )
        merged = {**columns, **result.values}
        names = _input_names(signature)
        if names is None:
            names = list(result.features)
        else:
            missing = [n for n in names if n not in merged]
            if missing:
                raise InvalidArgument(
                    f"The model needs the input {missing[0]!r}, which is neither a feature of "
                    f"service {self.service!r} nor a field of the request."
                )
        return _model_input(merged, names), merged

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.lookups.close()


def _request_columns(payload: Payload, service: str) -> dict[str, list[Any]]:
    if isinstance(payload, Table):
        return {c: payload.values[:, i].tolist() for i, c in enumerate(payload.columns)}
    if isinstance(payload, pd.DataFrame):
        return {str(c): payload[c].tolist() for c in payload.columns}
    raise InvalidArgument(
        f"This server looks features up by feature service {service!r}: send named entity "
        "keys (dataframe_records, dataframe_split with columns, or inputs as columns), "
        "not a bare tensor."
    )


def _input_names(signature: Signature | None) -> list[str] | None:
    if signature is None or signature.inputs.is_tensor or not signature.inputs.has_names:
        return None
    return [str(name) for name in signature.inputs.names()]


_NUMBERS = frozenset({int, float, type(None)})


def _model_input(columns: dict[str, list[Any]], names: list[str]) -> Payload:
    """``names`` of ``columns``: one float array (nulls as NaN) when all are numbers."""
    picked = [columns[name] for name in names]
    if all(type(v) in _NUMBERS for column in picked for v in column):
        values = np.array(picked, dtype=np.float64).T
        return Table(tuple(names), np.ascontiguousarray(values))
    return pd.DataFrame(dict(zip(names, picked, strict=True)))
