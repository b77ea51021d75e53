"""Posterior diagnostics from ArviZ: the gate a NUTS run must pass, and warnings that say what to do.

Thresholds (Vehtari et al. 2021; Betancourt 2017, `bayesreg.defaults.THRESHOLDS`): rank-normalised
split R-hat above 1.01, bulk or tail ESS below 400, any divergent transition, E-BFMI below 0.3.
A run that crosses any of them fails the gate (``DiagnosticsReport.ok`` is False), and so does a run
whose R-hat cannot be computed: with one chain (R-hat compares chains; ArviZ gives NaN) or fewer than
4 draws per chain a run's convergence cannot be checked, and an unchecked run is not a passed one.
Draws at the maximum tree depth are warned about (the sampler is slow there, and it often comes with
badly scaled columns) without failing the gate on their own.

Each problem found is a `Problem`: its text (a ``str``) and the settings that address it, as
`Remedy` objects naming each setting by its Python name (``num_warmup``, ``target_accept``,
``laplace_parametrisation``, ``standardize`` ...). The library's text names those; the command line
renders the same problem with its own option names (`Problem.describe`).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bayesreg.defaults import SCALE_RATIO, THRESHOLDS

if TYPE_CHECKING:  # arviz and pandas are imported where used: `import bayesreg` does not load arviz
    import arviz as az
    import pandas as pd

__all__ = [
    "DiagnosticsReport",
    "PathDiagnostics",
    "PosteriorWarning",
    "Problem",
    "Remedy",
    "check_diagnostics",
    "check_path_diagnostics",
    "column_scale_ratio",
    "gate_columns",
    "scale_problem",
]

MIN_DRAWS = 4  # per chain: ArviZ's split R-hat and ESS need 4 (they are NaN below)
MIN_CHAINS = 2  # ArviZ's R-hat compares chains: NaN with one


class Remedy(NamedTuple):
    """A setting that addresses a `Problem`: raise it (``value`` None) or set it to ``value``.

    Attributes
    ----------
    setting : str
        The Python name of the setting (an estimator parameter or keyword of the library's
        functions), e.g. ``"num_warmup"``.
    value : object, optional
        The value to set; None means "raise it".
    note : str
        When it applies, e.g. ``"a Laplace prior"`` (empty: always).

    Examples
    --------
    >>> from bayesreg.diagnostics import Remedy
    >>> Remedy("num_warmup").describe(), Remedy("standardize", True).describe()
    ('raise num_warmup', 'standardize=True')
    >>> Remedy("laplace_parametrisation", "mixture", "a Laplace prior").describe("--parametrisation")
    '--parametrisation mixture (a Laplace prior)'
    """

    setting: str
    value: object = None
    note: str = ""

    def describe(self, flag: str | None = None) -> str:
        """The remedy in words: with the Python name, or (``flag`` given) as a command-line option."""
        if flag is None:
            text = f"raise {self.setting}" if self.value is None else f"{self.setting}={self.value!r}"
        elif self.value is None:
            text = f"raise {flag}"
        else:
            text = flag if self.value is True else f"{flag} {self.value}"
        return f"{text} ({self.note})" if self.note else text


class Problem(str):
    """One threshold crossed: the finding, and the settings that address it.

    A ``str`` (the finding followed by the remedies, by their Python names), so code that reads
    messages reads it as before; `describe` renders the remedies with other names (the command
    line's options) and leaves out those without one.

    Parameters
    ----------
    finding : str
        What was measured and why it matters.
    remedies : sequence of Remedy
        Settings that address it, most effective first.

    Examples
    --------
    >>> from bayesreg.diagnostics import Problem, Remedy
    >>> problem = Problem("R-hat up to 1.3 (> 1.01): chains disagree", [Remedy("num_warmup")])
    >>> str(problem)
    'R-hat up to 1.3 (> 1.01): chains disagree; try: raise num_warmup'
    >>> problem.describe({"num_warmup": "--num-warmup"})
    'R-hat up to 1.3 (> 1.01): chains disagree; try: raise --num-warmup'
    >>> problem.describe({})  # no option for it: the finding alone
    'R-hat up to 1.3 (> 1.01): chains disagree'
    """

    finding: str
    remedies: tuple

    def __new__(cls, finding: str, remedies=()):
        remedies = tuple(remedies)
        self = super().__new__(cls, _with_remedies(finding, [r.describe() for r in remedies]))
        self.finding, self.remedies = finding, remedies
        return self

    def __getnewargs__(self):
        return (self.finding, self.remedies)

    def describe(self, flags: Mapping[str, str] | None = None) -> str:
        """The problem's text with each remedy named by ``flags[setting]`` (remedies whose setting is
        not in ``flags`` are left out); with ``flags=None``, by the Python names (``str(self)``)."""
        if flags is None:
            return str(self)
        shown = [r.describe(flags[r.setting]) for r in self.remedies if r.setting in flags]
        return _with_remedies(self.finding, shown)


def _with_remedies(finding: str, remedies: list[str]) -> str:
    return f"{finding}; try: {', or '.join(remedies)}" if remedies else finding


class PosteriorWarning(UserWarning):
    """The NUTS run may not represent the posterior; the message says what to try.

    Its first argument is the `Problem` (with the settings that address it in ``.remedies``).

    Examples
    --------
    Turned into an error, it stops a script at an untrustworthy run:

    >>> import arviz as az, numpy as np
    >>> idata = az.from_dict(posterior={"coef": np.zeros((2, 2, 1))},  # 2 chains of 2 draws
    ...                      sample_stats={"diverging": np.zeros((2, 2), dtype=bool),
    ...                                    "energy": np.ones((2, 2)), "tree_depth": np.ones((2, 2))})
    >>> import warnings
    >>> from bayesreg.diagnostics import PosteriorWarning, check_diagnostics
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", PosteriorWarning)
    ...     check_diagnostics(idata)
    Traceback (most recent call last):
    ...
    bayesreg.diagnostics.PosteriorWarning: only 2 draw(s) per chain: R-hat, ESS and E-BFMI need ...
    """


def _warn(problems) -> None:
    for problem in problems:
        warnings.warn(PosteriorWarning(problem), stacklevel=3)


class DiagnosticsReport(NamedTuple):
    """What `check_diagnostics` measured, and whether the run passed the gate.

    Attributes
    ----------
    max_rhat : float
        Largest rank-normalised split R-hat over all scalar parameters (NaN with one chain).
    min_ess_bulk, min_ess_tail : float
        Smallest bulk and tail effective sample sizes.
    divergences : int
        Divergent transitions after warmup, all chains.
    min_ebfmi : float
        Smallest energy Bayesian fraction of missing information over chains; NaN, and not part of
        the gate, for a sampler that records no ``energy`` (a Gibbs sampler has no momentum). This
        and the three above are NaN with fewer than 4 draws per chain (`problems` then says so).
    tree_depth_saturation : float
        Share of draws whose trajectory stopped at the maximum tree depth.
    problems : tuple of Problem
        One per threshold crossed (empty when the run looks healthy); each a ``str``.
    ok : bool
        Whether the run passed the gate: R-hat, bulk and tail ESS, divergences and E-BFMI within
        their thresholds, each computable (see the module's description).

    Examples
    --------
    A run too short to diagnose: the statistics are NaN, ``problems`` says why, and it fails.

    >>> import arviz as az, numpy as np
    >>> idata = az.from_dict(posterior={"coef": np.zeros((2, 2, 1))},  # 2 chains of 2 draws
    ...                      sample_stats={"diverging": np.zeros((2, 2), dtype=bool),
    ...                                    "energy": np.ones((2, 2)), "tree_depth": np.ones((2, 2))})
    >>> from bayesreg.diagnostics import check_diagnostics
    >>> report = check_diagnostics(idata, warn=False)
    >>> report.max_rhat, report.divergences, report.ok
    (nan, 0, False)
    >>> report.problems
    ('only 2 draw(s) per chain: R-hat, ESS and E-BFMI need at least 4; try: raise num_samples',)
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_ebfmi: float
    tree_depth_saturation: float
    problems: tuple
    ok: bool


def check_diagnostics(
    idata: az.InferenceData,
    *,
    var_names=("coef", "intercept", "sigma", "df", "dispersion"),
    rhat_max: float = THRESHOLDS.rhat_max,
    ess_min: float = THRESHOLDS.ess_min,
    ebfmi_min: float = THRESHOLDS.ebfmi_min,
    max_tree_depth: int = 10,
    warn: bool = True,
) -> DiagnosticsReport:
    """Check a NUTS run against the usual thresholds, warning for each one crossed.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``posterior`` and ``sample_stats`` (``diverging``, ``tree_depth``, and ``energy`` for
        E-BFMI: without it E-BFMI is NaN and not checked).
    var_names : sequence of str
        Posterior variables to check (those absent are skipped): by default the weights, the
        intercept and the likelihood's own parameters where they are sampled (the noise sd, the
        Student-t's ``df``, the negative binomial's ``dispersion``).
    rhat_max, ess_min, ebfmi_min : float
        Thresholds (`bayesreg.defaults.THRESHOLDS` by default).
    max_tree_depth : int
        NUTS's maximum tree depth (numpyro's default is 10).
    warn : bool
        Emit a `PosteriorWarning` per problem.

    Returns
    -------
    DiagnosticsReport

    Examples
    --------
    Independent draws stand in for a well-mixed run, with one divergent transition:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.diagnostics import check_diagnostics
    >>> rng = np.random.default_rng(0)
    >>> diverging = np.zeros((4, 500), dtype=bool)
    >>> diverging[0, 10] = True
    >>> idata = az.from_dict(posterior={"coef": rng.normal(size=(4, 500, 2))},
    ...                      sample_stats={"diverging": diverging, "energy": rng.normal(size=(4, 500)),
    ...                                    "tree_depth": np.full((4, 500), 3)})
    >>> report = check_diagnostics(idata, warn=False)
    >>> bool(report.max_rhat < 1.01), bool(report.min_ess_bulk > 400), report.divergences, report.ok
    (True, True, 1, False)
    >>> report.problems[0].remedies[0]
    Remedy(setting='target_accept', value=None, note='')
    """
    import arviz as az

    names = [v for v in var_names if v in idata.posterior]
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum())
    saturation = float((stats["tree_depth"] >= max_tree_depth).mean())
    draws, chains = idata.posterior.sizes["draw"], idata.posterior.sizes["chain"]
    has_energy = "energy" in stats
    problems = []
    if draws >= MIN_DRAWS:
        with warnings.catch_warnings():  # ArviZ's note on one chain: the problem below says it
            warnings.simplefilter("ignore", UserWarning)
            rhat = _extreme(az.rhat(idata, var_names=names), np.nanmax) if chains >= MIN_CHAINS else np.nan
        bulk = _extreme(az.ess(idata, var_names=names, method="bulk"), np.nanmin)
        tail = _extreme(az.ess(idata, var_names=names, method="tail"), np.nanmin)
        ebfmi = float(np.min(az.bfmi(idata))) if has_energy else float("nan")
        if chains < MIN_CHAINS:
            problems.append(
                Problem(
                    f"{chains} chain: R-hat compares chains and needs at least {MIN_CHAINS}, so "
                    "convergence cannot be checked",
                    [Remedy("num_chains")],
                )
            )
    else:  # ArviZ gives NaN for R-hat and ESS, and E-BFMI of one draw divides by 0
        rhat = bulk = tail = ebfmi = float("nan")
        problems.append(
            Problem(
                f"only {draws} draw(s) per chain: R-hat, ESS and E-BFMI need at least {MIN_DRAWS}",
                [Remedy("num_samples")],
            )
        )
    if rhat > rhat_max:
        problems.append(
            Problem(
                f"R-hat up to {rhat:.3f} (> {rhat_max}): the chains disagree, so they have not "
                "converged to the posterior",
                [Remedy("num_warmup"), Remedy("num_samples")],
            )
        )
    if min(bulk, tail) < ess_min:
        problems.append(
            Problem(
                f"ESS as low as {min(bulk, tail):.0f} (< {ess_min:.0f}): too few effective draws to "
                "trust means and intervals",
                [Remedy("num_samples"), Remedy("num_chains")],
            )
        )
    if divergences:
        remedies = [Remedy("target_accept")]
        if "coef" in idata.posterior and "coef_std" not in idata.posterior:  # sampled directly
            remedies.append(Remedy("laplace_parametrisation", "mixture", "a Laplace prior"))
        problems.append(
            Problem(
                f"{divergences} divergent transitions: the sampler missed part of the posterior", remedies
            )
        )
    if ebfmi < ebfmi_min:
        problems.append(
            Problem(
                f"E-BFMI {ebfmi:.2f} (< {ebfmi_min}): momentum resampling explores the energy poorly",
                [Remedy("num_warmup"), Remedy("laplace_parametrisation", "mixture", "a Laplace prior")],
            )
        )
    if saturation > 0:
        problems.append(
            Problem(
                f"{saturation:.1%} of draws hit the maximum tree depth {max_tree_depth}: the posterior "
                "is badly scaled or correlated",
                [Remedy("standardize", True), Remedy("max_tree_depth"), Remedy("mass_matrix", "dense")],
            )
        )
    ebfmi_ok = ebfmi >= ebfmi_min or not has_energy
    ok = bool(rhat <= rhat_max and min(bulk, tail) >= ess_min and divergences == 0 and ebfmi_ok)
    if warn:
        _warn(problems)
    return DiagnosticsReport(
        max_rhat=rhat,
        min_ess_bulk=bulk,
        min_ess_tail=tail,
        divergences=divergences,
        min_ebfmi=ebfmi,
        tree_depth_saturation=saturation,
        problems=tuple(problems),
        ok=ok,
    )


