"""The MLflow filter and order_by parser: MLflow's documented examples, errors, properties."""

from __future__ import annotations

import dataclasses
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument
from loopml.store._filter import Comparison, OrderBy, parse_filter, parse_order_by

C = Comparison

# Examples from MLflow's "Search Runs" documentation (old and current pages, the R and Java
# sections) and from the pull request that added IS NULL, plus the spellings MLflow also takes.
VALID: list[tuple[str, tuple[Comparison, ...]]] = [
    ("metrics.accuracy > 0.92", (C("metric", "accuracy", ">", 0.92),)),
    (
        'params.model = "LogisticRegression" and params.lambda = "0.001" and metrics.error <= 0.05',
        (
            C("param", "model", "=", "LogisticRegression"),
            C("param", "lambda", "=", "0.001"),
            C("metric", "error", "<=", 0.05),
        ),
    ),
    ('attributes.status = "FAILED"', (C("attribute", "status", "=", "FAILED"),)),
    ('metrics."accuracy" > 0.72', (C("metric", "accuracy", ">", 0.72),)),
    ("metrics.loss <= 0.15", (C("metric", "loss", "<=", 0.15),)),
    ("metrics.`log-scale-loss` <= 0", (C("metric", "log-scale-loss", "<=", 0.0),)),
    ("metrics.`f1 score` >= 0.5", (C("metric", "f1 score", ">=", 0.5),)),
    ("metrics.`cross-entropy-loss` < 0.5", (C("metric", "cross-entropy-loss", "<", 0.5),)),
    (
        'params.`1st_iteration_timestamp` = "2022-01-01"',
        (C("param", "1st_iteration_timestamp", "=", "2022-01-01"),),
    ),
    (
        "metrics.accuracy > 0.72 AND metrics.loss <= 0.15",
        (C("metric", "accuracy", ">", 0.72), C("metric", "loss", "<=", 0.15)),
    ),
    ("metrics.accuracy != 0.15", (C("metric", "accuracy", "!=", 0.15),)),
    ('params.batch_size = "2"', (C("param", "batch_size", "=", "2"),)),
    ('params.model LIKE "GPT%"', (C("param", "model", "LIKE", "GPT%"),)),
    ('params.model ILIKE "gPt%"', (C("param", "model", "ILIKE", "gPt%"),)),
    ('params.model = "GPT-4o"', (C("param", "model", "=", "GPT-4o"),)),
    ('tags."environment" = "notebook"', (C("tag", "environment", "=", "notebook"),)),
    ('tags.environment = "notebook"', (C("tag", "environment", "=", "notebook"),)),
    ('tags.task ILIKE "classif%"', (C("tag", "task", "ILIKE", "classif%"),)),
    ("tag.`test` = 'abc'", (C("tag", "test", "=", "abc"),)),
    ('tag.`test` = "abc"', (C("tag", "test", "=", "abc"),)),
    ('datasets.name LIKE "custom"', (C("dataset", "name", "LIKE", "custom"),)),
    ('datasets.context = "train"', (C("dataset", "context", "=", "train"),)),
    (
        "datasets.digest IN ('s8ds293b', 'jks834s2')",
        (C("dataset", "digest", "IN", ("s8ds293b", "jks834s2")),),
    ),
    (
        "datasets.name IN ('custom', 'also custom', 'another custom name')",
        (C("dataset", "name", "IN", ("custom", "also custom", "another custom name")),),
    ),
    ('attributes.status = "ACTIVE"', (C("attribute", "status", "=", "ACTIVE"),)),
    ('attributes.user_id LIKE "user1"', (C("attribute", "user_id", "LIKE", "user1"),)),
    ('attributes.run_name = "my-run"', (C("attribute", "run_name", "=", "my-run"),)),
    ('attributes.run_id = "a1b2c3d4"', (C("attribute", "run_id", "=", "a1b2c3d4"),)),
    (
        "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
        (C("attribute", "run_id", "IN", ("a1b2c3d4", "e5f6g7h8")),),
    ),
    (
        "attributes.start_time >= 1664067852747",
        (C("attribute", "start_time", ">=", 1664067852747),),
    ),
    ("attributes.end_time < 1664067852747", (C("attribute", "end_time", "<", 1664067852747),)),
    ("attributes.created > 1664067852747", (C("attribute", "start_time", ">", 1664067852747),)),
    (
        "metrics.accuracy > 0.72 AND metrics.batch_size != 0 AND "
        "attributes.run_id IN ('a1b2c3d4', 'e5f6g7h8')",
        (
            C("metric", "accuracy", ">", 0.72),
            C("metric", "batch_size", "!=", 0.0),
            C("attribute", "run_id", "IN", ("a1b2c3d4", "e5f6g7h8")),
        ),
    ),
    (
        "metrics.loss <= 0.15 AND metrics.loss >= 0.1",
        (C("metric", "loss", "<=", 0.15), C("metric", "loss", ">=", 0.1)),
    ),
    ('params.batch_size != "None"', (C("param", "batch_size", "!=", "None"),)),
    (
        "\nattributes.run_id IN "
        "('22db81f070f6413588641c8c343cdd72','c3680e37d0fa44eb9c9fb7828f6b5481')\n"
        '  AND metrics.loss > 0.3\n  AND metrics."f1 score" < 0.5\n'
        '  AND params.model LIKE "GPT%"\n',
        (
            C(
                "attribute",
                "run_id",
                "IN",
                ("22db81f070f6413588641c8c343cdd72", "c3680e37d0fa44eb9c9fb7828f6b5481"),
            ),
            C("metric", "loss", ">", 0.3),
            C("metric", "f1 score", "<", 0.5),
            C("param", "model", "LIKE", "GPT%"),
        ),
    ),
    (
        "metrics.rmse < 0.9 and tags.production = 'true'",
        (C("metric", "rmse", "<", 0.9), C("tag", "production", "=", "true")),
    ),
    ("metrics.accuracy_score < 99.90", (C("metric", "accuracy_score", "<", 99.9),)),
    ('tags."mlflow.runName" = "x"', (C("tag", "mlflow.runName", "=", "x"),)),
    ("tags.`mlflow.runName` = 'x'", (C("tag", "mlflow.runName", "=", "x"),)),
    ("tags.mlflow.runName = 'x'", (C("tag", "mlflow.runName", "=", "x"),)),
    ("tags.mlflow.source.git.commit = 'ab'", (C("tag", "mlflow.source.git.commit", "=", "ab"),)),
    ("tags.env IS NULL", (C("tag", "env", "IS NULL", None),)),
    ("params.lr IS NOT NULL", (C("param", "lr", "IS NOT NULL", None),)),
    (
        "tags.status = 'prod' AND params.batch_size IS NULL",
        (C("tag", "status", "=", "prod"), C("param", "batch_size", "IS NULL", None)),
    ),
    # Every prefix spelling MLflow knows.
    ("metric.a = 1", (C("metric", "a", "=", 1.0),)),
    ("param.a = 'x'", (C("param", "a", "=", "x"),)),
    ("parameter.a = 'x'", (C("param", "a", "=", "x"),)),
    ("parameters.a = 'x'", (C("param", "a", "=", "x"),)),
    ("tag.a = 'x'", (C("tag", "a", "=", "x"),)),
    ("attribute.status = 'x'", (C("attribute", "status", "=", "x"),)),
    ("attr.artifact_uri LIKE 's3://%'", (C("attribute", "artifact_uri", "LIKE", "s3://%"),)),
    ("run.run_id != 'x'", (C("attribute", "run_id", "!=", "x"),)),
    ("dataset.digest != 'x'", (C("dataset", "digest", "!=", "x"),)),
    ("`metrics`.a > 1", (C("metric", "a", ">", 1.0),)),
    # Bare attribute names and MLflow's aliases.
    ("status = 'FINISHED'", (C("attribute", "status", "=", "FINISHED"),)),
    ("start_time > 0", (C("attribute", "start_time", ">", 0),)),
    ("Created <= 5", (C("attribute", "start_time", "<=", 5),)),
    ("\"run name\" = 'r'", (C("attribute", "run_name", "=", "r"),)),
    ("`Run Name` ILIKE 'r%'", (C("attribute", "run_name", "ILIKE", "r%"),)),
    ("attributes.`Run name` = 'r'", (C("attribute", "run_name", "=", "r"),)),
    ("run_id NOT IN ('a')", (C("attribute", "run_id", "NOT IN", ("a",)),)),
    (
        "datasets.context NOT IN (\"train\", 'test',)",
        (C("dataset", "context", "NOT IN", ("train", "test")),),
    ),
    # Numbers as sqlparse reads them, plus Python's exponent sign.
    ("metrics.a > -1", (C("metric", "a", ">", -1.0),)),
    ("metrics.a>=-1.5e-3", (C("metric", "a", ">=", -0.0015),)),
    ("metrics.a = 1E5", (C("metric", "a", "=", 100000.0),)),
    ("metrics.a = 1e+5", (C("metric", "a", "=", 100000.0),)),
    ("metrics.a < .5", (C("metric", "a", "<", 0.5),)),
    ("metrics.a < 5.", (C("metric", "a", "<", 5.0),)),
    ("metrics.a < -.5", (C("metric", "a", "<", -0.5),)),
    ("end_time > 1.5", (C("attribute", "end_time", ">", 1.5),)),
    # Escapes, keyword case, whitespace.
    ("params.a = 'it''s'", (C("param", "a", "=", "it's"),)),
    ("params.a = 'it\\'s'", (C("param", "a", "=", "it's"),)),
    ('params.a = "say ""hi"""', (C("param", "a", "=", 'say "hi"'),)),
    ('params.a = "C:\\\\temp\\x"', (C("param", "a", "=", "C:\\temp\\x"),)),
    ('params.a = "it\'s"', (C("param", "a", "=", "it's"),)),
    ("metrics.`a``b` > 1", (C("metric", "a`b", ">", 1.0),)),
    ("params.größe = 'L'", (C("param", "größe", "=", "L"),)),
    (
        "params.a like 'x' And params.b iLiKe 'y'",
        (C("param", "a", "LIKE", "x"), C("param", "b", "ILIKE", "y")),
    ),
    ("run_id not   in('a')", (C("attribute", "run_id", "NOT IN", ("a",)),)),
    ("tags.a is\tnot\nnull", (C("tag", "a", "IS NOT NULL", None),)),
    ("metrics.a>1 AND\tmetrics.b<2", (C("metric", "a", ">", 1.0), C("metric", "b", "<", 2.0))),
    ("params.a='x'AND params.b='y'", (C("param", "a", "=", "x"), C("param", "b", "=", "y"))),
    ("  metrics.a > 1  ", (C("metric", "a", ">", 1.0),)),
]


