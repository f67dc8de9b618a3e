"""Free-electron jellium wire with a square cross-section (seed sec. III.B, IV.C).

A weak test scatterer ``v = C delta(r - R)`` sits at ``R = (x, y)`` inside an
infinitely long free-electron wire of square cross-section ``0 <= x, y <= S``
(hard walls) that carries a current along ``+z``.  The electron states are
(seed eq. 39)

.. math::

    \\psi_{knm}(\\mathbf r) = \\frac{e^{ikz}}{\\sqrt l}\\chi_{nm}(x, y), \\qquad
    \\chi_{nm} = \\frac 2S \\sin\\frac{n\\pi x}{S}\\sin\\frac{m\\pi y}{S}, \\qquad
    \\epsilon_{knm} = \\frac{\\hbar^2k^2}{2m} + \\epsilon_t (n^2 + m^2),

with ``epsilon_t = hbar^2 pi^2 / (2 m S^2)``.  States with ``k > 0`` are
filled from lead 1 (chemical potential ``mu_1 = E_F + eV/2``), states with
``k < 0`` from lead 2 (``mu_2 = E_F - eV/2``), so ``eV = mu_1 - mu_2`` (the
seed's ``eW``) and electrons flow along ``+z`` for ``eV > 0``.  Everything is
per spin (the seed is spinless); multiply ``L`` and the curl by ``g_s = 2``
for spin-degenerate electrons.

What is computed
----------------
* the field ``L(R)`` of seed eq. (38), directly at finite ``(hbar omega_0,
  eV, T)`` (:func:`nonconservative_field_direct`) and in its small-bias,
  small-frequency, T = 0 closed form ``L = nu(R, E_F) j(R) e_z``
  (:func:`nonconservative_field`, :eq:`eq-nu-j`);
* the curl of the non-conservative force, seed eq. (37),
  ``curl F = (2 pi m C^2 / hbar) curl L`` (:func:`curl_nonconservative_force`)
  and its dimensionless form in units of ``k_F F_w^bulk``
  (:func:`curl_nonconservative`, Figs 5 and 6);
* the vector potential of the Berry ("Lorentz") force, seed eq. (50) by
  numerical principal-value integration (:func:`vector_potential_numerical`)
  and seed eq. (51) in closed form (:func:`vector_potential`), plus the
  linear-response (``eV -> 0``) form of eq. (51).

Subbands at the Fermi energy (documented choice)
------------------------------------------------
With ``epsilon_F / epsilon_t = (2 S / lambda_F)^2`` the paper's sizes
``S = 10`` and ``20 lambda_F`` put the subbands with ``n^2 + m^2 = 400``
(resp. 1600), e.g. ``(n, m) = (12, 16)``, *exactly* at ``E_F``: their 1D
density of states ``1/k`` diverges there and ``nu(R, E_F)`` is undefined.
In the small-bias closed forms we count a subband as open only if its edge
lies **strictly** below ``E_F``, ``n^2 + m^2 < (2 S / lambda_F)^2``; an edge
within a relative ``EDGE_RTOL`` of ``E_F`` counts as "at ``E_F``" and is
excluded.  This is the limit ``E_F -> E_F - 0``, in line with the seed's
assumption that no subband edge lies inside the bias window.  The
finite-bias routines (:func:`nonconservative_field_direct`,
:func:`vector_potential`, :func:`vector_potential_numerical`) never make
this choice silently: a subband edge inside the energy range that they
integrate over raises :class:`SubbandEdgeError` naming the subband.

Layout
------
* :mod:`.subbands`: transverse states, subband edges and the edge rule
  below, mode sums, the local density of states and current density;
* :mod:`.nonconservative`: the field of eq. (38) and the curl of the
  non-conservative force, eq. (37);
* :mod:`.berry`: the vector potential of the Berry force, eqs (49)-(51).

Every public name is importable from :mod:`currentforces.models.jellium`
itself.

Units: energies eV, lengths Angstrom, time fs, mass eV fs^2/Angstrom^2
(``units.M_ELECTRON``), temperature K, bias V (``eV`` in eV), ``C`` in
eV Angstrom^3.  The dimensionless functions take lengths in units of the
Fermi wavelength ``lambda_F`` and energies in units of ``epsilon_F``.
"""

from __future__ import annotations

from . import berry, nonconservative, subbands
from .berry import *  # noqa: F403 - the public names of each part, listed in its __all__
from .nonconservative import *  # noqa: F403
from .subbands import *  # noqa: F403

__all__ = subbands.__all__ + nonconservative.__all__ + berry.__all__
