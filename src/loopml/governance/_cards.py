"""Model cards: what the platform knows about one model version, on one page.

::

    from loopml.governance import model_card

    card = model_card("churn", 3)
    card.markdown()          # for a pull request or a wiki
    card.html()              # a standalone page (every user string escaped)

Nothing is typed in twice: the owner and intended use come from the version's
and the model's tags (``owner``, ``intended_use``) and descriptions; the
training data from the dataset versions the source run recorded (with their
profiles); the evaluation from the run's metrics and its
``evaluation/evaluation.json`` when present; gates and promotions from the
alias history and the automation policy runs that gated the version; the
lineage from ``lineage``. Against a server the card is built there
(``/api/v1/registry/models/{name}/versions/{version}/card``).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from loopml.core.errors import InvalidArgument, LoopmlError, NotFound
from loopml.datasets import Datasets, DatasetVersion
from loopml.evaluation import Evaluation
from loopml.governance._card_render import render_html, render_markdown
from loopml.governance._lineage import lineage
from loopml.governance._lineage_graph import LineageGraph
from loopml.registry import ModelVersion, RegisteredModel, Registry
from loopml.store import Run
from loopml.tracking import Client, get_client
from loopml.tracking._rest import RestTrackingStore

CARD_LINEAGE_DEPTH = 2
EVALUATION_ARTIFACT = "evaluation/evaluation.json"
OWNER_TAGS = ("owner", "loopml.owner", "team")
INTENDED_USE_TAGS = ("intended_use", "intended-use", "loopml.intended_use")


@dataclass(frozen=True)
class ModelCard:
    """The facts of one model version; ``markdown()`` and ``html()`` render them."""

    name: str
    version: int
    owner: str
    intended_use: str
    model_description: str
    version_description: str
    created: int
    created_by: str
    source: str
    run_id: str | None
    aliases: list[str]
    tags: dict[str, str]
    training_data: list[dict[str, Any]] = field(default_factory=list)
    metrics: dict[str, float | None] = field(default_factory=dict)
    evaluation: dict[str, Any] | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)
    promotions: list[dict[str, Any]] = field(default_factory=list)
    lineage: LineageGraph | None = None
    notes: list[str] = field(default_factory=list)

    def markdown(self) -> str:
        """The card as Markdown; user text is escaped (no raw HTML reaches a renderer)."""
        return render_markdown(self)

    def html(self) -> str:
        """The card as one standalone HTML page; every user string is escaped."""
        return render_html(self)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["lineage"] = None if self.lineage is None else self.lineage.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        """Read back ``to_dict``'s form (a server's answer)."""
        try:
            values = dict(data)
            graph = values.get("lineage")
            values["lineage"] = None if graph is None else LineageGraph.from_dict(graph)
            return cls(**values)
        except (TypeError, KeyError) as exc:
            raise InvalidArgument(f"Malformed model card: {exc}.") from exc


def model_card(name: str, version: int | str, client: Client | None = None) -> ModelCard:
    """The card of version ``version`` of registered model ``name``.

    NotFound if the model or version does not exist; InvalidArgument for a
    malformed name or version.
    """
    client = client if client is not None else get_client()
    registry = Registry(client)
    number = _version_number(version)
    if isinstance(client.store, RestTrackingStore):
        path = f"/registry/models/{quote(name, safe='')}/versions/{number}/card"
        return ModelCard.from_dict(client.store.call("GET", path, params={"format": "json"}))
    model = registry.get_registered_model(name)
    found = registry.get_model_version(name, number)
    return _Builder(client, registry, model, found).build()


def _version_number(version: object) -> int:
    text = str(version).strip() if isinstance(version, int | str) else ""
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise InvalidArgument(f"Invalid model version {version!r}: a version number from 1.")
    return int(text)


def _first_tag(tags: dict[str, str], keys: tuple[str, ...]) -> str:
    return next((tags[k] for k in keys if tags.get(k)), "")


class _Builder:
    def __init__(
        self, client: Client, registry: Registry, model: RegisteredModel, version: ModelVersion
    ) -> None:
        self.client = client
        self.registry = registry
        self.model = model
        self.version = version
        self.notes: list[str] = []

    def build(self) -> ModelCard:
        v, m = self.version, self.model
        run = self._run()
        tags = {**m.tags, **v.tags}
        graph = lineage(f"models:/{v.name}/{v.version}", self.client, depth=CARD_LINEAGE_DEPTH)
        return ModelCard(
            name=v.name,
            version=v.version,
            owner=_first_tag(v.tags, OWNER_TAGS) or _first_tag(m.tags, OWNER_TAGS) or v.user,
            intended_use=_first_tag(tags, INTENDED_USE_TAGS) or m.description,
            model_description=m.description,
            version_description=v.description,
            created=v.creation_time,
            created_by=v.user,
            source=v.source,
            run_id=v.run_id,
            aliases=list(v.aliases),
            tags=dict(sorted(tags.items())),
            training_data=self._training_data(run),
            metrics={} if run is None else dict(sorted(run.data.metrics.items())),
            evaluation=self._evaluation(run),
            gates=_gates(graph, v.version),
            promotions=_promotions(graph),
            lineage=graph,
            notes=self.notes,
        )

    def _run(self) -> Run | None:
        if self.version.run_id is None:
            self.notes.append("The version names no source run: no data or metrics to show.")
            return None
        try:
            return self.client.get_run(self.version.run_id)
        except NotFound:
            self.notes.append(f"The source run {self.version.run_id} no longer exists.")
            return None

    def _training_data(self, run: Run | None) -> list[dict[str, Any]]:
        if run is None:
            return []
        contexts = {i.source: i.context for i in run.inputs.dataset_inputs}
        return [
            _dataset_entry(d, contexts.get(d.uri, ""))
            for d in Datasets(self.client).lineage(run.info.run_id)
        ]

    def _evaluation(self, run: Run | None) -> dict[str, Any] | None:
        if run is None:
            return None
        try:
            _, stream = self.client.open_artifact(run.info.run_id, EVALUATION_ARTIFACT)
            with stream:
                evaluation = Evaluation.from_dict(json.loads(stream.read()))
        except NotFound:
            return None
        except (LoopmlError, ValueError) as exc:
            words = exc.message if isinstance(exc, LoopmlError) else str(exc)
            self.notes.append(f"{EVALUATION_ARTIFACT} could not be read: {words}")
            return None
        baseline = evaluation.baseline
        return {
            "task": evaluation.task,
            "target": evaluation.target,
            "rows": evaluation.rows,
            "metrics": evaluation.metrics,
            "slices": sorted(evaluation.slices),
            "baseline": None
            if baseline is None
            else {"model": baseline.model, "deltas": baseline.deltas},
            "notices": list(evaluation.notices),
        }


def _dataset_entry(version: DatasetVersion, context: str) -> dict[str, Any]:
    return {
        "uri": version.uri,
        "name": version.name,
        "version": version.version,
        "context": context,
        "rows": version.rows,
        "size": version.size,
        "content_id": version.content_id,
        "columns": [dataclasses.asdict(c) for c in version.profile or ()],
    }


def _gates(graph: LineageGraph, version: int) -> list[dict[str, Any]]:
    """Gate verdicts: each promotion that moved an alias to the version, and policy runs'.

    A promotion's verdicts come from the alias history (all passed: a refused
    promotion moves nothing and is not recorded); a promotion *away* from the
    version judged another version, so it is not listed here.
    """
    found: list[dict[str, Any]] = []
    for move in _promotions(graph):
        if move["action"] == "promote" and move["version"] == version:
            gates = list(move.get("gates") or [])
            found.append(
                {
                    "by": f"promotion to {move['alias']}",
                    "time": move["time"],
                    "user": move["user"],
                    "passed": all(g.get("passed") for g in gates),
                    "gates": gates,
                    "reason": move["reason"],
                }
            )
    for node in graph.nodes:
        if node.kind == "policy_run" and node.attributes.get("gates"):
            gates = node.attributes["gates"]
            found.append(
                {
                    "by": node.label,
                    "time": node.attributes.get("created"),
                    "user": "",
                    "passed": all(g.get("passed") for g in gates),
                    "gates": gates,
                    "reason": node.attributes.get("reason", ""),
                }
            )
    return sorted(found, key=lambda g: g["time"] or 0)


def _promotions(graph: LineageGraph) -> list[dict[str, Any]]:
    """Every move of an alias to or from the version (oldest first): who, when, why."""
    moves = [
        {**move, "alias": node.attributes["alias"]}
        for node in graph.nodes
        if node.kind == "alias"
        for move in node.attributes.get("history", [])
    ]
    return sorted(moves, key=lambda m: m["time"])
