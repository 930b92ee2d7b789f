"""Which code a run ran: git commit, branch, remote, dirty diff, entry point, command.

Captured at every run start, so it is cheap (three git processes on a clean
repository, five on a dirty one) and it never fails a run: a missing git, a
folder outside any repository, a repository without commits, a detached or
shallow checkout are recorded as such, with a warning saying what could not be
recorded and why.

The dirty diff is a patch that ``git apply`` reproduces on a checkout of
``commit``: tracked changes and untracked, non-ignored text files as new files.
It is computed through a temporary copy of the index in which the untracked
files are added with intent-to-add (``git add -N``), then ``git diff HEAD``:
the user's index is never touched and, unlike ``git add -A``, no object is
written into their repository (an untracked 2 GB model file is not hashed at
every run start). Binary files are listed, not embedded; a patch over the size
cap is dropped whole, since a partial patch would not apply.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import orjson

from loopml.core.errors import InvalidArgument
from loopml.core.gitenv import git_env

DEFAULT_MAX_DIFF_BYTES = 5 * 1024 * 1024
INTERACTIVE = "<interactive>"
NOTEBOOK = "<notebook>"
NO_COMMITS = "the repository has no commits"
SHALLOW = "shallow clone: history beyond HEAD is absent"
DETACHED = "detached HEAD"
_NO_REPO = "not a git repository"
_BINARY_SNIFF = 8000  # git's own test: a NUL byte in the first 8000 bytes
_READ_SIZE = 64 * 1024
# Pinned so that user settings (diff.noprefix, color.ui, diff.external, textconv
# filters, rename detection) cannot produce a patch `git apply -p1` rejects.
_DIFF_ARGS = (
    "diff",
    "HEAD",
    "--numstat",
    "--patch",
    "-z",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--no-renames",
    "--no-relative",
    # A submodule with local edits would give a "-dirty" line `git apply` cannot use.
    "--ignore-submodules=dirty",
    "--src-prefix=a/",
    "--dst-prefix=b/",
)
_WHERE_ARGS = ("rev-parse", "--show-toplevel", "--git-path", "index", "--is-shallow-repository")
# --no-optional-locks: status must not rewrite the user's index (nor race their git for its lock).
_STATUS_ARGS = (
    "--no-optional-locks",
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--untracked-files=all",
)
_SECTION = re.compile(rb"(?m)^(?=diff --git )")


@dataclass(frozen=True)
class CodeState:
    """The code a run ran, as far as it could be recorded (``warnings`` say what not).

    ``diff`` is set when the tree is dirty and ``commit`` is known: a patch for
    ``git apply`` on a checkout of ``commit`` (empty when only binary files
    changed); None when clean, when there is no commit, or when the patch was
    larger than the cap (``diff_truncated``).
    """

    in_repo: bool
    root: str | None
    commit: str | None
    branch: str | None
    detached: bool
    shallow: bool
    remote_url: str | None
    dirty: bool
    diff: bytes | None
    diff_truncated: bool
    binary_files: tuple[str, ...]
    entry_point: str
    command: tuple[str, ...]
    warnings: tuple[str, ...]

    def tags(self) -> dict[str, str]:
        """Run tags, MLflow's names where MLflow has one, so MLflow's UI shows the source."""
        tags = {"loopml.git.in_repo": _flag(self.in_repo)}
        if self.commit is not None:
            tags["mlflow.source.git.commit"] = self.commit
        if self.branch is not None:
            tags["mlflow.source.git.branch"] = self.branch
        if self.remote_url is not None:
            tags["mlflow.source.git.repoURL"] = self.remote_url
        if self.in_repo:
            tags["loopml.git.dirty"] = _flag(self.dirty)
        if self.root is not None:
            tags["loopml.git.root"] = self.root
        tags["loopml.entry_point"] = self.entry_point
        tags["loopml.command"] = orjson.dumps(list(self.command)).decode()
        if self.warnings:
            tags["loopml.capture.warnings"] = "; ".join(self.warnings)
        return tags


def _flag(value: bool) -> str:
    return "true" if value else "false"


def strip_credentials(url: str) -> str:
    """``url`` without the secret parts of its user info, safe to store in a run tag.

    ``https://user:token@host/x.git`` becomes ``https://host/x.git``: over HTTP
    a user name alone is often a token too. For ``ssh://`` only a password is
    dropped (``ssh://git@host/x`` keeps ``git@``, which ssh needs); scp-like
    ``git@host:x.git`` and local paths carry no secret and are kept as they are.
    """
    if not isinstance(url, str):
        raise InvalidArgument(f"a remote URL must be a string, not {type(url).__name__}")
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*", scheme):
        return url
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return url
    if "ssh" in scheme.lower().split("+"):
        user = userinfo.partition(":")[0]
        return f"{scheme}://{user}@{host}{tail}" if user else f"{scheme}://{host}{tail}"
    return f"{scheme}://{host}{tail}"


class _Stop(Exception):
    """git cannot answer any more; the message is recorded as a warning."""


@dataclass
class _Git:
    """Runs git in one folder with the project's git environment and a shared deadline."""

    folder: str
    timeout: float
    deadline: float
    env: dict[str, str]

    def run(
        self, args: Sequence[str], *, stdin: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", "-C", self.folder, *args],
                input=stdin,
                capture_output=True,
                check=False,
                env=self.env if env is None else env,
                timeout=self._remaining(args),
            )
        except subprocess.TimeoutExpired:
            raise self._late(args) from None
        except FileNotFoundError:
            raise _Stop(
                "git is not installed (or not on PATH): install git to record the code"
            ) from None
        except OSError as exc:
            raise _Stop(f"could not run git: {exc.strerror or exc}") from exc

    def capped(self, args: Sequence[str], limit: int, env: dict[str, str]) -> tuple[bytes, bool]:
        """stdout of ``git ARGS``, read up to ``limit`` bytes; True if there was more.

        The process is killed past the limit, so a huge diff costs neither the
        memory nor the time to produce all of it.
        """
        try:
            proc = subprocess.Popen(
                ["git", "-C", self.folder, *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=env,
            )
        except OSError as exc:
            raise _Stop(f"could not run git: {exc.strerror or exc}") from exc
        chunks: list[bytes] = []
        over = threading.Event()

        def read() -> None:
            assert proc.stdout is not None
            size = 0
            while chunk := proc.stdout.read(_READ_SIZE):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    over.set()
                    proc.kill()
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(max(self.deadline - time.monotonic(), 0.0))
        late = reader.is_alive()
        if late:
            proc.kill()
            reader.join()
        code = proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        if over.is_set():
            return b"", True
        if late:
            raise self._late(args)
        if code != 0:
            raise _Stop(f"`git {args[0]}` failed (exit {code}): the diff was not recorded")
        return b"".join(chunks), False

    def _remaining(self, args: Sequence[str]) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._late(args)
        return left

    def _late(self, args: Sequence[str]) -> _Stop:
        command = next((a for a in args if not a.startswith("-")), "")
        return _Stop(f"git did not answer within {self.timeout:g} s (`git {command}`)")


@dataclass
class _Found:
    """What has been learnt so far; kept when git stops answering part way."""

    in_repo: bool = False
    root: str | None = None
    commit: str | None = None
    branch: str | None = None
    detached: bool = False
    shallow: bool = False
    remote_url: str | None = None
    dirty: bool = False
    diff: bytes | None = None
    diff_truncated: bool = False
    binary_files: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def capture_code(
    cwd: str | os.PathLike[str] | None = None,
    argv: Sequence[str] | None = None,
    *,
    max_diff_bytes: int = DEFAULT_MAX_DIFF_BYTES,
    timeout: float = 10.0,
) -> CodeState:
    """Record the code of the run starting now, so that it can be reproduced later.

    ``cwd`` is the folder whose repository is read (default: the entry
    script's folder when it exists, else the working directory); ``argv``
    defaults to ``sys.argv``. Repository states and a missing git are recorded
    (``in_repo`` False, ``warnings``), never raised; InvalidArgument only for
    arguments that can never work.
    """
    args = _check_argv(sys.argv if argv is None else argv)
    if isinstance(max_diff_bytes, bool) or not isinstance(max_diff_bytes, int):
        raise InvalidArgument("max_diff_bytes must be an integer number of bytes")
    if max_diff_bytes < 0:
        raise InvalidArgument(f"max_diff_bytes must be 0 or more, not {max_diff_bytes}")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidArgument("timeout must be a number of seconds")
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidArgument(f"timeout must be a positive number of seconds, not {timeout}")
    script = _script(args, from_main=argv is None)
    notebook = _notebook()
    # In a kernel argv[0] is ipykernel's launcher in site-packages: the notebook's folder is cwd.
    folder = _folder(cwd, None if notebook is not None else script)
    git = _Git(folder, float(timeout), time.monotonic() + timeout, git_env())
    found = _Found()
    try:
        _read_repository(git, found, max_diff_bytes)
    except _Stop as stop:
        found.warnings.append(str(stop))
    entry = notebook if notebook is not None else script
    return CodeState(
        in_repo=found.in_repo,
        root=found.root,
        commit=found.commit,
        branch=found.branch,
        detached=found.detached,
        shallow=found.shallow,
        remote_url=found.remote_url,
        dirty=found.dirty,
        diff=found.diff,
        diff_truncated=found.diff_truncated,
        binary_files=tuple(found.binary_files),
        entry_point=_relative(entry, found.root) if entry is not None else INTERACTIVE,
        command=(os.path.basename(sys.executable) or "python", *args),
        warnings=tuple(found.warnings),
    )


def _check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    if isinstance(argv, str | bytes) or not all(isinstance(a, str) for a in argv):
        raise InvalidArgument("argv must be a list of strings, like sys.argv")
    return tuple(argv)


def _script(args: tuple[str, ...], *, from_main: bool) -> str | None:
    """Absolute path of the entry script; None for the REPL and ``python -c``."""
    if not args or args[0] in ("", "-c", "-"):
        return None
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    # __main__.__file__ is absolute and survives a later os.chdir; argv[0] may be relative.
    if from_main and isinstance(main_file, str) and os.path.isabs(main_file):
        return main_file
    return os.path.abspath(args[0])


def _installed(script: str) -> bool:
    """A console script or module of the environment (``loopml``, ``pytest``), not user code."""
    real = os.path.realpath(script)
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.exec_prefix, sys.base_prefix)}
    return any(real.startswith(prefix + os.sep) for prefix in prefixes)


