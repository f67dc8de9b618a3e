"""Exceptions and warnings of currentforces.

Every exception and warning class of the package lives here (the modules
that raise them re-export theirs under the old names).  Bad input raises
:class:`InputError` (a ``ValueError``) whose message names the argument and
says what is wrong.  A quadrature that cannot meet its
tolerance raises :class:`IntegrationError` or, when the caller asked for a
warning instead, emits :class:`IntegrationWarning` with the achieved error:
never a silent wrong number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "InputError",
    "BoundStateError",
    "IntegrationError",
    "IntegrationWarning",
    "BandEdgeWarning",
    "OutputLockedError",
    "ResumeError",
    "ConfigError",
    "SpinPolarisedError",
    "SubbandEdgeError",
    "LeadConvergenceError",
    "SelfEnergyAccuracyWarning",
    "OverlapError",
    "StepSizeWarning",
    "NotRelaxedWarning",
    "LorentzianFitWarning",
]


class InputError(ValueError):
    """An argument has the wrong shape, type, symmetry or value."""


class BoundStateError(InputError):
    """A bound state of the device makes the request undefined: it sits
    exactly on a chemical potential at T = 0 (occupation 0 or 1 undecided),
    or on the real-axis path of a window integral that cannot take its pole."""


class OverlapError(InputError):
    """An overlap matrix S (of a device or of a lead) is not a valid overlap:
    wrong shape, non-finite entries, not Hermitian or not positive definite;
    the message names the argument."""


class OutputLockedError(InputError):
    """The output file is being written by another running process."""


class ResumeError(InputError):
    """An existing output file cannot be resumed: it was computed from other
    inputs, or its stored values do not match their checksums."""


class SpinPolarisedError(InputError):
    """A spin-polarised Hamiltonian given where one spin channel is expected:
    pick a channel (``spin=0`` or ``1``) or take both as spin channels."""


class ConfigError(InputError):
    """A configuration key is missing, unknown, of the wrong type or out of range."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


class IntegrationError(RuntimeError):
    """An energy integral did not reach its requested tolerance.

    Attributes ``error`` and ``tolerance`` (absolute, in the integral's
    units) and ``edge``: the band edge (eV) next to which the integrand was
    found not to be integrable (its integral over the panel at the edge did
    not shrink as the panel was halved), or None.
    """

    def __init__(
        self, message: str, error: float | None = None, tolerance: float | None = None, edge: float | None = None
    ) -> None:
        super().__init__(message)
        self.error = error
        self.tolerance = tolerance
        self.edge = edge


class IntegrationWarning(UserWarning):
    """An energy integral was returned with an error above its tolerance.

    Attribute ``edge``: as for :class:`IntegrationError`.
    """

    def __init__(self, message: str = "", edge: float | None = None) -> None:
        super().__init__(message)
        self.edge = edge


class BandEdgeWarning(UserWarning):
    """A real energy lies on a lead band edge (or on a dispersionless lead
    band), where a channel has zero velocity: the broadening vanishes or the
    self-energy has a pole, the device Green's function can diverge and the
    transmission can jump, so the value there depends on how the edge is
    approached."""


class SubbandEdgeError(InputError):
    """A subband edge lies inside the energy window a formula integrates over.

    The 1D density of states of that subband diverges at its edge, so the
    window-limited closed forms (seed eq. 51 assumes "no subband edges
    within the bias window") do not apply.  Attributes ``subbands`` (list of
    ``(n, m)``) and ``energies`` (eV) name the offending edges.
    """

    def __init__(self, message: str, subbands: Sequence[tuple[int, ...]] = (), energies: Sequence[float] = ()) -> None:
        super().__init__(message)
        self.subbands = list(subbands)
        self.energies = list(energies)


class LeadConvergenceError(RuntimeError):
    """The decimation of a periodic lead did not converge.

    The renormalised hoppings of the Lopez-Sancho decimation shrink like
    exp(-2^k eta / bandwidth) at broadening ``eta``; they did not fall below
    ``tol`` times the lead's energy scale within the iteration limit.  A
    larger ``tol`` or ``eta`` of the lead converges sooner.  Attributes
    ``energy`` (eV, complex: the first energy that failed), ``tol``
    (relative) and ``eta`` (eV) name the setting.  A ``RuntimeError``, as
    the bare error this replaces.
    """

    def __init__(
        self, message: str, energy: complex | None = None, tol: float | None = None, eta: float | None = None
    ) -> None:
        super().__init__(message)
        self.energy = energy
        self.tol = tol
        self.eta = eta


class SelfEnergyAccuracyWarning(UserWarning):
    """A lead self-energy could not be converged to the requested broadening."""


class StepSizeWarning(UserWarning):
    """Finite differences at two steps, h and h/2, disagree by more than
    their tolerance: the step is too large for the curvature of the source
    (or crosses a cutoff or a discontinuity), or too small for its noise
    (e.g. a self-consistent calculation converged loosely).  The result is
    returned with its estimated error."""


class NotRelaxedWarning(UserWarning):
    """Force constants were taken at a geometry that is not a mechanical
    equilibrium: the residual force on a moving atom exceeds the threshold,
    so the harmonic expansion about it has a linear term that the force
    constants do not describe."""


class LorentzianFitWarning(UserWarning):
    """A Lorentzian fit of a lead's broadening (the time-dependent scheme of
    :mod:`currentforces.ehrenfest.lorentzian`) misses its tolerance: its
    largest relative error is in the message and in the fit's ``error``."""
