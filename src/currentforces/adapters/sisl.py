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

Spin: an unpolarised Hamiltonian gives one junction (g_s = 2 by default);
a collinear spin-polarised one gives the two spin channels
(:func:`~currentforces.junctionset.spin_channels`, g_s = 1 each), or one
channel with ``spin=0`` or ``1``; a non-collinear or spin-orbit one gives
its 2N x 2N Hamiltonian (spin in the basis, g_s = 1).  Transverse
periodicity (``nsc`` > 1 across the transport direction): ``kgrid=(n1, n2)``
samples the two lattice directions other than the transport one, in
lattice-vector order, on a Gamma-centred or Monkhorst-Pack grid
(:class:`~currentforces.kpoints.KPointJunction`; the Bloch blocks of every
electrode at k come from three k-points along its semi-infinite direction,
exact for nearest-cell couplings).  A non-orthogonal Hamiltonian brings its
overlap S(k) and the electrodes' overlap blocks
(``Junction(..., overlap=S)``, ``Lead(..., onsite_overlap=...)``); energies
in eV, lengths in Angstrom (sisl's own units).  A path
(a SIESTA/TranSIESTA ``.TSHS`` file or anything ``sisl.get_sile`` reads)
may stand for any Hamiltonian.

For couplings by finite differences (:mod:`currentforces.couplings`),
:func:`sisl_matrices` turns a sisl Hamiltonian (orthogonal or not) into the
H or (H, S) that :func:`currentforces.finite_difference_couplings` and
:func:`currentforces.couplings_from_displacements` take, and
:func:`sisl_builder` wraps a function ``positions -> sisl.Hamiltonian``.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from .._checks import check_positive
from ..errors import InputError, SpinPolarisedError
from ..junction import Junction
from ..junctionset import JunctionSet, spin_channels
from ..kpoints import KPointJunction
from ..leads import Lead
from ._selfenergy import SelfEnergyLead

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .._checks import ComplexArray, RealArray, RealSequence

# sisl is untyped here (ignore_missing_imports): Any stands for its objects
SislHamiltonian: TypeAlias = Any
HamiltonianSource: TypeAlias = "str | os.PathLike[str] | SislHamiltonian"

__all__ = [
    "from_sisl",
    "electrode_blocks",
    "electrode_overlap_blocks",
    "sisl_matrices",
    "sisl_builder",
    "read_hamiltonian",
    "SislDevice",
]

_DIRS = {"A": 0, "B": 1, "C": 2, "A1": 0, "A2": 1, "A3": 2}


def _semi_inf(value, name):
    s = str(value).strip().upper()
    if len(s) < 2 or s[0] not in "+-" or s[1:] not in _DIRS:
        raise InputError(
            f"{name}: semi-infinite direction must be one of +A, -A, +B, -B, +C, -C (or +A1 ... -A3), got {value!r}"
        )
    return (1 if s[0] == "+" else -1), _DIRS[s[1:]]


def read_hamiltonian(source: HamiltonianSource, name: str = "hamiltonian") -> SislHamiltonian:
    """A sisl Hamiltonian, or the one read from a file (``.TSHS``, ``.nc``, ...) by ``sisl.get_sile``."""
    if isinstance(source, (str, os.PathLike)):
        import sisl

        if not os.path.exists(source):
            raise InputError(f"{name}: no such file {os.fspath(source)!r}")
        try:
            return sisl.get_sile(source).read_hamiltonian()
        except Exception as exc:  # sisl raises many kinds for an unreadable file
            raise InputError(f"{name}: sisl cannot read a Hamiltonian from {os.fspath(source)!r}: {exc}") from exc
    return source


def _spin_kind(h):
    """'unpolarized', 'polarized' or 'noncolinear' (non-collinear and spin-orbit) of a sisl Hamiltonian."""
    spin = getattr(h, "spin", None)
    if spin is None or getattr(spin, "is_unpolarized", True):
        return "unpolarized"
    if getattr(spin, "is_polarized", False):
        return "polarized"
    return "noncolinear"


def _check_hamiltonian(name, h, channel=None):
    if not hasattr(h, "geometry") or not hasattr(h, "tocsr"):
        raise InputError(f"{name} must be a sisl.Hamiltonian, got {type(h).__name__}")
    if _spin_kind(h) == "polarized" and channel is None:
        raise SpinPolarisedError(
            f"{name} is spin-polarised where one spin channel is expected: pass spin=0 (up) or spin=1 (down), "
            "or build both channels (from_sisl without spin gives the spin channels)"
        )


def _channel(value, kind):
    """The spin channel index (0 up, 1 down) asked for, or None for both."""
    if value is None:
        return None
    names = {"up": 0, "down": 1, 0: 0, 1: 1}
    key = value.lower() if isinstance(value, str) else value
    if isinstance(key, bool) or key not in names:
        raise InputError(f"spin must be 0, 1, 'up' or 'down' (one channel of a polarised Hamiltonian), got {value!r}")
    if kind != "polarized":
        raise InputError(f"spin: the Hamiltonian is {kind}, it has no collinear spin channels to pick from")
    return names[key]


def _sk(h, k):
    """Dense S(k) of a non-orthogonal sisl Hamiltonian, in the basis of :func:`_hk` (spinor-doubled for
    non-collinear spin, orbital-major)."""
    sk = np.asarray(h.Sk(k, format="array"))
    if _spin_kind(h) == "noncolinear" and sk.shape[0] == h.no:
        sk = np.kron(sk, np.eye(2))
    return sk


def _hk(h, k, channel):
    """Dense H(k) (eV) of a sisl Hamiltonian at reduced k (3 entries), for spin channel ``channel``."""
    if _spin_kind(h) == "polarized":
        return np.asarray(h.Hk(k, spin=channel, format="array"))
    return np.asarray(h.Hk(k, format="array"))


def electrode_blocks(
    electrode: HamiltonianSource, semi_inf: str, k: RealSequence | None = None, spin: int | None = None
) -> tuple[ComplexArray, ComplexArray]:
    r"""Onsite H_00 and far-end hopping H_{0,s} (eV) of a sisl electrode.

    Parameters
    ----------
    electrode : sisl.Hamiltonian
        Periodic along the semi-infinite direction with nsc = 3 there.
    semi_inf : str
        ``"+C"``, ``"-A3"``, ...
    k : sequence of 3 float, optional
        Reduced transverse wave vector (its component along the
        semi-infinite direction is ignored); needed when the electrode is
        periodic across (nsc > 1 there).
    spin : {None, 0, 1}
        The spin channel of a polarised electrode.

    Returns
    -------
    h00, h01 : (n, n) ndarray

    Notes
    -----
    With H(kappa) the Bloch matrix at kappa along the semi-infinite
    direction (k across), H(kappa) = H_{-1} e^{-2 pi i kappa} + H_0 + H_1
    e^{2 pi i kappa} for nearest-cell couplings, so its values at kappa =
    0, 1/3, 2/3 give H_m = (1/3) sum_j H(kappa_j) e^{-2 pi i m kappa_j}
    exactly.
    """
    electrode = read_hamiltonian(electrode, "electrode")
    _check_hamiltonian("electrode", electrode, spin)
    sign, ax = _semi_inf(semi_inf, "semi_inf")
    nsc = np.asarray(electrode.geometry.lattice.nsc)
    if nsc[ax] != 3:
        raise InputError(
            f"electrode: nsc along the semi-infinite direction must be 3 "
            f"(nearest-cell couplings only), got nsc = {nsc.tolist()}"
        )
    if k is None and any(nsc[i] != 1 for i in range(3) if i != ax):
        raise InputError(
            f"electrode: periodic across the transport direction (nsc = {nsc.tolist()}): give k-points "
            "(from_sisl(..., kgrid=(n1, n2))) or use nsc = 1 across"
        )
    return _cell_blocks(lambda kappa: _hk(electrode, kappa, spin), k, ax, sign)


def electrode_overlap_blocks(
    electrode: HamiltonianSource, semi_inf: str, k: RealSequence | None = None
) -> tuple[ComplexArray, ComplexArray]:
    """Overlap blocks S_00 and S_{0,s} of a non-orthogonal sisl electrode (as :func:`electrode_blocks`)."""
    electrode = read_hamiltonian(electrode, "electrode")
    sign, ax = _semi_inf(semi_inf, "semi_inf")
    return _cell_blocks(lambda kappa: _sk(electrode, kappa), k, ax, sign)


def _cell_blocks(matrix_k, k, ax, sign):
    """M_0 and M_sign of a nearest-cell Bloch matrix from its values at kappa = 0, 1/3, 2/3 along ``ax``."""
    kk = np.zeros(3) if k is None else np.array(k, dtype=float).reshape(3)
    blocks = {}
    for m in (0, sign):
        acc = 0
        for j in range(3):
            kappa = kk.copy()
            kappa[ax] = j / 3
            acc = acc + matrix_k(kappa) * np.exp(-2j * np.pi * m * j / 3)
        blocks[m] = acc / 3
    h00, h01 = blocks[0], blocks[sign]
    scale = max(1.0, float(np.abs(h00).max()), float(np.abs(h01).max()))
    if max(np.abs(h00.imag).max(), np.abs(h01.imag).max()) <= 1e-14 * scale:
        h00, h01 = h00.real, h01.real  # a real matrix at a time-reversal invariant k: round-off only
    return h00, h01


def from_sisl(
    hamiltonian: HamiltonianSource,
    electrodes: Sequence[tuple[Any, ...]],
    self_energy: str = "decimation",
    eta: float | None = None,
    check: bool = True,
    kgrid: Sequence[int] | None = None,
    centre: str = "gamma",
    spin: int | str | None = None,
    time_reversal: bool | None = None,
    backend: str = "serial",
    workers: int | None = None,
    return_data: bool = False,
) -> Junction | JunctionSet | tuple[Junction | JunctionSet, SislDevice]:
    """A :class:`~currentforces.Junction` (or a set of them) from sisl Hamiltonians (TBtrans layout).

    Parameters
    ----------
    hamiltonian : sisl.Hamiltonian or path
        Device Hamiltonian (eV), not periodic along the transport direction,
        containing one copy of each electrode unit cell; a path is read with
        ``sisl.get_sile`` (a SIESTA/TranSIESTA ``.TSHS`` file, ...).
    electrodes : sequence of tuple
        One ``(electrode, semi_inf)`` or ``(electrode, semi_inf, elec_pos)``
        per lead, in lead order (lead 0 is mu_0 = E_F + V/2).
        ``electrode`` is a periodic sisl.Hamiltonian (or a path),
        ``semi_inf`` its semi-infinite direction (``"-C"``, ``"+A3"``, ...,
        the same axis for every electrode when ``kgrid`` is given) and
        ``elec_pos`` the 0-based device atom where its copy starts
        (default: the first device atom for a ``-`` direction, the last
        atoms for ``+``).
    self_energy : {"decimation", "sisl"}
        ``"decimation"``: this package's :class:`~currentforces.Lead` from
        the electrode blocks (exact, analytic dSigma/dE).  ``"sisl"``:
        sisl's ``RecursiveSI`` self-energies (with its ``eta`` broadening),
        for cross-checks; not with ``kgrid`` or spin.
    eta : float, optional
        Broadening in eV for ``"sisl"`` (default 1e-8 eV) or for
        :class:`~currentforces.Lead` (default its own).
    check : bool
        Warn when the device block of an electrode copy differs from the
        electrode's H_00 by more than 1e-6 eV (TBtrans does the same check).
    kgrid : (n1, n2), optional
        k-points along the two lattice vectors other than the transport
        direction, in lattice-vector order (A and B when transport runs
        along C); needed when the device is periodic across (nsc > 1 there),
        1 along a direction where it is not.
    centre : {"gamma", "monkhorst-pack"}
        Grid kind (:func:`~currentforces.kpoints.kpoint_grid`).
    spin : {None, 0, 1, "up", "down"}
        For a polarised Hamiltonian: one channel (a set of one member with
        g_s = 1); ``None`` gives both spin channels.
    time_reversal : bool, optional
        Fold k with -k (default: yes for collinear spin, no for
        non-collinear spin, where time reversal also flips the spin).
    backend, workers
        Parallel evaluation over k-points and spin channels
        (:func:`currentforces.parallel.parallel_map`).
    return_data : bool
        Also return a :class:`SislDevice`: what force operators from
        displaced calculations need.

    Returns
    -------
    Junction or JunctionSet
        A Junction for an unpolarised Hamiltonian without ``kgrid``;
        otherwise a :class:`~currentforces.junctionset.JunctionSet`: spin
        channels (``spin=1``), a :class:`~currentforces.kpoints.KPointJunction`
        (average over the irreducible k-points), or channels of k-point
        sets.  Every one is accepted by ``transmission``, ``current``,
        ``density_matrix``, :func:`~currentforces.force_coefficients` and
        :func:`~currentforces.noise_spectrum`.
    SislDevice
        With ``return_data=True``.
    """
    hamiltonian = read_hamiltonian(hamiltonian)
    if not hasattr(hamiltonian, "geometry") or not hasattr(hamiltonian, "tocsr"):
        raise InputError(
            f"hamiltonian must be a sisl.Hamiltonian or a file sisl reads, got {type(hamiltonian).__name__}"
        )
    kind = _spin_kind(hamiltonian)
    channel = _channel(spin, kind)
    _check_hamiltonian("hamiltonian", hamiltonian, 0 if kind == "polarized" else None)
    if eta is not None:
        eta = check_positive("eta", eta, "eV")
    if self_energy not in ("decimation", "sisl"):
        raise InputError(f"self_energy must be 'decimation' or 'sisl', got {self_energy!r}")
    if not electrodes:
        raise InputError("electrodes: give at least one (electrode, semi_inf) pair")
    specs = []
    for i, spec in enumerate(electrodes):
        if not isinstance(spec, (tuple, list)) or len(spec) not in (2, 3):
            raise InputError(f"electrodes[{i}] must be (electrode, semi_inf) or (electrode, semi_inf, elec_pos)")
        elec = read_hamiltonian(spec[0], f"electrodes[{i}]")
        _check_hamiltonian(f"electrodes[{i}]", elec, 0 if kind == "polarized" else None)
        if _spin_kind(elec) != kind:
            raise InputError(f"electrodes[{i}]: spin {_spin_kind(elec)} differs from the device's ({kind})")
        specs.append((elec, spec[1], *_semi_inf(spec[1], f"electrodes[{i}]"), spec[2] if len(spec) == 3 else None))
    geom = hamiltonian.geometry
    nsc = np.asarray(geom.lattice.nsc)
    axes = sorted({ax for _, _, _, ax, _ in specs})
    if kgrid is None:
        if np.any(nsc != 1):
            raise InputError(
                f"hamiltonian: the device is periodic (nsc = {nsc.tolist()}); give kgrid=(n1, n2) for the "
                "directions across the transport direction, or use nsc = [1, 1, 1]"
            )
        kset = None
    else:
        if len(axes) != 1:
            raise InputError(f"kgrid: the electrodes run along different axes {axes}; k-points need one transport axis")
        ax = axes[0]
        across = [i for i in range(3) if i != ax]
        try:
            n = [int(x) for x in kgrid] if len(kgrid) == 2 and all(float(x) == int(x) for x in kgrid) else None
        except (TypeError, ValueError):
            n = None
        if n is None or min(n) < 1:
            raise InputError(f"kgrid must be two positive integers (n1, n2), got {kgrid!r}")
        if nsc[ax] != 1:
            raise InputError(f"hamiltonian: periodic along the transport axis {'ABC'[ax]} (nsc = {nsc.tolist()})")
        for i, m in zip(across, n):
            if m > 1 and nsc[i] == 1:
                raise InputError(
                    f"kgrid: {m} points along {'ABC'[i]}, where the Hamiltonian is not periodic (nsc = "
                    f"{nsc.tolist()}); use 1 there"
                )
        if self_energy == "sisl":
            raise InputError("self_energy='sisl' is for cross-checks without kgrid; use 'decimation'")
        kset = (ax, across, n)
    if self_energy == "sisl" and kind != "unpolarized":
        raise InputError("self_energy='sisl' is for cross-checks of unpolarised Hamiltonians; use 'decimation'")
    if time_reversal is None:
        time_reversal = kind != "noncolinear"
    build = _Builder(hamiltonian, specs, self_energy, eta, check, kset)
    channels = [channel] if channel is not None else ([0, 1] if kind == "polarized" else [None])
    own_spin = None if kind == "unpolarized" else 1

    def one(ch):
        if kset is None:
            return build(None, ch)
        return KPointJunction(
            _ChannelBuilder(build, ch),
            kgrid=kset[2],
            centre=centre,
            time_reversal=time_reversal,
            spin=own_spin,
            backend=backend,
            workers=workers,
        )

    members = [one(ch) for ch in channels]
    if kind == "polarized" and channel is None:
        junction = spin_channels(members[0], members[1], backend=backend, workers=workers)  # [up, down]
    elif own_spin is not None and not isinstance(members[0], JunctionSet):
        label = {None: "spin", 0: "up", 1: "down"}[channel]
        junction = JunctionSet(members, labels=[label], spin=1)
    else:
        junction = members[0]
    if not return_data:
        return junction
    return junction, SislDevice(
        geometry=geom,
        transport_axis=axes[0] if len(axes) == 1 else None,
        across=[] if kset is None else kset[1],
        spin=kind,
        channels=channels,
    )


class _ChannelBuilder:
    """k -> the junction of one spin channel at k (picklable)."""

    def __init__(self, build, channel):
        self.build = build
        self.channel = channel

    def __call__(self, k):
        return self.build(k, self.channel)


class _Builder:
    """(k, channel) -> Junction from the sisl device and electrodes (picklable)."""

    def __init__(self, hamiltonian, specs, self_energy, eta, check, kset):
        self.h = hamiltonian
        self.specs = specs
        self.self_energy = self_energy
        self.eta = eta
        self.check = check
        self.kset = kset

    def k3(self, k):
        out = np.zeros(3)
        if k is not None:
            out[self.kset[1]] = np.asarray(k, dtype=float).reshape(-1)
        return out

    def __call__(self, k, channel):
        geom = self.h.geometry
        k3 = self.k3(k)
        h = _hk(self.h, k3, channel)
        if k is None and np.abs(h.imag).max() == 0:
            h = h.real
        orthogonal = bool(self.h.orthogonal)
        s = None if orthogonal else _sk(self.h, k3)
        n = h.shape[0]
        spinor = 2 if _spin_kind(self.h) == "noncolinear" else 1
        leads = []
        for i, (elec, semi, sign, ax, pos) in enumerate(self.specs):
            h00, h01 = electrode_blocks(elec, semi, None if k is None else k3, channel)
            na = elec.geometry.na
            pos = pos if pos is not None else (0 if sign < 0 else geom.na - na)
            if not isinstance(pos, (int, np.integer)) or not 0 <= pos <= geom.na - na:
                raise InputError(f"electrodes[{i}]: elec_pos must be an atom index in [0, {geom.na - na}], got {pos!r}")
            orbitals = np.asarray(geom.a2o(np.arange(pos, pos + na), all=True), dtype=int)
            rows = (spinor * orbitals[:, None] + np.arange(spinor)).reshape(-1)
            if rows.size != h00.shape[0]:
                raise InputError(
                    f"electrodes[{i}]: the electrode has {h00.shape[0]} orbitals but its device copy has {rows.size}"
                )
            if self.check:
                dev = np.max(np.abs(h[np.ix_(rows, rows)] - h00))
                if dev > 1e-6:
                    warnings.warn(
                        f"electrodes[{i}]: device copy differs from the electrode H_00 by {dev:.3g} eV", stacklevel=3
                    )
            coupling = np.zeros((n, h00.shape[0]), dtype=complex)
            coupling[rows, :] = h01
            eta = self.eta if self.self_energy == "decimation" else None
            if orthogonal:
                lead = Lead(h00, h01, coupling, eta=eta)
            else:
                s00, s01 = electrode_overlap_blocks(elec, semi, None if k is None else k3)
                s_coupling = np.zeros((n, s00.shape[0]), dtype=complex)
                s_coupling[rows, :] = s01
                lead = Lead(
                    h00,
                    h01,
                    coupling,
                    eta=eta,
                    onsite_overlap=s00,
                    hopping_overlap=s01,
                    coupling_overlap=s_coupling,
                )
            if self.self_energy == "sisl":
                import sisl

                direction = ("+" if sign > 0 else "-") + "ABC"[ax]
                se = sisl.RecursiveSI(elec, direction, eta=1e-8 if self.eta is None else float(self.eta))
                # sisl gives the self-energy of the surface cell on the electrode copy
                lead = SelfEnergyLead(
                    lambda e, se=se: se.self_energy(e),
                    rows,
                    n,
                    band_edges=lead.band_edges,
                    fallback=lead,
                    real_only=False,
                )
            leads.append(lead)
        if orthogonal:
            return Junction(h, leads)
        return Junction(h, leads, overlap=s)


@dataclass
class SislDevice:
    r"""What force operators from displaced calculations need, for a junction from :func:`from_sisl`.

    Attributes
    ----------
    geometry : sisl.Geometry
        The device geometry (atoms, orbitals, lattice).
    transport_axis : int or None
        0, 1, 2 for A, B, C (None when the electrodes run along several).
    across : list of int
        The lattice directions sampled by ``kgrid``, in order.
    spin : str
        ``"unpolarized"``, ``"polarized"`` or ``"noncolinear"``.
    channels : list
        The spin channels of the junction (0 up, 1 down; ``[None]`` for
        one Hamiltonian).
    """

    geometry: object
    transport_axis: int | None
    across: list = field(default_factory=list)
    spin: str = "unpolarized"
    channels: list = field(default_factory=lambda: [None])

    def k3(self, k: RealSequence | None) -> RealArray:
        """Reduced 3-vector of a transverse key k (the transport component 0)."""
        out = np.zeros(3)
        if k is not None and self.across:
            out[self.across] = np.asarray(k, dtype=float).reshape(-1)
        return out

    def force_operators(
        self, plus: Sequence[HamiltonianSource], minus: Sequence[HamiltonianSource], step: float
    ) -> list[Any] | Callable[[Any], Any]:
        r"""Force operators f_a = -(H_a^+ - H_a^-)/(2 step) from displaced calculations.

        Parameters
        ----------
        plus, minus : sequence of sisl.Hamiltonian (or paths)
            The device Hamiltonian with coordinate a displaced by +step and
            -step (in every periodic image: q = 0), one per coordinate.
        step : float
            Displacement in Angstrom.

        Returns
        -------
        list or callable
            What :func:`~currentforces.force_coefficients` takes as
            ``forces`` for the junction: a list of (N, N) arrays (one
            Hamiltonian), ``forces(k)`` for a k-point set (f(k) =
            -dH(k)/dX, the Bloch sum over images), ``forces(label)`` per
            spin channel.
        """
        hp, hm, step = _displaced(plus, minus, step)

        def ops(k, channel):
            k3 = self.k3(k)
            return [-(_hk(p, k3, channel) - _hk(m, k3, channel)) / (2 * step) for p, m in zip(hp, hm)]

        return self._structure(ops)

    def overlap_derivatives(
        self, plus: Sequence[HamiltonianSource], minus: Sequence[HamiltonianSource], step: float
    ) -> list[Any] | Callable[[Any], Any]:
        r"""Overlap derivatives dS/dX_a = (S_a^+ - S_a^-)/(2 step) (1/Angstrom) of a non-orthogonal basis.

        Arguments and return structure as :meth:`force_operators` (the
        ``overlap_derivatives`` of :func:`~currentforces.force_coefficients`).
        """
        hp, hm, step = _displaced(plus, minus, step)
        if any(h.orthogonal for h in hp + hm):
            raise InputError("plus, minus: orthogonal Hamiltonians have no overlap derivatives")

        def ops(k, channel):
            k3 = self.k3(k)
            return [(_sk(p, k3) - _sk(m, k3)) / (2 * step) for p, m in zip(hp, hm)]

        return self._structure(ops)

    def _structure(self, ops):
        """ops(k, channel) arranged as the junction's members want them (a list, per k, per channel)."""

        def per_channel(channel):
            if self.across:
                return lambda k: ops(k, channel)
            return ops(None, channel)

        if self.spin == "polarized" and len(self.channels) == 2:
            return lambda label: per_channel({"up": 0, "down": 1}[label])
        if self.spin == "polarized":
            only = self.channels[0]
            return lambda label: per_channel(only)
        if self.spin == "noncolinear":
            return lambda label: per_channel(None)
        return per_channel(None)


def _displaced(plus, minus, step):
    """The +-step displaced Hamiltonians of :meth:`SislDevice.force_operators`, read and checked (and step)."""
    step = check_positive("step", step, "Angstrom")
    plus = [read_hamiltonian(h, f"plus[{i}]") for i, h in enumerate(plus)]
    minus = [read_hamiltonian(h, f"minus[{i}]") for i, h in enumerate(minus)]
    if len(plus) != len(minus) or not plus:
        raise InputError(f"plus and minus: need one Hamiltonian each per coordinate, got {len(plus)} and {len(minus)}")
    return plus, minus, step


def sisl_matrices(hamiltonian: SislHamiltonian, k: RealSequence | None = None, spin: int | str | None = None) -> Any:
    """H, or (H, S) for a non-orthogonal basis, of a sisl Hamiltonian as scipy.sparse CSR.

    Parameters
    ----------
    hamiltonian : sisl.Hamiltonian
        Energies in eV; a spin-polarised one needs ``spin`` (else
        :class:`~currentforces.errors.SpinPolarisedError`).
    spin : {None, 0, 1}
        The spin channel of a polarised Hamiltonian.
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
    kind = _spin_kind(hamiltonian)
    channel = _channel(spin, kind)
    if kind == "polarized" and channel is None:
        raise SpinPolarisedError(
            "hamiltonian is spin-polarised where one spin channel is expected: pass spin=0 (up) or spin=1 (down)"
        )
    if kind == "noncolinear":
        raise InputError("hamiltonian: non-collinear spin is not supported here (one spin channel is expected)")
    orthogonal = bool(hamiltonian.orthogonal)
    if k is None:
        nsc = np.asarray(hamiltonian.geometry.lattice.nsc)
        if np.any(nsc != 1):
            raise InputError(
                f"hamiltonian is periodic (nsc = {nsc.tolist()}): pass k, e.g. k=(0, 0, 0) for the "
                "Gamma point, or build a non-periodic device (nsc = [1, 1, 1])"
            )
        h = hamiltonian.tocsr(channel or 0)
        s = None if orthogonal else hamiltonian.tocsr(hamiltonian.S_idx)
    else:
        kk = np.asarray(k, dtype=float)
        if kk.shape != (3,) or not np.all(np.isfinite(kk)):
            raise InputError(f"k must be 3 finite reduced coordinates, got {k!r}")
        h = hamiltonian.Hk(kk, format="csr") if channel is None else hamiltonian.Hk(kk, spin=channel, format="csr")
        s = None if orthogonal else hamiltonian.Sk(kk, format="csr")
    h = h.tocsr()
    return h if s is None else (h, s.tocsr())


def sisl_builder(
    make: Callable[[RealArray], SislHamiltonian], k: RealSequence | None = None
) -> Callable[[RealArray], Any]:
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
