"""Serving the emulator over real HTTP with uvicorn (loopback by default)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, AsyncIterator

import uvicorn

Emulator = Any  # either family's emulator: anything with an ASGI `app`


def _config(emu: Emulator, host: str, port: int) -> uvicorn.Config:
    # No access log: query strings carry access tokens. No proxy headers: the client IP is the
    # peer's, as the IP whitelist sees it.
    return uvicorn.Config(emu.app, host=host, port=port, log_level="warning", access_log=False,
                          proxy_headers=False, server_header=False, lifespan="off")


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0: any free port), so the caller knows the port before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must be IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted connections only then, and
    # without it every answer waits ~40 ms for a delayed ACK (22 calls/s instead of ~500).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(emu: Emulator, sock: socket.socket) -> None:
    """Serve until interrupted (Ctrl-C)."""
    host, port = sock.getsockname()[:2]
    uvicorn.Server(_config(emu, host, port)).run(sockets=[sock])


@contextlib.asynccontextmanager
async def serving(emu: Emulator, host: str = "127.0.0.1", port: int = 0) -> AsyncIterator[str]:
    """Run the emulator on this event loop for the duration of the block; yields its base URL."""
    sock = bind(host, port)
    server = uvicorn.Server(_config(emu, host, sock.getsockname()[1]))
    # uvicorn would take over SIGINT/SIGTERM; the host program (a test, the app) keeps its own.
    server.capture_signals = contextlib.nullcontext  # type: ignore[method-assign]
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped the server
                raise RuntimeError("the emulator server stopped before it started")
            await asyncio.sleep(0.01)
        yield base_url(sock)
    finally:
        server.should_exit = True
        await task
        sock.close()
