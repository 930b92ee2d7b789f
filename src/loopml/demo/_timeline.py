"""The demo's timeline: its steps with their state, and the events seen along the way.

The orchestration only updates this record; whoever shows it (the Rich live
view of ``loopml quickstart``, a test, a log) reads it. Updates come from the
demo's thread and the traffic sender's, hence the lock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PENDING, RUNNING, DONE, FAILED, SKIPPED = "pending", "running", "done", "failed", "skipped"


@dataclass
class TimelineStep:
    """One step of the demo: what it is, how far it got, and the line that says so."""

    key: str
    title: str
    status: str = PENDING
    detail: str = ""
    started: float | None = None
    ended: float | None = None

    def seconds(self, now: float) -> float | None:
        """How long the step ran (so far)."""
        if self.started is None:
            return None
        return (self.ended if self.ended is not None else now) - self.started


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """Something that happened (an alert, a policy event), at seconds since the demo began."""

    at: float
    source: str
    text: str


@dataclass
class Timeline:
    """The demo's steps in order, its events, and a one-line traffic status."""

    steps: list[TimelineStep]
    events: list[TimelineEvent] = field(default_factory=list)
    status: str = ""
    began: float = field(default_factory=time.monotonic)
    on_change: Callable[[Timeline], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def of(cls, steps: Sequence[tuple[str, str]]) -> Timeline:
        """A timeline of ``(key, title)`` steps, all pending."""
        return cls([TimelineStep(key, title) for key, title in steps])

    def step(self, key: str) -> TimelineStep:
        for item in self.steps:
            if item.key == key:
                return item
        raise KeyError(key)

    def start(self, key: str, detail: str = "") -> None:
        self._set(key, RUNNING, detail)

    def done(self, key: str, detail: str = "") -> None:
        self._set(key, DONE, detail)

    def fail(self, key: str, detail: str) -> None:
        self._set(key, FAILED, detail)

    def skip(self, key: str, detail: str = "") -> None:
        self._set(key, SKIPPED, detail)

    def note(self, key: str, detail: str) -> None:
        """Change a step's line without changing its state."""
        with self._lock:
            self.step(key).detail = detail
        self._changed()

    def event(self, source: str, text: str) -> None:
        with self._lock:
            self.events.append(TimelineEvent(self.elapsed(), source, text))
        self._changed()

    def set_status(self, text: str) -> None:
        with self._lock:
            self.status = text
        self._changed()

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def snapshot(self) -> tuple[list[TimelineStep], list[TimelineEvent], str]:
        """Copies of the steps, events and status, safe to render from another thread."""
        with self._lock:
            steps = [TimelineStep(**{k: getattr(s, k) for k in _STEP_FIELDS}) for s in self.steps]
            return steps, list(self.events), self.status

    def _set(self, key: str, status: str, detail: str) -> None:
        now = time.monotonic()
        with self._lock:
            item = self.step(key)
            if status == RUNNING:
                item.started, item.ended = now, None
            elif item.started is None:
                item.started = item.ended = now
            else:
                item.ended = now
            item.status = status
            if detail or status == RUNNING:
                item.detail = detail
        self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self)


_STEP_FIELDS = ("key", "title", "status", "detail", "started", "ended")
