r"""Weighted sets of junctions whose results are summed: spin channels and k-points.

One mechanism serves two kinds of electronic structure:

* **Collinear spin.**  A spin-polarised Hamiltonian is two independent
  junctions, one per spin channel, each holding one electron per orbital
  state (spin degeneracy g_s = 1); every result is the sum over the
  channels (:func:`spin_channels`).  A non-collinear or spin-orbit
  Hamiltonian (2N x 2N, spin in the orbital basis) is one junction with
  g_s = 1: a set of one member with ``spin=1``.
* **Transverse k-points.**  A device periodic across the transport
  direction is a family of Bloch junctions H(k), one per transverse k; the
  results per transverse cell are the weighted sums over a k-grid
  (:class:`currentforces.kpoints.KPointJunction`).

The combination rule (:ref:`theory-junction-sets`, :eq:`eq-junction-set`):

.. math:: Q = \sum_i w_i\, Q_i ,

with Q_i the result of member i at the spin degeneracy of the set.  A member
marked *folded* also stands for its time-reversed partner (a k-point
together with -k); its weight counts both, and Q_i is the mean of the
member's result and its partner's.  When the partner's result follows
exactly from the member's own (``exact``) it is taken from there (``mirror``),
otherwise the partner junction is built and evaluated
(:meth:`JunctionSet.partner`).

Every member is evaluated by the same serial code through
:func:`currentforces.parallel.parallel_map` (``backend`` and ``workers`` of
the set), so that a k-grid parallelises over k.

:meth:`JunctionSet.transmission`, :meth:`JunctionSet.current` and
:meth:`JunctionSet.density_matrix` mirror those of
:class:`~currentforces.Junction`; :func:`currentforces.force_coefficients` and
:func:`currentforces.noise_spectrum` accept a set in place of a junction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ._checks import check_spin
from .errors import InputError
from .junction import Junction
from .parallel import BACKENDS, parallel_map

if TYPE_CHECKING:
    from ._checks import ArrayLike

__all__ = ["JunctionSet", "spin_channels", "resolve_spin", "operators_for_one"]


def resolve_spin(junction: Junction | JunctionSet, spin: float | None) -> int:
    """The spin degeneracy to use for ``junction`` (a Junction or a set) given the caller's ``spin``.

    ``None`` means 2 for a :class:`~currentforces.Junction` (spin-degenerate
    electrons) and the set's own degeneracy for a :class:`JunctionSet` whose
    members carry spin in their basis or are spin channels (``spin=1``).
    A value that contradicts the set's own raises InputError.
    """
    own = getattr(junction, "spin", None) if isinstance(junction, JunctionSet) else None
    if spin is None:
        return 2 if own is None else int(own)
    g = check_spin(spin)
    if own is not None and g != own:
        raise InputError(
            f"spin: this junction set's members each carry spin degeneracy {own} (spin channels or a "
            f"Hamiltonian with spin in its basis), got spin={g}; leave spin unset"
        )
    return g


def operators_for_one(forces: Any, what: str) -> Any:
    """``forces`` for one Junction: operators, not the per-member callable a set takes."""
    if callable(forces):
        raise InputError(
            f"forces: a callable (operators per k-point or spin channel) goes with a JunctionSet; {what} got "
            "one Junction, which takes the operators themselves"
        )
    return forces


def _apply(item, func, kwargs):
    """func(junction, [forces,] **kwargs, **extra) for one (junction, forces, extra) item (picklable)."""
    junction, forces, extra = item
    if forces is None:
        return func(junction, **kwargs, **extra)
    return func(junction, forces, **kwargs, **extra)


def _sum(results, weights):
    out = weights[0] * np.asarray(results[0])
    for w, r in zip(weights[1:], results[1:]):
        out = out + w * np.asarray(r)
    return out


class JunctionSet:
    r"""Junctions whose results are summed with weights (:eq:`eq-junction-set`).

    Parameters
    ----------
    junctions : sequence of Junction or JunctionSet
        The members: spin channels, k-points, or sets of these (a set of
        spin channels each a k-point set).  All have the same number of
        leads.
    weights : sequence of float, optional
        w_i, finite and positive (default 1 each: spin channels).
    labels : sequence of str, optional
        Names of the members, for ``set[label]`` (default "0", "1", ...).
    keys : sequence, optional
        What a callable ``forces`` receives for each member (default the
        labels; a k-point set passes k).
    spin : {None, 1, 2}
        The spin degeneracy each member is computed with.  ``None`` (k-points
        of a spin-degenerate Hamiltonian): the caller's ``spin`` (default
        2).  ``1``: spin channels, or members with spin in their basis; a
        caller's spin other than 1 raises InputError.
    folded : sequence of bool, optional
        Member i also stands for its time-reversed partner (the weight
        counts both).  Then :meth:`partner` must give the partner.
    backend, workers
        How members are evaluated (:func:`currentforces.parallel.parallel_map`):
        ``"serial"`` (default), ``"threads"``, ``"processes"`` or a Dask
        client.

    Examples
    --------
    Two spin channels of a one-site junction, each a spinless run:

    >>> import numpy as np
    >>> from currentforces import Junction, WideBandLead
    >>> from currentforces.junctionset import spin_channels
    >>> def dot(e):
    ...     return Junction([[e]], [WideBandLead([[0.5]]), WideBandLead([[0.5]])])
    >>> s = spin_channels(dot(0.1), dot(-0.1))
    >>> bool(np.isclose(s.transmission(0.0), 2 * dot(0.1).transmission(0.0)))
    True
    """

    def __init__(
        self,
        junctions: Sequence[Junction | JunctionSet],
        weights: ArrayLike | None = None,
        labels: Sequence[Any] | None = None,
        keys: Sequence[Any] | None = None,
        spin: int | None = None,
        folded: ArrayLike | None = None,
        backend: Any = "serial",
        workers: int | None = None,
    ) -> None:
        members = list(junctions)
        if not members:
            raise InputError("junctions: a junction set needs at least one member")
        for i, j in enumerate(members):
            if not isinstance(j, (Junction, JunctionSet)):
                raise InputError(f"junctions[{i}] must be a Junction or a JunctionSet, got {type(j).__name__}")
        n_leads = {j.n_leads for j in members}
        if len(n_leads) > 1:
            raise InputError(f"junctions: the members have different numbers of leads {sorted(n_leads)}")
        n = len(members)
        self.members = members
        self.weights = self._vector("weights", weights, n, 1.0)
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights <= 0):
            raise InputError(f"weights must be finite and positive, got {self.weights.tolist()}")
        self.labels = [str(x) for x in (range(n) if labels is None else labels)]
        if len(self.labels) != n or len(set(self.labels)) != n:
            raise InputError(f"labels: need {n} distinct labels, got {labels!r}")
        self.keys = list(self.labels if keys is None else keys)
        if len(self.keys) != n:
            raise InputError(f"keys: need one per member ({n}), got {len(self.keys)}")
        self.spin = None if spin is None else check_spin(spin)
        self.folded = np.zeros(n, bool) if folded is None else np.asarray(folded, dtype=bool).reshape(-1)
        if self.folded.shape != (n,):
            raise InputError(f"folded: need one flag per member ({n}), got shape {self.folded.shape}")
        if not (isinstance(backend, str) and backend in BACKENDS) and not hasattr(backend, "submit"):
            raise InputError(f"backend must be one of {BACKENDS} or a dask.distributed Client, got {backend!r}")
        self.backend = backend
        self.workers = workers
        self.n_leads: int = int(members[0].n_leads)
        self.size: int = int(members[0].size)

    @staticmethod
    def _vector(name, value, n, default):
        if value is None:
            return np.full(n, default)
        v = np.asarray(value, dtype=float).reshape(-1) if np.ndim(value) else np.array([])
        if v.shape != (n,):
            raise InputError(f"{name}: need one value per member ({n}), got {value!r}")
        return v

    def __len__(self):
        return len(self.members)

    def __getitem__(self, label):
        """The member with this label (or index)."""
        if isinstance(label, (int, np.integer)):
            return self.members[label]
        try:
            return self.members[self.labels.index(str(label))]
        except ValueError:
            raise KeyError(f"no member labelled {label!r}; labels are {self.labels}") from None

    def __repr__(self):
        spin = "" if self.spin is None else f", spin={self.spin}"
        return f"{type(self).__name__}(members={len(self)}, folded={int(self.folded.sum())}{spin})"

    @property
    def energy_scale(self) -> float:
        """The largest energy scale (eV) of the members."""
        return max(float(m.energy_scale) for m in self.members)

    def chemical_potentials(
        self, bias: float = 0.0, fermi_level: float = 0.0, chemical_potentials: ArrayLike | None = None
    ) -> np.ndarray:
        """Lead chemical potentials (eV), as :meth:`Junction.chemical_potentials`."""
        return self.members[0].chemical_potentials(bias, fermi_level, chemical_potentials)

    def partner(self, index: int) -> tuple[Junction | JunctionSet, Any]:
        """The time-reversed partner of folded member ``index``: (junction, key).

        A set with folded members that cannot build their partners raises
        InputError here; :class:`~currentforces.kpoints.KPointJunction` builds
        the junction at -k.
        """
        raise InputError(
            f"{type(self).__name__}: member {self.labels[index]!r} is folded with its time-reversed partner, "
            "which this set cannot build; the quantity asked for does not follow from the member alone"
        )

    # -------------------------------------------------------------- the engine
    def _forces_for(self, forces, key):
        if forces is None:
            return None
        return forces(key) if callable(forces) else forces

    def resolved(
        self,
        func: Callable[..., Any],
        forces: Any = None,
        exact: bool = True,
        mirror: Callable[..., Any] | None = None,
        per_member: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> list[Any]:
        """Per-member results Q_i of ``func`` (each folded member averaged with its partner).

        Parameters
        ----------
        func : callable
            ``func(junction, [forces,] **kwargs)``, e.g.
            :func:`currentforces.force_coefficients`, or a Junction method
            taken from the class (``Junction.transmission``).
        forces : sequence or callable, optional
            Operators passed to ``func`` after the junction: the same for
            every member, or ``forces(key)`` per member (``key`` = k for a
            k-point set, -k for a partner).
        exact : bool
            Whether ``mirror`` gives the partner's result exactly.
        mirror : callable, optional
            ``mirror(result, junction, forces)`` -> the partner's result
            from the member's (identity if omitted).
        per_member : dict, optional
            Further keyword arguments of ``func`` resolved per member like
            ``forces`` (a value, or a callable of the key); None values are
            left out.
        **kwargs
            Passed to ``func``; ``spin`` is resolved against the set's own.

        Returns
        -------
        list
            Q_i in member order; the set's result is sum_i w_i Q_i.
        """
        kwargs["spin"] = resolve_spin(self, kwargs.get("spin"))
        per_member = {name: v for name, v in (per_member or {}).items() if v is not None}

        def item(junction, key):
            extra = {name: self._forces_for(v, key) for name, v in per_member.items()}
            return junction, self._forces_for(forces, key), extra

        items = [item(m, k) for m, k in zip(self.members, self.keys)]
        need = [int(i) for i in np.flatnonzero(self.folded) if not exact]
        extra = [item(*self.partner(i)) for i in need]
        task = partial(_apply, func=func, kwargs=kwargs)
        results = parallel_map(task, items + extra, backend=self.backend, workers=self.workers)
        own, theirs = results[: len(items)], dict(zip(need, results[len(items) :]))
        out = []
        for i, r in enumerate(own):
            if not self.folded[i]:
                out.append(r)
                continue
            p = theirs[i] if i in theirs else (r if mirror is None else mirror(r, *items[i][:2]))
            out.append(_mean(r, p))
        return out

    def combine(self, results: Sequence[Any], combine: Callable[..., Any] | None = None) -> Any:
        """sum_i w_i Q_i of per-member results (``combine(results, weights)`` for a non-array type)."""
        if combine is not None:
            return combine(results, self.weights)
        return _sum(results, self.weights)

    def evaluate(
        self,
        func: Callable[..., Any],
        forces: Any = None,
        exact: bool = True,
        mirror: Callable[..., Any] | None = None,
        combine: Callable[..., Any] | None = None,
        per_member: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """The set's result sum_i w_i Q_i (:eq:`eq-junction-set`); arguments as :meth:`resolved`."""
        return self.combine(self.resolved(func, forces, exact, mirror, per_member, **kwargs), combine)

    # ------------------------------------------------------- Junction's methods
    def _biased(self, bias, fermi_level, chemical_potentials):
        mus = self.chemical_potentials(bias, fermi_level, chemical_potentials)
        return len(mus) > 1 and float(np.ptp(mus)) > 0

    def _resolved_state(self, func, exact, mirror, bias, temperature, fermi_level, spin, chemical_potentials, **kwargs):
        """:meth:`resolved` of ``func(junction, **kwargs)`` at the electrodes' state (bias, temperature, ...)."""
        return self.resolved(
            func,
            None,
            exact,
            mirror,
            bias=bias,
            temperature=temperature,
            fermi_level=fermi_level,
            spin=spin,
            chemical_potentials=chemical_potentials,
            **kwargs,
        )

    def transmission(self, energy: ArrayLike, source: int = 0, drain: int = 1, resolved: bool = False) -> Any:
        r"""Weighted transmission sum_i w_i T_i(E) (dimensionless; per transverse cell for k-points).

        Under time reversal T_sd(-k) = T_ds(k) (G^r(-k) = G^r(k)^T): a
        folded member adds T_ds at the same k, equal to T_sd for two leads.
        ``resolved=True`` returns the per-member values, shape
        ``(len(set),) + energy.shape``.
        """

        def mirror(t, junction, _):
            return t if self.n_leads == 2 else _transmission(junction, energy, drain, source)

        parts = self.resolved(_transmission_spin, None, True, mirror, energy=energy, source=source, drain=drain)
        return np.asarray(parts) if resolved else self.combine(parts)

    def current(
        self,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: float | None = None,
        chemical_potentials: ArrayLike | None = None,
        lead: int = 0,
        **kwargs: Any,
    ) -> float:
        """Current in ampere, sum_i w_i I_i; arguments as :meth:`Junction.current` (``spin``: see the class).

        Exact under time reversal for two leads (T_01 = T_10 at every k); with
        more leads a folded member's partner is evaluated.
        """
        state = (bias, temperature, fermi_level, spin, chemical_potentials)
        out = self._resolved_state(_current, self.n_leads == 2, None, *state, lead=lead, **kwargs)
        return float(self.combine(out))

    def density_matrix(
        self,
        bias: float = 0.0,
        temperature: float = 300.0,
        fermi_level: float = 0.0,
        spin: float | None = None,
        chemical_potentials: ArrayLike | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        r"""Density matrix sum_i w_i rho_i (N, N); for k-points the home-cell block rho_{R=0}.

        At zero bias rho(-k) = rho(k)^* (the equilibrium density matrix is a
        function of H(-k) = H(k)^*); under bias the partial spectral
        functions do not map onto each other (A_l(-k) = [G^dagger Gamma_l
        G]^T(k), the time-reversed, outgoing states) and the partner -k is
        evaluated.
        """
        biased = self._biased(bias, fermi_level, chemical_potentials)
        state = (bias, temperature, fermi_level, spin, chemical_potentials)
        out = self._resolved_state(_density_matrix, not biased, lambda r, *_: np.conj(r), *state, **kwargs)
        return self.combine(out)


def _transmission(junction, energy, source, drain):
    return junction.transmission(energy, source, drain)


def _transmission_spin(junction, energy, source, drain, spin):
    # transmission carries no spin factor: the members' sum counts channels
    return junction.transmission(energy, source, drain)


def _current(junction, **kwargs):
    return junction.current(**kwargs)


def _density_matrix(junction, **kwargs):
    return junction.density_matrix(**kwargs)


def _mean(a, b):
    if hasattr(a, "mean_with"):
        return a.mean_with(b)
    return 0.5 * (np.asarray(a) + np.asarray(b))


def spin_channels(
    up: Junction | JunctionSet, down: Junction | JunctionSet, backend: Any = "serial", workers: int | None = None
) -> JunctionSet:
    """A collinear spin-polarised junction as two spin channels (g_s = 1 each, results summed).

    Parameters
    ----------
    up, down : Junction or JunctionSet
        The spin-up and spin-down junctions (the same leads and orbitals;
        each may be a k-point set).
    backend, workers
        As for :class:`JunctionSet`.

    Returns
    -------
    JunctionSet
        Labels ``"up"`` and ``"down"``, weights 1, ``spin=1``; ``set["up"]``
        is the up channel, and ``set.resolved(...)`` gives per-channel
        results.
    """
    return JunctionSet([up, down], labels=("up", "down"), spin=1, backend=backend, workers=workers)
