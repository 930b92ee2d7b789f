"""A model card as Markdown and as a standalone HTML page.

Both are built from one list of sections, so they always say the same thing.
Every string that came from a user (names, descriptions, tags, reasons) is
escaped for its format: Markdown escapes its own syntax and writes ``<``/``>``
as entities (Markdown renderers pass raw HTML through), HTML escapes with
``html.escape``. The page loads nothing: its style is inline.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopml.governance._cards import ModelCard

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~])")

# A section is a title and blocks: ("p", text), ("kv", [(key, value)]) or ("table", head, rows).
Block = tuple[Any, ...]


def when(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def number(value: Any) -> str:
    if isinstance(value, float):
        return str(value) if math.isnan(value) or math.isinf(value) else f"{value:.6g}"
    return "" if value is None else str(value)


def sections(card: ModelCard) -> list[tuple[str, list[Block]]]:
    """The card's content, format-neutral."""
    overview: list[tuple[str, str]] = [
        ("Owner", card.owner),
        ("Intended use", card.intended_use),
        ("Model description", card.model_description),
        ("Version description", card.version_description),
        ("Created", f"{when(card.created)} by {card.created_by}"),
        ("Source", card.source),
        ("Source run", card.run_id or "none recorded"),
        ("Aliases", ", ".join(card.aliases) or "none"),
    ]
    overview += [(f"tag {k}", v) for k, v in card.tags.items()]
    result: list[tuple[str, list[Block]]] = [("Overview", [("kv", overview)])]
    result.append(("Training data", _data_blocks(card)))
    result.append(("Evaluation", _evaluation_blocks(card)))
    result.append(("Gates passed", _gate_blocks(card)))
    moves = [
        (
            when(m["time"]),
            str(m["alias"]),
            str(m["action"]),
            f"v{m['previous_version']}" if m.get("previous_version") else "-",
            f"v{m['version']}" if m.get("version") else "deleted",
            str(m["user"]),
            str(m.get("reason") or ""),
        )
        for m in card.promotions
    ]
    result.append(
        (
            "Promotions",
            [("table", ("when", "alias", "action", "from", "to", "who", "why"), moves)]
            if moves
            else [("p", "The version never held an alias.")],
        )
    )
    result.append(("Lineage", _lineage_blocks(card)))
    if card.notes:
        result.append(("Notes", [("p", n) for n in card.notes]))
    return result


def _data_blocks(card: ModelCard) -> list[Block]:
    if not card.training_data:
        return [("p", "The source run recorded no registered dataset version.")]
    blocks: list[Block] = []
    for d in card.training_data:
        facts = f"{d['uri']} ({d['context'] or 'no context'}), {number(d['rows'])} rows, "
        blocks.append(("p", facts + f"{d['size']} bytes, content {d['content_id'][:16]}"))
        if d["columns"]:
            rows = [
                (
                    c["name"],
                    c["type"],
                    number(c["count"]),
                    number(c["nulls"]),
                    number(c.get("min")),
                    number(c.get("max")),
                    number(c.get("mean")),
                )
                for c in d["columns"]
            ]
            blocks.append(
                ("table", ("column", "type", "count", "missing", "min", "max", "mean"), rows)
            )
    return blocks


def _evaluation_blocks(card: ModelCard) -> list[Block]:
    blocks: list[Block] = []
    if card.metrics:
        rows = [(k, number(v)) for k, v in card.metrics.items()]
        blocks += [("p", "Metrics of the source run:"), ("table", ("metric", "value"), rows)]
    ev = card.evaluation
    if ev:
        blocks.append(
            ("p", f"Evaluation ({ev['task']}, target {ev['target']}, {ev['rows']} rows):")
        )
        deltas = (ev.get("baseline") or {}).get("deltas", {})
        compared = [(k, number(v), number(deltas.get(k))) for k, v in ev["metrics"].items()]
        blocks.append(("table", ("metric", "value", "delta vs baseline"), compared))
    return blocks or [("p", "No metrics recorded.")]


def _gate_blocks(card: ModelCard) -> list[Block]:
    if not card.gates:
        return [("p", "No gated promotion or policy evaluation recorded.")]
    blocks: list[Block] = []
    for g in card.gates:
        verdict = "passed" if g["passed"] else "failed"
        who = f" by {g['user']}" if g["user"] else ""
        blocks.append(("p", f"{g['by']}, {when(g['time'])}{who}: {verdict}. {g['reason']}".strip()))
        if g["gates"]:
            rows = [
                (
                    str(x.get("gate")),
                    "pass" if x.get("passed") else "FAIL",
                    str(x.get("message", "")),
                )
                for x in g["gates"]
            ]
            blocks.append(("table", ("gate", "verdict", "message"), rows))
        else:  # policy runs are listed only with gates: this is an ungated promotion
            blocks.append(("p", "No gate ran: the promotion named none."))
    return blocks


def _lineage_blocks(card: ModelCard) -> list[Block]:
    graph = card.lineage
    if graph is None or not graph.edges:
        return [("p", "No lineage recorded.")]
    labels = {n.id: f"{n.label} [{n.kind}]" for n in graph.nodes}
    rows = [
        (labels.get(e.source, e.source), e.relation, labels.get(e.target, e.target))
        for e in graph.edges
    ]
    return [("table", ("from", "relation", "to"), rows)]


# -- Markdown -----------------------------------------------------------------------------
def md(text: object) -> str:
    """User text as inert Markdown: syntax escaped, HTML as entities, one line."""
    escaped = html.escape(str(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped).replace("\r", " ").replace("\n", " ")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(md(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(md(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(card: ModelCard) -> str:
    lines = [f"# Model card: {md(card.name)} version {card.version}", ""]
    for title, blocks in sections(card):
        lines += [f"## {title}", ""]
        for block in blocks:
            if block[0] == "p":
                lines.append(md(block[1]))
            elif block[0] == "kv":
                lines += [f"- **{md(k)}**: {md(v)}" for k, v in block[1] if v != ""]
            else:
                lines += _md_table(block[1], block[2])
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# -- HTML -----------------------------------------------------------------------------------
_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;"
    "color:#1f2328}h1{font-size:1.6em}h2{border-bottom:1px solid #d0d7de;margin-top:1.6em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;"
    "padding:.25em .6em;text-align:left;vertical-align:top}dt{font-weight:600}"
    "dd{margin:0 0 .4em 1.2em}"
)


def render_html(card: ModelCard) -> str:
    e = html.escape
    title = f"Model card: {e(card.name)} version {card.version}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
    ]
    for heading, blocks in sections(card):
        slug = heading.lower().replace(" ", "-")
        parts.append(f'<section id="{slug}"><h2>{e(heading)}</h2>')
        for block in blocks:
            if block[0] == "p":
                parts.append(f"<p>{e(str(block[1]))}</p>")
            elif block[0] == "kv":
                items = "".join(
                    f"<dt>{e(k)}</dt><dd>{e(str(v))}</dd>" for k, v in block[1] if v != ""
                )
                parts.append(f"<dl>{items}</dl>")
            else:
                head = "".join(f"<th>{e(h)}</th>" for h in block[1])
                body = "".join(
                    "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in row) + "</tr>"
                    for row in block[2]
                )
                parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
