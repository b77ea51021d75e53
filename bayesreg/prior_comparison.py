"""Priors compared by how well they predict: PSIS-LOO through ArviZ's ``compare``, K-fold where k̂ is high.

`compare_priors` fits each prior it is given (a name, a configured estimator, a `~bayesreg.priors.Prior`
or a sparsity prior of `bayesreg.shrinkage`) with NUTS on the same data, computes the expected log
predictive density of each fit by Pareto-smoothed importance sampling (`bayesreg.loo.loo`: from the
pointwise values the fit kept, or its full log-likelihood) and hands them to `arviz.compare`
(``elpd_loo``, ``p_loo``, ``elpd_diff``, stacking ``weight``, ``se``, ``dse``, ``warning``).

Where a fit's Pareto k̂ exceeds ArviZ's threshold for its number of draws (``good_k = min(1 −
1/log10(S), 0.7)``) for some observation, importance sampling is unreliable for that prior, and its
elpd is computed instead by K-fold cross-validation: the prior is refitted K times (`KFOLD_SPLITS`,
10), each time without one fold, and each held-out row's log predictive density ``log mean_s p(y_i |
θ_s)`` comes from the draws of the fit that did not see it. K-fold rather than ArviZ's ``reloo``
(one exact refit per high-k̂ observation through a ``SamplingWrapper``): its cost is K refits
however many observations are flagged (a sparsity prior on small data flags tens), and every row of
the data gets its value from the same procedure. The row of the table says which estimate it holds
(``elpd_method``); its ``p_loo`` is then ``lppd − elpd_kfold`` (the effective number of parameters
of the R package loo's ``kfold``), and ``warning`` is False (the k̂ that flagged it stays in
``pareto_k_high`` and ``pareto_k_max``). K-fold trains on ``(K − 1)/K`` of the rows, so it is
slightly pessimistic next to LOO; ``kfold="all"`` puts every prior on the same footing.

`plot_compare` draws the table in ArviZ's ``plot_compare`` style (matplotlib, imported on use).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd
from scipy.special import log_expit, logsumexp

from bayesreg.data import check_xy
from bayesreg.defaults import KFOLD_SPLITS, NUTS
from bayesreg.loo import loo
from bayesreg.params import CONSTRAINTS, PRIOR_KINDS, check_params
from bayesreg.priors import Prior
from bayesreg.scaling import Standardization
from bayesreg.shrinkage import SHRINKAGE_PRIORS, RegularizedHorseshoe

if TYPE_CHECKING:  # arviz is imported where it is used: `import bayesreg` does not load it
    import arviz as az

__all__ = ["PRIOR_NAMES", "PriorComparison", "compare_priors", "plot_compare"]

PRIOR_NAMES = PRIOR_KINDS
"""The priors `compare_priors` takes by name: the estimators' (`~bayesreg.params.PRIOR_KINDS`, the
sparsity priors included), each fitted by its estimator."""

_SETTINGS = {
    "family": CONSTRAINTS["family"],
    "fit_intercept": CONSTRAINTS["fit_intercept"],
    "standardize": CONSTRAINTS["standardize"],
    "num_warmup": CONSTRAINTS["num_warmup"]._replace(none_ok=True),
    "num_samples": CONSTRAINTS["num_samples"],
    "num_chains": CONSTRAINTS["num_chains"],
    "seed": CONSTRAINTS["seed"],
    "log_likelihood": CONSTRAINTS["log_likelihood"],
    "kfold": CONSTRAINTS["kfold"],
    "n_splits": CONSTRAINTS["n_splits"],
}


class PriorComparison(NamedTuple):
    """What `compare_priors` computed.

    Attributes
    ----------
    table : DataFrame, shape (n_priors, 13)
        `arviz.compare`'s table (index: the priors' names, best first; columns ``rank``,
        ``elpd_loo``, ``p_loo``, ``elpd_diff``, ``weight``, ``se``, ``dse``, ``warning``, ``scale``)
        with four more: ``elpd_method`` (``"psis-loo"``, or ``"kfold-K"`` where the K-fold elpd
        replaced it), ``pareto_k_high`` (observations whose k̂ of the full fit exceeds ArviZ's
        threshold), ``pareto_k_max`` and ``diagnostics_ok`` (whether every NUTS run behind the row,
        K-fold refits included, passed `~bayesreg.diagnostics.check_diagnostics`).
    elpd : dict of str to arviz.ELPDData
        What `arviz.compare` was given, by name: the PSIS-LOO of the full fit, or its K-fold elpd
        (pointwise, in the same layout).
    loo : dict of str to arviz.ELPDData
        The PSIS-LOO of each full fit (`bayesreg.loo.loo`), K-fold or not.
    fits : dict
        The fitted object of each name: the estimator (``method="nuts"``; its ``idata_`` is the
        posterior) or, for a prior given as an object, its `~bayesreg.sampling.PosteriorFit`.

    Examples
    --------
    >>> from bayesreg.prior_comparison import PriorComparison
    >>> PriorComparison._fields
    ('table', 'elpd', 'loo', 'fits')
    """

    table: pd.DataFrame
    elpd: dict
    loo: dict
    fits: dict


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One prior to compare: its name in the table and what fits it (an estimator or a prior)."""

    name: str
    spec: object

    def fit(self, X, y, names, family: str, settings: dict):
        """The fitted object and its posterior (InferenceData) and diagnostics."""
        from sklearn.base import clone

        if not isinstance(self.spec, (Prior, *SHRINKAGE_PRIORS.values())):
            estimator = clone(self.spec).set_params(
                method="nuts",
                random_state=settings["seed"],
                log_likelihood=settings["log_likelihood"],
                num_warmup=settings["num_warmup"],
                num_samples=settings["num_samples"],
                num_chains=settings["num_chains"],
            )
            estimator.fit(pd.DataFrame(X, columns=names) if names is not None else X, y)
            return estimator, estimator.idata_, estimator.diagnostics_
        fit = _fit_prior(self.spec, X, y, names, family, settings)
        return fit, fit.idata, fit.diagnostics


