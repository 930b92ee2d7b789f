"""Reading pointer files from git history: the one seam where loopml runs git.

git is run as a subprocess (``git -C ROOT ...``, NUL-separated output, no
GitPython), so paths are relative to the data repository's root even when it
is a folder inside a larger work tree. Reading every pointer of a revision
costs two processes whatever their number: one ``ls-tree`` to find the
``*.loopml`` blobs and one ``cat-file --batch`` to read them all.

Failures are loopml errors that say what to do: not a git repository, an
unknown revision, git missing, a pointer that is nonsense at some commit
(naming the commit and the file).
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from loopml.core.errors import InvalidArgument, InvalidState, StorageError
from loopml.core.gitenv import git_env
from loopml.data._pointer import MAX_POINTER_BYTES, POINTER_SUFFIX, Pointer, parse_pointer
from loopml.data._repo import META_DIR, DataRepo

_FIELD = "\x1f"
_LOG_FORMAT = _FIELD.join(("%H", "%aI", "%an", "%ae", "%s"))
_NO_GIT_REPO = "not a git repository"
_Done = subprocess.CompletedProcess[bytes]


@dataclass(frozen=True)
class Commit:
    """A git commit as ``log`` shows it: full sha, author date and name, message subject."""

    sha: str
    date: datetime
    author: str
    email: str
    subject: str

    @property
    def short(self) -> str:
        """The abbreviated sha people type (12 hex digits)."""
        return self.sha[:12]


def _git(root: Path, args: Sequence[str], *, stdin: bytes | None = None) -> _Done:
    """Run ``git -C root ARGS``; InvalidArgument if ``root`` is not in a git repository."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin,
            capture_output=True,
            check=False,
            env=git_env(),
        )
    except FileNotFoundError:
        raise InvalidState(
            "git is not installed (or not on PATH); install git to read data versions "
            "from git history"
        ) from None
    except OSError as exc:
        raise StorageError(f"could not run git in {root}: {exc.strerror or exc}") from exc
    if done.returncode != 0 and _NO_GIT_REPO in done.stderr.decode("utf-8", "replace"):
        raise InvalidArgument(
            f"{root} is not in a git repository, so it has no data versions yet: run "
            "`git init`, then commit your .loopml pointer files"
        )
    return done


def _run(root: Path, args: Sequence[str], *, stdin: bytes | None = None) -> bytes:
    """``git -C root ARGS``'s stdout; StorageError with git's message on failure."""
    done = _git(root, args, stdin=stdin)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        raise StorageError(f"`git {' '.join(args[:2])}` failed in {root}: {message}")
    return done.stdout


def git_toplevel(path: Path) -> Path | None:
    """The root of the git work tree containing ``path``, or None if there is none."""
    folder = path
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    try:
        out = _run(folder, ["rev-parse", "--show-toplevel"])
    except InvalidArgument:
        return None
    return Path(out.decode("utf-8", "surrogateescape").rstrip("\n"))


def resolve_rev(root: Path, rev: str) -> str:
    """The full sha of the commit ``rev`` names; InvalidArgument if git does not know it."""
    if not isinstance(rev, str) or not rev.strip() or rev.startswith("-") or "\x00" in rev:
        raise InvalidArgument(f"invalid git revision {rev!r:.80}: check `git log`")
    done = _git(root, ["rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"])
    if done.returncode != 0:
        hint = " (the repository has no commits yet)" if not has_commits(root) else ""
        raise InvalidArgument(f"unknown git revision {rev!r}{hint}: check `git log`")
    return done.stdout.decode().strip()


def has_commits(root: Path) -> bool:
    """Whether the repository at ``root`` has a HEAD commit (a fresh ``git init`` has none)."""
    return _git(root, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).returncode == 0


def _check_relpath(relpath: str) -> str:
    parts = relpath.split("/")
    if not relpath or relpath.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise InvalidArgument(f"invalid repository path {relpath!r:.200}")
    if any(c in relpath for c in "\x00\n"):
        raise InvalidArgument(f"invalid repository path {relpath!r:.200}: it holds a control char")
    return relpath


