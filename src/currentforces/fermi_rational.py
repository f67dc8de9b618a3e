r"""Closed-form Fermi-weighted integrals of rational functions of the energy
(:ref:`theory-fermi-rational`).

For a pole a off the real axis and a chemical potential mu the integral
int n_F(E - mu) / (E - a) dE diverges logarithmically at E -> -infinity,
but the divergence is the same real constant for every pole, so for any
rational function with simple poles and residues that sum to zero

.. math::

    \int dE\, n_F(E - \mu) \sum_i \frac{c_i}{E - a_i} = \sum_i c_i\, Q(a_i),
    \qquad \sum_i c_i = 0,

with the *Fermi primitive* (:eq:`eq-fermi-primitive`)

.. math::

    Q(a) = \psi\Big(\tfrac12 + \frac{\sigma i (a - \mu)}{2\pi k_B T}\Big)
           - \frac{i\pi\sigma}{2}, \quad \sigma = -\mathrm{sign}\, \mathrm{Im}\, a,
    \qquad Q(a) = \log(a - \mu) \ \ (T = 0),

psi the digamma function and log the principal branch.  The argument of
psi has real part ``1/2 + |Im a|/(2 pi k_B T) >= 1/2``; Q is analytic in
each half plane, its only singularities being the Matsubara energies
mu +- i pi k_B T (2n + 1) of the *other* half plane (T > 0) or the branch
cut a < mu on the real axis (T = 0).  Products of two resolvents become
divided differences of Q,

.. math::

    \int dE\, \frac{n_F(E - \mu)}{(E - a)(E - b)} = Q[a, b]
        = \frac{Q(a) - Q(b)}{a - b}, \qquad
    \int dE\, \frac{-n_F'(E - \mu)}{(E - a)(E - b)} = -Q'[a, b],

and int n_F / ((E - a)^2 (E - b)) = Q[a, a, b] (the derivative in a).
Where ``|a - b|`` is small against the distance rho of a to the nearest
singularity of Q, the divided differences are summed as Taylor series in
h = b - a (no cancellation): Q[a, b] = sum_k Q^(k)(a) h^(k-1)/k!,
Q[a, a, b] = sum_k Q^(k+1)(a) h^(k-1)/(k+1)!; for b in the other half
plane (a narrow level and its conjugate) the series continues a's branch
and the jump of Q across the real axis, 2 pi i n_F(b - mu) (:func:`fermi_jump`),
is added in closed form.

Units: energies (a, mu, k_B T) in eV, temperature in K; Q is dimensionless,
its k-th derivative in eV^-k.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    ComplexArray = NDArray[np.complex128]
    RealArray = NDArray[np.float64]

__all__ = [
    "polygamma",
    "fermi_primitive",
    "singularity_distance",
    "divided_difference",
    "second_divided_difference",
    "difference_matrix",
    "fermi_jump",
    "second_difference_matrix",
    "TAYLOR_RATIO",
    "TAYLOR_TERMS",
]

KB_EV = 8.617333262e-5
"""Boltzmann constant in eV/K (CODATA 2018, as :data:`currentforces.units.KB`;
restated here so that this module imports only numpy)."""

_BERNOULLI = (
    1.0 / 6,
    -1.0 / 30,
    1.0 / 42,
    -1.0 / 30,
    5.0 / 66,
    -691.0 / 2730,
    7.0 / 6,
    -3617.0 / 510,
    43867.0 / 798,
    -174611.0 / 330,
)
"""B_2, B_4, ..., B_20."""

_EPS = float(np.finfo(float).eps)

TAYLOR_RATIO = 0.05
"""Divided differences are summed as a Taylor series where
``|b - a|`` < TAYLOR_RATIO rho(a) (rho the distance to the nearest
singularity of Q, :func:`singularity_distance`).

