"""Plain answers first: the answer sentences, compact tables and compact letter displays of results.

Every result object of the toolkit shows itself the same way (the *result protocol*, see
``docs/DEVELOPING.md``):

* ``print(result)`` / ``str(result)`` / ``result.summary()``: the answer in one or two plain sentences
  (which group is highest on the stated metric, with its estimate and interval; which groups cannot be
  told apart from it; the unit of analysis and the test), then a compact table (group, estimate,
  interval, letters, n). ``summary(full=True)`` adds every table.
* ``result._repr_html_()`` (the notebook display): the same answer and compact table, the rest folded.
* ``result.report()``: the APA sentences, a :class:`~toolkit.reporting.Report` (a ``str`` that
  Jupyter renders as Markdown).
* ``result.to_frame()``: a tidy DataFrame of the main table (full precision).

The answer is never confidently wrong: when groups cannot be identified (one account per
department), when the design cannot reach significance, or when no group differs, the first sentence
says so instead of naming a winner. When the group with the highest median is not the group with the
highest mean, a sentence says that the typical and the average unit favour different groups.

Letters follow multcomp's ``cld`` (Piepho 2004): groups that share a letter are not significantly
different at ``alpha`` (adjusted p-values).
"""
from __future__ import annotations

import html
import math
import re
import string
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ._answer import answer_html, answer_text  # shared with data.quality (layer 1), which cannot import display
from ._validation import check_data, check_probability, message
from .reporting import TEST_NAMES, Report, format_estimate, format_interval, format_p

__all__ = ["compact_letter_display", "GroupAnswer", "summary", "html_of", "report_of"]

_LETTERS = string.ascii_lowercase + string.ascii_uppercase


