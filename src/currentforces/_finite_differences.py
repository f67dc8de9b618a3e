r"""Central differences at two steps, their Richardson extrapolation and error.

For a quantity Q(x) (dense array or scipy.sparse matrix) the central
difference at step h,

.. math:: D(h) = \frac{Q(x + h) - Q(x - h)}{2h} = Q'(x) + c\,h^2 + O(h^4),

taken at h and h/2 gives the Richardson extrapolation

.. math:: Q'(x) = \frac{4 D(h/2) - D(h)}{3} + O(h^4),

which is the five-point stencil with spacing h/2 (L. F. Richardson,
Phil. Trans. R. Soc. A 210, 307 (1911); B. Fornberg, Math. Comp. 51, 699
(1988), Table 1).  In the asymptotic regime D(h) - D(h/2) = (3/4) c h^2, so

.. math:: \epsilon = \frac{\max|D(h) - D(h/2)|}{3}

is the error of D(h/2); the extrapolated value is better still (O(h^4)).
When the source is noisy or the step crosses a discontinuity the two
differences disagree and epsilon says so.

Used by :mod:`currentforces.couplings` (dH/dX, dS/dX) and
:mod:`currentforces.vibrations` (force constants); a bottom-layer helper,
it imports only the package's errors and validators.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from ._checks import AXES
from .errors import StepSizeWarning

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from numpy.typing import ArrayLike

__all__ = ["central_difference", "max_abs", "warn_if_steps_disagree"]


def max_abs(a: Any) -> float:
    """Largest ``|entry|`` of a dense array or scipy.sparse matrix (0 if empty)."""
    if sp.issparse(a):
        return float(abs(a).max()) if a.nnz else 0.0
    a = np.asarray(a)
    return float(np.max(np.abs(a))) if a.size else 0.0


def central_difference(
    evaluate: Callable[..., Sequence[Any]], step: float, check: bool = True
) -> tuple[list[Any], list[float]]:
    """Derivatives at displacement 0 of the quantities ``evaluate(d)`` returns.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(d)`` with d a signed displacement returns a tuple of
        arrays or scipy.sparse matrices (each the same shape and kind at
        every d).
    step : float
        h > 0.
    check : bool
        Evaluate at +-h and +-h/2 and return the Richardson extrapolation
        with its error estimate (4 evaluations); ``False``: the central
        difference D(h) alone (2 evaluations) and ``nan`` errors.

    Returns
    -------
    derivatives : list
        One derivative per quantity (sparse stays sparse, explicit zeros
        removed).
    errors : list of float
        ``max|D(h) - D(h/2)|/3`` per quantity, or ``nan`` without ``check``.
    """
    plus, minus = evaluate(step), evaluate(-step)
    d_h = [(p - m) / (2.0 * step) for p, m in zip(plus, minus)]
    if not check:
        return [_tidy(d) for d in d_h], [float("nan")] * len(d_h)
    plus, minus = evaluate(0.5 * step), evaluate(-0.5 * step)
    d_h2 = [(p - m) / step for p, m in zip(plus, minus)]
    derivatives = [_tidy((4.0 * b - a) / 3.0) for a, b in zip(d_h, d_h2)]
    errors = [max_abs(a - b) / 3.0 for a, b in zip(d_h, d_h2)]
    return derivatives, errors


def _tidy(d: Any) -> Any:
    if sp.issparse(d):
        d = sp.csr_matrix(d)
        d.eliminate_zeros()
        return d
    return np.asarray(d)


def warn_if_steps_disagree(
    what: str,
    errors: ArrayLike,
    derivatives: Sequence[Any],
    coordinates: Sequence[tuple[int, int]],
    step: float,
    rtol: float,
    unit: str,
    stacklevel: int = 4,
) -> None:
    """Warn (:class:`~currentforces.errors.StepSizeWarning`) when the largest
    error estimate exceeds ``rtol`` times the largest entry of all
    ``derivatives`` (one per coordinate (atom, axis) of ``coordinates``)."""
    scale = max((max_abs(d) for d in derivatives), default=0.0)
    err = np.asarray(errors, dtype=float)
    if not err.size or not np.any(np.isfinite(err)):
        return
    worst = int(np.nanargmax(err))
    if err[worst] > rtol * scale:
        a, c = coordinates[worst]
        warnings.warn(
            f"finite differences of {what} at steps {step:g} and {step / 2:g} Angstrom disagree: estimated "
            f"error {err[worst]:.3g} {unit} at atom {a} {AXES[c]} (largest entry of all coordinates "
            f"{scale:.3g} {unit}, tolerance rtol = {rtol:g} of it). A larger step helps against noise "
            "in the source, a smaller one against curvature; a step that crosses a cutoff or another "
            "discontinuity of the source gives no derivative at all.",
            StepSizeWarning,
            stacklevel=stacklevel,
        )
