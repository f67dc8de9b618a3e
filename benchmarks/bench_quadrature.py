"""Cost of the energy quadrature of ``force_coefficients``, counted in
Green's functions, with the true error against a reference.

For each case, temperature and kind (adiabatic, ``hbar_omega=0``, or finite
frequency, ``hbar_omega=0.01`` eV) it calls the public
``force_coefficients(..., rtol=1e-6)`` and prints

* ``nE``: the number of energies at which the junction's Green's function
  was evaluated (every call of ``green``, ``green_submatrix``,
  ``green_derivative_submatrix``, ``spectral_functions``, ``transmission``
  counts its energies once; nested calls are not counted twice; the
  complex energies of the off-axis bias window, ``currentforces.contour``,
  count too, although each costs two full inverses);
* ``wall s`` and ``G-eq``: the wall time, and the wall time divided by the
  time of one G(E) at one energy (``green_submatrix`` on the force support at
  E_F, best of several calls);
* ``err``: the true error, max over F0, K, L and their current-induced
  parts (those the reference has) of max|X - X_ref| / max|X_ref| (each
  quantity relative to its own scale; where a quantity vanishes by
  symmetry, relative to 1 % of its natural size, see ``natural_scales``),
  with the worst one named;
* ``est>=err``: whether each quantity's reported error estimate
  (``result.error``) is at least its true absolute error ("ok", or the
  quantities where it is not); true errors below 10x the reference's own
  tolerance are not judged;
  ``warn``: warnings the call emitted (e.g. IntegrationWarning).

Cases:

* ``i``   random dense device, N = 200, M = 30 modes, wide-band leads (the
          device of ``bench_coefficients.py``), E_F = 0, V = 0.1 V;
* ``ii``  gold-like s-band wire, 10^4 orbitals, RGF backend (``wire.py``),
          30 modes, E_F = -1.2 eV, V = 0.1 V;
* ``iii`` narrow resonance: one level at eps0 = 0.0123 eV, Gamma_L = Gamma_R
          = 5e-9 eV (wide band), f = 1 eV/A, E_F = 0, V = 0.1 V;
* ``iv``  bound state near E_F: 5-site chain, hopping -1 eV, impurity
          h[2,2] = 3 eV, chain leads (bound state at sqrt(13) = 3.60555 eV),
          E_F = 3.5 eV, V = 0.1 V;
* ``v``   band edges: 20-site perfect chain with chain leads (band -2..2 eV),
          E_F = 1.9 eV, V = 0.1 V.

References (``--make-reference FILE``): case iii by brute-force real-axis
integrals of the single-level closed-form integrands (``scipy.integrate.
quad_vec`` with breakpoints that resolve the Lorentzian, the Fermi steps and
the shifted poles of G(E +- hbar omega)); the other cases by the library
itself at a tight tolerance (``--reference-rtol``; the file records it and
the library version per entry, and a second run adds to the same file).

Usage::

    PYTHONPATH=src python benchmarks/bench_quadrature.py [--cases i iii] [--temperatures 0 300]
        [--kinds adiabatic finite] [--reference ref.json] [--save run.json]
    PYTHONPATH=src python benchmarks/bench_quadrature.py --make-reference ref.json
    PYTHONPATH=src python benchmarks/bench_quadrature.py --compare run.json --reference ref.json

Works on older versions of the library too (the Green's-function counting
then wraps the junction's methods here).  Set OPENBLAS_NUM_THREADS=1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import pathlib
import sys
import time
import warnings

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from currentforces import Junction, WideBandLead, force_coefficients  # noqa: E402
from currentforces.units import HBAR, KB  # noqa: E402

QUANTITIES = ("mean_force", "K", "L", "mean_force_current", "K_current", "L_current")
FREQUENCY = 0.01
KINDS = {"adiabatic": 0.0, "finite": FREQUENCY}
TEMPERATURES = [0.0, 1.0, 300.0, 1000.0]
CASES = ["i", "ii", "iii", "iv", "v"]
BIAS = 0.1
SPIN = 2


# ----------------------------------------------------------------------------
# the cases
# ----------------------------------------------------------------------------
def single_level(eps0=0.0123, gamma_l=5e-9, gamma_r=5e-9):
    j = Junction(np.array([[eps0]]), [WideBandLead(np.array([[gamma_l]])), WideBandLead(np.array([[gamma_r]]))])
    return j, [np.array([[1.0]])]


def build(case):
    """(junction, forces, fermi_level, description)."""
    if case == "i":
        from bench_coefficients import random_device

        j, f = random_device(200, 30)
        return j, f, 0.0, "random dense N=200 M=30 wide band"
    if case == "ii":
        from wire import wire

        j, f, info = wire(10000, width=2, n_modes=30, solver="rgf")
        return j, f, -1.2, f"Au-like wire N={info['n']} RGF M={len(f)}"
    if case == "iii":
        j, f = single_level()
        return j, f, 0.0, "level eps0=0.0123 G_L=G_R=5e-9"
    if case == "iv":
        from currentforces.models.chain import chain_force_operators, chain_junction

        j = chain_junction(5, 1.0)
        h = np.array(j.hamiltonian).real
        h[2, 2] = 3.0
        j = Junction(h, j.leads)
        return j, chain_force_operators(5, 1.0), 3.5, "chain+impurity, bound state 3.6055"
    if case == "v":
        from currentforces.models.chain import chain_force_operators, chain_junction

        return chain_junction(20, 1.0), chain_force_operators(20, 1.0), 1.9, "chain N=20, E_F=1.9 (edge 2)"
    raise ValueError(case)


# ----------------------------------------------------------------------------
# counting Green's-function energies
# ----------------------------------------------------------------------------
_METHODS = ("green", "green_submatrix", "green_derivative_submatrix", "spectral_functions", "transmission")


class _Count:
    def __init__(self):
        self.energies = 0
        self.depth = 0


@contextlib.contextmanager
def _counting_contour(counter):
    """Also count the complex energies of the off-axis bias window
    (``currentforces.contour``, which inverts z - h - Sigma itself, outside
    the junction's counted methods): each z costs two full N x N inverses,
    G(z) and G(z*), counted as one energy (or, on the eigenvector route of
    wide-band junctions, products with the eigenvectors, also one energy)."""
    try:
        from currentforces.contour import _Device
    except ImportError:  # older versions: no contour
        yield
        return
    original = _Device.green

    def green(self, z):
        # pieces() asks for G(z) and G(z*): count the upper-half-plane z once
        counter.energies += int(np.count_nonzero(np.imag(z) > 0))
        return original(self, z)

    _Device.green = green
    modal = getattr(_Device, "_modal_pieces", None)  # the eigenvector route: no inverses, one energy a z
    if modal is not None:

        def modal_pieces(self, z):
            counter.energies += int(np.size(z))
            return modal(self, z)

        _Device._modal_pieces = modal_pieces
    try:
        yield
    finally:
        _Device.green = original
        if modal is not None:
            _Device._modal_pieces = modal


@contextlib.contextmanager
def counting(junction):
    """Count the energies of the outermost Green's-function calls: the
    library's own hook where it has one, else wrappers installed here."""
    if hasattr(junction, "count_energies"):
        with junction.count_energies() as c, _counting_contour(c):
            yield c
        return
    c = _Count()

    def wrap(method):
        def wrapper(energy, *args, **kwargs):
            if c.depth == 0:
                c.energies += int(np.size(energy))
            c.depth += 1
            try:
                return method(energy, *args, **kwargs)
            finally:
                c.depth -= 1

        return wrapper

    saved = {name: getattr(junction, name) for name in _METHODS}
    for name, m in saved.items():
        setattr(junction, name, wrap(m))
    try:
        yield c
    finally:
        for name in _METHODS:
            delattr(junction, name)


def time_one_green(junction, forces, ef, repeat=7):
    from currentforces.operators import ForceOperators

    s = ForceOperators(forces, junction.size).support
    e = np.array([ef])
    junction.green_submatrix(e, s, s)
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        junction.green_submatrix(e, s, s)
        best = min(best, time.perf_counter() - t0)
    return best


# ----------------------------------------------------------------------------
# brute-force reference for the single level (case iii)
# ----------------------------------------------------------------------------
def _fermi(e, mu, t):
    if t == 0:
        return np.where(e < mu, 1.0, np.where(e > mu, 0.0, 0.5))
    from scipy.special import expit

    return expit(-(e - mu) / (KB * t))


def _fermi_derivative(e, mu, t):
    from scipy.special import expit

    n = expit(-(e - mu) / (KB * t))
    return n * (1.0 - n) / (KB * t)


def single_level_reference(temperature, frequency, eps0=0.0123, gl=5e-9, gr=5e-9, lam=1.0, ef=0.0, bias=BIAS):
    r"""F0, K, L of one level by real-axis integrals of the closed forms
    (wide band; spin 2):

    F0 = g lam sum_l int n_l A_l / 2pi,
    w > 0: Pi = g lam^2 sum_l int n_l/2pi [G(E+w) A_l(E) + A_l(E) G*(E-w)], K = Re Pi, L = hbar Im Pi / w,
    w = 0: K = -(g lam^2/2pi) sum_l int (-dn_l/dE) A_l, L = -(g hbar lam^2/4pi) sum_l int (-dn_l/dE) A_l A
           (the Fermi-sea forms integrated by parts; A = A_L + A_R),
    G = 1/(E - eps0 + i Gamma/2), A_l = Gamma_l |G|^2.
    """
    from scipy.integrate import quad_vec

    gam = gl + gr
    mus = [ef + bias / 2, ef - bias / 2]
    w = frequency

    def green(e):
        return 1.0 / (e - eps0 + 0.5j * gam)

    def integrand(e):
        g = green(e)
        a = [gl * abs(g) ** 2, gr * abs(g) ** 2]
        n = [_fermi(e, mu, temperature) for mu in mus]
        f0 = sum(nl * al for nl, al in zip(n, a)) / (2 * math.pi)
        if w > 0:
            pi = sum(nl * al * (green(e + w) + np.conj(green(e - w))) for nl, al in zip(n, a)) / (2 * math.pi)
            return np.array([f0, pi.real, pi.imag])
        # adiabatic: the Fermi-derivative forms (integration by parts; the
        # Fermi-sea forms cancel to 1e-22 across a narrow level):
        # K = -(1/2pi) sum_l int (-n_l') A_l,  L = -(hbar/4pi) sum_l int (-n_l') A_l A
        if temperature == 0:
            return np.array([f0, 0.0, 0.0])
        dn = [_fermi_derivative(e, mu, temperature) for mu in mus]
        k = -sum(d * al for d, al in zip(dn, a)) / (2 * math.pi)
        l_ = -sum(d * al * (a[0] + a[1]) for d, al in zip(dn, a)) / (4 * math.pi)
        return np.array([f0, k, l_])

    kt = KB * temperature
    if w == 0 and temperature == 0:
        # delta functions at mu_l: K = -(1/2pi) sum_l A_l(mu_l), L = -(hbar/4pi) sum_l A_l(mu_l) A(mu_l)
        a = [[gl * abs(green(mu)) ** 2, gr * abs(green(mu)) ** 2] for mu in mus]
        k_t0 = -sum(a[i][i] for i in range(2)) / (2 * math.pi)
        l_t0 = -sum(a[i][i] * (a[i][0] + a[i][1]) for i in range(2)) / (4 * math.pi)
        pts = sorted({eps0, *mus, *(eps0 + s * gam * 10.0**k for k in range(-2, 11) for s in (-1, 1))})
        edges = [-np.inf] + pts + [np.inf]
        f0 = sum(
            quad_vec(lambda e: integrand(e)[:1], a_, b_, epsabs=0.0, epsrel=1e-13, limit=2000)[0][0]
            for a_, b_ in zip(edges[:-1], edges[1:])
        )
        return {"mean_force": [SPIN * lam * f0], "K": [[SPIN * lam**2 * k_t0]], "L": [[SPIN * lam**2 * HBAR * l_t0]]}
    pts = set()
    for c in (eps0, eps0 - w, eps0 + w):
        for k in range(-2, 11):
            pts.update([c + gam * 10.0**k, c - gam * 10.0**k])
        pts.add(c)
    for mu in mus:
        pts.add(mu)
        if kt > 0:
            for k in (0.25, 0.5, 1, 2, 4, 8, 16, 32, 48):
                pts.update([mu - k * kt, mu + k * kt])
    pts = sorted(pts)
    total = np.zeros(3)
    edges = [-np.inf] + pts + [np.inf]
    for a, b in zip(edges[:-1], edges[1:]):
        if b <= a:
            continue
        val, _ = quad_vec(integrand, a, b, epsabs=0.0, epsrel=1e-13, limit=2000)
        total += val
    f0 = SPIN * lam * total[0]
    k = SPIN * lam**2 * total[1]
    l_ = SPIN * lam**2 * HBAR * total[2] / w if w > 0 else SPIN * lam**2 * HBAR * total[2]
    return {"mean_force": [f0], "K": [[k]], "L": [[l_]]}


# ----------------------------------------------------------------------------
# running
# ----------------------------------------------------------------------------
def key(case, kind, temperature):
    return f"{case}/{kind}/{temperature:g}"


def run_one(junction, forces, ef, temperature, frequency, rtol, **options):
    with counting(junction) as c:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            r = force_coefficients(
                junction,
                forces,
                bias=BIAS,
                temperature=temperature,
                fermi_level=ef,
                hbar_omega=frequency,
                spin=SPIN,
                rtol=rtol,
                **options,
            )
        wall = time.perf_counter() - t0
    values = {q: np.asarray(getattr(r, q)).tolist() for q in QUANTITIES if getattr(r, q, None) is not None}
    values["error"] = {q: float(e) for q, e in getattr(r, "error", {}).items()}
    return values, c.energies, wall, len(caught)


def natural_scales(junction, forces):
    """Sizes a quantity has when no symmetry makes it vanish: F0 ~ |f| (|f| =
    max_a sum_ij |f_a,ij|, rho elements ~ 1), K ~ |f|^2/W, L ~ hbar |f|^2/W^2
    (W = junction.energy_scale); the current-induced parts the same."""
    f1 = max(float(abs(f).sum()) if hasattr(f, "tocsr") else float(np.abs(f).sum()) for f in forces)
    w = float(junction.energy_scale)
    out = {"mean_force": f1, "K": f1**2 / w, "L": HBAR * f1**2 / w**2}
    out.update({q + "_current": v for q, v in list(out.items())})
    return out


def true_error(values, ref, natural, ref_rtol=0.0):
    """Each quantity's true error max|X - X_ref| / max(max|X_ref|, natural_X / 100)
    (relative to its own scale, or to 1 % of its natural scale where it
    vanishes by symmetry: no friction outside the band, F0 = 0 of a symmetric
    chain), over every quantity both hold.

    Returns (worst error, its quantity, bound) where bound says whether each
    quantity's reported error estimate is at least its true error: "ok",
    "MISS:<quantities>", or "-" when the run reported no estimates.  A true
    error below 10 ref_rtol is the reference's own noise and is not judged.
    """
    worst, name, missed = 0.0, "-", []
    est = values.get("error", {})
    for q in QUANTITIES:
        if q not in values or q not in ref:
            continue
        x = np.asarray(values[q])
        y = np.asarray(ref[q])
        scale = max(float(np.max(np.abs(y))), 0.01 * natural[q])
        diff = float(np.max(np.abs(x - y)))
        e = diff / scale
        if e >= worst:
            worst, name = e, q
        if q in est and e > 10 * ref_rtol and not est[q] >= diff:
            missed.append(q)
    bound = "-" if not est else ("ok" if not missed else "MISS:" + ",".join(missed))
    return worst, name, bound


def make_reference(path, cases, temps, kinds, rtol):
    """Compute references and add each to ``path`` as soon as it is done (a
    long run that is stopped keeps what it has)."""
    import currentforces

    path = pathlib.Path(path)
    for case in cases:
        junction, forces, ef, desc = (None, None, 0.0, "") if case == "iii" else build(case)
        for kind in kinds:
            for t in temps:
                t0 = time.perf_counter()
                try:
                    if case == "iii":
                        value = single_level_reference(t, KINDS[kind])
                    else:
                        # a reference that misses its own tolerance is kept with its estimate
                        value, *_ = run_one(junction, forces, ef, t, KINDS[kind], rtol, on_fail="warn")
                except Exception as exc:  # no reference: the row prints nan
                    print(f"reference {key(case, kind, t)} failed: {type(exc).__name__}: {str(exc)[:80]}")
                    continue
                print(f"reference {key(case, kind, t)}: {time.perf_counter() - t0:.1f} s", flush=True)
                out = json.loads(path.read_text()) if path.exists() else {"meta": {}, "values": {}}
                out["values"][key(case, kind, t)] = value  # several runs can fill one file
                out["meta"][key(case, kind, t)] = {
                    "rtol": rtol,
                    "version": getattr(currentforces, "__version__", "?"),
                }
                path.write_text(json.dumps(out))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", nargs="+", default=CASES, choices=CASES)
    p.add_argument("--temperatures", nargs="+", type=float, default=TEMPERATURES)
    p.add_argument("--kinds", nargs="+", default=list(KINDS), choices=list(KINDS))
    p.add_argument("--rtol", type=float, default=1e-6)
    p.add_argument("--reference", help="JSON file of reference values (from --make-reference)")
    p.add_argument("--save", help="write the computed values and counts to this JSON file")
    p.add_argument("--make-reference", metavar="FILE", help="compute references and exit")
    p.add_argument("--reference-rtol", type=float, default=1e-9)
    p.add_argument("--compare", metavar="FILE", help="print the table of a --save file against --reference")
    p.add_argument(
        "--sea", action="store_true", help="also time the bias-independent Fermi-sea part alone (fermi_sea_part)"
    )
    args = p.parse_args(argv)
    if args.make_reference:
        make_reference(args.make_reference, args.cases, args.temperatures, args.kinds, args.reference_rtol)
        return
    ref_file = json.loads(pathlib.Path(args.reference).read_text()) if args.reference else {"values": {}, "meta": {}}
    refs, ref_meta = ref_file["values"], ref_file["meta"]

    def judge(k, values, natural):
        if k not in refs:
            return math.nan, "-", "-"
        return true_error(values, refs[k], natural, ref_meta.get(k, {}).get("rtol", 0.0))

    header = (
        f"{'case':<38} {'kind':<9} {'T K':>6} {'nE':>7} {'wall s':>8} {'G-eq':>8} {'err':>9} "
        f"{'worst':<18} {'est>=err':<8} {'warn':>4}"
    )
    print(f"force_coefficients, V = {BIAS} V, rtol = {args.rtol}, finite frequency hbar w = {FREQUENCY} eV")
    print(header)
    print("-" * len(header))
    if args.compare:
        saved = json.loads(pathlib.Path(args.compare).read_text())
        natural = {}
        for k, r in saved.items():
            case, kind, t = k.split("/")
            if case not in natural:
                junction, forces, *_ = build(case)
                natural[case] = natural_scales(junction, forces)
            err = judge(k, r["values"], natural[case])
            print(
                f"{r['desc']:<38} {kind:<9} {float(t):>6g} {r['nE']:>7d} {r['wall']:>8.2f} "
                f"{r['wall'] / r['tG']:>8.0f} {err[0]:>9.1e} {err[1]:<18} {err[2]:<8} {r['warnings']:>4d}"
            )
        return
    out = {}
    for case in args.cases:
        junction, forces, ef, desc = build(case)
        natural = natural_scales(junction, forces)
        t_g = time_one_green(junction, forces, ef)
        for kind in args.kinds:
            for t in args.temperatures:
                k = key(case, kind, t)
                try:
                    values, n_e, wall, nwarn = run_one(junction, forces, ef, t, KINDS[kind], args.rtol)
                except Exception as exc:  # report and go on: a failing integral is a result too
                    print(f"{desc:<38} {kind:<9} {t:>6g} failed: {type(exc).__name__}: {str(exc)[:80]}", flush=True)
                    continue
                err = judge(k, values, natural)
                sea = ""
                if args.sea:
                    from currentforces import fermi_sea_part

                    with counting(junction) as cs:
                        t0 = time.perf_counter()
                        fermi_sea_part(
                            junction, forces, fermi_level=ef, temperature=t, hbar_omega=KINDS[kind], rtol=args.rtol
                        )
                        sea = f"   sea: {cs.energies:5d} E {(time.perf_counter() - t0) / t_g:6.0f} G-eq"
                print(
                    f"{desc:<38} {kind:<9} {t:>6g} {n_e:>7d} {wall:>8.2f} {wall / t_g:>8.0f} "
                    f"{err[0]:>9.1e} {err[1]:<18} {err[2]:<8} {nwarn:>4d}{sea}",
                    flush=True,
                )
                out[k] = {"values": values, "nE": n_e, "wall": wall, "tG": t_g, "desc": desc, "warnings": nwarn}
                if args.save:
                    pathlib.Path(args.save).write_text(json.dumps(out))
    print("\nG-eq = wall time / time of one G(E) on the force support at one energy.")


if __name__ == "__main__":
    main()