Error analysis (relative to the size ``|Q'|`` ~ 1/rho of the result, t =
``|b - a|``/rho): the k-th Taylor term is ``|Q^(k)|`` t^(k-1) rho^(k-1)/k!
<= t^(k-1)/k, so truncating after ``TAYLOR_TERMS`` = K terms errs by
~ t^K/(K + 1) (2e-17 at t = 0.05, K = 12); the direct quotient
(Q(a) - Q(b))/(a - b) loses eps ``|Q|``/t to cancellation (~5e-15 ``|Q|`` at
t = 0.05, ``|Q|`` is at most a few tens).  For the second divided
difference the quotient's loss gains a factor 1/t (~1e-13 ``|Q|``).  A
smaller ratio would cost accuracy in the quotients, a larger one more
series terms for more pairs (the series cost ~K polygamma evaluations per
pair, the quotients one per pole)."""

TAYLOR_TERMS = 12
"""Terms of the Taylor series of the divided differences (see
:data:`TAYLOR_RATIO`)."""

_ASYMPTOTIC_RADIUS = 24.0
"""``|z|`` from which the asymptotic series of psi^(n) is summed (the
recurrence shifts z there first): with ten Bernoulli terms its truncation
error is below 1e-17 for n <= 16."""


def polygamma(n: int, z: ArrayLike) -> ComplexArray:
    r"""Complex polygamma psi^(n)(z) = d^(n+1)/dz^(n+1) log Gamma(z) for Re z >= 1/2.

    The recurrence psi^(n)(z) = psi^(n)(z + 1) - (-1)^n n!/z^(n+1) shifts z
    to ``|z|`` >= 24, where the asymptotic series

    .. math::

        \psi(z) \sim \log z - \frac{1}{2z} - \sum_{k \ge 1} \frac{B_{2k}}{2k\, z^{2k}},
        \quad
        \psi^{(n)}(z) \sim (-1)^{n+1}\Big[\frac{(n-1)!}{z^n} + \frac{n!}{2 z^{n+1}}
            + \sum_{k \ge 1} B_{2k} \frac{(2k+n-1)!}{(2k)!\, z^{2k+n}}\Big]

    (Abramowitz and Stegun 6.3.18, 6.4.11) is summed to B_20.  Valid in
    the closed right half plane Re z >= 1/2 (``|arg z|`` <= pi/2 after the
    shift), where it is accurate to a few ulp of the terms.  scipy's
    ``polygamma`` takes real arguments only.

    Parameters
    ----------
    n : int
        Order, n >= 0 (psi^(0) is the digamma function).
    z : array_like of complex
        Arguments with Re z >= 1/2.

    Returns
    -------
    ndarray of complex, the shape of ``z``.
    """
    if int(n) != n or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n!r}")
    return _polygammas([int(n)], z)[0]


def _polygammas(orders: list[int], z: ArrayLike) -> list[ComplexArray]:
    """psi^(n)(z) for every n in ``orders``, sharing the recurrence: all z are
    shifted by the same K steps, K = ceil(24 - min ``|z|``) (one vectorised sum
    per order), then the asymptotic series of :func:`polygamma`."""
    z = np.asarray(z, dtype=complex)
    if z.size and float(np.min(z.real)) < 0.5 - 1e-12:
        raise ValueError("polygamma: z must have Re z >= 1/2")
    smallest = float(np.min(np.abs(z))) if z.size else _ASYMPTOTIC_RADIUS
    steps = max(0, math.ceil(_ASYMPTOTIC_RADIUS - smallest))
    inv_steps = 1.0 / (z[..., None] + np.arange(steps)) if steps else None
    zz = z + steps
    inv = 1.0 / zz
    inv2 = inv * inv
    out = []
    for n in orders:
        fact_n = float(math.factorial(n))
        if n == 0:
            series = np.log(zz) - 0.5 * inv
            power = inv2.copy()
            for k, b in enumerate(_BERNOULLI, start=1):
                series = series - b / (2 * k) * power
                power = power * inv2
        else:
            total = math.factorial(n - 1) * inv**n + 0.5 * fact_n * inv ** (n + 1)
            power = inv ** (n + 2)
            for k, b in enumerate(_BERNOULLI, start=1):
                total = total + b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * power
                power = power * inv2
            series = (-1.0) ** (n + 1) * total
        if inv_steps is not None:
            # psi^(n)(z) = psi^(n)(z + K) - (-1)^n n! sum_{k<K} 1/(z + k)^(n+1)
            series = series - (-1.0) ** n * fact_n * np.sum(inv_steps ** (n + 1), axis=-1)
        out.append(np.asarray(series, dtype=complex))
    return out


def _kt(temperature: float) -> float:
    if not temperature >= 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be finite and >= 0 K, got {temperature!r}")
    return KB_EV * float(temperature)


def fermi_primitive(a: ArrayLike, mu: float, temperature: float, order: int = 0) -> ComplexArray:
    r"""The Fermi primitive Q(a) of the module docstring, or its ``order``-th
    derivative in a (:eq:`eq-fermi-primitive`).

    .. math::

        Q^{(k)}(a) = \Big(\frac{i\sigma}{2\pi k_B T}\Big)^k
            \psi^{(k)}\Big(\tfrac12 + \frac{i\sigma (a - \mu)}{2\pi k_B T}\Big)
            \ (k \ge 1), \qquad
        Q^{(k)}(a) = \frac{(-1)^{k-1} (k-1)!}{(a - \mu)^k} \ \ (T = 0),

    sigma = -sign Im a.  The mu-derivative is -Q'(a):
    int (-n_F'(E - mu)) / (E - a) dE = -Q'(a), which at T = 0 is 1/(mu - a).

    Parameters
    ----------
    a : array_like of complex
        Poles in eV, off the real axis (Im a != 0; at T = 0 also a != mu).
    mu : float
        Chemical potential in eV.
    temperature : float
        K (0 allowed).
    order : int
        Derivative order k >= 0.

    Returns
    -------
    ndarray of complex (eV^-k).
    """
    return _primitives(a, mu, temperature, [order])[0]


def _primitives(a: ArrayLike, mu: float, temperature: float, orders: list[int]) -> list[ComplexArray]:
    """Q^(k)(a) for every k in ``orders`` (:func:`fermi_primitive`), sharing the
    polygamma recurrence."""
    a = np.asarray(a, dtype=complex)
    kt = _kt(temperature)
    if kt == 0:
        d = a - mu
        return [
            np.log(d) if k == 0 else np.asarray((-1.0) ** (k - 1) * math.factorial(k - 1) / d**k, dtype=complex)
            for k in orders
        ]
    if np.any(a.imag == 0):
        raise ValueError("fermi_primitive: the poles a must lie off the real axis")
    lower_half = a.imag < 0
    c = 2 * math.pi * kt
    # Q_- (lower half plane) at a or at conj(a); the upper-half-plane Q is its conjugate
    lower = np.where(lower_half, a, np.conj(a))
    x = 0.5 + 1j * (lower - mu) / c
    out = []
    for k, psi in zip(orders, _polygammas(list(orders), x)):
        q = psi * (1j / c) ** k
        if k == 0:
            q = q - 0.5j * math.pi
        out.append(np.where(lower_half, q, np.conj(q)))
    return out


def singularity_distance(a: ArrayLike, mu: float, temperature: float) -> RealArray:
    """Distance rho(a) (eV) from a to the nearest singularity of Q in a's
    half plane's continuation: ``|a - mu|`` at T = 0 (the branch point),
    ``|a - mu -+ i pi k_B T|`` at T > 0 (the first Matsubara energy on the
    other side of the real axis; a in the lower/upper half plane), the
    radius of convergence of the Taylor series of Q about a."""
    a = np.asarray(a, dtype=complex)
    kt = _kt(temperature)
    y = np.where(a.imag < 0, math.pi * kt, -math.pi * kt)
    return np.abs(a - mu - 1j * y)


def _taylor_mask(a, b, rho, cross=True):
    """Pairs summed as Taylor series: ``|b - a|`` < TAYLOR_RATIO rho(a); pairs in
    opposite half planes too when ``cross`` (with the jump term, :func:`fermi_jump`)."""
    near = np.abs(b - a) < TAYLOR_RATIO * rho
    return near if cross else near & (np.sign(a.imag) == np.sign(b.imag))


def fermi_jump(b: ArrayLike, mu: float, temperature: float, order: int = 0) -> ComplexArray:
    r"""J^(order)(b): the jump of Q across the real axis, at a point b of the
    other half plane than the series' centre.

    Q in the half plane of b minus the analytic continuation of Q from the
    other half plane (the reflection formula psi(1 - x) - psi(x) = pi cot(pi x),
    Abramowitz and Stegun 6.3.7):

    .. math:: J(b) = 2\pi i\, s_b\, n_F(b - \mu), \qquad s_b = \mathrm{sign}\,\mathrm{Im}\, b,

    at T = 0 2 pi i s_b theta(mu - Re b); ``order`` 1 is its derivative
    2 pi i s_b n_F'(b - mu) (0 at T = 0).  So, for a and b in opposite half
    planes, Q[a, b] = Q_c[a, b] - J(b)/(a - b) with Q_c the continuation of
    a's branch, whose Taylor series about a needs no cancellation: the
    second term carries the 1/``|Im a - Im b|`` of a narrow level exactly.

    Parameters
    ----------
    b : array_like of complex
        Points in eV off the real axis (``|Im b|`` < pi k_B T at T > 0, where
        n_F has no pole).
    mu : float
        eV.
    temperature : float
        K.
    order : {0, 1}

    Returns
    -------
    ndarray of complex (eV^-order).
    """
    b = np.asarray(b, dtype=complex)
    s = np.where(b.imag > 0, 2j * math.pi, -2j * math.pi)
    kt = _kt(temperature)
    if order not in (0, 1):
        raise ValueError(f"fermi_jump: order must be 0 or 1, got {order!r}")
    if kt == 0:
        step = np.where(b.real < mu, 1.0, 0.0) if order == 0 else np.zeros(b.shape)
        return np.asarray(s * step, dtype=complex)
    x = (b - mu) / kt
    pos = x.real > 0
    e = np.exp(np.where(pos, -x, x))
    n = np.where(pos, e / (1.0 + e), 1.0 / (1.0 + e))
    return np.asarray(s * (n if order == 0 else -n * (1.0 - n) / kt), dtype=complex)


def _with_jump(value, error, a, b, mu, temperature, order, keep):
    """Add -J^(order)(b)/(a - b) to the Taylor values of the pairs in opposite
    half planes (where ``keep``), and its rounding to their errors."""
    cross = (np.sign(a.imag) != np.sign(b.imag)) & keep
    if np.any(cross):
        jump = fermi_jump(b[cross], mu, temperature, order) / (a[cross] - b[cross])
        value[cross] -= jump
        error[cross] += 4 * _EPS * np.abs(jump)
    return value, error


def divided_difference(
    a: ArrayLike, b: ArrayLike, mu: float, temperature: float, order: int = 0
) -> tuple[ComplexArray, RealArray]:
    r"""Q^(order)[a, b] = (Q^(order)(a) - Q^(order)(b)) / (a - b) elementwise, with
    its rounding/truncation error.

    With ``order=0`` this is int n_F(E - mu) / ((E - a)(E - b)) dE; with
    ``order=1`` minus int (-n_F'(E - mu)) / ((E - a)(E - b)) dE
    (:eq:`eq-fermi-products`).  a = b gives the derivative Q^(order+1)(a).
    Pairs with ``|b - a|`` < :data:`TAYLOR_RATIO` rho(a) are summed as the
    Taylor series sum_k Q^(order+k)(a) h^(k-1)/k!, h = b - a, of a's branch,
    minus J^(order)(b)/(a - b) when b lies in the other half plane
    (:func:`fermi_jump`: a narrow level and its conjugate, whose quotient
    would lose eps ``|Q|``/``|Im a - Im b|``); all other pairs by the quotient.

    Parameters
    ----------
    a, b : array_like of complex
        Poles in eV (broadcast together), off the real axis.
    mu : float
        Chemical potential, eV.
    temperature : float
        K.
    order : int
        Which derivative of Q is differenced (0 or more).

    Returns
    -------
    (value, error)
        Complex values in eV^-(order+1) and real estimates of their
        absolute errors: 2 eps (``|Q(a)|`` + ``|Q(b)|``)/``|a - b|`` for a quotient,
        the first omitted Taylor term plus eps times the sum for a series.
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=complex), np.asarray(b, dtype=complex))
    rho = singularity_distance(a, mu, temperature)
    taylor = _taylor_mask(a, b, rho)
    value = np.empty(a.shape, dtype=complex)
    error = np.empty(a.shape, dtype=float)
    direct = ~taylor
    if np.any(direct):
        qa = fermi_primitive(a[direct], mu, temperature, order)
        qb = fermi_primitive(b[direct], mu, temperature, order)
        h = a[direct] - b[direct]
        value[direct] = (qa - qb) / h
        error[direct] = 2 * _EPS * (np.abs(qa) + np.abs(qb)) / np.abs(h)
    if np.any(taylor):
        at, bt = a[taylor], b[taylor]
        v, e = _taylor(at, bt - at, mu, temperature, order, 1)
        value[taylor], error[taylor] = _with_jump(v, e, at, bt, mu, temperature, order, np.ones(at.shape, bool))
    return value, error