def gate_columns(
    summary: pd.DataFrame,
    report: DiagnosticsReport,
    *,
    rhat_max: float = THRESHOLDS.rhat_max,
    ess_min: float = THRESHOLDS.ess_min,
) -> pd.DataFrame:
    """The gate per parameter: its R-hat and ESS, the run's divergences, and whether it passed.

    Parameters
    ----------
    summary : DataFrame
        One row per scalar parameter with columns ``r_hat``, ``ess_bulk``, ``ess_tail`` (as
        `~bayesreg.compare.posterior_summary` gives them).
    report : DiagnosticsReport
        The run's `check_diagnostics`.
    rhat_max, ess_min : float
        Thresholds (`bayesreg.defaults.THRESHOLDS` by default).

    Returns
    -------
    DataFrame, index of ``summary``
        ``r_hat``, ``ess_bulk``, ``ess_tail``, ``divergences`` (of the run, on every row) and
        ``ok``: the parameter's R-hat and ESS within the thresholds, and the run passed the gate
        (``report.ok``; a run that failed leaves no parameter ok).

    Examples
    --------
    >>> import pandas as pd
    >>> from bayesreg.diagnostics import DiagnosticsReport, gate_columns
    >>> summary = pd.DataFrame({"r_hat": [1.001, 1.2], "ess_bulk": [900.0, 12.0],
    ...                         "ess_tail": [800.0, 30.0]}, index=["a", "b"])
    >>> report = DiagnosticsReport(1.2, 12.0, 30.0, 0, 0.9, 0.0, (), False)
    >>> gate_columns(summary, report)["ok"].tolist()
    [False, False]
    >>> gate_columns(summary.iloc[:1], report._replace(ok=True))["ok"].tolist()
    [True]
    """
    columns = summary[["r_hat", "ess_bulk", "ess_tail"]].astype(float).copy()
    own = (columns["r_hat"] <= rhat_max) & (columns[["ess_bulk", "ess_tail"]].min(axis=1) >= ess_min)
    columns["divergences"] = int(report.divergences)
    columns["ok"] = own & bool(report.ok)
    return columns


