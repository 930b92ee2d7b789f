"""The scheduler: runs due schedules, from inside the server (beside its database).

Every ``interval`` seconds it reads the schedules whose next slot has come,
applies the missed-run policy and takes each slot with a compare-and-set on
``next_run_time`` (``SqlPipelineStore.claim_schedule``): with several server
workers each running a scheduler, exactly one of them wins a slot. The
winner starts ``loopml pipelines run TARGET --schedule NAME`` as a separate
process in the schedule's folder, on the server's stores; that process
records its run id on the schedule as soon as the pipeline run exists, and
its output goes to ``<home>/schedules/<name>.log``. Pipeline runs outlive a
server restart: the scheduler never kills what it started.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from loopml.core.clock import now_ms
from loopml.core.errors import InvalidArgument
from loopml.core.periodic import Periodic
from loopml.pipelines._schedules import decide
from loopml.store import Schedule, SqlPipelineStore, SqlTrackingStore
from loopml.tracking import Client

log = logging.getLogger("loopml.pipelines.scheduler")

_CLI = "import sys; from loopml.cli import main; sys.argv[0] = 'loopml'; main()"


@dataclass(frozen=True)
class Firing:
    """What one pass did with a due slot of a schedule."""

    schedule: str
    slot: int  # the slot's time (epoch ms)
    fired: bool  # a run was started (False: skipped by the missed-run policy)
    missed: bool  # the slot was reached late (the scheduler was down)
    pid: int | None = None


class Scheduler:
    """Runs due schedules every ``interval`` seconds (``start``), or once (``tick``)."""

    def __init__(
        self,
        client: Client,
        *,
        interval: float = 15.0,
        grace_seconds: float | None = None,
    ) -> None:
        if not isinstance(client.store, SqlTrackingStore):
            raise InvalidArgument(
                "The scheduler runs beside the metadata database (in `loopml server`), not "
                "against a server URL."
            )
        if interval <= 0:
            raise InvalidArgument(f"The scheduler interval must be > 0 s, not {interval!r}.")
        self.client = client
        self.store = SqlPipelineStore(client.store.db)
        self.interval = float(interval)
        # A slot reached within this time is on time; later, it was missed.
        self.grace_ms = int(
            1000 * (grace_seconds if grace_seconds is not None else max(60.0, 4 * interval))
        )
        self._periodic = Periodic("loopml-scheduler", self.tick, self.interval, log)
        self._children: list[subprocess.Popen[bytes]] = []

    def tick(self, now: int | None = None) -> list[Firing]:
        """One pass over the due schedules; what it did with each slot it won."""
        moment = now if now is not None else now_ms()
        self._children = [p for p in self._children if p.poll() is None]  # reap finished runs
        done = []
        for schedule in self.store.due_schedules(moment):
            decision = decide(schedule, moment, self.grace_ms)
            won = self.store.claim_schedule(
                schedule.name, schedule.next_run_time, decision.next_run_time, decision.fire
            )
            if not won:
                continue  # another worker took this slot
            pid = self._launch(schedule).pid if decision.fire else None
            if decision.missed:
                verb = "running once to catch up" if decision.fire else "skipping it"
                log.warning("loopml: schedule %s missed its slot; %s", schedule.name, verb)
            done.append(
                Firing(schedule.name, schedule.next_run_time, decision.fire, decision.missed, pid)
            )
        return done

    def _launch(self, schedule: Schedule) -> subprocess.Popen[bytes]:
        command = [
            sys.executable,
            "-c",
            _CLI,
            "--tracking-uri",
            self.client.tracking_uri,
            "pipelines",
            "run",
            schedule.target,
            "--executor",
            schedule.executor,
            "--schedule",
            schedule.name,
        ]
        for key, value in sorted(schedule.params.items()):
            command += ["--param", f"{key}={value}"]
        logs = Path(self.client.settings.home).expanduser() / "schedules"
        logs.mkdir(parents=True, exist_ok=True)
        environment = {**os.environ, "LOOPML_OBJECT_STORE_URI": self.client.object_store_uri}
        workdir = schedule.workdir if os.path.isdir(schedule.workdir) else None
        with open(logs / f"{schedule.name}.log", "ab") as output:
            process = subprocess.Popen(
                command,
                cwd=workdir,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a server stopping with Ctrl-C leaves the run going
            )
        self._children.append(process)
        return process

    def join(self, timeout: float | None = None) -> None:
        """Wait until the runs this scheduler started have ended (tests, shutdown scripts)."""
        for process in self._children:
            process.wait(timeout)
        self._children = [p for p in self._children if p.poll() is None]

    # -- the background thread ------------------------------------------------------------
    def start(self) -> None:
        """Tick every ``interval`` seconds in a daemon thread until ``stop``."""
        self._periodic.start()

    def stop(self) -> None:
        self._periodic.stop()

    @property
    def running(self) -> bool:
        return self._periodic.running
