"""``loopml reproduce``: rebuild a run's code, data and environment, and run it again.

From what a run recorded when it started (``tracking._provenance``): clone
the repository at the recorded commit into a fresh folder, apply the
recorded uncommitted changes (refused, with the reason, when they do not
apply), restore the dataset versions the run read to where they were, write
the environment lock with the command that recreates the environment, and
re-run the recorded command there. The new run carries the tag
``loopml.reproduces`` with the original's id, so ``loopml runs diff`` can
compare the two.

Run tags are user-writable, so nothing from them is trusted as a command:
git may only use the file, git, http(s) and ssh transports (never ``ext::``),
every restored path must land inside the target folder, and the re-run is
the recorded Python command, run with this interpreter.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from loopml.core.errors import InvalidArgument, LoopmlError
from loopml.core.gitenv import git_env
from loopml.datasets import Datasets, DatasetVersion
from loopml.repro._artifacts import read_artifact
from loopml.store import Run
from loopml.tracking import Client
from loopml.tracking._provenance import (
    CWD_TAG,
    DIFF_ARTIFACT,
    LOCK_ARTIFACT,
    REPRODUCES_TAG,
    REPRODUCES_VARIABLE,
)

LOCK_FILE = "requirements.lock"
_GIT_ENV = {"GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh"}


@dataclass(frozen=True)
class Reproduction:
    """What ``reproduce`` did, step by step."""

    run_id: str
    directory: Path
    commit: str
    source: str
    applied_diff: bool
    restored: tuple[str, ...]
    lock_file: Path | None
    environment_command: str
    command: tuple[str, ...]
    workdir: Path
    new_run_id: str | None = None
    returncode: int | None = None
    warnings: tuple[str, ...] = field(default=())


def _git(args: Sequence[str], cwd: Path | None = None, stdin: bytes | None = None) -> str:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=600,
            env={**git_env(), **_GIT_ENV},
            check=False,
        )
    except FileNotFoundError:
        raise InvalidArgument("git is not installed: install git to reproduce runs.") from None
    if done.returncode != 0:
        raise InvalidArgument(done.stderr.decode("utf-8", "replace").strip() or "git failed")
    return done.stdout.decode("utf-8", "replace")


def _target(into: str | os.PathLike[str] | None, run_id: str) -> Path:
    target = Path(into) if into is not None else Path.cwd() / f"reproduce-{run_id[:8]}"
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidArgument(
            f"{target} exists and is not an empty folder: give --into a new folder."
        )
    return target.resolve()


def _source(tags: dict[str, str], commit: str) -> str:
    """The recorded work tree when it still has the commit, else the recorded remote."""
    root = tags.get("loopml.git.root")
    if root and Path(root, ".git").exists():
        try:
            _git(["-C", root, "cat-file", "-e", f"{commit}^{{commit}}"])
            return root
        except InvalidArgument:
            pass
    remote = tags.get("mlflow.source.git.repoURL")
    if remote:
        return remote
    raise InvalidArgument(
        f"Commit {commit[:12]} is in no repository loopml can reach: the recorded work tree "
        f"({root or 'unknown'}) does not have it and no remote URL was recorded. Push the "
        "commit, or reproduce on the machine that ran it."
    )


def _checkout(source: str, commit: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _git(["clone", "--quiet", "--no-checkout", "--", source, str(target)])
    try:
        _git(["-c", "advice.detachedHead=false", "checkout", "--quiet", commit], cwd=target)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"Commit {commit[:12]} is not in {source}: was it pushed? ({exc.message})"
        ) from None


def _apply_diff(client: Client, run: Run, target: Path, ignore: bool) -> tuple[bool, list[str]]:
    tags = run.data.tags
    if tags.get("loopml.git.dirty") != "true":
        return False, []
    if ignore:
        return False, ["the run's uncommitted changes were left out (--without-diff)"]
    patch = read_artifact(client, run.info.run_id, DIFF_ARTIFACT)
    if patch is None:
        raise InvalidArgument(
            f"Run {run.info.run_id} ran with uncommitted changes that were not recorded "
            f"({tags.get('loopml.capture.warnings', 'no diff artifact')}): the code cannot be "
            "rebuilt exactly. Give --without-diff to reproduce the commit alone."
        )
    try:
        _git(["apply", "--check", "--whitespace=nowarn", "-"], cwd=target, stdin=patch)
    except InvalidArgument as exc:
        raise InvalidArgument(
            f"The recorded changes of run {run.info.run_id} do not apply to commit "
            f"{tags.get('mlflow.source.git.commit', '')[:12]}: {exc.message}. Nothing was run; "
            "give --without-diff to reproduce the commit alone."
        ) from None
    _git(["apply", "--whitespace=nowarn", "-"], cwd=target, stdin=patch)
    return True, []


def _inside(base: Path, relative: str) -> Path:
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise InvalidArgument(f"Refusing to write {relative!r}: it points outside {base}.")
    return path


def _restore_version(client: Client, version: DatasetVersion, dest: Path) -> None:
    objects = client.objects
    if version.kind == "file":
        dest.parent.mkdir(parents=True, exist_ok=True)
        objects.get_file(version.content_id, dest)
        return
    for relative, entry in objects.get_tree(version.content_id).items():
        file = _inside(dest, relative)
        file.parent.mkdir(parents=True, exist_ok=True)
        objects.get_file(entry.id, file)


def _restore_data(
    client: Client, run: Run, target: Path, root: str | None
) -> tuple[list[str], list[str]]:
    restored: list[str] = []
    warnings: list[str] = []
    try:
        versions = Datasets(client).lineage(run.info.run_id)
    except LoopmlError as exc:
        return [], [f"input datasets not restored: {exc}"]
    for version in versions:
        source = Path(version.source)
        if root and source.is_absolute() and Path(root) in source.parents:
            relative = str(source.relative_to(root))
        else:
            relative = str(Path("data") / (source.name or version.name))
        try:
            _restore_version(client, version, _inside(target, relative))
            restored.append(f"{version.name}@{version.version} -> {relative}")
        except LoopmlError as exc:
            warnings.append(f"{version.name}@{version.version} not restored: {exc}")
    return restored, warnings


def _exclude(target: Path, paths: Sequence[str]) -> None:
    """List ``paths`` in the clone's ``.git/info/exclude`` (its own, never committed)."""
    exclude = target / ".git" / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"/{Path(p).as_posix()}\n" for p in paths)
    with exclude.open("a", encoding="utf-8") as handle:
        handle.write("# added by loopml reproduce\n" + lines)


