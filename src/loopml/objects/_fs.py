"""Where the bytes live: the filesystem seam under the object store.

One small ABC, two implementations: a local directory (plain ``os`` calls,
made atomic by ``os.replace``) and any fsspec filesystem (``s3://`` through
s3fs, where one PUT of the final key is atomic). Every exception raised by
the operating system, fsspec or botocore is translated into the loopml error
tree by :func:`storage_errors`, and nowhere else.

Keys are relative POSIX paths (``blobs/ab/cdef...``); the backend knows
nothing about ids, kinds or hashing.
"""

from __future__ import annotations

import abc
import io
import os
import secrets
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loopml.core.errors import InvalidArgument, LoopmlError, NotFound, StorageError

IO_BLOCK = 8 * 1024 * 1024
"""Read and write buffer size: large enough that per-call overhead vanishes."""

_RACY_NS = 50_000_000
"""Folder mtimes younger than this (clock granularity, with a margin) are not trusted."""

TEMP_PREFIX = ".tmp-"
"""Basename prefix of an in-progress write; never a valid object key."""


@contextmanager
def storage_errors(what: str, *, writing: bool = False) -> Iterator[None]:
    """The one seam: translate OS, fsspec and botocore failures into loopml errors.

    ``what`` names the operation for the message. A missing file becomes
    ``NotFound`` when reading; when writing, a missing directory or bucket is a
    ``StorageError`` (the store is misconfigured, the caller's id is fine).
    """
    try:
        yield
    except LoopmlError:
        raise
    except FileNotFoundError as exc:
        if writing:
            raise StorageError(f"{what} failed: {exc}") from exc
        raise NotFound(f"{what}: not found") from exc
    except ImportError as exc:
        raise StorageError(
            f"{what} failed: {exc} (install the matching extra, e.g. loopml[s3])"
        ) from exc
    except Exception as exc:
        if isinstance(exc, _third_party_errors()):
            raise StorageError(f"{what} failed: {exc}") from exc
        raise


def _third_party_errors() -> tuple[type[BaseException], ...]:
    """OSError, and botocore's errors once botocore is loaded (fsspec/s3fs load it).

    Checked lazily: a local store never imports fsspec or botocore (they cost
    ~50 ms at every start), and unloaded libraries raise nothing.
    """
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is None:
        return (OSError,)
    return (OSError, botocore.BotoCoreError, botocore.ClientError)


@dataclass(frozen=True)
class StoredEntry:
    """One stored key as listed: its size in bytes and modification time (epoch s)."""

    key: str
    size: int
    mtime: float


class GuardedFile(io.RawIOBase):
    """A read-only file whose failures surface as loopml errors."""

    def __init__(self, raw: Any, what: str) -> None:
        self._raw = raw
        self._what = what

    def readable(self) -> bool:
        return True

    def fileno(self) -> int:
        return int(self._raw.fileno())

    def readinto(self, buffer: Any) -> int:
        with storage_errors(self._what):
            return int(self._raw.readinto(buffer) or 0)

    def read(self, size: int | None = -1) -> bytes:
        with storage_errors(self._what):
            data = self._raw.read() if size is None or size < 0 else self._raw.read(size)
        return bytes(data) if not isinstance(data, bytes) else data

    def readall(self) -> bytes:
        return self.read(-1)

    def close(self) -> None:
        if not self.closed:
            with storage_errors(self._what):
                self._raw.close()
        super().close()


def open_local_file(path: str) -> tuple[GuardedFile, int]:
    """Open a caller's local file for reading; return it and its size."""
    with storage_errors(f"reading {path}"):
        raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by GuardedFile
        size = os.fstat(raw.fileno()).st_size
    return GuardedFile(raw, f"reading {path}"), size


