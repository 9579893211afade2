"""Rendering a long batch of documents on every core of the machine.

ReportLab lays out and draws on one core, and that is nearly all of a batch's time: the
statements' data is read many times faster than it is drawn. A coordinator printing a
commune's thousand statements therefore waits on one core while the others idle. Here
the batch is cut into chunks, each chunk is drawn by a worker process, and the results
come back in the batch's order.

Workers are started with *spawn*, never *fork*: the caller may be the terminal app, whose
threads and open database connections must not be copied into a child. A spawned worker
costs about half a second to start (Python, ReportLab, the fonts), so a batch shorter than
``POOL_FROM`` is drawn in the calling process, as it always was.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import redirect_stderr
from itertools import chain, islice
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

CHUNK = 25  # documents a worker draws at a time: progress moves in steps of this many
POOL_FROM = 100  # below this many documents, starting workers costs more than it saves
MAX_WORKERS = 4  # beyond this, the reading and merging in the caller is the limit


def cores() -> int:
    """How many cores this process may run on (a container's limit, not the host's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Windows and macOS have no affinity call
        return os.cpu_count() or 1


def worker_count(batch: Iterable[Item], workers: int | None) -> tuple[Iterator[Item], int]:
    """The batch again, and how many worker processes should draw it: 1 (no workers, draw
    here) for a short batch or a one-core machine. Up to ``POOL_FROM`` items are read
    ahead to tell a short batch from a long one."""
    wanted = min(cores(), MAX_WORKERS) if workers is None else workers
    items = iter(batch)
    head = list(islice(items, POOL_FROM))
    again = chain(head, items)
    if wanted < 2 or len(head) < POOL_FROM:
        return again, 1
    return again, wanted


def in_pool(
    items: Iterable[Item],
    draw: Callable[[list[Item]], Result],
    workers: int,
    *,
    chunk: int | None = None,
) -> Iterator[tuple[int, Result]]:
    """``draw`` applied to consecutive chunks of ``items`` in ``workers`` processes;
    yields (chunk length, result) in the order of the items. ``draw`` must be picklable
    (a module-level function or a ``functools.partial`` of one), and so must the items.
    Chunks hold ``chunk`` items (``CHUNK`` by default).

    At most two chunks per worker are in flight, so a long batch never holds more than
    that many chunks' data or results at once. If anything fails, chunks not yet begun are
    cancelled and the failure is raised here, as the worker raised it."""
    context = multiprocessing.get_context("spawn")
    _start_resource_tracker()
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_quiet_worker)
    waiting: deque[tuple[int, Future[Result]]] = deque()
    try:
        for part in _chunks(items, chunk or CHUNK):
            waiting.append((len(part), pool.submit(draw, part)))
            if len(waiting) >= 2 * workers:
                size, future = waiting.popleft()
                yield size, future.result()
        while waiting:
            size, future = waiting.popleft()
            yield size, future.result()
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _chunks(items: Iterable[Item], size: int) -> Iterator[list[Item]]:
    it = iter(items)
    while part := list(islice(it, size)):
        yield part


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, once per process, with the real stderr.

    The tracker is handed the caller's ``sys.stderr`` when it starts. The terminal app
    replaces ``sys.stderr`` with a capture whose ``fileno()`` is -1, and starting a worker
    from the app then fails with "bad value(s) in fds_to_keep". The swap lasts only while
    the tracker starts."""
    if os.name != "posix" or sys.__stderr__ is None:
        return
    from multiprocessing import resource_tracker

    with redirect_stderr(sys.__stderr__):
        resource_tracker.ensure_running()


def _quiet_worker() -> None:
    """A worker leaves Ctrl+C to the process that started it (which cancels the batch) and
    writes nothing to the terminal: the app draws on that terminal, and a worker's failure
    travels back to the caller as its exception."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.stdout = sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
