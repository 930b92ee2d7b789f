"""Building a pipeline's DAG from data passing.

While a pipeline function runs under ``building()``, each step call is
recorded as a node and returns ``Output`` placeholders; a node's upstream
steps are the ones whose placeholders it received. So the DAG is exactly the
data flow, and since a placeholder exists only once its step was called, it
is acyclic by construction (``Graph.order`` still checks).

A placeholder has no value while the pipeline is being built: using it as
one (``if out:``, ``out + 1``, ``len(out)``, ``f"{out}"``, handing it to
NumPy...) is a definition error naming the step, as is passing it inside a
container, to a step of another pipeline, or outside the build.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from loopml.core.errors import InvalidArgument
from loopml.pipelines._formats import check_literal, is_json_value

if TYPE_CHECKING:
    from loopml.pipelines._step import Step

_current: ContextVar[Builder | None] = ContextVar("loopml_pipeline_builder", default=None)
_MAX_DEPTH = 20


@dataclass(frozen=True)
class Ref:
    """An argument that is another step's output."""

    node: str
    output: str


@dataclass(frozen=True)
class Value:
    """An argument given as a value (a literal, JSON-able)."""

    value: Any


Arg = Ref | Value


@dataclass(frozen=True)
class Node:
    """One step call in a pipeline: its arguments and the steps it depends on."""

    name: str
    step: Step
    args: tuple[Arg, ...]
    kwargs: dict[str, Arg]
    params: dict[str, Any]  # the literal arguments, by parameter name (logged as params)
    upstream: tuple[str, ...]


@dataclass(frozen=True)
class Graph:
    """A pipeline's DAG: nodes in the order they were called (a topological order)."""

    pipeline: str
    nodes: dict[str, Node] = field(default_factory=dict)

    def order(self) -> list[str]:
        """Node names, every node after its upstream nodes; InvalidArgument on a cycle."""
        state: dict[str, int] = {}  # 1: on the current path, 2: done
        ordered: list[str] = []

        def visit(name: str, path: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                cycle = [*path[path.index(name) :], name]
                raise InvalidArgument(
                    f"Pipeline {self.pipeline!r} has a cycle: {' -> '.join(cycle)}. A step "
                    "cannot depend on its own outputs."
                )
            if name not in self.nodes:
                raise InvalidArgument(
                    f"Pipeline {self.pipeline!r}: step {path[-1]!r} needs {name!r}, which is "
                    "not one of its steps."
                )
            state[name] = 1
            for upstream in self.nodes[name].upstream:
                visit(upstream, [*path, name])
            state[name] = 2
            ordered.append(name)

        for name in self.nodes:
            visit(name, [])
        return ordered

    def dag(self) -> dict[str, list[str]]:
        """Each step's upstream steps (what ``show`` draws)."""
        return {name: list(node.upstream) for name, node in self.nodes.items()}

    def downstream(self, name: str) -> list[str]:
        """Every step that depends on ``name``, directly or not, in build order."""
        reached = {name}
        found = []
        for other, node in self.nodes.items():
            if other != name and reached.intersection(node.upstream):
                reached.add(other)
                found.append(other)
        return found


class Output:
    """A placeholder for a step's output while the pipeline is being built."""

    __slots__ = ("_builder", "_name", "_node")

    def __init__(self, builder: Builder, node: str, name: str) -> None:
        self._builder = builder
        self._node = node
        self._name = name

    @property
    def ref(self) -> Ref:
        return Ref(self._node, self._name)

    def __repr__(self) -> str:
        return f"<output {self._name!r} of step {self._node!r}>"

    def _misuse(self, what: str) -> NoReturn:
        raise InvalidArgument(
            f"Pipeline {self._builder.pipeline!r}: the output {self._name!r} of step "
            f"{self._node!r} has no value while the pipeline is being built, so it cannot be "
            f"used in {what}. Pass it to a step and do this inside the step."
        )

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        self._misuse("a condition (if/while/and/or)")

    def __eq__(self, other: object) -> bool:
        self._misuse("a comparison")

    def __ne__(self, other: object) -> bool:
        self._misuse("a comparison")

    def __lt__(self, other: object) -> bool:
        self._misuse("a comparison")

    __le__ = __gt__ = __ge__ = __lt__

    def __len__(self) -> int:
        self._misuse("len()")

    def __iter__(self) -> Iterator[Any]:
        self._misuse("a loop or unpacking (name several outputs with @step(outputs=(...)))")

    def __contains__(self, item: object) -> bool:
        self._misuse("an 'in' test")

    def __getitem__(self, key: object) -> Any:
        self._misuse("indexing")

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)  # protocol probes (copy, numpy...) must not break
        self._misuse(f"attribute access (.{name})")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._misuse("a call")

    def __str__(self) -> str:
        self._misuse("str()")

    def __format__(self, spec: str) -> str:
        self._misuse("string formatting")

    def __float__(self) -> float:
        self._misuse("float()")

    def __int__(self) -> int:
        self._misuse("int()")

    def __index__(self) -> int:
        self._misuse("an index")

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        self._misuse("a NumPy array")

    def __add__(self, other: object) -> Any:
        self._misuse("arithmetic")

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
    __floordiv__ = __rfloordiv__ = __mod__ = __rmod__ = __pow__ = __rpow__ = __matmul__ = __add__
    __and__ = __rand__ = __or__ = __ror__ = __xor__ = __rxor__ = __add__

    def __neg__(self) -> Any:
        self._misuse("arithmetic")

    __pos__ = __abs__ = __invert__ = __neg__

    def __reduce__(self) -> Any:
        self._misuse("pickling (only steps receive outputs)")