@pytest.mark.parametrize(("filter_string", "expected"), VALID)
def test_valid_filters(filter_string: str, expected: tuple[Comparison, ...]) -> None:
    assert parse_filter(filter_string) == expected


@pytest.mark.parametrize("filter_string", [None, "", "   ", "\n\t"])
def test_empty_filter_matches_everything(filter_string: str | None) -> None:
    assert parse_filter(filter_string) == ()


def test_value_types() -> None:
    (metric, start, end, param) = parse_filter(
        "metrics.a = 1 AND start_time = 2 AND end_time = 2.0 AND params.p = '3'"
    )
    assert type(metric.value) is float
    assert type(start.value) is int
    assert type(end.value) is float
    assert type(param.value) is str


# Each bad filter, and words its error message must contain.
INVALID: list[tuple[str, list[str]]] = [
    ("metricz.a > 1", ["unknown entity 'metricz'", "metrics."]),
    ("Metrics.a > 1", ["'Metrics'", "lower-case"]),
    ("mlflow.runName = 'x'", ["'mlflow'", "tags.mlflow"]),
    ("metrics.a > 1 OR metrics.b > 2", ["OR is not supported", "AND"]),
    ("metrics.a > 1 or metrics.b > 2", ["OR is not supported"]),
    ("params.a = 'unterminated", ["unterminated quote '"]),
    ('params.a = "unterminated', ['unterminated quote "']),
    ("metrics.`unterminated > 1", ["unterminated quote `"]),
    ("params.a = 'C:\\'", ["unterminated"]),
    ("metrics.a > 'x'", ["takes a number", "'x'", "Example: metrics."]),
    ('metrics.a != "None"', ["takes a number", "'None'"]),
    ("start_time > '1'", ["takes a number", "start_time"]),
    ("params.a = 1", ["takes a quoted string", "number 1", "params.batch_size = '2'"]),
    ("tags.a = abc", ["quoted string", "'abc'"]),
    ("tags.test = `abc`", ["backticks quote keys, not values"]),
    ("tags.a = NULL", ["IS NULL"]),
    ("params.a > '1'", ["comparator > is not allowed for param 'a'", "LIKE"]),
    ("metrics.a LIKE '1'", ["comparator LIKE is not allowed for metric 'a'"]),
    ("metrics.a IS NULL", ["IS NULL is not allowed for metric"]),
    ("status IS NULL", ["IS NULL is not allowed for attribute 'status'"]),
    ("datasets.name IS NOT NULL", ["IS NOT NULL is not allowed for dataset"]),
    ("start_time LIKE '1%'", ["LIKE is not allowed for attribute 'start_time'"]),
    ("status > 'A'", ["> is not allowed for attribute 'status'"]),
    ("status IN ('FINISHED')", ["IN is not allowed", "only attributes.run_id"]),
    ("params.a IN ('x')", ["IN is not allowed for param 'a'"]),
    ("tags.a NOT IN ('x')", ["NOT IN is not allowed for tag 'a'"]),
    ("metrics.a == 1", ["unknown comparator '=='", "use ="]),
    ("metrics.a <> 1", ["'<>'", "use !="]),
    ("metrics.a => 1", ["'=>'", "use >="]),
    ("metrics.a ~ 1", ["unknown comparator '~'"]),
    ("params.a NOT LIKE 'x'", ["NOT IN or IS [NOT] NULL"]),
    ("params.a IS 'x'", ["NOT IN or IS [NOT] NULL"]),
    ("metrics.a BETWEEN 1", ["expected a comparator", "'BETWEEN'"]),
    ("run_id \u0131n ('a')", ["expected a comparator"]),
    ("metrics.cross-entropy-loss < 0.5", ["'-entropy-loss'", "quoted in backticks"]),
    ("params.1st_iteration = 'x'", ["bad key", "'1st_iteration'", "digit"]),
    ("tags.mlflow.`runName` = 'x'", ["bad key"]),
    ("metrics.", ["bad key", "end of the input"]),
    ("metrics.`` > 1", ["the key is empty"]),
    ("lifecycle_stage = 'active'", ["unknown run attribute 'lifecycle_stage'"]),
    ("attributes.experiment_id = '1'", ["unknown run attribute 'experiment_id'"]),
    ("accuracy > 0.9", ["unknown run attribute 'accuracy'", "params.accuracy"]),
    ("datasets.source = 'x'", ["unknown dataset field 'source'", "digest"]),
    ("run_id IN 'a'", ["parenthesised list", "run_id IN ("]),
    ("run_id IN ()", ["list is empty"]),
    ("run_id IN ('a' 'b')", ["expected ',' or ')'"]),
    ("run_id IN ('a', 1)", ["quoted strings only", "'1)'"]),
    ("run_id IN ('a'", ["expected ',' or ')'", "end of the input"]),
    ("run_id = ('a')", ["needs IN or NOT IN"]),
    ("(metrics.a > 1)", ["expected a key", "'(metrics.a'"]),
    ("metrics.a > 1;", ["expected AND or the end", "';'"]),
    ("metrics.a > 1 metrics.b > 2", ["expected AND", "'metrics.b'"]),
    ("metrics.a > 1 AND", ["expected a key", "end of the input"]),
    ("AND metrics.a > 1", ["expected a comparison", "'AND'"]),
    ("metrics.a > 1 AND AND metrics.b > 1", ["expected a comparison", "'AND'"]),
    ("NOT metrics.a > 1", ["expected a comparison", "'NOT'"]),
    ("metrics.a > 1abc", ["expected a number", "'1abc'"]),
    ("metrics.a > 0x1F", ["expected a number", "'0x1F'"]),
    ("metrics.a > +1", ["expected a number", "'+1'"]),
    ("metrics.a > 1.2.3", ["expected a number"]),
    ("metrics.a >", ["expected a number", "end of the input"]),
    ("params.a =", ["expected a quoted string", "end of the input"]),
    ("start_time > " + "1" * 5000, ["too long"]),
    ("metrics.a", ["expected a comparator", "end of the input"]),
    ("params.a = 'x' params.b", ["expected AND"]),
    ("params.a = 'x'; DROP TABLE runs", ["';'"]),
]