def column_scale_ratio(X) -> float:
    """The largest over the smallest sd of the non-constant columns of ``X`` (1 with fewer than two).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.diagnostics import column_scale_ratio
    >>> X = np.array([[0.0, 0.0, 5.0], [2.0, 200.0, 5.0]])  # sds 1, 100 and a constant column
    >>> column_scale_ratio(X), column_scale_ratio(X[:, :1])
    (100.0, 1.0)
    """
    sd = np.std(np.asarray(X, dtype=float), axis=0)
    sd = sd[sd > 0]
    return float(sd.max() / sd.min()) if sd.size >= 2 else 1.0


def scale_problem(X, *, ratio: float = SCALE_RATIO, names=None) -> Problem | None:
    """A `Problem` suggesting ``standardize=True`` when the columns' sds differ by more than ``ratio``.

    NUTS adapts one step size (and, with a diagonal mass matrix, one scale per parameter) during
    warmup; weights whose columns differ in scale by orders of magnitude have posterior sds as far
    apart, which that adaptation often does not bridge. Call it when a run failed its diagnostics.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    ratio : float
        Largest over smallest column sd above which the columns count as badly scaled.
    names : sequence of str, optional
        Column names, to name the widest and narrowest column.

    Returns
    -------
    Problem or None

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.diagnostics import scale_problem
    >>> X = np.random.default_rng(0).normal(size=(50, 2)) * [1e-2, 1e3]
    >>> problem = scale_problem(X, names=["small", "large"])
    >>> print(problem.describe({"standardize": "--standardize"}))  # doctest: +NORMALIZE_WHITESPACE
    column sds range from 0.0093 (small) to 9.9e+02 (large): ratio above 1000, which NUTS's
    adaptation often fails to bridge; try: --standardize
    >>> scale_problem(X[:, :1]) is None
    True
    """
    if column_scale_ratio(X) <= ratio:
        return None
    sd = np.std(np.asarray(X, dtype=float), axis=0)
    positive = sd > 0
    names = [f"x{j}" for j in range(sd.size)] if names is None else [str(n) for n in names]
    low = int(np.flatnonzero(positive)[np.argmin(sd[positive])])
    high = int(np.argmax(sd))
    return Problem(
        f"column sds range from {sd[low]:.2g} ({names[low]}) to {sd[high]:.2g} ({names[high]}): "
        f"ratio above {ratio:g}, which NUTS's adaptation often fails to bridge",
        [Remedy("standardize", True)],
    )