def second_divided_difference(
    a: ArrayLike, b: ArrayLike, mu: float, temperature: float
) -> tuple[ComplexArray, RealArray]:
    r"""Q[a, a, b] = (Q'(a) - Q[a, b]) / (a - b) elementwise, with its error:
    int n_F(E - mu) / ((E - a)^2 (E - b)) dE (:eq:`eq-fermi-products`).

    Taylor series sum_k Q^(k+1)(a) h^(k-1)/(k+1)! (h = b - a) where a and b
    share a half plane and ``|h|`` < :data:`TAYLOR_RATIO` rho(a), else the
    quotient of the first differences.  Arguments and units as
    :func:`divided_difference` (result in eV^-2).
    """
    a, b = np.broadcast_arrays(np.asarray(a, dtype=complex), np.asarray(b, dtype=complex))
    rho = singularity_distance(a, mu, temperature)
    taylor = _taylor_mask(a, b, rho, cross=False)
    value = np.empty(a.shape, dtype=complex)
    error = np.empty(a.shape, dtype=float)
    direct = ~taylor
    if np.any(direct):
        ad, bd = a[direct], b[direct]
        d1, e1 = divided_difference(ad, bd, mu, temperature)
        qa1 = fermi_primitive(ad, mu, temperature, 1)
        h = np.abs(ad - bd)
        value[direct] = (qa1 - d1) / (ad - bd)
        error[direct] = (e1 + 4 * _EPS * np.abs(qa1)) / h
    if np.any(taylor):
        value[taylor], error[taylor] = _taylor(a[taylor], b[taylor] - a[taylor], mu, temperature, 0, 2)
    return value, error