@pytest.mark.parametrize(("filter_string", "fragments"), INVALID)
def test_invalid_filters_say_what_is_wrong(filter_string: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_filter(filter_string)
    message = caught.value.message
    assert message.startswith("Invalid filter ")
    assert "position" in message
    for fragment in fragments:
        assert fragment in message, message
    assert caught.value.error_code == "INVALID_PARAMETER_VALUE"


def test_error_points_at_the_offending_position() -> None:
    with pytest.raises(InvalidArgument, match=r"at position 14\b"):
        parse_filter("metrics.a > 1 garbage")


ORDER_VALID: list[tuple[list[str], tuple[OrderBy, ...]]] = [
    (["metrics.accuracy DESC"], (OrderBy("metric", "accuracy", False),)),
    (["params.lr ASC"], (OrderBy("param", "lr", True),)),
    (["attributes.start_time"], (OrderBy("attribute", "start_time", True),)),
    (["start_time DESC"], (OrderBy("attribute", "start_time", False),)),
    (["created desc"], (OrderBy("attribute", "start_time", False),)),
    (
        ["run_name", "status asc"],
        (OrderBy("attribute", "run_name", True), OrderBy("attribute", "status", True)),
    ),
    (["metrics.`my metric` DESC"], (OrderBy("metric", "my metric", False),)),
    (['metrics."f1 score"'], (OrderBy("metric", "f1 score", True),)),
    (["tags.mlflow.runName Desc"], (OrderBy("tag", "mlflow.runName", False),)),
    (["tags.`mlflow.runName`"], (OrderBy("tag", "mlflow.runName", True),)),
    (["  attr.end_time\tDESC  "], (OrderBy("attribute", "end_time", False),)),
    (
        ["run.run_id", "user_id", "artifact_uri DESC"],
        (
            OrderBy("attribute", "run_id", True),
            OrderBy("attribute", "user_id", True),
            OrderBy("attribute", "artifact_uri", False),
        ),
    ),
    (
        ["metrics.acc DESC", "params.acc"],
        (OrderBy("metric", "acc", False), OrderBy("param", "acc", True)),
    ),
    ([], ()),
]


@pytest.mark.parametrize(("clauses", "expected"), ORDER_VALID)
def test_valid_order_by(clauses: list[str], expected: tuple[OrderBy, ...]) -> None:
    assert parse_order_by(clauses) == expected


def test_order_by_none_and_single_string() -> None:
    assert parse_order_by(None) == ()
    assert parse_order_by("metrics.acc DESC") == (OrderBy("metric", "acc", False),)


ORDER_INVALID: list[tuple[list[str], list[str]]] = [
    ([""], ["expected a key", "end of the input", "DESC"]),
    (["metrics.acc DESCENDING"], ["expected ASC or DESC", "'DESCENDING'"]),
    (["metrics.acc DESC LIMIT"], ["unexpected 'LIMIT' after DESC"]),
    (["metrics.`acc`DESC"], ["expected ASC or DESC"]),
    (["metrics.my metric DESC"], ["expected ASC or DESC", "'metric'"]),
    (["datasets.name"], ["cannot be ordered by dataset"]),
    (["lifecycle_stage"], ["unknown run attribute 'lifecycle_stage'"]),
    (["`run name`"], ["unknown run attribute 'run name'"]),
    (["foo.bar"], ["unknown entity 'foo'"]),
    (["metrics.a, metrics.b"], ["expected ASC or DESC", "','"]),
    (["start_time", "created DESC"], ["listed twice", "start_time"]),
    (["metrics.a", "metric.a"], ["listed twice"]),
]


@pytest.mark.parametrize(("clauses", "fragments"), ORDER_INVALID)
def test_invalid_order_by_says_what_is_wrong(clauses: list[str], fragments: list[str]) -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_order_by(clauses)
    for fragment in fragments:
        assert fragment in caught.value.message, caught.value.message


def test_order_by_rejects_non_strings() -> None:
    with pytest.raises(InvalidArgument, match="clauses are strings"):
        parse_order_by([1])  # type: ignore[list-item]


def test_records_are_frozen() -> None:
    comparison = parse_filter("metrics.a > 1")[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        comparison.key = "b"  # type: ignore[misc]
    assert {comparison, OrderBy("metric", "a", True)}


# --- Properties: render random comparisons in random MLflow spellings, parse them back. ---

_BARE = re.compile(r"[^\W\d]\w*(?:\.[^\W\d]\w*)*")
_PREFIX = {
    "metric": ["metrics", "metric"],
    "param": ["params", "param", "parameter", "parameters"],
    "tag": ["tags", "tag"],
    "attribute": ["attributes", "attribute", "attr", "run", ""],
    "dataset": ["datasets", "dataset"],
}
_ALIAS = {
    "start_time": ["start_time", "created", "Created"],
    "run_name": ["run_name", "run name", "Run name", "Run Name"],
}
_WS = st.sampled_from([" ", "  ", "\t", "\n", " \r\n "])
_OPT_WS = st.one_of(st.just(""), _WS)
# Characters that make quoting and escaping interesting.
_TEXT = st.text(
    st.one_of(st.sampled_from("'\"`\\.%_ aZ"), st.characters(codec="utf-8")), max_size=12
)


def _quote(draw: st.DrawFn, text: str, quotes: str) -> str:
    quote = draw(st.sampled_from(quotes))
    if quote == "`":
        return "`" + text.replace("`", "``") + "`"
    escaped = text.replace("\\", "\\\\")
    escape = draw(st.sampled_from([quote + quote, "\\" + quote]))
    return quote + escaped.replace(quote, escape) + quote


def _key(draw: st.DrawFn, key: str) -> str:
    if _BARE.fullmatch(key) and draw(st.booleans()):
        return key
    return _quote(draw, key, '`"')


def _case(draw: st.DrawFn, word: str) -> str:
    return "".join(c.lower() if draw(st.booleans()) else c for c in word)


@st.composite
def _comparisons(draw: st.DrawFn) -> Comparison:
    kind = draw(st.sampled_from(["metric", "param", "tag", "attribute", "dataset"]))
    if kind == "metric":
        op = draw(st.sampled_from(["=", "!=", ">", ">=", "<", "<="]))
        value = draw(st.floats(allow_nan=False, allow_infinity=False))
        return C(kind, draw(st.text(min_size=1, max_size=12) | _TEXT.filter(bool)), op, value)
    if kind in ("param", "tag"):
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL"]))
        value = None if op.startswith("IS") else draw(_TEXT)
        return C(kind, draw(_TEXT.filter(bool)), op, value)
    if kind == "dataset":
        key = draw(st.sampled_from(["name", "digest", "context"]))
        op = draw(st.sampled_from(["=", "!=", "LIKE", "ILIKE", "IN", "NOT IN"]))
    else:
        key = draw(
            st.sampled_from(
                [
                    "run_id",
                    "run_name",
                    "status",
                    "user_id",
                    "artifact_uri",
                    "start_time",
                    "end_time",
                ]
            )
        )
        ops = ["=", "!=", "LIKE", "ILIKE"] + (["IN", "NOT IN"] if key == "run_id" else [])
        if key.endswith("_time"):
            number = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
            return C(
                kind, key, draw(st.sampled_from(["=", "!=", ">", ">=", "<", "<="])), draw(number)
            )
        op = draw(st.sampled_from(ops))
    value = tuple(draw(st.lists(_TEXT, min_size=1, max_size=4))) if "IN" in op else draw(_TEXT)
    return C(kind, key, op, value)


@st.composite
def _render(draw: st.DrawFn, comparison: Comparison) -> str:
    key = draw(st.sampled_from(_ALIAS.get(comparison.key, [comparison.key])))
    prefix = draw(st.sampled_from(_PREFIX[comparison.kind]))
    left = (prefix + "." if prefix else "") + _key(draw, key)
    op = comparison.op
    if op[0].isalpha():
        words = [_case(draw, word) for word in op.split()]
        op_text = draw(_WS) + "".join(w + draw(_WS) for w in words[:-1]) + words[-1]
        op_text += "" if op.startswith("IS") else draw(_WS)
    else:
        op_text = draw(_OPT_WS) + op + draw(_OPT_WS)
    value = comparison.value
    if value is None:
        right = ""
    elif isinstance(value, tuple):
        items = [draw(_OPT_WS) + _quote(draw, v, "'\"") + draw(_OPT_WS) for v in value]
        right = "(" + ",".join(items) + draw(st.sampled_from(["", ","])) + ")"
    elif isinstance(value, str):
        right = _quote(draw, value, "'\"")
    else:
        right = repr(value)
    return left + op_text + right


@st.composite
def _filters(draw: st.DrawFn) -> tuple[tuple[Comparison, ...], str]:
    comparisons = draw(st.lists(_comparisons(), min_size=1, max_size=4))
    rendered = [draw(_render(c)) for c in comparisons]
    glue = [draw(_WS) + _case(draw, "AND") + draw(_WS) for _ in rendered[1:]]
    text = (
        draw(_OPT_WS)
        + rendered[0]
        + "".join(g + r for g, r in zip(glue, rendered[1:], strict=True))
    )
    return tuple(comparisons), text + draw(_OPT_WS)


@settings(max_examples=150)
@given(_filters())
def test_rendered_filters_parse_back(case: tuple[tuple[Comparison, ...], str]) -> None:
    comparisons, text = case
    assert parse_filter(text) == comparisons


@st.composite
def _order_bys(draw: st.DrawFn) -> tuple[OrderBy, str]:
    kind = draw(st.sampled_from(["metric", "param", "tag", "attribute"]))
    if kind == "attribute":
        key = draw(
            st.sampled_from(
                [
                    "run_id",
                    "run_name",
                    "status",
                    "user_id",
                    "artifact_uri",
                    "end_time",
                    "start_time",
                ]
            )
        )
        spelled = (
            draw(st.sampled_from(["start_time", "created", "Created"]))
            if key == "start_time"
            else key
        )
    else:
        key = spelled = draw(_TEXT.filter(bool))
    prefix = draw(st.sampled_from(_PREFIX[kind]))
    ascending = draw(st.booleans())
    word = draw(st.sampled_from(["", "ASC"] if ascending else ["DESC"]))
    direction = draw(_WS) + _case(draw, word) if word else ""
    text = (prefix + "." if prefix else "") + _key(draw, spelled) + direction
    return OrderBy(kind, key, ascending), draw(_OPT_WS) + text + draw(_OPT_WS)


@given(_order_bys())
def test_rendered_order_by_parses_back(case: tuple[OrderBy, str]) -> None:
    order_by, text = case
    assert parse_order_by([text]) == (order_by,)


@given(_filters(), st.sampled_from(["OR x", ";", ")", "AND", "garbage", "'x'", "1", ","]))
def test_trailing_garbage_is_rejected(case: tuple[tuple[Comparison, ...], str], tail: str) -> None:
    with pytest.raises(InvalidArgument):
        parse_filter(case[1] + " " + tail)


_PIECES = st.sampled_from(
    [
        "metrics.a",
        "params.`b c`",
        'tags."d"',
        "datasets.name",
        "run_id",
        "start_time",
        "attributes.status",
        "=",
        "!=",
        ">=",
        "<",
        "LIKE",
        "ilike",
        "IN",
        "NOT",
        "IS",
        "NULL",
        "AND",
        "OR",
        "(",
        ")",
        ",",
        "'x'",
        '"y"',
        "'",
        '"',
        "`",
        "\\",
        "1",
        "-2.5e3",
        ".",
        " ",
        "ASC",
        "DESC",
        ";",
        "\u0131",  # dotless i upper-cases to I: "\u0131n" must not read as IN
    ]
)
_GARBAGE = st.one_of(
    st.text(),
    st.lists(_PIECES, max_size=12).map(" ".join),
    st.lists(_PIECES, max_size=12).map("".join),
)


@settings(max_examples=200)
@given(_GARBAGE)
def test_garbage_filter_raises_only_invalid_argument(text: str) -> None:
    try:
        result = parse_filter(text)
    except InvalidArgument as error:
        assert error.message.startswith("Invalid filter")
    else:
        assert all(isinstance(c, Comparison) for c in result)


@settings(max_examples=150)
@given(st.lists(_GARBAGE, max_size=3))
def test_garbage_order_by_raises_only_invalid_argument(clauses: list[str]) -> None:
    try:
        result = parse_order_by(clauses)
    except InvalidArgument as error:
        assert error.message.startswith("Invalid order_by")
    else:
        assert len(result) == len(clauses)
