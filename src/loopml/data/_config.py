"""The committed repository configuration, ``.loopml/config.toml``: cache location and remotes.

::

    [core]
    cache = "/mnt/fast/loopml-cache"   # optional; relative paths are relative to the repo root
    remote = "storage"                 # the default remote
    link = "hardlink"                  # optional: reflink | hardlink | copy (see data/_workspace)

    [remote.storage]
    url = "s3://bucket/datasets"
    endpoint_url = "http://127.0.0.1:9000"   # every other key is an fsspec storage option

The file is read with :mod:`tomllib`; it is rewritten whole (and atomically)
by :func:`write_config`, so comments added by hand do not survive a
``loopml data remote add``.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument, StorageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_CORE_KEYS = ("cache", "remote", "link")
LINK_CHOICES = ("reflink", "hardlink", "copy")


def check_remote_name(name: object) -> str:
    """``name`` if it is a usable remote name; InvalidArgument saying what is allowed."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid remote name {name!r:.80}: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return name


@dataclass(frozen=True)
class Remote:
    """A named remote: an fsspec URL and the storage options its filesystem receives."""

    name: str
    url: str
    options: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_remote_name(self.name)
        if not isinstance(self.url, str) or not self.url.strip():
            raise InvalidArgument(f"remote {self.name!r} needs a URL")
        for key, value in self.options.items():
            if not isinstance(key, str) or not _OPTION.match(key) or key == "url":
                raise InvalidArgument(f"remote {self.name!r}: invalid option name {key!r:.80}")
            if not isinstance(value, str):
                raise InvalidArgument(
                    f"remote {self.name!r}: option {key!r} must be a string, "
                    f"got {type(value).__name__}"
                )
        object.__setattr__(self, "options", MappingProxyType(dict(self.options)))


@dataclass(frozen=True)
class RepoConfig:
    """The repository's settings: its remotes, the default one, and a cache override."""

    remotes: Mapping[str, Remote] = field(default_factory=dict)
    default_remote: str | None = None
    cache: str | None = None
    link: str | None = None
    """The first link mode to try (None: reflink, then hardlink unless root, then copy)."""

    def __post_init__(self) -> None:
        for name, remote in self.remotes.items():
            if name != remote.name:
                raise InvalidArgument(f"remote registered as {name!r} is named {remote.name!r}")
        if self.default_remote is not None and self.default_remote not in self.remotes:
            raise InvalidArgument(
                f"default remote {self.default_remote!r} is not configured; add it with "
                f"`loopml data remote add {self.default_remote} URL`"
            )
        if self.cache is not None and (not isinstance(self.cache, str) or not self.cache):
            raise InvalidArgument("cache must be a non-empty path")
        if self.link is not None and self.link not in LINK_CHOICES:
            raise InvalidArgument(
                f"link must be one of {', '.join(LINK_CHOICES)}, not {self.link!r}"
            )
        object.__setattr__(self, "remotes", MappingProxyType(dict(self.remotes)))


def read_config(path: Path) -> RepoConfig:
    """Parse ``path``; an absent file is the empty config. InvalidArgument if malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return RepoConfig()
    except (OSError, UnicodeDecodeError) as exc:
        raise StorageError(f"could not read {path}: {exc}") from exc
    try:
        body = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"{path} is not valid TOML ({exc}); fix or delete it") from None
    try:
        return _config_from(body)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{path}: {exc.message}") from None


def _config_from(body: dict[str, Any]) -> RepoConfig:
    unknown = sorted(set(body) - {"core", "remote"})
    if unknown:
        raise InvalidArgument(f"unknown section(s) {', '.join(unknown)} (expected core, remote)")
    core = _table(body.get("core", {}), "[core]")
    extra = sorted(set(core) - set(_CORE_KEYS))
    if extra:
        raise InvalidArgument(
            f"unknown key(s) {', '.join(extra)} in [core] (expected cache, remote, link)"
        )
    remotes: dict[str, Remote] = {}
    for name, table in _table(body.get("remote", {}), "[remote]").items():
        entries = _table(table, f"[remote.{name}]")
        url = entries.pop("url", None)
        if not isinstance(url, str):
            raise InvalidArgument(f'[remote.{name}] needs url = "..."')
        remotes[name] = Remote(name=name, url=url, options=entries)
    default = core.get("remote")
    cache = core.get("cache")
    link = core.get("link")
    for key, value in (("remote", default), ("cache", cache), ("link", link)):
        if value is not None and not isinstance(value, str):
            raise InvalidArgument(f"[core] {key} must be a string")
    return RepoConfig(remotes=remotes, default_remote=default, cache=cache, link=link)


def _table(value: object, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidArgument(f"{name} must be a table")
    return dict(value)


def write_config(path: Path, config: RepoConfig) -> None:
    """Write ``config`` to ``path`` as TOML, atomically (a temp file, then a rename)."""
    lines = ["# loopml data repository settings; commit this file with git.", "[core]"]
    if config.cache is not None:
        lines.append(f"cache = {_toml_string(config.cache)}")
    if config.default_remote is not None:
        lines.append(f"remote = {_toml_string(config.default_remote)}")
    if config.link is not None:
        lines.append(f"link = {_toml_string(config.link)}")
    for name in sorted(config.remotes):
        remote = config.remotes[name]
        lines += ["", f"[remote.{_toml_key(name)}]", f"url = {_toml_string(remote.url)}"]
        lines += [f"{key} = {_toml_string(remote.options[key])}" for key in sorted(remote.options)]
    write_text_atomic(path, "\n".join(lines) + "\n")


def _toml_string(value: str) -> str:
    """A TOML basic string: every control character escaped."""
    out = ['"']
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _toml_key(name: str) -> str:
    # Remote names are checked: bare keys allow letters, digits, '_' and '-', not '.'.
    return name if "." not in name else _toml_string(name)
