"""Multi-run sweeps: one list of plain overrides per combination, as Hydra's ``-m`` starts them.

``train.lr=0.01,0.1``, ``seed=range(1,4)`` and ``model=choice(rf,xgb)`` each give several
values; the runs are their cartesian product with the first override varying slowest.
Each value is re-emitted as the exact text the user wrote (quotes and brackets kept), so
every run's overrides parse back to the same values with ``parse_override``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

from loopml.configuration._overrides import FORMS, Call, Element, parse_value_list, split_head
from loopml.core.errors import InvalidArgument

_PREFIXES = {None: "", "+": "+", "++": "++", "~": "~"}


def expand_sweep(overrides: Sequence[str], *, max_runs: int = 10_000) -> list[list[str]]:
    """Every combination of the sweep values, in cartesian order (first override slowest).

    Overrides without a sweep appear unchanged in every run. No sweep at all gives one run.
    More than ``max_runs`` combinations raises ``InvalidArgument`` with the count, before
    anything is expanded, so a typo such as ``range(0,1000000)`` cannot exhaust memory.
    """
    if isinstance(overrides, str):
        raise InvalidArgument(
            f"expand_sweep takes a list of overrides, not one string {overrides!r}; "
            f"pass [{overrides!r}]."
        )
    choices = [_values(text) for text in overrides]
    count = math.prod(len(values) for values in choices)
    if count > max_runs:
        sizes = " x ".join(str(len(values)) for values in choices if len(values) > 1)
        raise InvalidArgument(
            f"The sweep has {count} combinations ({sizes}), more than max_runs={max_runs}; "
            f"narrow the sweep or raise max_runs."
        )
    return [list(combination) for combination in itertools.product(*choices)]


def _values(text: str) -> list[str]:
    """The plain overrides one swept override stands for."""
    prefix, key, rest = split_head(text)
    if rest is None:
        if prefix != "~":
            raise InvalidArgument(f"Malformed override {text!r}: missing '=value'; {FORMS}.")
        return [text]
    items = parse_value_list(rest, text)
    if len(items) == 1 and isinstance(items[0], Element):
        return [text]
    head = f"{_PREFIXES[prefix]}{key}="
    values: list[str] = []
    for item in items:
        raws = _call_values(item, text) if isinstance(item, Call) else [item.raw]
        values.extend(head + raw for raw in raws)
    return values


def _call_values(call: Call, text: str) -> list[str]:
    if call.name == "choice":
        if not call.args:
            raise InvalidArgument(f"In {text!r}: choice() needs at least one value.")
        return [arg.raw for arg in call.args]
    return [_number_text(number) for number in _range(call, text)]


def _range(call: Call, text: str) -> list[int | float]:
    """``range(stop)``, ``range(start, stop)``, ``range(start, stop, step)``; floats allowed.

    Decimal arithmetic on the written numbers keeps ``range(0,0.3,0.1)`` at 0.1 and 0.2
    instead of 0.30000000000000004-style drift.
    """
    usage = "range(stop), range(start, stop) or range(start, stop, step) with numbers"
    numbers = [arg.value for arg in call.args]
    valid = all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers)
    if not valid or not 1 <= len(numbers) <= 3:
        raise InvalidArgument(f"In {text!r}: {call.raw} is not valid; use {usage}.")
    try:
        decimals = [Decimal(arg.raw.replace("_", "")) for arg in call.args]
    except InvalidOperation as exc:
        raise InvalidArgument(f"In {text!r}: {call.raw} is not valid; use {usage}.") from exc
    if len(decimals) == 1:
        decimals.insert(0, Decimal(0))
    start, stop = decimals[0], decimals[1]
    step = decimals[2] if len(decimals) == 3 else Decimal(1)
    if not all(d.is_finite() for d in (start, stop, step)) or step == 0:
        raise InvalidArgument(f"In {text!r}: {call.raw} needs finite numbers and a non-zero step.")
    count = max(0, math.ceil((stop - start) / step))
    if count == 0:
        raise InvalidArgument(f"In {text!r}: {call.raw} gives no value; check start, stop, step.")
    if count > 1_000_000:
        raise InvalidArgument(f"In {text!r}: {call.raw} gives {count} values; narrow it.")
    as_int = all(isinstance(n, int) for n in numbers)
    values = [start + step * index for index in range(count)]
    return [int(v) if as_int else float(v) for v in values]


def _number_text(number: int | float) -> str:
    return repr(number)
