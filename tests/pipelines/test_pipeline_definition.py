"""Building pipelines: the DAG comes from data passing; definition errors are clear and early."""

from __future__ import annotations

from typing import Any

import pipelines_support as support
import pytest

import loopml as lm
from loopml.core.errors import InvalidArgument
from loopml.pipelines import Graph, Pipeline, Step, pipeline, step
from loopml.pipelines._build import Node, Ref, Value


@step
def source(n: int) -> int:
    return n


@step
def double(value: int, factor: int = 2) -> int:
    return value * factor


@step(outputs=("low", "high"))
def halves(value: int) -> tuple[int, int]:
    return value // 2, value - value // 2


@step
def add(*values: int, **named: int) -> int:
    return sum(values) + sum(named.values())


def test_the_dag_is_the_data_flow() -> None:
    @pipeline
    def flow(n: int = 3) -> None:
        low, high = halves(source(n))
        add(double(low), double(high, factor=3), extra=source(1))

    graph = flow.build(n=4)
    assert graph.dag() == {
        "source": [],
        "halves": ["source"],
        "double": ["halves"],
        "double_2": ["halves"],
        "source_2": [],
        "add": ["double", "double_2", "source_2"],
    }
    assert graph.order() == list(graph.nodes)
    assert graph.downstream("halves") == ["double", "double_2", "add"]
    node = graph.nodes["double_2"]
    assert node.params == {"factor": 3}  # literal arguments (and defaults) are the params
    assert node.args == (Ref("halves", "high"),) and node.kwargs == {"factor": Value(3)}
    assert graph.nodes["double"].params == {"factor": 2}


def test_parameters_are_the_pipeline_arguments_and_drive_control_flow() -> None:
    @pipeline(name="branchy")
    def flow(n: int, twice: bool = False) -> None:
        value = source(n)
        if twice:  # a parameter has its value while building
            value = double(value)
        double(value)

    assert flow.name == "branchy" and isinstance(flow, Pipeline)
    assert list(flow.build(1).nodes) == ["source", "double"]
    assert list(flow.build(1, twice=True).nodes) == ["source", "double", "double_2"]
    with pytest.raises(
        InvalidArgument, match=r"Pipeline 'branchy': missing a required argument: 'n'"
    ):
        flow.build()
    with pytest.raises(InvalidArgument, match="unexpected keyword argument 'm'"):
        flow.build(1, m=2)


@pytest.mark.parametrize(
    ("misuse", "what"),
    [
        (lambda out: bool(out), "a condition"),
        (lambda out: out + 1, "arithmetic"),
        (lambda out: 1 - out, "arithmetic"),
        (lambda out: out > 3, "a comparison"),
        (lambda out: out == 3, "a comparison"),
        (lambda out: len(out), "len"),
        (lambda out: list(out), "a loop or unpacking"),
        (lambda out: f"{out}", "string formatting"),
        (lambda out: str(out), "str"),
        (lambda out: out["key"], "indexing"),
        (lambda out: out.shape, "attribute access"),
        (lambda out: range(out), "an index"),
        (lambda out: __import__("numpy").asarray(out) + 1, "NumPy"),
    ],
)
def test_using_an_output_as_a_value_while_building_is_an_error(misuse: Any, what: str) -> None:
    @pipeline
    def flow() -> None:
        misuse(source(1))

    with pytest.raises(InvalidArgument) as caught:
        flow.build()
    message = caught.value.message
    assert "output 'output' of step 'source'" in message and what in message


