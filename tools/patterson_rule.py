"""Regenerate the 31-point Kronrod-Patterson extension of the Gauss-Kronrod
7-15 rule (``P_NEW_NODES``, ``P_OLD_WEIGHTS``, ``P_NEW_WEIGHTS`` in
``src/currentforces/integrate.py``).

The 15 Kronrod nodes (7 Gauss-Legendre nodes and the 8 zeros of the
Stieltjes polynomial E_8) are recomputed here; the 16 new nodes are the zeros
of the degree-16 polynomial p orthogonal on [-1, 1] to every polynomial of
lower degree with the weight w(x) = prod_k (x - x_k) over the 15 Kronrod
nodes (T. N. L. Patterson, Math. Comp. 22, 847 (1968)); the 31 weights solve
the Legendre moment equations.  Everything in 60-digit arithmetic (mpmath,
not a dependency of the package: ``pip install mpmath``); the moments by a
Golub-Welsch Gauss-Legendre rule exact for the degrees involved.

    python tools/patterson_rule.py

prints the positive nodes and weights, descending, with 34 digits, and the
degree of exactness found (47).
"""

import mpmath as mp

mp.mp.dps = 60


def gauss_legendre(n):
    """(nodes, weights) of the n-point Gauss-Legendre rule (Golub-Welsch)."""
    jac = mp.matrix(n, n)
    for k in range(1, n):
        jac[k, k - 1] = jac[k - 1, k] = k / mp.sqrt(4 * k * k - 1)
    e, q = mp.eigsy(jac)
    return [e[k] for k in range(n)], [2 * q[0, k] ** 2 for k in range(n)]


def extension(old, degree):
    """The monic-in-P_degree polynomial of ``degree`` orthogonal to lower
    degrees with the weight prod (x - t), t in ``old``, as a callable."""
    xs, ws = gauss_legendre(len(old) + 2 * degree + 2)
    weight = [mp.fprod([x - t for t in old]) for x in xs]
    a = mp.matrix(degree, degree)
    b = mp.matrix(degree, 1)
    for j in range(degree):
        pj = [mp.legendre(j, x) for x in xs]
        for k in range(degree):
            a[j, k] = mp.fsum(w * v * pj[i] * mp.legendre(k, xs[i]) for i, (w, v) in enumerate(zip(ws, weight)))
        b[j] = -mp.fsum(w * v * pj[i] * mp.legendre(degree, xs[i]) for i, (w, v) in enumerate(zip(ws, weight)))
    c = mp.lu_solve(a, b)
    return lambda x: mp.legendre(degree, x) + mp.fsum(c[k] * mp.legendre(k, x) for k in range(degree))


def real_zeros(p, count, grid=4000):
    """The ``count`` zeros of p in (-1, 1), bracketed on a uniform grid."""
    pts = [mp.mpf(-1) + 2 * mp.mpf(i) / grid for i in range(grid + 1)]
    vals = [p(x) for x in pts]
    brackets = [(a, b) for a, b, fa, fb in zip(pts, pts[1:], vals, vals[1:]) if fa * fb < 0]
    zeros = [mp.findroot(p, ab, solver="anderson") for ab in brackets]
    assert len(zeros) == count, (len(zeros), count)
    return zeros


def weights(nodes):
    """Interpolatory weights on [-1, 1]: exact for P_0 .. P_{n-1}."""
    n = len(nodes)
    a = mp.matrix(n, n)
    b = mp.matrix(n, 1)
    for j in range(n):
        for k in range(n):
            a[j, k] = mp.legendre(j, nodes[k])
        b[j] = 2 if j == 0 else 0
    return mp.lu_solve(a, b)


def main():
    gauss7 = sorted(gauss_legendre(7)[0])
    kronrod15 = sorted(gauss7 + real_zeros(extension(gauss7, 8), 8))
    new16 = sorted(real_zeros(extension(kronrod15, 16), 16))
    nodes = sorted(kronrod15 + new16)
    w = weights(nodes)

    def moment_error(d):
        return abs(mp.fsum(w[k] * mp.legendre(d, nodes[k]) for k in range(31)) - (2 if d == 0 else 0))

    degree = next(d for d in range(64) if moment_error(d) > mp.mpf(10) ** -40) - 1
    print("degree of exactness:", degree)
    is_new = [any(abs(x - t) < mp.mpf(10) ** -40 for t in new16) for x in nodes]
    for label, pick in (("new nodes", True), ("Kronrod nodes", False)):
        print(label, "(x >= 0, descending): node, weight")
        for x, wk, flag in sorted(zip(nodes, w, is_new), key=lambda t: -t[0]):
            if flag == pick and x > -(mp.mpf(10) ** -40):
                print(f"  {mp.nstr(x, 34)}  {mp.nstr(wk, 34)}")


if __name__ == "__main__":
    main()
