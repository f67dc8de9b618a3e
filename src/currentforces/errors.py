"""Exceptions and warnings of currentforces.

Bad input raises :class:`InputError` (a ``ValueError``) whose message names
the argument and says what is wrong.  A quadrature that cannot meet its
tolerance raises :class:`IntegrationError` or, when the caller asked for a
warning instead, emits :class:`IntegrationWarning` with the achieved error:
never a silent wrong number.
"""

from __future__ import annotations

__all__ = ["InputError", "IntegrationError", "IntegrationWarning", "BandEdgeWarning", "OutputLockedError",
           "ResumeError", "StepSizeWarning", "NotRelaxedWarning"]


class InputError(ValueError):
    """An argument has the wrong shape, type, symmetry or value."""


class OutputLockedError(InputError):
    """The output file is being written by another running process."""


class ResumeError(InputError):
    """An existing output file cannot be resumed: it was computed from other
    inputs, or its stored values do not match their checksums."""


class IntegrationError(RuntimeError):
    """An energy integral did not reach its requested tolerance."""

    def __init__(self, message, error=None, tolerance=None):
        super().__init__(message)
        self.error = error
        self.tolerance = tolerance


class IntegrationWarning(UserWarning):
    """An energy integral was returned with an error above its tolerance."""


class BandEdgeWarning(UserWarning):
    """A real energy lies on a lead band edge (or on a dispersionless lead
    band), where a channel has zero velocity: the broadening vanishes or the
    self-energy has a pole, the device Green's function can diverge and the
    transmission can jump, so the value there depends on how the edge is
    approached."""


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
