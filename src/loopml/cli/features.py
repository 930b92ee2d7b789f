"""``loopml features``: apply, list and show feature definitions (entities, views, services)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from loopml.cli._context import client_from
from loopml.cli._output import console, fails_cleanly, print_json, print_table, when
from loopml.core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:  # services load inside the commands (see loopml.cli._context)
    from loopml.features._registry_base import BaseFeatureRegistry
    from loopml.store import FeatureRecord

app = typer.Typer(
    help="Feature store: definitions, training sets, materialisation, online values.",
    no_args_is_help=True,
)

JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts.")
KINDS = ("entity", "feature_view", "on_demand_feature_view", "feature_service")


def _registry(ctx: typer.Context) -> BaseFeatureRegistry:
    from loopml.features._remote import open_registry

    return open_registry(client_from(ctx))


def _projections(items: list[dict[str, Any]]) -> str:
    return ", ".join(
        f"{p['view']}:{{{','.join(p['features'])}}}" if p["features"] else f"{p['view']}:*"
        for p in items
    )


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size:g}{unit}"
    return f"{seconds:g}s"


def _summary(record: FeatureRecord) -> str:
    """One line saying what a definition is, from its spec."""
    spec = record.spec
    if record.kind == "entity":
        return "join keys " + ", ".join(spec["join_keys"])
    if record.kind == "feature_view":
        fields = ", ".join(f"{f['name']}:{f['dtype']}" for f in spec["schema"])
        source = spec["source"]
        where = source.get("path") or source.get("dataset") or "sql query"
        ttl = spec.get("ttl_seconds")
        return (
            f"{fields} of {', '.join(spec['entities'])}"
            + ("" if ttl is None else f", ttl {_duration(ttl)}")
            + f", from {source['type']} {where}"
        )
    if record.kind == "on_demand_feature_view":
        fields = ", ".join(f"{f['name']}:{f['dtype']}" for f in spec["schema"])
        return f"{fields} = {spec['function']}({_projections(spec['sources'])})"
    return _projections(spec["features"])


@app.command("apply")
@fails_cleanly
def apply(
    ctx: typer.Context,
    path: Path = typer.Argument(..., help="A .py file of definitions, or a folder of them."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Register the definitions of a Python file or folder (like `feast apply`).

    Unchanged definitions stay as they are; changed ones become a new version;
    changing a feature's type is refused (rename the view or create NAME_v2).
    """
    from loopml.features._repo import load_definitions

    definitions = load_definitions(path)
    done = _registry(ctx).apply(definitions)
    if as_json:
        print_json([r._asdict() for r in done])
        return
    print_table(
        f"Applied {path}",
        ["kind", "name", "version", "status"],
        [
            [
                r.kind,
                r.name,
                r.version,
                "unchanged" if not r.changed else "new" if r.version == 1 else "updated",
            ]
            for r in done
        ],
    )


