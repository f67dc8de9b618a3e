r"""Junctions from sisl Hamiltonians in the TBtrans layout.

TBtrans conventions (sisl/TBtrans manual, "Electrodes")::

    device:  [ elec copy | ... scattering region ... | elec copy ]
    left electrode  semi-infinite along -C ("-A3" in fdf), elec-pos = first atom
    right electrode semi-infinite along +C ("+A3"),       elec-pos = end

The device geometry contains one copy of each electrode's unit cell at
``elec-pos``; the electrode Hamiltonian is periodic along its
semi-infinite direction (``nsc = 3`` there) and its self-energy acts on the
device orbitals of that copy.  In the Lead geometry of this package
(:ref:`theory-periodic-lead`) the copy is the device's edge and the lead's cell 1 is the
first cell outside the device:

* ``onsite`` = H_00 of the electrode,
* ``hopping`` = H_{0, s} with s = +1 or -1 the supercell offset along the
  semi-infinite direction (towards the far end),
* ``coupling`` = H_{0, s} placed on the device rows of the electrode copy.

Only orthogonal, spin-unpolarised Hamiltonians without transverse
periodicity (k-point sampling) are accepted; energies in eV, lengths in
Angstrom (sisl's own units).

For couplings by finite differences (:mod:`currentforces.couplings`),
:func:`sisl_matrices` turns a sisl Hamiltonian (orthogonal or not) into the
H or (H, S) that :func:`currentforces.finite_difference_couplings` and
:func:`currentforces.couplings_from_displacements` take, and
:func:`sisl_builder` wraps a function ``positions -> sisl.Hamiltonian``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._checks import check_positive
from ..errors import InputError
from ..junction import Junction
from ..leads import Lead
from ._selfenergy import SelfEnergyLead

__all__ = ["from_sisl", "electrode_blocks", "sisl_matrices", "sisl_builder"]

_DIRS = {"A": 0, "B": 1, "C": 2, "A1": 0, "A2": 1, "A3": 2}


def _semi_inf(value, name):
    s = str(value).strip().upper()
    if len(s) < 2 or s[0] not in "+-" or s[1:] not in _DIRS:
        raise InputError(
            f"{name}: semi-infinite direction must be one of +A, -A, +B, -B, +C, -C (or +A1 ... -A3), got {value!r}"
        )
    return (1 if s[0] == "+" else -1), _DIRS[s[1:]]


def _check_hamiltonian(name, h):
    if not hasattr(h, "geometry") or not hasattr(h, "tocsr"):
        raise InputError(f"{name} must be a sisl.Hamiltonian, got {type(h).__name__}")
    if not h.orthogonal:
        raise InputError(f"{name}: only orthogonal Hamiltonians (no overlap matrix) are supported")
    spin = getattr(h, "spin", None)
    if spin is not None and not getattr(spin, "is_unpolarized", True):
        raise InputError(f"{name}: only spin-unpolarised Hamiltonians are supported (use spin=2 in the forces)")


def electrode_blocks(electrode, semi_inf):
    """Onsite H_00 and far-end hopping H_{0,s} (eV) of a sisl electrode.

    Parameters
    ----------
    electrode : sisl.Hamiltonian
        Periodic along the semi-infinite direction with nsc = 3 there, not
        periodic (nsc = 1) along the other two.
    semi_inf : str
        ``"+C"``, ``"-A3"``, ...

    Returns
    -------
    h00, h01 : (n, n) ndarray
    """
    _check_hamiltonian("electrode", electrode)
    sign, ax = _semi_inf(semi_inf, "semi_inf")
    nsc = np.asarray(electrode.geometry.lattice.nsc)
    if nsc[ax] != 3:
        raise InputError(
            f"electrode: nsc along the semi-infinite direction must be 3 "
            f"(nearest-cell couplings only), got nsc = {nsc.tolist()}"
        )
    if any(nsc[i] != 1 for i in range(3) if i != ax):
        raise InputError(
            f"electrode: transverse periodicity (nsc = {nsc.tolist()}) needs k-point sampling, "
            "which is not supported; use nsc = 1 across the transport direction"
        )
    no = electrode.no
    csr = electrode.tocsr(0).toarray()
    offset = [0, 0, 0]
    isc0 = electrode.geometry.lattice.sc_index(offset)
    offset[ax] = sign
    isc = electrode.geometry.lattice.sc_index(offset)
    h00 = csr[:, isc0 * no : (isc0 + 1) * no]
    h01 = csr[:, isc * no : (isc + 1) * no]
    return h00, h01


def from_sisl(hamiltonian, electrodes, self_energy="decimation", eta=None, check=True):
    """A :class:`~currentforces.Junction` from sisl Hamiltonians (TBtrans layout).

    Parameters
    ----------
    hamiltonian : sisl.Hamiltonian
        Device Hamiltonian (eV), not periodic (nsc = 1 in every direction),
        containing one copy of each electrode unit cell.
    electrodes : sequence of tuple
        One ``(electrode, semi_inf)`` or ``(electrode, semi_inf, elec_pos)``
        per lead, in lead order (lead 0 is mu_0 = E_F + V/2).
        ``electrode`` is a periodic sisl.Hamiltonian, ``semi_inf`` its
        semi-infinite direction (``"-C"``, ``"+A3"``, ...) and ``elec_pos``
        the 0-based device atom where its copy starts (default: the first
        device atom for a ``-`` direction, the last atoms for ``+``).
    self_energy : {"decimation", "sisl"}
        ``"decimation"``: this package's :class:`~currentforces.Lead` from
        the electrode blocks (exact, analytic dSigma/dE).  ``"sisl"``:
        sisl's ``RecursiveSI`` self-energies (with its ``eta`` broadening),
        for cross-checks (sisl 0.20 does not return at some exactly
        symmetric points, e.g. E = 0 in a zero-onsite chain with small eta).
    eta : float, optional
        Broadening in eV for ``"sisl"`` (default 1e-8 eV) or for
        :class:`~currentforces.Lead` (default its own).
    check : bool
        Warn when the device block of an electrode copy differs from the
        electrode's H_00 by more than 1e-6 eV (TBtrans does the same check).

    Returns
    -------
    Junction
    """
    _check_hamiltonian("hamiltonian", hamiltonian)
    if eta is not None:
        eta = check_positive("eta", eta, "eV")
    if self_energy not in ("decimation", "sisl"):
        raise InputError(f"self_energy must be 'decimation' or 'sisl', got {self_energy!r}")
    geom = hamiltonian.geometry
    nsc = np.asarray(geom.lattice.nsc)
    if np.any(nsc != 1):
        raise InputError(f"hamiltonian: the device must not be periodic (nsc = {nsc.tolist()}, expected [1, 1, 1])")
    h = np.asarray(hamiltonian.tocsr(0).toarray())
    n = h.shape[0]
    if not electrodes:
        raise InputError("electrodes: give at least one (electrode, semi_inf) pair")
    leads = []
    for i, spec in enumerate(electrodes):
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise InputError(f"electrodes[{i}] must be (electrode, semi_inf) or (electrode, semi_inf, elec_pos)")
        elec, semi = spec[0], spec[1]
        sign, ax = _semi_inf(semi, f"electrodes[{i}]")
        h00, h01 = electrode_blocks(elec, semi)
        na = elec.geometry.na
        pos = spec[2] if len(spec) == 3 else (0 if sign < 0 else geom.na - na)
        if not isinstance(pos, (int, np.integer)) or not 0 <= pos <= geom.na - na:
            raise InputError(f"electrodes[{i}]: elec_pos must be an atom index in [0, {geom.na - na}], got {pos!r}")
        rows = np.asarray(geom.a2o(np.arange(pos, pos + na), all=True), dtype=int)
        if rows.size != h00.shape[0]:
            raise InputError(
                f"electrodes[{i}]: the electrode has {h00.shape[0]} orbitals but its device copy has {rows.size}"
            )
        if check:
            dev = np.max(np.abs(h[np.ix_(rows, rows)] - h00))
            if dev > 1e-6:
                warnings.warn(
                    f"electrodes[{i}]: device copy differs from the electrode H_00 by {dev:.3g} eV", stacklevel=2
                )
        coupling = np.zeros((n, h00.shape[0]), dtype=complex)
        coupling[rows, :] = h01
        lead = Lead(h00, h01, coupling, eta=eta if self_energy == "decimation" else None)
        if self_energy == "sisl":
            import sisl

            direction = ("+" if sign > 0 else "-") + "ABC"[ax]
            se = sisl.RecursiveSI(elec, direction, eta=1e-8 if eta is None else float(eta))
            # sisl gives the self-energy of the surface cell on the electrode copy
            lead = SelfEnergyLead(
                lambda e, se=se: se.self_energy(e), rows, n, band_edges=lead.band_edges, fallback=lead, real_only=False
            )
        leads.append(lead)
    return Junction(h, leads)


def sisl_matrices(hamiltonian, k=None):
    """H, or (H, S) for a non-orthogonal basis, of a sisl Hamiltonian as scipy.sparse CSR.

    Parameters
    ----------
    hamiltonian : sisl.Hamiltonian
        Spin-unpolarised; energies in eV.
    k : sequence of 3 float, optional
        Without it the Hamiltonian must not be periodic (nsc = 1 in every
        direction) and H is its only cell.  With it, the Bloch matrices
        H(k) and S(k) (k in reduced coordinates; ``(0, 0, 0)`` is the Gamma
        point that Inelastica's couplings use for a periodic cell).

    Returns
    -------
    scipy.sparse.csr_matrix or tuple
        H (eV), or (H, S) when ``hamiltonian`` is non-orthogonal: the return
        value that ``build`` of :func:`currentforces.finite_difference_couplings`
        must have.
    """
    if not hasattr(hamiltonian, "geometry") or not hasattr(hamiltonian, "tocsr"):
        raise InputError(f"hamiltonian must be a sisl.Hamiltonian, got {type(hamiltonian).__name__}")
    spin = getattr(hamiltonian, "spin", None)
    if spin is not None and not getattr(spin, "is_unpolarized", True):
        raise InputError("hamiltonian: only spin-unpolarised Hamiltonians are supported (use spin=2 in the forces)")
    orthogonal = bool(hamiltonian.orthogonal)
    if k is None:
        nsc = np.asarray(hamiltonian.geometry.lattice.nsc)
        if np.any(nsc != 1):
            raise InputError(
                f"hamiltonian is periodic (nsc = {nsc.tolist()}): pass k, e.g. k=(0, 0, 0) for the "
                "Gamma point, or build a non-periodic device (nsc = [1, 1, 1])"
            )
        h = hamiltonian.tocsr(0)
        s = None if orthogonal else hamiltonian.tocsr(hamiltonian.S_idx)
    else:
        kk = np.asarray(k, dtype=float)
        if kk.shape != (3,) or not np.all(np.isfinite(kk)):
            raise InputError(f"k must be 3 finite reduced coordinates, got {k!r}")
        h = hamiltonian.Hk(kk, format="csr")
        s = None if orthogonal else hamiltonian.Sk(kk, format="csr")
    h = h.tocsr()
    return h if s is None else (h, s.tocsr())


def sisl_builder(make, k=None):
    """``build(positions)`` for :func:`currentforces.finite_difference_couplings` from a sisl source.

    Parameters
    ----------
    make : callable
        ``make(positions)`` -> sisl.Hamiltonian of the device with its atoms
        at ``positions`` ((n_atoms, 3), Angstrom), the same orbitals in the
        same order at every geometry.
    k : sequence of 3 float, optional
        As for :func:`sisl_matrices`.

    Returns
    -------
    callable
        ``build(positions)`` -> H or (H, S) as scipy.sparse CSR matrices.
    """
    if not callable(make):
        raise InputError(f"make must be a callable positions -> sisl.Hamiltonian, got {type(make).__name__}")

    def build(positions):
        return sisl_matrices(make(positions), k=k)

    return build