def _fit_prior(prior, X, y, names, family: str, settings: dict):
    """`~bayesreg.sampling.fit_posterior` of the linear (σ ~ `~bayesreg.priors.noise_prior`) or
    logistic model under ``prior``, as the estimators set those models up (with ``standardize``, on
    standardised columns, the draws mapped back to the original ones)."""
    from bayesreg.models import (
        SufficientStats,
        linear_regression,
        linear_regression_stats,
        logistic_regression,
    )
    from bayesreg.priors import noise_prior
    from bayesreg.sampling import fit_posterior

    if isinstance(prior, RegularizedHorseshoe) and prior.global_scale is None and prior.n_samples is None:
        prior = dataclasses.replace(prior, n_samples=X.shape[0])  # τ₀ needs the rows this fit sees
    scaling = None
    if settings["standardize"]:
        scaling = Standardization.from_data(X, center=settings["fit_intercept"], names=names)
        X = scaling.transform(X)
    common = {
        "feature_names": names,
        "prior": prior,
        "fit_intercept": settings["fit_intercept"],
        **{
            key: settings[key]
            for key in ("num_warmup", "num_samples", "num_chains", "seed", "log_likelihood")
        },
    }
    if family == "gaussian":
        stats = SufficientStats.from_data(X, y, center=settings["fit_intercept"])
        observed = (linear_regression, X, y)
        fit = fit_posterior(linear_regression_stats, stats, observed=observed, sigma=noise_prior(y), **common)
    else:
        fit = fit_posterior(logistic_regression, X, y, **common)
    if scaling is not None:
        fit = fit._replace(idata=scaling.posterior_to_original(fit.idata))
    fit.idata.posterior.attrs["family"] = family
    return fit