def _folder(cwd: str | os.PathLike[str] | None, script: str | None) -> str:
    if cwd is None:
        # A tool run on the user's code (`loopml pipelines run`) lives in the environment;
        # the code it runs is in the working directory.
        if script is not None and os.path.isfile(script) and not _installed(script):
            return os.path.dirname(script)
        return os.getcwd()
    folder = os.fspath(cwd)
    if not isinstance(folder, str) or not os.path.isdir(folder):
        raise InvalidArgument(
            f"cwd {folder!r} is not a folder: pass the folder of the code to record"
        )
    return os.path.abspath(folder)


def _notebook() -> str | None:
    """The notebook's path (or name) when this process is a Jupyter kernel, else None."""
    vscode = getattr(sys.modules.get("__main__"), "__vsc_ipynb_file__", None)
    if isinstance(vscode, str) and vscode:
        return vscode
    # JPY_SESSION_NAME is inherited by `!python x.py` from a notebook: trust it in a kernel only.
    if "ipykernel" in sys.modules:
        return os.environ.get("JPY_SESSION_NAME") or NOTEBOOK
    return None


def _relative(path: str, root: str | None) -> str:
    """``path`` relative to ``root`` (POSIX form) when inside it, else absolute.

    A bare name (a notebook's, as some kernels report it) is kept as it is.
    """
    if not os.path.isabs(path):
        return path
    full = os.path.realpath(path)
    if root is not None:
        real_root = os.path.realpath(root)
        if full != real_root and os.path.commonpath([full, real_root]) == real_root:
            return os.path.relpath(full, real_root).replace(os.sep, "/")
    return full


