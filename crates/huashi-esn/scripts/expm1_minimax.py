#!/usr/bin/env python3
"""Coefficients of the minimax polynomial of expm1(r)/r on |r| <= ln(2)/2.

Used by huashi_esn::math::tanh (degree 10). Remez exchange in 50-digit mpmath
on a 4,001-point grid; prints the worst relative error of the polynomial with
its coefficients rounded to f64, and the coefficients (Python's repr of a
float is exact). Optional: nothing in the build or the tests runs it.

    python3 -m venv /tmp/mp && /tmp/mp/bin/pip install mpmath
    /tmp/mp/bin/python crates/huashi-esn/scripts/expm1_minimax.py 10
"""

import sys

import mpmath as mp

mp.mp.dps = 50
H = mp.log(2) / 2


def g(r):
    return mp.expm1(r) / r if r != 0 else mp.mpf(1)


def value(c, x):
    return sum(c[j] * x**j for j in range(len(c)))


def remez(degree, iterations=8, points=4000):
    n = degree + 1
    xs = [H * mp.cos(mp.pi * k / n) for k in range(n + 1)]
    grid = [-H + 2 * H * i / points for i in range(points + 1)]
    for _ in range(iterations):
        rows = [[x**j for j in range(n)] + [(-1) ** i * g(x)] for i, x in enumerate(xs)]
        sol = mp.lu_solve(mp.matrix(rows), mp.matrix([g(x) for x in xs]))
        c = [sol[j] for j in range(n)]
        err = [(value(c, x) - g(x)) / g(x) for x in grid]
        # Local extrema of the error, merged to alternate in sign.
        ext = [0] + [i for i in range(1, points) if (err[i] - err[i - 1]) * (err[i + 1] - err[i]) <= 0] + [points]
        alt = []
        for i in ext:
            if alt and mp.sign(err[i]) == mp.sign(err[alt[-1]]):
                if abs(err[i]) > abs(err[alt[-1]]):
                    alt[-1] = i
            else:
                alt.append(i)
        while len(alt) > n + 1:
            alt.pop(0 if abs(err[alt[0]]) < abs(err[alt[-1]]) else -1)
        if len(alt) < n + 1:
            break
        xs = [grid[i] for i in alt]
    return c


def main():
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    c = [float(x) for x in remez(degree)]
    grid = [-H + 2 * H * i / 3000 for i in range(3001)]
    worst = max(abs((value([mp.mpf(v) for v in c], x) - g(x)) / g(x)) for x in grid)
    print(f"degree {degree}: worst relative error {float(worst):.3e}")
    for v in c:
        print(repr(v))


if __name__ == "__main__":
    main()
