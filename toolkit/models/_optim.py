"""Newton polishing with a fixed Hessian and numerical Hessians: the optimiser helpers of the count models.

A leaf of :mod:`toolkit.models` (numpy only), shared by the GLMM fitter (:mod:`toolkit.models.glmm`) and the
zero-inflated / hurdle models (:mod:`toolkit.models.zero`) so that those two do not import each other
(``tests/test_layers.py``). Moved unchanged from ``glmm.py``, which still re-exports the names.
"""
from __future__ import annotations

import numpy as np


def _newton_polish(fun, par, f, g, Hm, *, max_steps, tries):
    """Newton steps ``par - t * H^-1 g`` with a fixed Hessian, accepted only if they do not raise ``fun``.

    Each step tries t = 1, 1/2, … (``tries`` values; ``tries=1``: full steps only) and stops at a gradient
    below 1e-9, a singular Hessian or a step that cannot improve. Returns (par, f, g, steps taken,
    largest coordinate move).
    """
    steps, moved = 0, 0.0
    for _ in range(max_steps):
        if np.max(np.abs(g)) < 1e-9:
            break
        try:
            step = np.linalg.solve(Hm, g)
        except np.linalg.LinAlgError:
            break
        t = 1.0
        improved = False
        for _ in range(tries):
            cand = par - t * step
            fc, gc = fun(cand)
            if np.isfinite(fc) and fc <= f + 1e-10:
                improved = True
                break
            t /= 2.0
        if not improved:
            break
        moved = max(moved, float(np.max(np.abs(cand - par))))
        par, f, g = cand, fc, gc
        steps += 1
    return par, f, g, steps, moved


def _num_hessian(fun_grad, x, h=1e-5):
    k = x.size
    Hm = np.zeros((k, k))
    for j in range(k):
        e = np.zeros(k)
        step = h * max(1.0, abs(x[j]))
        e[j] = step
        gp = fun_grad(x + e)[1]
        gm = fun_grad(x - e)[1]
        Hm[:, j] = (gp - gm) / (2 * step)
    return (Hm + Hm.T) / 2.0


def _num_hessian_values(f, x, h=1e-4):
    """Central second differences of function values (used for adaptive GHQ, which has no analytic gradient)."""
    k = x.size
    steps = h * np.maximum(1.0, np.abs(x))
    f0 = f(x)
    Hm = np.zeros((k, k))
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = steps[i]
        Hm[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / steps[i] ** 2
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = steps[j]
            Hm[i, j] = Hm[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * steps[i] * steps[j])
    return Hm
