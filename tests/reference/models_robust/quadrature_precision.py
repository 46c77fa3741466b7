"""Precision of the CR2 inverse square root: toolkit's quadrature and a dense eigendecomposition vs 40-digit mpmath.

Run from the project root with any Python that has numpy, scipy and mpmath (not a project dependency):
    python3 tests/reference/models_robust/quadrature_precision.py \
        > tests/reference/models_robust/quadrature_precision.txt

For one cluster of n = 50 rows and p = 4 coefficients (random working-weighted design Xw, variances v, residuals e;
numpy default_rng(3)), K = diag(v^2) - (v Y)(v Y)' with Y = Xw chol(M) is the matrix whose inverse square root CR2
needs (toolkit.models.robust). Reported: maximum relative error of Z'diag(v^2)Z (Z = K^(-1/2) Xw) from the dense
route (numpy eigh, as clubSandwich's matrix_power) and from the quadrature, and of Z'diag(v)Xw and Z'e from the
quadrature, against mpmath.eigsy at 40 digits, for three spreads of the variances.
"""
import importlib.util
import sys
import types
from pathlib import Path

import mpmath as mp
import numpy as np

# load toolkit/models/robust.py on its own (no pandas needed): stub its one relative import
root = Path(__file__).resolve().parents[3]
pkg = types.ModuleType("toolkit_stub")
pkg.__path__ = []
sys.modules["toolkit_stub"] = pkg
sys.modules["toolkit_stub._validation"] = types.SimpleNamespace(message=None)
spec = importlib.util.spec_from_file_location("toolkit_stub.models.robust", root / "toolkit" / "models" / "robust.py")
sys.modules["toolkit_stub.models"] = types.ModuleType("toolkit_stub.models")
sys.modules["toolkit_stub.models"].__path__ = []
robust = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = robust
spec.loader.exec_module(robust)

mp.mp.dps = 40
rng = np.random.default_rng(3)
n, p = 50, 4
print("spread  v_min     v_max     leverage  cond(K)   dense_S1  quad_S1   quad_S2   quad_u")
for spread in (0.5, 2.0, 3.5):
    Xw = rng.normal(size=(n, p)) * np.exp(rng.normal(0, spread / 2, n))[:, None]
    Xall = np.vstack([Xw, rng.normal(size=(150, p))])
    M = np.linalg.inv(Xall.T @ Xall)
    Y = Xw @ np.linalg.cholesky(M)
    v = np.exp(rng.normal(0, spread, n))
    e = rng.normal(size=n)
    lev = np.linalg.eigvalsh(Y.T @ Y)[-1]
    vY = v[:, None] * Y
    cond = np.linalg.cond(np.diag(v ** 2) - vY @ vY.T)
    vm = [mp.mpf(float(x)) for x in v]
    Ym = mp.matrix(Y.tolist())
    Km = mp.matrix(n, n)
    for i in range(n):
        for j in range(n):
            s = mp.fsum(Ym[i, k] * Ym[j, k] for k in range(p))
            Km[i, j] = (vm[i] ** 2 if i == j else 0) - vm[i] * vm[j] * s
    E, Q = mp.eigsy(Km)
    Zr = np.array((Q * mp.diag([1 / mp.sqrt(x) for x in E]) * Q.T * mp.matrix(Xw.tolist())).tolist(), dtype=float)
    Zd = robust._z_dense(v, Y, Xw)
    S1q, S2q, uq = robust._z_summaries_quadrature(v, Y, Xw, e, lev)
    rel = lambda a, b: np.max(np.abs(a - b)) / np.max(np.abs(b))  # noqa: E731
    S1r = Zr.T @ (v[:, None] ** 2 * Zr)
    print(f"{spread:<7} {v.min():<9.2g} {v.max():<9.2g} {lev:<9.4f} {cond:<9.2g} "
          f"{rel(Zd.T @ (v[:, None] ** 2 * Zd), S1r):<9.1e} {rel(S1q, S1r):<9.1e} "
          f"{rel(S2q, Zr.T @ (v[:, None] * Xw)):<9.1e} {rel(uq, Zr.T @ e):<9.1e}")
