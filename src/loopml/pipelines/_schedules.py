"""``Schedules``: pipelines run on a cron schedule by the server's scheduler.

A schedule names a ``module:pipeline`` target, a cron expression (UTC),
parameters as text (converted like ``--param k=v``), the executor, the
folder the module is imported from, and the missed-run policy: after a
downtime, ``skip`` waits for the next future slot, ``run-once`` runs once
to catch up however many slots passed. A slot is "missed" when the
scheduler reaches it more than the grace period late.

Embedded, schedules live in the metadata database; against a server, in
the server's (``/api/v1/pipelines/schedules``). The same calls behave the
same.
"""

from __future__ import annotations

import builtins
import datetime as dt
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.executors import EXECUTOR_KINDS
from loopml.pipelines._cache import open_pipeline_store
from loopml.pipelines._step import check_name
from loopml.pipelines._target import check_target
from loopml.store import MissedRuns, Schedule
from loopml.tracking import Client, get_client

RESERVED = frozenset({"add", "list", "remove"})  # the `loopml pipelines schedule` commands
MAX_TEXT = 4096


def check_cron(cron: str) -> str:
    """A cron expression croniter understands (5 fields, or 6 with seconds)."""
    from croniter import croniter

    if not isinstance(cron, str) or not croniter.is_valid(cron.strip()):
        raise InvalidArgument(
            f"Invalid cron expression {cron!r}: write minute hour day-of-month month "
            "day-of-week, e.g. '0 3 * * *' for 03:00 UTC every day."
        )
    return cron.strip()


def next_time(cron: str, after_ms: int) -> int:
    """The first slot of ``cron`` strictly after ``after_ms`` (UTC), in epoch ms."""
    from croniter import croniter

    start = dt.datetime.fromtimestamp(after_ms / 1000, dt.UTC)
    try:
        following: dt.datetime = croniter(cron, start).get_next(dt.datetime)
    except Exception as exc:  # croniter's own errors, e.g. '0 0 31 2 *' (February 31st)
        raise InvalidArgument(
            f"The cron expression {cron!r} never comes round ({exc}): check its day and month."
        ) from exc
    return int(following.timestamp() * 1000)


@dataclass(frozen=True)
class Decision:
    """What a scheduler does with a due schedule: run it or not, and the next slot."""

    fire: bool
    next_run_time: int
    missed: bool


def decide(schedule: Schedule, now: int, grace_ms: int) -> Decision:
    """Apply the missed-run policy to a schedule whose slot is due at ``now``.

    On time (at most ``grace_ms`` late): run. Later than that (the scheduler
    was down): ``run-once`` runs once, ``skip`` does not. Either way the next
    slot is the first one after ``now``, so missed slots are never run one by one.
    """
    late = now - schedule.next_run_time
    following = next_time(schedule.cron, now)
    if late <= grace_ms:
        return Decision(True, following, False)
    return Decision(schedule.missed == MissedRuns.RUN_ONCE, following, True)


def _check_params(params: Mapping[str, object] | None) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in (params or {}).items():
        if not isinstance(key, str) or not key.isidentifier():
            raise InvalidArgument(f"Invalid parameter name {key!r}: use the pipeline's names.")
        text = value if isinstance(value, str) else str(value)
        if "\x00" in text or len(text) > MAX_TEXT:
            raise InvalidArgument(
                f"Invalid value for parameter {key!r}: at most {MAX_TEXT} characters, no NUL."
            )
        checked[key] = text
    return checked


def _check_workdir(workdir: str | Path | None) -> str:
    text = os.fspath(workdir) if workdir is not None else os.getcwd()
    if not isinstance(text, str) or not text or "\x00" in text or len(text) > MAX_TEXT:
        raise InvalidArgument(f"Invalid workdir {str(workdir)[:100]!r}: give a folder path.")
    return os.path.abspath(text)


class Schedules:
    """The schedules of one tracking store (embedded or a server)."""

    def __init__(self, client: Client | None = None) -> None:
        self.client = client if client is not None else get_client()
        self.store = open_pipeline_store(self.client)

    def create(
        self,
        name: str,
        *,
        target: str,
        cron: str,
        params: Mapping[str, object] | None = None,
        missed: str = MissedRuns.SKIP,
        executor: str = "local",
        workdir: str | Path | None = None,
    ) -> Schedule:
        """Schedule ``target`` (``module:pipeline``) at ``cron`` (UTC); AlreadyExists if taken.

        ``workdir`` (default: the current folder) is where the module is
        imported from when the scheduler runs it.
        """
        check_name(name, "schedule")
        if name in RESERVED:
            raise InvalidArgument(
                f"{name!r} is a command of `loopml pipelines schedule`: pick another name."
            )
        cron = check_cron(cron)
        try:
            policy = MissedRuns(missed)
        except ValueError:
            raise InvalidArgument(
                f"Invalid missed-run policy {missed!r}: use 'skip' or 'run-once'."
            ) from None
        if executor not in EXECUTOR_KINDS:
            raise InvalidArgument(
                f"Unknown executor {executor!r}: use one of {', '.join(EXECUTOR_KINDS)}."
            )
        return self.store.create_schedule(
            name,
            target=check_target(target),
            cron=cron,
            params=_check_params(params),
            missed=policy.value,
            executor=executor,
            workdir=_check_workdir(workdir),
            next_run_time=next_time(cron, now_ms()),
        )

    def get(self, name: str) -> Schedule:
        return self.store.get_schedule(check_name(name, "schedule"))

    def list(self) -> builtins.list[Schedule]:
        return self.store.list_schedules()

    def remove(self, name: str) -> None:
        """Delete a schedule; the runs it started stay. NotFound if there is none."""
        self.store.delete_schedule(check_name(name, "schedule"))
