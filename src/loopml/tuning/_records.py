"""A finished Optuna trial as a run, and back.

A trial's run holds what people read and search (params, the objective value
as the metric ``value``, intermediate values as the metric
``intermediate_value`` by step, the state as a tag) and one exact record for
machines: the JSON tag ``loopml.tuning.record`` with the parameters in
Optuna's internal representation, their distributions, the values,
intermediate values and attributes. Resuming a study reads only that record,
so samplers get back exactly what they saw (a CMA-ES state lives in the
trial's system attributes). A record longer than one tag holds continues in
``loopml.tuning.record.2``, ``.3``...

Run status: COMPLETE and PRUNED trials are FINISHED runs (a pruned trial
stopped as designed; the tag says PRUNED), failed trials are FAILED runs
with the exception in ``loopml.tuning.fail_reason``, and a trial cut short
by Ctrl-C is a KILLED run (state FAIL, as Optuna records it).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import orjson
from optuna.distributions import BaseDistribution, distribution_to_json, json_to_distribution
from optuna.trial import FrozenTrial, TrialState

from loopml.core.errors import CorruptObject
from loopml.store.records import Metric, NewRun, Param, Run, RunStatus, RunTag

TAG_ROLE = "loopml.tuning.role"
TAG_STUDY = "loopml.tuning.study"
TAG_STATE = "loopml.tuning.state"
TAG_RECORD = "loopml.tuning.record"
TAG_FAIL_REASON = "loopml.tuning.fail_reason"
TAG_TRACEBACK = "loopml.tuning.traceback"
METRIC_VALUE = "value"
METRIC_INTERMEDIATE = "intermediate_value"
RECORD_VERSION = 1

TAG_LIMIT = 8000  # a tag value's length limit (tracking validation)
PARAM_LIMIT = 6000

_STATUS = {
    TrialState.COMPLETE: RunStatus.FINISHED,
    TrialState.PRUNED: RunStatus.FINISHED,
    TrialState.FAIL: RunStatus.FAILED,
}
_BAD_KEY_CHARS = re.compile(r"[^/\w.\- :]")


def value_keys(n_objectives: int) -> list[str]:
    """Metric keys of the objective values: ``value``, or ``value_0``, ``value_1``..."""
    if n_objectives == 1:
        return [METRIC_VALUE]
    return [f"{METRIC_VALUE}_{i}" for i in range(n_objectives)]


@lru_cache(maxsize=4096)
def param_key(name: str) -> str:
    """A param key tracking accepts for an Optuna parameter name (the record keeps it exact)."""
    key = _BAD_KEY_CHARS.sub("_", name) or "_"
    parts = key.split("/")
    if key.startswith("/") or any(p in ("", ".", "..") for p in parts):
        key = key.replace("/", "_")
    if key in (".", ".."):
        key = "_" * len(key)
    return key[:250]


# The last distribution seen under each parameter name and its JSON: a trial's
# distributions are new objects equal to the previous trial's (one comparison
# here; hashing one for a cache costs twice that).
_LAST_DISTRIBUTIONS: dict[str, tuple[BaseDistribution, str]] = {}


def _distribution_json(name: str, distribution: BaseDistribution) -> str:
    last = _LAST_DISTRIBUTIONS.get(name)
    if last is not None and (last[0] is distribution or last[0] == distribution):
        return last[1]
    text = distribution_to_json(distribution)
    if len(_LAST_DISTRIBUTIONS) > 4096:
        _LAST_DISTRIBUTIONS.clear()
    _LAST_DISTRIBUTIONS[name] = (distribution, text)
    return text


def _ms(moment: datetime.datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp() * 1000)


def _jsonable(value: Any) -> Any:
    # NumPy scalars and the like become plain numbers; anything else its repr.
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except (TypeError, ValueError):
            pass
    return repr(value)


def _encode(record: Mapping[str, Any], finite: bool) -> str:
    # orjson is several times faster but writes NaN and infinity as null: it takes the
    # common record (finite values, no attributes, whose contents nobody checked).
    if finite and "user_attrs" not in record and "system_attrs" not in record:
        return orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS).decode()
    return json.dumps(record, separators=(",", ":"), default=_jsonable)


def _record_tags(record: Mapping[str, Any], finite: bool) -> list[RunTag]:
    text = _encode(record, finite)
    if len(text) <= TAG_LIMIT:
        return [RunTag(TAG_RECORD, text)]
    parts = [text[i : i + TAG_LIMIT] for i in range(0, len(text), TAG_LIMIT)]
    tags = [RunTag(TAG_RECORD, parts[0])]
    tags.extend(RunTag(f"{TAG_RECORD}.{i}", part) for i, part in enumerate(parts[1:], start=2))
    return tags


# TrialState.name is a descriptor call per read; this is a dict lookup.
_STATE_NAMES = {state: state.name for state in TrialState}


def trial_to_run(
    trial: FrozenTrial,
    *,
    parent_run_id: str,
    value_names: list[str],
    user_id: str = "",
    fail_reason: str | None = None,
    traceback_text: str | None = None,
    killed: bool = False,
) -> NewRun:
    """The run of a finished trial, ready for ``Client.create_runs``.

    On the per-trial path of every study: written with plain loops and no
    intermediate objects (a thousand-trial study calls it a thousand times).
    """
    started, completed = trial.datetime_start, trial.datetime_complete
    end = _ms(completed)
    start = _ms(started)
    if start is None:
        start = end or 0
    if end is None:
        end = start
    state = _STATE_NAMES[trial.state]
    distributions = trial.distributions
    params = trial.params
    values = trial.values
    intermediate = trial.intermediate_values
    record: dict[str, Any] = {
        "v": RECORD_VERSION,
        "number": trial.number,
        "state": state,
        "values": values,
        "start": None if started is None else started.isoformat(),
        "end": None if completed is None else completed.isoformat(),
        "params": {name: distributions[name].to_internal_repr(v) for name, v in params.items()},
        "distributions": {name: _distribution_json(name, d) for name, d in distributions.items()},
    }
    finite = True
    metrics: list[Metric] = []
    if values is not None:
        for key, value in zip(value_names, values, strict=False):
            finite = finite and math.isfinite(value)
            metrics.append(Metric(key, float(value), end, 0))
    if intermediate:
        record["intermediate"] = intermediate
        for step, value in intermediate.items():
            finite = finite and math.isfinite(value)
            metrics.append(Metric(METRIC_INTERMEDIATE, float(value), end, int(step)))
    if trial.user_attrs:
        record["user_attrs"] = trial.user_attrs
    if trial.system_attrs:
        record["system_attrs"] = trial.system_attrs
    tags = _record_tags(record, finite)
    tags.append(RunTag(TAG_STATE, state))
    if fail_reason is not None:
        tags.append(RunTag(TAG_FAIL_REASON, fail_reason[:TAG_LIMIT]))
    if traceback_text:
        tags.append(RunTag(TAG_TRACEBACK, traceback_text[-TAG_LIMIT:]))
    run_params: list[Param] = []
    seen: set[str] = set()
    for name, value in params.items():
        key = param_key(name)
        if key not in seen:  # two names that sanitise alike: the record keeps both
            seen.add(key)
            run_params.append(Param(key, str(value)[:PARAM_LIMIT]))
    return NewRun(
        f"trial-{trial.number}",
        start,
        end,
        RunStatus.KILLED if killed else _STATUS.get(trial.state, RunStatus.FAILED),
        parent_run_id,
        user_id,
        tuple(metrics),
        tuple(run_params),
        tuple(tags),
    )


def _record_text(tags: Mapping[str, str]) -> str | None:
    first = tags.get(TAG_RECORD)
    if first is None:
        return None
    parts = [first]
    index = 2
    while (part := tags.get(f"{TAG_RECORD}.{index}")) is not None:
        parts.append(part)
        index += 1
    return "".join(parts)


def _moment(text: str | None) -> datetime.datetime | None:
    return None if text is None else datetime.datetime.fromisoformat(text)


def run_to_trial(run: Run) -> FrozenTrial | None:
    """The trial a run records, or None for a run that is not a trial's."""
    text = _record_text(run.data.tags)
    if text is None:
        return None
    try:
        record = json.loads(text)
        distributions = {
            name: json_to_distribution(data) for name, data in record["distributions"].items()
        }
        params = {
            name: distributions[name].to_external_repr(value)
            for name, value in record["params"].items()
        }
        state = TrialState[record["state"]]
        trial = FrozenTrial(
            number=int(record["number"]),
            state=state,
            value=None,
            values=record.get("values"),
            datetime_start=_moment(record.get("start")),
            datetime_complete=_moment(record.get("end")),
            params=params,
            distributions=distributions,
            user_attrs=record.get("user_attrs", {}),
            system_attrs=record.get("system_attrs", {}),
            intermediate_values={
                int(step): float(v) for step, v in record.get("intermediate", {}).items()
            },
            trial_id=-1,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CorruptObject(
            f"Run {run.info.run_id} has an unreadable trial record ({exc}): delete that run "
            "(`loopml runs delete`) to resume the study without it."
        ) from exc
    return trial


def state_counts(trials: list[FrozenTrial]) -> dict[str, int]:
    """How many trials ended in each state (for summaries)."""
    counts = {state.name: 0 for state in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    return counts