def _estimator_type(family: str):
    from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression

    return BayesianLinearRegression if family == "gaussian" else BayesianLogisticRegression


def _by_name(name: str, family: str, alpha, C, standardize: bool):
    """The estimator of a prior name, at ``alpha`` (``C`` for the logistic model) where the prior has
    one."""
    if name not in PRIOR_NAMES:
        raise ValueError(f"unknown prior {name!r}; expected one of {', '.join(PRIOR_NAMES)}")
    if name in SHRINKAGE_PRIORS:  # no penalty strength: the prior has its own scales
        return _estimator_type(family)(prior=name, standardize=standardize)
    penalty = {"alpha": alpha} if family == "gaussian" else {"C": C}
    return _estimator_type(family)(prior=name, standardize=standardize, **penalty)


def _label(spec) -> str:
    """A name for a prior given as an object: the estimator's prior and penalty, or the prior's kind."""
    if isinstance(spec, (Prior, *SHRINKAGE_PRIORS.values())):
        return str(spec.kind)
    penalty = "alpha" if "alpha" in spec.get_params() else "C"
    return f"{spec.prior} ({penalty}={spec.get_params()[penalty]!r})"


def _entries(priors, family: str, alpha, C, standardize: bool) -> list[_Entry]:
    """The priors as named entries, checked: a non-empty list or dict, known names, no name twice,
    each estimator of the family's type."""
    if isinstance(priors, (str, bytes)) or not isinstance(priors, (Sequence, Mapping)):
        raise TypeError(
            f"priors must be a list of priors (names, estimators or Prior objects) or a dict of them by "
            f"name, got {type(priors).__name__}"
        )
    if len(priors) == 0:
        raise ValueError("priors is empty: give at least one prior to compare (two or more to compare them)")
    items = priors.items() if isinstance(priors, Mapping) else [(None, spec) for spec in priors]
    entries, seen = [], set()
    wanted = _estimator_type(family)
    for name, spec in items:
        if isinstance(spec, str):
            spec, name = _by_name(spec, family, alpha, C, standardize), spec if name is None else name
        elif not isinstance(spec, (Prior, *SHRINKAGE_PRIORS.values(), wanted)):
            raise TypeError(
                f"cannot compare {spec!r}: a prior is a name ({', '.join(PRIOR_NAMES)}), a "
                f"{wanted.__name__}, a bayesreg.priors.Prior or a prior of bayesreg.shrinkage "
                f"(family={family!r})"
            )
        name = _label(spec) if name is None else str(name)
        if name in seen:
            raise ValueError(
                f"duplicate name {name!r} in priors: each row of the comparison needs its own name "
                "(pass a dict {name: prior} to tell them apart)"
            )
        seen.add(name)
        entries.append(_Entry(name, spec))
    return entries


def _held_out_elpd(idata, X: np.ndarray, y: np.ndarray, family: str) -> np.ndarray:
    """``log mean_s p(y_i | θ_s)`` of each row of ``(X, y)`` over the posterior draws of ``idata``
    (``coef``, ``intercept``, ``sigma`` or a fixed ``posterior.attrs["sigma"]``), shape (n_rows,)."""
    posterior = idata.posterior
    coef = posterior["coef"].to_numpy().reshape(-1, X.shape[1])
    eta = coef @ X.T
    if "intercept" in posterior:
        eta += posterior["intercept"].to_numpy().reshape(-1, 1)
    if family == "gaussian":
        sigma = (
            posterior["sigma"].to_numpy().reshape(-1, 1) if "sigma" in posterior else posterior.attrs["sigma"]
        )
        log_density = -0.5 * np.log(2 * np.pi) - np.log(sigma) - 0.5 * ((y - eta) / sigma) ** 2
    else:
        log_density = log_expit(np.where(y == 1, eta, -eta))
    return logsumexp(log_density, axis=0) - np.log(eta.shape[0])


