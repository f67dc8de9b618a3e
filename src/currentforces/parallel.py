r"""One map over energies, biases or geometries: serial, threads, processes or Dask.

Everything in the package that loops over independent points (energy
chunks of a spectrum, biases of a sweep) goes through :func:`parallel_map`::

    parallel_map(func, items, backend="serial")          # a plain loop
    parallel_map(func, items, backend="threads", workers=2)
    parallel_map(func, items, backend="processes", workers=2)
    parallel_map(func, items, backend=client)            # dask.distributed.Client

Results come back in the order of ``items`` and do not depend on the
backend: every item is computed by the same serial code.

BLAS threads are pinned per worker with threadpoolctl so that workers do not
oversubscribe the cores: by default each of ``workers`` local workers gets
``cpu_count // workers`` BLAS threads, and each Dask task one.  The physics
lives elsewhere (:func:`currentforces.force_coefficients`, the
:class:`~currentforces.Junction` methods); this module only distributes
calls.

Dask workers started by a nanny (``LocalCluster(processes=True)``,
``dask-worker``) get ``MALLOC_TRIM_THRESHOLD_=65536`` by default
(``distributed.nanny.pre-spawn-environ``), which turns off glibc's adaptive
mmap threshold and makes these many-small-array numerics about 40 % slower
than in a plain process; ``benchmarks/bench_sweep.py`` shows the config
that drops it.

Optional dependencies: ``threadpoolctl`` (BLAS pinning; without it the
pinning is skipped) and ``dask.distributed`` (only when a Client is passed).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_rtol, check_spin, check_temperature, renamed_keywords
from .errors import InputError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._checks import ArrayLike, OperatorsLike
    from .junction import Junction

__all__ = ["parallel_map", "energy_map", "bias_sweep", "BACKENDS"]

BACKENDS = ("serial", "threads", "processes")
"""Backend names accepted by :func:`parallel_map` (or a dask.distributed Client)."""

_DASK_ATTEMPTS = 3
"""Times a dask map is scattered and run before a cancelled task is raised
(:func:`parallel_map`)."""


def _blas_limit(n):
    """Context manager limiting BLAS/OpenMP threads to n (no-op without threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional dependency
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(n))


class _Pinned:
    """func(item, **shared) under a BLAS thread limit; picklable for workers."""

    def __init__(self, func, blas_threads, shared):
        self.func = func
        self.blas_threads = blas_threads
        self.shared = shared

    def __call__(self, item, **shared):
        with _blas_limit(self.blas_threads):
            return self.func(item, **self.shared, **shared)


# per-process state of a process-pool worker: the function and its shared
# arguments are shipped once per worker, not once per item
_WORKER: dict = {}


def _init_process(func, blas_threads, shared):
    _WORKER["task"] = _Pinned(func, blas_threads, shared)


def _run_in_process(item):
    return _WORKER["task"](item)


def _is_dask_client(backend):
    return hasattr(backend, "submit") and hasattr(backend, "gather") and hasattr(backend, "scatter")


def _check_workers(workers):
    if workers is None:
        return os.cpu_count() or 1
    if not isinstance(workers, (int, np.integer)) or workers < 1:
        raise InputError(f"workers must be a positive integer, got {workers!r}")
    return int(workers)


def parallel_map(
    func: Callable,
    items: Iterable,
    backend: Any = "serial",
    workers: int | None = None,
    blas_threads: int | None = None,
    **shared: Any,
) -> list:
    """Apply ``func(item, **shared)`` to every item, in order.

    Parameters
    ----------
    func : callable
        A function of one item (plus the ``shared`` keyword arguments).  For
        ``"processes"`` and Dask it must be picklable (a module-level
        function, a bound method of a picklable object, a ``functools.partial``).
    items : iterable
        The points: energies or energy chunks, biases, geometries.
    backend : {"serial", "threads", "processes"} or dask.distributed.Client
        ``"serial"``: a plain loop (the default).  ``"threads"``: a thread
        pool (numpy releases the GIL in its linear algebra).
        ``"processes"``: a process pool (spawned interpreters).  A Dask
        ``Client``: one task per item on its cluster, with the ``shared``
        arguments scattered to every worker once.
    workers : int, optional
        Pool size for threads/processes (default: the number of CPUs).
    blas_threads : int, optional
        BLAS threads per worker (default: cpu_count // workers for local
        pools, 1 per task on Dask).  Ignored by ``"serial"``.
    **shared
        Keyword arguments passed to every call (a junction, force
        operators): shipped once per process or Dask worker.

    Returns
    -------
    list
        ``[func(item, **shared) for item in items]``.
    """
    items = list(items)
    if isinstance(backend, str):
        if backend not in BACKENDS:
            raise InputError(f"backend must be one of {BACKENDS} or a dask.distributed Client, got {backend!r}")
        if backend == "serial" or not items:
            return [func(item, **shared) for item in items]
        workers = min(_check_workers(workers), len(items))
        cpus = os.cpu_count() or 1
        blas = int(blas_threads) if blas_threads is not None else max(1, cpus // workers)
        if backend == "threads":
            # threadpoolctl limits are process-wide: set once around the pool
            with _blas_limit(blas), ThreadPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(partial(func, **shared), items))
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded BLAS
        with ProcessPoolExecutor(
            max_workers=workers, mp_context=ctx, initializer=_init_process, initargs=(func, blas, shared)
        ) as pool:
            return list(pool.map(_run_in_process, items))
    if _is_dask_client(backend):
        if not items:
            return []
        blas = int(blas_threads) if blas_threads is not None else 1
        task = _Pinned(func, blas, {})
        for _ in range(_DASK_ATTEMPTS - 1):
            try:
                return _dask_map(backend, task, items, shared)
            except concurrent.futures.CancelledError:
                # "lost dependencies": the scheduler dropped a scattered argument
                # under the tasks (a race of dask.distributed, seen about once in
                # five runs of tests/test_parallel.py with two local worker
                # processes): scatter again and run the items again
                pass
        return _dask_map(backend, task, items, shared)  # the last attempt: a cancellation is raised
    raise InputError(f"backend must be one of {BACKENDS} or a dask.distributed Client, got {backend!r}")


