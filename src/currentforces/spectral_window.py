r"""Three-resolvent bias-window integrals in closed form (wide-band leads).

The current-induced parts of the force coefficients are bias-window
integrals of three resolvents (:ref:`theory-kernel-split`,
:ref:`theory-adiabatic`):

.. math::

    K_{bias} = \frac1\pi\,\Re\,S_G, \qquad
    L_{bias} = \frac\hbar\pi\,\Im\,S_{G'}, \qquad
    \Pi_{bias}(\omega) = \frac{1}{2\pi}\Big(S_{G_+} + \overline{S_{G_-}}\Big),

    S_X = \sum_l \int dE\,\phi_l(E)\,\mathrm{Tr}[f_a X(E) f_b A_l(E)],
    \qquad \phi_l = n_l - n_0,

with X = G, G' = dG/dE, G_+- = G(E +- hbar w), A_l = G Gamma_l G^A.  With
energy-independent self-energies every factor is a rational function of E
and each integral is a sum of closed forms (:ref:`theory-spectral-window`,
:eq:`eq-spectral-window`).  In the eigenbasis of the pencil (h + Sigma, S),
h_eff V = S V diag(lambda), W = (S V)^{-1}, G(E) = V diag(d) W with
d_i = 1/(E - lambda_i), and

.. math::

    \mathrm{Tr}[f_a G(E + s) f_b A_l(E)] = \sum_{ijk} X^a_{ki} F^b_{ij} Y^l_{jk}\,
        d_i(E + s)\, d_j(E)\, \overline{d_k(E)},

X^a = V^dagger f_a V, F^b = W f_b V, Y^l = W Gamma_l W^dagger.  The weights
int phi d_i(E + s) d_j d_k^* dE are divided differences of one function per
k (alpha_i = lambda_i - s, mu_k = lambda_k^*):

.. math::

    D_k(z) = \frac{\mathcal L(z) - \overline{\mathcal L(\lambda_k)}}{z - \mu_k}
      = \int dE\, \frac{\phi(E)}{(E - z)(E - \mu_k)}, \qquad
    w_{ijk} = D_k[\alpha_i, \lambda_j] = \frac{D_k(\alpha_i) - D_k(\lambda_j)}{\alpha_i - \lambda_j},

with L = Q_mu_l - Q_mu_0 the difference of two Fermi primitives
(:func:`currentforces.fermi_rational.fermi_primitive`: a digamma function at
T > 0, a logarithm at T = 0).  The sum separates:

.. math::

    S = \sum_{ij} F^b_{ij} E_{ij}\,\big[P^a - Q^a\big]_{ji}, \quad
    P^a = \sum_l Y^l (X^a \circ D_l(\alpha)^T), \quad
    Q^a = \sum_l (Y^l \circ D_l(\lambda)) X^a, \quad E_{ij} = \frac{1}{\alpha_i - \lambda_j},

and G' = -G S G = -V diag(d^2) W gives the weights
D_k[alpha_i, alpha_i, lambda_j] = (D'_k(alpha_i) - w_ijk) E_ij, i.e.
S_G' = -sum_ij F_ij [E_ij P'_ji - E_ij^2 (P - Q)_ji] with P' built from D'.
Gamma_l = C_l C_l^dagger has low rank r_l, so Y^l = U_l U_l^dagger with
U_l = W C_l: the P terms are contracted as sum_is Z^a_is [(F^b o E) U]_is
with Z^a = (X^a o D^T)^T conj(U), O(r N^2) per mode; Q^a = Z X^a costs
O(n_a N^2) (n_a the orbitals f_a touches) and its pair sum one product of
(M, N^2) by (N^2, M): no N^3 work per mode.

Error analysis.  Near-degenerate pairs, ``|alpha_i - lambda_j|`` < tau rho_ij
(tau = ``DEGENERATE``, rho_ij = min(-Im alpha_i, -Im lambda_j), a lower bound
of the radius of convergence of D_k about alpha_i; i = j at s = 0 and the
exactly degenerate levels of identical copies or spin blocks) are left out of
the separable sums and added by Taylor series,
D_k[x, y] = sum_n D_k^(n+1)(x) Delta^n/(n+1)! and
D_k[x, x, y] = sum_n D_k^(n+2)(x) Delta^n/(n+2)!, Delta = y - x (``TAYLOR``
terms).  Relative to ``|D|`` the separable form loses ~eps rho/``|Delta|``
(eps (rho/``|Delta|``)^2 for G') to cancellation, the series truncates at
~(``|Delta|``/rho)^TAYLOR: with tau = 1e-3 and 4 terms both stay below 2e-10
(2e-13 for K).  A narrow level (Im lambda_k -> 0) makes D_k(z) near lambda_k
a ratio of two small numbers where phi vanishes; there (:func:`_d_derivatives`)
D_k(z) = l[z, mu_k] - 2 pi i phi(mu_k)/(z - mu_k) with l the continuation of L
across the real axis, the divided difference summed as a series about mu_k
(``CLOSE``, ``CLOSE_TERMS``).  What remains is rounding: the estimates
returned are ``ROUNDING_FACTOR`` eps (cond(V) + N) times a bound on the
summed terms (Cauchy-Schwarz on each pair sum), plus the size of the last
Taylor term.  A level much narrower than the window inside it makes the
terms of S_G' of order 1/gamma^2 against a result of order one: the estimate
says so, and :func:`currentforces.force_coefficients` falls back to the
contour (:mod:`currentforces.contour`) for these pieces.

Units: energies eV; K_bias eV/Angstrom^2, L_bias eV fs/Angstrom^2, pi_bias eV/Angstrom^2 (per spin).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .fermi_rational import fermi_primitive, polygamma
from .units import HBAR, KB

if TYPE_CHECKING:
    from .operators import ForceOperators
    from .spectral import Eigenbasis


__all__ = ["WindowBasis", "WindowTerms", "applies", "bias_window", "from_eigenbasis", "window_basis"]

TAYLOR = 4
"""Terms of the Taylor series of the divided differences for near-degenerate pairs."""

DEGENERATE = 1e-3
"""tau: a pair (i, j) is summed by Taylor series where ``|alpha_i - beta_j|`` < tau rho_ij."""

ROUNDING_FACTOR = 8.0
"""Safety factor of the rounding-error estimate (eps (cond(V) + N) times the term sizes)."""

MAX_ELEMENTS = 2e7
"""Largest M N^2 treated (the stacked F^b, complex): 320 MB."""

CHUNK_ELEMENTS = 4e6
"""Modes are processed in chunks of at most this many complex elements per (modes, N, N) array."""


# ----------------------------------------------------------------------------
# the eigenbasis
# ----------------------------------------------------------------------------
@dataclass
class WindowBasis:
    """What the closed forms need of the eigenbasis of (h + Sigma, S).

    Attributes
    ----------
    eigenvalues : ndarray (N,)
        lambda_i (eV), Im < 0.
    v_support : ndarray (s, N)
        Rows of V on the force support.
    w_support : ndarray (N, s)
        Columns of W = (S V)^{-1} on the force support.
    w_leads : list of ndarray (N, n_l)
        Columns of W on each lead's support.
    gammas : list of ndarray (n_l, n_l)
        Gamma_l on its support (eV).
    condition : float
        cond(V).
    bound : ndarray of bool (N,), optional
        Eigenvalues real to working precision (bound states,
        :data:`currentforces.spectral.NEAR_REAL`): their width is rounding
        noise, so the jump terms 2 pi i phi/(z - lambda_k^*) of
        :func:`_d_derivatives`, of order phi/width, are left out (a bound
        state has no weight in A_l).
    """

    eigenvalues: NDArray[Any]
    v_support: NDArray[Any]
    w_support: NDArray[Any]
    w_leads: list[NDArray[Any]]
    gammas: list[NDArray[Any]]
    condition: float
    bound: NDArray[Any] | None = None


def _low_rank(w_lead, gamma):
    """U with U diag(sign) U^dagger = W[:, sup] Gamma W[:, sup]^dagger, Gamma = C diag(sign) C^dagger."""
    g = 0.5 * (gamma + np.conj(gamma.T))
    vals, vecs = np.linalg.eigh(g)
    keep = np.abs(vals) > 1e-14 * max(np.abs(vals).max(initial=0.0), 1e-300)
    c = vecs[:, keep] * np.sqrt(np.abs(vals[keep]))
    return w_lead @ c, np.sign(vals[keep])


@dataclass
class WindowTerms:
    """Values (complex (M, M), per spin) and absolute error estimates of the S sums of the module docstring."""

    values: dict[str, NDArray[Any]]
    errors: dict[str, float]


CLOSE = 1e-2
"""D_k(z) near mu_k = lambda_k^* (``|z - mu_k|`` < CLOSE R_k, R_k the radius of analyticity of
the continued primitive about mu_k) is summed as a Taylor series about mu_k (:func:`_d_derivatives`)."""

CLOSE_TERMS = 10
"""Terms of that series: CLOSE^10 = 1e-20, below eps after the factors n!/(n-m)! of 6 derivatives."""


class _Primitive:
    """The Fermi-weighted primitive L_phi(z) = Q(z; mu) - Q(z; mu_0) of one lead
    (:func:`~currentforces.fermi_rational.fermi_primitive`, z in the lower half plane,
    the additive constants cancel) and its continuation across the real axis."""

    def __init__(self, mu: float, mu0: float, temperature: float) -> None:
        self.mu, self.mu0, self.temperature = mu, mu0, temperature

    def derivatives(self, z: NDArray[Any], order: int) -> NDArray[Any]:
        """L_phi^(m)(z), m = 0..order, (order + 1,) + z.shape."""
        t = self.temperature
        return np.stack(
            [fermi_primitive(z, self.mu, t, k) - fermi_primitive(z, self.mu0, t, k) for k in range(order + 1)]
        )

    def radius(self, z: NDArray[Any]) -> NDArray[Any]:
        """Radius of the disk about z (upper half plane, near the real axis) in which the
        continuation of L_phi from below is analytic: the distance to the chemical
        potentials at T = 0 (its derivatives are rational), to the Matsubara poles
        mu + i pi k_B T (2n + 1) at T > 0 (0 above the first: no continuation used)."""
        mus = np.array([self.mu, self.mu0])
        if self.temperature == 0:
            return np.abs(z[..., None] - mus).min(axis=-1)
        y = math.pi * KB * self.temperature
        poles = (mus[:, None] + 1j * y * np.array([1.0, 3.0, 5.0])[None, :]).ravel()
        return np.where(z.imag < y, np.abs(z[..., None] - poles).min(axis=-1), 0.0)

    def taylor(self, z: NDArray[Any], terms: int) -> NDArray[Any]:
        """l^(p)(z)/p!, p = 1..terms, of the continuation l of L_phi at z (upper half plane,
        ``Im z`` < pi k_B T), (terms,) + z.shape: the rational derivatives of the logarithms
        at T = 0; at T > 0 (i/c)^p psi^(p)(x), x = 1/2 + i (z - mu)/c, c = 2 pi k_B T, with
        0 < Re x < 1/2 taken through psi^(p)(x) = psi^(p)(x + 1) - (-1)^p p!/x^(p+1)."""
        out = np.zeros((terms,) + z.shape, dtype=complex)
        for mu, sign in ((self.mu, 1.0), (self.mu0, -1.0)):
            if self.temperature == 0:
                for p in range(1, terms + 1):
                    out[p - 1] += sign * fermi_primitive(z, mu, 0.0, p) / math.factorial(p)
                continue
            c = 2 * math.pi * KB * self.temperature
            x = 0.5 + 1j * (z - mu) / c
            for p in range(1, terms + 1):
                psi = polygamma(p, x + 1.0) - (-1.0) ** p * math.factorial(p) / x ** (p + 1)
                out[p - 1] += sign * psi * (1j / c) ** p / math.factorial(p)
        return out

    def jump(self, z: NDArray[Any]) -> NDArray[Any]:
        """2 pi i phi(z): the function above the axis minus the continuation from below
        (Sokhotski-Plemelj), phi = n_F(z - mu) - n_F(z - mu_0) continued (T > 0), or
        +-1 inside the window and 0 outside it (T = 0)."""
        if self.temperature == 0:
            x = z.real
            inside = np.where((x - self.mu0) * (self.mu - x) > 0, np.sign(self.mu - self.mu0), 0.0)
            return 2j * math.pi * inside
        kt = KB * self.temperature
        return 1j * math.pi * (np.tanh((self.mu - z) / (2 * kt)) - np.tanh((self.mu0 - z) / (2 * kt)))


def _d_derivatives(prim, alpha, lam, l_alpha, lbar, order, bound=None):
    """D_k^(m)(alpha_i), m = 0..order, (order + 1, len(alpha), N).

    D_k(z) = (L_phi(z) - conj L_phi(lambda_k)) / (z - mu_k), mu_k = lambda_k^*, and its
    derivatives from D (z - mu_k) = L_phi(z) - conj L_phi(lambda_k) differentiated m times,
    D^(m) = (L_phi^(m) - m D^(m-1)) / (z - mu_k).  Where z comes close to mu_k (a narrow
    level, Im lambda_k -> 0, with i = k or a level close to it) numerator and denominator
    both vanish where phi does (outside the window): there
    D_k(z) = l[z, mu_k] - 2 pi i phi(mu_k)/(z - mu_k), with l the continuation of L_phi
    across the real axis (conj L_phi(lambda_k) = l(mu_k) + 2 pi i phi(mu_k), Sokhotski),
    and the divided difference l[z, mu_k] = sum_n l^(n+1)(mu_k) (z - mu_k)^n / (n+1)! is
    summed as a series (``CLOSE``, ``CLOSE_TERMS``).  For the ``bound`` levels (widths
    at rounding level) the jump term, ~phi/width with a width known to no digit, is
    left out: they are bound states, without weight in A_l.
    """
    mu_k = np.conj(lam)
    c = 1.0 / (alpha[:, None] - mu_k[None, :])
    out = np.empty((order + 1, alpha.size, lam.size), dtype=complex)
    out[0] = (l_alpha[0][:, None] - lbar[None, :]) * c
    for m in range(1, order + 1):
        out[m] = (l_alpha[m][:, None] - m * out[m - 1]) * c
    radius = prim.radius(mu_k)
    ii, kk = np.nonzero(np.abs(alpha[:, None] - mu_k[None, :]) < CLOSE * radius[None, :])
    if ii.size:
        ks = np.unique(kk)
        t = prim.taylor(mu_k[ks], CLOSE_TERMS + order)  # (terms, len(ks))
        tk = t[:, np.searchsorted(ks, kk)]
        x = alpha[ii] - mu_k[kk]
        jump = prim.jump(mu_k[kk])
        if bound is not None:
            jump = np.where(bound[kk], 0.0, jump)
        for m in range(order + 1):
            acc = np.zeros(ii.size, dtype=complex)
            for nn in range(CLOSE_TERMS + order - 1, m - 1, -1):  # Horner in x
                acc = acc * x + tk[nn] * (math.factorial(nn) / math.factorial(nn - m))
            out[m, ii, kk] = acc - jump * ((-1) ** m * math.factorial(m)) / x ** (m + 1)
    return out


def _mode_factors(basis, ops):
    """The low-rank factors of X^a = V^dagger f_a V = (conj V_a)^T (f_a V_a) and
    F^a = W f_a V = W[:, n_a] (f_a V_a) on the orbitals n_a that f_a touches, padded
    with zeros to the largest n_a for batched products: (indices (M, n), f_a V_a
    (M, n, N), conj V_a (M, n, N))."""
    dense = ops.dense
    touched = [
        np.flatnonzero(np.any(dense[a] != 0, axis=0) | np.any(dense[a] != 0, axis=1)) for a in range(ops.n_modes)
    ]
    width = max((t.size for t in touched), default=0)
    n = basis.eigenvalues.size
    idx = np.zeros((ops.n_modes, width), dtype=int)
    fv = np.zeros((ops.n_modes, width, n), dtype=complex)
    for a, nz in enumerate(touched):
        idx[a, : nz.size] = nz
        fv[a, : nz.size] = dense[a][np.ix_(nz, nz)] @ basis.v_support[nz]
    return idx, fv, np.conj(basis.v_support[idx])


def _row_norms(x):
    """Frobenius norms of the rows of a 2-d complex array (one BLAS pass each)."""
    return np.sqrt(np.array([np.vdot(r, r).real for r in x]))


def _chunks(m, n):
    """Mode chunks of at most ``CHUNK_ELEMENTS`` / N^2 modes."""
    size = max(1, int(CHUNK_ELEMENTS // max(n * n, 1)))
    return [list(range(i, min(m, i + size))) for i in range(0, m, size)]


def applies(basis_size: int, n_modes: int) -> bool:
    """Whether the closed forms fit in memory: M N^2 <= ``MAX_ELEMENTS`` (the stacked F^b)."""
    return n_modes * basis_size**2 <= MAX_ELEMENTS


def bias_window(
    basis: WindowBasis,
    ops: ForceOperators,
    chemical_potentials: NDArray[Any],
    temperature: float,
    hbar_omega: float = 0.0,
) -> WindowTerms:
    r"""The bias-window sums in closed form (module docstring, :ref:`theory-spectral-window`).

    Parameters
    ----------
    basis : WindowBasis
        The eigenbasis of (h + Sigma, S) (:func:`window_basis`).
    ops : ForceOperators
        The force operators f_a (eV/Angstrom).
    chemical_potentials : array (n_leads,)
        eV; mu_0 is their mean.
    temperature : float
        K (0 allowed).
    hbar_omega : float
        eV; 0: the adiabatic pieces.

    Returns
    -------
    WindowTerms
        At ``hbar_omega`` = 0: "K_bias" = (1/pi) Re S_G and "L_bias" = (hbar/pi) Im S_G'
        (eV/A^2, eV fs/A^2); at ``hbar_omega`` > 0: "pi_bias" = (S_G+ + conj S_G-)/(2 pi)
        (complex, eV/A^2; errors "pi_bias" and "pi_bias_im" of its real and imaginary
        parts).  Per spin; errors absolute.
    """
    mus = np.asarray(chemical_potentials, dtype=float)
    mu0 = float(np.mean(mus))
    w = float(hbar_omega)
    lam = np.asarray(basis.eigenvalues, dtype=complex)
    n = lam.size
    m = ops.n_modes
    leads = [i for i in range(mus.size) if mus[i] != mu0]
    adiabatic = w == 0
    if not leads:
        if adiabatic:
            zero = np.zeros((m, m))
            return WindowTerms({"K_bias": zero, "L_bias": zero}, {"K_bias": 0.0, "L_bias": 0.0})
        return WindowTerms({"pi_bias": np.zeros((m, m), complex)}, {"pi_bias": 0.0, "pi_bias_im": 0.0})
    order = TAYLOR + (2 if adiabatic else 1)
    kappa = ROUNDING_FACTOR * np.finfo(float).eps * (basis.condition + n)

    lead_data = []  # (U, diag(sign) U^dagger as (N, r) conj, conj L_phi(lambda), primitive)
    z_q = np.zeros((n, n), dtype=complex)  # sum_l Y_l o D_l(beta = lambda)
    for i in leads:
        u, sg = _low_rank(basis.w_leads[i], basis.gammas[i])
        prim = _Primitive(float(mus[i]), mu0, temperature)
        l_lam = prim.derivatives(lam, 2 if adiabatic else 0)  # reused for alpha = lambda
        lbar = np.conj(l_lam[0])
        d_lam = _d_derivatives(prim, lam, lam, l_lam, lbar, 2 if adiabatic else 0, basis.bound)  # D^(m)_k(lambda_i)
        z_q += ((u * sg) @ np.conj(u.T)) * d_lam[0]
        lead_data.append((u, np.conj(u) * sg, lbar, prim, d_lam))

    shifts = [0.0] if adiabatic else [w, -w]  # alpha = lambda - s for G(E + s)
    geometry = []
    for s in shifts:
        alpha = lam - s
        delta = lam[None, :] - alpha[:, None]  # beta_j - alpha_i
        rho = np.minimum(-alpha.imag[:, None], -lam.imag[None, :])
        near = np.abs(delta) < DEGENERATE * rho
        if adiabatic:
            np.fill_diagonal(near, False)  # i = j: the first Taylor term, summed apart
        e = np.zeros((n, n), dtype=complex)
        far = ~near
        if adiabatic:
            np.fill_diagonal(far, False)
        e[far] = -1.0 / delta[far]  # E_ij = 1/(alpha_i - beta_j)
        pi_idx, pj_idx = np.nonzero(near)
        rows = np.unique(pi_idx)
        d_all, d_rows = [], []
        for _u, _uc, lbar, prim, d_lam in lead_data:
            d_all.append(
                d_lam if s == 0 else _d_derivatives(prim, alpha, lam, prim.derivatives(alpha, 0), lbar, 0, basis.bound)
            )
            if rows.size:
                lr = prim.derivatives(alpha[rows], order)
                d_rows.append(_d_derivatives(prim, alpha[rows], lam, lr, lbar, order, basis.bound))
            else:
                d_rows.append(None)
        geometry.append((e, pi_idx, pj_idx, rows, delta[pi_idx, pj_idx], d_all, d_rows))

    idx, fv, cv = _mode_factors(basis, ops)
    f_all = np.matmul(np.swapaxes(basis.w_support[:, idx], 0, 1), fv)  # F^b = W f_b V, (M, N, N)
    fv_t = np.swapaxes(fv, 1, 2)  # (f_a V_a)^T, (M, N, n)
    cq = np.conj(basis.v_support) @ z_q.T  # conj(V_S) Z^T: Q^a = Z X^a = (conj V_a Z^T)^T-contracted with f_a V_a
    f_diag = np.stack([np.diagonal(f) for f in f_all])
    nq = 2 if adiabatic else len(shifts)
    sums = [np.zeros((m, m), dtype=complex) for _ in range(nq)]
    errs = [np.zeros((m, m)) for _ in range(nq)]
    sides = []
    for e, *_ in geometry:
        # the E side, per b: F o E (and F o E^2 for L) and their products with each U_l
        fe = np.empty((2 if adiabatic else 1, m, n, n), dtype=complex)
        np.multiply(f_all, e, out=fe[0])
        if adiabatic:
            np.multiply(fe[0], e, out=fe[1])
        fe_flat = fe.reshape(-1, n * n)  # (M or 2M, N^2), no copy
        h_l = [[(x.reshape(m * n, n) @ u).reshape(m, n * u.shape[1]) for x in fe] for u, *_ in lead_data]
        sides.append((fe_flat, _row_norms(fe_flat).reshape(len(fe), m), h_l))
    for modes in _chunks(m, n):
        k = len(modes)
        # X^a_ki at [a, i, k] and Q^a_ji at [a, i, j], from X^a = conj(V_a)^T (f_a V_a), Q^a = Z X^a
        xi = np.swapaxes(np.matmul(fv_t[modes], cv[modes]), 0, 1)  # X^a_ki at [i, a, k]
        q_flat = np.matmul(fv_t[modes], cq[idx[modes]]).reshape(k, n * n)  # Q^a_ji at [a, i, j]
        q_norm = _row_norms(q_flat)
        for g, (_e, pi_idx, pj_idx, rows, dl, d_all, d_rows) in enumerate(geometry):
            fe_flat, fe_norm, h_l = sides[g]
            # Q part: -sum_ij F_ij E_ij Q_ji (K) and +sum_ij F_ij E_ij^2 Q_ji (L)
            qe = q_flat @ fe_flat.T  # (k, len(fe) M)
            q = 0 if adiabatic else g
            sums[q][modes] -= qe[:, :m]
            errs[q][modes] += kappa * np.outer(q_norm, fe_norm[0])
            if adiabatic:
                sums[1][modes] += qe[:, m:]
                errs[1][modes] += kappa * np.outer(q_norm, fe_norm[1])
            vals = np.zeros((order + 1, k, pi_idx.size), dtype=complex)
            # Z^(j)_{a,is} = sum_k X^a_ki D^(j)_ik conj(U_ks) sign_s for every lead and derivative
            # order j, one batched product over i: (k, N) @ (N, sum of ranks x orders)
            norders = 3 if adiabatic else 1
            widths = [u.shape[1] for u, *_ in lead_data]
            bmat = np.concatenate(
                [d[j][:, :, None] * uc[None] for (_u, uc, *_), d in zip(lead_data, d_all) for j in range(norders)],
                axis=2,
            )
            zall = np.matmul(xi, bmat)  # (N, k, R)
            offset = 0
            for (u, uc, *_), dr, hs, r in zip(lead_data, d_rows, h_l, widths):
                # P part: sum_ij F_ij E_ij P_ji = sum_is Z_is [(F o E) U]_is
                zs = []
                for _j in range(norders):
                    zs.append(np.ascontiguousarray(np.swapaxes(zall[:, :, offset : offset + r], 0, 1)))  # (k, N, r)
                    offset += r
                z0 = zs[0].reshape(k, n * r)
                sums[q][modes] += z0 @ hs[0].T
                errs[q][modes] += kappa * np.outer(_row_norms(z0), _row_norms(hs[0]))
                if adiabatic:
                    z1 = zs[1].reshape(k, n * r)
                    # K: + sum_i F_ii P'_ii (w_iik = D'_ik); L: + sum_i F_ii (Y (X o D''^T))_ii / 2
                    d1 = np.einsum("ais,is->ai", zs[1], u)
                    d2 = 0.5 * np.einsum("ais,is->ai", zs[2], u)
                    sums[0][modes] += d1 @ f_diag.T
                    errs[0][modes] += kappa * np.abs(d1) @ np.abs(f_diag).T
                    # L: sum_ij F_ij [E_ij P'_ji - E_ij^2 P_ji]
                    sums[1][modes] += z1 @ hs[0].T - z0 @ hs[1].T + d2 @ f_diag.T
                    errs[1][modes] += kappa * (
                        np.outer(_row_norms(z1), _row_norms(hs[0]))
                        + np.outer(_row_norms(z0), _row_norms(hs[1]))
                        + np.abs(d2) @ np.abs(f_diag).T
                    )
                if dr is not None:
                    pos = np.searchsorted(rows, pi_idx)
                    zr = np.einsum("iak,mik,ks->mais", xi[rows], dr, uc, optimize=True)
                    vals += np.einsum("ps,maps->map", u[pj_idx], zr[:, :, pos], optimize=True)
            if pi_idx.size:
                facs = [math.factorial(j) for j in range(order + 2)]
                fn = f_all[:, pi_idx, pj_idx]  # (M_b, P)
                tk = sum(vals[j + 1] * dl**j / facs[j + 1] for j in range(TAYLOR))
                last = np.abs(vals[TAYLOR] * dl ** (TAYLOR - 1)) / facs[TAYLOR]
                sums[q][modes] += tk @ fn.T
                errs[q][modes] += (kappa * np.abs(tk) + last) @ np.abs(fn).T
                if adiabatic:
                    tl = sum(vals[j + 2] * dl**j / facs[j + 2] for j in range(TAYLOR))
                    last = np.abs(vals[TAYLOR + 1] * dl ** (TAYLOR - 1)) / facs[TAYLOR + 1]
                    sums[1][modes] += tl @ fn.T
                    errs[1][modes] += (kappa * np.abs(tl) + last) @ np.abs(fn).T
    if adiabatic:
        s_k, s_l = sums[0], -sums[1]  # G' = -V diag(d^2) W
        return WindowTerms(
            {"K_bias": s_k.real / math.pi, "L_bias": HBAR * s_l.imag / math.pi},
            {"K_bias": float(errs[0].max()) / math.pi, "L_bias": HBAR * float(errs[1].max()) / math.pi},
        )
    value = (sums[0] + np.conj(sums[1])) / (2 * math.pi)
    err = float((errs[0] + errs[1]).max()) / (2 * math.pi)
    return WindowTerms({"pi_bias": value}, {"pi_bias": err, "pi_bias_im": err})


def from_eigenbasis(eigen: Eigenbasis, ops: ForceOperators) -> WindowBasis:
    """The :class:`WindowBasis` of an :class:`currentforces.spectral.Eigenbasis` (the one
    eigendecomposition that :func:`currentforces.force_coefficients` makes for every closed form)."""
    dev = eigen.device
    return WindowBasis(
        eigenvalues=np.asarray(eigen.lam),
        v_support=eigen.v[ops.support],
        w_support=eigen.w[:, ops.support],
        w_leads=[eigen.w[:, sup] for sup in dev.sups],
        gammas=list(dev.gammas),
        condition=float(eigen.cond),
        bound=np.asarray(eigen.bound, dtype=bool),
    )


def window_basis(junction: Any, ops: ForceOperators) -> WindowBasis:
    """The :class:`WindowBasis` of a junction with energy-independent self-energies (one eigendecomposition)."""
    import scipy.linalg as la

    n = junction.size
    h = junction.hamiltonian
    h = np.asarray(h.toarray() if hasattr(h, "toarray") else h, dtype=complex)
    z0 = np.array([0.0])
    sigma = np.zeros((n, n), dtype=complex)
    sups, gammas = [], []
    for lead in junction.leads:
        sigma += np.asarray(lead.self_energy(z0))[0]
        sups.append(np.asarray(lead.support, dtype=int))
        gammas.append(np.asarray(lead.broadening_block(z0))[0])
    s = getattr(junction, "overlap", None)
    s = None if s is None else np.asarray(s.toarray() if hasattr(s, "toarray") else s, dtype=complex)
    lam, v = la.eig(h + sigma, s)
    wmat = np.linalg.inv(v if s is None else s @ v)
    return WindowBasis(
        eigenvalues=lam,
        v_support=v[ops.support],
        w_support=wmat[:, ops.support],
        w_leads=[wmat[:, sup] for sup in sups],
        gammas=gammas,
        condition=float(np.linalg.norm(v) * np.linalg.norm(wmat)),  # >= cond_2(V), cheaper than an SVD
    )
