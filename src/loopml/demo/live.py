"""The demo's live view in the terminal (Rich): the steps, the latest events, the traffic.

Rendering only: it reads a ``Timeline`` snapshot a few times a second. Off a
terminal (a pipe, CI) Rich prints the final state once, so logs stay short.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from loopml.demo._timeline import DONE, FAILED, PENDING, RUNNING, Timeline

EVENTS_SHOWN = 8
_MARKS = {
    PENDING: Text("·", style="dim"),
    DONE: Text("✓", style="bold green"),
    FAILED: Text("✗", style="bold red"),
}


def render(timeline: Timeline) -> RenderableType:
    """The timeline as a table of steps, then the newest events and the traffic line."""
    steps, events, status = timeline.snapshot()
    now = timeline.began + timeline.elapsed()
    table = Table(box=None, show_header=False, pad_edge=False, expand=False)
    table.add_column(width=2)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(justify="right", style="cyan", no_wrap=True)
    table.add_column(overflow="fold")
    for step in steps:
        mark: RenderableType = (
            Spinner("dots", style="yellow")
            if step.status == RUNNING
            else _MARKS.get(step.status, Text("-", style="dim"))
        )
        took = step.seconds(now)
        style = "dim" if step.status == PENDING else ("red" if step.status == FAILED else "")
        table.add_row(
            mark,
            Text(step.title, style=style or "bold"),
            f"{took:5.1f}s" if took is not None else "",
            Text(step.detail, style="red" if step.status == FAILED else ""),
        )
    parts: list[RenderableType] = [table]
    if events:
        lines = Table(box=None, show_header=False, pad_edge=False)
        lines.add_column(justify="right", style="cyan", no_wrap=True)
        lines.add_column(style="magenta", no_wrap=True)
        lines.add_column(overflow="fold")
        for event in events[-EVENTS_SHOWN:]:
            lines.add_row(f"+{event.at:5.1f}s", event.source, event.text)
        parts += [Text(""), lines]
    if status:
        parts += [Text(""), Text(status, style="dim")]
    return Group(*parts)


@contextmanager
def live_timeline(timeline: Timeline, console: Console) -> Iterator[None]:
    """Show ``timeline`` live on ``console`` while the body runs (final state stays)."""
    with Live(
        console=console,
        refresh_per_second=4,
        transient=False,
        get_renderable=lambda: render(timeline),
    ):
        yield
