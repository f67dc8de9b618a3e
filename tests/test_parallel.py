"""parallel_map, energy_map and bias_sweep: every backend returns what the
serial loop returns, in the same order."""

import concurrent.futures

import numpy as np
import pytest

from currentforces import InputError, Junction, WideBandLead
from currentforces.models.chain import chain_force_operators
from currentforces.parallel import bias_sweep, energy_map, parallel_map

BIASES = [0.0, 0.2, -0.3]
OPTIONS = dict(temperature=300.0, fermi_level=0.1, rtol=1e-6)


def two_site_molecule():
    """A 4-site chain between wide-band leads (cheap, no bound states) and
    the force operators of its two inner atoms."""
    h = -1.0 * (np.eye(4, k=1) + np.eye(4, k=-1)) + np.diag([0.1, -0.2, 0.3, 0.0])
    gl = np.zeros((4, 4))
    gr = np.zeros((4, 4))
    gl[0, 0], gr[3, 3] = 0.8, 0.6
    return Junction(h, [WideBandLead(gl), WideBandLead(gr)]), chain_force_operators(4, 0.7)


def square(x, offset=0.0):
    return x * x + offset


def as_array(coefficients):
    """Every number of a list of ForceCoefficients, stacked."""
    return np.array(
        [
            np.concatenate([c.mean_force.ravel(), c.K.ravel(), c.L.ravel(), c.K_current.ravel(), c.L_current.ravel()])
            for c in coefficients
        ]
    )


@pytest.fixture(scope="module")
def serial_sweep():
    junction, forces = two_site_molecule()
    return as_array(bias_sweep(junction, forces, BIASES, **OPTIONS))


def test_parallel_map_keeps_order_on_local_backends():
    items = list(range(7))
    expected = [x * x + 1.0 for x in items]
    for backend in ("serial", "threads", "processes"):
        assert parallel_map(square, items, backend=backend, workers=2, offset=1.0) == expected
    assert parallel_map(square, [], backend="threads") == []


@pytest.mark.parametrize("backend", ["threads", "processes"])
def test_bias_sweep_local_backends_equal_serial(backend, serial_sweep):
    junction, forces = two_site_molecule()
    got = bias_sweep(junction, forces, BIASES, backend=backend, workers=2, **OPTIONS)
    assert [c.bias for c in got] == pytest.approx(BIASES)
    assert np.array_equal(as_array(got), serial_sweep)


def test_bias_sweep_on_local_dask_cluster_equals_serial(serial_sweep):
    distributed = pytest.importorskip("distributed")
    junction, forces = two_site_molecule()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        bias_sweep(junction, forces, BIASES[:2], backend=client, **OPTIONS)
        # a second sweep with the same junction right after the first one
        # (content-hashed scatter keys once raced with their release here)
        got = bias_sweep(junction, forces, BIASES, backend=client, **OPTIONS)
        spectrum = energy_map(junction.transmission, np.linspace(-1, 1, 9), chunk=4, backend=client)
    assert np.array_equal(as_array(got), serial_sweep)
    assert np.array_equal(spectrum, junction.transmission(np.linspace(-1, 1, 9)))


class _FlakyClient:
    """A stand-in for a dask Client (scatter, map, gather) whose first
    ``failures`` gathers fail as dask.distributed's do when the scheduler
    drops a scattered argument ("lost dependencies")."""

    def __init__(self, failures):
        self.failures = failures
        self.scatters = 0

    def submit(self, *args, **kwargs):  # pragma: no cover - only its presence matters
        raise NotImplementedError

    def scatter(self, value, broadcast=False, hash=True):
        self.scatters += 1
        return value

    def map(self, func, items, pure=True, **shared):
        return [func(item, **shared) for item in items]

    def gather(self, futures):
        if self.failures:
            self.failures -= 1
            raise concurrent.futures.CancelledError("lost dependencies")
        return futures


def test_dask_map_scatters_again_after_a_lost_dependency():
    # expected: the same list as the serial map, after the retries; a client
    # that keeps losing its data raises the cancellation after _DASK_ATTEMPTS
    from currentforces.parallel import _DASK_ATTEMPTS

    items = [1.0, 2.0, 3.0]
    client = _FlakyClient(failures=_DASK_ATTEMPTS - 1)
    assert parallel_map(square, items, backend=client, offset=0.5) == [square(x, 0.5) for x in items]
    assert client.scatters == _DASK_ATTEMPTS  # one scatter of the shared argument per attempt
    with pytest.raises(concurrent.futures.CancelledError):
        parallel_map(square, items, backend=_FlakyClient(failures=_DASK_ATTEMPTS), offset=0.5)


def test_energy_map_equals_one_batched_call():
    junction, _ = two_site_molecule()
    e = np.linspace(-2, 2, 23)
    for backend in ("serial", "threads"):
        assert np.array_equal(energy_map(junction.transmission, e, chunk=5, backend=backend), junction.transmission(e))


def test_bad_arguments_raise_named_errors():
    junction, forces = two_site_molecule()
    with pytest.raises(InputError, match="backend"):
        parallel_map(square, [1], backend="mpi")
    with pytest.raises(InputError, match="workers"):
        parallel_map(square, [1], backend="threads", workers=0)
    with pytest.raises(InputError, match="biases"):
        bias_sweep(junction, forces, [0.1, np.nan])
    with pytest.raises(InputError, match="bias"):
        bias_sweep(junction, forces, [0.1], bias=0.2)
    with pytest.raises(InputError, match="chunk"):
        energy_map(junction.transmission, [0.0], chunk=0)
