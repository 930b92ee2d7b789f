"""The ``loopml`` command line (Typer + Rich): thin, every rule lives in the services."""

from __future__ import annotations

import typer

from loopml.cli import (
    alerts,
    audit,
    ci,
    data,
    datasets,
    deployments,
    drift,
    experiments,
    features,
    lineage,
    login,
    maintenance,
    models,
    monitor,
    pipelines,
    policies,
    quickstart,
    repro,
    runs,
    serve,
    server,
    sync,
    tokens,
    tune,
    users,
    validate,
    workspaces,
)

app = typer.Typer(
    help="loopml: track, version, validate, deploy and monitor machine-learning models.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    tracking_uri: str = typer.Option(
        None,
        "--tracking-uri",
        envvar="LOOPML_TRACKING_URI",
        help="sqlite:///path/loopml.db or postgresql+psycopg://... (default: ~/.loopml).",
    ),
) -> None:
    ctx.obj = {"tracking_uri": tracking_uri}


app.add_typer(experiments.app, name="experiments")
app.add_typer(runs.app, name="runs")
app.add_typer(models.app, name="models")
app.add_typer(deployments.app, name="deployments")
app.add_typer(data.app, name="data")
app.add_typer(datasets.app, name="datasets")
app.add_typer(tune.app, name="tune")
app.add_typer(pipelines.app, name="pipelines")
app.add_typer(monitor.app, name="monitor")
app.add_typer(alerts.app, name="alerts")
app.add_typer(policies.app, name="policies")
app.add_typer(features.app, name="features")
app.add_typer(ci.app, name="ci")
app.add_typer(users.app, name="users")
app.add_typer(tokens.app, name="tokens")
app.add_typer(workspaces.app, name="workspaces")
app.add_typer(audit.app, name="audit")
app.add_typer(maintenance.db_app, name="db")
app.command("gc")(maintenance.gc)
app.command("quickstart")(quickstart.quickstart)
app.command("server")(server.server)
app.command("serve")(serve.serve)
app.command("sync")(sync.sync)
app.command("validate")(validate.validate)
app.command("drift")(drift.drift)
app.command("reproduce")(repro.reproduce)
app.command("lineage")(lineage.lineage)
app.command("login")(login.login)
app.command("logout")(login.logout)


def main() -> None:
    """Entry point of the ``loopml`` script."""
    app()
