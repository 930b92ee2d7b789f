"""Hot reload: follow the alias (or the deployment record) and swap models atomically.

Every ``reload_interval`` seconds the source is asked for its plan. When
the plan names other models, the new ones are loaded and warmed in a
thread, then the whole ``Routing`` is replaced in one assignment: requests
already holding the old routing finish on it, the next ones get the new.
Models no longer used are closed after a grace period, once their queues
have drained.

A model that fails to load changes nothing: the previous routing keeps
serving and ``status`` reports why (the server is not ready only if nothing
ever loaded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from loopml.core.errors import LoopmlError
from loopml.serving._config import ServeConfig
from loopml.serving._routing import Plan, Routing, Source
from loopml.serving._served import ModelKey, ServedModel, load_served

if TYPE_CHECKING:
    from loopml.tracking import Client

log = logging.getLogger("loopml.serving")
RETIRE_AFTER_SECONDS = 10.0

Loader = Callable[[ModelKey], ServedModel]


class ModelManager:
    """Holds the current routing and keeps it in step with the source."""

    def __init__(
        self,
        source: Source,
        config: ServeConfig,
        client: Client | None,
        on_batch: Callable[[int], None] | None = None,
        on_load: Callable[[str], None] | None = None,
        loader: Loader | None = None,
    ) -> None:
        self.source = source
        self.config = config
        self.routing: Routing | None = None
        self.last_error: str | None = None
        self._loader: Loader = loader or (lambda key: load_served(key, config, client, on_batch))
        self._on_load = on_load
        self._task: asyncio.Task[None] | None = None
        self._retiring: set[asyncio.Task[None]] = set()
        self._retired: list[ServedModel] = []
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        return self.routing is not None

    def status(self) -> dict[str, object]:
        """What health endpoints report: ready or not, what serves, the last load error."""
        routing = self.routing
        out: dict[str, object] = {
            "ready": routing is not None,
            "model_version": routing.primary.key.uri if routing else None,
            "path": routing.primary.path if routing else None,
            "path_reason": routing.primary.fast.reason if routing else None,
        }
        if routing is not None and routing.canary is not None:
            out["canary"] = routing.canary.key.uri
            out["canary_weight"] = routing.plan.canary_weight
        if routing is not None and routing.shadow is not None:
            out["shadow"] = routing.shadow.key.uri
        if self.last_error is not None:
            out["reason"] = self.last_error
        return out

    async def start(self) -> None:
        """First load (the server is not ready until it succeeds), then the reload loop."""
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for task in list(self._retiring):
            task.cancel()
        routing, self.routing = self.routing, None
        models = list(routing.models.values()) if routing is not None else []
        for model in models + self._retired:
            await model.close()
        self._retired.clear()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.reload_interval)
            await self.refresh()

    async def refresh(self) -> bool:
        """Re-read the plan; swap if it changed. True when a new routing went live."""
        async with self._lock:
            try:
                plan = await asyncio.to_thread(self.source.plan)
            except Exception as exc:
                self._failed(f"Cannot resolve what to serve: {_describe(exc)}")
                return False
            current = self.routing
            if current is not None and _same(current.plan, plan):
                if plan.revision != current.plan.revision:
                    self.routing = replace(current, plan=plan)
                self.last_error = None
                return False
            try:
                routing = await self._load(plan, current)
            except Exception as exc:
                self._failed(f"Cannot load {_describe(exc)}")
                return False
            self.routing = routing  # the swap: one assignment
            self.last_error = None
            log.info("Serving %s", _summary(plan))
            if current is not None:
                stale = [m for k, m in current.models.items() if k not in routing.models]
                if stale:
                    self._retire(stale)
            return True

    async def _load(self, plan: Plan, current: Routing | None) -> Routing:
        models: dict[ModelKey, ServedModel] = {}
        for key in plan.models():
            if key in models:
                continue
            existing = current.models.get(key) if current is not None else None
            if existing is not None:
                models[key] = existing
                continue
            try:
                models[key] = await asyncio.to_thread(self._loader, key)
            except Exception as exc:
                if self._on_load:
                    self._on_load("failed")
                for loaded in models.values():  # loaded for this plan only
                    if current is None or loaded not in current.models.values():
                        await loaded.close()
                raise _LoadFailed(f"{key.uri}: {_describe(exc)}") from exc
            if self._on_load:
                self._on_load("loaded")
        for model in models.values():
            model.batcher.start()
        return Routing(
            plan,
            models[plan.primary],
            models[plan.canary] if plan.canary is not None else None,
            models[plan.shadow] if plan.shadow is not None else None,
            models,
        )

    def _retire(self, models: list[ServedModel]) -> None:
        self._retired.extend(models)

        async def later() -> None:
            await asyncio.sleep(RETIRE_AFTER_SECONDS)  # requests holding them finish first
            for model in models:
                self._retired.remove(model)
                await model.close()

        task = asyncio.get_running_loop().create_task(later())
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    def _failed(self, message: str) -> None:
        if message != self.last_error:
            if self.routing is not None:
                log.error("%s. Still serving %s.", message, self.routing.primary.key.uri)
            else:
                log.error("%s. Nothing is served yet; retrying.", message)
        self.last_error = message


class _LoadFailed(Exception):
    def __str__(self) -> str:
        return str(self.args[0])


def _same(a: Plan, b: Plan) -> bool:
    return (a.primary, a.canary, a.canary_weight, a.shadow) == (
        b.primary,
        b.canary,
        b.canary_weight,
        b.shadow,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, LoopmlError):
        return exc.message
    if isinstance(exc, _LoadFailed):
        return str(exc)
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _summary(plan: Plan) -> str:
    parts = [plan.primary.uri]
    if plan.canary is not None:
        parts.append(f"canary {plan.canary.uri} at {plan.canary_weight:.0%}")
    if plan.shadow is not None:
        parts.append(f"shadow {plan.shadow.uri}")
    return ", ".join(parts)