def test_outputs_passed_the_wrong_way_are_errors_naming_the_step() -> None:
    @pipeline
    def inside_a_list() -> None:
        add(*[0], named=[source(1)])

    with pytest.raises(
        InvalidArgument, match="step 'add' got <output 'output' of step 'source'> inside a list"
    ):
        inside_a_list.build()

    leaked: list[Any] = []

    @pipeline
    def first() -> None:
        leaked.append(source(1))

    @pipeline
    def second() -> None:
        double(leaked[0])

    first.build()
    with pytest.raises(InvalidArgument, match=r"step 'double' was given .* from pipeline 'first'"):
        second.build()
    with pytest.raises(InvalidArgument, match="outside the pipeline 'first'"):
        double(leaked[0])

    @pipeline
    def wrong_call() -> None:
        double(source(1), 2, 3)

    with pytest.raises(InvalidArgument, match="step 'double' cannot be called like this: too many"):
        wrong_call.build()


def test_values_given_to_steps_must_be_plain_data() -> None:
    @pipeline
    def flow() -> None:
        double(object())

    with pytest.raises(
        InvalidArgument,
        match="argument 'value' of 'double' is a object: values given to steps must be JSON-able",
    ):
        flow.build()


def test_a_pipeline_needs_steps_and_a_sane_signature() -> None:
    @pipeline
    def empty() -> None:
        pass

    with pytest.raises(InvalidArgument, match="calls no step"):
        empty.build()
    with pytest.raises(InvalidArgument, match="'executor', which is an option"):

        @pipeline
        def clash(executor: str) -> None:
            pass

    with pytest.raises(InvalidArgument, match="must be a named parameter"):

        @pipeline
        def variadic(*sizes: int) -> None:
            pass

    @pipeline
    def broken() -> None:
        source(1)
        raise KeyError("missing config")

    with pytest.raises(InvalidArgument, match="Building pipeline 'broken' failed: KeyError"):
        broken.build()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"retries": -1}, "retries"),
        ({"retries": 1.5}, "retries"),
        ({"retry_delay": -2}, "retry_delay"),
        ({"timeout": 0}, "timeout"),
        ({"resources": {"gpu": -1}}, "resource"),
        ({"outputs": ()}, "at least one"),
        ({"outputs": ("a", "a")}, "must differ"),
        ({"outputs": ("not valid",)}, "Invalid output name"),
        ({"name": "../etc"}, "Invalid step name"),
    ],
)
def test_bad_step_options_are_refused_at_declaration(options: dict[str, Any], message: str) -> None:
    def work() -> int:
        return 1

    with pytest.raises(InvalidArgument, match=message):
        step(**options)(work)


def test_steps_decorate_plain_functions_only() -> None:
    async def coroutine() -> None:
        pass

    with pytest.raises(InvalidArgument, match="async"):
        step(coroutine)
    with pytest.raises(InvalidArgument, match="step already"):
        step(source)
    with pytest.raises(InvalidArgument, match="functions, not int"):
        step(3)  # type: ignore[call-overload]


def test_outside_a_pipeline_a_step_is_its_function() -> None:
    assert double(4) == 8 and halves(5) == (2, 3)
    assert isinstance(double, Step) and double.__name__ == "double"
    assert lm.pipelines.step is step


def test_a_pipeline_called_inside_another_adds_its_steps() -> None:
    @pipeline
    def inner(value: Any) -> Any:
        return double(value)

    @pipeline
    def outer() -> None:
        double(inner(source(2)))

    assert outer.build().dag() == {"source": [], "double": ["source"], "double_2": ["double"]}


def test_a_cycle_in_a_graph_is_reported_with_its_path() -> None:
    # Data passing cannot make one; a graph assembled by hand is still checked.
    graph = Graph("looped")
    for name, upstream in [("a", ("c",)), ("b", ("a",)), ("c", ("b",))]:
        graph.nodes[name] = Node(name, source, (), {}, {}, upstream)
    with pytest.raises(InvalidArgument, match=r"cycle: a -> c -> b -> a"):
        graph.order()
    graph = Graph("dangling", {"a": Node("a", source, (), {}, {}, ("ghost",))})
    with pytest.raises(InvalidArgument, match="needs 'ghost'"):
        graph.order()


def test_the_support_pipeline_has_five_steps() -> None:
    assert list(support.training.build().nodes) == ["load", "features", "split", "fit", "evaluate"]