@app.command("list")
@fails_cleanly
def list_definitions(
    ctx: typer.Context,
    kind: str = typer.Option(
        None, "--kind", help="entity, view, odfv or service (default: every kind)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """List the definitions (their newest versions), by kind and name."""
    found = _registry(ctx).list(kind)
    if as_json:
        print_json(found)
        return
    print_table(
        "Feature definitions",
        ["kind", "name", "version", "applied", "definition"],
        [[r.kind, r.name, r.version, when(r.created_time), _summary(r)] for r in found],
    )


@app.command("show")
@fails_cleanly
def show(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="The definition's name."),
    kind: str = typer.Option(None, "--kind", help="entity, view, odfv or service."),
    version: int = typer.Option(None, "--version", help="An older version (default: newest)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Show a definition's spec and its versions (every kind with that name)."""
    registry = _registry(ctx)
    kinds = KINDS if kind is None else (kind,)
    found: list[FeatureRecord] = []
    for each in kinds:
        try:
            found.append(registry.record(each, name, version))
        except NotFound:
            if kind is not None:
                raise
    if not found:
        raise NotFound(
            f"No definition named {name!r}: `loopml features list` shows the definitions."
        )
    if as_json:
        print_json(found if kind is None else found[0])
        return
    for record in found:
        versions = [r.version for r in registry.history(record.kind, record.name)]
        console.print(
            escape(
                f"{record.kind} {record.name} version {record.version} of {max(versions)}, "
                f"applied {when(record.created_time)}, digest {record.digest[:12]}"
            ),
            soft_wrap=True,
        )
        console.print(escape(_summary(record)), soft_wrap=True)
        console.print_json(json.dumps(record.spec))


@app.command("check")
@fails_cleanly
def check(
    ctx: typer.Context,
    view: str = typer.Argument(..., help="A feature view."),
    sample: int = typer.Option(100, "--sample", min=1, help="How many keys to compare."),
    seed: int = typer.Option(None, "--seed", help="Sample the same keys on every run."),
    online: str = typer.Option(
        None, "--online", help="Online store URI (default: LOOPML_FEATURES_ONLINE or SQLite)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Compare a sample of online values with the offline latest ones; exit 1 on mismatches."""
    from loopml.features._check import check as run_check
    from loopml.features._online_open import open_online_store

    client = client_from(ctx)
    with open_online_store(online, settings=client.settings) as store:
        result = run_check(
            view,
            registry=_registry(ctx),
            online=store,
            sample=sample,
            seed=seed,
            client_factory=lambda: client,
        )
    if as_json:
        print_json(result.to_dict())
    else:
        console.print(
            escape(
                f"{result.view}: {result.sampled} of {result.offline_keys} keys compared "
                f"(offline rows before {when(result.until_ms)}), "
                f"{len(result.mismatches)} mismatch(es)."
            ),
            soft_wrap=True,
        )
        if result.mismatches:
            print_table(
                "Mismatches",
                ["key", "kind", "offline event", "online event", "features (offline, online)"],
                [
                    (
                        escape(", ".join(map(str, m.key))),
                        m.kind,
                        "" if m.offline_event_ms is None else when(m.offline_event_ms),
                        "" if m.online_event_ms is None else when(m.online_event_ms),
                        escape(
                            "; ".join(f"{k}: {a!r} != {b!r}" for k, (a, b) in m.features.items())
                        ),
                    )
                    for m in result.mismatches
                ],
            )
    if not result.ok:
        raise typer.Exit(1)


def _instant(text: str | None, option: str) -> datetime | None:
    """An ISO 8601 time from the command line (naive means UTC)."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidArgument(
            f"{option} {text!r} is not an ISO 8601 time: write e.g. 2024-05-01 or "
            "2024-05-01T12:00:00+02:00."
        ) from None


@app.command("materialize")
@fails_cleanly
def materialize(
    ctx: typer.Context,
    views: list[str] = typer.Argument(None, help="Feature views (default: every one)."),
    start: str = typer.Option(
        None, "--start", help="Load rows from this time on (ISO 8601; default: the earliest)."
    ),
    end: str = typer.Option(None, "--end", help="Load rows before this time (default: now)."),
    incremental: bool = typer.Option(
        False, "--incremental", help="Start each view where its last load ended."
    ),
    online: str = typer.Option(
        None, "--online", help="Online store URI (default: LOOPML_FEATURES_ONLINE or SQLite)."
    ),
    as_json: bool = JSON_OPTION,
) -> None:
    """Load the latest feature values per key into the online store.

    Rows with event times in [--start, --end) count; each load is recorded, so
    `--incremental` continues from where the last one ended. Loading an older
    window later never replaces a newer value online.
    """
    from loopml.features._materialize import materialize as load
    from loopml.features._materialize import materialize_incremental, registered_views
    from loopml.features._online_open import open_online_store

    if incremental and start is not None:
        raise InvalidArgument("--incremental starts where the last load ended: drop --start.")
    client = client_from(ctx)
    registry = _registry(ctx)
    chosen = registered_views(registry, views or None)
    until = _instant(end, "--end")
    with open_online_store(online, settings=client.settings) as store:
        if incremental:
            done = materialize_incremental(
                chosen, until, online=store, log=registry, client_factory=lambda: client
            )
        else:
            done = load(
                chosen,
                _instant(start, "--start"),
                until,
                online=store,
                log=registry,
                client_factory=lambda: client,
            )
    if as_json:
        print_json(done)
        return
    print_table(
        "Materialized",
        ["view", "from", "to", "keys written"],
        [[d.view, when(d.start_ms), when(d.end_ms), d.rows] for d in done],
    )
