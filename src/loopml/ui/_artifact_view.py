"""Artifact previews: what kind of file it is and the few bytes a page needs to show it.

Everything a preview shows is data handed to an autoescaping template; HTML files are
only ever shown inside ``<iframe sandbox="">`` from a response whose own policy is
``sandbox`` (see ``artifact_headers``), so a report cannot run script in the UI's origin.
"""

from __future__ import annotations

import io
import json
import posixpath
from dataclasses import dataclass, field
from typing import Any, BinaryIO
from urllib.parse import quote

from loopml.core.errors import InvalidArgument

TEXT_LIMIT = 256 * 1024
JSON_LIMIT = 4 * 1024 * 1024
TABLE_LIMIT = 64 * 1024 * 1024
HEAD_ROWS = 50

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
}
TEXT_SUFFIXES = {
    ".txt", ".log", ".md", ".py", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".sh", ".sql",
    ".r", ".ipynb", ".xml", ".csv.txt", ".conf", ".env", ".properties", ".js", ".css",
}  # fmt: skip
TEXT_NAMES = {"MLmodel", "requirements.txt", "conda.yaml", "python_env.yaml", "Dockerfile"}

# An artifact response may hold anything a run wrote: never let it run script in our origin.
ARTIFACT_CSP = "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def kind_of(path: str) -> str:
    """``image``, ``html``, ``json``, ``csv``, ``parquet``, ``text`` or ``binary``."""
    name = posixpath.basename(path)
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in IMAGE_TYPES:
        return "image"
    if suffix in (".html", ".htm"):
        return "html"
    if suffix == ".json":
        return "json"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".parquet":
        return "parquet"
    if suffix in TEXT_SUFFIXES or name in TEXT_NAMES:
        return "text"
    return "binary"


def media_type(path: str) -> str:
    """The type an artifact is served as; HTML only as HTML (it lands in a sandbox)."""
    kind = kind_of(path)
    suffix = posixpath.splitext(path)[1].lower()
    if kind == "image":
        return IMAGE_TYPES[suffix]
    if kind == "html":
        return "text/html; charset=utf-8"
    if kind in ("text", "csv", "json"):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def artifact_headers(path: str, inline: bool) -> dict[str, str]:
    """Headers for serving an artifact: disposition with a safe file name, nosniff, sandbox."""
    name = posixpath.basename(path) or "artifact"
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in name)
    disposition = "inline" if inline else "attachment"
    return {
        "Content-Disposition": (
            f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
        ),
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": ARTIFACT_CSP,
        "Cache-Control": "private, max-age=60",
    }


@dataclass
class Preview:
    """What the preview pane shows for one file."""

    path: str
    kind: str
    size: int
    text: str = ""
    truncated: bool = False
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""


def _read(reader: BinaryIO, limit: int) -> tuple[bytes, bool]:
    data = reader.read(limit + 1)
    return data[:limit], len(data) > limit


def preview(path: str, size: int, reader: BinaryIO) -> Preview:
    """The preview of ``path`` from its bytes (read up to the kind's limit, never more)."""
    kind = kind_of(path)
    shown = Preview(path=path, kind=kind, size=size)
    if kind in ("image", "html", "binary"):
        return shown  # the page links or frames the file itself
    if kind == "text":
        data, shown.truncated = _read(reader, TEXT_LIMIT)
        shown.text = data.decode("utf-8", errors="replace")
        return shown
    if kind == "json":
        data, truncated = _read(reader, JSON_LIMIT)
        if not truncated:
            try:
                shown.text = json.dumps(json.loads(data), indent=2, ensure_ascii=False)[:TEXT_LIMIT]
                return shown
            except ValueError:
                shown.note = "Not valid JSON; shown as text."
        shown.kind, shown.text, shown.truncated = (
            "text",
            data[:TEXT_LIMIT].decode("utf-8", errors="replace"),
            truncated or len(data) > TEXT_LIMIT,
        )
        return shown
    if size > TABLE_LIMIT and kind == "parquet":
        shown.note = f"Too large to preview ({size} bytes); download it instead."
        return shown
    try:
        frame = _head(kind, path, reader)
    except (ValueError, ImportError, OSError) as exc:
        shown.kind, shown.note = "binary", f"Could not read the table: {exc}"
        return shown
    shown.columns = [str(c) for c in frame.columns]
    shown.rows = [[_cell(v) for v in row] for row in frame.itertuples(index=False)]
    shown.note = f"First {len(shown.rows)} rows."
    return shown


def _head(kind: str, path: str, reader: BinaryIO) -> Any:
    import pandas as pd

    if kind == "csv":
        sep = "\t" if path.lower().endswith(".tsv") else ","
        data, _ = _read(reader, TEXT_LIMIT * 4)
        return pd.read_csv(io.BytesIO(data), sep=sep, nrows=HEAD_ROWS, on_bad_lines="skip")
    import pyarrow.parquet as pq

    data, _ = _read(reader, TABLE_LIMIT)
    table = next(pq.ParquetFile(io.BytesIO(data)).iter_batches(batch_size=HEAD_ROWS), None)
    if table is None:
        return pd.DataFrame()
    return table.to_pandas()


def _cell(value: Any) -> Any:
    if isinstance(value, float | int | str | bool) or value is None:
        return value
    return str(value)


def check_path(path: str) -> str:
    """An artifact path as the page takes it: relative, no ``..``, no backslash or NUL."""
    if path.startswith("/") or "\\" in path or "\x00" in path or ".." in path.split("/"):
        raise InvalidArgument(f"Invalid artifact path {path!r}.")
    return path.strip("/")
