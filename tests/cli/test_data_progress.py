"""Progress bars and lines of the data commands: Rich draws on a terminal, scripts get plain lines.

Off a terminal a line is printed as it is (no wrapping at 80 columns, no
markup) and no bar is started; ``TTY_COMPATIBLE=1`` makes Rich draw, as
Rich itself honours it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from loopml.cli import _output
from loopml.cli._data_progress import RichProgress, say


@pytest.fixture(autouse=True)
def fresh_consoles() -> Iterator[None]:
    """Consoles are made once: make them anew around each test, under its environment."""
    _output._consoles.cache_clear()
    yield
    _output._consoles.cache_clear()


def test_off_a_terminal_a_line_is_printed_as_it_is(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    line = "Added " + "deep/" * 30 + "data.csv [bold]not markup[/bold] (1 files, 10 bytes)."
    say(line)
    assert capsys.readouterr().out == line + "\n"


def test_off_a_terminal_no_bar_is_started(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TTY_COMPATIBLE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    with RichProgress() as progress:
        progress.start("Storing data", 10, "files")
        assert progress._bars is None
        progress.advance(10)
    assert capsys.readouterr().err == ""


def test_on_a_terminal_rich_draws_the_bar_and_the_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    with RichProgress() as progress:
        progress.start("Storing data", 10, "files")
        assert progress._bars is not None
        progress.advance(10)
        progress._bars.refresh()  # drawn now, not at the refresh thread's next tick
    say("Added [data] (1 files).")
    captured = capsys.readouterr()
    assert "Storing data" in captured.err
    assert "Added [data] (1 files)." in captured.out  # escaped: brackets are not markup
