r"""Ehrenfest, mean-force Langevin and full Langevin dynamics of one junction, side by side.

The three pictures of the seed paper's section V for the same junction,
bare springs and initial state:

* **Ehrenfest** (:class:`~currentforces.ehrenfest.EhrenfestDynamics`): the
  electrons evolve in time, the force g_s Tr[f sigma(t)] contains every
  coefficient at every amplitude, but no noise;
* **mean force** (:class:`~currentforces.dynamics.MeanForceDynamics`):
  M X'' = -(K^b + K) X + L X' with K, L frozen at X = 0 and the frequency
  ``hbar_omega`` (seed eq 14 without noise), the linearisation of the first;
* **Langevin** (:class:`~currentforces.dynamics.LangevinDynamics`): the
  same plus the force noise of :func:`~currentforces.noise_spectrum` (seed
  eq 58), which heats the modes towards the electron temperature (or
  beyond, under bias).

The bare force is F_b = -F0 - K^b X in all three, with F0 the mean force at
X = 0, so that X = 0 is the equilibrium of each.  Below the runaway
threshold the first two decay alike; above it they grow alike while the
amplitude is small (:ref:`theory-waterwheel`), and the Ehrenfest run then
shows the non-linear saturation that the linear pictures cannot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..dynamics import LangevinDynamics, MeanForceDynamics, Trajectory, tabulated_spectrum
from ..dynamics.observables import mode_energies, normal_modes
from ..errors import InputError
from ..forces import force_coefficients
from ..noise import noise_spectrum
from .atoms import EhrenfestDynamics
from .trajectory import EhrenfestTrajectory

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    from .._checks import ArrayLike, OperatorsLike, RealArray
    from ..junction import Junction

__all__ = ["Comparison", "compare_dynamics", "plot_mode_energies"]


@dataclass
class Comparison:
    """The three runs of :func:`compare_dynamics`.

    Attributes
    ----------
    ehrenfest : EhrenfestTrajectory
    mean_force, langevin : Trajectory
        The Langevin trajectories (``langevin`` None when not run).
    force_constants : ndarray (M, M)
        K^b + K^sym in eV/Angstrom^2: the springs of the mode energies.
    coefficients : ForceCoefficients
        F0, K, L at X = 0 and ``hbar_omega``.
    """

    ehrenfest: EhrenfestTrajectory
    mean_force: Trajectory
    langevin: Trajectory | None
    force_constants: np.ndarray
    coefficients: object

    def mode_energies(self) -> dict[str, RealArray]:
        """Normal-mode energies (eV) of the three runs: dict of (n_t, M) arrays (Langevin: realisation mean)."""
        masses = self.ehrenfest.masses
        out = {
            "ehrenfest": mode_energies(
                self.ehrenfest.positions[:, None, :],
                self.ehrenfest.velocities[:, None, :],
                masses,
                self.force_constants,
            )[:, 0, :],
            "mean_force": mode_energies(
                self.mean_force.positions, self.mean_force.velocities, masses, self.force_constants
            ).mean(axis=1),
        }
        if self.langevin is not None:
            out["langevin"] = mode_energies(
                self.langevin.positions, self.langevin.velocities, masses, self.force_constants
            ).mean(axis=1)
        return out


def compare_dynamics(
    junction: Junction,
    forces: OperatorsLike,
    masses: ArrayLike,
    bare_force_constants: ArrayLike,
    timestep: float,
    n_steps: int,
    *,
    hbar_omega: float = 0.0,
    positions: ArrayLike | None = None,
    velocities: ArrayLike | None = None,
    n_realizations: int = 16,
    seed: int = 0,
    record_every: int = 1,
    langevin: bool = True,
    noise_cutoff: float | None = None,
    progress: bool = False,
    bias: float = 0.0,
    temperature: float = 300.0,
    fermi_level: float = 0.0,
    spin: int = 2,
    **electrons: Any,
) -> Comparison:
    r"""Run Ehrenfest, mean-force and full Langevin dynamics of one junction.

    Parameters
    ----------
    junction : Junction
        Device at X = 0 with wide-band leads.
    forces : sequence of (N, N) arrays
        Force operators f_a in eV/Angstrom (h(X) = h_0 - sum X_a f_a).
    masses : (M,) array_like
        amu.
    bare_force_constants : (M, M) array_like
        K^b in eV/Angstrom^2.
    timestep : float
        fs, the same for the three runs.
    n_steps : int
        Number of steps.
    hbar_omega : float
        eV: the frequency at which K and L are frozen for the Langevin runs.
    positions, velocities : (M,) array_like, optional
        Initial state (Angstrom, Angstrom/fs), the same for every run and
        realisation.
    n_realizations : int
        Realisations of the full Langevin run.
    seed : int
        Noise seed.
    record_every : int
        Recording stride.
    langevin : bool
        Also run full Langevin dynamics.
    noise_cutoff : float, optional
        Largest hbar*omega (eV) of the tabulated noise spectrum (default: 4
        times the largest mode energy, at least 0.5 eV).
    progress : bool
        Progress bar of the Ehrenfest run.
    bias, temperature, fermi_level, spin
        As for :func:`~currentforces.force_coefficients`.
    **electrons
        ``rtol``, ``atol``, ``pole_rtol``, ``far`` of the electrons.

    Returns
    -------
    Comparison
    """
    fops = [np.asarray(f.toarray() if hasattr(f, "toarray") else f) for f in forces]
    kw: dict[str, Any] = dict(bias=bias, temperature=temperature, fermi_level=fermi_level, spin=spin)
    c = force_coefficients(junction, fops, hbar_omega=hbar_omega, **kw)
    kb = np.atleast_2d(np.asarray(bare_force_constants, dtype=float))
    if kb.shape != c.K.shape:
        raise InputError(f"bare_force_constants must be {c.K.shape}, got {kb.shape}")
    m = len(fops)
    x0 = np.zeros(m) if positions is None else np.asarray(positions, dtype=float)
    v0 = np.zeros(m) if velocities is None else np.asarray(velocities, dtype=float)
    eh = EhrenfestDynamics(
        junction,
        fops,
        masses,
        timestep,
        bare_force_constants=kb,
        bare_mean_force=-c.mean_force,
        positions=x0,
        velocities=v0,
        **kw,
        **electrons,
    )
    eh_traj = eh.run(n_steps, record_every=record_every, progress=progress)
    mf = MeanForceDynamics(masses, kb, timestep, K=c.K, L=c.L)
    mf.set_state(positions=x0, velocities=v0)
    mf_traj = mf.run(n_steps, record_every=record_every)
    lv_traj = None
    stiffness = kb + 0.5 * (c.K + c.K.T)
    if langevin:
        hw_modes = np.abs(normal_modes(eh_traj.masses, stiffness)[0])
        hw_max = float(noise_cutoff) if noise_cutoff is not None else max(0.5, 4.0 * float(hw_modes.max()))
        grid = np.linspace(0.0, hw_max, 21)
        table = np.array([noise_spectrum(junction, fops, w, **kw) for w in grid])
        spectrum = tabulated_spectrum(grid, table)
        lv = LangevinDynamics(
            masses, kb, timestep, K=c.K, L=c.L, spectrum=spectrum, n_realizations=n_realizations, seed=seed
        )
        lv.set_state(
            positions=np.broadcast_to(x0, (n_realizations, m)), velocities=np.broadcast_to(v0, (n_realizations, m))
        )
        lv_traj = lv.run(n_steps, record_every=record_every)
    return Comparison(eh_traj, mf_traj, lv_traj, stiffness, c)


def plot_mode_energies(
    comparisons: Comparison | Sequence[Comparison],
    path: str | os.PathLike[str] | None = None,
    labels: Sequence[str] | None = None,
) -> Any:
    """Figure of the summed mode energies against time, one panel per comparison
    (e.g. below and above the runaway threshold), the three dynamics in each.

    Parameters
    ----------
    comparisons : Comparison or sequence of Comparison
    path : str or path, optional
        Save the figure there.
    labels : sequence of str, optional
        Panel titles.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if path is not None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if isinstance(comparisons, Comparison):
        comparisons = [comparisons]
    fig, axes = plt.subplots(1, len(comparisons), figsize=(5 * len(comparisons), 3.6), squeeze=False)
    for i, (ax, comp) in enumerate(zip(axes[0], comparisons)):
        energies = comp.mode_energies()
        t = {"ehrenfest": comp.ehrenfest.time, "mean_force": comp.mean_force.time}
        if comp.langevin is not None:
            t["langevin"] = comp.langevin.time
        names = {"ehrenfest": "Ehrenfest", "mean_force": "mean force (K, L frozen)", "langevin": "Langevin"}
        for key, e in energies.items():
            ax.semilogy(t[key], e.sum(axis=1), label=names[key])
        ax.set_xlabel("time (fs)")
        ax.set_ylabel("mode energy (eV)")
        if labels is not None:
            ax.set_title(labels[i])
        ax.legend(fontsize="small")
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig
