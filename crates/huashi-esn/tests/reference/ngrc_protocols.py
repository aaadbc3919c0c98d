"""Reference values for tests/nvar.rs: the NVAR forecasting protocols of
Gauthier, Bollt, Griffith & Barbosa (2021), "Next generation reservoir
computing", Nat. Commun. 12:5564, re-implemented independently from the
protocols stated in the authors' scripts (ng-rc-paper-code), with SciPy's
RK23 at its default tolerances as they use.

Run (numpy, scipy): python ngrc_protocols.py
Output with SciPy 1.17.1, NumPy 2.4.6 (2026-12-08):
  lorenz63      trials 9.49e-04 1.40e-03 2.45e-03 3.11e-03 1.20e-03 5.05e-03 8.92e-04 3.74e-03 1.09e-03 7.98e-04
  lorenz63      mean 2.0681e-03  stderr 4.3939e-04
  double_scroll trials 1.91e-03 8.80e-04 8.56e-03 1.58e-03 8.41e-04 8.95e-04 1.47e-02 2.78e-03 2.26e-03 3.99e-02
  double_scroll mean 7.4329e-03  stderr 3.6768e-03
"""
import itertools

import numpy as np
from scipy.integrate import solve_ivp


def lorenz(t, y):
    return [10 * (y[1] - y[0]), y[0] * (28 - y[2]) - y[1], y[0] * y[1] - 8 / 3 * y[2]]


def double_scroll(t, y):
    r1, r2, r4, alpha, ir = 1.2, 3.44, 0.193, 11.6, 2 * 2.25e-5
    dv = y[0] - y[1]
    g = dv / r2 + ir * np.sinh(alpha * dv)
    return [y[0] / r1 - g, g - y[2], y[1] - r4 * y[2]]


PROTOCOLS = {
    # dt, training, extent past training, test, ridge, constant, degrees,
    # variance (pooled or per component), warm-ups, field, initial state
    "lorenz63": dict(dt=0.025, train=10.0, extent=1.104, test=1.104, ridge=2.5e-6,
                     constant=True, degrees=(2,), pooled=True,
                     warmups=[5.0 + 10.0 * i for i in range(10)], f=lorenz,
                     y0=[17.67715816276679, 12.931379185960404, 43.91404334248268]),
    "double_scroll": dict(dt=0.25, train=100.0, extent=800.0, test=7.8125, ridge=1e-3,
                          constant=False, degrees=(3,), pooled=False,
                          warmups=[1.0 + 100.0 * i for i in range(10)], f=double_scroll,
                          y0=[0.37926545, 0.058339, -0.08167691]),
}


def features(p, cur, prev):
    lin = np.concatenate([cur, prev])
    monomials = [np.prod(lin[list(c)]) for n in p["degrees"]
                 for c in itertools.combinations_with_replacement(range(len(lin)), n)]
    return np.concatenate([[1.0] if p["constant"] else [], lin, monomials])


def trial(p, warmup):
    dt = p["dt"]
    wp, tp, lp = round(warmup / dt), round(p["train"] / dt), round(p["test"] / dt)
    t_end = warmup + p["train"] + p["extent"]
    steps = round(t_end / dt)
    y = solve_ivp(p["f"], (0, t_end), p["y0"], t_eval=np.linspace(0, t_end, steps + 1),
                  method="RK23").y
    var = np.var(y) if p["pooled"] else sum(np.var(y[i]) for i in range(3))
    x = np.array([features(p, y[:, j], y[:, j - 1]) for j in range(wp - 1, wp + tp - 1)]).T
    target = y[:, wp:wp + tp] - y[:, wp - 1:wp + tp - 1]
    w = target @ x.T @ np.linalg.pinv(x @ x.T + p["ridge"] * np.eye(x.shape[0]))
    cur, prev = y[:, wp + tp - 1].copy(), y[:, wp + tp - 2].copy()
    forecast = [cur.copy()]
    for _ in range(lp - 1):
        cur, prev = cur + w @ features(p, cur, prev), cur
        forecast.append(cur.copy())
    truth = y[:, wp + tp - 1:wp + tp - 1 + lp]
    return np.sqrt(np.mean((truth - np.array(forecast).T) ** 2) / var)


for name, p in PROTOCOLS.items():
    v = np.array([trial(p, w) for w in p["warmups"]])
    print(f"{name:13} trials " + " ".join(f"{e:.2e}" for e in v))
    print(f"{name:13} mean {v.mean():.4e}  stderr {v.std() / np.sqrt(len(v)):.4e}")
