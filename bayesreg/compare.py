"""Prior versus penalty: what the MAP (the penalised estimate) leaves out of the posterior.

Per coefficient, `compare_map_posterior` sets the MAP next to the posterior mean, median, sd, HDI,
``P(coef > 0)`` and ``P(|coef| < ε)``; `sparsity_summary` counts the MAP's exact zeros against the
intervals that contain 0; `predictive_coverage` measures how often posterior predictive intervals
cover held-out targets (with `bayesreg.predictive.predictive_draws`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from bayesreg.defaults import HDI_PROB
from bayesreg.predictive import predictive_draws

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = [
    "compare_map_posterior",
    "posterior_summary",
    "predictive_coverage",
    "sparsity_summary",
]


def _draws(idata: az.InferenceData, name: str) -> np.ndarray:
    """Posterior draws of ``name`` stacked over chains: shape (n_draws, ...)."""
    values = idata.posterior[name].to_numpy()
    return values.reshape((-1, *values.shape[2:]))


def compare_map_posterior(
    idata: az.InferenceData,
    map_coef,
    *,
    hdi_prob: float = HDI_PROB,
    eps: float | None = None,
) -> pd.DataFrame:
    """One row per coefficient: the penalised point estimate against its posterior.

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with ``coef`` of dims (chain, draw, feature).
    map_coef : array-like, shape (n_features,)
        The MAP (= penalised) coefficients.
    hdi_prob : float
        Probability mass of the highest-density interval (ArviZ's ``az.hdi``).
    eps : float, optional
        Half-width of the "practically zero" band for ``P(|coef| < eps)``; default 1% of the
        largest absolute posterior mean.

    Returns
    -------
    DataFrame, index = feature names
        Columns ``map, mean, median, sd, hdi_low, hdi_high, p_positive, p_near_zero, map_is_zero,
        hdi_contains_zero``.

    Examples
    --------
    The lasso set ``a`` exactly to 0, yet the posterior puts about half its mass on each side:

    >>> import arviz as az, numpy as np
    >>> from bayesreg.compare import compare_map_posterior
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))  # (chain, draw, feature)
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> table = compare_map_posterior(idata, map_coef=[0.0, 0.9])
    >>> table[["map", "mean", "p_positive", "hdi_contains_zero"]].round(2)
             map  mean  p_positive  hdi_contains_zero
    feature
    a        0.0  0.04        0.56               True
    b        0.9  1.00        1.00              False
    """
    draws = _draws(idata, "coef")  # (S, p)
    map_coef = np.asarray(map_coef, dtype=float)
    if map_coef.shape != draws.shape[1:]:
        raise ValueError(f"map_coef has shape {map_coef.shape}, the posterior coef {draws.shape[1:]}")
    if eps is None:
        eps = 0.01 * float(np.max(np.abs(draws.mean(axis=0))))
    import arviz as az

    hdi = az.hdi(idata, var_names=["coef"], hdi_prob=hdi_prob)["coef"].to_numpy()  # (p, 2)
    table = pd.DataFrame(
        {
            "map": map_coef,
            "mean": draws.mean(axis=0),
            "median": np.median(draws, axis=0),
            "sd": draws.std(axis=0, ddof=1),
            "hdi_low": hdi[:, 0],
            "hdi_high": hdi[:, 1],
            "p_positive": (draws > 0).mean(axis=0),
            "p_near_zero": (np.abs(draws) < eps).mean(axis=0),
            "map_is_zero": map_coef == 0,
            "hdi_contains_zero": (hdi[:, 0] <= 0) & (hdi[:, 1] >= 0),
        },
        index=pd.Index(idata.posterior["coef"].coords["feature"].to_numpy(), name="feature"),
    )
    table.attrs.update(hdi_prob=hdi_prob, eps=eps)
    return table


def posterior_summary(
    idata: az.InferenceData, *, var_names=("coef", "intercept"), hdi_prob: float = HDI_PROB
) -> pd.DataFrame:
    """One row per scalar parameter: posterior mean, sd, HDI, R-hat and ESS (ArviZ's ``az.summary``).

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior with ``coef`` of dims (chain, draw, feature) and, when sampled, ``intercept`` and
        ``sigma``.
    var_names : sequence of str
        Variables to summarise, in order (those absent from the posterior are skipped).
    hdi_prob : float
        Mass of the highest-density interval.

    Returns
    -------
    DataFrame, index = the feature names for ``coef``, then the other variables by name
        Columns ``mean, sd, hdi_low, hdi_high, mcse_mean, mcse_sd, ess_bulk, ess_tail, r_hat``
        (unrounded; ``sd`` with ddof 1, the rank-normalised split R-hat and the bulk and tail ESS
        of Vehtari et al. 2021).

    Examples
    --------
    >>> import arviz as az, numpy as np
    >>> draws = np.random.default_rng(0).normal(size=(2, 100, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> table = posterior_summary(idata)
    >>> list(table.index), list(table.columns[:4])
    (['a', 'b'], ['mean', 'sd', 'hdi_low', 'hdi_high'])
    >>> bool(np.isclose(table.loc["a", "mean"], draws[..., 0].mean()))
    True
    """
    import arviz as az

    names = [v for v in var_names if v in idata.posterior]
    table = az.summary(idata, var_names=names, hdi_prob=hdi_prob, round_to="none")
    low, high = (c for c in table.columns if c.startswith("hdi_"))
    table = table.rename(columns={low: "hdi_low", high: "hdi_high"})
    labels = []
    for name in names:
        if name == "coef":
            labels += [str(f) for f in idata.posterior["coef"].coords["feature"].to_numpy()]
        else:
            size = int(np.prod(idata.posterior[name].shape[2:]))
            labels += [name] if size == 1 else [f"{name}[{i}]" for i in range(size)]
    table.index = pd.Index(labels, name="parameter")
    table.attrs.update(hdi_prob=hdi_prob)
    return table


def sparsity_summary(table: pd.DataFrame) -> dict:
    """Counts that contrast the MAP's sparsity with the posterior's, from `compare_map_posterior`.

    Returns
    -------
    dict
        ``n_features``, ``map_zeros`` (exact zeros of the MAP), ``posterior_mean_zeros`` (exact zeros
        of the posterior mean: with a continuous prior, 0 almost surely), ``posterior_median_zeros``,
        ``hdi_contains_zero`` (intervals that include 0), ``map_zero_but_hdi_excludes_zero``.

    Examples
    --------
    One exact zero in the MAP, none in the posterior mean (continuous draws are never exactly 0):

    >>> import arviz as az, numpy as np
    >>> from bayesreg.compare import compare_map_posterior, sparsity_summary
    >>> draws = np.random.default_rng(0).normal([0.05, 1.0], 0.2, size=(2, 200, 2))
    >>> idata = az.from_dict(posterior={"coef": draws}, coords={"feature": ["a", "b"]},
    ...                      dims={"coef": ["feature"]})
    >>> sparsity_summary(compare_map_posterior(idata, map_coef=[0.0, 0.9]))
    {'n_features': 2, 'map_zeros': 1, 'posterior_mean_zeros': 0, 'posterior_median_zeros': 0,
     'hdi_contains_zero': 1, 'map_zero_but_hdi_excludes_zero': 0}
    """
    return {
        "n_features": len(table),
        "map_zeros": int(table["map_is_zero"].sum()),
        "posterior_mean_zeros": int((table["mean"] == 0).sum()),
        "posterior_median_zeros": int((table["median"] == 0).sum()),
        "hdi_contains_zero": int(table["hdi_contains_zero"].sum()),
        "map_zero_but_hdi_excludes_zero": int((table["map_is_zero"] & ~table["hdi_contains_zero"]).sum()),
    }


def predictive_coverage(idata: az.InferenceData, X, y, *, prob: float = 0.9, seed: int = 0) -> float:
    """Share of held-out targets inside their central posterior predictive interval.

    The predictive draws are `~bayesreg.predictive.predictive_draws`'s. For a linear model only: a
    logistic model's targets are 0 or 1, which an interval of 0/1 draws covers almost always (a
    ValueError says so; compare its probabilities with the outcomes instead, e.g. scikit-learn's
    ``calibration_curve``).

    Parameters
    ----------
    idata : arviz.InferenceData
        Posterior of a linear model (``coef``, optionally ``intercept`` and ``sigma``).
    X : array-like, shape (n_samples, n_features)
    y : array-like, shape (n_samples,)
    prob : float
        Central interval probability; a calibrated model covers about ``prob`` of new targets.
    seed : int
        Seed for the predictive noise draws.

    Returns
    -------
    float

    Examples
    --------
    Held-out data from the model itself: about 90% inside; shifted by 3σ: hardly any.

    >>> import arviz as az, numpy as np
    >>> from bayesreg.compare import predictive_coverage
    >>> rng = np.random.default_rng(1)
    >>> posterior = {"coef": rng.normal([1.0, -2.0], 0.05, size=(2, 250, 2)),
    ...              "intercept": rng.normal(0.5, 0.05, size=(2, 250)), "sigma": np.full((2, 250), 0.3)}
    >>> idata = az.from_dict(posterior=posterior, coords={"feature": ["a", "b"]}, dims={"coef": ["feature"]})
    >>> X = rng.normal(size=(40, 2))
    >>> y = 0.5 + X @ [1.0, -2.0] + 0.3 * rng.normal(size=40)
    >>> predictive_coverage(idata, X, y, prob=0.9), predictive_coverage(idata, X, y + 0.9, prob=0.9)
    (0.875, 0.1)
    """
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    if "sigma" not in idata.posterior and "sigma" not in idata.posterior.attrs:
        raise ValueError(
            "predictive_coverage is for a linear model (a posterior with sigma): a logistic model's 0/1 "
            "targets lie inside almost any interval of 0/1 draws; compare its probabilities with the "
            "outcomes instead (sklearn.calibration.calibration_curve)"
        )
    predicted = predictive_draws(idata, X, seed=seed, family="gaussian")
    low, high = np.quantile(predicted, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    return float(np.mean((y >= low) & (y <= high)))