def _dask_map(client, task, items, shared):
    """task(item, **shared) for every item on a dask Client, the shared
    arguments scattered to every worker; hash=False: a fresh key per call (a
    content-hashed key can collide with the release of the same data
    scattered by a previous call)."""
    scattered = {k: client.scatter(v, broadcast=True, hash=False) for k, v in shared.items()}
    return client.gather(client.map(task, items, pure=False, **scattered))


def _energy_chunk(chunk, function):
    return np.asarray(function(chunk))


def energy_map(
    func: Callable,
    energies: ArrayLike,
    chunk: int = 64,
    backend: Any = "serial",
    workers: int | None = None,
    blas_threads: int | None = None,
) -> NDArray[Any]:
    """Evaluate a batched function of energy on chunks of an energy grid.

    Parameters
    ----------
    func : callable
        ``func(e)`` for a 1-d array of energies (eV) returns an array of
        shape ``(len(e), ...)``, e.g. ``junction.transmission``.
    energies : array_like
        1-d energy grid in eV.
    chunk : int
        Energies per task: bounds the memory of one call (the Green's
        functions of one chunk) and sets the granularity of the parallelism.
    backend, workers, blas_threads
        As in :func:`parallel_map`.

    Returns
    -------
    ndarray, shape (len(energies), ...)
        The results concatenated in energy order.
    """
    e = np.asarray(energies)
    if e.ndim != 1:
        raise InputError(f"energies must be a 1-d array, got shape {e.shape}")
    if not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise InputError(f"chunk must be a positive integer, got {chunk!r}")
    pieces = [e[i : i + chunk] for i in range(0, e.size, chunk)]
    out = parallel_map(
        _energy_chunk, pieces, backend=backend, workers=workers, blas_threads=blas_threads, function=func
    )
    return np.concatenate(out, axis=0) if out else np.asarray(func(e))


def _coefficients_at(bias, junction, forces, options):
    from .forces import force_coefficients

    return force_coefficients(junction, forces, bias=bias, **options)


@renamed_keywords(frequency="hbar_omega")
def bias_sweep(
    junction: Junction,
    forces: OperatorsLike,
    biases: Iterable[float],
    backend: Any = "serial",
    workers: int | None = None,
    blas_threads: int | None = None,
    **options: Any,
) -> list:
    """Force coefficients at every bias of a sweep, in bias order.

    Calls :func:`currentforces.force_coefficients` once per bias (the same
    code as a single call, so the results do not depend on the backend).
    The bias-independent Fermi-sea part (equilibrium mean force and pole
    part of K, L at mu_0 = E_F) is computed once, here, by
    :func:`currentforces.forces.fermi_sea_part` and shipped to every call.

    Parameters
    ----------
    junction : Junction
        Dense or block-tridiagonal junction.
    forces : sequence of (N, N) arrays or scipy.sparse matrices
        Force operators f_a in eV/Angstrom.
    biases : array_like
        Biases V in volt.
    backend, workers, blas_threads
        As in :func:`parallel_map`; the junction and forces are shipped once
        per worker.
    **options
        Passed to :func:`~currentforces.force_coefficients`: ``temperature``
        (K), ``fermi_level`` (eV), ``hbar_omega`` (eV), ``spin``, ``rtol``.

    Returns
    -------
    list of ForceCoefficients
        One per bias, in the order of ``biases``.
    """
    if "bias" in options or "chemical_potentials" in options:
        raise InputError("bias_sweep: give the biases as `biases`, not `bias`/`chemical_potentials`")
    b = np.asarray(biases, dtype=float).reshape(-1)
    if not np.all(np.isfinite(b)):
        raise InputError("biases contains NaN or inf")
    # checked here, not once per bias in the workers
    for key, check in (("spin", check_spin), ("rtol", check_rtol), ("temperature", check_temperature)):
        if key in options:
            options[key] = check(options[key])
    if b.size and options.get("fermi_sea") is None:
        from .forces import fermi_sea_part

        # mu_0 = E_F at every bias of a two-lead sweep (mu = E_F +- V/2)
        shared = {k: options[k] for k in ("temperature", "fermi_level", "hbar_omega", "rtol") if k in options}
        options = dict(options, fermi_sea=fermi_sea_part(junction, forces, **shared))
    return parallel_map(
        _coefficients_at,
        b.tolist(),
        backend=backend,
        workers=workers,
        blas_threads=blas_threads,
        junction=junction,
        forces=forces,
        options=options,
    )
