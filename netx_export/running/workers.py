"""Samples in parallel worker processes, each running its own share one after another.

Lava's fixed-point simulator runs one network in one Python process per Lava process, in
lock step: one network keeps about one core busy. :func:`map_samples` forks ``workers``
processes, gives each a contiguous share of the batch and puts the results back in order.
Each worker builds and compiles its network once. SIGINT and SIGTERM in the parent raise
:class:`~netx_export.running.interrupts.LavaInterrupted` after every worker (and every Lava process
a worker started) has ended; Ctrl-C in a terminal reaches the workers too, and each stops
its own Lava runtime.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import time
from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from netx_export.running.interrupts import (
    STOP_TIMEOUT,
    LavaInterrupted,
    LavaRunFailed,
    descendants,
    interruptible,
    kill_and_reap,
    signals_ignored,
)

#: ``run_share(share, on_sample) -> one (samples, ...) array per layer``
RunShare = Callable[[np.ndarray, Callable[[], None]], list[np.ndarray]]
#: Cores one worker's Lava network keeps busy: its ~2 processes per layer run in lock step;
#: measured 1.6 cores for the 784-100x6-10 MLP at T = 16 (benchmarks/lava_throughput.py).
CORES_PER_WORKER = 2
#: Seconds a worker gets beyond STOP_TIMEOUT to stop its runtime before it is killed (its
#: stop_runtime waits STOP_TIMEOUT, then up to 1 s, then kills; killed early it leaks memory).
WORKER_STOP_MARGIN = 4.0
#: Seconds between checks that the workers are still alive while waiting for results.
POLL_SECONDS = 0.2


def available_cores() -> int:
    """CPU cores this process may use (its affinity mask, e.g. a container's limit).

    Returns:
        The number of cores in ``os.sched_getaffinity(0)``.

    Example:
        >>> 1 <= available_cores() <= os.cpu_count()
        True
    """
    return len(os.sched_getaffinity(0))


def default_workers() -> int:
    """One worker per :data:`CORES_PER_WORKER` available cores, at least one: more workers
    than that only make the networks' lock-step processes wait for each other (2 cores:
    1 worker 12.3 samples/s, 2 workers 10.9).

    Returns:
        The number of workers.

    Example:
        >>> default_workers() == max(1, available_cores() // 2)
        True
    """
    return max(1, available_cores() // CORES_PER_WORKER)


def resolve_workers(workers: int | None, samples: int) -> int:
    """Worker processes for ``samples`` samples: ``workers`` (default:
    :func:`default_workers`), never more than the samples; ValueError for fewer than 1.

    Args:
        workers: the workers asked for, or None.
        samples: the batch size.

    Returns:
        The workers to start (>= 1).

    Example:
        >>> resolve_workers(8, samples=3), resolve_workers(2, samples=100)
        (3, 2)
    """
    if workers is None:
        workers = default_workers()
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number >= 1 (got {workers!r})")
    return max(1, min(workers, samples))


def map_samples(run_share: RunShare, batch: np.ndarray, workers: int | None = None,
                progress: bool = False, desc: str = "Lava") -> list[np.ndarray]:
    """``run_share`` over ``batch`` (samples first) in ``workers`` processes (one: in this
    process); the per-layer results concatenated in sample order. A progress bar counts
    samples (stderr, only on a terminal, only when ``progress``).

    Args:
        run_share: ``run_share(share, on_sample)`` runs a contiguous share of the batch,
            calls ``on_sample()`` after each sample and returns one array per layer (samples
            first); it runs in forked workers when there are several.
        batch: the samples, first axis.
        workers: worker processes (None: :func:`default_workers`; capped at the samples).
        progress: show the progress bar.
        desc: the bar's label.

    Returns:
        One array per layer, all samples in batch order.

    Raises:
        LavaInterrupted: (several workers) SIGINT or SIGTERM, after every worker has ended.
        LavaRunFailed: (several workers) a worker failed or ended without its result.

    Example:
        >>> from lava.lib.dl.netx import hdf5  # Lava sets its start method before tqdm's lock
        >>> def double(share, on_sample):  # one "layer": the samples times 2
        ...     return [share * 2]
        >>> map_samples(double, np.arange(4), workers=1)  # one worker: no fork
        [array([0, 2, 4, 6])]
    """
    count = resolve_workers(workers, len(batch))
    bar = tqdm(total=len(batch), desc=desc, unit="sample", leave=False,
               disable=None if progress and len(batch) > 1 else True)
    with bar:
        if count == 1:
            return run_share(batch, lambda: bar.update(1))
        return _in_workers(run_share, np.array_split(batch, count), bar)


def _worker(run_share: RunShare, share: np.ndarray, messages, index: int) -> None:
    """Body of one forked worker: run the share, report each sample and the result."""
    try:
        result = run_share(share, lambda: messages.put(("sample", index, None)))
        messages.put(("done", index, result))
    except LavaInterrupted as interruption:
        messages.put(("interrupted", index, interruption.signum))
    except BaseException as error:  # reported to the parent, which raises it there
        reason = str(error) if isinstance(error, LavaRunFailed) else \
            f"{type(error).__name__}: {error}"
        messages.put(("error", index, reason))


def _in_workers(run_share: RunShare, shares: list[np.ndarray], bar: tqdm) -> list[np.ndarray]:
    """One forked worker per share; their results joined in share order."""
    context = multiprocessing.get_context("fork")
    messages = context.Queue()
    processes = [context.Process(target=_worker, args=(run_share, share, messages, index),
                                 name=f"lava-worker-{index}") for index, share in enumerate(shares)]
    interrupted = False
    try:
        with interruptible():
            for process in processes:
                process.start()
            results = _collect(processes, messages, bar)
    except LavaInterrupted:
        interrupted = True
        raise
    finally:
        _stop_workers(processes, interrupted)
    return [np.concatenate([results[i][layer] for i in range(len(shares))])
            for layer in range(len(results[0]))]


def _collect(processes: list, messages, bar: tqdm) -> dict[int, list[np.ndarray]]:
    """Results by worker index; :class:`LavaRunFailed` when a worker fails or ends without
    one."""
    results: dict[int, list[np.ndarray]] = {}
    ended_before: set[int] = set()  # ended at the previous poll: its result had time to come
    while len(results) < len(processes):
        try:
            kind, index, payload = messages.get(timeout=POLL_SECONDS)
        except queue.Empty:
            for index, process in enumerate(processes):
                if index in ended_before and index not in results:
                    raise LavaRunFailed(
                        f"Lava worker {index} ended (exit code {process.exitcode}) without "
                        "returning its samples; rerun with workers=1 to see its error") from None
                if process.exitcode is not None:
                    ended_before.add(index)
            continue
        if kind == "sample":
            bar.update(1)
        elif kind == "done":
            results[index] = payload
        elif kind == "interrupted":
            raise LavaInterrupted(payload)
        else:
            raise LavaRunFailed(f"Lava worker {index} failed: {payload}")
    return results


def _stop_workers(processes: list, interrupted: bool) -> None:
    """Join the workers; after an interruption or a failure, SIGTERM the live ones (each
    stops its Lava runtime), wait, then SIGKILL whatever this process started that is left."""
    live = [p for p in processes if p.pid is not None and p.exitcode is None]
    if not interrupted and not live:
        for process in processes:
            process.join()
        return
    with signals_ignored():
        for process in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT + WORKER_STOP_MARGIN
        for process in live:
            process.join(max(0.0, deadline - time.monotonic()))
        kill_and_reap(descendants())
        for process in processes:
            if process.pid is not None:
                process.join()
