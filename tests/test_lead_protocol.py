"""The lead protocol: the abstract base, the derived matrices, the check of
what a solver is given, and where the error classes live."""

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest

import currentforces
from currentforces import ChainLead, InputError, Junction, Lead, WideBandLead, errors
from currentforces.greens import BlockTridiagonal
from currentforces.leads import LeadBase, as_lead, chain_surface_green

SRC = Path(currentforces.__file__).resolve().parent
E = np.array([-2.5, -1.3, 0.0, 0.4, 1.7, 0.3 + 0.2j])


class _OneOrbitalChain(LeadBase):
    """The smallest lead that follows the protocol: a chain of hopping t on
    orbital ``k`` of N, coupled by c.  Only the four abstract members."""

    def __init__(self, n, k, t=-1.0, c=0.7):
        self.n, self.k, self.t, self.c = n, k, t, c

    @property
    def size(self):
        return self.n

    @property
    def support(self):
        return np.array([self.k])

    def self_energy_block(self, energy):
        return (self.c**2 * chain_surface_green(energy, self.t))[..., None, None]

    def self_energy_derivative_block(self, energy):
        g = chain_surface_green(energy, self.t)
        return (self.c**2 * -g * g / (1 - self.t**2 * g * g))[..., None, None]


def test_lead_base_is_abstract_in_the_four_members():
    with pytest.raises(TypeError):
        LeadBase()

    class NoDerivative(LeadBase):
        size = 1
        support = np.array([0])

        def self_energy_block(self, energy):
            return np.zeros(np.shape(energy) + (1, 1))

    with pytest.raises(TypeError, match="self_energy_derivative_block"):
        NoDerivative()
    assert {"size", "support", "self_energy_block", "self_energy_derivative_block"} == LeadBase.__abstractmethods__


def test_dense_matrices_derived_once_on_the_base():
    # The base embeds the support blocks; the in-band broadening of a chain lead
    # is c^2 sqrt(4t^2 - E^2) / t^2 (the closed form of the surface Green's
    # function, Im g = -sqrt(4t^2 - E^2) / 2t^2).
    lead = _OneOrbitalChain(3, 1)
    e = np.array([-1.3, 0.0, 0.4])
    sigma = lead.self_energy(e)
    assert sigma.shape == (3, 3, 3)
    off = sigma.copy()
    off[:, 1, 1] = 0
    assert not np.any(off)
    gamma = lead.broadening(e)
    assert np.allclose(gamma[:, 1, 1], 0.49 * np.sqrt(4 - e**2), atol=1e-13, rtol=0)
    assert np.allclose(lead.broadening_block(e)[:, 0, 0], gamma[:, 1, 1], atol=0, rtol=0)
    # dGamma/dE against a central difference of Gamma (error ~ h^2 Gamma''' ~ 1e-10)
    h = 1e-5
    fd = (lead.broadening(e + h) - lead.broadening(e - h)) / (2 * h)
    assert np.allclose(lead.broadening_derivative(e), fd, atol=1e-8, rtol=0)
    # one broadening helper, reachable from every lead as on sisl's SelfEnergy
    s = np.array([[1 + 2j, 0.5j], [0.3, -1j]])
    assert np.allclose(lead.broadening_from_self_energy(s), 1j * (s - s.conj().T), atol=0, rtol=0)


def test_wide_band_lead_takes_a_complex_energy_as_an_energy():
    # sisl's WideBandSE reads a complex E as its broadening and drops Re E; here
    # Sigma = -i Gamma / 2 at every energy, real or complex (eq-wide-band).
    gamma = np.array([[0.3, 0.1], [0.1, 0.2]])
    lead = WideBandLead(gamma)
    for z in (0.4, 0.4 + 0.2j, 3j, -7.0 + 1e-3j):
        assert np.array_equal(lead.self_energy(z), -0.5j * gamma)


