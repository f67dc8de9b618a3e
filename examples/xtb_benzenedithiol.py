"""Worked example: benzene-1,4-dithiolate between two Au4 clusters with GFN2-xTB.

From the geometry to the heating curves (docs/examples/xtb_benzenedithiol.rst):

1. the extended molecule (examples/au4-bdt-au4.xyz, relaxed with GFN2-xTB,
   gold held) with wide-band leads on the outer gold atoms;
2. force operators of the molecule's atoms by finite differences of the
   self-consistent xTB Hamiltonian;
3. the bare force constants of the same molecule from tblite's ASE calculator
   and their normal modes (frequencies);
4. K(V) and L(V) at each bias: the electronic friction per mode and the runaway
   check (growth rates of the current-driven dynamics);
5. Joule heating: the effective temperature of the most strongly coupled modes
   against bias.

Run from the repository root (about 2-4 minutes on 2 cores):

    OMP_NUM_THREADS=1 python examples/xtb_benzenedithiol.py [output folder]
"""

import os
import sys
import time
import warnings

os.environ.setdefault("OMP_NUM_THREADS", "1")  # tblite's threads would spin against numpy's

import ase.io  # noqa: E402
import numpy as np  # noqa: E402

from currentforces import bare_force_constants, force_coefficients  # noqa: E402
from currentforces.adapters.xtb import xtb_calculator, xtb_junction  # noqa: E402
from currentforces.dynamics import analyze_modes  # noqa: E402
from currentforces.noise import joule_heating  # noqa: E402
from currentforces.units import AMU  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BIASES = [0.0, 0.5, 1.0]  # V: K and L (the runaway check)
HEATING_BIASES = [0.0, 0.25, 0.5, 0.75, 1.0]  # V: the heating curves (one force operator each: cheap)
TEMPERATURE = 300.0  # K, electrons
AXES = "z"  # motion along the transport axis (the ring's para axis)
N_HEATED = 3  # modes whose effective temperature is followed against bias
RTOL = 1e-6