class Builder:
    """Records the step calls of one pipeline function."""

    def __init__(self, pipeline: str) -> None:
        self.pipeline = pipeline
        self.graph = Graph(pipeline)

    def add(self, step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        name = self._node_name(step.name)
        try:
            bound = inspect.signature(step.fn).bind(*args, **kwargs)
        except TypeError as exc:
            raise InvalidArgument(
                f"Pipeline {self.pipeline!r}: step {step.name!r} cannot be called like this: {exc}."
            ) from None
        params: dict[str, Any] = {}
        upstream: dict[str, None] = {}
        for key, value in _flatten(bound):
            if isinstance(value, Output):
                self._check_own(value, step.name)
                upstream[value._node] = None
            else:
                params[key] = self._check_value(value, step.name, key)
        bound.apply_defaults()  # defaults are logged too, when they are plain data
        for key, value in _flatten(bound):
            if key not in params and not isinstance(value, Output) and is_json_value(value):
                params[key] = value
        node = Node(
            name=name,
            step=step,
            args=tuple(self._arg(a) for a in args),
            kwargs={k: self._arg(v) for k, v in kwargs.items()},
            params=params,
            upstream=tuple(upstream),
        )
        self.graph.nodes[name] = node
        outputs = tuple(Output(self, name, out) for out in step.options.outputs)
        return outputs[0] if len(outputs) == 1 else outputs

    def _node_name(self, base: str) -> str:
        name, n = base, 1
        while name in self.graph.nodes:
            n += 1
            name = f"{base}_{n}"
        return name

    def _arg(self, value: Any) -> Arg:
        return value.ref if isinstance(value, Output) else Value(value)

    def _check_own(self, output: Output, step: str) -> None:
        if output._builder is not self:
            raise InvalidArgument(
                f"Pipeline {self.pipeline!r}: step {step!r} was given {output!r} from pipeline "
                f"{output._builder.pipeline!r}. Outputs only flow between steps of one "
                "pipeline: pass the value as a parameter instead."
            )

    def _check_value(self, value: Any, step: str, key: str) -> Any:
        where = _find_output(value, 0)
        if where is not None:
            raise InvalidArgument(
                f"Pipeline {self.pipeline!r}: step {step!r} got {where!r} inside a "
                f"{type(value).__name__} for {key!r}. Pass each output as an argument of "
                "its own, so the step knows it must wait for it."
            )
        return check_literal(value, f"Pipeline {self.pipeline!r}: argument {key!r} of {step!r}")


def _flatten(bound: inspect.BoundArguments) -> Iterator[tuple[str, Any]]:
    parameters = bound.signature.parameters
    for key, value in bound.arguments.items():
        kind = parameters[key].kind
        if kind is inspect.Parameter.VAR_POSITIONAL:
            for i, item in enumerate(value):
                yield f"{key}.{i}", item
        elif kind is inspect.Parameter.VAR_KEYWORD:
            yield from value.items()
        else:
            yield key, value


def _find_output(value: Any, depth: int) -> Output | None:
    if isinstance(value, Output):
        return value
    if depth > _MAX_DEPTH:
        return None
    items: Any = ()
    if isinstance(value, dict):
        items = [*value.keys(), *value.values()]
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    for item in items:
        found = _find_output(item, depth + 1)
        if found is not None:
            return found
    return None


def record_call(step: Step, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """What calling a step does: add it to the pipeline being built, or just run it."""
    builder = _current.get()
    if builder is not None:
        return builder.add(step, args, kwargs)
    for value in (*args, *kwargs.values()):
        found = _find_output(value, 0)
        if found is not None:
            raise InvalidArgument(
                f"Step {step.name!r} was given {found!r} outside the pipeline "
                f"{found._builder.pipeline!r} while nothing is being built: outputs only "
                "exist inside their pipeline function."
            )
    return step.fn(*args, **kwargs)


def active_builder() -> Builder | None:
    """The builder of the pipeline being built in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def building(pipeline: str) -> Iterator[Builder]:
    """Record the step calls made inside the block into a new graph."""
    builder = Builder(pipeline)
    token = _current.set(builder)
    try:
        yield builder
    finally:
        _current.reset(token)