def _folds(n_splits: int, family: str, seed: int):
    """Shuffled K folds (stratified by class for the logistic model), their order fixed by ``seed``."""
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter = StratifiedKFold if family == "bernoulli" else KFold
    return splitter(n_splits=n_splits, shuffle=True, random_state=seed)


def _kfold(entry: _Entry, X, y, names, family: str, settings: dict, full: az.ELPDData) -> tuple:
    """The K-fold elpd of ``entry`` as an `arviz.ELPDData` shaped as ``full`` (its PSIS-LOO), and
    whether every refit passed its diagnostics."""
    import arviz as az

    pointwise = np.empty(len(y))
    ok = True
    refit = {**settings, "log_likelihood": False}  # the held-out rows' densities are computed here
    for train, test in _folds(settings["n_splits"], family, settings["seed"]).split(X, y):
        _, idata, diagnostics = entry.fit(X[train], y[train], names, family, refit)
        pointwise[test] = _held_out_elpd(idata, X[test], y[test], family)
        ok = ok and bool(diagnostics.ok)
    loo_i = full["loo_i"].copy(data=pointwise)
    elpd = float(pointwise.sum())
    lppd = float(full["elpd_loo"] + full["p_loo"])
    values = {
        "elpd_loo": elpd,
        "se": float((len(pointwise) * np.var(pointwise)) ** 0.5),
        "p_loo": lppd - elpd,
        "n_samples": full["n_samples"],
        "n_data_points": full["n_data_points"],
        "warning": False,
        "loo_i": loo_i,
        "pareto_k": full["pareto_k"],
        "scale": "log",
        "good_k": full["good_k"],
    }
    return az.ELPDData(data=list(values.values()), index=list(values)), ok


