"""``loopml tune``: list hyperparameter studies and show one (best trial, trials, plots)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.cli.experiments import find_experiment

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.tracking import Client
    from loopml.tuning import TrialRow

app = typer.Typer(help="Inspect hyperparameter studies (lm.tune).", no_args_is_help=True)

EXPERIMENT_OPTION = typer.Option(
    None, "--experiment", "-e", help="Experiment name or id (default: every experiment)."
)
JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")


def _experiment_id(client: Client, experiment: str | None) -> str | None:
    return None if experiment is None else find_experiment(client, experiment).experiment_id


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return "nan" if math.isnan(value) else f"{value:.6g}"


def _values(row: TrialRow) -> str:
    return ", ".join(_number(v) for v in row.values) if row.values is not None else ""


def _params(params: dict[str, object]) -> str:
    return ", ".join(f"{k}={_number(v) if isinstance(v, float) else v}" for k, v in params.items())


@app.command("list")
@fails_cleanly
def list_studies(
    ctx: typer.Context,
    experiment: str = EXPERIMENT_OPTION,
    as_json: bool = JSON_OPTION,
) -> None:
    """List studies, newest first, with how their trials ended."""
    from loopml.tuning import list_studies as find_studies

    client = client_from(ctx)
    studies = find_studies(client, _experiment_id(client, experiment))
    if as_json:
        print_json(studies)
        return
    print_table(
        "Studies",
        [
            "study",
            "experiment",
            "status",
            "directions",
            "sampler",
            "complete",
            "pruned",
            "failed",
            "best value",
            "started",
        ],
        [
            (
                s.name,
                s.experiment_id,
                s.status,
                ",".join(s.directions),
                s.sampler,
                s.trials["COMPLETE"],
                s.trials["PRUNED"],
                s.trials["FAIL"],
                _number(s.best_value),
                when(s.start_time),
            )
            for s in studies
        ],
    )


@app.command("show")
@fails_cleanly
def show(
    ctx: typer.Context,
    study: str = typer.Argument(..., help="The study's name (its study_name)."),
    experiment: str = EXPERIMENT_OPTION,
    max_trials: int = typer.Option(
        100, "--max", min=1, help="Show at most this many trials (the latest)."
    ),
    plots: bool = typer.Option(
        True, "--plots/--no-plots", help="Save the history and importance plots."
    ),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Also write the plot PNGs into this folder."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """The study's best trial, its trials and its plots (saved as artifacts of its run)."""
    from loopml.tuning import study_details

    client = client_from(ctx)
    details = study_details(
        client, study, _experiment_id(client, experiment), plots=plots, plot_folder=out
    )
    if as_json:
        print_json(details)
        return
    info = details.info
    console.print(
        f"[bold]Study {info.name}[/] (run {info.run_id}, experiment {info.experiment_id}): "
        f"{info.status}, {','.join(info.directions)}, {info.sampler} + {info.pruner}",
        highlight=False,
    )
    if details.best is not None:
        console.print(
            f"Best trial {details.best.number}: value {_values(details.best)} "
            f"(run {details.best.run_id})",
            highlight=False,
        )
        console.print(f"Best params: {json.dumps(details.best.params, default=str)}")
    else:
        console.print("No best trial: no trial completed (or several objectives).")
    shown = details.trials[-max_trials:]
    hidden = len(details.trials) - len(shown)
    title = f"Trials of {info.name}" + (f" (the {hidden} earlier not shown)" if hidden else "")
    print_table(
        title,
        ["#", "state", "value", "params", "seconds", "run id", "failure"],
        [
            (
                row.number,
                row.state,
                _values(row),
                _params(row.params),
                _number(row.duration_seconds),
                row.run_id,
                (row.fail_reason or "")[:120],
            )
            for row in shown
        ],
    )
    if details.importances:
        console.print(
            "Importances: " + ", ".join(f"{k} {v:.3f}" for k, v in details.importances.items()),
            highlight=False,
        )
    for path in details.plots:
        local = f" and {out / Path(path).name}" if out is not None else ""
        console.print(f"Saved plot: runs:/{info.run_id}/{path}{local}", highlight=False)
