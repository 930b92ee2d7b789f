"""``loopml datasets``: register data as named versions, list and show them, trace lineage."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.tree import Tree

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.datasets import Datasets, DatasetVersion

app = typer.Typer(help="Register data as named versions and trace it.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
REF_HELP = "NAME (the newest version), NAME@VERSION or NAME:VERSION."


def _datasets(ctx: typer.Context) -> Datasets:
    from loopml.datasets import Datasets

    return Datasets(client_from(ctx))


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _summary(v: DatasetVersion) -> str:
    parts = [f"{v.files} file{'s' if v.files != 1 else ''}", _size(v.size)]
    if v.rows is not None and v.schema is not None:
        parts.append(f"{v.rows} rows x {len(v.schema)} columns")
    return ", ".join(parts)


class _Bars:
    """The ``loopml.data`` progress protocol drawn as Rich bars on stderr (thread-safe)."""

    def __init__(self) -> None:
        from rich.progress import (  # only a registration draws bars: keep --help fast
            BarColumn,
            MofNCompleteColumn,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichBar

        self._bar = RichBar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
        )
        self._task: Any = None
        self._lock = threading.Lock()

    def start(self, description: str, total: int | None, unit: str = "files") -> None:
        with self._lock:
            self._bar.start()
            self._task = self._bar.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        with self._lock:
            if self._task is not None:
                self._bar.advance(self._task, amount)

    def finish(self) -> None:
        with self._lock:
            if self._task is not None:
                self._bar.remove_task(self._task)
                self._task = None
            self._bar.stop()


def _parse_tags(tags: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InvalidArgument(
                f"Invalid --tag {item!r}: write KEY=VALUE, e.g. --tag source=crm."
            )
        parsed[key] = value
    return parsed


@app.command("register")
@fails_cleanly
def register(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The dataset's name, e.g. iris."),
    path: Path = typer.Argument(..., help="The file or folder to register."),
    description: str = typer.Option(None, "--description", "-d"),
    tag: list[str] = typer.Option([], "--tag", "-t", help="KEY=VALUE; repeat for more."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Record a file or folder as the dataset's next version (same content: same version)."""
    registration = _datasets(ctx).add(
        name, path, description=description, tags=_parse_tags(tag), progress=_Bars()
    )
    v = registration.version
    if as_json:
        print_json(v)
    elif registration.created:
        console.print(escape(f"Registered {v.name} version {v.version}: {_summary(v)}."))
    else:
        console.print(
            escape(f"{v.name} version {v.version} already holds this content: {_summary(v)}.")
        )


@app.command("list")
@fails_cleanly
def list_datasets(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List datasets with their newest versions, by name."""
    found = _datasets(ctx).list()
    if as_json:
        print_json(found)
        return
    print_table(
        "Datasets",
        ["name", "latest", "kind", "files", "size", "rows", "updated"],
        [
            (
                escape(d.name),
                d.latest.version,
                d.latest.kind,
                d.latest.files,
                _size(d.latest.size),
                d.latest.rows,
                when(d.last_updated_time),
            )
            for d in found
        ],
    )


@app.command("versions")
@fails_cleanly
def versions(
    ctx: typer.Context, name: str = typer.Argument(...), as_json: bool = JSON_OPTION
) -> None:
    """List a dataset's versions, newest first."""
    found = _datasets(ctx).versions(name)
    if as_json:
        print_json(found)
        return
    print_table(
        f"Versions of {escape(name)}",
        ["version", "content", "files", "size", "rows", "created", "user", "source"],
        [
            (
                v.version,
                v.content_id[:12],
                v.files,
                _size(v.size),
                v.rows,
                when(v.creation_time),
                escape(v.user),
                escape(v.source),
            )
            for v in found
        ],
    )


@app.command("show")
@fails_cleanly
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help=REF_HELP),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show one dataset version: content, source, schema and column profile."""
    v = _datasets(ctx).get(ref)
    if as_json:
        print_json(v)
        return
    tree = Tree(f"[bold]{escape(v.name)}[/] version {v.version} ({escape(v.uri)})")
    if v.description:
        tree.add(escape(v.description))
    tree.add(escape(f"content: {v.content_id} ({v.kind}, {_summary(v)})"))
    tree.add(escape(f"source: {v.source}"))
    tree.add(escape(f"created {when(v.creation_time)} by {v.user or 'unknown'}"))
    if v.tags:
        tags = tree.add("[bold]tags[/]")
        for key, value in sorted(v.tags.items()):
            tags.add(escape(f"{key} = {value}"))
    console.print(tree)
    if v.profile:
        print_table(
            "Columns",
            ["column", "type", "count", "nulls", "min", "max", "mean", "distinct"],
            [
                (
                    escape(c.name),
                    c.type,
                    c.count,
                    c.nulls,
                    escape(str(c.min)) if c.min is not None else "",
                    escape(str(c.max)) if c.max is not None else "",
                    f"{c.mean:.6g}" if c.mean is not None else "",
                    c.distinct,
                )
                for c in v.profile
            ],
        )
    elif v.schema:
        print_table("Columns", ["column", "type"], [(escape(k), t) for k, t in v.schema.items()])


@app.command("lineage")
@fails_cleanly
def lineage(
    ctx: typer.Context,
    target: str = typer.Argument(
        ..., help="models:/NAME/VERSION, models:/NAME@ALIAS, runs:/RUN_ID or a run id."
    ),
    context: str = typer.Option(None, "--context", help="Only inputs with this context."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The dataset versions a model version's run (or a run) recorded as inputs."""
    found = _datasets(ctx).lineage(target, context=context)
    if as_json:
        print_json(found)
        return
    print_table(
        f"Datasets read by {escape(target)}",
        ["dataset", "version", "content", "files", "size", "rows"],
        [
            (escape(v.name), v.version, v.content_id[:12], v.files, _size(v.size), v.rows)
            for v in found
        ],
    )