def compare_priors(
    X,
    y,
    priors,
    *,
    family: str = "gaussian",
    alpha=1.0,
    C=1.0,
    fit_intercept: bool = True,
    standardize: bool = False,
    num_warmup: int | None = None,
    num_samples: int = NUTS.num_samples,
    num_chains: int = NUTS.num_chains,
    seed: int = 0,
    log_likelihood: bool = False,
    kfold: str = "auto",
    n_splits: int = KFOLD_SPLITS,
) -> PriorComparison:
    """Fit each prior with NUTS and compare their expected log predictive densities (`arviz.compare`).

    Each prior is fitted to all rows with the same NUTS settings and seed; its elpd is PSIS-LOO
    (`bayesreg.loo.loo`), or, where some Pareto k̂ exceeds ArviZ's threshold (``kfold="auto"``), the
    K-fold elpd from ``n_splits`` refits (the module's notes say why K-fold and how it fits in the
    table). `arviz.compare` then ranks them, with stacking weights.

    Parameters
    ----------
    X : array-like or DataFrame, shape (n_samples, n_features)
    y : array-like, shape (n_samples,)
        Numbers (``family="gaussian"``) or two classes (``"bernoulli"``).
    priors : list or dict
        The priors, each one of: a name of `PRIOR_NAMES` (``"laplace"``, ``"gaussian"``,
        ``"elasticnet"`` at ``alpha`` / ``C``; ``"horseshoe"``, ``"regularized_horseshoe"``,
        ``"r2d2"`` with their default options); a configured `~bayesreg.BayesianLinearRegression`
        (``"gaussian"``) or `~bayesreg.BayesianLogisticRegression` (``"bernoulli"``), e.g. with
        ``alpha="cv"`` or ``alpha="eb"``; a `~bayesreg.priors.Prior`; or a sparsity prior of
        `bayesreg.shrinkage`. A list names each row after its name (the estimator's prior and
        penalty, the prior object's kind); a dict ``{name: prior}`` names them itself.
    family : {"gaussian", "bernoulli"}
        The likelihood: the linear model (σ sampled under `~bayesreg.priors.noise_prior`) or the
        logistic one.
    alpha, C : float or "cv" (or "eb", linear only)
        The penalty strength of the priors given by name with one (the linear and the logistic
        model's parameter, as in the estimators).
    fit_intercept : bool
        For the priors given by name or as objects (an estimator keeps its own).
    standardize : bool
        Fit the priors given by name or as objects on standardised columns, the prior on the
        standardised weights (as the estimators' ``standardize=True``; an estimator keeps its own).
        The sparsity priors' default scales (the regularised horseshoe's slab of scale 2, R2D2's
        R²) are meant for columns of unit sd. The elpd does not depend on the columns' units
        otherwise: the likelihood of each row is the same under either parametrisation.
    num_warmup, num_samples, num_chains, seed : int
        NUTS settings of every fit, estimators given configured included (their ``method``,
        ``random_state`` and ``log_likelihood`` are set too), so that the rows are comparable; the
        K-fold refits use the same seed. ``num_warmup=None`` (default) gives each fit its prior's
        own warmup (`~bayesreg.sampling.default_num_warmup`: 500 for the penalty priors at a fixed
        α, 1000 for the sparsity and hierarchical priors; each posterior keeps it in
        ``sample_stats.attrs["num_warmup"]``).
    log_likelihood : bool
        Keep each fit's n × draws log-likelihood (``log_likelihood`` group: PSIS-LOO by
        `arviz.loo` itself) instead of its pointwise LOO values only.
    kfold : {"auto", "all", "none"}
        Which priors get the K-fold elpd: those with a high k̂, every one, or none (the table's
        ``warning`` then flags the unreliable rows).
    n_splits : int ≥ 2
        Folds of the K-fold elpd (`KFOLD_SPLITS`): shuffled `sklearn.model_selection.KFold`
        (`~sklearn.model_selection.StratifiedKFold` for the logistic model) with ``random_state=seed``.

    Returns
    -------
    PriorComparison
        ``table`` (`arviz.compare`'s, best first, plus ``elpd_method``, ``pareto_k_high``,
        ``pareto_k_max``, ``diagnostics_ok``), the elpd of each row, the PSIS-LOO of each full fit
        and the fitted objects.

    Raises
    ------
    ValueError
        For an empty ``priors``, an unknown name, a name given twice, or a bad setting.
    TypeError
        For something that is not a prior (or an estimator of the other family).

    Warns
    -----
    bayesreg.diagnostics.PosteriorWarning
        For a fit that failed its diagnostics (the row's ``diagnostics_ok`` is then False).

    Examples
    --------
    A Gaussian prior against a Laplace prior so strong that it removes every weight, on 100 rows
    with two real effects (two short chains, whose diagnostics warnings are silenced here); the
    Gaussian prior predicts better by many standard errors of the difference:

    >>> import warnings
    >>> import numpy as np
    >>> from bayesreg.estimators import BayesianLinearRegression
    >>> from bayesreg.prior_comparison import compare_priors
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 3))
    >>> y = X @ np.array([1.0, -1.0, 0.0]) + 0.5 * rng.normal(size=100)
    >>> priors = {"gaussian": "gaussian", "laplace, alpha=100": BayesianLinearRegression(alpha=100.0)}
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     result = compare_priors(X, y, priors, num_warmup=200, num_samples=200, num_chains=2)
    >>> result.table.index.tolist(), result.table["elpd_method"].tolist()
    (['gaussian', 'laplace, alpha=100'], ['psis-loo', 'psis-loo'])
    >>> bool(result.table["elpd_diff"].iloc[1] > 4 * result.table["dse"].iloc[1])
    True
    """
    import arviz as az

    settings = check_params(
        {
            "family": family,
            "fit_intercept": fit_intercept,
            "standardize": standardize,
            "num_warmup": num_warmup,
            "num_samples": num_samples,
            "num_chains": num_chains,
            "seed": seed,
            "log_likelihood": log_likelihood,
            "kfold": kfold,
            "n_splits": n_splits,
        },
        _SETTINGS,
    )
    family = settings["family"]
    entries = _entries(priors, family, alpha, C, settings["standardize"])
    X, y, _, names = check_xy(X, y, family)
    if settings["kfold"] != "none" and settings["n_splits"] > len(y):
        raise ValueError(
            f"n_splits must be at most the number of rows ({len(y)}), got {settings['n_splits']}"
        )

    fits, loos, elpds, rows = {}, {}, {}, {}
    for entry in entries:
        fitted, idata, diagnostics = entry.fit(X, y, names, family, settings)
        full = loo(idata)
        high = int(np.sum(full["pareto_k"].values > full["good_k"]))
        method, ok, elpd = "psis-loo", bool(diagnostics.ok), full
        if settings["kfold"] == "all" or (settings["kfold"] == "auto" and high > 0):
            elpd, folds_ok = _kfold(entry, X, y, names, family, settings, full)
            method, ok = f"kfold-{settings['n_splits']}", ok and folds_ok
        fits[entry.name], loos[entry.name], elpds[entry.name] = fitted, full, elpd
        rows[entry.name] = {
            "elpd_method": method,
            "pareto_k_high": high,
            "pareto_k_max": float(np.max(full["pareto_k"].values)),
            "diagnostics_ok": ok,
        }
    table = az.compare(elpds).join(pd.DataFrame.from_dict(rows, orient="index"))
    return PriorComparison(table=table, elpd=elpds, loo=loos, fits=fits)


