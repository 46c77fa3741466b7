"""Display and provenance: APA-style sentences, rounding for display, session information.

Results elsewhere in the toolkit are kept at full precision; rounding and string formatting
happen only here: :func:`format_p` (p-values, never "0"), :func:`format_number` (statistics and
effect sizes, ``DIGITS`` decimals), :func:`format_estimate` (estimates of any magnitude) and
:func:`format_interval`. :mod:`toolkit.display` builds the plain-language answers from them.
"""
from __future__ import annotations

import hashlib
import math
import platform
import subprocess
import sys
from importlib import metadata

import numpy as np
import pandas as pd

from ._answer import Report  # defined in the foundation layer so that data.quality can return one too
from ._validation import check_data, message

#: Symbols of the test statistic per `test` value.
STATISTIC_SYMBOLS = {
    "anova": "F", "welch_anova": "F", "kruskal": "H", "permutation_omnibus": "F",
    "welch_t": "t", "mann_whitney": "U", "brunner_munzel": "W",
    "tukey": "q", "games_howell": "q", "dunn": "z", "permutation": "Δ", "bootstrap": "Δ",
    "likelihood_ratio": "χ²", "wald": "χ²", "negbin_glmm": "z", "negbin_glm": "z",
    "cluster_permutation": "F", "cluster_t": "t", "overdispersion": "LR",
}
#: Human names of the tests.
TEST_NAMES = {
    "anova": "One-way ANOVA", "welch_anova": "Welch's ANOVA", "kruskal": "Kruskal–Wallis test",
    "permutation_omnibus": "Permutation test", "welch_t": "Welch's t-test", "mann_whitney": "Mann–Whitney test",
    "brunner_munzel": "Brunner–Munzel test", "tukey": "Tukey HSD", "games_howell": "Games–Howell",
    "dunn": "Dunn's test", "permutation": "Permutation test", "bootstrap": "Bootstrap contrast",
    "likelihood_ratio": "Likelihood-ratio test", "wald": "Wald test", "negbin_glmm": "Negative-binomial GLMM",
    "negbin_glm": "Negative-binomial GLM",
    "cluster_permutation": "Permutation test across accounts", "cluster_t": "Account-level t contrast",
    "overdispersion": "Overdispersion test (NB vs Poisson)",
}
EFFECT_SYMBOLS = {
    "eta_squared": "η²", "omega_squared": "ω²", "epsilon_squared": "ε²", "hedges_g": "Hedges' g",
    "cliffs_delta": "Cliff's δ", "rank_biserial": "r_rb", "hodges_lehmann_shift": "HL shift",
    "ratio_of_means": "ratio of means", "mean_difference": "mean difference",
    "relative_effect": "P(a>b)+½P(a=b)", "rate_ratio": "rate ratio", "omega_squared_welch": "ω² (Welch)", "median_difference": "median difference",
}
#: Effect sizes bounded by 1 in absolute value: printed without a leading zero (APA 7, 6.36).
BOUNDED = {"eta_squared", "omega_squared", "omega_squared_welch", "epsilon_squared", "cliffs_delta", "rank_biserial",
           "relative_effect"}


#: Decimals of statistics and effect sizes in sentences and tables (p-values use APA's three).
DIGITS = 2


def format_p(p: float, *, digits: int = 3) -> str:
    """Format a p-value in APA style: ``p = .014``, ``p < .001``; never ``p = 0``.

    Examples
    --------
    >>> format_p(0.01412), format_p(2e-9), format_p(float("nan"))
    ('p = .014', 'p < .001', 'p = n/a')
    """
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return "p = n/a"
    floor = 10.0 ** (-digits)
    if p < floor:
        return f"p < {_strip0(f'{floor:.{digits}f}')}"
    text = f"{p:.{digits}f}"
    if text == f"{1:.{digits}f}":
        return f"p > {_strip0(f'{1 - floor:.{digits}f}')}"
    return f"p = {_strip0(text)}"


def _strip0(text: str) -> str:
    return text.replace("0.", ".", 1) if text.startswith(("0.", "-0.")) else text


