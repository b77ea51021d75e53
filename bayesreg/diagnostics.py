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

__all__ = ["DiagnosticsReport", "PosteriorWarning", "check_diagnostics"]

MIN_DRAWS = 4  # per chain: ArviZ's split R-hat and ESS need 4 (they are NaN below)


class PosteriorWarning(UserWarning):
    """The NUTS run may not represent the posterior; the message says what to try."""


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