def _cat_batch(root: Path, specs: Sequence[str]) -> list[tuple[str, bytes] | None]:
    """(type, content) of each object spec, all read by one ``git cat-file --batch``.

    None for a spec git cannot find.
    """
    if not specs:
        return []
    out = _run(root, ["cat-file", "--batch"], stdin=_lines(specs))
    results: list[tuple[str, bytes] | None] = []
    pos = 0
    for spec in specs:
        end = out.find(b"\n", pos)
        if end < 0:
            raise StorageError(f"git cat-file gave a truncated answer for {spec}")
        header = out[pos:end]
        pos = end + 1
        if header.endswith((b" missing", b" ambiguous")):
            results.append(None)
            continue
        # "<oid> <type> <size>": the oid never holds a space.
        _, kind, size = header.decode("ascii").split(" ")
        content = out[pos : pos + int(size)]
        if len(content) != int(size):
            raise StorageError(f"git cat-file gave a truncated answer for {spec}")
        results.append((kind, content))
        pos += int(size) + 1  # the content is followed by a newline
    return results


def _lines(specs: Sequence[str]) -> bytes:
    # Paths the OS gave as undecodable bytes come back as they were (surrogateescape).
    return "".join(f"{spec}\n" for spec in specs).encode("utf-8", "surrogateescape")


def read_at(root: Path, rev: str, relpath: str) -> bytes | None:
    """The content of file ``relpath`` (relative to ``root``) at ``rev``; None if absent there.

    InvalidArgument for an unknown revision or if ``relpath`` is a folder at ``rev``.
    """
    sha = resolve_rev(root, rev)
    (found,) = _cat_batch(root, [f"{sha}:./{_check_relpath(relpath)}"])
    if found is None:
        return None
    kind, content = found
    if kind != "blob":
        raise InvalidArgument(f"{relpath} is a {kind}, not a file, at {rev} ({sha[:12]})")
    return content


