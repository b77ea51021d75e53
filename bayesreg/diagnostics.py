"""Posterior diagnostics from ArviZ, turned into warnings that say what to do next.

Thresholds (Vehtari et al. 2021; Betancourt 2017): rank-normalised split R-hat above 1.01, bulk or
tail ESS below 400, any divergent transition, E-BFMI below 0.3, and tree depth at its maximum.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from bayesreg.defaults import THRESHOLDS

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    "DiagnosticsReport",
    "PathDiagnostics",
    "PosteriorWarning",
    "check_diagnostics",
    "check_path_diagnostics",
]

MIN_DRAWS = 4  # per chain: ArviZ's split R-hat and ESS need 4 (they are NaN below)


class PosteriorWarning(UserWarning):
    """The NUTS run may not represent the posterior; the message says what to try.

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


class DiagnosticsReport(NamedTuple):
    """What `check_diagnostics` measured.

    Attributes
    ----------
    max_rhat : float
        Largest rank-normalised split R-hat over all scalar parameters.
    min_ess_bulk, min_ess_tail : float
        Smallest bulk and tail effective sample sizes.
    divergences : int
        Divergent transitions after warmup, all chains.
    min_ebfmi : float
        Smallest energy Bayesian fraction of missing information over chains. This and the three
        above are NaN with fewer than 4 draws per chain (`problems` then says so).
    tree_depth_saturation : float
        Share of draws whose trajectory stopped at the maximum tree depth.
    problems : tuple of str
        One message per threshold crossed (empty when the run looks healthy).

    Examples
    --------
    A run too short to diagnose: the statistics are NaN and ``problems`` says why.

    >>> import arviz as az, numpy as np
    >>> idata = az.from_dict(posterior={"coef": np.zeros((2, 2, 1))},  # 2 chains of 2 draws
    ...                      sample_stats={"diverging": np.zeros((2, 2), dtype=bool),
    ...                                    "energy": np.ones((2, 2)), "tree_depth": np.ones((2, 2))})
    >>> from bayesreg.diagnostics import check_diagnostics
    >>> report = check_diagnostics(idata, warn=False)
    >>> report.max_rhat, report.divergences, report.problems
    (nan, 0, ('only 2 draw(s) per chain: R-hat, ESS and E-BFMI need at least 4; raise num_samples',))
    """

    max_rhat: float
    min_ess_bulk: float
    min_ess_tail: float
    divergences: int
    min_ebfmi: float
    tree_depth_saturation: float
    problems: tuple


