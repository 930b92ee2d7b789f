"""Compose one configuration from YAML files the way Hydra 1.3 does.

A primary file (``config.yaml``) lists its defaults: groups (``- model: rf`` loads
``model/rf.yaml`` under the key ``model``), plain configs merged where they are listed
(``- base``) and ``_self_`` for the file's own keys, which otherwise come last (Hydra
>= 1.1: a config overrides what its defaults bring). Command-line overrides then choose
group options (always first, as Hydra does), then change, add or delete values in the
order given; ``${a.b}`` interpolations are resolved last.

Names in every defaults list are relative to ``config_dir`` (a leading ``/`` is
accepted and ignored). A group's keys go under its path with dots (``db/engine`` ->
``db.engine``); a plain config merges where the file that lists it merges. A group may
be re-chosen from another file with ``- override group: option`` (the command line
still wins), and ``- group: ???`` demands a choice on the command line.

Every file name comes from user input, so each is checked to be a plain name and to
resolve inside ``config_dir`` before it is opened.
"""

from __future__ import annotations

import copy
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loopml.configuration._interpolation import Resolver
from loopml.configuration._keys import MISSING, hint, lookup, scalar_text
from loopml.configuration._overrides import Override, parse_override
from loopml.core.errors import InvalidArgument

_NAME_RE = re.compile(r"[\w][\w.+-]*")
_SUFFIXES = (".yaml", ".yml")
_MAX_TREE_PASSES = 5


@dataclass(frozen=True)
class Config(Mapping[str, Any]):
    """A composed configuration: a read-only mapping over its top-level keys.

    ``choices`` records which option each group took and ``sources`` which files were
    merged (paths relative to the config folder, in merge order), so a run can log how
    its configuration was built, not just the result.
    """

    data: dict[str, Any]
    choices: dict[str, str] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    def select(self, dotted: str, default: Any = MISSING) -> Any:
        """The value at ``"train.lr"``; a missing key gives ``default``, else ``InvalidArgument``.

        The error names the closest existing keys, because a missing key is almost
        always a typo in a script or on the command line.
        """
        found = lookup(self.data, dotted.split("."))
        if found is not MISSING:
            return found
        if default is not MISSING:
            return default
        raise InvalidArgument(f"No key {dotted!r} in the configuration{hint(dotted, self.data)}")

    def flat(self) -> dict[str, str]:
        """Dotted keys to text values: the form run params take (see ``flatten``)."""
        return flatten(self.data)

    def to_yaml(self) -> str:
        """The resolved configuration as YAML, keys in composition order."""
        return yaml.safe_dump(self.data, sort_keys=False)

    def to_dict(self) -> dict[str, Any]:
        """A deep copy of ``data`` the caller may change freely."""
        return copy.deepcopy(self.data)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Nested mappings to ``{"train.lr": "0.01"}``: the text form params are stored in.

    Scalars become text (``True`` -> ``"true"``, ``None`` -> ``"null"``, floats by
    ``repr`` so ``0.01`` stays ``"0.01"``); lists and empty mappings become compact JSON;
    non-empty mappings recurse. The forms match YAML/JSON so the text reads back typed.
    """
    out: dict[str, str] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping) and value:
            out.update(flatten(value, dotted))
        else:
            out[dotted] = scalar_text(value)
    return out


def compose(
    config_dir: str | os.PathLike[str],
    config_name: str = "config",
    overrides: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Compose ``<config_dir>/<config_name>.yaml`` with its defaults and ``overrides``.

    ``env`` feeds ``${oc.env:NAME}``; it defaults to ``os.environ`` because that resolver
    exists to read the process environment. Every problem (bad YAML, unknown key or
    option, path outside ``config_dir``, interpolation cycle) raises ``InvalidArgument``
    saying what to change.
    """
    if isinstance(overrides, str):
        raise InvalidArgument(f"overrides must be a list of strings; pass [{overrides!r}].")
    root = Path(config_dir)
    if not root.is_dir():
        raise InvalidArgument(f"Config folder {str(root)!r} does not exist or is not a folder.")
    parsed = [parse_override(text) for text in overrides]
    tree = _Tree(root.resolve(), _primary_name(root.resolve(), config_name))
    value_overrides = tree.build(parsed)
    data: dict[str, Any] = {}
    for _rel, package, content in tree.items:
        _merge_at(data, package, content)
    for override in value_overrides:
        _apply(data, override)
    Resolver(data, os.environ if env is None else env).run()
    return Config(data, dict(tree.choices), tuple(rel for rel, _, _ in tree.items))


