"""Remote mode: schedules and the step cache of a loopml server (``/api/v1/pipelines``).

``RestPipelineStore`` implements ``PipelineStore`` over the tracking client's
HTTP session (``RestTrackingStore``: one keep-alive pool, and the one seam
where httpx failures and error bodies become ``LoopmlError``s), so a
pipeline run against a server caches its steps in the server's database,
and ``loopml pipelines schedule`` writes schedules the server runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import quote

from pydantic import TypeAdapter

from loopml.store import PipelineStore, Schedule, StepCacheEntry
from loopml.tracking._rest import RestTrackingStore

_SCHEDULE = TypeAdapter(Schedule)
_SCHEDULES = TypeAdapter(list[Schedule])
_ENTRIES = TypeAdapter(list[StepCacheEntry])
SCHEDULES = "/pipelines/schedules"


class RestPipelineStore(PipelineStore):
    """The pipeline store of the loopml server that ``tracking`` talks to."""

    def __init__(self, tracking: RestTrackingStore) -> None:
        self.tracking = tracking

    def create_schedule(
        self,
        name: str,
        *,
        target: str,
        cron: str,
        params: Mapping[str, str],
        missed: str,
        executor: str,
        workdir: str,
        next_run_time: int,
    ) -> Schedule:
        # The server computes the next slot itself, by its own clock.
        payload = {
            "name": name,
            "target": target,
            "cron": cron,
            "params": dict(params),
            "missed": missed,
            "executor": executor,
            "workdir": workdir,
        }
        return _SCHEDULE.validate_python(self.tracking.call("POST", SCHEDULES, payload)["schedule"])

    def get_schedule(self, name: str) -> Schedule:
        body = self.tracking.call("GET", f"{SCHEDULES}/{quote(name, safe='')}")
        return _SCHEDULE.validate_python(body["schedule"])

    def list_schedules(self) -> list[Schedule]:
        return _SCHEDULES.validate_python(self.tracking.call("GET", SCHEDULES)["schedules"])

    def delete_schedule(self, name: str) -> None:
        self.tracking.call("DELETE", f"{SCHEDULES}/{quote(name, safe='')}")

    def lookup_step_cache(self, keys: Sequence[str]) -> dict[str, StepCacheEntry]:
        if not keys:
            return {}
        body = self.tracking.call("POST", "/pipelines/cache/lookup", {"keys": list(keys)})
        return {e.cache_key: e for e in _ENTRIES.validate_python(body["entries"])}

    def put_step_cache(self, entry: StepCacheEntry) -> None:
        payload = {"run_id": entry.run_id, "step": entry.step, "outputs": entry.outputs}
        self.tracking.call("PUT", f"/pipelines/cache/{quote(entry.cache_key, safe='')}", payload)
