"""NB2 GLM with an exposure offset: the toolkit's engine and front door against statsmodels, same data, same run.

Run from the project root with the project's environment::

    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_glm.py                   # 100k and 1M posts
    OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_glm.py --sizes 10000     # smoke run

Target (issue 13): the NB2 GLM at least 5x faster than statsmodels at 1M posts with the same coefficients
(1e-7). Rows:

* engine ``toolkit.models.glm.fit_glm(y, X, log(reach), "negbin")`` (the Poisson start, the NB2 fit, the
  Poisson-boundary check, model-based covariance) vs ``statsmodels.api.NegativeBinomial(y, X,
  offset=log(reach)).fit(method="newton")`` on the same arrays -- like with like: one model, ML of beta and
  alpha = 1/theta;
* front door ``tk.fit_engagement_model(data, dv="likes", between="department", exposure="reach")``, which
  also checks and codes the data, fits the model without department for the likelihood-ratio test, and
  computes rate ratios, 28 contrasts and marginal means, vs ``statsmodels.formula.api.negativebinomial(
  "likes ~ department", offset=log(reach)).fit(method="newton")`` (what a user writes; one model only);
* the same front door by formula, ``formula="likes ~ department + offset(log(reach))"`` (formulaic encodes the
  distinct rows of the design only), against the same statsmodels time.

The default optimiser of statsmodels (bfgs) does not converge on such data, hence ``method="newton"``.
Agreement: the largest absolute difference of the 8 coefficients and the relative difference of alpha.
Data: SIMULATED, the generator of bench_peers.py (``make_posts``: seed 20261121 + n; 8 departments x 20
accounts, reach lognormal, likes NB2 with size 1.2). Times are medians of ``--repeats`` runs with BLAS limited
to one thread for both sides. Writes the section "NB2 GLM vs statsmodels" of reports/benchmarks.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import toolkit as tk  # noqa: E402
from toolkit.models.glm import fit_glm  # noqa: E402
from _report import write_section  # noqa: E402
from _timing import Timer, rel_diff  # noqa: E402
from bench_peers import BETWEEN, _abs, _fmt_s, _g, make_posts  # noqa: E402


def design(data):
    codes = data[BETWEEN].cat.codes.to_numpy()
    X = np.zeros((codes.size, 8))
    X[:, 0] = 1.0
    other = codes > 0
    X[np.nonzero(other)[0], codes[other]] = 1.0
    return data["likes"].to_numpy(float), X, np.log(data["reach"].to_numpy(float))


def run(n, timer):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf
    data = make_posts(n)
    y, X, off = design(data)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_e, r_e, fe = timer(lambda: fit_glm(y, X, off, "negbin"))
        t_s, r_s, rs = timer(lambda: sm.NegativeBinomial(y, X, offset=off).fit(method="newton", disp=0, maxiter=100))
        t_f, r_f, mf = timer(lambda: tk.fit_engagement_model(data, dv="likes", between=BETWEEN, exposure="reach"))
        t_ff, r_ff, mff = timer(lambda: tk.fit_engagement_model(data, formula="likes ~ department + "
                                                                "offset(log(reach))"))
        t_sf, r_sf, rsf = timer(lambda: smf.negativebinomial("likes ~ department", data=data, offset=off).fit(
            method="newton", disp=0, maxiter=100))
    alpha_e = 1.0 / fe["theta"]
    rows.append(("engine `fit_glm(..., \"negbin\")`", n, (t_e, r_e), "sm.NegativeBinomial, arrays", (t_s, r_s),
                 f"coef abs {_g(_abs(fe['beta'], rs.params[:-1]))}; alpha rel {_g(rel_diff(alpha_e, rs.params[-1]))}"))
    beta_f = mf.coefficients["estimate"].to_numpy()
    alpha_f = 1.0 / float(mf.fit_statistics["theta"].iloc[0])
    rows.append(("`tk.fit_engagement_model` (+ LR test, contrasts, emmeans)", n, (t_f, r_f),
                 "smf.negativebinomial, formula", (t_sf, r_sf),
                 f"coef abs {_g(_abs(beta_f, np.asarray(rsf.params)[:-1]))}; "
                 f"alpha rel {_g(rel_diff(alpha_f, np.asarray(rsf.params)[-1]))}"))
    beta_ff = mff.coefficients["estimate"].to_numpy()
    rows.append(("`tk.fit_engagement_model(formula=\"likes ~ department + offset(log(reach))\")`", n, (t_ff, r_ff),
                 "smf.negativebinomial, formula", (t_sf, r_sf),
                 f"coef abs {_g(_abs(beta_ff, np.asarray(rsf.params)[:-1]))}; identical to the keyword fit: "
                 f"{bool(np.array_equal(beta_ff, beta_f))}"))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only; do not update reports/benchmarks.md")
    args = parser.parse_args(argv)
    timer = Timer(args.repeats, 60.0)
    load0 = os.getloadavg()[0]
    rows = []
    with threadpool_limits(limits=1):
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"... n={n:,}", file=sys.stderr, flush=True)
            rows += run(n, timer)
    lines = ["| toolkit | n | toolkit s | statsmodels | statsmodels s | ratio statsmodels/toolkit | agreement |",
             "|---|---:|---:|---|---:|---:|---|"]
    for task, n, (t, r), peer, (tp, rp), agree in rows:
        lines.append(f"| {task} | {n:,} | {_fmt_s(t, r, args.repeats)} | {peer} | {_fmt_s(tp, rp, args.repeats)} | "
                     f"{tp / t:.2f} | {agree} |")
    import statsmodels
    body = (f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, load average "
            f"{load0:.1f} -> {os.getloadavg()[0]:.1f}; toolkit {tk.__version__}, statsmodels "
            f"{statsmodels.__version__}; medians of {args.repeats} runs, BLAS 1 thread. Data SIMULATED "
            "(bench_peers.make_posts). Target: engine and front door >= 5x statsmodels at 1M posts, coefficients "
            "within 1e-7.\n\n" + "\n".join(lines))
    print(body)
    if not args.no_write:
        write_section("NB2 GLM vs statsmodels", body)


if __name__ == "__main__":
    main()
