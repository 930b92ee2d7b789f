"""Pointer files: the small, human-readable ``PATH.loopml`` that git versions instead of data.

A pointer names the stored content of the data path beside it::

    # loopml data pointer: commit this file with git; the data is in the loopml cache.
    format: 1
    path: images
    kind: dir
    id: 3f5a...(64 hex)
    size: 40960000
    files: 10000

The parser is strict on purpose: a pointer edited by hand into something
ambiguous must fail loudly, naming the file and line, rather than make a
later ``checkout`` restore the wrong bytes. Blank lines and whole-line ``#``
comments are allowed; every key must appear exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from loopml.core.atomic import write_text_atomic
from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.core.hashing import is_hash

POINTER_SUFFIX = ".loopml"
POINTER_FORMAT = 1
HEADER = "# loopml data pointer: commit this file with git; the data is in the loopml cache."
MAX_POINTER_BYTES = 64 * 1024
_KEYS = ("format", "path", "kind", "id", "size", "files")
_KINDS = ("file", "dir")


@dataclass(frozen=True)
class Pointer:
    """What a pointer file says: the data path's name, kind, content id, size and file count.

    ``id`` is a blob id for ``kind="file"`` and a tree id for ``kind="dir"``
    (tree paths relative to the folder). ``path`` is the data path's name,
    which sits beside the pointer file.
    """

    path: str
    kind: Literal["file", "dir"]
    id: str
    size: int
    files: int

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem:
            raise InvalidArgument(f"invalid pointer: {problem}")


def _problem(p: Pointer) -> str | None:
    """Why ``p`` is not a valid pointer, or None."""
    if not isinstance(p.path, str) or not p.path:
        return "path must be a non-empty name"
    if p.path in (".", "..") or "/" in p.path or "\\" in p.path or "\x00" in p.path:
        return f"path {p.path!r} must be a plain file or folder name (no '/', '.' or '..')"
    if p.path != p.path.strip() or p.path.splitlines() != [p.path]:
        return f"path {p.path!r} must not start or end with spaces or hold a line break"
    if p.kind not in _KINDS:
        return f"kind must be 'file' or 'dir', got {p.kind!r}"
    if not isinstance(p.id, str) or not is_hash(p.id):
        return f"id must be 64 lowercase hex characters, got {p.id!r:.80}"
    for name in ("size", "files"):
        value = getattr(p, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            return f"{name} must be an integer >= 0, got {value!r}"
    if p.kind == "file" and p.files != 1:
        return f"a pointer of kind 'file' must have files: 1, got {p.files}"
    return None


def format_pointer(pointer: Pointer) -> str:
    """The canonical text of ``pointer`` (what :func:`write_pointer` writes)."""
    return (
        f"{HEADER}\n"
        f"format: {POINTER_FORMAT}\n"
        f"path: {pointer.path}\n"
        f"kind: {pointer.kind}\n"
        f"id: {pointer.id}\n"
        f"size: {pointer.size}\n"
        f"files: {pointer.files}\n"
    )


def parse_pointer(text: str, *, source: str) -> Pointer:
    """Parse a pointer file's ``text``; ``source`` names it in errors (a path or ``REV:path``).

    InvalidArgument naming ``source``, the line and the problem for anything
    that is not exactly a pointer: unknown or repeated keys, missing keys, a
    bad id, a negative size, an unknown format version.
    """
    values: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        where = f"{source}:{number}"
        if not sep:
            raise _bad(where, f"expected 'key: value', got {raw!r:.80}")
        if key not in _KEYS:
            raise _bad(where, f"unknown key {key!r:.40} (expected one of {', '.join(_KEYS)})")
        if key in values:
            raise _bad(where, f"{key!r} appears twice (first on line {values[key][1]})")
        values[key] = (value.strip(), number)
    missing = [key for key in _KEYS if key not in values]
    if missing:
        raise _bad(source, f"missing {', '.join(missing)}; it is not a loopml pointer file")
    fmt, fmt_line = values["format"]
    if fmt != str(POINTER_FORMAT):
        where = f"{source}:{fmt_line}"
        if fmt.isdigit() and int(fmt) > POINTER_FORMAT:
            raise _bad(where, f"format {fmt} is newer than this loopml; upgrade loopml")
        raise _bad(where, f"format must be {POINTER_FORMAT}, got {fmt!r:.40}")
    numbers = {name: _integer(values[name], name, source) for name in ("size", "files")}
    kind, kind_line = values["kind"]
    if kind not in _KINDS:
        raise _bad(f"{source}:{kind_line}", f"kind must be 'file' or 'dir', got {kind!r:.40}")
    object_id, id_line = values["id"]
    if not is_hash(object_id):
        raise _bad(
            f"{source}:{id_line}", f"id must be 64 lowercase hex characters, got {object_id!r:.80}"
        )
    try:
        return Pointer(
            path=values["path"][0],
            kind="file" if kind == "file" else "dir",
            id=object_id,
            size=numbers["size"],
            files=numbers["files"],
        )
    except InvalidArgument as exc:
        raise _bad(source, exc.message.removeprefix("invalid pointer: ")) from None


def _integer(entry: tuple[str, int], name: str, source: str) -> int:
    value, line = entry
    if not value.isascii() or not value.isdigit():
        raise _bad(f"{source}:{line}", f"{name} must be an integer >= 0, got {value!r:.40}")
    return int(value)


def _bad(where: str, problem: str) -> InvalidArgument:
    return InvalidArgument(
        f"{where}: invalid pointer file: {problem}. Restore it with "
        "`git checkout -- FILE` or re-create it with `loopml data add PATH`"
    )


def read_pointer(pointer_file: Path) -> Pointer:
    """Read and parse ``pointer_file``; NotFound if absent, InvalidArgument if malformed.

    The ``path`` it names must be the pointer file's own name without the
    suffix, so a renamed pointer cannot silently describe another path.
    """
    try:
        with open(pointer_file, "rb") as source:
            data = source.read(MAX_POINTER_BYTES + 1)
    except FileNotFoundError:
        raise NotFound(
            f"no pointer file {pointer_file}; track the data with `loopml data add`"
        ) from None
    except IsADirectoryError:
        raise InvalidArgument(f"{pointer_file} is a folder, not a pointer file") from None
    except OSError as exc:
        raise StorageError(f"could not read {pointer_file}: {exc.strerror or exc}") from exc
    if len(data) > MAX_POINTER_BYTES:
        raise _bad(str(pointer_file), f"it is larger than {MAX_POINTER_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad(str(pointer_file), "it is not UTF-8 text") from None
    pointer = parse_pointer(text, source=str(pointer_file))
    expected = data_path_for(pointer_file).name
    if pointer.path != expected:
        raise _bad(
            str(pointer_file),
            f"it names path {pointer.path!r} but sits beside {expected!r} "
            f"(after a rename set 'path: {expected}')",
        )
    return pointer


def write_pointer(pointer_file: Path, pointer: Pointer) -> None:
    """Write ``pointer`` to ``pointer_file`` atomically (a temp file, then a rename)."""
    write_text_atomic(pointer_file, format_pointer(pointer))


def pointer_file_for(data_path: Path) -> Path:
    """The pointer file of ``data_path``: the same path with ``.loopml`` appended."""
    return data_path.with_name(data_path.name + POINTER_SUFFIX)


def data_path_for(pointer_file: Path) -> Path:
    """The data path a pointer file describes; InvalidArgument if it lacks the suffix."""
    name = pointer_file.name
    if not name.endswith(POINTER_SUFFIX) or len(name) == len(POINTER_SUFFIX):
        raise InvalidArgument(f"{pointer_file} is not a pointer file (name must end in .loopml)")
    return pointer_file.with_name(name[: -len(POINTER_SUFFIX)])
