"""The interpreter and its installed packages, as an exact lock a run can be reproduced from.

The lock is read with ``importlib.metadata`` over ``sys.path`` (no pip
subprocess, which would cost a second per run) once per process: installing
packages while a process runs does not change what that process imported.
A package whose metadata cannot be read is skipped with a warning rather than
failing the run. ``text()`` is a requirements file (``pip install -r`` works
on another machine); packages installed from a local path or in editable mode
are comment lines there, since their path means nothing elsewhere.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import platform
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from loopml.core.errors import InvalidArgument
from loopml.core.hashing import hash_bytes

_SEPARATORS = re.compile(r"[-_.]+")
_REQUIREMENT = re.compile(r"([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)==(\S+)")
_LOCAL = " (installed from a local path)"
_HEADERS = ("python", "implementation", "platform")


def canonical_name(name: str) -> str:
    """A distribution's name as PEP 503 compares them: ``Foo_Bar.baz`` is ``foo-bar-baz``."""
    return _SEPARATORS.sub("-", name).lower()


@dataclass(frozen=True)
class EnvironmentLock:
    """Python version, platform and every installed package with its exact version.

    ``packages`` is sorted by canonical name, one version per name: the one
    ``import`` finds first on ``sys.path``. ``editable`` names those of them
    installed from a local path (PEP 610 ``direct_url.json``).
    """

    python: str
    implementation: str
    platform: str
    packages: tuple[tuple[str, str], ...]
    editable: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def text(self) -> str:
        """The lock as a requirements file; ``parse`` reads it back."""
        lines = [f"# {key}: {getattr(self, key)}" for key in _HEADERS]
        local = set(self.editable)
        for name, version in self.packages:
            pin = f"{name}=={version}"
            lines.append(f"# {pin}{_LOCAL}" if name in local else pin)
        return "\n".join(lines) + "\n"

    def digest(self) -> str:
        """Content hash of ``text()``: runs in one environment share it, so it is stored once."""
        return hash_bytes(self.text().encode())

    @classmethod
    def parse(cls, text: str) -> EnvironmentLock:
        """Read a lock written by ``text()``; InvalidArgument naming the first bad line.

        Blank lines and other comment lines are ignored, as pip does.
        """
        if not isinstance(text, str):
            raise InvalidArgument(f"an environment lock is text, not {type(text).__name__}")
        headers: dict[str, str] = {}
        packages: dict[str, str] = {}
        editable: list[str] = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.strip()
            local = line.startswith("#") and line.endswith(_LOCAL)
            if local:
                line = line[1 : -len(_LOCAL)].strip()
            elif line.startswith("#"):
                key, sep, value = line[1:].strip().partition(": ")
                if sep and key in _HEADERS:
                    headers[key] = value.strip()
                continue
            elif not line:
                continue
            match = _REQUIREMENT.fullmatch(line)
            if match is None:
                raise InvalidArgument(
                    f"environment lock line {number} is not `name==version`: {raw!r:.120}"
                )
            name = canonical_name(match[1])
            if name in packages:
                raise InvalidArgument(f"environment lock line {number}: {name} is pinned twice")
            packages[name] = match[2]
            if local:
                editable.append(name)
        missing = [key for key in _HEADERS if key not in headers]
        if missing:
            raise InvalidArgument(
                f"not an environment lock: the '# {missing[0]}: ...' line is missing"
            )
        return cls(
            python=headers["python"],
            implementation=headers["implementation"],
            platform=headers["platform"],
            packages=tuple(sorted(packages.items())),
            editable=tuple(sorted(editable)),
        )


@dataclass(frozen=True)
class EnvironmentDiff:
    """What changed from lock ``a`` to lock ``b`` (each tuple sorted by name)."""

    added: tuple[tuple[str, str], ...]
    removed: tuple[tuple[str, str], ...]
    changed: tuple[tuple[str, str, str], ...]
    python: tuple[str, str] | None

    @property
    def empty(self) -> bool:
        """True when both locks hold the same Python version and packages."""
        return not (self.added or self.removed or self.changed or self.python)


def capture_environment(*, path: Sequence[str] | None = None) -> EnvironmentLock:
    """The lock of this interpreter, computed once per process.

    ``path`` reads the packages under those folders instead of ``sys.path``
    (not cached); the Python fields are still this interpreter's.
    """
    if path is None:
        return _this_process()
    if isinstance(path, str) or not all(isinstance(p, str) for p in path):
        raise InvalidArgument("path must be a list of folder names, like sys.path")
    return _lock(importlib.metadata.distributions(path=list(path)))


@functools.cache
def _this_process() -> EnvironmentLock:
    return _lock(importlib.metadata.distributions())


def _lock(distributions: Iterable[importlib.metadata.Distribution]) -> EnvironmentLock:
    packages: dict[str, str] = {}
    editable: list[str] = []
    warnings: list[str] = []
    for dist in distributions:
        try:
            name, version = _name_version(dist)
        except (OSError, UnicodeError, ValueError) as exc:
            warnings.append(f"skipped unreadable package metadata in {_where(dist)}: {exc}")
            continue
        if not name or not version:
            warnings.append(f"skipped package metadata without a name or version in {_where(dist)}")
            continue
        key = canonical_name(name)
        if key in packages:
            continue  # shadowed: a folder earlier on sys.path provides this package
        packages[key] = version
        if _from_local_path(dist):
            editable.append(key)
    return EnvironmentLock(
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        platform=platform.platform(),
        packages=tuple(sorted(packages.items())),
        editable=tuple(sorted(editable)),
        warnings=tuple(warnings),
    )


def _name_version(dist: importlib.metadata.Distribution) -> tuple[str | None, str | None]:
    """Name and Version from the metadata's header block.

    Read by hand: ``dist.metadata`` runs the email parser over the whole file,
    long description included, which made a lock of 200 packages take a second.
    """
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO")
    fields: dict[str, str] = {}
    for line in (text or "").splitlines():
        if not line.strip():
            break  # the headers end at the first blank line; the description follows
        key, sep, value = line.partition(":")
        if sep and key in ("Name", "Version") and key not in fields:
            fields[key] = value.strip()
    return fields.get("Name"), fields.get("Version")


def _where(dist: importlib.metadata.Distribution) -> str:
    # PathDistribution keeps its folder in a private attribute; fall back to the type.
    return str(getattr(dist, "_path", type(dist).__name__))


def _from_local_path(dist: importlib.metadata.Distribution) -> bool:
    """Whether PEP 610 says the package came from a local folder or file, or is editable."""
    try:
        raw = dist.read_text("direct_url.json")
        data = json.loads(raw) if raw else None
    except (OSError, UnicodeError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    dir_info = data.get("dir_info")
    url = data.get("url")
    return (isinstance(url, str) and url.startswith("file:")) or (
        isinstance(dir_info, dict) and bool(dir_info.get("editable"))
    )


def diff_environments(a: EnvironmentLock, b: EnvironmentLock) -> EnvironmentDiff:
    """Packages added, removed and changed from ``a`` to ``b``, and the Python version change."""
    old, new = dict(a.packages), dict(b.packages)
    return EnvironmentDiff(
        added=tuple(sorted((n, v) for n, v in new.items() if n not in old)),
        removed=tuple(sorted((n, v) for n, v in old.items() if n not in new)),
        changed=tuple(sorted((n, old[n], v) for n, v in new.items() if n in old and old[n] != v)),
        python=(a.python, b.python) if a.python != b.python else None,
    )
