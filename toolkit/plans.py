"""Pre-registered hypothesis plans: load, fingerprint, run, correct per family, detect later edits.

A plan is a YAML file that declares the confirmatory hypotheses before the data are analysed (see
``plans/h-departments.yaml``). :func:`load_plan` validates it strictly and fingerprints it;
:func:`run_plan` runs every hypothesis with the declared analysis, applies the declared correction
across each family and labels the rows "confirmatory"; :func:`exploratory` labels anything else.
:func:`check_plan_unchanged` compares a plan with the fingerprint stored in an earlier results file.

Plan file layout (every key is checked; unknown keys are an error)::

    id: h-departments                 # plan id (text)
    title: Departments and comments   # one line
    data:                             # where the data come from (documentation + plan_data())
      source: simulated               # "simulated" (tk.simulate_organization) or "dataset" (tk.load_dataset)
      seed: 20261121                  # simulated only; other keys: `parameters` (dict for simulate_organization)
      # name: uci_facebook_metrics    # dataset only
    families:
      primary: {correction: holm, alpha: 0.05}
    hypotheses:
      - id: H1
        statement: Marketing gets more comments per reach than HR.
        dv: comments                  # count column (or a metric column when denominator is null)
        denominator: reach            # null, or reach / impressions / audience
        between: department
        contrast: {group_a: Marketing, group_b: HR}   # or the word "omnibus"
        analysis: welch_t             # a key of ANALYSES
        direction: greater            # two-sided, greater (group_a > group_b), less
        alpha: 0.05                   # optional; defaults to the family alpha, must equal it
        family: primary
        nan_policy: raise             # optional: raise (default) or omit
        subject: account              # optional; required by negbin_glmm and cluster_level

Department questions on accounts nested in departments: ``cluster_level`` (one log rate per account,
:func:`toolkit.cluster_level_comparison`) keeps its error rate with the two to fifteen accounts per
department organisations have; ``negbin_glmm`` (Wald z / likelihood ratio) does not, and
:func:`run_plan` warns when it meets fewer than 15 accounts in a department.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import numbers
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy import stats as _sps

from ._protocol import AnswerFirst
from ._validation import ToolkitWarning, check_data, check_random_state, message, warn
from .stats.cluster import FEW_SUBJECTS

__all__ = ["Plan", "Hypothesis", "PlanResult", "Analysis", "ANALYSES", "PLAN_RESULT_COLUMNS", "load_plan",
           "plan_sha256", "plan_data", "run_plan", "exploratory", "check_plan_unchanged", "write_plan_results"]

DIRECTIONS: tuple[str, ...] = ("two-sided", "greater", "less")
NAN_POLICIES: tuple[str, ...] = ("raise", "omit")
DENOMINATORS: tuple[str, ...] = ("reach", "impressions", "audience")
#: numerator column -> add_metrics short name of "<numerator> / <denominator>".
_RATE_METRICS: dict[str, str] = {"likes": "applause_rate", "comments": "conversation_rate",
                                 "shares": "amplification_rate", "total_interactions": "engagement_rate"}

_PLAN_KEYS = {"id": True, "title": True, "data": True, "families": True, "hypotheses": True, "description": False}
_DATA_KEYS = {"source": True, "seed": False, "parameters": False, "name": False, "description": False}
_FAMILY_KEYS = {"correction": True, "alpha": True, "description": False}
_HYPOTHESIS_KEYS = {"id": True, "statement": True, "dv": True, "denominator": False, "between": True,
                    "contrast": True, "analysis": True, "direction": True, "alpha": False, "family": True,
                    "nan_policy": False, "subject": False}

#: Columns of :attr:`PlanResult.table`, in order.
PLAN_RESULT_COLUMNS: tuple[str, ...] = (
    "plan_id", "hypothesis_id", "statement", "family", "analysis", "dv", "denominator", "between",
    "group_a", "group_b", "direction", "estimate", "estimate_type", "ci_low", "ci_high", "statistic",
    "p_value", "p_adjusted", "correction", "alpha", "decision", "status", "n", "n_dropped", "plan_sha256",
)


# ---------------------------------------------------------------------------------------------
# Plan objects
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hypothesis:
    """One confirmatory hypothesis of a plan (fields as in the YAML file; ``contrast`` is
    ``(group_a, group_b)`` or None for an omnibus test)."""

    id: str
    statement: str
    dv: str
    denominator: str | None
    between: str
    contrast: tuple[Any, Any] | None
    analysis: str
    direction: str
    alpha: float
    family: str
    nan_policy: str = "raise"
    subject: str | None = None

    @property
    def outcome(self) -> str:
        """Column analysed by rate-based analyses: ``dv`` itself or the add_metrics rate column."""
        if self.denominator is None:
            return self.dv
        return f"{_RATE_METRICS[self.dv]}_{self.denominator}"


@dataclass(frozen=True)
class Plan:
    """A validated, fingerprinted analysis plan.

    Attributes
    ----------
    id, title : str
        From the file.
    data : dict
        The data source: ``source`` ("simulated" or "dataset") plus ``seed``/``parameters`` or ``name``.
    families : dict
        family name -> ``{"correction": str, "alpha": float}``.
    hypotheses : tuple of Hypothesis
        In file order.
    sha256 : str
        Fingerprint: sha256 of the canonical JSON of the parsed YAML (see :func:`plan_sha256`).
    path : str or None
        The file it was read from.
    """

    id: str
    title: str
    data: dict
    families: dict
    hypotheses: tuple[Hypothesis, ...]
    sha256: str
    path: str | None = field(default=None, compare=False)

    def to_frame(self) -> pd.DataFrame:
        """The hypotheses as a table (one row each)."""
        rows = []
        for h in self.hypotheses:
            rows.append({"hypothesis_id": h.id, "statement": h.statement, "family": h.family,
                         "correction": self.families[h.family]["correction"], "analysis": h.analysis,
                         "dv": h.dv, "denominator": h.denominator, "between": h.between,
                         "group_a": h.contrast[0] if h.contrast else None,
                         "group_b": h.contrast[1] if h.contrast else None,
                         "direction": h.direction, "alpha": h.alpha})
        return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# Fingerprint
# ---------------------------------------------------------------------------------------------
def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                      default=str)


def plan_sha256(content: dict) -> str:
    """Return the fingerprint of a parsed plan: sha256 of its canonical JSON (sorted keys, no spaces).

    Comments, indentation, quoting style and key order in the YAML file do not change it; any change
    of a value (a group, an alpha, a statement's wording) does.
    """
    return hashlib.sha256(_canonical(content).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------------
_F = "load_plan"


def _check_keys(mapping: Any, spec: dict, where: str) -> dict:
    if not isinstance(mapping, dict):
        raise TypeError(message(_F, where, "a mapping (key: value)", type(mapping).__name__))
    unknown = [k for k in mapping if k not in spec]
    if unknown:
        from ._validation import _did_you_mean
        raise ValueError(message(_F, where, f"a mapping with keys among {', '.join(sorted(spec))}; "
                                 f"got unknown key {unknown[0]!r}", None,
                                 _did_you_mean(unknown[0], spec).strip() or None, show_got=False))
    missing = [k for k, required in spec.items() if required and k not in mapping]
    if missing:
        raise ValueError(message(_F, where, f"a mapping with the required key {missing[0]!r}",
                                 f"keys {sorted(map(str, mapping))}"))
    return mapping


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise TypeError(message(_F, where, "a non-empty text", value))
    return value


def _alpha(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(message(_F, where, "a number strictly between 0 and 1", value))
    if not 0.0 < float(value) < 1.0:
        hint = f"It looks like a percentage; write {value / 100:g}." if 1.0 < float(value) < 100.0 else None
        raise ValueError(message(_F, where, "a number strictly between 0 and 1", value, hint))
    return float(value)


def _option(value: Any, options, where: str):
    from ._validation import _did_you_mean
    if value not in options:
        shown = ", ".join(repr(o) for o in options)
        hint = _did_you_mean(value, options).strip() if isinstance(value, str) else ""
        raise ValueError(message(_F, where, f"one of {shown}", value, hint or None))
    return value


def _validate(content: Any) -> tuple[dict, dict, tuple[Hypothesis, ...]]:
    from .stats.multitest import P_ADJUST_METHODS
    content = _check_keys(content, _PLAN_KEYS, "plan")
    _text(content["id"], "id")
    _text(content["title"], "title")
    data = _check_keys(content["data"], _DATA_KEYS, "data")
    _option(data["source"], ("simulated", "dataset"), "data.source")
    if data["source"] == "dataset" and "name" not in data:
        raise ValueError(message(_F, "data.name", "given when data.source is 'dataset'", None,
                                 "Name a registered dataset, e.g. name: uci_facebook_metrics."))
    if data["source"] == "simulated" and "seed" in data:
        seed = data["seed"]
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise ValueError(message(_F, "data.seed", "a non-negative integer", seed))
    families_in = content["families"]
    if not isinstance(families_in, dict) or not families_in:
        raise ValueError(message(_F, "families", "a non-empty mapping of family name -> {correction, alpha}",
                                 families_in))
    families = {}
    for name, fam in families_in.items():
        _check_keys(fam, _FAMILY_KEYS, f"families.{name}")
        _option(fam["correction"], P_ADJUST_METHODS, f"families.{name}.correction")
        families[str(name)] = {"correction": fam["correction"], "alpha": _alpha(fam["alpha"], f"families.{name}.alpha")}
    hyps_in = content["hypotheses"]
    if not isinstance(hyps_in, list) or not hyps_in:
        raise ValueError(message(_F, "hypotheses", "a non-empty list", hyps_in))
    hypotheses, seen = [], set()
    for i, h in enumerate(hyps_in):
        where = f"hypotheses[{i}]"
        _check_keys(h, _HYPOTHESIS_KEYS, where)
        hid = _text(h["id"], f"{where}.id")
        where = f"hypotheses[{hid}]"
        if hid in seen:
            raise ValueError(message(_F, f"{where}.id", "unique within the plan", hid,
                                     "Two hypotheses share this id; give each its own."))
        seen.add(hid)
        _text(h["statement"], f"{where}.statement")
        dv = _text(h["dv"], f"{where}.dv")
        between = _text(h["between"], f"{where}.between")
        analysis = _option(h["analysis"], tuple(ANALYSES), f"{where}.analysis")
        spec = ANALYSES[analysis]
        direction = _option(h["direction"], DIRECTIONS, f"{where}.direction")
        family = _option(h["family"], tuple(families), f"{where}.family")
        alpha = _alpha(h["alpha"], f"{where}.alpha") if "alpha" in h else families[family]["alpha"]
        if alpha != families[family]["alpha"]:
            raise ValueError(message(_F, f"{where}.alpha", f"the alpha of family {family!r} "
                                     f"({families[family]['alpha']:g})", alpha,
                                     "A correction controls one error rate per family; put hypotheses with "
                                     "another alpha in another family."))
        nan_policy = _option(h.get("nan_policy", "raise"), NAN_POLICIES, f"{where}.nan_policy")
        denominator = h.get("denominator")
        if denominator is not None:
            _option(denominator, DENOMINATORS, f"{where}.denominator")
            if spec.outcome == "rate" and dv not in _RATE_METRICS:
                raise ValueError(message(_F, f"{where}.dv", "one of " + ", ".join(map(repr, _RATE_METRICS))
                                         + " when a denominator is given", dv,
                                         "Or give a metric column (e.g. engagement_rate_reach) with denominator: null."))
        elif spec.outcome == "count":
            raise ValueError(message(_F, f"{where}.denominator", f"an exposure column for analysis {analysis!r}",
                                     None, "Count models need the exposure, e.g. denominator: reach."))
        contrast = h["contrast"]
        if contrast == "omnibus":
            contrast = None
            if "omnibus" not in spec.kinds:
                raise ValueError(message(_F, f"{where}.contrast", f"{{group_a, group_b}} for analysis {analysis!r}",
                                         "omnibus", "Two-group tests compare two named groups."))
            if direction != "two-sided":
                raise ValueError(message(_F, f"{where}.direction", "'two-sided' for an omnibus contrast", direction))
        else:
            if not isinstance(contrast, dict) or set(contrast) != {"group_a", "group_b"}:
                raise ValueError(message(_F, f"{where}.contrast", "'omnibus' or a mapping {group_a: ..., group_b: ...}",
                                         contrast))
            if "contrast" not in spec.kinds:
                raise ValueError(message(_F, f"{where}.contrast", f"'omnibus' for analysis {analysis!r}", contrast))
            if contrast["group_a"] == contrast["group_b"]:
                raise ValueError(message(_F, f"{where}.contrast", "two different groups", contrast))
            contrast = (contrast["group_a"], contrast["group_b"])
        subject = h.get("subject")
        if subject is not None:
            _text(subject, f"{where}.subject")
        if spec.needs_subject and subject is None:
            raise ValueError(message(_F, f"{where}.subject", f"given for analysis {analysis!r}", None,
                                     "Name the clustering column, e.g. subject: account."))
        hypotheses.append(Hypothesis(id=hid, statement=h["statement"], dv=dv, denominator=denominator,
                                     between=between, contrast=contrast, analysis=analysis, direction=direction,
                                     alpha=alpha, family=family, nan_policy=nan_policy, subject=subject))
    return data, families, tuple(hypotheses)


def load_plan(path) -> Plan:
    """Read, validate and fingerprint a pre-registered analysis plan (YAML).

    Parameters
    ----------
    path : str or pathlib.Path
        The plan file (layout in the module docstring and in ``plans/README.md``).

    Returns
    -------
    Plan
        Frozen: ``id``, ``title``, ``data``, ``families``, ``hypotheses`` (tuple of Hypothesis),
        ``sha256`` (fingerprint) and ``path``.

    Raises
    ------
    ValueError
        Unknown or missing keys, alpha outside (0, 1), an unknown analysis, correction or direction,
        duplicate hypothesis ids, a family that is not declared, a contrast that does not fit the analysis.
    TypeError
        A field of the wrong kind (e.g. a number where text is expected).

    See Also
    --------
    run_plan : Run every confirmatory hypothesis of a plan and correct p-values within each family.

    Notes
    -----
    The fingerprint is the sha256 of the canonical JSON of the parsed YAML (keys sorted, no whitespace),
    so edits that change only formatting, comments or key order keep the hash, and any change of content
    changes it. It is computed on the file as written (before defaults such as a hypothesis alpha taken
    from its family are filled in). Validated by the tests in tests/test_plans.py (no external reference
    applies to a file format).

    References
    ----------
    Nosek, B. A., Ebersole, C. R., DeHaven, A. C., & Mellor, D. T. (2018). The preregistration revolution.
    PNAS, 115(11), 2600-2606. doi:10.1073/pnas.1708274114

    Examples
    --------
    >>> from toolkit.config import PROJECT_DIR
    >>> plan = load_plan(PROJECT_DIR / "plans" / "h-departments.yaml")
    >>> plan.id, len(plan.hypotheses), len(plan.sha256)
    ('h-departments', 4, 64)
    """
    import yaml

    path = Path(path)
    if not path.exists():
        raise ValueError(message(_F, "path", "an existing plan file", str(path)))
    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(message(_F, "path", "a valid YAML file", str(path),
                                 f"The parser says: {str(exc).splitlines()[0]}")) from exc
    data, families, hypotheses = _validate(content)
    return Plan(id=str(content["id"]), title=content["title"], data=dict(data), families=families,
                hypotheses=hypotheses, sha256=plan_sha256(content), path=str(path))


def plan_data(plan: Plan, *, seed=None) -> pd.DataFrame:
    """Build the plan's data: ``tk.simulate_organization(seed=..., **parameters)`` or ``tk.load_dataset(name)``.

    ``seed`` overrides the plan's seed (simulated plans only). Returns the post-level DataFrame.
    """
    if not isinstance(plan, Plan):
        raise TypeError(message("plan_data", "plan", "a Plan from load_plan", type(plan).__name__))
    if plan.data["source"] == "simulated":
        from .simulation import simulate_organization
        use = plan.data.get("seed") if seed is None else seed
        return simulate_organization(seed=use, **(plan.data.get("parameters") or {})).data
    from .data.registry import load_dataset
    return load_dataset(plan.data["name"]).data


# ---------------------------------------------------------------------------------------------
# Analyses (one entry each; add a model by adding one entry)
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Analysis:
    """How one analysis type runs a hypothesis.

    ``run(data, hypothesis, rng)`` returns a dict with estimate, estimate_type, ci_low, ci_high, statistic,
    p_value, n, n_dropped. ``kinds`` says which contrasts it supports ("contrast", "omnibus"); ``outcome``
    is "rate" (dv / denominator via add_metrics) or "count" (count dv, denominator as exposure).
    """

    run: Callable[[pd.DataFrame, Hypothesis, np.random.Generator], dict]
    kinds: frozenset
    outcome: str
    needs_subject: bool = False
    description: str = ""


def _confidence(h: Hypothesis) -> float:
    return 1.0 - h.alpha


def _two_group(func_name):
    def run(data, h, rng):
        from .stats import twogroup
        res = getattr(twogroup, func_name)(data, dv=h.outcome, between=h.between, groups=list(h.contrast),
                                           alternative=h.direction, confidence_level=_confidence(h),
                                           nan_policy=h.nan_policy).iloc[0]
        return {"estimate": res["estimate"], "estimate_type": res["estimate_type"],
                "ci_low": res["estimate_ci_low"], "ci_high": res["estimate_ci_high"],
                "statistic": res["statistic"], "p_value": res["p_value"], "n": res["n"],
                "n_dropped": res["n_dropped"]}
    return run


def _omnibus(func_name):
    def run(data, h, rng):
        from .stats import omnibus
        kwargs = {"seed": rng} if func_name == "kruskal" else {}
        res = getattr(omnibus, func_name)(data, dv=h.outcome, between=h.between,
                                          confidence_level=_confidence(h), nan_policy=h.nan_policy,
                                          **kwargs).iloc[0]
        return {"estimate": res["effect_size"], "estimate_type": res["effect_size_type"], "ci_low": res["ci_low"],
                "ci_high": res["ci_high"], "statistic": res["statistic"], "p_value": res["p_value"],
                "n": res["n"], "n_dropped": res["n_dropped"]}
    return run


def _count_model(*, mixed: bool):
    def run(data, h, rng):
        from .models import fit_engagement_model
        model = fit_engagement_model(data, dv=h.dv, between=h.between, exposure=h.denominator,
                                     subject=h.subject if mixed else None, family="negbin",
                                     confidence_level=_confidence(h), nan_policy=h.nan_policy)
        fs = model.fit_statistics.iloc[0]
        out = {"n": fs["n"], "n_dropped": fs["n_dropped"]}
        if h.contrast is None:
            t = model.test.iloc[0]
            out.update(estimate=math.nan, estimate_type="none", ci_low=math.nan, ci_high=math.nan,
                       statistic=t["statistic"], p_value=t["p_value"])
            return out
        a, b = (str(g) for g in h.contrast)
        c = model.contrasts
        ga, gb = c["group_a"].astype(str), c["group_b"].astype(str)
        row = c[(ga == a) & (gb == b)]
        flip = row.empty
        if flip:
            row = c[(ga == b) & (gb == a)]
        if row.empty:
            raise ValueError(message("run_plan", f"hypotheses[{h.id}].contrast", f"two levels of {h.between!r}",
                                     h.contrast))
        r = row.iloc[0]
        rr, lo, hi, z = float(r["rate_ratio"]), float(r["ci_low"]), float(r["ci_high"]), float(r["statistic"])
        if flip:
            rr, lo, hi, z = 1.0 / rr, 1.0 / hi, 1.0 / lo, -z
        p = {"two-sided": 2.0 * _sps.norm.sf(abs(z)), "greater": _sps.norm.sf(z),
             "less": _sps.norm.cdf(z)}[h.direction]
        out.update(estimate=rr, estimate_type="rate_ratio", ci_low=lo, ci_high=hi, statistic=z, p_value=float(p))
        return out
    return run



def _cluster_level(data, h, rng):
    """One log rate per account (tk.cluster_level_comparison): permutation omnibus or t contrast."""
    from .stats.cluster import cluster_level_comparison
    reference = None if h.contrast is None else str(h.contrast[1])
    res = cluster_level_comparison(data, dv=h.dv, between=h.between, subject=h.subject, exposure=h.denominator,
                                   reference=reference, confidence_level=_confidence(h), seed=rng,
                                   nan_policy=h.nan_policy)
    if not res.identifiable:
        warn(f"run_plan: hypothesis {h.id} ('cluster_level'): {res.notes[0]} Its p-value is NaN.")
    o = res.omnibus.iloc[0]
    out = {"n": int(res.groups["n_posts"].sum()), "n_dropped": int(o["n_dropped"])}
    if h.contrast is None:
        out.update(estimate=math.nan, estimate_type="none", ci_low=math.nan, ci_high=math.nan,
                   statistic=float(o["statistic"]), p_value=float(o["p_value"]))
        return out
    c = res.pairwise
    row = c[(c["group_a"].astype(str) == str(h.contrast[0])) & (c["group_b"].astype(str) == reference)]
    if row.empty:
        raise ValueError(message("run_plan", f"hypotheses[{h.id}].contrast", f"two levels of {h.between!r}",
                                 h.contrast))
    r = row.iloc[0]
    t, df = float(r["statistic"]), float(r["df"])
    p = {"two-sided": float(r["p_value"]), "greater": float(_sps.t.sf(t, df)),
         "less": float(_sps.t.cdf(t, df))}[h.direction]
    out.update(estimate=float(r["estimate"]), estimate_type="rate_ratio", ci_low=float(r["estimate_ci_low"]),
               ci_high=float(r["estimate_ci_high"]), statistic=t, p_value=p)
    return out


def _few_accounts(data, h) -> str | None:
    """'<n> in <group>' when some group of `between` has fewer than FEW_SUBJECTS accounts, else None."""
    from .stats.cluster import accounts_per_group
    counts = accounts_per_group(data, between=h.between, subject=h.subject)
    if counts.empty or int(counts["n_subjects"].min()) >= FEW_SUBJECTS:
        return None
    low = counts.loc[counts["n_subjects"].idxmin()]
    return f"{int(low['n_subjects'])} in {low['group']!r}"


_BOTH = frozenset({"contrast", "omnibus"})
#: Registry of analysis types usable in a plan's ``analysis`` field.
ANALYSES: dict[str, Analysis] = {
    "welch_t": Analysis(_two_group("welch_ttest"), frozenset({"contrast"}), "rate",
                        description="Welch t test of the mean (tk.welch_ttest); estimate: mean difference"),
    "mann_whitney": Analysis(_two_group("mann_whitney"), frozenset({"contrast"}), "rate",
                             description="Mann-Whitney U (tk.mann_whitney); estimate: Hodges-Lehmann shift"),
    "brunner_munzel": Analysis(_two_group("brunner_munzel"), frozenset({"contrast"}), "rate",
                               description="Brunner-Munzel (tk.brunner_munzel); estimate: relative effect"),
    "welch_anova": Analysis(_omnibus("welch_anova"), frozenset({"omnibus"}), "rate",
                            description="Welch ANOVA (tk.welch_anova); estimate: effect size"),
    "kruskal": Analysis(_omnibus("kruskal"), frozenset({"omnibus"}), "rate",
                        description="Kruskal-Wallis (tk.kruskal); estimate: epsilon squared"),
    "negbin_glm": Analysis(_count_model(mixed=False), _BOTH, "count",
                           description="NB2 GLM with log-exposure offset (tk.models.fit_engagement_model); "
                                       "estimate: rate ratio (contrast) or LR test (omnibus)"),
    "negbin_glmm": Analysis(_count_model(mixed=True), _BOTH, "count", needs_subject=True,
                            description="NB2 GLMM with random intercept per subject; estimate: rate ratio "
                                        "(Wald z / LR test: anti-conservative with few subjects per group)"),
    "cluster_level": Analysis(_cluster_level, _BOTH, "count", needs_subject=True,
                              description="one log rate per subject (tk.cluster_level_comparison): permutation "
                                          "test across whole subjects (omnibus) or rate ratio with a t test on "
                                          "G - k df (contrast); calibrated with few subjects"),
}


# ---------------------------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False)
class PlanResult(AnswerFirst):
    """The outcome of :func:`run_plan`.

    Shows itself like every result (docs/DEVELOPING.md, "Result protocol"): ``summary()`` / ``print`` give the
    answer first (how many pre-registered hypotheses are supported after the correction within their family,
    and which), then one compact row per hypothesis; ``report()`` one sentence per hypothesis; ``to_frame()``
    the full ``table``.

    Attributes
    ----------
    plan : Plan
    table : pandas.DataFrame
        One row per hypothesis, columns :data:`PLAN_RESULT_COLUMNS`.
    seed : int or None
    plan_changed : str or None
        "plan changed after results were produced (hash a → b)" when an earlier results file
        recorded another fingerprint, else None.
    """

    plan: Plan
    table: pd.DataFrame
    seed: Any = None
    plan_changed: str | None = None

    def to_frame(self) -> pd.DataFrame:
        """The results table at full precision (one row per hypothesis, columns :data:`PLAN_RESULT_COLUMNS`)."""
        return self.table.copy()


def _prepare_outcome(data: pd.DataFrame, h: Hypothesis) -> pd.DataFrame:
    if ANALYSES[h.analysis].outcome != "rate" or h.denominator is None or h.outcome in data.columns:
        return data
    from .metrics import add_metrics
    short = _RATE_METRICS[h.dv]
    metric = f"engagement_rate_{h.denominator}" if short == "engagement_rate" else short
    with warnings.catch_warnings():
        # undefined rates (missing or zero denominators) surface as NaN; nan_policy of the plan decides
        warnings.simplefilter("ignore", ToolkitWarning)
        out = add_metrics(data, metrics=[metric], denominator=h.denominator)
    if "total_interactions" in out.columns and "total_interactions" not in data.columns:
        out = out.drop(columns="total_interactions")
    return out


def _read_results_file(path: Path, func: str) -> dict:
    try:
        content = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(message(func, "results_file", "a readable plan results JSON file", str(path))) from exc
    if not isinstance(content, dict) or "plan_sha256" not in content:
        raise ValueError(message(func, "results_file", "a results file written by run_plan (with plan_sha256)",
                                 str(path)))
    return content


def _changed_text(old: str, new: str) -> str:
    return f"plan changed after results were produced (hash {old[:12]} → {new[:12]})"


def run_plan(data, *, plan, seed=None, results_file=None) -> PlanResult:
    """Run every confirmatory hypothesis of a plan and correct p-values within each family.

    Parameters
    ----------
    data : pandas.DataFrame
        Posts in long form with the plan's columns (e.g. from :func:`plan_data`).
    plan : Plan
        From :func:`load_plan`.
    seed : None, int or numpy.random.Generator, default=None
        For the analyses that draw random numbers (the permutation test of ``cluster_level``, a bootstrap
        interval where a hypothesis asks for one); one generator is used for the hypotheses in file order.
        The same int gives the same numbers on every run; None draws fresh randomness.
    results_file : str, pathlib.Path or None, default=None
        If given, the results are written there as JSON with the plan fingerprint. If the file already
        exists and records another fingerprint, a ToolkitWarning says "plan changed after results were
        produced (hash a → b)", ``plan_changed`` carries that text, and the new file keeps the earlier
        fingerprints in ``plan_history``.

    Returns
    -------
    PlanResult
        ``table`` with one row per hypothesis and the columns

        - ``plan_id``, ``hypothesis_id``, ``statement``, ``family``, ``analysis``, ``dv``, ``denominator``,
          ``between``, ``group_a``, ``group_b`` (NaN/None for omnibus), ``direction``: from the plan;
        - ``estimate``, ``estimate_type``: mean difference, Hodges-Lehmann shift, relative effect, effect size
          (omnibus) or rate ratio (count models and cluster_level; NaN with type "none" for the model LR
          test and the cluster_level permutation test);
        - ``ci_low``, ``ci_high``: its interval at level 1 - alpha (unadjusted; one-sided for one-sided
          two-group tests as in the underlying function, two-sided Wald for count-model rate ratios,
          two-sided t on G - k df for cluster_level rate ratios);
        - ``statistic``, ``p_value``: of the declared test and direction;
        - ``p_adjusted``, ``correction``: within the hypothesis's family;
        - ``alpha``; ``decision``: "supported" when p_adjusted <= alpha, else "not supported";
        - ``status``: "confirmatory"; ``n``, ``n_dropped``: rows (posts) used and dropped (nan_policy
          "omit");
        - ``plan_sha256``: the plan fingerprint.

    Warns
    -----
    ToolkitWarning
        When a ``negbin_glmm`` hypothesis meets fewer than 15 accounts (``subject``) in some group of
        ``between``: its Wald / likelihood-ratio tests are anti-conservative with few accounts (measured
        false-positive rates at alpha = 0.05: 0.12-0.31 with 2-3 accounts per department), and
        ``cluster_level`` is the calibrated alternative. The results themselves are those of the
        pre-registered analysis, unchanged. Also when a ``cluster_level`` hypothesis has one account
        in every group (nothing identifiable; p-value NaN).

    See Also
    --------
    load_plan : Read, validate and fingerprint a pre-registered analysis plan (YAML).

    Notes
    -----
    For a count model contrast the one-sided p-value is the normal tail of the Wald z of log(RR).
    ``cluster_level`` runs :func:`toolkit.cluster_level_comparison` with ``dv`` as the count, the
    ``denominator`` as exposure, ``subject`` as the account and the plan's generator for the
    permutations: an omnibus hypothesis gets the permutation p-value of department labels across whole
    accounts (``statistic`` F, exact enumeration when there are at most 100,000 assignments); a
    contrast gets the rate ratio ``group_a / group_b`` (ratio of geometric-mean account rates), its t
    statistic on ``G - k`` df (pooled over all groups) and, for a one-sided direction, the one-sided t
    tail of that statistic.
    Missing data follow each hypothesis's ``nan_policy`` (default "raise"). The correction is
    :func:`toolkit.adjust_pvalues` (validated against R ``p.adjust``) applied to the family's
    p-values; each test is the toolkit function named in :data:`ANALYSES`, validated in its own module.
    The plan machinery itself is checked in tests/test_plans.py against direct calls of those functions.

    References
    ----------
    Nosek, B. A., Ebersole, C. R., DeHaven, A. C., & Mellor, D. T. (2018). The preregistration revolution.
    PNAS, 115(11), 2600-2606. doi:10.1073/pnas.1708274114

    Examples
    --------
    >>> from toolkit.config import PROJECT_DIR
    >>> plan = load_plan(PROJECT_DIR / "plans" / "h-departments.yaml")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:  # its GLMM hypotheses have 6 accounts each
    ...     warnings.simplefilter("always")
    ...     res = run_plan(plan_data(plan), plan=plan, seed=1)
    >>> res.table.shape, sorted(set(res.table["status"]))
    ((4, 25), ['confirmatory'])
    >>> ["anti-conservative" in str(w.message) for w in caught]
    [True]
    """
    if not isinstance(plan, Plan):
        raise TypeError(message("run_plan", "plan", "a Plan from load_plan", type(plan).__name__))
    data = check_data(data, "run_plan")
    from ._validation import check_column
    rng = check_random_state(seed, "run_plan")
    rows, few = [], []
    for h in plan.hypotheses:
        columns = {"dv": h.dv, "between": h.between, "denominator": h.denominator, "subject": h.subject}
        if h.dv == "total_interactions" and h.denominator is not None:
            columns["dv"] = None  # made by add_metrics from likes + comments + shares
        for key, col in columns.items():
            if col is not None:
                check_column(data, col, "run_plan", f"hypotheses[{h.id}].{key}")
        prepared = _prepare_outcome(data, h)
        values = ANALYSES[h.analysis].run(prepared, h, rng)
        if h.analysis == "negbin_glmm":
            lowest = _few_accounts(prepared, h)
            if lowest is not None:
                few.append(f"{h.id} (fewest {h.subject}s per {h.between}: {lowest})")
        rows.append({"plan_id": plan.id, "hypothesis_id": h.id, "statement": h.statement, "family": h.family,
                     "analysis": h.analysis, "dv": h.dv, "denominator": h.denominator, "between": h.between,
                     "group_a": h.contrast[0] if h.contrast else None,
                     "group_b": h.contrast[1] if h.contrast else None, "direction": h.direction,
                     "correction": plan.families[h.family]["correction"], "alpha": h.alpha,
                     "status": "confirmatory", "plan_sha256": plan.sha256,
                     **{k: values[k] for k in ("estimate", "estimate_type", "ci_low", "ci_high", "statistic",
                                               "p_value", "n", "n_dropped")}})
    if few:
        warn(f"run_plan: 'negbin_glmm' hypotheses {', '.join(few)} have fewer than {FEW_SUBJECTS} accounts in "
             f"some group. With few accounts the GLMM's Wald and likelihood-ratio tests are anti-conservative: "
             f"they find group differences that do not exist far more often than alpha. Their results are "
             f"reported as pre-registered; 'cluster_level' (one log rate per account, permutation and t tests) "
             f"is the calibrated alternative for a new plan.")
    table = pd.DataFrame(rows)
    for col in ("estimate", "ci_low", "ci_high", "statistic", "p_value"):
        table[col] = table[col].astype("float64")
    table["n"] = table["n"].astype("int64")
    table["n_dropped"] = table["n_dropped"].astype("int64")
    from .stats.multitest import adjust_pvalues
    adjusted = np.full(len(table), np.nan)
    for fam, idx in table.groupby("family", sort=False).indices.items():
        adjusted[idx] = adjust_pvalues(table["p_value"].to_numpy()[idx], p_adjust=plan.families[fam]["correction"])
    table["p_adjusted"] = adjusted
    table["decision"] = np.where(table["p_adjusted"] <= table["alpha"], "supported", "not supported")
    table = table[list(PLAN_RESULT_COLUMNS)]
    changed = None
    if results_file is not None:
        path = Path(results_file)
        history = []
        if path.exists():
            previous = _read_results_file(path, "run_plan")
            history = list(previous.get("plan_history", [previous["plan_sha256"]]))
            if previous["plan_sha256"] != plan.sha256:
                changed = _changed_text(previous["plan_sha256"], plan.sha256)
                warn(f"run_plan: {changed}. Earlier fingerprints are kept in 'plan_history' of {path.name}.")
        result = PlanResult(plan=plan, table=table, seed=seed if not isinstance(seed, np.random.Generator) else None,
                            plan_changed=changed)
        write_plan_results(result, path, history=history)
        return result
    return PlanResult(plan=plan, table=table, seed=seed if not isinstance(seed, np.random.Generator) else None)


def _jsonable(value):
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        v = float(value)
        return v if math.isfinite(v) else (None if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if value is pd.NA:
        return None
    return str(value)


def write_plan_results(result: PlanResult, path, *, history=()) -> Path:
    """Write a PlanResult as JSON: plan id, fingerprint, fingerprint history, seed, time and the table rows."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    hist = [h for h in history if h != result.plan.sha256] + [result.plan.sha256]
    content = {"plan_id": result.plan.id, "plan_sha256": result.plan.sha256, "plan_history": hist,
               "plan_path": result.plan.path, "seed": _jsonable(result.seed),
               "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
               "results": [{k: _jsonable(v) for k, v in row.items()} for row in result.table.to_dict("records")]}
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def check_plan_unchanged(plan, *, results_file) -> bool:
    """Check that a plan still has the fingerprint recorded in an earlier results file.

    Parameters
    ----------
    plan : Plan
        The plan as it is now (from :func:`load_plan`).
    results_file : str or pathlib.Path
        A JSON file written by :func:`run_plan` / :func:`write_plan_results`.

    Returns
    -------
    bool
        True when the fingerprints agree. False otherwise, with a ToolkitWarning
        "plan changed after results were produced (hash a → b)".

    Notes
    -----
    Fingerprints are compared as full sha256 hex strings (the message shows the first 12 characters).
    """
    if not isinstance(plan, Plan):
        raise TypeError(message("check_plan_unchanged", "plan", "a Plan from load_plan", type(plan).__name__))
    path = Path(results_file)
    if not path.exists():
        raise ValueError(message("check_plan_unchanged", "results_file", "an existing file", str(path)))
    previous = _read_results_file(path, "check_plan_unchanged")
    if previous["plan_sha256"] == plan.sha256:
        return True
    warn(f"check_plan_unchanged: {_changed_text(previous['plan_sha256'], plan.sha256)}.")
    return False


def exploratory(data, *, plan=None, note=None) -> pd.DataFrame:
    """Label a result table as exploratory (not part of the pre-registered plan).

    Parameters
    ----------
    data : pandas.DataFrame
        Any result table (e.g. from ``tk.pairwise``). Not modified.
    plan : Plan or None, default=None
        The plan in force; its fingerprint is recorded.
    note : str or None, default=None
        Why the analysis was done.

    Returns
    -------
    pandas.DataFrame
        A copy with three columns appended: ``status`` ("exploratory"), ``plan_sha256`` (or None)
        and ``note``.

    Examples
    --------
    >>> import pandas as pd
    >>> exploratory(pd.DataFrame({"p_value": [0.01]}), note="post hoc")["status"].tolist()
    ['exploratory']
    """
    data = check_data(data, "exploratory")
    if plan is not None and not isinstance(plan, Plan):
        raise TypeError(message("exploratory", "plan", "a Plan from load_plan or None", type(plan).__name__))
    clash = [c for c in ("status", "plan_sha256", "note") if c in data.columns]
    if clash:
        raise ValueError(message("exploratory", "data", "a table without the columns status, plan_sha256, note",
                                 f"columns {clash}", "Was it labelled already?"))
    return data.assign(status="exploratory", plan_sha256=plan.sha256 if plan is not None else None, note=note)
