"""The non-orthogonal chain of the overlap tests: on-site e, hopping t and
nearest-neighbour overlap s, as a device and as periodic leads."""

import numpy as np

from currentforces import Junction, Lead

E0, T0, S0 = 0.1, -1.0, 0.2  # on-site, hopping (eV), nearest-neighbour overlap


def band(k, e=E0, t=T0, s=S0):
    """e(k) of the non-orthogonal chain: the root of (e + 2t cos k) - E (1 + 2s cos k)."""
    return (e + 2 * t * np.cos(k)) / (1 + 2 * s * np.cos(k))


def fermi_wavevector(mu, e=E0, t=T0, s=S0):
    """k_F in [0, pi] with e(k_F) = mu: cos k_F = (mu - e) / (2t - 2s mu)."""
    return float(np.arccos((mu - e) / (2 * t - 2 * s * mu)))


def chain_matrices(n, e=E0, t=T0, s=S0):
    h = e * np.eye(n) + t * (np.eye(n, k=1) + np.eye(n, k=-1))
    o = np.eye(n) + s * (np.eye(n, k=1) + np.eye(n, k=-1))
    return h, o


def chain_leads(n, e=E0, t=T0, s=S0):
    """Two semi-infinite non-orthogonal chains attached to sites 0 and n-1."""
    leads = []
    for site in (0, n - 1):
        c = np.zeros((n, 1))
        c[site] = t
        sc = np.zeros((n, 1))
        sc[site] = s
        leads.append(Lead([[e]], [[t]], c, onsite_overlap=[[1.0]], hopping_overlap=[[s]], coupling_overlap=sc))
    return leads


def chain_junction(n, solver, **kw):
    h, o = chain_matrices(n, **kw)
    return Junction(h, chain_leads(n, **kw), overlap=o, solver=solver)
