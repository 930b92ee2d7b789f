"""``loopml pipelines``: run a pipeline, list and show pipeline runs, manage schedules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.tree import Tree
from typer.core import TyperGroup

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.pipelines import Pipeline, PipelineRun, Schedules, StepRun

app = typer.Typer(help="Run pipelines, inspect their runs, schedule them.", no_args_is_help=True)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
PARAM_OPTION = typer.Option(
    None, "--param", "-p", help="A pipeline parameter as key=value (repeatable)."
)
EXECUTOR_OPTION = typer.Option("local", "--executor", help="local (processes), ray or inline.")
_COLORS = {"FINISHED": "green", "FAILED": "red", "SKIPPED": "yellow", "RUNNING": "cyan"}


def _status(status: str) -> str:
    color = _COLORS.get(status, "white")
    return f"[{color}]{escape(status)}[/]"


def _seconds(ms: int | None) -> str:
    return "" if ms is None else f"{ms / 1000:.2f} s"


def _label(step: StepRun) -> str:
    parts = [f"[bold]{escape(step.name)}[/]", _status(step.status)]
    if step.duration_ms is not None and step.status not in ("SKIPPED", "NOT_RUN"):
        parts.append(_seconds(step.duration_ms))
    if step.cache_hit:
        parts.append("[magenta]cached[/]")
    if step.attempts > 1:
        parts.append(f"{step.attempts} attempts")
    if len(step.upstream) > 1:
        parts.append(f"[dim]after {escape(', '.join(step.upstream))}[/]")
    if step.run_id:
        parts.append(f"[dim]{step.run_id}[/]")
    return "  ".join(parts)


def render(run: PipelineRun, with_error: bool = True) -> None:
    """The DAG as a tree (each step under the last step it waits for) with statuses."""
    duration = (
        f" in {_seconds(run.end_time - run.start_time)}" if run.end_time and run.start_time else ""
    )
    root = Tree(
        f"pipeline [bold]{escape(run.pipeline)}[/]  run {run.run_id}  {_status(run.status)}"
        f"{duration}"
    )
    branches: dict[str, Tree] = {}
    for name, step in run.steps.items():
        parent = branches.get(step.upstream[-1], root) if step.upstream else root
        branches[name] = parent.add(_label(step))
        if step.error and step.status != "FINISHED":
            branches[name].add(f"[red]{escape(step.error)}[/]")
    console.print(root)
    if run.params:
        params = ", ".join(f"{k}={v}" for k, v in sorted(run.params.items()))
        console.print(f"params: {escape(params)}", highlight=False)
    if run.error and with_error:
        console.print(f"[red]{escape(run.error)}[/]")


def _use_tracking_uri(ctx: typer.Context) -> None:
    uri = (ctx.find_root().obj or {}).get("tracking_uri")
    if uri:
        from loopml.tracking import set_tracking_uri

        set_tracking_uri(uri)


def _record_start(schedule: str) -> Any:
    """The callback that tells a schedule which run it started (beside the database only)."""
    from loopml.store import SqlPipelineStore, SqlTrackingStore
    from loopml.tracking import get_client

    def record(run_id: str) -> None:
        client = get_client()
        if isinstance(client.store, SqlTrackingStore):
            SqlPipelineStore(client.store.db).record_schedule_run(schedule, run_id)

    return record


def _each(callbacks: list[Callable[[str], None]]) -> Callable[[str], None]:
    def call(run_id: str) -> None:
        for callback in callbacks:
            callback(run_id)

    return call


def _configured(
    pipeline: Pipeline, folder: str, name: str, overrides: list[str]
) -> tuple[dict[str, Any], Callable[[str], None]]:
    """Parameters from a composed configuration, and how to record it on the pipeline run."""
    from loopml._config_fluent import record_config
    from loopml.configuration import compose
    from loopml.tracking import get_client

    cfg = compose(folder, name, overrides)
    names = pipeline.signature.parameters
    params = {key: value for key, value in cfg.data.items() if key in names}

    def record(run_id: str) -> None:
        record_config(get_client(), run_id, cfg, overrides, name, skip_params=params)

    return params, record


@app.command("run")
@fails_cleanly
def run(
    ctx: typer.Context,
    target: str = typer.Argument(..., help="module:pipeline, imported from the current folder."),
    param: list[str] = PARAM_OPTION,
    executor: str = EXECUTOR_OPTION,
    ray_address: str = typer.Option(None, "--ray-address", help="ray://host:10001 or auto."),
    max_workers: int = typer.Option(None, "--max-workers", min=1, help="Steps at once."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Run every step, even unchanged."),
    experiment: str = typer.Option(None, "--experiment", help="Default: the pipeline's name."),
    run_name: str = typer.Option(None, "--run-name"),
    schedule: str = typer.Option(None, "--schedule", hidden=True),
    config: str = typer.Option(
        None, "--config", help="A folder of YAML config: its top-level keys fill parameters."
    ),
    config_name: str = typer.Option("config", "--config-name", help="The primary config file."),
    overrides: list[str] = typer.Argument(None, help="Config overrides: train.lr=0.01 model=rf"),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run a pipeline; unchanged steps are reused from earlier runs."""
    from loopml.pipelines import PipelineFailed, parse_params, resolve_target, run_pipeline
    from loopml.pipelines._target import parse_pairs

    _use_tracking_uri(ctx)
    pipeline = resolve_target(target)
    params: dict[str, Any] = {}
    starts: list[Callable[[str], None]] = [_record_start(schedule)] if schedule else []
    if config is not None:
        params, record = _configured(pipeline, config, config_name, overrides or [])
        starts.append(record)
    elif overrides:
        raise InvalidArgument(
            f"Config overrides {overrides} need --config DIR (the folder of YAML files)."
        )
    params.update(parse_params(pipeline, parse_pairs(param or [])))
    try:
        result = run_pipeline(
            pipeline,
            params,
            executor=executor,
            max_workers=max_workers,
            ray_address=ray_address,
            cache=not no_cache,
            experiment=experiment,
            run_name=run_name,
            target=target,
            schedule=schedule,
            on_start=_each(starts) if starts else None,
        )
    except PipelineFailed as failed:
        if as_json:
            print_json(failed.run)
        else:
            render(failed.run, with_error=False)  # the error line follows on stderr
        err_console.print(f"[bold red]Error:[/] {escape(failed.message)}", highlight=False)
        raise typer.Exit(code=1) from None
    if as_json:
        print_json(result)
    else:
        render(result)


