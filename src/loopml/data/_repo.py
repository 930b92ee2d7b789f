"""The data repository: a folder holding ``.loopml/`` (config, state, lock), normally a git root.

``.loopml/config.toml`` is committed; ``state.db`` (the stat index), ``lock``
and ``tmp/`` are local and git-ignored. The cache is a local loopml object
store: by default the platform's own object store, so datasets, runs and
models share their chunks; ``[core] cache`` in the config overrides it.
"""

from __future__ import annotations

import json
import os
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from loopml.core.errors import InvalidArgument, NotFound, StorageError
from loopml.core.hashing import hash_bytes
from loopml.data._config import Remote, RepoConfig, read_config, write_config
from loopml.data._index import StatIndex
from loopml.data._lock import repo_lock
from loopml.data._pointer import POINTER_SUFFIX

if TYPE_CHECKING:
    from loopml.core.settings import Settings
    from loopml.objects import ObjectStore

META_DIR = ".loopml"
CONFIG_FILE = "config.toml"
STATE_FILE = "state.db"
LOCK_FILE = "lock"
TMP_DIR = "tmp"
META_GITIGNORE = "/state.db\n/state.db-*\n/lock\n/tmp/\n"
FORBIDDEN_TOP = frozenset({".git", META_DIR})
SKIPPED_DIRS = frozenset(
    {
        ".git",
        META_DIR,
        ".hg",
        ".svn",
        "node_modules",
        "__pycache__",
        ".venv",
        ".tox",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
    }
)
"""Folders never searched for pointer files: VCS metadata, the repo's own state, tool caches."""


_PLATFORM_KEY = "platform_store"


def _environment_key() -> str:
    """What the platform settings depend on: the ``LOOPML_*`` variables and ``HOME``."""
    relevant = sorted(
        (name, value)
        for name, value in os.environ.items()
        if name.upper().startswith("LOOPML_") or name == "HOME"
    )
    return hash_bytes(json.dumps(relevant).encode())[:32]


