"""Term-level rewriting of MLflow filters, for entities that reuse the run grammar.

Experiments, logged models and registered models are filtered with the same
grammar as runs but other identifiers (``name``, ``creation_time``...). Each
term's leading identifier is renamed to a run-filter counterpart, and the run
filter parser (``_filter``) does the rest: operators, quoting, value types.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_IDENTIFIER = re.compile(r"""\s*([A-Za-z_]\w*(?:\.(?:`[^`]*`|"[^"]*"|[A-Za-z_][\w.]*))?)""")
_LITERAL = re.compile(r"'(?:[^'\\]|\\.)*'" + r'|"(?:[^"\\]|\\.)*"')


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


def map_literals(rest: str, change: Callable[[str], str]) -> str:
    """The rest of a term with each quoted string's content passed through ``change``."""
    return _LITERAL.sub(lambda m: m.group()[0] + change(m.group()[1:-1]) + m.group()[0], rest)