# ---------------------------------------------------------------------------------------------
# Compact letter display (Piepho 2004; a port of multcomp's insert_absorb / sweepLetters)
# ---------------------------------------------------------------------------------------------
def _letter_names(n: int) -> list[str]:
    """multcomp's ``get_letters``: a-z, A-Z, then ``.a``-``.Z``, ``..a``, ..."""
    out, sep = [], ""
    for _ in range(n // len(_LETTERS)):
        out += [sep + c for c in _LETTERS]
        sep += "."
    return out + [sep + c for c in _LETTERS[: n % len(_LETTERS)]]


def _absorb(m: np.ndarray) -> np.ndarray:
    """Drop a column whose groups all share another column (repeat until none)."""
    while True:
        for j in range(m.shape[1] - 1):
            for k in range(j + 1, m.shape[1]):
                if np.all(m[m[:, k], j]):
                    m = np.delete(m, k, axis=1)
                    break
                if np.all(m[m[:, j], k]):
                    m = np.delete(m, j, axis=1)
                    break
            else:
                continue
            break
        else:
            return m


def _sweep(mat: np.ndarray) -> np.ndarray:
    """Piepho's sweeping: remove letters that are redundant (multcomp's ``sweepLetters``)."""
    mat = mat.copy()
    restart = True
    while restart:
        restart = False
        locked = np.zeros(mat.shape, dtype=bool)
        for i in range(mat.shape[1]):
            tmp = np.zeros(mat.shape, dtype=bool)
            tmp[mat[:, i]] = mat[mat[:, i]]
            one = np.flatnonzero(tmp[:, i])
            if np.all(np.delete(tmp, i, axis=1).any(axis=1)):
                continue
            for j in one:
                if locked[j, i]:
                    continue
                links = []
                for k in one:
                    if k == j:
                        continue
                    shared = [c for c in np.flatnonzero(tmp[j] & tmp[k]) if c != i]
                    if shared:
                        links.append((int(j), int(k), shared[-1]))
                if links and len(links) == len(one) - 1:
                    for a, b, c in links:
                        locked[a, c] = locked[b, c] = True
                    mat[j, i] = False
            if not mat[:, i].any():
                mat = np.delete(mat, i, axis=1)
                restart = True
                break
    return mat[:, mat.any(axis=0)]


def _order_columns(mat: np.ndarray) -> np.ndarray:
    by_size = mat[:, np.argsort(mat.sum(axis=0), kind="stable")]
    swept = _sweep(by_size)
    first = np.argmax(swept, axis=0)  # first group carrying each letter
    return swept[:, np.argsort(first, kind="stable")]


def _letters(levels: list, comparisons: list[tuple]) -> dict:
    """Letters per level from ``(a, b, significant)`` comparisons, in multcomp's order of steps."""
    index = {g: i for i, g in enumerate(levels)}
    lmat = np.ones((len(levels), 1), dtype=bool)
    significant = [(index[a], index[b]) for a, b, sig in comparisons if sig]
    if not significant:
        return {g: "a" for g in levels}
    for ia, ib in significant:
        wrong = np.flatnonzero(lmat[ia] & lmat[ib])   # columns that wrongly assert "not different"
        if wrong.size:
            extra = lmat[:, wrong].copy()
            extra[ib] = False
            lmat[ia, wrong] = False
            lmat = np.hstack([lmat, extra])
            if lmat.shape[1] > 1:
                lmat = _absorb(lmat)
    lmat = _order_columns(_order_columns(lmat))
    names = _letter_names(lmat.shape[1])
    return {g: "".join(n for n, has in zip(names, lmat[i]) if has) for i, g in enumerate(levels)}


def compact_letter_display(data, *, alpha=0.05, levels=None, p_column=None):
    """Compact letter display of pairwise comparisons: groups sharing a letter do not differ significantly.

    Parameters
    ----------
    data : pandas.DataFrame
        A pairwise table (``tk.pairwise``, the ``pairwise`` of ``tk.compare_groups``, a model's
        ``contrasts``) with columns ``group_a``, ``group_b`` and the p-value column; every pair of the
        groups must appear once.
    alpha : float, default=0.05
        A pair is significantly different when its p-value is below `alpha`; a NaN p-value counts as
        "not shown to differ".
    levels : sequence or None, default=None
        The groups in the order letters are handed out (the first group gets "a"); None: order of first
        appearance in `data`. Pass the groups sorted by estimate (highest first) so that "a" marks the top.
    p_column : str or None, default=None
        Column with the p-values; None: ``p_adjusted`` when present and not all NaN, else ``p_value``.

    Returns
    -------
    pandas.DataFrame
        ``group``, ``letters`` (one row per level, in `levels` order). ``attrs["p_column"]`` names the
        p-values used and ``attrs["alpha"]`` the threshold.

    See Also
    --------
    pairwise : Compare every pair of groups (or every group with a reference) after an omnibus test.
    adjust_pvalues : Adjust p-values for multiple comparisons.

    Notes
    -----
    The insert-absorb algorithm of Piepho (2004): start with one letter shared by all groups; for each
    significant pair (in table order), split every letter that both groups carry into a copy without
    either of them, then absorb letters whose groups all share another letter; finally sweep redundant
    letters and name the letters in order of the first group carrying them. This is a line-by-line port
    of ``multcomp:::insert_absorb`` and ``multcomp:::sweepLetters`` (multcomp 1.4-22, used by
    ``multcomp::cld``), so the letters agree with R's for the same comparisons in the same order.

    Validated against R 4.2.2 ``multcomp::cld(summary(glht(aov(...), mcp(... = "Tukey"))))`` on three
    datasets and ``multcomp:::insert_absorb`` on 30 random significance patterns of 4-12 groups
    (tests/reference/display/).

    References
    ----------
    Piepho, H.-P. (2004). An algorithm for a letter-based representation of all-pairwise comparisons.
    Journal of Computational and Graphical Statistics, 13(2), 456-466. doi:10.1198/1061860043515

    Examples
    --------
    >>> import pandas as pd
    >>> pairs = pd.DataFrame({"group_a": ["A", "A", "B"], "group_b": ["B", "C", "C"],
    ...                       "p_adjusted": [0.40, 0.001, 0.03]})
    >>> compact_letter_display(pairs, levels=["A", "B", "C"]).values.tolist()
    [['A', 'a'], ['B', 'a'], ['C', 'b']]
    """
    func = "compact_letter_display"
    data = check_data(data, func)
    alpha = check_probability(alpha, func, "alpha")
    for col in ("group_a", "group_b"):
        if col not in data.columns:
            raise ValueError(message(func, "data", "a pairwise table with columns 'group_a' and 'group_b'",
                                     list(data.columns)[:8]))
    if p_column is None:
        p_column = ("p_adjusted" if "p_adjusted" in data.columns and data["p_adjusted"].notna().any()
                    else "p_value")
    if p_column not in data.columns:
        raise ValueError(message(func, "p_column", "a column of `data`", p_column,
                                 f"Columns: {', '.join(map(str, data.columns))}."))
    seen = list(dict.fromkeys(list(data["group_a"]) + list(data["group_b"])))
    levels = seen if levels is None else list(levels)
    pairs = {frozenset((a, b)) for a, b in zip(data["group_a"], data["group_b"])}
    needed = {frozenset((a, b)) for i, a in enumerate(levels) for b in levels[i + 1:]}
    if set(seen) - set(levels) or needed - pairs:
        missing = sorted(tuple(sorted(map(str, p))) for p in needed - pairs)[:3]
        raise ValueError(message(func, "data", "a table with every pair of the levels once",
                                 f"missing pairs such as {missing}" if missing else
                                 f"groups outside `levels`: {sorted(map(str, set(seen) - set(levels)))}",
                                 "Letters need all pairwise comparisons (not contrasts against a reference)."))
    p = pd.to_numeric(data[p_column], errors="coerce").to_numpy(float)
    comparisons = [(a, b, bool(pv < alpha)) for a, b, pv in zip(data["group_a"], data["group_b"], p)
                   if a in levels and b in levels]
    letters = _letters(levels, comparisons)
    out = pd.DataFrame({"group": levels, "letters": [letters[g] for g in levels]})
    out.attrs.update(p_column=p_column, alpha=alpha)
    return out


# ---------------------------------------------------------------------------------------------
# Plain-language answers
# ---------------------------------------------------------------------------------------------
def plural(word: str) -> str:
    """English plural of a column name used as a noun ("department" -> "departments")."""
    word = str(word)
    if word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    return word + "s"


def _isnan(x) -> bool:
    try:
        return x is None or (isinstance(x, (float, np.floating, int, np.integer)) and math.isnan(float(x)))
    except TypeError:
        return False


def _names(items) -> str:
    items = [str(i) for i in items]
    if len(items) <= 2:
        return " and ".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _alpha_text(alpha: float) -> str:
    return f"α = {alpha:g}".replace("0.", ".", 1)


@dataclass
class GroupAnswer:
    """The plain answer of a comparison of groups: sentences first, then a compact table.

    Built by the result classes' display methods from their own tables; :meth:`sentences`,
    :meth:`table`, :meth:`text` and :meth:`html` give the pieces.

    Attributes
    ----------
    between : str
        The group column (e.g. "department"); its plural names the groups in sentences.
    metric : str
        What the estimate is, in words ("mean comments per account").
    groups : pandas.DataFrame
        ``group``, ``estimate``, ``ci_low``, ``ci_high``, ``n`` (NaN where unknown), one row per group.
    n_label : str
        What ``n`` counts ("accounts", "posts").
    confidence_level : float
    alpha : float
    pairwise : pandas.DataFrame or None
        Pairwise table (``group_a``, ``group_b``, ``p_adjusted``/``p_value``) for the letters.
    overall_p : float
        p-value of the test of any difference (NaN when there is none, e.g. two groups).
    method : str
        One sentence naming the unit of analysis and the test.
    identifiable : bool
        False: groups and their single accounts cannot be told apart (no winner is named).
    not_identifiable : str
        What to say instead when not identifiable.
    min_p : float
        Smallest p-value the design can produce (NaN: no limit known).
    typical : pandas.DataFrame or None
        ``group``, ``mean``, ``median`` for the rank-versus-mean check.
    unit_word : str
        The unit whose typical and average value the disagreement sentence compares ("post", "account").
    groups_word : str
        How the first sentence names the groups when not identifiable (default: plural of `between`).
    column : str
        Header of the estimate column in the compact table (default: `metric`).
    rank_by : str
        When ``groups`` has a ``rank_key`` column (e.g. the mean rank a rank test compares), what it is in
        words; groups are then ordered by ``rank_key`` and the answer says so.

    Examples
    --------
    >>> import pandas as pd
    >>> groups = pd.DataFrame({"group": ["PR", "IT", "HR"], "estimate": [2.0, 3.5, 1.0],
    ...                        "ci_low": [1.5, 2.9, 0.7], "ci_high": [2.6, 4.2, 1.4], "n": [6, 6, 6]})
    >>> pairs = pd.DataFrame({"group_a": ["PR", "PR", "IT"], "group_b": ["IT", "HR", "HR"],
    ...                       "p_adjusted": [0.20, 0.03, 0.001]})
    >>> answer = GroupAnswer(between="department", metric="mean likes per post", groups=groups,
    ...                      n_label="accounts", pairwise=pairs, overall_p=0.002)
    >>> print("\\n".join(answer.sentences()))
    IT has the highest mean likes per post: 3.50, 95% CI [2.90, 4.20].
    IT cannot be told apart from PR at α = .05 (adjusted p-values); departments sharing a letter do not differ significantly.
    >>> answer.table()[["group", "letters"]].values.tolist()
    [['IT', 'a'], ['PR', 'a'], ['HR', 'b']]
    """

    between: str
    metric: str
    groups: pd.DataFrame
    n_label: str
    confidence_level: float = 0.95
    alpha: float = 0.05
    pairwise: pd.DataFrame | None = None
    overall_p: float = float("nan")
    method: str = ""
    identifiable: bool = True
    not_identifiable: str = ""
    min_p: float = float("nan")
    typical: pd.DataFrame | None = None
    unit_word: str = "post"
    groups_word: str = ""
    column: str = ""
    rank_by: str = ""

    # -- the pieces -------------------------------------------------------------------------
    def _ranked(self) -> pd.DataFrame:
        g = self.groups.copy()
        g["_order"] = np.arange(len(g))
        est = pd.to_numeric(g["estimate"], errors="coerce")
        key = pd.to_numeric(g["rank_key"], errors="coerce") if "rank_key" in g else est
        g["_key"] = key.where(est.notna()).fillna(-np.inf)
        return g.sort_values(["_key", "_order"], ascending=[False, True], kind="stable")

    def letters(self) -> pd.Series | None:
        """Letters per group (groups ordered by estimate, highest gets "a"), or None when not all pairs exist."""
        pw = self.pairwise
        if pw is None or len(pw) == 0 or not self.identifiable or len(self.groups) < 2:
            return None
        levels = [str(g) for g in self._ranked()["group"]]
        pw = pw.assign(group_a=pw["group_a"].astype(str), group_b=pw["group_b"].astype(str))
        try:
            cld = compact_letter_display(pw, alpha=self.alpha, levels=levels)
        except ValueError:
            return None
        return pd.Series(list(cld["letters"]), index=levels)

    def _p_pairs(self) -> pd.DataFrame | None:
        pw = self.pairwise
        if pw is None or len(pw) == 0:
            return None
        col = "p_adjusted" if "p_adjusted" in pw.columns and pw["p_adjusted"].notna().any() else "p_value"
        out = pd.DataFrame({"a": pw["group_a"].astype(str), "b": pw["group_b"].astype(str),
                            "p": pd.to_numeric(pw[col], errors="coerce")})
        out.attrs["adjusted"] = col == "p_adjusted"
        return out

    def table(self) -> pd.DataFrame:
        """Compact table at full precision: group, estimate, ci_low, ci_high, letters, n (highest first)."""
        ranked = self._ranked()
        letters = self.letters()
        out = pd.DataFrame({
            "group": ranked["group"].astype(str).to_numpy(), "estimate": ranked["estimate"].to_numpy(float),
            "ci_low": ranked["ci_low"].to_numpy(float), "ci_high": ranked["ci_high"].to_numpy(float),
            "letters": [letters.get(str(g), "") for g in ranked["group"]] if letters is not None else "",
            "n": ranked["n"].to_numpy(float) if "n" in ranked else np.nan})
        if "rank_key" in ranked:
            out["mean_rank"] = pd.to_numeric(ranked["rank_key"], errors="coerce").to_numpy(float)
        out.attrs.update(metric=self.metric, n_label=self.n_label, between=self.between,
                         confidence_level=self.confidence_level)
        return out

    def sentences(self) -> list[str]:
        """The answer: what can be said about the top group (or that nothing can), the method, caveats."""
        groups = plural(self.between)
        ranked = self._ranked()
        finite = ranked[pd.to_numeric(ranked["estimate"], errors="coerce").notna()]
        pct = f"{100 * self.confidence_level:g}%"
        top_text = top_name = top_value = ""
        if len(finite):
            top = finite.iloc[0]
            ci = format_interval(top["ci_low"], top["ci_high"])
            top_name = str(top["group"])
            top_value = format_estimate(top["estimate"]) + (f", {pct} CI {ci}" if ci else "")
            top_text = f"{top_name} ({top_value})"
        highest = (f"Highest observed {self.metric}: {top_text}" if not self.rank_by else
                   f"Ranked highest ({self.rank_by}): {top_name}, {self.metric} {top_value}")
        alpha_text = _alpha_text(self.alpha)
        out = []
        pairs = self._p_pairs()
        sig = pairs[pairs["p"] < self.alpha] if pairs is not None else None
        if not self.identifiable:
            out.append(f"The data cannot tell these {self.groups_word or groups} apart: {self.not_identifiable}".rstrip())
            if top_text:
                out.append(f"{highest}; this describes these units only.")
        elif not len(finite):
            out.append(f"No {self.between} has an estimate of the {self.metric} (all are missing), so the data "
                       f"cannot say which is highest.")
        elif len(finite) < 2:
            out.append(f"Only {top_text} has an estimate of the {self.metric}: there is nothing to compare it with.")
        elif not _isnan(self.min_p) and self.min_p >= self.alpha:
            out.append(f"The data cannot tell these {groups} apart: with these group sizes no difference can be "
                       f"significant at {alpha_text} (the smallest possible p-value is {format_estimate(self.min_p)}).")
            out.append(f"{highest}; more data are needed to know whether it is really higher.")
        elif (sig is None or not len(sig)) and not (self.overall_p < self.alpha):
            overall = f" (test of any difference: {format_p(self.overall_p)})" if not _isnan(self.overall_p) else ""
            if pairs is None:
                tested = "no pairwise contrasts were computed"
            elif (pairs["b"] == "grand mean").any():
                tested = f"no {self.between} differs from the grand mean"
            else:
                tested = "no pair differs"
            if pairs is not None and pairs.attrs.get("adjusted"):
                tested += " after adjustment"
            out.append(f"The data cannot tell these {groups} apart at {alpha_text}{overall}: {tested}.")
            out.append(f"{highest}, not significantly higher than the others.")
        else:
            est = pd.to_numeric(finite["estimate"]).to_numpy(float)
            tied = [str(g) for g, v in zip(finite["group"], est) if v == est[0]]
            if self.rank_by:
                out.append(f"{top_name} ranks highest ({self.rank_by}); its {self.metric} is {top_value}.")
            elif len(tied) > 1:
                out.append(f"{_names(tied)} share the highest {self.metric} ({format_estimate(est[0])}); "
                           f"{top_name} is listed first: {top_value}.")
            else:
                out.append(f"{top_name} has the highest {self.metric}: {top_value}.")
            out.append(self._versus_top(top_name, pairs, groups))
        if self.method:
            out.append(self.method)
        disagreement = self._disagreement()
        if disagreement:
            out.append(disagreement)
        return [s for s in out if s]

    def _versus_top(self, top: str, pairs, groups: str) -> str:
        alpha_text = _alpha_text(self.alpha)
        if pairs is None:
            overall = (f"The {groups} differ ({format_p(self.overall_p)})" if self.overall_p < self.alpha
                       else f"The test of any difference gives {format_p(self.overall_p)}")
            return (f"{overall}; no pairwise contrasts were computed, so which {groups} cannot be told apart "
                    f"from {top} is not tested here.")
        near = pairs[(pairs["a"] == top) | (pairs["b"] == top)]
        if (near["b"] == "grand mean").any():
            p = float(near.loc[near["b"] == "grand mean", "p"].iloc[0])
            verdict = "is significantly above" if p < self.alpha else "cannot be told apart from"
            return (f"With {len(self.groups)} {groups}, each is compared with the grand mean (not every pair): "
                    f"{top} {verdict} it ({format_p(p)}).")
        others = [str(g) for g in self.groups["group"] if str(g) != top]
        covered = set(near["a"]) | set(near["b"])
        if not set(others) <= covered:
            tested = [g for g in others if g in covered]
            not_sig = [r.b if r.a == top else r.a for r in near.itertuples() if not r.p < self.alpha]
            if not tested:
                return (f"The contrasts in this result do not include {top}, so which {groups} cannot be told "
                        f"apart from it is not tested here.")
            return (f"Of the {groups} compared with it, " + (f"{_names(not_sig)} cannot be told apart from it "
                    if not_sig else "all differ from it ") + f"at {alpha_text}.")
        same = [r.b if r.a == top else r.a for r in near.itertuples() if not r.p < self.alpha]
        same = [g for g in others if g in set(same)]
        adj = " (adjusted p-values)" if pairs.attrs.get("adjusted") else ""
        if not same:
            return f"{top} differs from every other {self.between} at {alpha_text}{adj}."
        if len(same) == len(others):
            if (pairs["p"] < self.alpha).any():
                why = f"although some other {groups} differ from each other"
            else:
                why = f"although the test of any difference finds one ({format_p(self.overall_p)})"
            return f"{top} cannot be told apart from any other {self.between} at {alpha_text}{adj}, {why}."
        return (f"{top} cannot be told apart from {_names(same)} at {alpha_text}{adj}; {plural(self.between)} "
                f"sharing a letter do not differ significantly.")

    def _disagreement(self) -> str:
        t = self.typical
        if t is None or len(t) < 2 or not {"mean", "median"} <= set(t.columns):
            return ""
        mean = pd.to_numeric(t["mean"], errors="coerce")
        median = pd.to_numeric(t["median"], errors="coerce")
        if mean.isna().all() or median.isna().all():
            return ""
        by_mean = str(t["group"].iloc[int(np.nanargmax(mean.to_numpy(float)))])
        if "mean_rank" in t.columns and pd.to_numeric(t["mean_rank"], errors="coerce").notna().any():
            ranks = pd.to_numeric(t["mean_rank"], errors="coerce").to_numpy(float)
            top_rank = str(t["group"].iloc[int(np.nanargmax(ranks))])
            if top_rank == by_mean:
                return ""
            typical_text = f"{top_rank}'s {plural(self.unit_word)} rank highest (mean rank)"
        else:
            top_median = median.max()
            tied = [str(g) for g, m in zip(t["group"], median) if m == top_median]
            if by_mean in tied:
                return ""
            typical_text = (f"{tied[0] if len(tied) == 1 else _names(tied)} "
                            f"{'has' if len(tied) == 1 else 'share'} the highest median ({format_estimate(top_median)})")
        return (f"The typical {self.unit_word} and the average {self.unit_word} favour different "
                f"{plural(self.between)}: {typical_text} but {by_mean} has the highest mean "
                f"({format_estimate(mean.max())}); a few large values can pull a mean up, so say which one "
                f"the question is about.")

    # -- renderings -------------------------------------------------------------------------
    def display_table(self) -> pd.DataFrame:
        """The compact table as display strings (rounded in :mod:`toolkit.reporting` only)."""
        t = self.table()
        pct = f"{100 * self.confidence_level:g}% CI"
        out = pd.DataFrame({self.between: t["group"],
                            self.column or self.metric: [format_estimate(v) for v in t["estimate"]],
                            pct: [format_interval(a, b) for a, b in zip(t["ci_low"], t["ci_high"])]})
        if "mean_rank" in t.columns:
            out["mean rank"] = [format_estimate(v, digits=0) if not _isnan(v) else "" for v in t["mean_rank"]]
        if (t["letters"] != "").any():
            out["letters"] = t["letters"]
        if t["n"].notna().any():
            out[self.n_label] = ["" if _isnan(v) else f"{int(v):,}" for v in t["n"]]
        return out

    def text(self) -> str:
        """Answer sentences, a blank line, the compact table (plain text)."""
        return "\n".join(self.sentences()) + "\n\n" + self.display_table().to_string(index=False)

    def html(self) -> str:
        """Answer sentences and the compact table as HTML."""
        return answer_html(self.sentences(), self.display_table())


_PROPER = ("Welch", "Kruskal", "Mann", "Brunner", "Tukey", "Games", "Dunn")
_ADJUST_NAMES = {"holm": "Holm", "bonferroni": "Bonferroni", "hochberg": "Hochberg", "hommel": "Hommel",
                 "fdr_bh": "Benjamini–Hochberg", "fdr_by": "Benjamini–Yekutieli", "none": "un"}


def describe_test(test) -> str:
    """Human name of a ``test`` value inside a sentence (``"cluster_t"`` -> "account-level t contrast")."""
    name = TEST_NAMES.get(str(test), str(test).replace("_", " "))
    return name if name.startswith(_PROPER) else name[:1].lower() + name[1:]


def describe_adjustment(method) -> str:
    """``"holm"`` -> "Holm-adjusted"; ``"none"`` -> "unadjusted"; Tukey/Games–Howell -> the studentized range."""
    if str(method) in ("tukey", "games_howell", "studentized_range"):
        return "adjusted by the studentized range"
    name = _ADJUST_NAMES.get(str(method), str(method))
    return f"{name}adjusted" if name == "un" else f"{name}-adjusted"


# ---------------------------------------------------------------------------------------------
# The result protocol: one builder of (answer sentences, compact table, details) per result class
# ---------------------------------------------------------------------------------------------
@dataclass
class _Parts:
    sentences: list
    table: pd.DataFrame | None = None
    details: list = None          # (title, DataFrame or text) shown by summary(full=True) and folded in HTML
    title: str = ""               # heading of the folded details in HTML
    more: str = ""                # where the rest is


def _level(*tables, default=0.95) -> float:
    for t in tables:
        if isinstance(t, pd.DataFrame) and "confidence_level" in t.columns:
            v = pd.to_numeric(t["confidence_level"], errors="coerce").dropna()
            if len(v):
                return float(v.iloc[0])
    return default


def _alpha_of(result, level: float) -> float:
    alpha = getattr(result, "alpha", None)
    return float(alpha) if isinstance(alpha, (int, float)) and 0 < alpha < 1 else round(1 - level, 10)


def _first_p(table) -> float:
    if isinstance(table, pd.DataFrame) and len(table) and "p_value" in table.columns:
        v = pd.to_numeric(table["p_value"], errors="coerce").iloc[0]
        return float(v)
    return float("nan")


def _method_sentence(unit: str, omnibus, pairwise) -> str:
    bits = []
    if isinstance(omnibus, pd.DataFrame) and len(omnibus):
        row = omnibus.iloc[0]
        p = _first_p(omnibus)
        bits.append(f"test: {describe_test(row['test'])} ({'not computed' if _isnan(p) else format_p(p)})")
    if isinstance(pairwise, pd.DataFrame) and len(pairwise):
        row = pairwise.iloc[0]
        name = describe_test(row["test"])
        if len(pairwise) == 1 and not bits:
            bits.append(f"test: {name} ({format_p(_first_p(pairwise))})")
        else:
            adj = row.get("p_adjust") if "p_adjust" in pairwise.columns else None
            adjusted = (f", {describe_adjustment(adj)}" if isinstance(adj, str) and "p_adjusted" in pairwise.columns
                        and pairwise["p_adjusted"].notna().any() else "")
            bits.append(f"pairs: {name}{adjusted}")
    return f"Unit of analysis: {unit}" + ("; " + "; ".join(bits) if bits else "") + "."


_RANK_ANALYSES = ("kruskal", "brunner_munzel")


def _mean_ranks(data, dv, between) -> pd.Series:
    """Mean pooled rank (average ties) of `dv` per group: what Kruskal–Wallis / Dunn / Brunner–Munzel compare."""
    if not isinstance(data, pd.DataFrame) or dv not in data.columns or between not in data.columns:
        return pd.Series(dtype=float)
    frame = data[[dv, between]].dropna()
    ranks = frame[dv].rank(method="average")
    return ranks.groupby(frame[between].astype(str).to_numpy()).mean()


def _comparison_answer(res) -> GroupAnswer:
    """GroupAnswer of a :class:`~toolkit.compare.GroupComparison`."""
    level = _level(res.pairwise, res.descriptives, res.omnibus)
    alpha = _alpha_of(res, level)
    unit_word = str(res.unit).split(" ")[0]
    d = res.descriptives
    typical = d[["group", "mean", "median"]] if {"group", "mean", "median"} <= set(d.columns) else None
    n_posts = d[["group", "n"]] if {"group", "n"} <= set(d.columns) else None
    min_p, rank_by = float("nan"), ""
    if isinstance(res.design, pd.DataFrame) and "check" in res.design.columns:
        hit = res.design.loc[res.design["check"] == "smallest achievable p-value", "value"]
        min_p = float(hit.iloc[0]) if len(hit) else min_p
    if res.analysis == "cluster_level" and res.group_rates is not None:
        g = res.group_rates
        subject = unit_word
        groups = pd.DataFrame({"group": g["group"], "estimate": g["rate"], "ci_low": g["rate_ci_low"],
                               "ci_high": g["rate_ci_high"], "n": g["n_subjects"]})
        metric = f"{g.attrs.get('unit', res.dv + ' rate')} (geometric mean of {subject} rates)"
        column = str(g.attrs.get("unit", res.dv + " rate"))
        n_label = plural(subject)
        total = int(pd.to_numeric(g["n_subjects"]).sum())
        unit = f"{total:,} {plural(subject)} (one rate each)"
    elif res.analysis == "count_model" and res.model is not None:
        e = res.model.emmeans
        groups = pd.DataFrame({"group": e["group"], "estimate": e["rate"], "ci_low": e["ci_low"],
                               "ci_high": e["ci_high"]})
        if n_posts is not None:
            groups = groups.merge(n_posts, on="group", how="left")
        unit_text = str(e["unit"].iloc[0]) if "unit" in e.columns and len(e) else f"{res.dv} per post"
        metric = f"estimated {unit_text}"
        column = unit_text
        n_label = "posts"
        n_total = int(pd.to_numeric(d["n"]).sum()) if "n" in d.columns and len(d) else 0
        unit = f"{n_total:,} posts" + (str(res.unit)[4:] if str(res.unit).startswith("post") else f" ({res.unit})")
    else:
        rank = res.analysis in _RANK_ANALYSES
        stat = "median" if rank else "mean"
        cols = [stat, f"{stat}_ci_low", f"{stat}_ci_high"]
        groups = pd.DataFrame({"group": d["group"], "estimate": d[cols[0]], "ci_low": d[cols[1]],
                               "ci_high": d[cols[2]], "n": d["n"]})
        if rank:
            mean_rank = _mean_ranks(res.analysed_data, res.dv, res.between)
            groups["rank_key"] = groups["group"].astype(str).map(mean_rank)
            if typical is not None:
                typical = typical.assign(mean_rank=typical["group"].astype(str).map(mean_rank))
            if groups["rank_key"].notna().any():
                rank_by = f"mean rank of {plural(unit_word)}, which the rank test compares"
        per = f" (one mean per {unit_word})" if unit_word != "post" else ""
        metric = f"{stat} {res.dv}{per}"
        column = f"{stat} {res.dv}"
        n_label = plural(unit_word)
        total = int(pd.to_numeric(d["n"]).sum()) if len(d) else 0
        unit = (f"{total:,} {plural(unit_word)}" + (" (one mean each)" if unit_word != "post" else "")
                if res.identifiable else str(res.unit))
    not_identifiable, between = "", res.between
    if not res.identifiable:
        first = str(res.reasons[0]) if res.reasons else ""
        m = re.match(r"Every (.+?) has a single (\S+?), so", first)
        between_word = m.group(1) if m else "group"
        not_identifiable = (f"every {between_word} has a single {m.group(2) if m else 'account'}, so a "
                            f"{between_word} effect cannot be separated from that account's own effect; the table "
                            f"compares these {plural(res.between)} with posts as units.")
        return GroupAnswer(between=between, metric=metric, groups=groups, n_label=n_label, confidence_level=level,
                           alpha=alpha, pairwise=res.pairwise, overall_p=_first_p(res.omnibus),
                           method=_method_sentence(unit, res.omnibus, res.pairwise), identifiable=False,
                           not_identifiable=not_identifiable, typical=typical, unit_word=unit_word,
                           groups_word=plural(between_word), column=column)
    return GroupAnswer(between=between, metric=metric, groups=groups, n_label=n_label, confidence_level=level,
                       alpha=alpha, pairwise=res.pairwise, overall_p=_first_p(res.omnibus),
                       method=_method_sentence(unit, res.omnibus, res.pairwise), min_p=min_p, typical=typical,
                       unit_word=unit_word, column=column, rank_by=rank_by)


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """A full table for reading: rounded, without the columns that are empty in every row."""
    from .reporting import round_table

    return round_table(table).dropna(axis=1, how="all")


def _comparison_parts(res) -> _Parts:
    from .reporting import round_table

    answer = _comparison_answer(res)
    details = [("Why this analysis", "\n".join(f"- {r}" for r in res.reasons)), ("Design checks", res.design),
               ("Descriptives", round_table(res.descriptives))]
    if len(res.omnibus):
        details.append(("Omnibus test", _shown(res.omnibus)))
    if len(res.pairwise):
        details.append(("Contrasts", _shown(res.pairwise)))
    title = (f"Comparing {res.dv} by {res.between} (unit: {res.unit}, analysis: {res.analysis})")
    return _Parts(answer.sentences(), answer.display_table(), details, title)


def _cluster_answer(res) -> GroupAnswer:
    g = res.groups
    level = _level(g, res.pairwise)
    subj = res.subject
    typical = None
    if isinstance(res.subjects, pd.DataFrame) and len(res.subjects):
        s = res.subjects.groupby("group", sort=False)["rate"].agg(["mean", "median"]).reset_index()
        typical = s
    total = int(pd.to_numeric(g["n_subjects"]).sum())
    return GroupAnswer(
        between=res.between, metric=f"{g.attrs.get('unit', res.dv + ' rate')} (geometric mean of {subj} rates)",
        groups=pd.DataFrame({"group": g["group"], "estimate": g["rate"], "ci_low": g["rate_ci_low"],
                             "ci_high": g["rate_ci_high"], "n": g["n_subjects"]}),
        n_label=plural(subj), confidence_level=level, alpha=_alpha_of(res, level), pairwise=res.pairwise,
        overall_p=_first_p(res.omnibus),
        method=_method_sentence(f"{total:,} {plural(subj)} (one rate each)", res.omnibus, res.pairwise),
        identifiable=res.identifiable,
        not_identifiable=(f"every {res.between} has a single {subj}, so a {res.between} effect cannot be separated "
                          f"from that {subj}'s own effect; no {res.between}-level test or interval is computed."),
        min_p=res.min_p_value, typical=typical, unit_word=subj, column=str(g.attrs.get("unit", res.dv + " rate")))


def _cluster_parts(res) -> _Parts:
    from .reporting import round_table

    answer = _cluster_answer(res)
    details = [("Notes", "\n".join(f"- {n}" for n in res.notes)), ("Groups", round_table(res.groups)),
               ("Test", _shown(res.omnibus)), ("Contrasts", _shown(res.pairwise))]
    return _Parts(answer.sentences(), answer.display_table(), details,
                  f"{res.dv} by {res.between}: one summary per {res.subject}")


def _model_answer(m) -> GroupAnswer:
    s = m.settings or {}
    e = m.emmeans
    fs = m.fit_statistics.iloc[0] if len(m.fit_statistics) else {}
    level = _level(e, m.contrasts, default=float(s.get("confidence_level", 0.95)))
    unit_text = str(e["unit"].iloc[0]) if "unit" in e.columns and len(e) else f"{s.get('dv', 'outcome')} per post"
    subject = s.get("subject")
    model = str(fs.get("model", "model")) if len(m.fit_statistics) else "model"
    unit = f"posts (n = {int(fs['n'])}" if len(m.fit_statistics) and not _isnan(fs.get("n")) else "posts ("
    unit += (f", random intercept per {subject})" if model == "GLMM" and subject else ")")
    unit = unit.replace("()", "").replace(" (", " (", 1)
    test = m.test.iloc[0] if len(m.test) else None
    test_text = (f"; test of {s.get('between', 'the groups')}: {describe_test(test['test'])} "
                 f"({format_p(test['p_value'])})" if test is not None else "")
    adj = s.get("p_adjust")
    pairs_text = (f"; pairs: Wald z on rate ratios{', ' + describe_adjustment(adj) if adj else ''}"
                  if len(m.contrasts) else "")
    groups = pd.DataFrame({"group": e["group"] if "group" in e.columns else [], "estimate": e.get("rate"),
                           "ci_low": e.get("ci_low"), "ci_high": e.get("ci_high")})
    return GroupAnswer(between=str(s.get("between") or "group"), metric=f"estimated {unit_text}", groups=groups,
                       column=unit_text,
                       n_label="posts", confidence_level=level, alpha=_alpha_of(m, level), pairwise=m.contrasts,
                       overall_p=float(test["p_value"]) if test is not None else float("nan"),
                       method=f"{model} ({fs.get('family', '')}); unit of analysis: {unit}{test_text}{pairs_text}.")


def _model_parts(m) -> _Parts:
    fs = m.fit_statistics
    details = [("Rate ratios vs reference", m.rate_ratios), ("Estimated marginal means", m.emmeans),
               ("Pairwise contrasts", m.contrasts), ("Tests (row 0: the group effect)", m.test),
               ("Coefficients (log scale)", m.coefficients), ("Fit", fs)]
    tests = ", ".join(str(t) for t in m.test["test"]) if "test" in m.test.columns else ""
    title = (f"{fs['model'].iloc[0]} ({fs['family'].iloc[0]}) of {m.settings.get('dv')}" if len(fs) else "Model")
    if "group" in m.emmeans.columns and len(m.emmeans):
        answer = _model_answer(m)
        return _Parts(answer.sentences(), answer.display_table(), details, title,
                      more=f"tests: {tests}" if tests else "")
    test = m.test.iloc[0] if len(m.test) else None
    sentences = [f"{title}: " + (f"{describe_test(test['test'])}, {format_p(test['p_value'])}." if test is not None
                                 else "no test.")]
    return _Parts(sentences, None, details, title, more=f"tests: {tests}" if tests else "")


def _growth_parts(gm) -> _Parts:
    g = gm.growth_rates
    s = gm.settings or {}
    between = str(s.get("between") or "group")
    level = _level(g)
    alpha = _alpha_of(gm, level)
    test = gm.test.iloc[0] if len(gm.test) else None
    p = float(test["p_value"]) if test is not None else float("nan")
    groups = pd.DataFrame({"group": g["group"], "estimate": g["percent_per_year"],
                           "ci_low": 100 * (pd.to_numeric(g["growth_factor_ci_low"]) - 1),
                           "ci_high": 100 * (pd.to_numeric(g["growth_factor_ci_high"]) - 1),
                           "n": g["n_accounts"]})
    answer = GroupAnswer(between=between, metric="audience growth in % per year", column="growth (% per year)", groups=groups,
                         n_label="accounts",
                         confidence_level=level, alpha=alpha, pairwise=None, overall_p=p,
                         method=(f"Unit of analysis: accounts measured repeatedly (linear mixed model of log "
                                 f"{s.get('dv', 'audience')}); test: Wald test that every {between} grows at the "
                                 f"same rate ({format_p(p)})."))
    sentences = answer.sentences()
    details = [("Growth rates", g), ("Baselines", gm.baselines), ("Test", gm.test), ("Fit", gm.fit_statistics)]
    return _Parts(sentences, answer.display_table(), details, f"Growth of {s.get('dv', 'audience')} by {between}")


def _sample_size_parts(ss) -> _Parts:
    curve = ss.curve
    power = f"power {ss.target_power:g}"
    if ss.n_required is None:
        largest = curve.iloc[-1] if len(curve) else None
        tail = (f" (largest tried: {largest['value']} accounts per department, power "
                f"{format_estimate(largest['power'])})" if largest is not None else "")
        first = f"No design on the grid reaches {power}{tail}: more accounts per department are needed."
    else:
        lo = ss.n_optimistic if ss.n_optimistic is not None else "?"
        hi = ss.n_conservative if ss.n_conservative is not None else "beyond the grid"
        first = (f"{ss.n_required} accounts per department reach {power} (Monte-Carlo range {lo} to {hi}; "
                 f"SIMULATED power).")
    table = None
    if {"value", "power", "ci_low", "ci_high"} <= set(curve.columns):
        table = pd.DataFrame({"accounts per department": curve["value"].astype(str),
                              "power": [format_estimate(v) for v in curve["power"]],
                              "95% CI": [format_interval(a, b) for a, b in zip(curve["ci_low"], curve["ci_high"])]})
    return _Parts([first], table, [("Power curve", curve)], "Sample size by simulation")


def _specification_parts(st) -> _Parts:
    curve, tests = st.curve, st.tests
    ok = int((curve["status"] == "ok").sum()) if "status" in curve.columns else len(curve)
    sig = int(curve["significant"].sum()) if "significant" in curve.columns else 0
    row = tests.set_index("statistic") if len(tests) else None
    key = "share_significant_dominant" if row is not None and "share_significant_dominant" in row.index else None
    alpha = float(getattr(st, "alpha", 0.05)) if isinstance(getattr(st, "alpha", None), float) else 0.05
    if key is None:
        first = f"{ok} of {len(curve)} specifications ran; no joint test is available."
    else:
        p = float(row.loc[key, "p_value"])
        if p < alpha:
            first = (f"The specification curve as a whole shows a difference beyond chance: {sig} of {ok} "
                     f"specifications are significant, more than curves on data with no difference "
                     f"({format_p(p)}).")
        else:
            first = (f"The data cannot show a difference robust to the analysis choices: {sig} of {ok} "
                     f"specifications are significant, no more than on data with no difference ({format_p(p)}).")
    unit = tests["resample_unit"].iloc[0] if len(tests) and "resample_unit" in tests.columns else "?"
    n = int(tests["n_resamples"].iloc[0]) if len(tests) and "n_resamples" in tests.columns else 0
    second = (f"Joint test: {n} null curves with labels permuted across {unit}s; {len(curve) - ok} "
              f"specification(s) did not run.")
    table = None
    if len(tests):
        table = pd.DataFrame({"statistic": tests["statistic"].astype(str),
                              "observed": [format_estimate(v) for v in tests["observed"]],
                              "null mean": [format_estimate(v) for v in tests["null_mean"]],
                              "p": [format_p(v).replace("p ", "", 1).lstrip("= ") for v in tests["p_value"]]})
    return _Parts([first, second], table, [("Joint tests", tests), ("Specification curve", curve)],
                  "Specification curve with joint inference")


def _headlines_parts(h) -> _Parts:
    frame = h.to_frame()
    first = f"Notebook {h.notebook!r} records {len(frame)} headline number(s) for `make reproduce`."
    table = None
    if len(frame):
        table = pd.DataFrame({"name": frame["name"],
                              "value": [format_estimate(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                                        else str(v) for v in frame["value"]],
                              "note": frame["note"].fillna("").astype(str)})
    return _Parts([first], table, [("Headlines", frame)], f"Headlines of {h.notebook}")


def _permutation_parts(r) -> _Parts:
    first = (f"Permutation test ({r.alternative}): observed statistic {format_estimate(r.statistic)}, "
             f"{format_p(r.p_value)} from {r.n_resamples:,} random permutations.")
    return _Parts([first], None, [], "Permutation test")


def _boot_name(method) -> str:
    return {"bca": "BCa", "percentile": "Percentile", "basic": "Basic"}.get(str(method), str(method))


def _bootstrap_parts(r) -> _Parts:
    first = (f"Estimate {format_estimate(r.estimate)}, {100 * r.confidence_level:g}% CI "
             f"{format_interval(r.ci_low, r.ci_high) or 'not available'} ({_boot_name(r.method)} bootstrap, "
             f"{r.n_resamples:,} resamples).")
    return _Parts([first], None, [], "Bootstrap interval")


def _group_bootstrap_parts(r) -> _Parts:
    k = len(np.atleast_1d(r.estimate))
    first = (f"{_boot_name(r.method)} bootstrap {100 * r.confidence_level:g}% intervals of the {r.statistic} for {k} group(s) "
             f"({r.n_resamples:,} resamples)" + ("; a group with one value has no interval." if
                                                 np.isnan(np.atleast_1d(r.ci_low)).any() else "."))
    table = pd.DataFrame({"group": np.arange(k), r.statistic: [format_estimate(v) for v in np.atleast_1d(r.estimate)],
                          f"{100 * r.confidence_level:g}% CI": [format_interval(a, b) for a, b in
                                                                zip(np.atleast_1d(r.ci_low), np.atleast_1d(r.ci_high))]})
    return _Parts([first], table, [], "Group-wise bootstrap")


def _plan_parts(pr) -> _Parts:
    t, plan = pr.table, pr.plan
    n = len(t)
    p_adj = pd.to_numeric(t["p_adjusted"], errors="coerce") if n else pd.Series(dtype=float)
    supported = [str(h) for h, d in zip(t["hypothesis_id"], t["decision"]) if d == "supported"] if n else []
    untested = [str(h) for h, p in zip(t["hypothesis_id"], p_adj) if _isnan(p)] if n else []
    what = f"confirmatory {'hypothesis' if n == 1 else 'hypotheses'} of plan {plan.id!r}"
    rule = "after the correction within each family (adjusted p ≤ the family's α)"
    if not supported:
        first = f"None of the {n} {what} is supported {rule}."
    else:
        first = f"{len(supported)} of the {n} {what} {'is' if len(supported) == 1 else 'are'} supported {rule}: " \
                f"{_names(supported)}."
    sentences = [first]
    if pr.plan_changed:
        sentences.append(f"Warning: {pr.plan_changed}.")
    if untested:
        sentences.append(f"No p-value for {_names(untested)}: not supported for want of a test, not shown false "
                         f"(see the table).")
    families = "; ".join(f"{name} ({describe_adjustment(f.get('correction'))}, {_alpha_text(float(f.get('alpha')))})"
                         for name, f in plan.families.items())
    sentences.append(f"Plan {plan.id!r} (sha256 {plan.sha256[:12]}…), families: {families}.")
    table = None
    if n:
        table = pd.DataFrame({
            "hypothesis": t["hypothesis_id"].astype(str), "family": t["family"].astype(str),
            "analysis": t["analysis"].astype(str),
            "estimate": ["" if _isnan(e) else f"{format_estimate(e)} ({str(k).replace('_', ' ')})"
                         for e, k in zip(t["estimate"], t["estimate_type"])],
            "CI (1 − α)": [format_interval(a, b) for a, b in zip(t["ci_low"], t["ci_high"])],
            "p": [_p_cell(v) for v in t["p_value"]], "adjusted p": [_p_cell(v) for v in t["p_adjusted"]],
            "decision": t["decision"].astype(str)})
    return _Parts(sentences, table, [("Results", t)], f"Plan {plan.id}")


def _p_cell(p) -> str:
    return "" if _isnan(p) else format_p(p).replace("p ", "", 1).lstrip("= ")


def _plan_report(pr) -> Report:
    lines = _plan_parts(pr).sentences
    for r in pr.table.itertuples():
        pair = (f", {r.group_a} vs {r.group_b}" if isinstance(r.group_a, str) and isinstance(r.group_b, str) else "")
        est = ("" if _isnan(r.estimate) else f"{str(r.estimate_type).replace('_', ' ')} {format_estimate(r.estimate)}"
               + (f", CI [{format_estimate(r.ci_low)}, {format_estimate(r.ci_high)}]" if not _isnan(r.ci_low) else "")
               + ", ")
        p = "no p-value" if _isnan(r.p_value) else f"{format_p(r.p_value)}, {describe_adjustment(r.correction)} " \
                                                    f"{format_p(r.p_adjusted)}"
        dv = f"{r.dv} per {r.denominator}" if isinstance(r.denominator, str) else str(r.dv)
        lines.append(f"- {r.hypothesis_id} ({describe_test(r.analysis)}, {dv}{pair}, {r.direction}): {est}{p}: "
                     f"{r.decision}.")
    return Report("\n".join(lines))


_BUILDERS = {
    "GroupComparison": _comparison_parts, "ClusterLevelComparison": _cluster_parts,
    "EngagementModel": _model_parts, "GrowthModel": _growth_parts, "SampleSize": _sample_size_parts,
    "SpecificationTest": _specification_parts, "Headlines": _headlines_parts,
    "PermutationResult": _permutation_parts, "BootstrapResult": _bootstrap_parts,
    "GroupBootstrap": _group_bootstrap_parts, "PlanResult": _plan_parts,
}

_MORE = ".summary(full=True) for every table, .report() for the APA sentences, .to_frame() for the tidy table."


def answer_parts(result) -> _Parts:
    """The answer sentences, compact table and detail tables of a result (its builder in ``_BUILDERS``)."""
    return _BUILDERS[type(result).__name__](result)


def _detail_text(title, content) -> str:
    body = content if isinstance(content, str) else content.to_string(index=False)
    return f"{title}:\n{body}"


def detail_html(title, content) -> str:
    """One titled detail block (a table or preformatted text) as HTML, escaped."""
    body = (f"<pre>{html.escape(content)}</pre>" if isinstance(content, str)
            else content.to_html(index=False, escape=True))
    return f"<b>{html.escape(title)}</b>{body}"


def summary(result, *, full=False) -> str:
    """The text every result prints: answer sentences, compact table, then every table when `full`.

    Parameters
    ----------
    result : object
        A toolkit result (``GroupComparison``, ``ClusterLevelComparison``, ``EngagementModel``,
        ``GrowthModel``, ``SampleSize``, ``SpecificationTest``, ``Headlines``, ``PlanResult`` or a resampling result).
    full : bool, default=False
        Append every table of the result (rounded for display).

    Returns
    -------
    str
        The answer first (one sentence per line), a blank line, the compact table; with `full`, each
        further table under its title.

    Examples
    --------
    >>> import toolkit as tk
    >>> org = tk.simulate_organization(n_accounts_per_department=3, departments=["Marketing", "PR", "IT"],
    ...                                mixed_share=0.0, seed=3)   # SIMULATED
    >>> res = tk.cluster_level_comparison(org.data, dv="comments", between="department", subject="account",
    ...                                   exposure="reach", seed=1)
    >>> print(summary(res).split("\\n\\n")[0])
    The data cannot tell these departments apart at α = .05 (test of any difference: p = .414): no pair differs after adjustment.
    Highest observed comments per 1,000 reach (geometric mean of account rates): IT (4.65, 95% CI [2.68, 8.06]), not significantly higher than the others.
    Unit of analysis: 9 accounts (one rate each); test: permutation test across accounts (p = .414); pairs: account-level t contrast, Holm-adjusted.
    """
    parts = answer_parts(result)
    text = answer_text(parts.sentences, parts.table)
    if full:
        blocks = [_detail_text(t, c) for t, c in (parts.details or [])]
        if type(result).__name__ in ("GroupComparison", "ClusterLevelComparison", "EngagementModel", "GrowthModel"):
            blocks.append("APA sentences:\n" + str(result.report()))
        text += "\n\n" + "\n\n".join(blocks) if blocks else ""
    elif parts.details:
        more = f" ({parts.more})" if parts.more else ""
        text += f"\n\nMore{more}: {_MORE}"
    return text


def html_of(result) -> str:
    """The notebook display of a result: answer, compact table, the rest folded under "Details"."""
    parts = answer_parts(result)
    blocks = [detail_html(t, c) for t, c in (parts.details or [])]
    details = (f"<h4>{html.escape(parts.title)}</h4>" if parts.title else "") + "\n".join(blocks)
    if type(result).__name__ in ("GroupComparison", "ClusterLevelComparison", "EngagementModel", "GrowthModel"):
        details += "<b>APA sentences</b><pre>" + html.escape(str(result.report())) + "</pre>"
    return answer_html(parts.sentences, parts.table, details if blocks else "")


def report_of(result) -> Report:
    """APA-style sentences of a result, as a :class:`~toolkit.reporting.Report`."""
    from .reporting import report

    name = type(result).__name__
    if name == "EngagementModel":
        return _model_report(result)
    if name == "PlanResult":
        return _plan_report(result)
    if name == "GrowthModel":
        g = result.growth_rates
        lines = [str(report(result.test))] if len(result.test) else []
        level = _level(g)
        for r in g.itertuples():
            lines.append(f"{r.group}: {format_estimate(r.percent_per_year)}% per year, {100 * level:g}% CI "
                         f"[{format_estimate(100 * (r.growth_factor_ci_low - 1))}, "
                         f"{format_estimate(100 * (r.growth_factor_ci_high - 1))}] ({int(r.n_accounts)} accounts).")
        return Report("\n".join(lines))
    parts = answer_parts(result)
    return Report("\n".join(parts.sentences))


def _model_report(m) -> Report:
    from .reporting import report

    s = m.settings or {}
    fs = m.fit_statistics.iloc[0] if len(m.fit_statistics) else {}
    kind = "negbin_glmm" if len(m.fit_statistics) and fs.get("model") == "GLMM" else "negbin_glm"
    lines = [str(report(m.test))] if len(m.test) else []
    c = m.contrasts
    if len(c):
        rows = pd.DataFrame({"test": kind, "dv": s.get("dv"), "between": s.get("between"), "group_a": c["group_a"],
                             "group_b": c["group_b"], "estimate": c["rate_ratio"], "estimate_type": "rate_ratio",
                             "estimate_ci_low": c["ci_low"], "estimate_ci_high": c["ci_high"],
                             "statistic": c["statistic"], "p_value": c["p_value"], "p_adjusted": c["p_adjusted"],
                             "p_adjust": c["p_adjust"], "confidence_level": c["confidence_level"],
                             "n": float(fs.get("n", np.nan)) if len(m.fit_statistics) else np.nan,
                             "n_dropped": float(fs.get("n_dropped", np.nan)) if len(m.fit_statistics) else np.nan})
        lines.append(str(report(rows)))
    return Report("\n".join(lines))
