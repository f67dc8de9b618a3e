"""Ehrenfest, mean-force Langevin and full Langevin dynamics side by side,
below and above the waterwheel threshold (the figure docs/ehrenfest-modes.png).

Two neighbouring atoms (mass 1 amu, beta = 1 eV/Angstrom) of a four-site chain
(hopping -1 eV) between wide-band leads (Gamma = 1 eV), T = 300 K, E_F = 0.1 eV,
bare springs that make both modes hbar w = 0.05 eV; the mode analysis of
K(omega), L(omega) puts the runaway threshold near 0.07 V, between the two biases.

Usage::

    PYTHONPATH=src python examples/ehrenfest_side_by_side.py [output.png]

About ten minutes on a busy two-core machine.
"""

from __future__ import annotations

import sys

import numpy as np

from currentforces import Junction, WideBandLead, force_coefficients
from currentforces.dynamics import analyze_modes
from currentforces.ehrenfest import compare_dynamics, plot_mode_energies
from currentforces.models.chain import chain_force_operators
from currentforces.units import AMU, HBAR

N, MASS, HW = 4, 1.0, 0.05


def junction():
    h = -1.0 * (np.eye(N, k=1) + np.eye(N, k=-1))
    gl, gr = np.zeros((N, N)), np.zeros((N, N))
    gl[0, 0] = gr[-1, -1] = 1.0
    return Junction(h, [WideBandLead(gl), WideBandLead(gr)])


def main(path="ehrenfest-modes.png"):
    j = junction()
    f = chain_force_operators(N, 1.0, atoms=[1, 2])
    runs, labels = [], []
    for bias in (0.05, 1.5):
        kw = dict(bias=bias, temperature=300.0, fermi_level=0.1)
        c = force_coefficients(j, f, hbar_omega=HW, **kw)
        kb = MASS * AMU * (HW / HBAR) ** 2 * np.eye(2) - 0.5 * (c.K + c.K.T)
        modes = analyze_modes([MASS, MASS], kb, c.K, c.L)
        print(f"V = {bias} V: energy growth rate 2 max Re(lambda) = {2 * modes.max_growth_rate:.4g} /fs")
        runs.append(
            compare_dynamics(
                j,
                f,
                [MASS, MASS],
                kb,
                1.0,
                400,
                hbar_omega=HW,
                velocities=[0.003, 0.0],
                n_realizations=32,
                record_every=2,
                progress=True,
                **kw,
            )
        )
        labels.append(f"V = {bias} V ({'above' if modes.max_growth_rate > 0 else 'below'} threshold)")
    plot_mode_energies(runs, path, labels=labels)


if __name__ == "__main__":
    main(*sys.argv[1:])
