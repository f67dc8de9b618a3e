"""Shared helpers of the couplings tests: geometries, analytic derivatives."""

import numpy as np

from currentforces.models.atomistic import device_hamiltonian, device_hamiltonian_derivative
from currentforces.models.tight_binding import SBandModel

STEP = 0.01
ANALYTIC_TOL = 1e-7
"""eV/Angstrom.  The Richardson value of steps h and h/2 is the five-point
stencil of spacing h/2 = 0.005 A, error (h/2)^4 |H^(5)|/30: for Harrison's
d^-2 law at d = 1.3 A that is 6e-10 * 360/d^4 / 30 * |f| ~ 3e-9 |f| with
|f| < 25 eV/A here, and less for the exponential laws."""


def crooked_chain(d, n=5, seed=3):
    """A crooked 3D chain: bonds near d, random directions."""
    rng = np.random.default_rng(seed)
    pos = [np.zeros(3)]
    for _ in range(n - 1):
        v = rng.standard_normal(3) + np.array([0, 0, 2.0])
        pos.append(pos[-1] + d * (1 + 0.05 * rng.standard_normal()) * v / np.linalg.norm(v))
    return np.array(pos)


def analytic_forces(model, pos, movable, axes=(0, 1, 2)):
    return [-device_hamiltonian_derivative(model, pos, a)[c] for a in movable for c in axes]


def cutoff_margin(model, pos):
    d = np.linalg.norm(pos[:, None] - pos[None], axis=-1)[np.triu_indices(len(pos), 1)]
    return np.min(np.abs(d - model.cutoff))


def overlap_model(p, s0=0.2, gamma=1.1, cutoff=3.6):
    """H and S of an s band with a distance-dependent overlap
    S_ij = s0 exp(-gamma d_ij), and its analytic dS/dR_a (1/Angstrom)."""
    model = SBandModel(t0=1.7, beta=0.8, d0=2.5, cutoff=cutoff)
    p = np.asarray(p, dtype=float)
    r = p[None] - p[:, None]  # r_ij = R_j - R_i
    d = np.linalg.norm(r, axis=-1)
    near = (d < cutoff) & (d > 0)
    s = np.where(near, s0 * np.exp(-gamma * np.where(d > 0, d, 1.0)), 0.0) + np.eye(len(p))
    return device_hamiltonian(model, p), s, model


def analytic_ds(p, a, gamma=1.1):
    _, s, _ = overlap_model(p)
    p = np.asarray(p, dtype=float)
    out = np.zeros((3,) + s.shape)
    for j in range(len(p)):
        if j == a or s[a, j] == 0:
            continue
        r = p[j] - p[a]
        g = -gamma * s[a, j] * (-r / np.linalg.norm(r))  # dS_aj/dR_a
        out[:, a, j] = out[:, j, a] = g
    return out