def _taylor(a, h, mu, temperature, order, level):
    """sum_k Q^(order + level - 1 + k)(a) h^(k-1) / (k + level - 1)! over
    k = 1 .. TAYLOR_TERMS (level 1: first divided difference, level 2: the
    confluent second one Q[a, a, b]), and its error estimate."""
    total = np.zeros(a.shape, dtype=complex)
    size = np.zeros(a.shape, dtype=float)
    hk = np.ones(a.shape, dtype=complex)
    last = np.zeros(a.shape, dtype=float)
    derivs = _primitives(a, mu, temperature, [order + level - 1 + k for k in range(1, TAYLOR_TERMS + 1)])
    for k in range(1, TAYLOR_TERMS + 1):
        term = derivs[k - 1] * hk / math.factorial(k + level - 1)
        total += term
        size += np.abs(term)
        last = np.abs(term)
        hk = hk * h
    return total, last + 4 * _EPS * size


def difference_matrix(
    x: ArrayLike,
    y: ArrayLike,
    mu: float,
    temperature: float,
    order: int = 0,
    bound: NDArray[np.bool_] | None = None,
) -> tuple[ComplexArray, RealArray]:
    """The matrix Q^(order)[x_i, y_j] of :func:`divided_difference` for two
    1-d arrays of poles, and its errors, with Q evaluated once per pole
    (not once per pair): (len(x), len(y)) each.

    ``bound`` (bool, len(y)): poles y_j treated as bound states, real to
    working precision: their jump terms (:func:`fermi_jump`) are left out of
    every pair in opposite half planes, as if ``|Im y_j|`` were zero (the
    caller makes sure that n_F or its derivative vanishes there): the Taylor
    branch leaves out its explicit term, and the direct quotient, whose
    Q(y_j) holds the jump, has it taken back out.  So a pair gives the same
    value whichever branch it takes, and a sum over chemical potentials
    whose weights vanish at y_j (a Fermi window) cancels the jumps exactly.
    (Leaving them out of the Taylor branch alone broke that cancellation
    where one chemical potential put a pair inside :data:`TAYLOR_RATIO`
    rho and the other outside: for a level below both chemical potentials,
    where each jump is 2 pi i, an error 2 pi/``|x_i - y_j|`` in the
    window.)"""
    x = np.asarray(x, dtype=complex).reshape(-1)
    y = np.asarray(y, dtype=complex).reshape(-1)
    qx = fermi_primitive(x, mu, temperature, order)
    qy = fermi_primitive(y, mu, temperature, order)
    a, b = x[:, None], y[None, :]
    taylor = _taylor_mask(a, b, singularity_distance(x, mu, temperature)[:, None])
    h = np.where(taylor, 1.0, a - b)
    value = (qx[:, None] - qy[None, :]) / h
    error = 2 * _EPS * (np.abs(qx)[:, None] + np.abs(qy)[None, :]) / np.abs(h)
    if np.any(taylor):
        i, j = np.nonzero(taylor)
        v, e = _taylor(x[i], y[j] - x[i], mu, temperature, order, 1)
        keep = np.ones(i.shape, bool) if bound is None else ~np.asarray(bound, dtype=bool)[j]
        value[i, j], error[i, j] = _with_jump(v, e, x[i], y[j], mu, temperature, order, keep)
    if bound is not None:
        # the direct quotients of the bound poles across the real axis: take the jump back out
        cross = ~taylor & np.asarray(bound, dtype=bool)[None, :] & (np.sign(a.imag) != np.sign(b.imag))
        if np.any(cross):
            i, j = np.nonzero(cross)
            jump = fermi_jump(y[j], mu, temperature, order) / (x[i] - y[j])
            value[i, j] += jump
            error[i, j] += 4 * _EPS * np.abs(jump)
    return value, error


def second_difference_matrix(
    x: ArrayLike, y: ArrayLike, mu: float, temperature: float
) -> tuple[ComplexArray, RealArray]:
    """The matrix Q[x_i, x_i, y_j] of :func:`second_divided_difference` and
    its errors, with Q and Q' evaluated once per pole."""
    x = np.asarray(x, dtype=complex).reshape(-1)
    y = np.asarray(y, dtype=complex).reshape(-1)
    d1, e1 = difference_matrix(x, y, mu, temperature)
    q1 = fermi_primitive(x, mu, temperature, 1)[:, None]
    a, b = x[:, None], y[None, :]
    taylor = _taylor_mask(a, b, singularity_distance(x, mu, temperature)[:, None], cross=False)
    h = np.where(taylor, 1.0, a - b)
    value = (q1 - d1) / h
    error = (e1 + 4 * _EPS * np.abs(q1)) / np.abs(h)
    if np.any(taylor):
        i, j = np.nonzero(taylor)
        value[i, j], error[i, j] = _taylor(x[i], y[j] - x[i], mu, temperature, 0, 2)
    return value, error