def _ls_pointer_blobs(root: Path, sha: str) -> list[tuple[str, str]]:
    """(relpath, blob sha) of every ``*.loopml`` file at commit ``sha``, below ``root``."""
    found: list[tuple[str, str]] = []
    for record in _run(root, ["ls-tree", "-r", "-z", sha]).split(b"\x00"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, blob = meta.decode().split(" ")
        path = raw_path.decode("utf-8", "surrogateescape")
        name = path.rpartition("/")[2]
        # Symlinks (120000) and submodules are not pointer files.
        if kind != "blob" or mode == "120000" or not name.endswith(POINTER_SUFFIX):
            continue
        if len(name) == len(POINTER_SUFFIX) or path.split("/")[0] == META_DIR:
            continue
        found.append((path, blob))
    return found


def selects(data_relpath: str, targets: Iterable[str] | None) -> bool:
    """Whether tracked ``data_relpath`` is one of ``targets``, inside one, or contains one."""
    if targets is None:
        return True
    return any(
        data_relpath == t or data_relpath.startswith(t + "/") or t.startswith(data_relpath + "/")
        for t in targets
    )


def pointers_at(
    repo: DataRepo, rev: str, *, targets: Sequence[str] | None = None
) -> dict[Path, Pointer]:
    """Every pointer file committed at ``rev``: absolute workspace pointer path -> Pointer.

    ``targets`` (POSIX paths relative to the repository root) keeps only
    pointers whose data path is a target, lies inside one, or contains one;
    pointers left out are not even parsed. InvalidArgument for an unknown
    revision, and for a pointer that is not valid at that commit (the message
    names the commit and the file).
    """
    sha = resolve_rev(repo.root, rev)
    listed = [
        (path, blob)
        for path, blob in _ls_pointer_blobs(repo.root, sha)
        if selects(path[: -len(POINTER_SUFFIX)], targets)
    ]
    contents = _cat_batch(repo.root, [blob for _, blob in listed])
    pointers: dict[Path, Pointer] = {}
    for (path, _), found in zip(listed, contents, strict=True):
        if found is None:
            raise StorageError(f"git could not read {path} at {sha[:12]}; run `git fsck`")
        pointers[repo.root / path] = pointer_from_blob(found[1], sha, path)
    return pointers


def pointer_from_blob(content: bytes, sha: str, relpath: str) -> Pointer:
    """Parse the pointer ``relpath`` as committed in ``sha``; errors name both."""
    return _parse_committed(content, relpath, f"{relpath} at commit {sha[:12]}")


def _parse_committed(content: bytes, relpath: str, source: str) -> Pointer:
    if len(content) > MAX_POINTER_BYTES:
        raise InvalidArgument(f"{source}: invalid pointer file: larger than {MAX_POINTER_BYTES}")
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidArgument(f"{source}: invalid pointer file: it is not UTF-8 text") from None
    pointer = parse_pointer(text, source=source)
    expected = relpath.rpartition("/")[2][: -len(POINTER_SUFFIX)]
    if pointer.path != expected:
        raise InvalidArgument(
            f"{source}: invalid pointer file: it names path {pointer.path!r} but sits "
            f"beside {expected!r}"
        )
    return pointer


def pointers_in_history(repo: DataRepo) -> list[tuple[str, Pointer]]:
    """Every distinct pointer committed on any ref (branches, tags, stash), with a path it had.

    Two git processes however long the history (``rev-list --all --objects``
    then one ``cat-file --batch``), where a loop over commits would run
    three per commit: this is what ``gc --all-commits`` needs. git names each
    blob once, so a pointer whose exact bytes were also committed under a
    name not ending in ``.loopml`` (never written by loopml) can be missed.
    InvalidArgument naming the file and the blob for an invalid pointer.
    """
    prefix = _run(repo.root, ["rev-parse", "--show-prefix"]).decode("utf-8", "surrogateescape")
    prefix = prefix.rstrip("\n")
    listed: list[tuple[str, str]] = []
    for line in _run(repo.root, ["rev-list", "--all", "--objects"]).split(b"\n"):
        raw_id, _, raw_path = line.partition(b" ")
        path = raw_path.decode("utf-8", "surrogateescape")
        if not path.startswith(prefix) or not path.endswith(POINTER_SUFFIX):
            continue
        relpath = path[len(prefix) :]
        name = relpath.rpartition("/")[2]
        if len(name) > len(POINTER_SUFFIX) and relpath.split("/")[0] != META_DIR:
            listed.append((relpath, raw_id.decode("ascii")))
    found: list[tuple[str, Pointer]] = []
    for (relpath, blob), content in zip(
        listed, _cat_batch(repo.root, [blob for _, blob in listed]), strict=True
    ):
        if content is not None and content[0] == "blob":
            source = f"{relpath} (git blob {blob[:12]}; `git log --all -- {relpath}` finds it)"
            found.append((relpath, _parse_committed(content[1], relpath, source)))
    return found


def read_blobs(root: Path, items: Sequence[tuple[str, str]]) -> list[bytes | None]:
    """The content of each (commit sha, relpath) pair, None where no file is there; one batch."""
    specs = [f"{sha}:./{_check_relpath(relpath)}" for sha, relpath in items]
    return [
        found[1] if found is not None and found[0] == "blob" else None
        for found in _cat_batch(root, specs)
    ]


def commits_touching(root: Path, relpath: str) -> list[Commit]:
    """Commits that changed ``relpath`` (relative to ``root``), newest first; [] if none.

    A repository without commits has none; a folder that is not in a git
    repository is an InvalidArgument saying so.
    """
    if not has_commits(root):
        return []
    out = _run(root, ["log", "-z", f"--format={_LOG_FORMAT}", "--", _check_relpath(relpath)])
    commits: list[Commit] = []
    for record in out.decode("utf-8", "replace").split("\x00"):
        if not record.strip():
            continue
        sha, date, author, email, subject = record.strip("\n").split(_FIELD, 4)
        commits.append(Commit(sha, datetime.fromisoformat(date), author, email, subject))
    return commits