# -- files -----------------------------------------------------------------------------


def _primary_name(root: Path, config_name: str) -> str:
    name = config_name
    for suffix in _SUFFIXES:
        if isinstance(name, str) and name.endswith(suffix):
            name = name[: -len(suffix)]
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name) or ".." in name:
        raise InvalidArgument(
            f"Invalid config_name {config_name!r}: give the name of a YAML file directly in "
            f"the config folder, without '/' or '..' (e.g. 'config')."
        )
    if _find_file(root, name) is None:
        present = sorted(p.name for p in root.iterdir() if p.suffix in _SUFFIXES)
        listing = ", ".join(present) if present else "none"
        raise InvalidArgument(
            f"No config file {name}.yaml in {str(root)!r}; YAML files there: {listing}."
        )
    return name


def _check_path(name: str, what: str) -> str:
    """``name`` if every '/'-separated part is a plain name (no '..', no absolute path)."""
    parts = name.split("/")
    if not all(_NAME_RE.fullmatch(part) and ".." not in part for part in parts):
        raise InvalidArgument(
            f"Refused {name!r} as {what}: names are letters, digits, '_', '-', '.' and '/' between "
            f"folder names; '..', absolute paths and '\\' are not allowed."
        )
    return name


def _find_file(root: Path, rel: str) -> Path | None:
    for suffix in _SUFFIXES:
        path = (root / f"{rel}{suffix}").resolve()
        if not path.is_relative_to(root):
            raise InvalidArgument(f"Refused {rel!r}: it resolves outside the config folder.")
        if path.is_file():
            return path
    return None


def _options(root: Path, group: str) -> list[str]:
    folder = root / group
    if not folder.is_dir():
        return []
    return sorted({p.stem for p in folder.iterdir() if p.suffix in _SUFFIXES and p.is_file()})