def test_every_lead_of_the_package_subclasses_the_base():
    from currentforces.adapters import SelfEnergyLead

    for cls in (Lead, ChainLead, WideBandLead, SelfEnergyLead):
        assert issubclass(cls, LeadBase) and not cls.__abstractmethods__


def test_as_lead_refuses_a_non_lead_and_names_the_protocol():
    with pytest.raises(InputError, match=r"leads\[0\] is not a lead.*LeadBase.*self_energy_block"):
        as_lead(object(), "leads[0]")
    with pytest.raises(InputError, match=r"couples to 3 device orbitals but the hamiltonian has 2"):
        as_lead(WideBandLead(np.eye(3)), "leads[1]", size=2)
    lead = ChainLead(-1.0, [0.5, 0])
    assert as_lead(lead, size=2) is lead


class _DuckChain:
    """The informal interface solvers used to accept: size, support and a
    dense self_energy (no base class)."""

    def __init__(self, n, k, t=-1.0, c=0.7):
        self.size, self.support, self._chain = n, np.array([k]), ChainLead(t, np.eye(n)[k] * c)

    def self_energy(self, energy):
        return self._chain.self_energy(energy)

    def self_energy_derivative(self, energy):
        return self._chain.self_energy_derivative(energy)


def test_duck_typed_lead_still_works_with_a_deprecation_warning(tol):
    # Regression: leads that do not subclass LeadBase were used silently through
    # hasattr fallbacks; they now get a DeprecationWarning and the same numbers.
    n = 5
    h = -1.0 * (np.eye(n, k=1) + np.eye(n, k=-1))
    with pytest.warns(DeprecationWarning, match="LeadBase"):
        duck = BlockTridiagonal(h, [_DuckChain(n, 0), _DuckChain(n, n - 1)])
    ref = BlockTridiagonal(h, [_OneOrbitalChain(n, 0), _OneOrbitalChain(n, n - 1)])
    e = np.array([-1.1, 0.2, 1.5])
    # the same leads through two routes (dense slice versus closed form): equal to round-off
    assert np.allclose(duck.transmission(e), ref.transmission(e), atol=tol["exact"], rtol=0)
    g_d, dg_d = duck.green_derivative_submatrix(e, [2])
    g_r, dg_r = ref.green_derivative_submatrix(e, [2])
    assert np.allclose(dg_d, dg_r, atol=tol["exact"], rtol=0)
    # the wrapper passes the duck's own attributes through
    with pytest.warns(DeprecationWarning):
        wrapped = as_lead(_DuckChain(n, 0))
    assert isinstance(wrapped, LeadBase) and wrapped.support.tolist() == [0] and wrapped._chain is not None


def test_subclass_of_the_earlier_interface_still_works():
    # Regression: LeadBase used to ask a subclass for a dense self_energy and
    # size/support set in __init__; such a class now warns when defined and
    # still gives the closed-form chain self-energy (chain_surface_green).
    with pytest.warns(DeprecationWarning, match="earlier lead interface"):

        class Earlier(LeadBase):
            def __init__(self):
                self.size = 2
                self.support = np.array([1])

            def self_energy(self, energy):
                out = np.zeros(np.shape(energy) + (2, 2), dtype=complex)
                out[..., 1, 1] = 0.25 * chain_surface_green(energy, 1.0)
                return out

    lead = Earlier()
    assert np.allclose(lead.self_energy_block(E)[:, 0, 0], 0.25 * chain_surface_green(E, 1.0), atol=0, rtol=0)
    with pytest.raises(NotImplementedError, match="no self-energy derivative"):
        lead.self_energy_derivative_block(E)
    t = Junction(np.array([[0.0, -1.0], [-1.0, 0.0]]), [lead, ChainLead(1.0, [0.5, 0])]).transmission(0.3)
    assert 0 < t <= 1


