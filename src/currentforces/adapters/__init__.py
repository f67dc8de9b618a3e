"""Adapters: junctions from the field's tight-binding tools.

* :func:`from_sisl` - a sisl ``Hamiltonian`` device and electrode
  Hamiltonians in the TBtrans layout;
* :func:`from_kwant` - a finalized Kwant system (``hamiltonian_submatrix``
  and the lead self-energies);
* :mod:`currentforces.adapters.xtb` - a molecule between gold clusters
  from GFN-xTB (``tblite``) with wide-band leads
  (:func:`~currentforces.adapters.xtb.xtb_junction`).

sisl, Kwant and tblite are imported only when an adapter is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..junction import Junction
    from ..junctionset import JunctionSet
    from .sisl import SislDevice

__all__ = ["from_sisl", "from_kwant", "SelfEnergyLead"]


def from_sisl(*args: Any, **kwargs: Any) -> Junction | JunctionSet | tuple[Junction | JunctionSet, SislDevice]:
    """See :func:`currentforces.adapters.sisl.from_sisl`."""
    from .sisl import from_sisl as _from_sisl

    return _from_sisl(*args, **kwargs)


def from_kwant(*args: Any, **kwargs: Any) -> Junction:
    """See :func:`currentforces.adapters.kwant.from_kwant`."""
    from .kwant import from_kwant as _from_kwant

    return _from_kwant(*args, **kwargs)


def __getattr__(name):
    if name == "SelfEnergyLead":
        from ._selfenergy import SelfEnergyLead

        return SelfEnergyLead
    raise AttributeError(name)
