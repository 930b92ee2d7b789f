"""``loopml data``: version datasets with git pointer files (init, add, status, checkout...).

Every command finds the data repository from the current folder and calls
one service function of :mod:`loopml.data`; services are imported inside
the commands so ``loopml data status`` starts without loading anything it
does not use. Long work shows Rich progress bars on stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._data_add import add_and_report
from loopml.cli._data_progress import progress_bars, say
from loopml.cli._output import err_console, fails_cleanly, print_json, print_table

if TYPE_CHECKING:  # services (and rich.progress) load inside the commands
    from loopml.data._checkout import CheckoutReport
    from loopml.data._repo import DataRepo
    from loopml.data._status import DataStatus

app = typer.Typer(help="Version datasets: content in the object store, pointers in git.")
remote_app = typer.Typer(help="Configure where push, pull and fetch send and get data.")
app.add_typer(remote_app, name="remote")

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
REMOTE_OPTION = typer.Option(None, "--remote", "-r", help="Remote name (default: the default).")
JOBS_OPTION = typer.Option(8, "--jobs", "-j", min=1, max=128, help="Parallel transfers.")
TARGETS_ARGUMENT = typer.Argument(None, help="Tracked paths (default: every tracked path).")


def _repo() -> DataRepo:
    from loopml.data._repo import DataRepo

    return DataRepo.find()


def _paths(values: list[Path] | None) -> list[Path] | None:
    return list(values) if values else None


# -- init, add, status ---------------------------------------------------------------------


@app.command("init")
@fails_cleanly
def init(
    path: Path = typer.Argument(Path("."), help="Folder to make a data repository."),
) -> None:
    """Make a folder (normally your git work tree's root) a data repository."""
    from loopml.data._repo import DataRepo

    repo = DataRepo.init(path)
    # Resolving the cache here also remembers it in the repository's state, so the
    # first `add` does not load the platform settings (pydantic, ~0.1 s) again.
    say(
        f"Initialised a loopml data repository in {repo.root}; commit .loopml/ with git. "
        f"Data is cached in {repo.cache_root}."
    )


@app.command("add")
@fails_cleanly
def add(
    paths: list[Path] = typer.Argument(..., help="Files or folders to track."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Store files or folders in the cache and write PATH.loopml pointer files for git."""
    add_and_report(paths, as_json=as_json)


@app.command("status")
@fails_cleanly
def status(
    targets: list[Path] = TARGETS_ARGUMENT,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing; exit 1 if changed."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show tracked paths whose workspace content differs from their pointer files."""
    from loopml.data._status import status as data_status

    result = data_status(_repo(), _paths(targets))
    if as_json:
        print_json(
            [
                {"state": e.state, "pointer_file": str(e.pointer_file), **_plain(e)}
                for e in result.entries
            ]
        )
    elif not quiet:
        _print_status(result)
    if quiet and not result.clean:
        raise typer.Exit(code=1)


def _plain(entry: Any) -> dict[str, Any]:
    return {
        "path": entry.path,
        "pointer": entry.pointer,
        "added": list(entry.added),
        "modified": list(entry.modified),
        "deleted": list(entry.deleted),
        "missing_data": entry.missing_data,
        "missing_cache": list(entry.missing_cache),
    }


def _print_status(result: DataStatus) -> None:
    for line in result.summary_lines():
        say(line)


# -- checkout, diff, log ---------------------------------------------------------------------


def _split_rev(repo: DataRepo, args: list[str], rev: str | None) -> tuple[str | None, list[Path]]:
    """Existing or tracked paths are targets; one other word is the revision."""
    from loopml.data._pointer import pointer_file_for

    targets: list[Path] = []
    for arg in args:
        path = Path(arg)
        if path.exists() or path.is_symlink() or pointer_file_for(path.absolute()).exists():
            targets.append(path)
        elif rev is None:
            rev = arg
        else:
            from loopml.core.errors import InvalidArgument

            raise InvalidArgument(
                f"{arg} is neither a path nor the only revision (already {rev}); "
                "give one revision and existing paths"
            )
    return rev, targets


@app.command("checkout")
@fails_cleanly
def checkout(
    args: list[str] = typer.Argument(
        None, help="[REV] and/or tracked paths.", metavar="[REV] [PATHS]..."
    ),
    rev: str = typer.Option(None, "--rev", help="Git revision whose pointers to restore."),
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite local changes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Restore the data the pointer files name (of git revision REV when given)."""
    from loopml.data._checkout import checkout as data_checkout

    repo = _repo()
    revision, targets = _split_rev(repo, list(args or []), rev)
    pointers = None
    if revision is not None:
        from loopml.data._git import pointers_at

        selected = [repo.relpath(t) for t in targets] or None
        pointers = pointers_at(repo, revision, targets=selected)
    with progress_bars() as progress:
        report = data_checkout(
            repo, targets or None, pointers=pointers, force=force, progress=progress
        )
    if as_json:
        print_json(report)
    else:
        _print_checkout(report, revision)
    if not report.complete:
        raise typer.Exit(code=1)


def _print_checkout(report: CheckoutReport, revision: str | None) -> None:
    where = f" at {revision}" if revision else ""
    if report.restored:
        say(
            f"Restored {', '.join(report.restored)}{where} ({report.files_placed} files placed, "
            f"{report.files_removed} removed)."
        )
    elif not report.missing:
        say(f"Data is already up to date{where}.")
    for path, missing in report.missing.items():
        err_console.print(
            escape(
                f"{path}: {len(missing)} objects are not in the cache; "
                "get them with `loopml data pull` (or `fetch` then `checkout`)"
            ),
            style="bold red",
            highlight=False,
        )


@app.command("diff")
@fails_cleanly
def diff(
    a: str = typer.Argument(None, help="Old git revision (default: HEAD)."),
    b: str = typer.Argument(None, help="New git revision (default: the workspace)."),
    targets: list[Path] = typer.Option(None, "--path", "-p", help="Only these tracked paths."),
    tables: bool = typer.Option(True, "--tables/--no-tables", help="Summarise CSV/Parquet."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List added, removed and modified files between two versions (schema changes too)."""
    from loopml.data._diff import diff as data_diff

    result = data_diff(_repo(), a, b, _paths(targets), tables=tables)
    if as_json:
        print_json(result)
        return
    if result.empty:
        say(f"No data changes from {result.a} to {result.b}.")
        return
    say(f"Data changes from {result.a} to {result.b}:")
    for change in result.changes:
        size = change.new_size if change.new_size is not None else change.old_size
        say(f"  {change.status:<9} {change.path} ({size:,} bytes)")
        if change.table is not None:
            t = change.table
            if t.rows_before != t.rows_after:
                say(f"            rows: {t.rows_before} -> {t.rows_after}")
            for column in t.columns_added:
                say(f"            column added: {column}")
            for column in t.columns_removed:
                say(f"            column removed: {column}")
            for typed in t.types_changed:
                say(f"            column {typed.column}: {typed.old} -> {typed.new}")
        if change.table_error:
            say(f"            (table not summarised: {change.table_error})")


@app.command("log")
@fails_cleanly
def log(
    path: Path = typer.Argument(..., help="A tracked file or folder."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the committed versions of a tracked path, newest first."""
    from loopml.data._history import log as data_log

    versions = data_log(_repo(), path)
    if as_json:
        print_json(versions)
        return
    print_table(
        f"Versions of {path}",
        ["commit", "date", "author", "files", "bytes", "id", "subject"],
        [
            (
                v.commit.short,
                v.commit.date.strftime("%Y-%m-%d %H:%M"),
                v.commit.author,
                v.pointer.files if v.pointer else "(untracked)",
                f"{v.pointer.size:,}" if v.pointer else "",
                v.pointer.id[:12] if v.pointer else "",
                v.commit.subject,
            )
            for v in versions
        ],
    )


# -- push, pull, fetch -------------------------------------------------------------------------


def _transfer(
    run: Callable[..., Any], targets: list[Path], remote: str, jobs: int, **extra: Any
) -> Any:
    """Run a push, fetch or pull of ``targets`` with a progress display; its report."""
    with progress_bars() as progress:
        return run(_repo(), _paths(targets), remote=remote, jobs=jobs, progress=progress, **extra)


def _print_transfer(verb: str, report: Any, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    say(f"{verb} {report.copied} objects ({report.bytes:,} bytes); {report.skipped} already there.")
    problems = [
        (list(getattr(report, "missing", []) or []), "were in neither store"),
        (list(getattr(report, "corrupt", []) or []), "are damaged and were not copied"),
    ]
    failed = False
    for ids, what in problems:
        if ids:
            failed = True
            err_console.print(
                escape(
                    f"{len(ids)} objects {what} (e.g. {ids[0]}); run `loopml data verify` "
                    "where the data was added, then push again"
                ),
                style="bold red",
                highlight=False,
            )
    if failed:
        raise typer.Exit(code=1)


@app.command("push")
@fails_cleanly
def push(
    targets: list[Path] = TARGETS_ARGUMENT,
    remote: str = REMOTE_OPTION,
    jobs: int = JOBS_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Upload the cached objects the pointers need and the remote lacks."""
    from loopml.data._remote import push as data_push

    _print_transfer("Pushed", _transfer(data_push, targets, remote, jobs), as_json)


@app.command("fetch")
@fails_cleanly
def fetch(
    targets: list[Path] = TARGETS_ARGUMENT,
    remote: str = REMOTE_OPTION,
    jobs: int = JOBS_OPTION,
    rev: str = typer.Option(None, "--rev", help="Fetch what this git revision's pointers name."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Download into the cache the objects the pointers need (the workspace is untouched)."""
    from loopml.data._remote import fetch as data_fetch

    _print_transfer("Fetched", _transfer(data_fetch, targets, remote, jobs, rev=rev), as_json)


@app.command("pull")
@fails_cleanly
def pull(
    targets: list[Path] = TARGETS_ARGUMENT,
    remote: str = REMOTE_OPTION,
    jobs: int = JOBS_OPTION,
    force: bool = typer.Option(False, "--force", "-f", help="Overwrite local changes."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Fetch what the pointers need, then check it out into the workspace."""
    from loopml.data._remote import pull as data_pull

    report = _transfer(data_pull, targets, remote, jobs, force=force)
    restored = None if as_json else getattr(report, "checkout", None)
    if restored is not None:
        _print_checkout(restored, None)
    _print_transfer("Fetched", report, as_json)
    if restored is not None and not restored.complete:
        raise typer.Exit(code=1)


# -- verify, gc ------------------------------------------------------------------------------


@app.command("verify")
@fails_cleanly
def verify(remote: str = REMOTE_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Re-hash the cached objects the pointers need; re-fetch damaged ones from a remote."""
    from loopml.data._verify import verify as data_verify

    with progress_bars() as progress:
        report = data_verify(_repo(), remote=remote, progress=progress)
    if as_json:
        print_json({"ok": report.ok, **_fields(report)})
    else:
        say(f"Verified {report.checked} objects ({report.bytes:,} bytes).")
        for label, ids in (("corrupt", report.corrupt), ("missing", report.missing)):
            for object_id in ids:
                fixed = " (re-fetched)" if object_id in report.repaired else ""
                say(f"  {label}: {object_id}{fixed}")
        if report.files_in_doubt:
            say(
                f"{report.files_in_doubt} workspace files shared damaged bytes: restore them "
                "with `loopml data checkout --force`"
            )
    if not report.ok:
        hint = (
            "push them from a machine that has them"
            if report.remote
            else "configure a remote that has them (`loopml data remote add`), then run verify"
        )
        err_console.print(
            escape(f"Some objects are still damaged or missing: {hint}."),
            style="bold red",
            highlight=False,
        )
        raise typer.Exit(code=1)


def _fields(value: Any) -> dict[str, Any]:
    import dataclasses

    return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}


@app.command("gc")
@fails_cleanly
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only report what would go."),
    all_commits: bool = typer.Option(
        False, "--all-commits", "-A", help="Keep what any git revision's pointers name."
    ),
    grace: float = typer.Option(
        None, "--grace", min=0, help="Keep objects younger than this many seconds."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Delete cached objects this repository added that no pointer needs any more."""
    from loopml.data._gc import gc as data_gc

    report = data_gc(_repo(), dry_run=dry_run, all_commits=all_commits, grace_seconds=grace)
    if as_json:
        print_json(report)
        return
    verb = "Would delete" if dry_run else "Deleted"
    say(f"{verb} {report.deleted} objects ({report.freed_bytes:,} bytes); kept {report.kept}.")


# -- remotes ---------------------------------------------------------------------------------


def _options(values: list[str] | None) -> dict[str, str]:
    from loopml.core.errors import InvalidArgument

    options: dict[str, str] = {}
    for value in values or []:
        key, sep, setting = value.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"option {value!r} must look like KEY=VALUE")
        options[key.strip()] = setting
    return options


@remote_app.command("add")
@fails_cleanly
def remote_add(
    name: str = typer.Argument(..., help="A short name, e.g. storage."),
    url: str = typer.Argument(..., help="A folder or fsspec URL, e.g. s3://bucket/data."),
    option: list[str] = typer.Option(
        None, "--option", "-o", help="Storage option KEY=VALUE (e.g. endpoint_url=...)."
    ),
    default: bool = typer.Option(False, "--default", "-d", help="Make it the default remote."),
    force: bool = typer.Option(False, "--force", help="Replace a remote of that name."),
) -> None:
    """Add a remote (it becomes the default when it is the first one)."""
    from dataclasses import replace

    from loopml.core.errors import AlreadyExists
    from loopml.data._config import Remote

    repo = _repo()
    with repo.lock():
        config = repo.config()
        if name in config.remotes and not force:
            raise AlreadyExists(f"remote {name!r} exists; use --force to replace it")
        remotes = {**config.remotes, name: Remote(name=name, url=url, options=_options(option))}
        make_default = default or config.default_remote is None
        repo.save_config(
            replace(
                config,
                remotes=remotes,
                default_remote=name if make_default else config.default_remote,
            )
        )
    say(f"Remote {name} -> {url}{' (default)' if make_default else ''}.")


@remote_app.command("list")
@fails_cleanly
def remote_list(as_json: bool = JSON_OPTION) -> None:
    """List the configured remotes."""
    config = _repo().config()
    remotes = [config.remotes[name] for name in sorted(config.remotes)]
    if as_json:
        print_json(
            [
                {
                    "name": r.name,
                    "url": r.url,
                    "options": dict(r.options),
                    "default": r.name == config.default_remote,
                }
                for r in remotes
            ]
        )
        return
    if not remotes:
        say("No remotes: add one with `loopml data remote add NAME URL`.")
        return
    print_table(
        "Remotes",
        ["name", "url", "default", "options"],
        [
            (
                r.name,
                r.url,
                "yes" if r.name == config.default_remote else "",
                ", ".join(sorted(r.options)),
            )
            for r in remotes
        ],
    )


@remote_app.command("remove")
@fails_cleanly
def remote_remove(name: str = typer.Argument(..., help="The remote to forget.")) -> None:
    """Remove a remote from the configuration (its stored data is left alone)."""
    from dataclasses import replace

    repo = _repo()
    with repo.lock():
        config = repo.config()
        repo.remote(name)  # InvalidArgument listing the known remotes
        remotes = {k: v for k, v in config.remotes.items() if k != name}
        default = None if config.default_remote == name else config.default_remote
        repo.save_config(replace(config, remotes=remotes, default_remote=default))
    say(f"Removed remote {name}.")


@remote_app.command("default")
@fails_cleanly
def remote_default(
    name: str = typer.Argument(None, help="The remote to make the default (omit to show it)."),
    unset: bool = typer.Option(False, "--unset", help="Have no default remote."),
) -> None:
    """Show or set the default remote."""
    from dataclasses import replace

    repo = _repo()
    if name is None and not unset:
        current = repo.config().default_remote
        say(current if current else "No default remote.")
        return
    with repo.lock():
        config = repo.config()
        if name is not None:
            repo.remote(name)
        repo.save_config(replace(config, default_remote=None if unset else name))
    say("No default remote." if unset else f"Default remote: {name}.")