def check_diagnostics(
    idata: az.InferenceData,
    *,
    var_names=("coef", "intercept", "sigma"),
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
        With ``posterior`` and ``sample_stats`` (``diverging``, ``energy``, ``tree_depth``).
    var_names : sequence of str
        Posterior variables to check (those absent are skipped).
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
    >>> bool(report.max_rhat < 1.01), bool(report.min_ess_bulk > 400), report.divergences
    (True, True, 1)
    >>> report.problems
    ('1 divergent transitions: the sampler missed part of the posterior; ...',)
    """
    import arviz as az

    names = [v for v in var_names if v in idata.posterior]
    stats = idata.sample_stats
    divergences = int(stats["diverging"].sum())
    saturation = float((stats["tree_depth"] >= max_tree_depth).mean())
    draws = idata.posterior.sizes["draw"]
    problems = []
    if draws >= MIN_DRAWS:
        rhat = _extreme(az.rhat(idata, var_names=names), np.nanmax)
        bulk = _extreme(az.ess(idata, var_names=names, method="bulk"), np.nanmin)
        tail = _extreme(az.ess(idata, var_names=names, method="tail"), np.nanmin)
        ebfmi = float(np.min(az.bfmi(idata)))
    else:  # ArviZ gives NaN for R-hat and ESS, and E-BFMI of one draw divides by 0
        rhat = bulk = tail = ebfmi = float("nan")
        problems.append(
            f"only {draws} draw(s) per chain: R-hat, ESS and E-BFMI need at least {MIN_DRAWS}; "
            "raise num_samples"
        )
    report = DiagnosticsReport(
        max_rhat=rhat,
        min_ess_bulk=bulk,
        min_ess_tail=tail,
        divergences=divergences,
        min_ebfmi=ebfmi,
        tree_depth_saturation=saturation,
        problems=(),
    )
    if report.max_rhat > rhat_max:
        problems.append(
            f"R-hat up to {report.max_rhat:.3f} (> {rhat_max}): chains disagree; run more warmup and "
            "draws, or check for multimodality"
        )
    if min(report.min_ess_bulk, report.min_ess_tail) < ess_min:
        problems.append(
            f"ESS as low as {min(report.min_ess_bulk, report.min_ess_tail):.0f} (< {ess_min:.0f}): "
            "draw more samples (num_samples) or more chains before trusting means and intervals"
        )
    if divergences:
        problems.append(
            f"{divergences} divergent transitions: the sampler missed part of the posterior; for a "
            "Laplace prior use the scale-mixture parametrisation, or raise target_accept_prob"
        )
    if report.min_ebfmi < ebfmi_min:
        problems.append(
            f"E-BFMI {report.min_ebfmi:.2f} (< {ebfmi_min}): momentum resampling explores the energy "
            "poorly; reparametrise (non-centred) or use longer warmup"
        )
    if saturation > 0:
        problems.append(
            f"{saturation:.1%} of draws hit the maximum tree depth {max_tree_depth}: the posterior is "
            "badly scaled or correlated; standardise the features or raise max_tree_depth"
        )
    if warn:
        for message in problems:
            warnings.warn(message, PosteriorWarning, stacklevel=2)
    return report._replace(problems=tuple(problems))


def _extreme(dataset, reduce) -> float:
    values = [np.asarray(dataset[v]).ravel() for v in dataset.data_vars]
    return float(reduce(np.concatenate(values))) if values else float("nan")


class PathDiagnostics(NamedTuple):
    """What `check_path_diagnostics` found along a grid of penalty strengths.

    Attributes
    ----------
    ok : numpy.ndarray of bool, shape (n_alphas,)
        Whether the run at each ``α`` passed every threshold.
    problems : tuple of str
        One message per threshold crossed somewhere on the grid, naming where.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import numpy as np
    >>> from bayesreg.diagnostics import check_path_diagnostics
    >>> path = SimpleNamespace(alphas=np.array([1.0, 0.1]), max_r_hat=np.array([1.002, 1.004]),
    ...                        min_ess_bulk=np.array([900.0, 850.0]), divergences=np.array([0, 3]))
    >>> found = check_path_diagnostics(path, warn=False)
    >>> found.ok.tolist(), found.problems
    ([True, False], ('3 divergent transitions at 1 alphas (0.1): the posterior there may be misrepresented',))
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
        With ``alphas``, ``max_r_hat``, ``min_ess_bulk`` and ``divergences``, each of shape (n_alphas,).
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

    def where(mask):
        shown = ", ".join(f"{a:.4g}" for a in alphas[mask][:5])
        return shown + (", ..." if mask.sum() > 5 else "")

    checks = [
        (
            ~(rhat <= rhat_max),
            lambda bad: (
                f"R-hat up to {np.nanmax(rhat):.3f} (> {rhat_max}) at {bad.sum()} alphas "
                f"({where(bad)}): chains disagree; raise num_warmup and num_samples"
            ),
        ),
        (
            ~(ess >= ess_min),
            lambda bad: (
                f"bulk ESS as low as {np.nanmin(ess):.0f} (< {ess_min:.0f}) at {bad.sum()} alphas "
                f"({where(bad)}): raise num_samples or num_chains before trusting medians and intervals"
            ),
        ),
        (
            divergences > 0,
            lambda bad: (
                f"{int(divergences.sum())} divergent transitions at {bad.sum()} alphas "
                f"({where(bad)}): the posterior there may be misrepresented"
            ),
        ),
    ]
    problems = tuple(message(bad) for bad, message in checks if bad.any())
    if warn:
        for message in problems:
            warnings.warn(message, PosteriorWarning, stacklevel=2)
    ok = ~np.logical_or.reduce([bad for bad, _ in checks])
    return PathDiagnostics(ok=ok, problems=problems)