def format_number(value: float, *, digits: int = DIGITS, bounded: bool = False) -> str:
    """Format a number for display (``bounded`` drops the leading zero, as APA does for |x| <= 1).

    Examples
    --------
    >>> format_number(2.3456), format_number(-0.0912, bounded=True), format_number(float("nan"))
    ('2.35', '-.09', 'n/a')
    """
    if value is None or (isinstance(value, (float, np.floating)) and math.isnan(value)):
        return "n/a"
    text = f"{value:.{digits}f}"
    if bounded:
        text = text.replace("-0.", "-.").replace("0.", ".", 1) if abs(value) < 1 else text
    return text


def format_estimate(value: float, *, digits: int = DIGITS) -> str:
    """Format an estimate of any magnitude: ``digits`` decimals, more for small numbers (two significant
    digits), thousands separators for large ones; never rounds a non-zero value to "0.00".

    Examples
    --------
    >>> [format_estimate(v) for v in (2.2978, 0.00312, 0.5, 12345.6, 0.0, float("nan"))]
    ['2.30', '0.0031', '0.50', '12,346', '0.00', 'n/a']
    """
    if value is None or _isnan(value):
        return "n/a"
    value = float(value)
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    size = abs(value)
    if size >= 10_000:
        return f"{value:,.0f}"
    if size == 0 or size >= 1:
        return f"{value:,.{digits}f}"
    decimals = max(digits, 1 - math.floor(math.log10(size)))
    return f"{value:.{decimals}f}"


def format_interval(low: float, high: float, *, digits: int = DIGITS) -> str:
    """Format an interval as ``[low, high]`` with :func:`format_estimate` (``""`` when both ends are NaN).

    Examples
    --------
    >>> format_interval(1.2345, 3.5), format_interval(float("nan"), float("nan"))
    ('[1.23, 3.50]', '')
    """
    if _isnan(low) and _isnan(high):
        return ""
    return f"[{format_estimate(low, digits=digits)}, {format_estimate(high, digits=digits)}]"


def _df_text(row) -> str:
    if row.get("test") in ("anova", "welch_anova", "cluster_permutation") or (row.get("test") == "permutation_omnibus"
                                                        and not _isnan(row.get("df_within"))):
        return f"({_num(row['df_between'])}, {_num(row['df_within'])})"
    for key in ("df", "df_between"):
        if key in row and not _isnan(row[key]):
            return f"({_num(row[key])})"
    return ""


def _num(x) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _isnan(x) -> bool:
    return x is None or (isinstance(x, (float, np.floating)) and math.isnan(x))


def _sentence(row: dict, *, shared: dict | None = None, digits: int = DIGITS) -> str:
    """One APA sentence; what ``shared`` holds (N, dropped rows, adjustment) is said once, not per row."""
    shared = shared or {}
    test = row.get("test", "")
    name = TEST_NAMES.get(test, str(test))
    sym = STATISTIC_SYMBOLS.get(test, "statistic")
    level = row.get("confidence_level", 0.95)
    level = 0.95 if _isnan(level) else level
    parts = []
    if "group_a" in row and not _isnan(row.get("group_a")):
        head = f"{name}, {row['dv']}: {row['group_a']} vs {row['group_b']}"
    elif not _isnan(row.get("dv")) and not _isnan(row.get("between")):
        head = f"{name} of {row['dv']} by {row['between']}"
    else:  # e.g. a model's test table, which names no dv/between columns
        head = name
    est_type = row.get("estimate_type")
    has_estimate = est_type is not None and not _isnan(est_type) and not _isnan(row.get("estimate"))
    stat = row.get("statistic")
    # A permutation contrast's statistic *is* its estimate (a mean difference): say the number once.
    if not _isnan(stat) and not (has_estimate and _same_number(stat, row.get("estimate"))):
        parts.append(f"{sym}{_df_text(row)} = {format_number(stat, digits=digits)}")
    if "p_adjusted" in row and not _isnan(row.get("p_adjusted")):
        adjusted = format_p(row["p_adjusted"]).replace("p ", "adjusted p ", 1)
        method = "" if shared.get("p_adjust") else f" ({row.get('p_adjust')})"
        parts.append(f"{format_p(row['p_value'])}, {adjusted}{method}")
    else:
        parts.append(format_p(row.get("p_value")))
    if has_estimate:
        sym_e = EFFECT_SYMBOLS.get(est_type, str(est_type).replace("_", " "))
        parts.append(f"{sym_e} = {format_number(row['estimate'], digits=digits)}"
                     + _ci_text(row.get("estimate_ci_low"), row.get("estimate_ci_high"), level, False, digits))
    es_type = row.get("effect_size_type")
    if es_type is not None and not _isnan(es_type) and not _isnan(row.get("effect_size")):
        bounded = es_type in BOUNDED
        sym_es = EFFECT_SYMBOLS.get(es_type, str(es_type).replace("_", " "))
        parts.append(f"{sym_es} = {format_number(row['effect_size'], digits=digits, bounded=bounded)}"
                     + _ci_text(row.get("ci_low"), row.get("ci_high"), level, bounded, digits))
    tail = "" if "n" in shared else _n_text(row)
    return f"{head}: " + ", ".join(parts) + (f" ({tail})" if tail else "") + "."


