"""The two command-line tools compared, and the one way their commands are run and timed.

Each command is a subprocess timed from spawn to exit, the wait a user feels
(both tools pay their interpreter's start). Before each timed command the
disks are synced, so neither tool pays for the other's (or the generator's)
pending writes.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time
import tomllib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import NamedTuple, TextIO

COMMAND_TIMEOUT_SECONDS = 600
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


class Timing(NamedTuple):
    """A command's wall seconds (spawn to exit) and the CPU seconds it and its children used."""

    wall: float
    cpu: float


class CommandFailed(RuntimeError):
    """A tool's command exited non-zero; the message holds the command and its output's tail."""


class Tool(ABC):
    """One data-versioning CLI: how to spell each verb, where its cache is."""

    name: str
    pointer_suffix: str  # the pointer file committed beside each tracked path
    meta_dir: str  # the tool's folder at the repository root

    def __init__(self, executable: Path, env: dict[str, str], log: TextIO) -> None:
        self.executable = executable
        self.env = env
        self.log = log

    @abstractmethod
    def argv(self, *args: str) -> list[str]:
        """The full command line of one verb."""

    @abstractmethod
    def remote_argvs(self, url: str) -> list[list[str]]:
        """The commands that make ``url`` the default remote."""

    @abstractmethod
    def cache_dir(self, repo: Path, env: dict[str, str]) -> Path:
        """Where the tool keeps the content of the repository at ``repo``."""

    @abstractmethod
    def version(self) -> str:
        """The tool's name and version, e.g. "dvc 3.67.1"."""

    def timed(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> Timing:
        """Run one verb in ``cwd`` and return its seconds; CommandFailed if it fails."""
        return run(self.argv(*args), cwd, env or self.env, self.log, timed=True)

    def untimed(self, cwd: Path, *args: str, env: dict[str, str] | None = None) -> None:
        run(self.argv(*args), cwd, env or self.env, self.log, timed=False)

    def forget_state(self) -> None:  # noqa: B027 - most tools keep nothing outside
        """Drop what the tool keeps outside its repositories (before a new one)."""

    def init_repo(self, repo: Path) -> None:
        """A fresh git repository with the tool initialised and nothing else."""
        repo.mkdir(parents=True, exist_ok=True)
        git(repo, self.env, self.log, "init", "-q")
        self.untimed(repo, "init")

    def set_remote(self, repo: Path, url: Path) -> None:
        url.mkdir(parents=True)
        for argv in self.remote_argvs(str(url)):
            run(argv, repo, self.env, self.log, timed=False)

    def commit(self, repo: Path, tracked: list[str]) -> list[str]:
        """Commit the pointer files, .gitignore and the tool's folder; return tracked
        paths that git does NOT ignore (the tool should have ignored them)."""
        files = [".gitignore", self.meta_dir, *(t + self.pointer_suffix for t in tracked)]
        git(repo, self.env, self.log, "add", *files)
        git(repo, self.env, self.log, "commit", "-q", "-m", "data")
        return [t for t in tracked if not _ignored(repo, t, self.env)]


class Dvc(Tool):
    """DVC as a user gets it, minus the network (no analytics, no update check)."""

    name = "dvc"
    pointer_suffix = ".dvc"
    meta_dir = ".dvc"

    @classmethod
    def make(cls, venv_python: Path, work: Path, log: TextIO) -> Dvc:
        config = work / "dvc-config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "config").write_text("[core]\n    analytics = false\n    check_update = false\n")
        env = {
            **clean_env(),
            "DVC_NO_ANALYTICS": "1",
            "DVC_GLOBAL_CONFIG_DIR": str(config),
            "DVC_SYSTEM_CONFIG_DIR": str(config / "system"),
            "DVC_SITE_CACHE_DIR": str(work / "dvc-site-cache"),  # per run: no stale state
        }
        return cls(venv_python.parent / "dvc", env, log)

    def argv(self, *args: str) -> list[str]:
        return [str(self.executable), *args]

    def init_repo(self, repo: Path) -> None:
        super().init_repo(repo)
        self.untimed(repo, "config", "core.autostage", "false")

    def forget_state(self) -> None:
        """DVC keeps its hash and index databases in the site cache, not in the repository."""
        shutil.rmtree(self.env["DVC_SITE_CACHE_DIR"], ignore_errors=True)

    def remote_argvs(self, url: str) -> list[list[str]]:
        return [self.argv("remote", "add", "-d", "store", url)]

    def cache_dir(self, repo: Path, env: dict[str, str]) -> Path:
        return repo / ".dvc" / "cache"

    def version(self) -> str:
        return "dvc " + capture(self.argv("--version"), self.env).strip()


class Loopml(Tool):
    """``loopml data`` from the project venv, its object store under a fresh LOOPML_HOME."""

    name = "loopml"
    pointer_suffix = ".loopml"
    meta_dir = ".loopml"

    @classmethod
    def make(cls, project_venv: Path, home: Path, log: TextIO) -> Loopml:
        env = {**clean_env(), "LOOPML_HOME": str(home)}
        return cls(project_venv / "bin" / "loopml", env, log)

    def argv(self, *args: str) -> list[str]:
        return [str(self.executable), "data", *args]

    def remote_argvs(self, url: str) -> list[list[str]]:
        return [self.argv("remote", "add", "-d", "store", url)]

    def cache_dir(self, repo: Path, env: dict[str, str]) -> Path:
        """``[core] cache`` of .loopml/config.toml, else $LOOPML_HOME/objects."""
        config = repo / ".loopml" / "config.toml"
        if config.exists():
            cache = tomllib.loads(config.read_text()).get("core", {}).get("cache")
            if cache:
                return (repo / cache).resolve()
        return Path(env["LOOPML_HOME"]) / "objects"

    def version(self) -> str:
        python = self.executable.parent / "python"
        code = "import importlib.metadata as m; print(m.version('loopml'))"
        return "loopml " + capture([str(python), "-c", code], self.env).strip()


def clean_env() -> dict[str, str]:
    """This process's environment without anything that would steer either tool."""
    drop = ("LOOPML_", "DVC_", "PYTHONPATH", "VIRTUAL_ENV", "GIT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    return {**env, **GIT_IDENTITY}


def run(argv: list[str], cwd: Path, env: dict[str, str], log: TextIO, *, timed: bool) -> Timing:
    """Run ``argv``; its output goes to ``log``. Returns its seconds, spawn to exit."""
    if timed:
        os.sync()  # pending writes are flushed now, not during the timed command
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=COMMAND_TIMEOUT_SECONDS,
        check=False,
    )
    seconds = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    output = (proc.stdout + proc.stderr).decode(errors="replace")
    log.write(
        f"$ {' '.join(argv)}   # in {cwd}, {seconds:.3f} s wall, {cpu:.3f} s CPU, "
        f"exit {proc.returncode}\n"
    )
    log.write(output if output.endswith("\n") or not output else output + "\n")
    log.flush()
    if proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-12:])
        raise CommandFailed(f"`{' '.join(argv[-4:])}` in {cwd} exited {proc.returncode}:\n{tail}")
    return Timing(seconds, cpu)


def git(repo: Path, env: dict[str, str], log: TextIO, *args: str) -> None:
    run(["git", *args], repo, env, log, timed=False)


def capture(argv: list[str], env: dict[str, str]) -> str:
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise CommandFailed(f"`{' '.join(argv)}` exited {proc.returncode}: {proc.stderr[-500:]}")
    return proc.stdout


def _ignored(repo: Path, path: str, env: dict[str, str]) -> bool:
    proc = subprocess.run(
        ["git", "check-ignore", "-q", path],
        cwd=repo,
        env=env,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return proc.returncode == 0
