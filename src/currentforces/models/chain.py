r"""A 1D atomic chain junction with bond-length-dependent hopping.

Device sites 0..n-1 with on-site energy ``onsite`` and nearest-neighbour
hopping ``-t`` (t > 0 gives the band onsite +- 2t with the band bottom at
k = 0), between two semi-infinite chains of the same hopping, attached to
sites 0 (lead 0, "left") and n-1 (lead 1, "right").

With the hopping -t(d) of a bond of length d and dt/dd = -beta, moving atom
j by X_j along the chain changes the bond (j-1, j) by +X_j and (j, j+1) by
-X_j, so the force operator f_j = -dh/dX_j is (:eq:`eq-chain-force`)

.. math::

    f_j = -\beta\,(|j-1\rangle\langle j| + h.c.) + \beta\,(|j\rangle\langle j+1| + h.c.)

in eV/Angstrom for beta in eV/Angstrom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from ..junction import Junction
from ..leads import ChainLead

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray

__all__ = ["chain_junction", "chain_force_operators"]


def chain_junction(
    n_sites: int = 6, hopping: float = 1.0, onsite: float = 0.0, coupling: float | None = None
) -> Junction:
    """Perfect (or weakly coupled) chain junction.

    Parameters
    ----------
    n_sites : int
        Number of device sites.
    hopping : float
        t in eV; the hopping matrix element is -t (band onsite +- 2|t|).
    onsite : float
        On-site energy in eV (device and leads).
    coupling : float, optional
        t' in eV of the device-lead bonds (matrix element -t'); default t
        (a perfect chain, transmission 1 in the band).

    Returns
    -------
    Junction
    """
    n = int(n_sites)
    if n < 1:
        raise InputError(f"n_sites must be >= 1, got {n_sites!r}")
    t = float(hopping)
    tc = t if coupling is None else float(coupling)
    h = onsite * np.eye(n) - t * (np.eye(n, k=1) + np.eye(n, k=-1))
    cl = np.zeros(n)
    cr = np.zeros(n)
    cl[0] = -tc
    cr[-1] = -tc
    return Junction(h, [ChainLead(-t, cl, onsite), ChainLead(-t, cr, onsite)])


def chain_force_operators(n_sites: int, beta: float, atoms: Sequence[int] | None = None) -> list[NDArray[Any]]:
    """Force operators f_j (eV/Angstrom) for longitudinal displacements of
    the device atoms ``atoms`` (default: all but the two end sites, so every
    f_j lies inside the device, :ref:`theory-conventions`).

    Parameters
    ----------
    n_sites : int
        Number of device sites.
    beta : float
        -dt/dd in eV/Angstrom (the hopping -t(d) weakens as bonds stretch
        for beta > 0).
    atoms : sequence of int, optional
        Moving atoms; each needs both neighbours inside the device.

    Returns
    -------
    list of ndarray (n_sites, n_sites)
    """
    n = int(n_sites)
    atoms = list(range(1, n - 1)) if atoms is None else [int(a) for a in atoms]
    out = []
    for j in atoms:
        if not 1 <= j <= n - 2:
            raise InputError(f"atoms: atom {j} needs both neighbours inside the device (1 <= j <= {n - 2})")
        f = np.zeros((n, n))
        f[j - 1, j] = f[j, j - 1] = -beta
        f[j, j + 1] = f[j + 1, j] = beta
        out.append(f)
    return out