def _same_number(a, b) -> bool:
    return not _isnan(a) and not _isnan(b) and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)


def _n_text(row) -> str:
    n, dropped = row.get("n"), row.get("n_dropped")
    text = f"N = {int(n)}" if not _isnan(n) else ""
    if not _isnan(dropped) and dropped:
        text += (", " if text else "") + f"{int(dropped)} dropped"
    return text


def _shared(rows: list[dict]) -> dict:
    """What every row of a multi-row table of one test has in common (said once, in a lead sentence)."""
    if len(rows) < 2 or len({r.get("test") for r in rows}) != 1 or "group_a" not in rows[0]:
        return {}
    out = {}
    ns = {(None if _isnan(r.get("n")) else int(r["n"]), None if _isnan(r.get("n_dropped")) else int(r["n_dropped"]))
          for r in rows}
    if len(ns) == 1:
        out["n"] = _n_text(rows[0])
    adjust = {r.get("p_adjust") for r in rows if not _isnan(r.get("p_adjusted"))}
    if len(adjust) == 1 and all(not _isnan(r.get("p_adjusted")) for r in rows):
        out["p_adjust"] = str(adjust.pop())
    return out


def _lead(rows: list[dict], shared: dict) -> str:
    row = rows[0]
    name = TEST_NAMES.get(row.get("test"), str(row.get("test")))
    what = f"{name}: {len(rows)} contrasts"
    if not _isnan(row.get("dv")) and not _isnan(row.get("between")):
        what += f" of {row['dv']} by {row['between']}"
    bits = [shared["n"]] if shared.get("n") else []
    if shared.get("p_adjust"):
        bits.append(f"adjusted p-values: {shared['p_adjust']}")
    return what + (f" ({'; '.join(bits)})" if bits else "") + "."


def _ci_text(low, high, level, bounded, digits=DIGITS) -> str:
    if _isnan(low) or _isnan(high):
        return ""
    pct = f"{100 * level:g}%"
    return (f", {pct} CI [{format_number(low, digits=digits, bounded=bounded)}, "
            f"{format_number(high, digits=digits, bounded=bounded)}]")


def lines_and_tables(lines, *tables, digits: int = DIGITS) -> Report:
    """``lines`` (already written), then the APA sentences of each non-empty test table, as one :class:`Report`:
    the ``report()`` of results that carry their reasons or notes beside an omnibus and a pairwise table."""
    parts = list(lines) + [report(t, digits=digits) for t in tables if len(t)]
    return Report("\n".join(parts))


