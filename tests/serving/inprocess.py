"""Run a serving app in this process: its lifespan and an httpx client on its own event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette

T = TypeVar("T")


class InProcess:
    """The app started (first model loaded) on a private loop; synchronous calls into it."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._lifespan: Any = None
        self.client: httpx.AsyncClient | None = None

    def run(self, coroutine: Coroutine[Any, Any, T] | Awaitable[T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)  # type: ignore[arg-type]

    def __enter__(self) -> InProcess:
        async def enter() -> None:
            self._lifespan = self.app.router.lifespan_context(self.app)
            await self._lifespan.__aenter__()
            transport = httpx.ASGITransport(app=self.app)
            self.client = httpx.AsyncClient(transport=transport, base_url="http://serve")

        self.run(enter())
        return self

    def __exit__(self, *exc: object) -> None:
        async def leave() -> None:
            assert self.client is not None
            await self.client.aclose()
            await self._lifespan.__aexit__(None, None, None)

        try:
            self.run(leave())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        assert self.client is not None
        return self.run(self.client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def concurrently(self, requests: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
        """POST every (url, kwargs) at once; answers in the same order."""
        assert self.client is not None
        client = self.client

        async def all_at_once() -> list[httpx.Response]:
            return list(await asyncio.gather(*(client.post(u, **k) for u, k in requests)))

        return self.run(all_at_once())
