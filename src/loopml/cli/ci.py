"""``loopml ci``: model reports and gates for pull requests, and promotion on merge."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, err_console, fails_cleanly

if TYPE_CHECKING:
    from loopml.ci import CiConfig
    from loopml.store import GateResult

app = typer.Typer(
    help="CI for models: evaluate a candidate, report on the pull request, gate, promote.",
    no_args_is_help=True,
)

CONFIG_OPTION = typer.Option(
    None, "--config", "-c", help="The CI file (default: ./loopml-ci.yaml when it exists)."
)
GATE_OPTION = typer.Option(
    None,
    "--gate",
    "-g",
    help="A gate, replacing the file's: min:f1:0.8, regression:roc_auc:0.01[:slices], "
    "fairness:0.1, latency:2, signature (repeatable).",
)


def _config(config: Path | None, **overrides: object) -> CiConfig:
    from loopml.ci import load_config

    return load_config(config).merged(**overrides)


def _print_gates(results: list[GateResult]) -> None:
    for result in results:
        mark = "[green]PASS[/]" if result.passed else "[bold red]FAIL[/]"
        console.print(f"{mark} {escape(result.gate)}: {escape(result.message)}", highlight=False)


@app.command("report")
@fails_cleanly
def report(
    ctx: typer.Context,
    model: str = typer.Option(None, "--model", "-m", help="The candidate: runs:/<id>/model..."),
    data: str = typer.Option(None, "--data", help="Holdout data to evaluate on (CSV/Parquet)."),
    target: str = typer.Option(None, "--target", help="The label column."),
    task: str = typer.Option(None, "--task", help="classification or regression."),
    baseline: str = typer.Option(None, "--baseline", help="e.g. models:/churn@champion."),
    train_data: str = typer.Option(
        None, "--train-data", help="The candidate's training data (default: its run's lineage)."
    ),
    slices: list[str] = typer.Option(None, "--slice", help="A column or an expression."),
    sensitive: list[str] = typer.Option(None, "--sensitive", help="A sensitive feature column."),
    gates: list[str] = GATE_OPTION,
    out: Path = typer.Option(Path("ci-report"), "--out", "-o", help="Folder for the report."),
    config: Path = CONFIG_OPTION,
) -> None:
    """Evaluate the candidate against the baseline and write report.md with plots."""
    from loopml.ci import report as make_report

    settings = _config(
        config,
        model=model,
        data=data,
        target=target,
        task=task,
        baseline=baseline,
        train_data=train_data,
        slices=slices,
        sensitive_features=sensitive,
        gates=gates,
    )
    with console.status("Evaluating the candidate..."):
        result = make_report(settings, out, client=client_from(ctx))
    _print_gates(result.gates)
    for notice in result.evaluation.notices:
        console.print(f"[yellow]notice[/] {escape(notice)}", highlight=False)
    console.print(f"Report: {escape(str(result.markdown))}", highlight=False)


@app.command("gate")
@fails_cleanly
def gate(
    evaluation: Path = typer.Option(
        Path("ci-report"), "--evaluation", "-e", help="The folder `ci report` wrote, or its JSON."
    ),
    gates: list[str] = GATE_OPTION,
    config: Path = CONFIG_OPTION,
) -> None:
    """Exit non-zero when a gate fails, with one line per failed gate."""
    from loopml.ci import gate as check

    settings = _config(config, gates=gates)
    results = check(evaluation, settings.checks())
    failed = [r for r in results if not r.passed]
    for result in failed:
        err_console.print(
            f"[bold red]gate failed[/] {escape(result.gate)}: {escape(result.message)}",
            highlight=False,
        )
    if failed:
        raise typer.Exit(code=1)
    console.print(f"[green]All {len(results)} gates passed.[/]")


@app.command("promote")
@fails_cleanly
def promote(
    ctx: typer.Context,
    model: str = typer.Option(None, "--model", "-m", help="The candidate: runs:/<id>/model."),
    name: str = typer.Option(None, "--name", help="The registered model (or register.name)."),
    alias: str = typer.Option(None, "--alias", help="The alias to move (default champion)."),
    data: str = typer.Option(None, "--data", help="Holdout data the gates evaluate on."),
    target: str = typer.Option(None, "--target", help="The label column."),
    gates: list[str] = GATE_OPTION,
    config: Path = CONFIG_OPTION,
) -> None:
    """Register the candidate and move the alias to it if the gates pass against its holder."""
    from loopml.ci import promote as run_promotion

    settings = _config(
        config,
        model=model,
        register_name=name,
        alias=alias,
        data=data,
        target=target,
        gates=gates,
    )
    with console.status("Evaluating the candidate against the alias's holder..."):
        result = run_promotion(settings, client=client_from(ctx))
    _print_gates(list(result.gate_results))
    if not result.promoted:
        err_console.print(
            f"[bold red]Version {result.version} of {escape(result.name)} was registered but "
            f"not promoted to {escape(result.alias)}.[/]"
        )
        raise typer.Exit(code=1)
    console.print(
        f"[green]Version {result.version} of {escape(result.name)} is now "
        f"@{escape(result.alias)}.[/]"
    )