def _extreme(dataset, reduce) -> float:
    values = [np.asarray(dataset[v]).ravel() for v in dataset.data_vars]
    return float(reduce(np.concatenate(values))) if values else float("nan")


class PathDiagnostics(NamedTuple):
    """What `check_path_diagnostics` found along a grid of penalty strengths.

    Attributes
    ----------
    ok : numpy.ndarray of bool, shape (n_alphas,)
        Whether the run at each ``α`` passed the gate: R-hat (computable: at least 2 chains) and bulk
        ESS within their thresholds, no divergence.
    problems : tuple of Problem
        One per threshold crossed somewhere on the grid, naming where.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from bayesreg.diagnostics import check_path_diagnostics
    >>> path = SimpleNamespace(alphas=np.array([1.0, 0.1]), max_r_hat=np.array([1.002, 1.004]),
    ...                        min_ess_bulk=np.array([900.0, 850.0]), divergences=np.array([0, 3]))
    >>> found = check_path_diagnostics(path, warn=False)
    >>> found.ok.tolist()
    [True, False]
    >>> print(*found.problems)  # doctest: +NORMALIZE_WHITESPACE
    3 divergent transitions at 1 alphas (0.1): the posterior there may be misrepresented;
    try: raise target_accept
    """

    ok: np.ndarray
    problems: tuple