def _read_yaml(path: Path, rel: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgument(f"Cannot read config file {rel}: {exc}.") from exc
    try:
        content = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f"line {mark.line + 1}" if mark is not None else "unknown line"
        problem = exc.problem or exc.context or "syntax error"
        raise InvalidArgument(f"Invalid YAML in {rel} at {line}: {problem}.") from exc
    except yaml.YAMLError as exc:
        raise InvalidArgument(f"Invalid YAML in {rel}: {exc}.") from exc
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise InvalidArgument(
            f"Config file {rel} must hold a mapping (key: value lines) at the top level, "
            f"not a {type(content).__name__}."
        )
    return content


# -- the defaults tree -----------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    kind: str  # "self", "config" or "group"
    name: str  # config path or group
    option: str | None = None
    optional: bool = False
    override: bool = False
    text: str = ""  # the command-line override that appended this group, if any


class _Tree:
    """Walks the defaults lists into ``items``: (file, package, own keys) in merge order."""

    def __init__(self, root: Path, primary: str) -> None:
        self.root = root
        self.primary = primary
        self.items: list[tuple[str, str, dict[str, Any]]] = []
        self.choices: dict[str, str] = {}
        self._cache: dict[str, dict[str, Any]] = {}

    def build(self, overrides: list[Override]) -> list[Override]:
        """Build with the group overrides applied; return the value overrides, in order.

        An override is a group choice only when its key is a group of the defaults tree
        (or, with ``+``, a folder of the config dir); the tree is rebuilt until the groups
        it declares and the ``override`` entries it holds stop changing.
        """
        declared: set[str] = set()
        tree_choices: dict[str, str | None] = {}
        for _ in range(_MAX_TREE_PASSES):
            groups, appended, removed, values = self._split(overrides, declared)
            found, found_choices = self._walk(groups, tree_choices, appended, removed)
            if found == declared and found_choices == tree_choices:
                unknown = sorted(set(found_choices) - found)
                if unknown:
                    raise InvalidArgument(
                        f"'override {unknown[0]}: ...' in a defaults list matches no group "
                        f"declared elsewhere; declare it with '- {unknown[0]}: <option>'."
                    )
                return values
            declared, tree_choices = found, found_choices
        raise InvalidArgument("The defaults lists do not settle; check 'override' entries.")

    def _split(
        self, overrides: list[Override], declared: set[str]
    ) -> tuple[dict[str, str | None], list[_Entry], dict[str, Any], list[Override]]:
        groups: dict[str, str | None] = {}
        appended: list[_Entry] = []
        removed: dict[str, Any] = {}
        values: list[Override] = []
        for ov in overrides:
            is_group = ov.key in declared
            is_folder = "." not in ov.key and (self.root / ov.key).is_dir()
            if ov.kind == "add" and is_folder:
                appended.append(_Entry("group", ov.key, _option(ov), text=ov.text))
            elif is_group and ov.kind in ("set", "force"):
                groups[ov.key] = None if ov.value is None else _option(ov)
            elif is_group and ov.kind == "delete":
                removed[ov.key] = ov.value if ov.has_value else MISSING
            elif ov.kind == "force" and is_folder:
                appended.append(_Entry("group", ov.key, _option(ov), override=True, text=ov.text))
            else:
                values.append(ov)
                if ov.kind == "set" and "." not in ov.key and isinstance(ov.value, str | int):
                    # Tentative: used only if the walk finds the group, so a default the
                    # command line replaces (even "???") is never loaded.
                    groups[ov.key] = _option_str(ov.value)
        return groups, appended, removed, values

    def _walk(
        self,
        groups: dict[str, str | None],
        tree_choices: dict[str, str | None],
        appended: list[_Entry],
        removed: dict[str, Any],
    ) -> tuple[set[str], dict[str, str | None]]:
        self.items = []
        self.choices = {}
        self._groups = groups
        self._tree_choices = tree_choices
        self._appended = appended
        self._removed = removed
        self._declared: set[str] = set()
        self._found_choices: dict[str, str | None] = {}
        self._tree_declared: set[str] = set()
        self._expand(self.primary, "", (), is_root=True)
        return self._tree_declared, self._found_choices

    def _expand(self, rel: str, package: str, stack: tuple[str, ...], is_root: bool) -> None:
        if rel in stack:
            cycle = " -> ".join((*stack[stack.index(rel) :], rel))
            raise InvalidArgument(f"The defaults lists include each other in a cycle: {cycle}.")
        path = _find_file(self.root, rel)
        if path is None:
            raise InvalidArgument(f"No config file {rel}.yaml in the config folder.")
        content = self._load(path, rel)
        entries = _entries(content.pop("defaults", []), f"{rel}{path.suffix}")
        if not any(entry.kind == "self" for entry in entries):
            entries.append(_Entry("self", rel))
        for entry in entries:
            if entry.kind == "self":
                self.items.append((f"{rel}{path.suffix}", package, content))
            elif entry.kind == "config":
                self._include(entry.name, entry.optional, package, (*stack, rel))
            elif entry.override:
                self._found_choices[entry.name] = entry.option
            else:
                self._group(entry, (*stack, rel))
        if is_root:
            self._tree_declared = set(self._declared)  # the groups the files declare
            for entry in self._appended:  # "+group=x" and "++group=x", after the primary
                self._append(entry, (*stack, rel))

    def _append(self, entry: _Entry, stack: tuple[str, ...]) -> None:
        if entry.name in self._declared:
            if entry.override:  # "++group=x" on a declared group: the next pass chooses x
                return
            raise InvalidArgument(
                f"Override {entry.text!r}: group {entry.name!r} is already in the defaults "
                f"list; drop the '+' ({entry.text.lstrip('+')}) to change its option."
            )
        self._group(entry, stack)

    def _include(self, name: str, optional: bool, package: str, stack: tuple[str, ...]) -> None:
        if _find_file(self.root, name) is None:
            if optional:
                return
            raise InvalidArgument(
                f"No config file {name}.yaml for the defaults entry '{name}' in {stack[-1]}; "
                f"create it or mark the entry 'optional'."
            )
        self._expand(name, package, stack, is_root=False)

    def _group(self, entry: _Entry, stack: tuple[str, ...]) -> None:
        group = entry.name
        if group in self._declared:
            raise InvalidArgument(
                f"Group {group!r} is listed twice in the defaults lists (again in {stack[-1]}); "
                f"to change its option from another file use '- override {group}: <option>'."
            )
        self._declared.add(group)
        option = entry.option
        option = self._tree_choices.get(group, option)
        option = self._groups.get(group, option)
        if group in self._removed:
            expected = self._removed[group]
            if expected is not MISSING and option != _option_str(expected):
                raise InvalidArgument(
                    f"Override ~{group}={expected}: the chosen option is {option!r}, not "
                    f"{_option_str(expected)!r}; use ~{group} to remove it whatever it is."
                )
            return
        if option is None:
            return
        if option == "???":
            available = ", ".join(_options(self.root, group)) or "none"
            raise InvalidArgument(
                f"Group {group!r} needs an option: add {group}=<option> to the overrides "
                f"(available: {available})."
            )
        _check_path(option, f"option for group {group!r}")
        if "/" in option:
            raise InvalidArgument(
                f"Refused option {option!r} for group {group!r}: give one file name of {group}/, "
                f"without '/'."
            )
        rel = f"{group}/{option}"
        if _find_file(self.root, rel) is None:
            if entry.optional:
                return
            available = ", ".join(_options(self.root, group)) or "none"
            raise InvalidArgument(
                f"Unknown option {option!r} for group {group!r}; available: {available} "
                f"(the YAML files in {group}/)."
            )
        self.choices[group] = option
        self._expand(rel, group.replace("/", "."), stack, is_root=False)

    def _load(self, path: Path, rel: str) -> dict[str, Any]:
        if rel not in self._cache:
            self._cache[rel] = _read_yaml(path, f"{rel}{path.suffix}")
        return copy.deepcopy(self._cache[rel])


def _entries(raw: Any, where: str) -> list[_Entry]:
    """The defaults list of one file, validated."""
    usage = "entries look like '- base', '- model: rf', '- optional model: rf' or '- _self_'"
    if not isinstance(raw, list):
        raise InvalidArgument(f"'defaults' in {where} must be a list; {usage}.")
    entries: list[_Entry] = []
    for item in raw:
        if item == "_self_":
            entries.append(_Entry("self", where))
        elif isinstance(item, str):
            entries.append(_Entry("config", _check_path(item.lstrip("/"), f"entry in {where}")))
        elif isinstance(item, dict) and len(item) == 1:
            [(key, option)] = item.items()
            words = str(key).split()
            flags = set(words[:-1])
            if not words or not flags <= {"optional", "override"}:
                raise InvalidArgument(f"Invalid defaults entry {item!r} in {where}; {usage}.")
            if option is not None and not isinstance(option, str | int | float):
                raise InvalidArgument(f"Invalid option {option!r} in {where}; {usage}.")
            group = _check_path(words[-1].lstrip("/"), f"group in {where}")
            chosen = None if option is None else _option_str(option)
            entries.append(_Entry("group", group, chosen, "optional" in flags, "override" in flags))
        else:
            raise InvalidArgument(f"Invalid defaults entry {item!r} in {where}; {usage}.")
    return entries


def _option(ov: Override) -> str:
    if ov.value is None or isinstance(ov.value, list | dict):
        raise InvalidArgument(f"Override {ov.text!r}: a group option must be a config name.")
    return _option_str(ov.value)


def _option_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- merging and value overrides -------------------------------------------------------


def _merge_at(data: dict[str, Any], package: str, content: dict[str, Any]) -> None:
    target = data
    for part in package.split(".") if package else ():
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    _merge(target, content)


def _merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Deep merge for mappings; lists and scalars are replaced (Hydra/OmegaConf)."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def _apply(data: dict[str, Any], ov: Override) -> None:
    if "/" in ov.key:
        raise InvalidArgument(
            f"Override {ov.text!r}: {ov.key!r} is not a group of the defaults list; value "
            f"keys are dotted (a.b=...)."
        )
    *parents, last = ov.key.split(".")
    creating = ov.kind in ("add", "force")
    target: Any = data
    for depth, part in enumerate(parents):
        if isinstance(target, dict) and part not in target and creating:
            target[part] = {}
        if not isinstance(target, dict) or part not in target:
            _missing(ov, data)
        target = target[part]
        if not isinstance(target, dict):
            where = ".".join(parents[: depth + 1])
            raise InvalidArgument(
                f"Override {ov.text!r}: {where!r} is {target!r}, not a mapping, so it has no "
                f"key {last!r}."
            )
    exists = last in target
    if ov.kind == "set" and not exists:
        _missing(ov, data)
    if ov.kind == "add" and exists:
        raise InvalidArgument(
            f"Override {ov.text!r}: key {ov.key!r} exists already (value {target[last]!r}); "
            f"drop the '+' to change it, or use '++' to add or change."
        )
    if ov.kind == "delete":
        if not exists:
            _missing(ov, data)
        if ov.has_value and target[last] != ov.value:
            raise InvalidArgument(
                f"Override {ov.text!r}: {ov.key!r} is {target[last]!r}, not {ov.value!r}, so "
                f"it was not deleted; use ~{ov.key} to delete it whatever its value."
            )
        del target[last]
        return
    target[last] = copy.deepcopy(ov.value)


def _missing(ov: Override, data: dict[str, Any]) -> None:
    add = ""
    if ov.kind == "set":
        add = f" To add it as a new key, use +{ov.key}={ov.text.partition('=')[2]}"
    raise InvalidArgument(f"No key {ov.key!r} in the configuration{hint(ov.key, data)}{add}")