class DataRepo:
    """A data repository rooted at ``root``; open one with :meth:`find` or :meth:`init`.

    ``settings`` (read from the environment when omitted, and only if the
    default cache is needed) locates the shared loopml object store.
    """

    def __init__(self, root: Path, *, settings: Settings | None = None) -> None:
        self.root = Path(root)
        self.meta = self.root / META_DIR
        self._settings = settings
        self._cache: ObjectStore | None = None
        self._config: RepoConfig | None = None
        self._index: StatIndex | None = None

    def __repr__(self) -> str:
        return f"DataRepo({str(self.root)!r})"

    # -- opening ------------------------------------------------------------------

    @classmethod
    def find(cls, start: Path | None = None, *, settings: Settings | None = None) -> DataRepo:
        """The repository containing ``start`` (default: the current folder), walking up.

        NotFound telling the user to run ``loopml data init`` when no folder up
        to the filesystem root holds ``.loopml/config.toml``.
        """
        here = Path(os.path.realpath(start if start is not None else os.getcwd()))
        if not here.is_dir():
            here = here.parent
        for folder in (here, *here.parents):
            if (folder / META_DIR / CONFIG_FILE).is_file():
                return cls(folder, settings=settings)
        raise NotFound(
            f"{here} is not inside a loopml data repository; run `loopml data init` "
            "at the root of your git work tree"
        )

    @classmethod
    def init(cls, path: Path, *, settings: Settings | None = None) -> DataRepo:
        """Make ``path`` a data repository (idempotent: an existing one is kept as it is)."""
        root = Path(os.path.realpath(path))
        if not root.is_dir():
            raise InvalidArgument(f"{path} is not a folder; create it first")
        repo = cls(root, settings=settings)
        try:
            (repo.meta / TMP_DIR).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"could not create {repo.meta}: {exc.strerror or exc}") from exc
        if not (repo.meta / CONFIG_FILE).exists():
            write_config(repo.meta / CONFIG_FILE, RepoConfig())
        gitignore = repo.meta / ".gitignore"
        if not gitignore.exists():
            from loopml.core.atomic import write_text_atomic

            write_text_atomic(gitignore, META_GITIGNORE)
        return repo

    # -- configuration --------------------------------------------------------------

    def config(self) -> RepoConfig:
        """The repository configuration (read once per DataRepo, refreshed on save)."""
        if self._config is None:
            self._config = read_config(self.meta / CONFIG_FILE)
        return self._config

    def save_config(self, config: RepoConfig) -> None:
        """Write ``config`` to ``.loopml/config.toml`` atomically."""
        write_config(self.meta / CONFIG_FILE, config)
        self._config = config

    @property
    def settings(self) -> Settings:
        """The platform settings (read from the environment on first use)."""
        if self._settings is None:
            from loopml.core.settings import load_settings

            self._settings = load_settings()
        return self._settings

    @property
    def cache_is_shared(self) -> bool:
        """Whether the cache is the platform's object store (shared with runs and models)."""
        return self.config().cache is None

    @property
    def cache_uri(self) -> str:
        """The local folder of the cache object store."""
        configured = self.config().cache
        if configured is not None:
            location = Path(os.path.expanduser(configured))
            return str(location if location.is_absolute() else self.root / location)
        return self._platform_store()[0]

    @property
    def cache_root(self) -> str:
        """The cache's local folder as a plain absolute path (no ``file://``)."""
        return os.path.abspath(os.path.expanduser(self.cache_uri.removeprefix("file://")))

    @property
    def chunking_threshold(self) -> int:
        """Contents above this many bytes are stored chunked (and never linked)."""
        return self._platform_store()[1]

    def _platform_store(self) -> tuple[str, int]:
        """The platform's local object store folder and chunking threshold.

        Reading the settings loads pydantic (~0.1 s, as long as the rest of
        ``loopml data status``), so unless settings were passed in, the answer
        is remembered in ``state.db`` under a key made of the environment
        variables the settings are read from (``LOOPML_*`` and ``HOME``): any
        change to them reads the settings again.
        """
        if self._settings is None and self.meta.is_dir():
            key = _environment_key()
            remembered = self.index.get_meta(_PLATFORM_KEY)
            if remembered is not None:
                saved = json.loads(remembered)
                if saved.get("key") == key:
                    return str(saved["uri"]), int(saved["threshold"])
            found = self._read_platform_store()
            self.index.set_meta(
                _PLATFORM_KEY, json.dumps({"key": key, "uri": found[0], "threshold": found[1]})
            )
            return found
        return self._read_platform_store()

    def _read_platform_store(self) -> tuple[str, int]:
        settings = self.settings
        uri = settings.resolved_object_store_uri()
        if "://" in uri and not uri.startswith("file://"):
            # A remote platform store cannot hold links into the workspace.
            uri = str(settings.home.expanduser().resolve() / "objects")
        return uri, settings.chunking_threshold_bytes

    @property
    def cache(self) -> ObjectStore:
        """The cache object store (opened once)."""
        if self._cache is None:
            # Imported here: ``status`` rarely needs the store, and loading it
            # (fsspec, the chunker) costs as much as the rest of the command.
            from loopml.objects import open_object_store

            uri = self.cache_uri  # may read the settings
            self._cache = open_object_store(uri, chunking_threshold=self.chunking_threshold)
        return self._cache

    # -- paths ------------------------------------------------------------------------

    @property
    def pin_name(self) -> str:
        """The cache pin holding what this repository added (see ``loopml.objects`` pins).

        Keyed by the repository's resolved location, so two repositories
        sharing one cache never rewrite each other's pin.
        """
        from loopml.core.hashing import hash_bytes

        return "data-" + hash_bytes(str(self.root.resolve()).encode())[:24]

    @property
    def state_path(self) -> Path:
        """The local SQLite state database (stat index, link mode, added ids)."""
        return self.meta / STATE_FILE

    @property
    def index(self) -> StatIndex:
        """The stat index in ``state.db`` (opened once; use it from one thread)."""
        if self._index is None:
            self._index = StatIndex(self.state_path)
        return self._index

    def close(self) -> None:
        """Close the state database (the repository can still be used: it reopens)."""
        if self._index is not None:
            self._index.close()
            self._index = None

    @property
    def tmp(self) -> Path:
        """A scratch folder on the repository's filesystem (for atomic renames)."""
        folder = self.meta / TMP_DIR
        folder.mkdir(exist_ok=True)
        return folder

    def relpath(self, path: Path | str) -> str:
        """``path`` (absolute, or relative to the current folder) as a POSIX path below the root.

        InvalidArgument for the root itself, anything outside the repository,
        and anything inside ``.loopml`` or ``.git``.
        """
        raw = os.fspath(path)
        if not raw or "\x00" in raw:
            raise InvalidArgument(f"invalid path {raw!r}")
        absolute = os.path.abspath(raw)
        # Resolve symlinks in the folders but not in the last name (a tracked link stays a link).
        parent, name = os.path.split(absolute)
        full = os.path.join(os.path.realpath(parent), name) if name else os.path.realpath(parent)
        try:
            rel = Path(full).relative_to(self.root)
        except ValueError:
            raise InvalidArgument(
                f"{raw} is outside the data repository {self.root}; move it inside or run "
                "`loopml data init` in a folder that contains it"
            ) from None
        parts = rel.parts
        if not parts or parts == (".",):
            raise InvalidArgument(f"{raw} is the repository root; name a file or folder inside it")
        if parts[0] in FORBIDDEN_TOP:
            raise InvalidArgument(f"{raw} is inside {parts[0]}/, which loopml data cannot track")
        return rel.as_posix()

    def lock(self) -> AbstractContextManager[None]:
        """The exclusive repository lock (InvalidState at once if another command holds it)."""
        if not self.meta.is_dir():
            raise NotFound(f"{self.meta} is missing; run `loopml data init` in {self.root}")
        return repo_lock(self.meta / LOCK_FILE, self.root)

    def pointer_files(self) -> list[Path]:
        """Every ``*.loopml`` file below the root, sorted.

        Skips :data:`SKIPPED_DIRS` and does not descend into tracked folders
        (a folder ``X`` beside ``X.loopml``), so it stays fast next to large data.
        """
        found: list[Path] = []
        pending = [self.root]
        while pending:
            folder = pending.pop()
            try:
                with os.scandir(folder) as entries:
                    listing = list(entries)
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                continue
            names = {entry.name for entry in listing}
            for entry in listing:
                name = entry.name
                if name.endswith(POINTER_SUFFIX) and len(name) > len(POINTER_SUFFIX):
                    if entry.is_file():
                        found.append(Path(entry.path))
                elif (
                    name not in SKIPPED_DIRS
                    and name + POINTER_SUFFIX not in names
                    and entry.is_dir(follow_symlinks=False)
                ):
                    pending.append(Path(entry.path))
        return sorted(found)

    # -- remotes ----------------------------------------------------------------------

    def remote(self, name: str | None = None) -> Remote:
        """The remote called ``name``, or the default remote; InvalidArgument if there is none."""
        config = self.config()
        if name is None:
            if config.default_remote is None:
                hint = (
                    f"set one with `loopml data remote default {next(iter(config.remotes))}`"
                    if config.remotes
                    else "add one with `loopml data remote add NAME URL`"
                )
                raise InvalidArgument(f"no default remote in {self.root}; {hint}")
            name = config.default_remote
        remote = config.remotes.get(name)
        if remote is None:
            known = ", ".join(sorted(config.remotes)) or "none"
            raise InvalidArgument(
                f"no remote named {name!r} (configured: {known}); add one with "
                "`loopml data remote add NAME URL`"
            )
        return remote

    def remote_store(self, name: str | None = None) -> ObjectStore:
        """The object store of a remote (local paths are relative to the repository root)."""
        from loopml.objects import open_object_store

        remote = self.remote(name)
        url = remote.url
        if "://" not in url:
            location = Path(os.path.expanduser(url))
            url = str(location if location.is_absolute() else self.root / location)
        return open_object_store(url, storage_options=dict(remote.options) or None)
