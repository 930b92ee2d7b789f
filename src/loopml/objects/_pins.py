"""Pins: named sets of root ids kept in the store itself, honoured by every collection.

A store is shared by writers that keep their roots in different places: runs
and model versions in the metadata database, data repositories in pointer
files committed to git, which no database sees. A data repository therefore
pins what it adds (``pins/<name>``, one id per line) and every garbage
collection of the store, whoever starts it, keeps what any pin reaches. The
repository's own ``loopml data gc``, which can read its git history, is the
one that unpins.

A pin file is rewritten whole (atomically, like every key); writers of one
name must not race (a data repository holds its lock).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from loopml.core.errors import InvalidArgument, NotFound
from loopml.objects._fs import Backend
from loopml.objects._layout import check_id

PIN_PREFIX = "pins"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_pin_name(name: object) -> str:
    """``name`` if it can name a pin file (letters, digits, ``.``, ``_``, ``-``)."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"invalid pin name {name!r:.100}: use letters, digits, '.', '_' and '-' (at most 128)"
        )
    return name


def read_pin(backend: Backend, name: str) -> set[str]:
    """The ids pinned under ``name`` (empty when there is no such pin)."""
    try:
        text = backend.read_bytes(f"{PIN_PREFIX}/{check_pin_name(name)}").decode("ascii")
    except NotFound:
        return set()
    return {line for line in text.split() if line}


def write_pin(backend: Backend, name: str, ids: Iterable[str]) -> None:
    """Pin exactly ``ids`` under ``name``; an empty set removes the pin."""
    key = f"{PIN_PREFIX}/{check_pin_name(name)}"
    wanted = sorted({check_id(i) for i in ids})
    if wanted:
        backend.write_bytes(key, ("\n".join(wanted) + "\n").encode("ascii"))
    else:
        backend.delete([key])


def all_pinned(backend: Backend, *, ignoring: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """Every id the pins hold, but those named in ``ignoring`` (malformed ids are skipped)."""
    pinned: set[str] = set()
    for entry in backend.list(PIN_PREFIX):
        name = entry.key.rpartition("/")[2]
        if _NAME.match(name) and name not in ignoring:
            pinned |= read_pin(backend, name)
    return {i for i in pinned if len(i) == 64}
