"""``loopml quickstart``: train and track a few models, then show where it all went."""

from __future__ import annotations

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_table


@fails_cleanly
def quickstart(ctx: typer.Context) -> None:
    """Train a few scikit-learn models and track params, metrics, tags and artifacts."""
    from loopml.quickstart import MODEL_COUNT, run_quickstart  # scikit-learn: only here

    client = client_from(ctx)
    total = MODEL_COUNT
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("Training", total=total)

        started = 0

        def advance(name: str) -> None:
            nonlocal started
            bar.update(task, description=f"Training {name}", completed=started)
            started += 1

        result = run_quickstart(client, progress=advance)
        bar.update(task, description="Trained", completed=total)
    best = max(result.runs, key=lambda r: r.accuracy)
    print_table(
        f"Quickstart runs (experiment {result.experiment_id})",
        ["run id", "name", "accuracy", "f1", "artifacts"],
        [
            (
                r.run_id,
                ("* " if r is best else "") + r.name,
                f"{r.accuracy:.4f}",
                f"{r.f1:.4f}",
                ", ".join(r.artifacts),
            )
            for r in result.runs
        ],
    )
    console.print(f"Metadata: [bold]{result.tracking_uri}[/]")
    console.print(f"Artifacts (content-addressed): [bold]{result.object_store_uri}[/]")
    console.print(
        "Next: [bold]loopml runs list -e quickstart[/], "
        f"[bold]loopml runs show {best.run_id}[/], "
        '[bold]loopml runs search "metrics.accuracy > 0.95" -e quickstart[/]'
    )