def report(result, *, digits: int = DIGITS) -> Report:
    """Write an APA-style sentence for each row of a toolkit result table.

    Several contrasts of one test share a lead sentence that says once what they have in common
    (N, dropped rows, the p-value adjustment), so each contrast's sentence carries only its own
    numbers; a permutation contrast, whose statistic is its estimate, states that number once.
    p-values follow APA (``p < .001``, never ``p = 0``).

    Parameters
    ----------
    result : pandas.DataFrame or object with ``to_frame()``
        A table returned by a toolkit test (``tk.anova``, ``tk.pairwise``, …): it must have the
        ``test`` column; or a result object (then its own ``report()`` when its main table is not a
        test table, e.g. a model, a growth model, a sample size).
    digits : int, default=2
        Decimals for statistics and effect sizes (p-values always use APA's three).

    Returns
    -------
    Report
        A ``str`` (one sentence per line) that Jupyter renders as Markdown.

    Examples
    --------
    >>> row = pd.DataFrame({"test": ["anova"], "dv": ["likes"], "between": ["department"], "statistic": [4.5123],
    ...     "df_between": [2.0], "df_within": [87.0], "p_value": [0.0138], "effect_size": [0.094],
    ...     "effect_size_type": ["eta_squared"], "ci_low": [0.006], "ci_high": [0.2], "confidence_level": [0.95],
    ...     "n": [90], "n_dropped": [0]})
    >>> print(report(row))
    One-way ANOVA of likes by department: F(2, 87) = 4.51, p = .014, η² = .09, 95% CI [.01, .20] (N = 90).
    >>> pairs = pd.DataFrame({"test": "permutation", "dv": "likes", "between": "department",
    ...     "group_a": ["IT", "IT"], "group_b": ["HR", "PR"], "estimate": [2.5, -0.4], "estimate_type": "mean_difference",
    ...     "statistic": [2.5, -0.4], "p_value": [0.0002, 0.61], "p_adjusted": [0.0004, 0.61], "p_adjust": "holm",
    ...     "n": 120, "n_dropped": 0})
    >>> print(report(pairs))
    Permutation test: 2 contrasts of likes by department (N = 120; adjusted p-values: holm).
    Permutation test, likes: IT vs HR: p < .001, adjusted p < .001, mean difference = 2.50.
    Permutation test, likes: IT vs PR: p = .610, adjusted p = .610, mean difference = -0.40.
    """
    if hasattr(result, "to_frame") and not isinstance(result, pd.DataFrame):
        frame = result.to_frame()
        if "test" not in frame.columns and callable(getattr(result, "report", None)):
            return result.report()      # a result whose main table is not a test table (model, growth, power...)
        result = frame
    result = check_data(result, "report")
    if "test" not in result.columns:
        raise ValueError(message("report", "result", "a toolkit result table with a 'test' column",
                                 list(result.columns)[:8]))
    rows = result.to_dict("records")
    shared = _shared(rows)
    lines = [_lead(rows, shared)] if shared else []
    lines += [_sentence(row, shared=shared, digits=digits) for row in rows]
    return Report("\n".join(lines))


def round_table(table: pd.DataFrame, *, digits: int = 3) -> pd.DataFrame:
    """Return a copy with float columns rounded for display (p-value columns keep 3 significant digits)."""
    out = table.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            if col.startswith("p_"):
                out[col] = out[col].map(lambda v: float(f"{v:.3g}") if not _isnan(v) else v)
            else:
                out[col] = out[col].round(digits)
    return out


def sha256_file(path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git_commit() -> str:
    from .config import PROJECT_DIR

    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_DIR, capture_output=True, text=True,
                             timeout=10)
        commit = out.stdout.strip() if out.returncode == 0 else "unknown"
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_DIR,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return commit + ("+modified" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


PACKAGES = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "seaborn", "pyarrow", "ipywidgets")


def session_info(*, datasets: bool = True) -> pd.DataFrame:
    """Return provenance for the end of a notebook: versions, git commit, data checksums.

    Parameters
    ----------
    datasets : bool, default=True
        Also list the sha256 of every registered dataset file that is present locally.

    Returns
    -------
    pandas.DataFrame
        Columns ``item`` (what), ``value`` (version, commit or checksum) and ``kind``
        ("software", "code" or "data").

    Examples
    --------
    >>> info = session_info(datasets=False)
    >>> list(info.columns), info["item"].iloc[0]
    (['kind', 'item', 'value'], 'python')
    """
    import toolkit

    rows = [("software", "python", sys.version.split()[0]), ("software", "platform", platform.platform()),
            ("software", "toolkit", toolkit.__version__)]
    for pkg in PACKAGES:
        try:
            rows.append(("software", pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:
            rows.append(("software", pkg, "not installed"))
    rows.append(("code", "git_commit", _git_commit()))
    if datasets:
        try:
            from .data.registry import dataset_files
        except ImportError:  # registry not available
            dataset_files = None
        if dataset_files is not None:
            for name, filename, path, sha in dataset_files():
                rows.append(("data", f"{name}/{filename}", f"sha256:{sha}" if path else "not present locally"))
    return pd.DataFrame(rows, columns=["kind", "item", "value"])