def main(out):
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()
    atoms = ase.io.read(os.path.join(HERE, "au4-bdt-au4.xyz"))
    molecule = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s != "Au"]

    j = xtb_junction(atoms, movable=molecule, axes=AXES)
    t_couplings = time.perf_counter() - t0
    ef = j.fermi_level
    print(f"extended molecule: {len(atoms)} atoms, {j.junction.size} orbitals, E_F = {ef:.3f} eV (GFN2-xTB)")
    print(f"couplings: {len(j.forces)} coordinates, {j.source.calls} SCC runs, {t_couplings:.0f} s")

    work = atoms.copy()
    work.calc = xtb_calculator(accuracy=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shipped geometry is relaxed: no NotRelaxedWarning
        fc = bare_force_constants(work, indices=molecule)
    kb = fc.select(j.coordinates)
    masses = j.masses
    hw0, vectors = _modes(masses, kb)
    t_vib = time.perf_counter() - t0
    print(f"vibrations: {len(hw0)} modes from the xTB calculator, {t_vib - t_couplings:.0f} s")
    print("  hbar omega (meV):", " ".join(f"{1000 * w:.1f}" for w in hw0))

    coeffs = {}
    for v in BIASES:
        c = force_coefficients(j.junction, j.forces, bias=v, temperature=TEMPERATURE, fermi_level=ef, rtol=RTOL)
        coeffs[v] = (c.K, c.L)
    t_coef = time.perf_counter() - t0
    print(f"K, L at {len(BIASES)} biases: {t_coef - t_vib:.0f} s")

    # friction per mode: gamma_k = -u_k^T L^sym(0) u_k with u_k = e_k/sqrt(M) (1/fs)
    l0 = coeffs[0.0][1]
    u = vectors / np.sqrt(masses)[:, None]
    gamma = -np.einsum("ik,ij,jk->k", u, 0.5 * (l0 + l0.T), u) / AMU
    print("  electronic friction rate per mode (1/ps):", " ".join(f"{1000 * g:.3f}" for g in gamma))

    k0 = coeffs[0.0][0]
    growth, characters = [], []
    for v in BIASES:
        k, l = coeffs[v]
        analysis = analyze_modes(masses, kb, k - k0, l)
        growth.append(analysis.max_growth_rate)
        characters.append(analysis.leading_character)
    print("runaway check (largest growth rate Re lambda, 1/fs, and the leading mode's character):")
    for v, g, c in zip(BIASES, growth, characters):
        print(f"  V = {v:.2f} V: {g:+.2e}  {c}")

    # the heating of the modes the electrons damp most
    heated = sorted(np.argsort(gamma)[-N_HEATED:])
    t_eff = np.zeros((len(heated), len(HEATING_BIASES)))
    for i, k in enumerate(heated):
        f_mode = sum(u[a, k] * j.forces[a] for a in range(len(j.forces)))
        for b, v in enumerate(HEATING_BIASES):
            h = joule_heating(j.junction, f_mode, hw0[k], bias=v, temperature=TEMPERATURE, fermi_level=ef, rtol=RTOL)
            t_eff[i, b] = h.effective_temperature
    t_total = time.perf_counter() - t0
    for i, k in enumerate(heated):
        print(
            f"  mode {k} ({1000 * hw0[k]:.1f} meV): T_eff (K) "
            + " ".join(f"{t:.0f}" for t in t_eff[i])
            + f" at V = {HEATING_BIASES}"
        )
    print(f"wall time, geometry to heating curves: {t_total:.0f} s")

    _figures(out, j, ef, hw0, gamma, growth, heated, t_eff)
    np.savez(
        os.path.join(out, "xtb_benzenedithiol.npz"),
        hbar_omega=hw0,
        friction=gamma,
        growth=growth,
        biases=BIASES,
        heating_biases=HEATING_BIASES,
        heated=heated,
        effective_temperature=t_eff,
    )
    return t_total


def _modes(masses, k):
    m = 1.0 / np.sqrt(masses)
    w2, vec = np.linalg.eigh(m[:, None] * k * m[None, :])
    from currentforces.units import HBAR

    hw = HBAR * np.sign(w2) * np.sqrt(np.abs(w2) / AMU)
    return hw, vec


def _figures(out, j, ef, hw0, gamma, growth, heated, t_eff):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    e = ef + np.linspace(-2.0, 2.0, 401)
    fig, ax = plt.subplots(1, 4, figsize=(16, 3.6))
    for g in (0.1, 0.3, 1.0):
        ax[0].semilogy(e - ef, j.with_gamma(g).transmission(e), label=f"$\\gamma$ = {g} eV")
    ax[0].set_xlabel("E - E$_F$ (eV)")
    ax[0].set_ylabel("T(E)")
    ax[0].legend(fontsize=8)
    ax[0].set_title("transmission, wide-band $\\gamma$")
    ax[1].bar(1000 * hw0, 1000 * gamma, width=3.0)
    ax[1].set_xlabel("$\\hbar\\omega$ (meV)")
    ax[1].set_ylabel("friction rate (1/ps)")
    ax[1].set_title("electronic friction per mode, V = 0")
    for i, k in enumerate(heated):
        ax[2].plot(HEATING_BIASES, t_eff[i], "o-", label=f"{1000 * hw0[k]:.0f} meV")
    ax[2].set_xlabel("bias (V)")
    ax[2].set_ylabel("T$_{eff}$ (K)")
    ax[2].legend(fontsize=8)
    ax[2].set_title("Joule heating (electrons only)")
    ax[3].plot(BIASES, growth, "s-")
    ax[3].axhline(0.0, color="k", lw=0.5)
    ax[3].set_xlabel("bias (V)")
    ax[3].set_ylabel("largest Re $\\lambda$ (1/fs)")
    ax[3].set_title("runaway check")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "xtb-benzenedithiol.png"), dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "xtb-benzenedithiol-output")
