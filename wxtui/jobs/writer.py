"""The journal's writer: one thread, writes in the order they were asked for, grouped.

A tag call's record and write-through cost about as much CPU as its HTTP round trip, and an
SQLite commit is a fixed cost on top: done on the event loop, they would delay every call in
flight. Here the loop hands each write over and awaits it, while the thread takes whatever has
queued up and commits it together, each write inside its own savepoint (so one write that
fails leaves the others, and a call's record still goes with its effect on the cache).
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
from typing import Any, Callable

_STOP = object()


class JournalWriter:
    def __init__(self, store: Any):
        self._store = store
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable, *args, **kwargs) -> asyncio.Future:
        """Run fn(*args, **kwargs) on the writer thread; the future holds its result."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wxtui-journal", daemon=True)
                self._thread.start()
            self._queue.put((loop, future, functools.partial(fn, *args, **kwargs)))
        return future

    def close(self) -> None:
        """Finish what was submitted, then stop the thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is None:
                return
            self._queue.put(_STOP)
        thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            batch = [item]
            stop = False
            while True:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list) -> None:
        store = self._store
        outcomes: list[tuple[bool, Any]] = []
        try:
            with store.transaction():
                for _loop, _future, write in batch:
                    try:
                        with store.transaction():
                            outcomes.append((True, write()))
                    except Exception as exc:  # this write is undone; the others stand
                        outcomes.append((False, exc))
        except Exception as exc:  # the commit itself failed: nothing of the batch is written
            outcomes = [(False, exc)] * len(batch)
        for (loop, future, _write), (ok, value) in zip(batch, outcomes):
            try:
                loop.call_soon_threadsafe(_settle, future, ok, value)
            except RuntimeError:  # the loop is closed: nobody waits for it any more
                pass


def _settle(future: asyncio.Future, ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
