"""Deprecated aliases of the functions that build dynamics from a junction.

``coefficients_from_junction``, ``spectrum_from_junction`` and
``LangevinDynamics.from_junction`` moved to :mod:`currentforces.coupling`,
which sits above both the electronic engine and this package, so that the
dynamics works on given matrices and spectra and never imports the engine.
The old names still work: they warn (:class:`DeprecationWarning`) and call
the new home, which is imported on use only.  This is the only module of
:mod:`currentforces.dynamics` that refers to a higher layer.
"""

from __future__ import annotations

import warnings


def call_moved(old, name, args, kwargs, stacklevel=3):
    """Warn that ``old`` moved to ``currentforces.coupling.<name>`` and call it there.

    ``stacklevel`` 3 points the warning at the caller of the alias that
    calls this function.
    """
    warnings.warn(
        f"{old} is deprecated and will be removed; use currentforces.coupling.{name} "
        "(the dynamics no longer imports the electronic engine)",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    from .. import coupling  # the layer above: imported by the deprecated path only

    return getattr(coupling, name)(*args, **kwargs)