@app.command("list")
@fails_cleanly
def list_runs(
    ctx: typer.Context,
    pipeline: str = typer.Option(None, "--pipeline", help="Only this pipeline's runs."),
    max_results: int = typer.Option(20, "--max-results", min=1),
    as_json: bool = JSON_OPTION,
) -> None:
    """List recent pipeline runs, newest first."""
    from loopml.pipelines import list_pipeline_runs

    runs = list_pipeline_runs(pipeline, max_results, client_from(ctx))
    if as_json:
        print_json(runs)
        return
    print_table(
        "Pipeline runs",
        ["run id", "pipeline", "status", "started", "duration", "error"],
        [
            (
                r.run_id,
                escape(r.pipeline),
                r.status,
                when(r.start_time),
                _seconds(r.end_time - r.start_time) if r.end_time and r.start_time else "",
                escape((r.error or "")[:80]),
            )
            for r in runs
        ],
    )


@app.command("show")
@fails_cleanly
def show(
    ctx: typer.Context, run_id: str = typer.Argument(...), as_json: bool = JSON_OPTION
) -> None:
    """Show a pipeline run: the DAG, each step's status, duration and cache hit."""
    from loopml.pipelines import get_pipeline_run

    found = get_pipeline_run(run_id, client_from(ctx))
    if as_json:
        print_json(found)
    else:
        render(found)


# -- schedules ---------------------------------------------------------------------------


class _ScheduleGroup(TyperGroup):
    """``schedule NAME --cron ...`` creates; ``schedule list`` and ``schedule remove`` manage."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and not args[0].startswith("-") and args[0] not in self.commands:
            args = ["add", *args]
        return super().parse_args(ctx, args)


schedule_app = typer.Typer(
    cls=_ScheduleGroup,
    help="Schedule a pipeline: `schedule NAME --cron '0 3 * * *' --target module:pipeline`; "
    "`schedule list`; `schedule remove NAME`. The server runs schedules when started with "
    "--scheduler.",
    no_args_is_help=True,
)
app.add_typer(schedule_app, name="schedule")


def _schedules(ctx: typer.Context) -> Schedules:
    from loopml.pipelines import Schedules

    return Schedules(client_from(ctx))


@schedule_app.command("add")
@fails_cleanly
def add_schedule(
    ctx: typer.Context,
    name: str = typer.Argument(...),
    cron: str = typer.Option(..., "--cron", help="When, in UTC: e.g. '0 3 * * *'."),
    target: str = typer.Option(..., "--target", help="module:pipeline (from this folder)."),
    param: list[str] = PARAM_OPTION,
    missed: str = typer.Option(
        "skip", "--missed", help="After a downtime: skip (wait for the next slot) or run-once."
    ),
    executor: str = EXECUTOR_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """Create a schedule (the same as `loopml pipelines schedule NAME ...`)."""
    from loopml.pipelines._target import parse_pairs

    created = _schedules(ctx).create(
        name,
        target=target,
        cron=cron,
        params=parse_pairs(param or []),
        missed=missed,
        executor=executor,
    )
    if as_json:
        print_json(created)
        return
    console.print(
        escape(
            f"Scheduled {created.name}: {created.target} at '{created.cron}' (UTC), next run "
            f"{when(created.next_run_time)}; missed runs: {created.missed}."
        )
    )


@schedule_app.command("list")
@fails_cleanly
def list_schedules(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """List schedules, by name."""
    found = _schedules(ctx).list()
    if as_json:
        print_json(found)
        return
    print_table(
        "Schedules",
        ["name", "target", "cron (UTC)", "params", "missed", "next run", "last run", "last run id"],
        [
            (
                escape(s.name),
                escape(s.target),
                escape(s.cron),
                escape(", ".join(f"{k}={v}" for k, v in sorted(s.params.items()))),
                s.missed,
                when(s.next_run_time),
                when(s.last_fire_time),
                s.last_run_id or "",
            )
            for s in found
        ],
    )


@schedule_app.command("remove")
@fails_cleanly
def remove_schedule(ctx: typer.Context, name: str = typer.Argument(...)) -> None:
    """Delete a schedule (the runs it started stay)."""
    _schedules(ctx).remove(name)
    console.print(escape(f"Removed schedule {name}."))
