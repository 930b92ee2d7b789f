"""Command-line overrides in Hydra's grammar: ``key=value``, ``+key=v``, ``++key=v``, ``~key``.

Parsing is one small recursive-descent reader shared with sweeps (``_sweep``): a value is
an element (unquoted primitive, quoted string, ``[...]`` list, ``{k: v}`` dict) or, for a
sweep only, several comma-separated elements or a ``range(...)`` / ``choice(...)`` call.
Unquoted primitives become YAML scalars the way Hydra types them (``0.01`` float, ``10``
int, ``true`` bool, ``null`` None, anything else text), so ``lr=1e-3`` is a float and
``name=yes`` stays the string ``"yes"``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import yaml

from loopml.core.errors import InvalidArgument

OverrideKind = Literal["set", "add", "force", "delete"]

FORMS = (
    "accepted forms: key=value (change a key), +key=value (add a new key), "
    "++key=value (add or change), ~key or ~key=value (delete), group=option (choose a config)"
)

_SEGMENT = r"[A-Za-z_][\w-]*"
KEY_RE = re.compile(rf"{_SEGMENT}(?:[./]{_SEGMENT})*")
_HEAD_RE = re.compile(rf"(?P<prefix>\+\+|\+|~)?(?P<key>{_SEGMENT}(?:[./]{_SEGMENT})*)")
_INT_RE = re.compile(r"[+-]?(?:0|[1-9](?:_?\d)*)")
_FLOAT_RE = re.compile(
    r"[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*(?:[eE][+-]?\d+)?|\d(?:_?\d)*\.?(?:[eE][+-]?\d+)"
    r"|\d(?:_?\d)*\.|inf|nan)",
    re.IGNORECASE,
)
# Characters that end an unquoted primitive; "(" starts a function call in sweeps.
_STOP = ",[]{}()"
_FUNCTIONS = ("range", "choice")
_KINDS: dict[str | None, OverrideKind] = {None: "set", "+": "add", "++": "force", "~": "delete"}


@dataclass(frozen=True)
class Override:
    """One parsed override; ``has_value`` is False only for a bare ``~key``."""

    kind: OverrideKind
    key: str
    value: Any
    has_value: bool = True
    text: str = ""


@dataclass(frozen=True)
class Element:
    """A parsed value with the exact text it came from (sweeps re-emit that text)."""

    value: Any
    raw: str


@dataclass(frozen=True)
class Call:
    """A sweep function call such as ``range(1,4)``; ``args`` are parsed elements."""

    name: str
    args: tuple[Element, ...]
    raw: str


def parse_override(text: str) -> Override:
    """Parse one override; a malformed one raises ``InvalidArgument`` showing the accepted forms.

    A sweep value (``a=1,2``, ``a=range(3)``) is refused here: a single run cannot take
    several values, so the message says to sweep with ``-m`` or to quote the value.
    """
    prefix, key, rest = split_head(text)
    kind = _KINDS[prefix]
    if rest is None:
        if kind != "delete":
            raise InvalidArgument(f"Malformed override {text!r}: missing '=value'; {FORMS}.")
        return Override(kind, key, None, has_value=False, text=text)
    items = parse_value_list(rest, text)
    if len(items) != 1 or isinstance(items[0], Call):
        raise InvalidArgument(
            f"Override {text!r} is a sweep (several values or a function); run a multi-run "
            f"with -m to sweep it, or quote the value ('...') to pass it as text."
        )
    return Override(kind, key, items[0].value, text=text)


def split_head(text: str) -> tuple[str | None, str, str | None]:
    """``(prefix, key, value text or None)`` of an override, validating the key."""
    if not isinstance(text, str):
        raise InvalidArgument(f"Malformed override {text!r}: it must be a string; {FORMS}.")
    key_part, eq, rest = text.partition("=")
    match = _HEAD_RE.fullmatch(key_part.strip())
    if match is None:
        raise InvalidArgument(
            f"Malformed override {text!r}: the key must be dotted names such as 'train.lr' "
            f"(letters, digits, '_' and '-'); {FORMS}."
        )
    return match.group("prefix"), match.group("key"), rest if eq else None


def parse_value_list(rest: str, text: str) -> list[Element | Call]:
    """The comma-separated items of a value (one item unless it is a sweep)."""
    return _Reader(rest, text).items()


def scalar(raw: str) -> Any:
    """Type an unquoted primitive as Hydra does: int, float, bool, null, else the text."""
    text = raw.strip()
    lowered = text.lower()
    if lowered in ("true", "false", "null"):
        return yaml.safe_load(lowered)
    if _INT_RE.fullmatch(text):
        return int(text.replace("_", ""))
    if _FLOAT_RE.fullmatch(text):
        return float(text.replace("_", ""))
    return text


class _Reader:
    """Recursive-descent reader over one value text; errors name the whole override."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.text = text
        self.pos = 0

    def fail(self, problem: str) -> InvalidArgument:
        where = f"at character {self.pos + 1} of the value"
        return InvalidArgument(f"Malformed override {self.text!r}: {problem} {where}; {FORMS}.")

    def peek(self) -> str:
        return self.source[self.pos] if self.pos < len(self.source) else ""

    def skip_space(self) -> None:
        while self.peek().isspace():
            self.pos += 1

    def items(self) -> list[Element | Call]:
        if not self.source.strip():
            return [Element("", self.source)]
        found: list[Element | Call] = [self.item(top=True)]
        while self.peek() == ",":
            self.pos += 1
            found.append(self.item(top=True))
        if self.pos != len(self.source):
            raise self.fail(f"unexpected {self.peek()!r}")
        return found

    def item(self, top: bool = False) -> Element | Call:
        self.skip_space()
        start = self.pos
        name = re.match(r"[A-Za-z_]\w*(?=\s*\()", self.source[self.pos :])
        if top and name and name.group(0) in _FUNCTIONS:
            self.pos += len(name.group(0))
            self.skip_space()
            self.pos += 1  # the "("
            args: list[Element] = []
            self.skip_space()
            if self.peek() != ")":
                args.append(self.element())
                while self.peek() == ",":
                    self.pos += 1
                    args.append(self.element())
            if self.peek() != ")":
                raise self.fail(f"{name.group(0)}(...) is not closed")
            self.pos += 1
            raw = self.source[start : self.pos]
            self.skip_space()
            return Call(name.group(0), tuple(args), raw.strip())
        return self.element()

    def element(self, stop: str = _STOP) -> Element:
        self.skip_space()
        start = self.pos
        char = self.peek()
        if char in ("'", '"'):
            value: Any = self.quoted(char)
        elif char == "[":
            value = self.sequence()
        elif char == "{":
            value = self.mapping()
        elif char == "" or char in ",]})":
            value = ""
        elif char in stop:
            raise self.fail(f"unexpected {char!r}")
        else:
            value = scalar(self.primitive(stop))
        raw = self.source[start : self.pos].strip()
        self.skip_space()
        return Element(value, raw)

    def primitive(self, stop: str) -> str:
        out: list[str] = []
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "$" and self.source.startswith("${", self.pos):
                out.append(self.interpolation())
                continue
            if char == "\\" and self.pos + 1 < len(self.source):
                out.append(self.source[self.pos + 1])  # "\," is a literal comma
                self.pos += 2
                continue
            if char in stop:
                break
            out.append(char)
            self.pos += 1
        return "".join(out).strip()

    def interpolation(self) -> str:
        start = self.pos
        depth = 0
        while self.pos < len(self.source):
            char = self.source[self.pos]
            self.pos += 1
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    return self.source[start : self.pos]
        raise self.fail("an interpolation '${' is not closed")

    def quoted(self, quote: str) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char == "\\" and self.source[self.pos + 1 : self.pos + 2] in (quote, "\\"):
                out.append(self.source[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if char == quote:
                return "".join(out)
            out.append(char)
        raise self.fail(f"the quote {quote} is not closed")

    def sequence(self) -> list[Any]:
        self.pos += 1
        values: list[Any] = []
        self.skip_space()
        if self.peek() == "]":
            self.pos += 1
            return values
        while True:
            values.append(self.element().value)
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == "]":
                self.pos += 1
                return values
            raise self.fail("a list '[' is not closed")

    def mapping(self) -> dict[str, Any]:
        self.pos += 1
        values: dict[str, Any] = {}
        self.skip_space()
        if self.peek() == "}":
            self.pos += 1
            return values
        while True:
            key = self.element(stop=_STOP + ":").value
            if self.peek() != ":":
                raise self.fail("a dict entry needs 'key: value'")
            self.pos += 1
            values[str(key)] = self.element().value
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == "}":
                self.pos += 1
                return values
            raise self.fail("a dict '{' is not closed")