def recorded_command(tags: dict[str, str]) -> tuple[str, ...]:
    """The command line a run was started with; InvalidArgument when it cannot be re-run."""
    recorded = tags.get("loopml.command")
    entry = tags.get("loopml.entry_point", "")
    try:
        argv = json.loads(recorded) if recorded else []
    except json.JSONDecodeError:
        argv = []
    if not argv or not all(isinstance(a, str) for a in argv) or entry.startswith("<"):
        raise InvalidArgument(
            f"The run recorded no command to re-run (entry point {entry or 'unknown'}): runs "
            "started from a notebook or an interactive session can be rebuilt (--no-run) but "
            "not re-run."
        )
    return tuple(argv)


def reproduce(
    client: Client,
    run_id: str,
    *,
    into: str | os.PathLike[str] | None = None,
    run: bool = True,
    without_diff: bool = False,
    python: str = sys.executable,
) -> Reproduction:
    """Rebuild run ``run_id``'s code, data and environment lock, then (``run``) re-run it."""
    original = client.get_run(run_id)
    tags = original.data.tags
    commit = tags.get("mlflow.source.git.commit")
    if not commit:
        raise InvalidArgument(
            f"Run {run_id} recorded no git commit (it ran outside a git repository, in one "
            "without commits, or with capture off): there is no code to check out."
        )
    command = recorded_command(tags) if run else ()  # refused before anything is written
    target = _target(into, run_id)
    source = _source(tags, commit)
    created = not target.exists()
    try:
        _checkout(source, commit, target)
        applied, warnings = _apply_diff(client, original, target, without_diff)
    except LoopmlError:
        if created:  # a refused reproduction leaves nothing behind
            shutil.rmtree(target, ignore_errors=True)
        raise
    restored, data_warnings = _restore_data(client, original, target, tags.get("loopml.git.root"))
    warnings += data_warnings
    lock = read_artifact(client, run_id, LOCK_ARTIFACT)
    lock_file = None
    if lock is not None:
        lock_file = target / LOCK_FILE
        lock_file.write_bytes(lock)
    else:
        warnings.append("the run recorded no environment lock")
    # What reproduce adds is not the run's code: kept out of the new run's recorded diff.
    added = [LOCK_FILE, *(item.split(" -> ", 1)[1] for item in restored)]
    _exclude(target, added)
    env_command = (
        f"python -m venv .venv && .venv/bin/pip install -r {LOCK_FILE}" if lock_file else ""
    )
    workdir = _inside(target, tags.get(CWD_TAG, "."))
    done = Reproduction(
        run_id=run_id,
        directory=target,
        commit=commit,
        source=source,
        applied_diff=applied,
        restored=tuple(restored),
        lock_file=lock_file,
        environment_command=env_command,
        command=command,
        workdir=workdir,
        warnings=tuple(warnings),
    )
    return rerun_prepared(client, done, python) if run else done


def rerun_prepared(
    client: Client, prepared: Reproduction, python: str = sys.executable
) -> Reproduction:
    """Run a rebuilt run's recorded command; the new run id and the exit code."""
    original = client.get_run(prepared.run_id)
    command = prepared.command or recorded_command(original.data.tags)
    returncode = _rerun(client, original, python, command, prepared.workdir)
    new_run = _newest_reproduction(client, original)
    return dataclasses.replace(prepared, command=command, new_run_id=new_run, returncode=returncode)


def _rerun(
    client: Client, original: Run, python: str, command: Sequence[str], workdir: Path
) -> int:
    experiment = client.get_experiment(original.info.experiment_id)
    env = {
        **os.environ,
        REPRODUCES_VARIABLE: original.info.run_id,
        "LOOPML_TRACKING_URI": client.tracking_uri,
        "LOOPML_EXPERIMENT_NAME": experiment.name,
        "LOOPML_CAPTURE_PROVENANCE": "true",
    }
    if not client.is_remote:
        env["LOOPML_OBJECT_STORE_URI"] = client.object_store_uri
    done = subprocess.run([python, *command[1:]], cwd=workdir, env=env, check=False)
    return done.returncode


def _newest_reproduction(client: Client, original: Run) -> str | None:
    found = client.search_runs(
        [original.info.experiment_id],
        filter_string=f"tags.`{REPRODUCES_TAG}` = '{original.info.run_id}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0].info.run_id if found else None
