"""``@lm.step``: a plain Python function marked as a pipeline step.

Inside a pipeline being built, calling a step records it in the DAG and
returns placeholders for its outputs; anywhere else it is the plain
function. The options say how it runs: retries, timeout, resources, caching,
how many outputs and whether an output may be pickled.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import hash_bytes
from loopml.executors._base import check_resources, check_timeout
from loopml.pipelines._build import record_call

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,199}$")
_OUTPUT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,99}$")
DEFAULT_OUTPUT = "output"


@dataclass(frozen=True)
class StepOptions:
    """How a step runs (checked when the step is declared)."""

    name: str
    retries: int = 0
    retry_delay: float = 0.0
    timeout: float | None = None
    resources: Mapping[str, float] = field(default_factory=dict)
    cache: bool = True
    outputs: tuple[str, ...] = (DEFAULT_OUTPUT,)
    allow_pickle: bool = False

    @property
    def attempts(self) -> int:
        return self.retries + 1


def check_name(name: object, what: str) -> str:
    """A step or pipeline name: letters, digits, ``_ . -`` (it names runs and paths)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"Invalid {what} name {name!r}: use letters, digits, '_', '.' and '-' "
            "(at most 200 characters, not starting with '.' or '-')."
        )
    return name


def _check_outputs(outputs: str | Sequence[str] | None) -> tuple[str, ...]:
    if outputs is None:
        return (DEFAULT_OUTPUT,)
    names = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    if not names:
        raise InvalidArgument("outputs= needs at least one name, e.g. outputs=('train', 'test').")
    for name in names:
        if not isinstance(name, str) or not _OUTPUT.match(name):
            raise InvalidArgument(
                f"Invalid output name {name!r}: use a Python identifier, e.g. 'train_frame'."
            )
    if len(set(names)) != len(names):
        raise InvalidArgument(f"Output names must differ: {list(names)}.")
    return names


def _check_options(fn: Callable[..., Any], options: StepOptions) -> StepOptions:
    if isinstance(fn, Step):
        raise InvalidArgument(f"{fn.name!r} is a step already: apply @step once.")
    if not inspect.isfunction(fn):
        raise InvalidArgument(
            f"@step decorates functions, not {type(fn).__name__} objects: wrap it in a def."
        )
    if inspect.iscoroutinefunction(fn) or inspect.isasyncgenfunction(fn):
        raise InvalidArgument(f"Step {fn.__name__!r} is async: steps are plain functions.")
    check_name(options.name, "step")
    if isinstance(options.retries, bool) or not isinstance(options.retries, int):
        raise InvalidArgument(f"retries must be an int >= 0, not {options.retries!r}.")
    if options.retries < 0:
        raise InvalidArgument(f"retries must be an int >= 0, not {options.retries!r}.")
    delay = options.retry_delay
    if isinstance(delay, bool) or not isinstance(delay, int | float) or not math.isfinite(delay):
        raise InvalidArgument(f"retry_delay must be seconds >= 0, not {delay!r}.")
    if delay < 0:
        raise InvalidArgument(f"retry_delay must be seconds >= 0, not {delay!r}.")
    return StepOptions(
        name=options.name,
        retries=options.retries,
        retry_delay=float(delay),
        timeout=check_timeout(options.timeout),
        resources=check_resources(options.resources),
        cache=bool(options.cache),
        outputs=options.outputs,
        allow_pickle=bool(options.allow_pickle),
    )


class Step:
    """A pipeline step: ``fn`` with its options.

    Called while a pipeline is being built, it adds itself to the DAG and
    returns a placeholder per output (a tuple when it has several); called
    anywhere else, it simply runs ``fn``.
    """

    __name__: str  # set from the function by functools.update_wrapper
    __qualname__: str

    def __init__(self, fn: Callable[..., Any], options: StepOptions) -> None:
        self.options = _check_options(fn, options)
        self.fn = fn
        self._digest: str | None = None
        functools.update_wrapper(self, fn)

    @property
    def name(self) -> str:
        return self.options.name

    @property
    def qualified_name(self) -> str:
        return f"{self.fn.__module__}.{self.fn.__qualname__}"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return record_call(self, args, kwargs)

    def code_digest(self) -> str:
        """The hash of the step's source (with its decorator) and qualified name.

        Computed once per step object: the code that runs is the code that was
        imported, even if the file changes afterwards.
        """
        if self._digest is None:
            try:
                source = inspect.getsource(self.fn)
            except (OSError, TypeError):  # no source file (exec, some notebooks)
                code = self.fn.__code__
                source = repr((code.co_code, code.co_consts, code.co_names))
            self._digest = hash_bytes(f"{self.qualified_name}\n{source}".encode())
        return self._digest

    def __reduce__(self) -> tuple[Any, ...]:
        # By reference when the module holds this very step (workers import it);
        # otherwise by value, and cloudpickle sends the function's code.
        module, qualname = self.fn.__module__, self.fn.__qualname__
        if module != "__main__" and _find(module, qualname) is self:
            return (_step_by_reference, (module, qualname))
        return (Step, (self.fn, self.options))

    def __repr__(self) -> str:
        return f"<step {self.name!r} ({self.qualified_name})>"


def _find(module: str, qualname: str) -> Any:
    try:
        found: Any = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


def _step_by_reference(module: str, qualname: str) -> Step:
    found = _find(module, qualname)
    if not isinstance(found, Step):
        raise InvalidArgument(f"{module}.{qualname} is not a step in the worker's code.")
    return found


@overload
def step(fn: Callable[..., Any], /) -> Step: ...


@overload
def step(
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
    resources: Mapping[str, float] | None = None,
    cache: bool = True,
    outputs: str | Sequence[str] | None = None,
    allow_pickle: bool = False,
) -> Callable[[Callable[..., Any]], Step]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    retries: int = 0,
    retry_delay: float = 0.0,
    timeout: float | None = None,
    resources: Mapping[str, float] | None = None,
    cache: bool = True,
    outputs: str | Sequence[str] | None = None,
    allow_pickle: bool = False,
) -> Step | Callable[[Callable[..., Any]], Step]:
    """Mark a function as a pipeline step (``@lm.step`` or ``@lm.step(retries=2, ...)``).

    ``retries`` more attempts after a failure (or a timeout), ``retry_delay``
    seconds apart; ``timeout`` seconds per attempt, after which the step is
    stopped; ``resources`` for the executor (``{"cpu": 2, "gpu": 1}`` on
    Ray); ``cache=False`` always runs the step; ``outputs=("train", "test")``
    names several outputs (the function returns a tuple of that length);
    ``allow_pickle=True`` lets an output no safe format fits be stored with
    cloudpickle. ``name`` defaults to the function's name.
    """

    def decorate(func: Callable[..., Any]) -> Step:
        options = StepOptions(
            name=name if name is not None else getattr(func, "__name__", ""),
            retries=retries,
            retry_delay=retry_delay,
            timeout=timeout,
            resources=resources if resources is not None else {},
            cache=cache,
            outputs=_check_outputs(outputs),
            allow_pickle=allow_pickle,
        )
        return Step(func, options)

    if fn is not None:
        return decorate(fn)
    return decorate
