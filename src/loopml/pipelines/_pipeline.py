"""``@lm.pipeline``: a function that wires steps together by passing their outputs.

The function's arguments are the pipeline's parameters. Building it calls
the function once with their values: steps return placeholders, and the
DAG is what was passed to what. Running it (``pipeline.run(...)``,
``lm.run_pipeline(pipeline, params)`` or just calling it) builds, then
executes the DAG. Called while another pipeline is being built, a pipeline
adds its steps to that one.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, overload

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.pipelines._build import Graph, active_builder, building
from loopml.pipelines._step import check_name

if TYPE_CHECKING:
    from loopml.pipelines._records import PipelineRun

RUN_OPTIONS = frozenset(
    {
        "executor",
        "max_workers",
        "ray_address",
        "cache",
        "experiment",
        "run_name",
        "raise_on_failure",
    }
)


class Pipeline:
    """A pipeline: a function whose step calls make a DAG. See the module docstring."""

    def __init__(self, fn: Callable[..., Any], name: str) -> None:
        if not inspect.isfunction(fn):
            raise InvalidArgument(
                f"@pipeline decorates functions, not {type(fn).__name__} objects."
            )
        self.fn = fn
        self.name = check_name(name, "pipeline")
        self.signature = inspect.signature(fn)
        for parameter in self.signature.parameters.values():
            if parameter.kind not in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                raise InvalidArgument(
                    f"Pipeline {name!r}: parameter {parameter.name!r} must be a named parameter "
                    "(no *args, **kwargs or positional-only): parameters are given by name."
                )
        clash = sorted(RUN_OPTIONS.intersection(self.signature.parameters))
        if clash:
            raise InvalidArgument(
                f"Pipeline {name!r} has a parameter named {clash[0]!r}, which is an option of "
                "Pipeline.run: rename the parameter."
            )
        functools.update_wrapper(self, fn)

    @property
    def qualified_name(self) -> str:
        return f"{self.fn.__module__}:{self.fn.__qualname__}"

    def _bound(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> inspect.BoundArguments:
        try:
            return self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            names = ", ".join(self.signature.parameters) or "none"
            raise InvalidArgument(
                f"Pipeline {self.name!r}: {exc}. Its parameters: {names}."
            ) from None

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters' values (defaults filled in); InvalidArgument naming what is wrong."""
        bound = self._bound(args, kwargs)
        bound.apply_defaults()
        return dict(bound.arguments)

    def build(self, *args: Any, **kwargs: Any) -> Graph:
        """The DAG for these parameter values (nothing runs)."""
        bound = self._bound(args, kwargs)
        with building(self.name) as builder:
            try:
                self.fn(*bound.args, **bound.kwargs)
            except LoopmlError:
                raise
            except Exception as exc:
                raise InvalidArgument(
                    f"Building pipeline {self.name!r} failed: {type(exc).__name__}: {exc}"
                ) from exc
        graph = builder.graph
        if not graph.nodes:
            raise InvalidArgument(
                f"Pipeline {self.name!r} calls no step: call functions decorated with "
                "@lm.step inside it."
            )
        graph.order()
        return graph

    def run(
        self,
        *args: Any,
        executor: str = "local",
        max_workers: int | None = None,
        ray_address: str | None = None,
        cache: bool = True,
        experiment: str | None = None,
        run_name: str | None = None,
        raise_on_failure: bool = True,
        **kwargs: Any,
    ) -> PipelineRun:
        """Build and run the pipeline with these parameter values; see ``run_pipeline``."""
        from loopml.pipelines._run import run_pipeline

        return run_pipeline(
            self,
            self.bind(args, kwargs),
            executor=executor,
            max_workers=max_workers,
            ray_address=ray_address,
            cache=cache,
            experiment=experiment,
            run_name=run_name,
            raise_on_failure=raise_on_failure,
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if active_builder() is not None:  # inside another pipeline: add our steps to it
            return self.fn(*args, **kwargs)
        return self.run(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<pipeline {self.name!r} ({self.qualified_name})>"


@overload
def pipeline(fn: Callable[..., Any], /) -> Pipeline: ...


@overload
def pipeline(*, name: str | None = None) -> Callable[[Callable[..., Any]], Pipeline]: ...


def pipeline(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> Pipeline | Callable[[Callable[..., Any]], Pipeline]:
    """Mark a function as a pipeline (``@lm.pipeline`` or ``@lm.pipeline(name="train")``).

    Its runs go to the experiment of the same name unless told otherwise.
    """

    def decorate(func: Callable[..., Any]) -> Pipeline:
        return Pipeline(func, name if name is not None else getattr(func, "__name__", ""))

    if fn is not None:
        return decorate(fn)
    return decorate