def write_local_file(path: str, blocks: Iterable[bytes | memoryview]) -> None:
    """Write ``blocks`` to ``path`` atomically: a temp file beside it, then rename.

    If ``blocks`` raises (a hash did not verify), the temp file is removed and
    ``path`` is left exactly as it was.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
    with storage_errors(f"writing {path}", writing=True):
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        try:
            with open(fd, "wb", buffering=0) as out:
                for block in blocks:
                    view = memoryview(block)
                    while view:
                        view = view[out.write(view) :]
            os.replace(tmp, path)
        except BaseException:
            _discard(tmp)
            raise


def _discard(path: str) -> None:
    try:
        with storage_errors(f"removing {path}"):
            os.unlink(path)
    except LoopmlError:
        pass  # best effort: gc removes stale temp files after the grace period


class Backend(abc.ABC):
    """A flat namespace of immutable files addressed by relative keys."""

    io_threads: int = 1
    """How many requests are worth keeping in flight at once."""

    listing_is_cheap: bool = False
    """Whether listing a folder is a local call rather than a request."""

    @abc.abstractmethod
    def location(self, key: str) -> str:
        """A human-readable address of ``key`` for messages."""

    @abc.abstractmethod
    def size(self, key: str) -> int | None:
        """Size of ``key`` in bytes, or None if it is absent."""

    @abc.abstractmethod
    def read_bytes(self, key: str) -> bytes:
        """The whole content of ``key`` (NotFound if absent)."""

    @abc.abstractmethod
    def open_read(self, key: str) -> GuardedFile:
        """A streaming reader of ``key`` (NotFound if absent)."""

    def folder_stamp(self, prefix: str) -> int | None:
        """A value that changes whenever a key directly under ``prefix`` is added or removed.

        None when the backend cannot tell cheaply (callers then list).
        """
        return None

    @abc.abstractmethod
    def read_range(self, key: str, offset: int, length: int) -> bytes:
        """``length`` bytes of ``key`` from ``offset`` (fewer at its end; NotFound if absent)."""

    @abc.abstractmethod
    def write_bytes(self, key: str, data: bytes | memoryview) -> None:
        """Store ``data`` at ``key`` atomically: readers see all of it or nothing."""

    @abc.abstractmethod
    def write_stream(self, key: str, blocks: Iterable[bytes | memoryview]) -> None:
        """Store the concatenated ``blocks`` at ``key`` atomically, in bounded memory.

        If iterating ``blocks`` raises, nothing appears at ``key``.
        """

    @abc.abstractmethod
    def delete(self, keys: list[str]) -> None:
        """Remove ``keys``; keys already gone are ignored."""

    @abc.abstractmethod
    def list(self, prefix: str) -> list[StoredEntry]:
        """Every file under the directory ``prefix``, temp files included."""


class LocalBackend(Backend):
    """A local directory; atomic by writing a temp file and renaming it."""

    listing_is_cheap = True

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self._made_dirs: set[str] = set()
        with storage_errors(f"creating the object store directory {self.root}", writing=True):
            os.makedirs(self.root, exist_ok=True)

    def _path(self, key: str) -> str:
        if os.sep == "/":  # keys are already POSIX paths; this runs once per object
            return f"{self.root}/{key}"
        return os.path.join(self.root, *key.split("/"))

    def location(self, key: str) -> str:
        return self._path(key)

    def size(self, key: str) -> int | None:
        # The hot question of every put ("stored already?"), usually answered "no":
        # a missing file is the expected case here, not an error to translate.
        path = self._path(key)
        try:
            return os.stat(path).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"reading {path} failed: {exc}") from exc

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        with storage_errors(f"reading {path}"), open(path, "rb", buffering=0) as f:
            return f.read()

    def open_read(self, key: str) -> GuardedFile:
        path = self._path(key)
        with storage_errors(f"reading {path}"):
            raw = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by GuardedFile
        return GuardedFile(raw, f"reading {path}")

    def folder_stamp(self, prefix: str) -> int | None:
        # A folder's mtime changes with every entry created, renamed or removed in
        # it, but only at the clock's granularity: a recent mtime proves nothing.
        try:
            st = os.stat(self._path(prefix))
        except OSError:
            return -1  # no folder yet: creating it changes the stamp
        if time.time_ns() - st.st_mtime_ns < _RACY_NS:
            return None
        return st.st_mtime_ns ^ (st.st_ino << 64)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        path = self._path(key)
        with storage_errors(f"reading {path}"):
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                parts: list[bytes] = []
                while length > 0:
                    part = os.pread(fd, length, offset)
                    if not part:
                        break
                    parts.append(part)
                    offset += len(part)
                    length -= len(part)
            finally:
                os.close(fd)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def write_bytes(self, key: str, data: bytes | memoryview) -> None:
        self.write_stream(key, (data,))

    def write_stream(self, key: str, blocks: Iterable[bytes | memoryview]) -> None:
        path = self._path(key)
        directory = os.path.dirname(path)
        if directory not in self._made_dirs:
            with storage_errors(f"creating {directory}", writing=True):
                os.makedirs(directory, exist_ok=True)
            self._made_dirs.add(directory)
        write_local_file(path, blocks)

    def delete(self, keys: list[str]) -> None:
        for key in keys:
            try:
                with storage_errors(f"deleting {self._path(key)}"):
                    os.unlink(self._path(key))
            except NotFound:
                pass

    def list(self, prefix: str) -> list[StoredEntry]:
        found: list[StoredEntry] = []
        base = self._path(prefix)
        with storage_errors(f"listing {base}"):
            if not os.path.isdir(base):
                return found
            pending = [(base, prefix)]
            while pending:
                directory, rel = pending.pop()
                with os.scandir(directory) as it:
                    for entry in it:
                        key = f"{rel}/{entry.name}"
                        if entry.is_dir(follow_symlinks=False):
                            pending.append((entry.path, key))
                        else:
                            st = entry.stat(follow_symlinks=False)
                            found.append(StoredEntry(key, st.st_size, st.st_mtime))
        return found


class FsspecBackend(Backend):
    """Any fsspec filesystem whose single write of a final key is atomic (S3, GCS, ...)."""

    io_threads = 8

    def __init__(self, fs: Any, root: str, protocol: str) -> None:
        self._fs = fs
        self.root = root.rstrip("/")
        self._protocol = protocol

    def _path(self, key: str) -> str:
        return f"{self.root}/{key}"

    def location(self, key: str) -> str:
        return f"{self._protocol}://{self._path(key)}"

    def size(self, key: str) -> int | None:
        try:
            with storage_errors(f"reading {self.location(key)}"):
                return int(self._fs.info(self._path(key))["size"])
        except NotFound:
            return None

    def read_bytes(self, key: str) -> bytes:
        with storage_errors(f"reading {self.location(key)}"):
            return bytes(self._fs.cat_file(self._path(key)))

    def open_read(self, key: str) -> GuardedFile:
        what = f"reading {self.location(key)}"
        with storage_errors(what):
            raw = self._fs.open(self._path(key), "rb", block_size=IO_BLOCK)
        return GuardedFile(raw, what)

    def read_range(self, key: str, offset: int, length: int) -> bytes:
        with storage_errors(f"reading {self.location(key)}"):
            return bytes(self._fs.cat_file(self._path(key), start=offset, end=offset + length))

    def write_bytes(self, key: str, data: bytes | memoryview) -> None:
        # One PUT of the finished object: it appears whole or not at all.
        with storage_errors(f"writing {self.location(key)}", writing=True):
            self._fs.pipe_file(self._path(key), data if isinstance(data, bytes) else bytes(data))

    def write_stream(self, key: str, blocks: Iterable[bytes | memoryview]) -> None:
        # The content is only verified once fully read, so it goes to a temp key
        # first; the final key is made by a server-side copy of verified bytes.
        directory, _, _ = key.rpartition("/")
        tmp = f"{directory}/{TEMP_PREFIX}{secrets.token_hex(8)}"
        what = f"writing {self.location(key)}"
        try:
            with (
                storage_errors(what, writing=True),
                self._fs.open(self._path(tmp), "wb", block_size=IO_BLOCK) as out,
            ):
                for block in blocks:
                    out.write(block)
            with storage_errors(what, writing=True):
                self._fs.copy(self._path(tmp), self._path(key))
        finally:
            self.delete([tmp])

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        try:
            with storage_errors(f"deleting from {self._protocol}://{self.root}"):
                self._fs.rm([self._path(key) for key in keys])
        except NotFound:
            # Some filesystems refuse a batch containing a missing key.
            for key in keys:
                try:
                    with storage_errors(f"deleting {self.location(key)}"):
                        self._fs.rm_file(self._path(key))
                except NotFound:
                    pass

    def list(self, prefix: str) -> list[StoredEntry]:
        base = self._path(prefix)
        with storage_errors(f"listing {self._protocol}://{base}"):
            infos = self._fs.find(base, detail=True)
        found: list[StoredEntry] = []
        for name, info in infos.items():
            if info.get("type") == "directory":
                continue
            key = name[len(self.root) + 1 :] if name.startswith(self.root + "/") else name
            found.append(StoredEntry(key, int(info.get("size") or 0), _mtime(info)))
        return found


class S3Backend(FsspecBackend):
    """s3fs, with existence checks in one HEAD request.

    fsspec's ``info`` follows a missing key with a LIST (is it a directory?),
    which would triple the requests spent on every new chunk.
    """

    def size(self, key: str) -> int | None:
        bucket, path, _ = self._fs.split_path(self._path(key))
        try:
            with storage_errors(f"reading {self.location(key)}"):
                head = self._fs.call_s3("head_object", Bucket=bucket, Key=path)
        except NotFound:
            return None
        return int(head["ContentLength"])


def _mtime(info: dict[str, Any]) -> float:
    """Modification time from an fsspec info dict, whatever the filesystem calls it."""
    for field in ("LastModified", "mtime", "last_modified", "created", "updated"):
        value = info.get(field)
        if isinstance(value, datetime):
            return value.timestamp()
        if isinstance(value, int | float):
            return float(value)
    return 0.0  # unknown age counts as old: only unreachable objects are ever deleted


def backend_for_uri(uri: str, storage_options: dict[str, Any] | None) -> Backend:
    """The backend for a local path, ``file://`` URI or fsspec URL."""
    if not isinstance(uri, str) or not uri:
        raise InvalidArgument(f"object store URI must be a non-empty string, got {uri!r}")
    if ("://" not in uri and "::" not in uri) or uri.startswith(("file://", "local://")):
        # A local store: fsspec (slow to import) is not needed.
        return LocalBackend(uri.split("://", 1)[1] if "://" in uri else uri)
    import fsspec

    protocol, path = fsspec.core.split_protocol(uri)
    if protocol in (None, "file", "local"):
        return LocalBackend(path)
    if protocol not in fsspec.available_protocols():
        raise InvalidArgument(f"unknown object store protocol {protocol!r} in {uri!r}")
    options = dict(storage_options or {})
    if protocol in ("s3", "s3a"):
        # Other processes write to the same bucket: a cached listing would lie.
        options.setdefault("use_listings_cache", False)
    with storage_errors(f"opening the object store {uri}"):
        fs = fsspec.filesystem(protocol, **options)
        root = fs._strip_protocol(uri).rstrip("/")
    if not root:
        raise InvalidArgument(f"object store URI {uri!r} names no bucket or directory")
    if protocol in ("s3", "s3a") and hasattr(fs, "call_s3"):
        return S3Backend(fs, root, protocol)
    return FsspecBackend(fs, root, protocol)