def test_decimation_that_does_not_converge_names_tol_and_eta():
    # Regression: a decimation short of iterations raised a bare RuntimeError.
    lead = Lead([[0.0]], [[1.0]], [[1.0]])
    lead.max_iter = 2  # the decimation needs ~log2(bandwidth / eta) > 2 steps at eta = 1e-2
    with pytest.raises(errors.LeadConvergenceError, match=r"tol = 1e-14.*eta") as err:
        lead.self_energy(0.3)
    assert isinstance(err.value, RuntimeError)  # what callers caught before
    assert err.value.tol == 1e-14 and err.value.eta > 0 and err.value.energy.real == pytest.approx(0.3)


def test_every_error_and_warning_class_lives_in_errors():
    # One home: a class deriving from Exception (warnings included) defined in
    # any other module of the package is a second home.
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                if any(b.endswith(("Error", "Warning", "Exception")) for b in bases):
                    found.append((str(path.relative_to(SRC)), node.name))
    assert found == []


def test_moved_classes_keep_their_old_import_paths():
    from currentforces.config import ConfigError
    from currentforces.leads import SelfEnergyAccuracyWarning
    from currentforces.models import jellium
    from currentforces.models.jellium.subbands import SubbandEdgeError

    assert SelfEnergyAccuracyWarning is errors.SelfEnergyAccuracyWarning
    assert ConfigError is errors.ConfigError and issubclass(ConfigError, InputError)
    assert SubbandEdgeError is jellium.SubbandEdgeError is errors.SubbandEdgeError
    assert issubclass(errors.SubbandEdgeError, InputError)


def test_leads_package_keeps_every_public_name():
    # The flat module leads.py became a package; the names its __all__ listed.
    import currentforces.leads as leads

    for name in (
        "LeadBase",
        "Lead",
        "ChainLead",
        "WideBandLead",
        "broadening_from_self_energy",
        "chain_surface_green",
        "SelfEnergyAccuracyWarning",
        "EDGE_RTOL",
        "FLAT_BAND_RTOL",
    ):
        assert name in leads.__all__ and hasattr(leads, name)
    assert leads.Lead is currentforces.Lead


def test_self_energy_lead_refuses_repeated_orbitals():
    # Regression: a repeated orbital took the last of its rows, silently.
    from currentforces.adapters import SelfEnergyLead

    with pytest.raises(InputError, match="orbitals must be distinct"):
        SelfEnergyLead(lambda e: np.eye(2), [1, 1], 3)


def test_self_energy_lead_blocks_follow_the_orbital_order(tol):
    # Sigma given on orbitals [2, 0] (rows in that order) lands on the sorted
    # support [0, 2] transposed accordingly; the fallback serves complex energies.
    from currentforces.adapters import SelfEnergyLead

    chain = ChainLead(-1.0, [0.3, 0.0, 0.8])  # Sigma = |c><c| g on orbitals 0 and 2
    c = np.array([0.8, 0.3])  # the same couplings, in the order [2, 0]

    def function(e):
        return np.outer(c, c) * chain_surface_green(e, -1.0)

    lead = SelfEnergyLead(function, [2, 0], 3, fallback=chain, real_only=True)
    z = np.array([-0.4, 1.1, 0.5 + 0.1j])
    assert np.allclose(lead.self_energy(z), chain.self_energy(z), atol=tol["exact"], rtol=0)
    # central differences against the closed-form derivative (error ~ s^2 Sigma''' ~ 1e-10)
    e = np.array([-0.4, 1.1])
    assert np.allclose(lead.self_energy_derivative(e), chain.self_energy_derivative(e), atol=1e-8, rtol=0)


def test_package_code_raises_no_deprecation_warning_for_its_own_leads():
    # Junction and BlockTridiagonal on the package's own leads: no warning at all.
    h = -1.0 * (np.eye(4, k=1) + np.eye(4, k=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for solver in ("dense", "rgf"):
            Junction(
                h, [ChainLead(-1.0, [-1.0, 0, 0, 0]), Lead([[0.0]], [[-1.0]], [[0], [0], [0], [-1.0]])], solver=solver
            ).transmission(0.3)
