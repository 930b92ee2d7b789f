"""MLflow filters on experiments and logged models, translated onto loopml's filter parser.

loopml's store parses MLflow's *run* filter language. Experiments and logged models
use the same grammar with other identifiers (``name``, ``creation_time``,
``source_run_id``...), so each term's leading identifier is renamed to its run-filter
counterpart and the store's parser does the rest (operators, quoting, value types).

Experiment search: the store pages experiments by id without a filter or an order,
so the (few) experiments are read whole, filtered and ordered here, with MLflow's
default order (newest first). This belongs in the store (see the report of the
MLflow-compatibility issue); it is here until the store offers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from loopml.core.errors import InvalidArgument
from loopml.server.mlflow._wire import page_of
from loopml.store import Comparison, Experiment, ViewType, parse_filter
from loopml.tracking import Client

_IDENTIFIER = re.compile(r"""\s*([A-Za-z_]\w*(?:\.(?:`[^`]*`|"[^"]*"|[A-Za-z_][\w.]*))?)""")
_ORDER = re.compile(r"^\s*(?:attributes?\.)?(\w+)(?:\s+(ASC|DESC))?\s*$", re.IGNORECASE)


def split_terms(text: str) -> list[str]:
    """The terms of ``a AND b AND c``: the ANDs outside quotes split it."""
    terms, start, quote, i = [], 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote != "`":
                i += 1
        elif char in "'\"`":
            quote = char
        elif (
            text[i : i + 3].upper() == "AND"
            and (i == 0 or text[i - 1].isspace())
            and (i + 3 == len(text) or text[i + 3].isspace())
        ):
            terms.append(text[start:i])
            start = i = i + 3
            continue
        i += 1
    terms.append(text[start:])
    return terms


def rewrite_terms(text: str, rewrite: Callable[[str, str], str]) -> str:
    """``text`` with each term replaced by ``rewrite(identifier, rest of the term)``."""
    out = []
    for term in split_terms(text):
        match = _IDENTIFIER.match(term)
        if match is None or not term.strip():
            out.append(term)
            continue
        out.append(" " + rewrite(match.group(1), term[match.end() :]))
    return " AND ".join(out)


_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


def map_literals(rest: str, change: Callable[[str], str]) -> str:
    """The rest of a term with each quoted string's content passed through ``change``."""
    return _LITERAL.sub(lambda m: m.group()[0] + change(m.group()[1:-1]) + m.group()[0], rest)


# -- experiments ----------------------------------------------------------------------

_EXPERIMENT_FIELDS = {
    "name": "attributes.run_name",
    "experiment_id": "attributes.run_id",
    "creation_time": "attributes.start_time",
    "last_update_time": "attributes.end_time",
}


def _experiment_identifier(identifier: str) -> str:
    prefix, _, key = identifier.partition(".")
    if key and prefix in ("tag", "tags"):
        return "tags." + key
    if key and prefix in ("attribute", "attributes"):
        identifier = key
    if identifier in _EXPERIMENT_FIELDS:
        return _EXPERIMENT_FIELDS[identifier]
    raise InvalidArgument(
        f"Invalid experiment filter key {identifier!r}: use name, experiment_id, "
        "creation_time, last_update_time or tags.<key>."
    )


def _like(pattern: str, flags: int) -> re.Pattern[str]:
    body = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    return re.compile(body, flags | re.DOTALL)


def _compare(actual: str | int | None, term: Comparison) -> bool:
    op, expected = term.op, term.value
    if op in ("IS NULL", "IS NOT NULL"):
        return (actual is None) == (op == "IS NULL")
    if actual is None:
        return False
    if op in ("IN", "NOT IN"):
        assert isinstance(expected, tuple)
        return (str(actual) in expected) == (op == "IN")
    if op in ("LIKE", "ILIKE"):
        flags = re.IGNORECASE if op == "ILIKE" else 0
        return _like(str(expected), flags).fullmatch(str(actual)) is not None
    if op == "=":
        return actual == expected
    if op == "!=":
        return actual != expected
    if not isinstance(actual, int) or not isinstance(expected, int | float):
        return False
    if op == ">":
        return actual > expected
    if op == ">=":
        return actual >= expected
    return actual < expected if op == "<" else actual <= expected


def _field(exp: Experiment, term: Comparison) -> str | int | None:
    if term.kind == "tag":
        return exp.tags.get(term.key)
    fields: dict[str, str | int] = {
        "run_name": exp.name,
        "run_id": exp.experiment_id,
        "start_time": exp.creation_time,
        "end_time": exp.last_update_time,
    }
    return fields[term.key]


_SORT_KEYS: dict[str, Callable[[Experiment], str | int]] = {
    "experiment_id": lambda e: int(e.experiment_id),
    "name": lambda e: e.name,
    "creation_time": lambda e: e.creation_time,
    "last_update_time": lambda e: e.last_update_time,
}


def _order_key(clause: str) -> tuple[str, bool]:
    match = _ORDER.match(clause) if isinstance(clause, str) else None
    if match is None or match.group(1) not in _EXPERIMENT_FIELDS:
        raise InvalidArgument(
            f"Invalid experiment order_by clause {clause!r}: use name, experiment_id, "
            "creation_time or last_update_time, then ASC or DESC."
        )
    return match.group(1), (match.group(2) or "ASC").upper() == "ASC"


def _sort(experiments: list[Experiment], order_by: Sequence[str]) -> list[Experiment]:
    keys = [_order_key(c) for c in order_by] or [("creation_time", False)]
    if not any(key == "experiment_id" for key, _ in keys):
        keys.append(("experiment_id", True))
    result = list(experiments)
    for key, ascending in reversed(keys):  # stable sorts, least significant key first
        result.sort(key=_SORT_KEYS[key], reverse=not ascending)
    return result


def search_experiments(
    client: Client,
    view_type: ViewType,
    filter_string: str,
    order_by: Sequence[str],
    max_results: int,
    page_token: str,
) -> tuple[list[Experiment], str | None]:
    """A page of experiments matching MLflow's experiment filter, in MLflow's order."""
    terms = parse_filter(
        rewrite_terms(filter_string, lambda key, rest: _experiment_identifier(key) + rest)
    )
    _sort([], order_by)  # checks the clauses before reading
    everything: list[Experiment] = []
    token: str | None = None
    while True:
        page = client.search_experiments(view_type, 1000, token)
        everything.extend(page)
        token = page.token
        if not token:
            break
    matching = [e for e in everything if all(_compare(_field(e, t), t) for t in terms)]
    return page_of(_sort(matching, order_by), max_results, page_token)