def check_path_diagnostics(
    path, *, rhat_max: float = THRESHOLDS.rhat_max, ess_min: float = THRESHOLDS.ess_min, warn: bool = True
) -> PathDiagnostics:
    """Check every ``α`` of a posterior path against the thresholds of `check_diagnostics`.

    Parameters
    ----------
    path : PosteriorPath
        With ``alphas``, ``max_r_hat``, ``min_ess_bulk`` and ``divergences``, each of shape
        (n_alphas,), and (to name one chain as the reason R-hat is missing) ``coef_draws``.
    rhat_max, ess_min : float
        Thresholds (`bayesreg.defaults.THRESHOLDS` by default).
    warn : bool
        Emit a `PosteriorWarning` per problem.

    Returns
    -------
    PathDiagnostics

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> path = SimpleNamespace(alphas=np.array([1.0, 0.1]), max_r_hat=np.array([1.002, 1.3]),
    ...                        min_ess_bulk=np.array([900.0, 20.0]), divergences=np.array([0, 0]))
    >>> found = check_path_diagnostics(path, warn=False)
    >>> found.ok.tolist(), len(found.problems)
    ([True, False], 2)
    """
    alphas = np.asarray(path.alphas)
    rhat, ess = np.asarray(path.max_r_hat), np.asarray(path.min_ess_bulk)
    divergences = np.asarray(path.divergences)
    draws = getattr(path, "coef_draws", None)
    chains = MIN_CHAINS if draws is None else np.shape(draws)[1]

    def where(mask):
        shown = ", ".join(f"{a:.4g}" for a in alphas[mask][:5])
        return f"{mask.sum()} alphas ({shown}" + (", ...)" if mask.sum() > 5 else ")")

    checks = [
        (
            ~(rhat <= rhat_max),
            lambda bad: (
                Problem(
                    f"{chains} chain per alpha: R-hat compares chains and needs at least {MIN_CHAINS}, "
                    "so convergence cannot be checked at any alpha",
                    [Remedy("num_chains")],
                )
                if chains < MIN_CHAINS
                else Problem(
                    f"R-hat up to {np.nanmax(rhat):.3f} (> {rhat_max}) at {where(bad)}: the chains "
                    "disagree there",
                    [Remedy("num_warmup"), Remedy("num_samples")],
                )
            ),
        ),
        (
            ~(ess >= ess_min),
            lambda bad: Problem(
                f"bulk ESS as low as {np.nanmin(ess):.0f} (< {ess_min:.0f}) at {where(bad)}: too few "
                "effective draws to trust medians and intervals",
                [Remedy("num_samples"), Remedy("num_chains")],
            ),
        ),
        (
            divergences > 0,
            lambda bad: Problem(
                f"{int(divergences.sum())} divergent transitions at {where(bad)}: the posterior there "
                "may be misrepresented",
                [Remedy("target_accept")],
            ),
        ),
    ]
    problems = tuple(message(bad) for bad, message in checks if bad.any())
    if warn:
        _warn(problems)
    ok = ~np.logical_or.reduce([bad for bad, _ in checks])
    return PathDiagnostics(ok=ok, problems=problems)
