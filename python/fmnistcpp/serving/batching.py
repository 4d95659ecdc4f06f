"""Concurrent requests batched into one ``model.predict``, run off the event loop.

Every request handler awaits :meth:`Batcher.predict` with its rows. The rows
go into an :class:`asyncio.Queue`; one consumer task takes the first waiting
request, then every request already queued behind it (without waiting, or up
to ``max_delay`` seconds when that is set) until ``max_batch_size`` rows,
concatenates them and runs a single ``model.predict`` on a one-thread
executor. While that predict runs, new requests queue up, so under load the
next batch is large without any added delay, and with one client nothing
waits for company. Results are split back to each request's future.

The executor has exactly one thread, so predict is never called from two
threads at once (the engine's predict is not thread-safe), and the event loop
never runs C++ work: it only parses, queues and answers.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import time
from typing import Callable, Deque, List, Optional

import numpy as np

__all__ = ["Batcher", "Overloaded", "BatchStats"]


class Overloaded(RuntimeError):
    """More rows are queued than ``max_queued_rows``: the caller should answer 503."""


@dataclasses.dataclass
class BatchStats:
    requests: int = 0
    rows: int = 0
    batches: int = 0
    largest_batch_rows: int = 0
    largest_batch_requests: int = 0
    predict_seconds: float = 0.0

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class _Item:
    x: np.ndarray
    future: asyncio.Future


class Batcher:
    """Batches ``predict_fn(x) -> y`` calls from many coroutines into few.

    ``predict_fn`` receives float32 rows ``(n, ...)`` concatenated from one or
    more requests and must return ``(n, ...)`` outputs; it runs on the
    batcher's single worker thread. ``max_batch_size=1`` serves one request
    at a time (the baseline the batching is measured against); a request
    with more rows than ``max_batch_size`` is predicted alone.
    """

    def __init__(
        self,
        predict_fn: Callable[[np.ndarray], np.ndarray],
        max_batch_size: int = 256,
        max_delay: float = 0.0,
        max_queued_rows: int = 65536,
    ):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        if max_delay < 0:
            raise ValueError(f"max_delay must be >= 0 seconds, got {max_delay}")
        self._predict_fn = predict_fn
        self.max_batch_size = int(max_batch_size)
        self.max_delay = float(max_delay)
        self.max_queued_rows = int(max_queued_rows)
        self.stats = BatchStats()
        self._queue: Optional[asyncio.Queue] = None
        self._held: Deque[_Item] = collections.deque()
        self._queued_rows = 0
        self._task: Optional[asyncio.Task] = None
        self._executor: Optional[concurrent.futures.ThreadPoolExecutor] = None

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> None:
        """Starts the worker thread and the consumer task on the running loop."""
        self._queue = asyncio.Queue()
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="fmnistcpp-predict"
        )
        self._task = asyncio.create_task(self._run(), name="fmnistcpp-batcher")

    async def run_in_worker(self, fn, *args):
        """Runs ``fn(*args)`` on the predict thread (e.g. a warm-up predict)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def stop(self) -> None:
        """Fails queued requests, stops the consumer and joins the worker thread."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for item in self._drain_all():
            if not item.future.done():
                item.future.set_exception(RuntimeError("the server is shutting down"))
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    # -- requests ----------------------------------------------------------

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    async def predict(self, x: np.ndarray) -> np.ndarray:
        """``predict_fn`` of these rows, computed in a batch with whoever else is waiting."""
        if self._queue is None:
            raise RuntimeError("Batcher.start() was not awaited")
        n = len(x)
        if self._queued_rows + n > self.max_queued_rows:
            raise Overloaded(
                f"the server has {self._queued_rows} rows queued (at most "
                f"{self.max_queued_rows}); retry later"
            )
        future = asyncio.get_running_loop().create_future()
        self._queued_rows += n
        self._queue.put_nowait(_Item(x, future))
        return await future

    # -- the consumer ------------------------------------------------------

    def _drain_all(self) -> List[_Item]:
        items = list(self._held)
        self._held.clear()
        while self._queue is not None and not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items

    async def _next(self, timeout: Optional[float]) -> Optional[_Item]:
        """The next request: held over first, then queued; None if none within ``timeout``
        (0: only what is already there; None: wait as long as it takes)."""
        if self._held:
            return self._held.popleft()
        if timeout is None:
            return await self._queue.get()
        try:
            return self._queue.get_nowait()
        except asyncio.QueueEmpty:
            if timeout <= 0:
                return None
        try:
            return await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            return None

    async def _collect(self) -> List[_Item]:
        loop = asyncio.get_running_loop()
        first = await self._next(None)
        batch, rows = [first], len(first.x)
        deadline = loop.time() + self.max_delay
        while rows < self.max_batch_size:
            item = await self._next(max(0.0, deadline - loop.time()))
            if item is None:
                break
            if rows + len(item.x) > self.max_batch_size:
                self._held.appendleft(item)  # starts the next batch, keeps its turn
                break
            batch.append(item)
            rows += len(item.x)
        return batch

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            self._queued_rows -= sum(len(i.x) for i in batch)
            # a client that went away cancelled its future: do not compute for it
            batch = [i for i in batch if not i.future.done()]
            if not batch:
                continue
            x = batch[0].x if len(batch) == 1 else np.concatenate([i.x for i in batch])
            t0 = time.perf_counter()
            try:
                y = await loop.run_in_executor(self._executor, self._predict_fn, x)
            except asyncio.CancelledError:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(RuntimeError("the server is shutting down"))
                raise
            except Exception as e:  # noqa: BLE001 - every waiting request gets the error
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(e)
                continue
            finally:
                self.stats.predict_seconds += time.perf_counter() - t0
            s = self.stats
            s.batches += 1
            s.requests += len(batch)
            s.rows += len(x)
            s.largest_batch_rows = max(s.largest_batch_rows, len(x))
            s.largest_batch_requests = max(s.largest_batch_requests, len(batch))
            start = 0
            for item in batch:
                end = start + len(item.x)
                if not item.future.done():
                    item.future.set_result(y[start:end])
                start = end
