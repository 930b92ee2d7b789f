"""Pointer files: canonical text, a strict parser naming file and line, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loopml.core.errors import InvalidArgument, NotFound
from loopml.data._pointer import (
    Pointer,
    data_path_for,
    format_pointer,
    parse_pointer,
    pointer_file_for,
    read_pointer,
    write_pointer,
)

ID = "ab" * 32
GOOD = Pointer(path="images", kind="dir", id=ID, size=40960000, files=10000)


def test_format_is_human_readable_and_round_trips() -> None:
    text = format_pointer(GOOD)
    assert text.startswith("# loopml data pointer: commit this file with git")
    assert "format: 1\npath: images\nkind: dir\n" in text
    assert f"id: {ID}\nsize: 40960000\nfiles: 10000\n" in text
    assert parse_pointer(text, source="images.loopml") == GOOD


def test_comments_blank_lines_and_spacing_are_tolerated() -> None:
    text = "\n# mine\n  format:1\npath:   images\nkind: dir\n\nid: " + ID
    text += "\nsize: 40960000\nfiles: 10000\n# end\n"
    assert parse_pointer(text, source="x") == GOOD


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (("kind: dir", "kind: folder"), ":4: invalid pointer file: kind must be 'file' or 'dir'"),
        (("size: 40960000", "size: -1"), ":6: invalid pointer file: size must be an integer"),
        (("files: 10000", "files: many"), ":7: invalid pointer file: files must be an integer"),
        ((f"id: {ID}", "id: 1234"), ":5: invalid pointer file: id must be 64 lowercase hex"),
        ((f"id: {ID}", f"id: {ID.upper()}"), ":5: invalid pointer file: id must be 64"),
        (("format: 1", "format: 2"), ":2: invalid pointer file: format 2 is newer"),
        (("format: 1", "format: one"), ":2: invalid pointer file: format must be 1"),
        (("kind: dir", "kind: dir\nkind: file"), ":5: invalid pointer file: 'kind' appears twice"),
        (("kind: dir", "colour: blue"), ":4: invalid pointer file: unknown key 'colour'"),
        (("kind: dir", "just words"), ":4: invalid pointer file: expected 'key: value'"),
        (("path: images", "path: a/b"), ": invalid pointer file: path 'a/b' must be a plain"),
        (("path: images", "path: .."), ": invalid pointer file: path '..' must be a plain"),
        (("kind: dir", "kind: file"), ": invalid pointer file: a pointer of kind 'file' must"),
    ],
)
def test_nonsense_is_rejected_naming_file_line_and_problem(
    edit: tuple[str, str], problem: str
) -> None:
    text = format_pointer(GOOD).replace(*edit)
    with pytest.raises(InvalidArgument) as caught:
        parse_pointer(text, source="data/images.loopml")
    assert caught.value.message.startswith("data/images.loopml")
    assert problem in caught.value.message
    assert "loopml data add" in caught.value.message  # says what to do next


def test_missing_keys_are_listed() -> None:
    with pytest.raises(InvalidArgument, match="missing id, size, files; it is not a loopml"):
        parse_pointer("format: 1\npath: x\nkind: dir\n", source="x.loopml")


def test_pointer_values_are_checked_when_built() -> None:
    with pytest.raises(InvalidArgument, match="size must be an integer >= 0"):
        Pointer(path="x", kind="file", id=ID, size=-5, files=1)
    with pytest.raises(InvalidArgument, match="must not start or end with spaces"):
        Pointer(path=" x", kind="file", id=ID, size=5, files=1)


def test_write_is_atomic_and_read_checks_the_name(tmp_path: Path) -> None:
    pointer_file = tmp_path / "images.loopml"
    write_pointer(pointer_file, GOOD)
    assert read_pointer(pointer_file) == GOOD
    assert [p.name for p in tmp_path.iterdir()] == ["images.loopml"]  # no temp file left
    renamed = tmp_path / "photos.loopml"
    pointer_file.rename(renamed)
    with pytest.raises(InvalidArgument, match="names path 'images' but sits beside 'photos'"):
        read_pointer(renamed)


def test_read_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no pointer file"):
        read_pointer(tmp_path / "absent.loopml")
    binary = tmp_path / "bin.loopml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidArgument, match="not UTF-8"):
        read_pointer(binary)
    huge = tmp_path / "huge.loopml"
    huge.write_text("# x\n" * 40000)
    with pytest.raises(InvalidArgument, match="larger than"):
        read_pointer(huge)


def test_paths_of_pointer_and_data() -> None:
    assert pointer_file_for(Path("a/images")) == Path("a/images.loopml")
    assert data_path_for(Path("a/images.loopml")) == Path("a/images")
    with pytest.raises(InvalidArgument, match="not a pointer file"):
        data_path_for(Path("a/images.txt"))
    with pytest.raises(InvalidArgument, match="not a pointer file"):
        data_path_for(Path(".loopml"))


names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=40
).filter(lambda s: s == s.strip() and s not in (".", "..") and "/" not in s and "\\" not in s)


@given(
    path=names,
    kind=st.sampled_from(["file", "dir"]),
    object_id=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    size=st.integers(min_value=0, max_value=2**63),
    files=st.integers(min_value=0, max_value=10**9),
)
def test_any_valid_pointer_round_trips(
    path: str, kind: str, object_id: str, size: int, files: int
) -> None:
    files = 1 if kind == "file" else files
    pointer = Pointer(path=path, kind=kind, id=object_id, size=size, files=files)  # type: ignore[arg-type]
    assert parse_pointer(format_pointer(pointer), source="p") == pointer