def plot_compare(table, *, ax=None):
    """The comparison in ArviZ's ``plot_compare`` style: each prior's elpd with its standard error,
    and each prior's difference to the best with the standard error of that difference.

    Drawn by `arviz.plot_compare` (``insample_dev=False``, ``plot_ic_diff=True``) on the columns it
    reads (a single row, which it cannot space, as the same point and bar here); a row whose elpd is
    the K-fold one is labelled ``(K-fold)``, and a row with a failed NUTS run ``(diagnostics
    failed)``, so neither looks like a clean PSIS-LOO row.

    Parameters
    ----------
    table : DataFrame or PriorComparison
        `compare_priors`'s table (or ``arviz.compare``'s).
    ax : matplotlib Axes, optional
        Drawn on the current Axes when None.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> from matplotlib.figure import Figure
    >>> from bayesreg.prior_comparison import plot_compare
    >>> table = pd.DataFrame({"rank": [0, 1], "elpd_loo": [-10.0, -14.0], "p_loo": [3.0, 2.0],
    ...                       "elpd_diff": [0.0, 4.0], "weight": [0.9, 0.1], "se": [2.0, 2.5],
    ...                       "dse": [0.0, 1.5], "warning": [False, False], "scale": ["log", "log"],
    ...                       "elpd_method": ["psis-loo", "kfold-10"]}, index=["a", "b"])
    >>> ax = plot_compare(table, ax=Figure().subplots())
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['a', '', 'b (K-fold)']
    """
    import arviz as az

    if isinstance(table, PriorComparison):
        table = table.table
    labels = []
    for name, row in table.iterrows():
        notes = []
        if str(row.get("elpd_method", "psis-loo")).startswith("kfold"):
            notes.append("K-fold")
        if not bool(row.get("diagnostics_ok", True)):
            notes.append("diagnostics failed")
        labels.append(f"{name} ({', '.join(notes)})" if notes else str(name))
    columns = ["rank", "elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse", "warning", "scale"]
    shown = table[[c for c in columns if c in table.columns]].copy()
    shown.index = labels
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    if len(shown) > 1:
        return az.plot_compare(shown, insample_dev=False, plot_ic_diff=True, ax=ax, show=False)
    # one row: ArviZ's plot spaces its rows by the gap between them (NaN here), so it is drawn alike here
    ax.errorbar(shown["elpd_loo"], [0.0], xerr=shown["se"], fmt="o", color="k", mfc="white")
    ax.set_yticks([0.0], labels)
    ax.set_xlabel(f"elpd_loo ({shown['scale'].iloc[0]})")
    return ax