def _read_repository(git: _Git, found: _Found, max_diff_bytes: int) -> None:
    where = git.run(_WHERE_ARGS)
    if where.returncode != 0:
        message = where.stderr.decode("utf-8", "replace").strip()
        if _NO_REPO not in message:  # e.g. inside .git, or git's "dubious ownership" refusal
            found.warnings.append(f"git could not read the repository: {message}")
        return
    lines = where.stdout.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) < 3:  # git older than 2.15 has no --is-shallow-repository
        raise _Stop(f"git answered `git rev-parse` unexpectedly: {lines!r:.200}")
    top, index, shallow = lines[:3]
    found.in_repo, found.root, found.shallow = True, top, shallow == "true"
    index_path = os.path.join(git.folder, index)
    git.folder = top
    untracked = _read_status(git, found)
    found.remote_url = _remote_url(git, found.branch)
    if found.commit is None:
        found.warnings.append(NO_COMMITS)
    if found.shallow:
        found.warnings.append(SHALLOW)
    if found.detached:
        found.warnings.append(DETACHED)
    if found.dirty and found.commit is not None:
        _read_diff(git, found, index_path, untracked, max_diff_bytes)


def _read_status(git: _Git, found: _Found) -> list[str]:
    """Fill commit, branch and dirty from one ``git status``; return the untracked paths."""
    done = git.run(_STATUS_ARGS)
    if done.returncode != 0:
        raise _Stop(f"git status failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    untracked: list[str] = []
    records = iter(done.stdout.split(b"\x00"))
    for record in records:
        line = record.decode("utf-8", "surrogateescape")
        if line.startswith("# branch.oid "):
            oid = line.removeprefix("# branch.oid ")
            found.commit = None if oid == "(initial)" else oid
        elif line.startswith("# branch.head "):
            head = line.removeprefix("# branch.head ")
            found.detached = head == "(detached)"
            found.branch = None if found.detached else head
        elif line.startswith("? "):
            found.dirty = True
            untracked.append(line[2:])
        elif line[:2] in ("1 ", "2 ", "u "):
            found.dirty = True
            if line.startswith("2 "):
                next(records, None)  # a rename's original path follows in its own record
    return untracked


def _remote_url(git: _Git, branch: str | None) -> str | None:
    """The URL of the branch's upstream remote, else origin's, else the first remote's."""
    done = git.run(["config", "-z", "--get-regexp", r"^(remote|branch)\."])
    urls: dict[str, str] = {}
    upstream: str | None = None
    for record in done.stdout.decode("utf-8", "surrogateescape").split("\x00"):
        key, _, value = record.partition("\n")
        section, _, rest = key.partition(".")
        name, _, variable = rest.rpartition(".")
        if section == "remote" and variable == "url":
            urls.setdefault(name, value)
        elif section == "branch" and variable == "remote" and name == branch:
            upstream = value
    for preferred in (upstream, "origin"):
        if preferred is not None and preferred in urls:
            return strip_credentials(urls[preferred])
    return strip_credentials(next(iter(urls.values()))) if urls else None


def _read_diff(
    git: _Git, found: _Found, index_path: str, untracked: list[str], max_bytes: int
) -> None:
    assert found.root is not None
    small: list[str] = []
    too_large = False
    for relpath in untracked:
        size_or_binary = _untracked_size(os.path.join(found.root, relpath), max_bytes)
        if size_or_binary == "binary":
            found.binary_files.append(relpath)
        elif size_or_binary == "large":
            too_large = True
        else:
            small.append(relpath)
    with tempfile.TemporaryDirectory(prefix="loopml-index-") as folder:
        temporary_index = os.path.join(folder, "index")
        if os.path.isfile(index_path):
            shutil.copyfile(index_path, temporary_index)
        env = {**git.env, "GIT_INDEX_FILE": temporary_index}
        if small:
            stdin = b"".join(p.encode("utf-8", "surrogateescape") + b"\x00" for p in small)
            args = ["add", "--intent-to-add", "--pathspec-from-file=-", "--pathspec-file-nul"]
            added = git.run(args, stdin=stdin, env=env)
            if added.returncode != 0:
                message = added.stderr.decode("utf-8", "replace").strip()
                raise _Stop(f"git add -N failed, the diff was not recorded: {message}")
        # Headroom for the --numstat records that precede the patch.
        out, over = git.capped(_DIFF_ARGS, max_bytes + 1024 * 1024, env)
    numstat, _, patch = out.partition(b"\x00\x00")
    for record in numstat.split(b"\x00"):
        if record.startswith(b"-\t-\t"):
            found.binary_files.append(record[4:].decode("utf-8", "surrogateescape"))
    found.binary_files.sort()
    patch = b"".join(s for s in _SECTION.split(patch) if not _is_binary_section(s))
    if over or too_large or len(patch) > max_bytes:
        found.diff_truncated = True
        found.warnings.append(f"diff larger than {_size(max_bytes)} not recorded")
    else:
        found.diff = patch


def _untracked_size(path: str, max_bytes: int) -> str:
    """ "small" when the file can go into the patch; else "binary" or "large" (text)."""
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size <= max_bytes:
            return "small"
        with open(path, "rb") as handle:
            return "binary" if b"\x00" in handle.read(_BINARY_SNIFF) else "large"
    except OSError:
        return "small"  # vanished or unreadable: git reports it as it finds it


def _is_binary_section(section: bytes) -> bool:
    """Whether one file's section of a patch is git's "Binary files ... differ" stub."""
    for line in section.split(b"\n"):
        if line.startswith((b"--- ", b"@@")):
            return False
        if line.startswith(b"Binary files ") and line.endswith(b" differ"):
            return True
    return False


def _size(count: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if count >= scale:
            return f"{count / scale:g} {unit}"
    return f"{count} bytes"
