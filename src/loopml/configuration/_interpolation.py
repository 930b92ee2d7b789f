"""``${a.b}`` and ``${oc.env:NAME,default}`` interpolation, resolved OmegaConf style.

Runs last in composition, after every override, so a reference sees the final value.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from loopml.configuration._keys import dotted, hint
from loopml.core.errors import InvalidArgument

_RESOLVER_RE = re.compile(r"([A-Za-z_][\w.]*):(.*)", re.DOTALL)
_REF_RE = re.compile(r"(\.*)([A-Za-z_][\w-]*(?:\.(?:[A-Za-z_][\w-]*|\d+))*)")


class Resolver:
    """Resolves ``${a.b}`` and ``${oc.env:NAME,default}`` in place, OmegaConf style.

    A value that is exactly one interpolation takes the referenced value with its type;
    an embedded one becomes text. ``\\${`` is a literal ``${``. ``active`` is the chain
    of paths being resolved, so a cycle is reported with every key on it.
    """

    def __init__(self, data: dict[str, Any], env: Mapping[str, str]) -> None:
        self.data = data
        self.env = env
        self.active: list[tuple[Any, ...]] = []
        self.done: set[tuple[Any, ...]] = set()

    def run(self) -> None:
        self._resolve_node(())

    def _resolve_node(self, path: tuple[Any, ...]) -> None:
        if path in self.done:
            return
        node = self._raw(path)
        if isinstance(node, str):
            if "${" in node:
                self._store(path, self._resolve_string(node, path))
        elif isinstance(node, dict | list):
            self._enter(path)
            keys = list(node) if isinstance(node, dict) else range(len(node))
            for key in keys:
                self._resolve_node((*path, key))
            self.active.pop()
        self.done.add(path)

    def _enter(self, path: tuple[Any, ...]) -> None:
        if path in self.active:
            chain = [*self.active[self.active.index(path) :], path]
            names = " -> ".join(dotted(p) for p in chain)
            raise InvalidArgument(f"Interpolation cycle: {names}; break one of these references.")
        self.active.append(path)

    def _raw(self, path: tuple[Any, ...]) -> Any:
        node: Any = self.data
        for key in path:
            node = node[key]
        return node

    def _store(self, path: tuple[Any, ...], value: Any) -> None:
        self._raw(path[:-1])[path[-1]] = value
        self.done.add(path)

    def _resolve_string(self, text: str, path: tuple[Any, ...]) -> Any:
        self._enter(path)
        try:
            pieces = split_interpolations(text, dotted(path))
            if len(pieces) == 1 and isinstance(pieces[0], tuple):
                return self._evaluate(pieces[0][0], path)
            out: list[str] = []
            for piece in pieces:
                if isinstance(piece, tuple):
                    out.append(str(self._evaluate(piece[0], path)))
                else:
                    out.append(piece)
            return "".join(out)
        finally:
            self.active.pop()

    def _evaluate(self, expression: str, path: tuple[Any, ...]) -> Any:
        if "${" in expression:
            expression = str(self._resolve_inner(expression, path))
        expression = expression.strip()
        call = _RESOLVER_RE.fullmatch(expression)
        if call is not None:
            return self._resolver(call.group(1), call.group(2), path)
        ref = _REF_RE.fullmatch(expression)
        if ref is None:
            raise InvalidArgument(
                f"Invalid interpolation ${{{expression}}} at {dotted(path)!r}; use ${{a.b}} "
                f"for another key or ${{oc.env:NAME}} for an environment variable."
            )
        dots, key = ref.group(1), ref.group(2)
        base = path[: len(path) - len(dots)] if dots else ()
        if len(dots) > len(path):
            raise InvalidArgument(f"Interpolation ${{{expression}}} goes above the top level.")
        return self._value((*base, *key.split(".")), expression, path)

    def _resolve_inner(self, expression: str, path: tuple[Any, ...]) -> Any:
        out: list[str] = []
        for piece in split_interpolations(expression, dotted(path)):
            out.append(str(self._evaluate(piece[0], path)) if isinstance(piece, tuple) else piece)
        return "".join(out)

    def _value(self, target: tuple[Any, ...], expression: str, path: tuple[Any, ...]) -> Any:
        node: Any = self.data
        resolved: tuple[Any, ...] = ()
        for part in target:
            if isinstance(node, dict) and part in node:
                key: Any = part
            elif isinstance(node, list) and str(part).isdigit() and int(part) < len(node):
                key = int(part)
            else:
                raise InvalidArgument(
                    f"Unknown interpolation ${{{expression}}} at {dotted(path)!r}: no key "
                    f"{dotted(target)!r}{hint(dotted(target), self.data)}"
                )
            resolved = (*resolved, key)
            node = node[key]
            if isinstance(node, str) and "${" in node and resolved not in self.done:
                self._resolve_node(resolved)
                node = self._raw(resolved)
        if isinstance(node, dict | list):
            self._resolve_node(resolved)
            return copy.deepcopy(self._raw(resolved))
        return node

    def _resolver(self, name: str, argument: str, path: tuple[Any, ...]) -> Any:
        if name != "oc.env":
            raise InvalidArgument(
                f"Unknown resolver {name!r} in ${{{name}:...}} at {dotted(path)!r}; the only "
                f"resolver is oc.env (${{oc.env:NAME}} or ${{oc.env:NAME,default}})."
            )
        var, comma, default = argument.partition(",")
        var = var.strip()
        if var in self.env:
            return self.env[var]
        if comma:
            default = default.strip()
            if default == "null":
                return None
            if len(default) >= 2 and default[0] == default[-1] and default[0] in "'\"":
                return default[1:-1]
            return default
        raise InvalidArgument(
            f"Environment variable {var!r} is not set (needed by ${{oc.env:{var}}} at "
            f"{dotted(path)!r}); set it or give a default: ${{oc.env:{var},default}}."
        )


def split_interpolations(text: str, where: str) -> list[str | tuple[str]]:
    """Literal text and ``(expression,)`` pieces of a string, honouring ``\\${`` escapes."""
    pieces: list[str | tuple[str]] = []
    literal: list[str] = []
    pos = 0
    while pos < len(text):
        if text.startswith("\\${", pos):
            literal.append("${")
            pos += 3
            continue
        if not text.startswith("${", pos):
            literal.append(text[pos])
            pos += 1
            continue
        depth, end = 0, pos
        while end < len(text):
            depth += {"{": 1, "}": -1}.get(text[end], 0)
            end += 1
            if depth == 0 and text[end - 1] == "}":
                break
        if depth != 0:
            raise InvalidArgument(f"Unclosed interpolation in {text!r} at {where!r}; add '}}'.")
        if literal:
            pieces.append("".join(literal))
            literal = []
        pieces.append((text[pos + 2 : end - 1],))
        pos = end
    if literal:
        pieces.append("".join(literal))
    return pieces
