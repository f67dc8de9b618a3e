r"""Energy integrals of :func:`~currentforces.force_coefficients` in closed form
for energy-independent self-energies (:ref:`theory-spectral`).

With wide-band leads (every Sigma_l constant) the effective Hamiltonian
h_eff = h + Sigma is one constant matrix.  From one eigendecomposition of
the pencil (h_eff, S), h_eff V = S V diag(lambda), W = (S V)^{-1},

.. math::

    G(z) = V\,\mathrm{diag}(d(z))\,W, \quad d_i(z) = \frac{1}{z - \lambda_i},
    \qquad G^A(z) = W^\dagger\,\mathrm{diag}(d^*(z^*))\,V^\dagger,

(Im lambda_i < 0) every trace the coefficients need is a double sum over
eigenvalue pairs,

.. math::

    \mathrm{Tr}[f_a G(x) f_b G(y)] = \sum_{ij} B^a_{ji} B^b_{ij}\, d_i(x) d_j(y),
    \qquad
    \mathrm{Tr}[f_a G(x) f_b G^A(y)] = \sum_{ij} C^a_{ji} E^b_{ij}\, d_i(x) d_j^*(y),

with B^a = W f_a V, C^a = V^dagger f_a V, E^b = W f_b W^dagger (only the
rows of V and columns of W on the force support enter), and every energy
integral of a product d_i d_j against a Fermi function (or its derivative,
or a difference of two) is a divided difference of the Fermi primitive Q of
:mod:`currentforces.fermi_rational` (:eq:`eq-fermi-products`): N^2 numbers
and one (M x N^2) @ (N^2 x M) product per piece, whatever the temperature.

The pieces (per spin, as :func:`currentforces.forces._fermi_sea` and
:func:`currentforces.forces.window_integrand` define them):

* the equilibrium mean force Tr[f_a rho_eq] = -(1/pi) Im sum_i B^a_ii Q(lambda_i);
* K_pole = Re S[Tr f_a G f_b G], S[F] = (i/pi) int n_0 F (:eq:`eq-pole-identity`);
* the Berry part Im S[Tr f_a G' f_b G] (G' = -V D^2 W), antisymmetrised;
* Pi_pole(w) = (X^T + X^*)/2, X = S[Tr f_a G(z - w) f_b G(z)];
* the density window (1/2 pi) int sum_l (n_l - n_0) Tr[f_a A_l],
  A_l = G Gamma_l G^A;
* the Fermi-surface friction -(hbar/4 pi) int (-n_0') Re Tr[f_a A f_b A],
  A = i (G - G^A);
* the mixed window (1/2 pi) int [n_0(E) - n_0(E + w)] Tr[f_a G(E + w) f_b A(E)].

The route applies (:func:`eigenbasis`) on the dense backend with constant
self-energies, no bound state (a real eigenvalue: the pole-sum route
treats those) and eigenvectors conditioned well enough that the rounding
error stays a small fraction of rtol (:data:`~currentforces.contour.EIG_COND_RTOL`).

Error estimates: :data:`ROUNDING` eps cond(V) times the sum of the
magnitudes of the terms, plus the divided differences' own rounding and
truncation errors (:func:`currentforces.fermi_rational.divided_difference`).
The eigendecomposition is backward stable: its results are exact for an
h_eff perturbed by ~eps ``|h_eff|``, the backward error of any evaluation of
G(E) too (the conditioning of the problem, e.g. ``|h_eff|``/w relative for a
level of width w), which neither route's estimate counts.

Units: energies eV, f in eV/Angstrom; results in the units of the pieces
(eV/A for the mean force, eV/A^2 for kernels, eV fs/A^2 for the friction).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.linalg as la

from . import contour
from .fermi_rational import difference_matrix, fermi_primitive, second_difference_matrix
from .units import HBAR

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .junction import Junction
    from .operators import ForceOperators

__all__ = ["Eigenbasis", "eigenbasis", "applies", "sea", "density", "surface", "mixed", "NEAR_REAL", "ROUNDING"]

_EPS = float(np.finfo(float).eps)

MAX_PAIRS = 8_000_000
"""Largest M N^2 (modes times eigenvalue pairs) treated: the route keeps six
(M, N, N) complex arrays (128 MB each at this size)."""

NEAR_REAL = 1e3
"""An eigenvalue with ``|Im lambda|`` <= NEAR_REAL eps cond(V) max ``|lambda|``
(its width known to less than ~0.1 %) is a bound state to working precision
(a state localised far from the leads, or decoupled by symmetry up to
rounding): the window pieces treat it as real (:meth:`Eigenbasis.clear_of`)."""

ROUNDING = 4.0
"""eps cond(V) times this factor is the relative rounding error of a term
of the double sums: V and W = (S V)^{-1} carry ~cond(V) eps each (cond in
the 1-norm, an upper bound of the 2-norm one up to sqrt(N)), and the
products B, C, E one more rounding; the errors of the terms are bounded by
the sum of their magnitudes (:func:`_pair_sum`), a worst case that
cancelling terms rarely reach."""


class Eigenbasis:
    """The eigendecomposition of the pencil (h + Sigma, S) of a junction with
    constant self-energies, restricted to what the traces need.

    Attributes
    ----------
    lam : ndarray (N,) complex
        Eigenvalues (eV), Im < 0.
    v, w : ndarray (N, N) complex
        Right eigenvectors V and W = (S V)^{-1}.
    device : contour._Device
        h + Sigma, the overlap, the lead broadenings and supports.
    cond : float
        cond(V) in the 1-norm.
    rounding : float
        ROUNDING eps cond(V): the relative rounding error of the route
        (see the module docstring).
    bound : ndarray (N,) bool
        Eigenvalues real to working precision (:data:`NEAR_REAL`).
    """

    def __init__(self, device: Any, lam: NDArray[Any], v: NDArray[Any], w: NDArray[Any], cond: float) -> None:
        self.device = device
        self.lam = lam
        self.v = v
        self.w = w
        self.cond = cond
        self.rounding = ROUNDING * _EPS * cond
        scale = float(np.abs(lam).max()) if lam.size else 0.0
        self.bound = np.abs(lam.imag) <= NEAR_REAL * _EPS * cond * scale
        self._ops: Any = None

    def clear_of(self, lo: float, hi: float) -> bool:
        """Whether no eigenvalue that is real to working precision
        (:data:`NEAR_REAL`, attribute ``bound``) lies in [lo, hi] (eV): the
        window pieces, whose occupation factors vanish outside such an
        interval, then leave their jump terms out (:func:`currentforces.fermi_rational.difference_matrix`)."""
        e = self.lam.real[self.bound]
        return not bool(np.any((e >= lo) & (e <= hi)))

    # -- per-operator matrices on the support ---------------------------------
    def _matrices(self, ops: ForceOperators) -> dict[str, NDArray[Any]]:
        """B^a = W f_a V, C^a = V^dagger f_a V, E^a = W f_a W^dagger, (M, N, N)
        each, their transposes (key + "T") and the maxima of their magnitudes
        over the modes ("|B|", "|BT|", ...), cached for one operator set."""
        if self._ops is not None and self._ops[0] is ops:
            return self._ops[1]
        s = ops.support
        vs = self.v[s]  # (s, N)
        ws = self.w[:, s]  # (N, s)
        mats = {
            "B": ops.sandwiches(ws, vs),
            "C": ops.sandwiches(np.conj(vs.T), vs),
            "E": ops.sandwiches(ws, np.conj(ws.T)),
        }
        for name in ("B", "C", "E"):
            mats[name + "T"] = np.ascontiguousarray(np.swapaxes(mats[name], 1, 2))
            mats["|" + name + "|"] = np.abs(mats[name]).max(axis=0)
            mats["|" + name + "T|"] = mats["|" + name + "|"].T
        self._ops = (ops, mats)
        return mats


def eigenbasis(junction: Junction, ops: ForceOperators, rtol: float) -> Eigenbasis | None:
    """The :class:`Eigenbasis` of ``junction`` when the closed forms apply, else None.

    They apply on the dense backend with energy-independent self-energies
    (:func:`currentforces.contour.applies`), no bound state
    (:meth:`~currentforces.Junction.bound_states`: a real eigenvalue, which
    the pole-sum route occupies explicitly), every eigenvalue strictly below
    the real axis, and eigenvectors with eps cond(V) <=
    :data:`~currentforces.contour.EIG_COND_RTOL` rtol (the route's own
    rounding).
    """
    if not contour.applies(junction):
        return None
    if ops.n_modes * junction.size**2 > MAX_PAIRS or len(junction.bound_states()):
        return None
    dev = contour._Device(junction, ops)
    lam, v = la.eig(dev.heff, dev.overlap, right=True)
    if not (np.all(np.isfinite(lam)) and np.all(np.isfinite(v))) or not np.all(lam.imag < 0):
        return None
    w = np.linalg.inv(v if dev.overlap is None else dev.overlap @ v)
    # cond_1(V) = ``|V|_1 |V^-1|_1`` exactly, from W (V^-1 = W S), no SVD
    cond = float(np.linalg.norm(v, 1) * np.linalg.norm(w if dev.overlap is None else w @ dev.overlap, 1))
    if not math.isfinite(cond):
        return None
    if cond * _EPS > contour.EIG_COND_RTOL * rtol:
        return None
    return Eigenbasis(dev, lam, v, w, cond)


def applies(junction: Junction, ops: ForceOperators, rtol: float = 1e-8) -> bool:
    """Whether the closed forms apply (:func:`eigenbasis` is not None)."""
    return eigenbasis(junction, ops, rtol) is not None


# ----------------------------------------------------------------------------
# contractions
# ----------------------------------------------------------------------------
def _pair_sum(basis, ops, left, right, d, derr):
    r"""out_ab = sum_ij x^a_ji y^b_ij d_ij (x, y the matrices named ``left``,
    ``right`` of :meth:`Eigenbasis._matrices`) and an error bound: the
    rounding times sum_ij max_a ``|x^a_ji|`` ``|d_ij|`` max_b ``|y^b_ij|`` (the
    largest sum of the magnitudes of the terms) plus the same sum with the
    errors of d."""
    mats = basis._matrices(ops)
    x, y = mats[left + "T"], mats[right]
    m, n, _ = x.shape
    out = (x * d[None]).reshape(m, n * n) @ y.reshape(m, n * n).T
    bound = mats["|" + left + "T|"] * mats["|" + right + "|"]
    err = float(np.sum(bound * (basis.rounding * np.abs(d) + derr)))
    return out, err


def _differences(a, b, mus, weights, temperature, order=0, bound=None):
    """sum_k weights_k Q^(order)_{mu_k}[a_i, b_j] and its error."""
    total = 0j
    err = 0.0
    for mu, wt in zip(mus, weights):
        if wt == 0:
            continue
        value, e = difference_matrix(a, b, mu, temperature, order, bound)
        total = total + wt * value
        err = err + abs(wt) * e
    return total, err


# ----------------------------------------------------------------------------
# the pieces
# ----------------------------------------------------------------------------
def sea(
    basis: Eigenbasis, ops: ForceOperators, mu0: float, temperature: float, w: float, berry: bool
) -> tuple[NDArray[Any], float, tuple[Any, ...]]:
    r"""The Fermi-sea part of :func:`currentforces.forces._fermi_sea` in closed form:
    (f_eq, its error, kernel), kernel as there: for w > 0 (Pi_pole, error of
    its real part, of its imaginary part); for w = 0 (K_pole, the Berry
    part, their errors).  Per spin.

    f_eq_a = (1/2 pi) int n_0 Tr[f_a i(G - G^A)] = -(1/pi) Im sum_i B^a_ii Q(lambda_i)
    (residues i B_ii at lambda_i and -i B_ii^* at lambda_i^*, whose sum
    vanishes for Hermitian f and S, and Q(z^*) = Q(z)^*);
    S[F] = (i/pi) int n_0 F with int n_0 d_i d_j = Q[lambda_i, lambda_j],
    int n_0 d_i^2 d_j = Q[lambda_i, lambda_i, lambda_j] and
    int n_0 d_i(E - w) d_j = Q[lambda_i + w, lambda_j].
    """
    lam = basis.lam
    mats = basis._matrices(ops)
    b = mats["B"]
    t = np.einsum("aii->ai", b)
    q = fermi_primitive(lam, mu0, temperature)
    f_eq = -(t @ q).imag / math.pi
    err_f = float(basis.rounding * (np.abs(t) @ np.abs(q)).max() / math.pi + 8 * _EPS * np.abs(t).sum(axis=1).max())
    m = ops.n_modes
    if w > 0:
        d, de = difference_matrix(lam + w, lam, mu0, temperature)
        x, ex = _pair_sum(basis, ops, "B", "B", d, de)
        x = (1j / math.pi) * x
        pole = 0.5 * (x.T + np.conj(x))
        e = ex / math.pi
        return f_eq, err_f, (pole, e, e)
    d, de = difference_matrix(lam, lam, mu0, temperature)
    kk, ek = _pair_sum(basis, ops, "B", "B", d, de)
    k_pole = ((1j / math.pi) * kk).real
    if berry:
        d2, de2 = second_difference_matrix(lam, lam, mu0, temperature)
        bb, eb = _pair_sum(basis, ops, "B", "B", d2, de2)
        im = ((1j / math.pi) * -bb).imag
        b_pole = 0.5 * (im - im.T)
        eb = eb / math.pi
    else:
        b_pole, eb = np.zeros((m, m)), 0.0
    return f_eq, err_f, (k_pole, b_pole, ek / math.pi, eb)


def _lead_weights(basis: Eigenbasis) -> list[NDArray[Any]]:
    """W[:, sup_l] Gamma_l W[:, sup_l]^dagger per lead, (N, N) each."""
    dev = basis.device
    return [basis.w[:, sup] @ gam @ np.conj(basis.w[:, sup]).T for sup, gam in zip(dev.sups, dev.gammas)]


def density(
    basis: Eigenbasis, ops: ForceOperators, mus: NDArray[Any], temperature: float
) -> tuple[NDArray[Any], float]:
    r"""The density window (1/2 pi) int sum_l (n_l - n_0) Tr[f_a A_l] dE, (M,)
    complex, and its error: Tr[f_a A_l] = sum_ij C^a_ji (W Gamma_l W^dagger)_ij
    d_i d_j^*, int (n_l - n_0) d_i d_j^* = (Q_{mu_l} - Q_{mu_0})[lambda_i, lambda_j^*]
    (pairs in opposite half planes: never singular)."""
    lam = basis.lam
    mu0 = float(np.mean(mus))
    c = basis._matrices(ops)["C"]
    out = np.zeros(ops.n_modes, dtype=complex)
    err = 0.0
    for mu, gw in zip(mus, _lead_weights(basis)):
        if mu == mu0:
            continue
        d, de = _differences(lam, np.conj(lam), (mu, mu0), (1.0, -1.0), temperature, bound=basis.bound)
        kern = gw * d  # (N, N): sum_ij C^a_ji kern_ij
        out += np.einsum("aji,ij->a", c, kern)
        cm = np.abs(c).max(axis=0).T
        err += float(np.sum(cm * np.abs(gw) * (basis.rounding * np.abs(d) + de)))
    return out / (2 * math.pi), err / (2 * math.pi)


def surface(basis: Eigenbasis, ops: ForceOperators, mu0: float, temperature: float) -> tuple[NDArray[Any], float]:
    r"""The Fermi-surface friction -(hbar/4 pi) int (-n_0') Re Tr[f_a A f_b A] dE
    (T > 0), (M, M) real, and its error.

    With A = i(G - G^A), Tr[f_a A f_b A] = -(T_GG + T_GG^* - T_GA - T_GA^T)
    for real E, T_GG = Tr[f_a G f_b G], T_GA = Tr[f_a G f_b G^A]; and
    int (-n_0') d_i d_j = -Q'[lambda_i, lambda_j] (same for d_j^* with lambda_j^*).
    """
    lam = basis.lam
    d, de = difference_matrix(lam, lam, mu0, temperature, order=1)
    tgg, egg = _pair_sum(basis, ops, "B", "B", -d, de)
    d, de = difference_matrix(lam, np.conj(lam), mu0, temperature, order=1, bound=basis.bound)
    tga, ega = _pair_sum(basis, ops, "C", "E", -d, de)
    tr = -(2 * tgg.real - tga.real - tga.real.T)
    return -HBAR / (4 * math.pi) * tr, HBAR / (4 * math.pi) * (2 * egg + 2 * ega)


def mixed(
    basis: Eigenbasis, ops: ForceOperators, mu0: float, temperature: float, w: float
) -> tuple[NDArray[Any], float, float]:
    r"""The mixed window (1/2 pi) int [n_0(E) - n_0(E + w)] Tr[f_a G(E + w) f_b A(E)] dE,
    (M, M) complex, and the errors of its real and imaginary parts.

    d_i(E + w) = 1/(E - (lambda_i - w)) and n_0(E + w) = n_F(E - (mu_0 - w)):
    the weights are (Q_{mu_0} - Q_{mu_0 - w})[lambda_i - w, lambda_j] for
    G(E + w) G(E) and the same at lambda_j^* for G(E + w) G^A(E).
    """
    lam = basis.lam
    d, de = _differences(lam - w, lam, (mu0, mu0 - w), (1.0, -1.0), temperature)
    tgg, egg = _pair_sum(basis, ops, "B", "B", d, de)
    d, de = _differences(lam - w, np.conj(lam), (mu0, mu0 - w), (1.0, -1.0), temperature, bound=basis.bound)
    tga, ega = _pair_sum(basis, ops, "C", "E", d, de)
    out = (1j / (2 * math.pi)) * (tgg - tga)
    e = (egg + ega) / (2 * math.pi)
    return out, e, e
