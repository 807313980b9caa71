"""Serve the project's ASGI app (Starlette on uvicorn) while a block of code runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Route

from bot.config import Settings
from bot.metrics import healthz_route, metrics_route
from bot.services.handle import Services


@contextlib.asynccontextmanager
async def http_server(settings: Settings, routes: list[Route]) -> AsyncIterator[uvicorn.Server]:
    """Serve these routes on CAREBRIDGE_HTTP_HOST:CAREBRIDGE_HTTP_PORT until the block ends."""
    # log_config=None: uvicorn's records go through the root logger's handler (bot.logs), not handlers of its own
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=routes), host=settings.http_host, port=settings.http_port,
                                           log_level="warning", access_log=False, log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        yield server
    finally:
        server.should_exit = True
        await serving


def common_routes(services: Services) -> list[Route]:
    """Return the routes every serving process has: /healthz and /metrics."""
    return [healthz_route(), metrics_route(services.store, services.clock)]
