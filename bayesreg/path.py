"""Regularisation paths: the MAP, and the posterior, over a grid of penalty strengths.

`map_path` finds the MAP at each ``α`` of a grid, each fit starting from the previous solution (a
warm start), with `bayesreg.engine.map.map_grid`: the whole grid is one compiled ``lax.scan`` of the
MAP solver, the penalty strengths traced values, so a grid is compiled once per model, data shape
and grid size, and runs with no Python round trip per ``α``. The lasso of the linear model (a
Laplace prior, fixed σ) goes instead from breakpoint to breakpoint of its piecewise-linear path
(`bayesreg.engine.homotopy`, also one compiled loop), which is exact at every grid point and costs
a few matrix-vector products per breakpoint; should it stop early (a singular active block), the
grid solver takes over. Under ``convention="sklearn"`` and ``family="gaussian"`` the Laplace and
elastic-net paths are scikit-learn's ``lasso_path`` / ``enet_path`` (with an unpenalised intercept
when ``fit_intercept``), the Gaussian path is ``Ridge`` at each ``α``; with ``family="bernoulli"``,
``α = 1/C`` of ``LogisticRegression``; with the Poisson and negative binomial families (fixed
dispersion, optional offset) under ``convention="glum"`` it is glum's ``GeneralizedLinearRegressor``
path. The Student-t family's path holds ν and σ fixed (``convention="book"``).

`posterior_path` samples the posterior of the same model at every ``α`` of a grid with NUTS and
summarises it per ``α`` and coefficient (median, HDI, R-hat, bulk ESS) next to the MAP path. The
whole grid is one run of the engine's chains driver (`bayesreg.engine.chains.sample_chains`), the
chains of every ``α`` with that ``α``'s prior as their own argument: one compilation per model,
settings and grid size, and a new grid of the same size (or new data of the same shape) reuses it.

With ``standardize=True`` each of them works on the standardised columns (`bayesreg.scaling`: the
prior on their weights, the α grid theirs) and reports the weights on the original columns: the MAP
path is then scikit-learn's path on ``StandardScaler``-transformed columns, mapped back.
"""

from __future__ import annotations

import sys
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro.distributions as dist
from numpy.typing import ArrayLike

from bayesreg.data import COUNT_FAMILIES, check_offset, check_xy
from bayesreg.defaults import (
    EPS,
    HDI_PROB,
    L1_RATIO,
    MASS_MATRIX,
    MAX_TREE_DEPTH,
    N_ALPHAS,
    PATH_NUTS,
    TARGET_ACCEPT,
)
from bayesreg.engine import homotopy
from bayesreg.engine.arrays import as_arrays
from bayesreg.engine.chains import Chains, fall_back_to_mixture, sample_chains
from bayesreg.engine.map import map_grid
from bayesreg.models import (
    SufficientStats,
    linear_regression_stats,
    logistic_regression,
    negative_binomial_regression,
    poisson_regression,
    student_t_regression,
)
from bayesreg.params import CONSTRAINTS, MODEL_CONSTRAINTS, check_param, check_params
from bayesreg.priors import Convention, Family, PriorKind, noise_prior, prior_from_penalty
from bayesreg.sampling import Preconditioning
from bayesreg.scaling import Standardization

__all__ = ["MAPPath", "PosteriorPath", "alpha_grid", "alpha_max", "map_path", "posterior_path"]


class MAPPath(NamedTuple):
    """The MAP along a grid of penalty strengths, as `map_path` returns it.

    Attributes
    ----------
    alphas : ndarray, shape (n_alphas,)
        The grid, in the order it was computed.
    coefs : ndarray, shape (n_alphas, n_features)
        MAP weights at each ``α`` (exact zeros for L1 and elastic net).
    intercepts : ndarray, shape (n_alphas,)
        MAP intercepts (zeros without ``fit_intercept``).
    num_steps : ndarray of int, shape (n_alphas,)
        Proximal Newton steps taken at each ``α``; for the lasso of the linear model (solved by
        homotopy, `bayesreg.engine.homotopy`), breakpoints of the path passed since the ``α`` before (in
        decreasing order).
    converged : ndarray of bool, shape (n_alphas,)
        Whether each fit reached its tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.path import map_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> path = map_path(X, y, [1.0, 0.1])
    >>> path.coefs.shape, path.intercepts.shape, path.converged.tolist()
    ((2, 3), (2,), [True, True])
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    num_steps: np.ndarray
    converged: np.ndarray


# The constraints of the MAP path's settings: `bayesreg.params`' for every family, with a fixed noise
# sd (the MAP path and alpha_max take σ as a number; `posterior_path` alone samples it when it is None).
# ``l1_ratio`` is checked by `prior_from_penalty`, where it applies (prior="elasticnet").
_FIXED_SIGMA = {**MODEL_CONSTRAINTS, "sigma": CONSTRAINTS["sigma"]._replace(none_ok=False)}

_GLM_MODELS = {
    "poisson": poisson_regression,
    "negative_binomial": negative_binomial_regression,
    "student_t": student_t_regression,
}
"""The model of each family fitted row by row (the linear model goes through its statistics)."""


def _likelihood(family, X, y, offset, dispersion, df, sigma) -> dict:
    """The keyword arguments of a count or Student-t model besides its prior, checked: the offset
    (counts), the negative binomial's dispersion and the Student-t's ν and σ, which a path holds
    fixed (a Newton path over α with them estimated would be a different objective at each α)."""
    kwargs = {}
    if offset is not None:
        if family not in COUNT_FAMILIES:
            raise ValueError(
                f"offset applies to the count families (poisson, negative_binomial), not {family!r}"
            )
        kwargs["offset"] = check_offset(offset, X.shape[0])
    for name, value, applies in (
        ("dispersion", dispersion, family == "negative_binomial"),
        ("df", df, family == "student_t"),
    ):
        if value is not None and not applies:
            raise ValueError(f"{name} does not apply to family={family!r}")
        if applies:
            if value is None:
                raise ValueError(
                    f"family={family!r} needs a fixed {name} for a path (fit it first to estimate it)"
                )
            kwargs[name] = check_param(name, value)
    if family == "student_t":
        kwargs["sigma"] = sigma
    return kwargs


def _intercept_only(family, y, kwargs) -> float:
    """The intercept of the fit with every weight 0: the root of its score (the log mean count for a
    count model without an offset; a one-dimensional search otherwise)."""
    from scipy.optimize import brentq, minimize_scalar

    offset = kwargs.get("offset", np.zeros(y.shape))
    if family == "poisson":
        return float(np.log(y.sum() / np.exp(offset).sum()))
    if family == "negative_binomial":
        d = kwargs["dispersion"]
        start = np.log(y.sum() / np.exp(offset).sum())

        def score(b):
            mean = np.exp(b + offset)
            return float(np.sum((y - mean) / (1.0 + d * mean)))

        return float(brentq(score, start - 50.0, start + 50.0, xtol=1e-14, rtol=4 * np.finfo(float).eps))
    nu, scale2 = kwargs["df"], kwargs["sigma"] ** 2
    found = minimize_scalar(
        lambda b: float(np.sum(np.log1p((y - b) ** 2 / (nu * scale2)))),
        bounds=(float(y.min()), float(y.max())),
        method="bounded",
        options={"xatol": 1e-12},
    )
    return float(found.x)


def _score_at_zero(family, X, y, fit_intercept, kwargs) -> np.ndarray:
    """The gradient of the log-likelihood in the weights at ``w = 0``, the intercept at its optimum
    (0 without one): zero weights are the MAP iff it is at most λ₁ in every coordinate."""
    b = _intercept_only(family, y, kwargs) if fit_intercept else 0.0
    eta = b + kwargs.get("offset", 0.0)
    if family == "poisson":
        per_row = y - np.exp(eta)
    elif family == "negative_binomial":
        mean = np.exp(eta)
        per_row = (y - mean) / (1.0 + kwargs["dispersion"] * mean)
    else:
        r = y - eta
        per_row = (kwargs["df"] + 1.0) * r / (kwargs["df"] * kwargs["sigma"] ** 2 + r**2)
    return X.T @ per_row


def _statistics(X, y, family, standardize) -> SufficientStats | None:
    """``X`` as float64 `SufficientStats` when it is the statistics of the rows (then ``y`` is None,
    the family gaussian and ``standardize`` False: statistics carry no rows to standardise), else
    None."""
    if not isinstance(X, SufficientStats):
        return None
    if y is not None or family != "gaussian" or standardize:
        raise ValueError(
            "SufficientStats in place of X: family='gaussian' only, y=None and standardize=False "
            "(standardise before computing them, e.g. bayesreg.large.DaskMoments.sufficient_stats)"
        )
    return SufficientStats(*(np.asarray(v, dtype=np.float64) for v in X))


def _prepare(X, y, family):
    """``X`` and ``y`` as float64 arrays, checked by `bayesreg.data.check_xy`."""
    checked = check_xy(X, y, family)
    return checked.X, checked.y


def _standardized(X, y, family, fit_intercept) -> tuple[np.ndarray, np.ndarray, Standardization]:
    """``X`` checked and standardised (centred only with an intercept), ``y`` checked, and the
    `~bayesreg.scaling.Standardization` that maps the weights back. Column names come from a
    DataFrame ``X``, for the message about a constant column."""
    names = [str(c) for c in X.columns] if hasattr(X, "columns") else None
    X, y = _prepare(X, y, family)
    scaling = Standardization.from_data(X, center=fit_intercept, names=names)
    return scaling.transform(X), y, scaling


def _l1_per_alpha(prior, l1_ratio, convention, family, n, sigma):
    """λ₁ (the Laplace rate in force, at noise sd ``sigma``) for ``α = 1``."""
    unit = prior_from_penalty(
        prior, 1.0, l1_ratio=l1_ratio, convention=convention, family=family, n_samples=n
    )
    with jax.enable_x64(True):  # Prior.rates computes with jnp: float32 otherwise
        return float(unit.rates(sigma)[0])


def alpha_max(
    X: ArrayLike,
    y: ArrayLike,
    *,
    prior: PriorKind = "laplace",
    l1_ratio: float = L1_RATIO,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
    standardize: bool = False,
    offset: ArrayLike | None = None,
    dispersion: float | None = None,
    df: float | None = None,
) -> float:
    """The smallest ``α`` at which every weight of the L1 / elastic-net MAP is exactly 0.

    At ``w = 0`` (with the intercept at its optimum) the MAP is zero iff ``|∂ⱼJ(0)| ≤ λ₁(α)`` for
    every ``j``, so ``α_max = max_j |∂ⱼJ(0)| / λ₁(1)``: for scikit-learn's Lasso this is
    ``max|Xcᵀyc| / n``, for ElasticNet the same divided by ``l1_ratio``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features), or SufficientStats
        The rows, or for ``family="gaussian"`` their `~bayesreg.models.SufficientStats`
        (centred where ``fit_intercept``; then ``y`` is None and ``standardize`` False: the
        path costs nothing more in ``n``, as from `bayesreg.large`'s one pass over the rows).
    y : array_like, shape (n_samples,)
    prior : {"laplace", "elasticnet"}
    l1_ratio, family, convention, fit_intercept, sigma, standardize, offset, dispersion, df
        As in `map_path` (with ``standardize``, the ``α_max`` of the standardised columns). For the
        count and Student-t families the gradient at ``w = 0`` is that of their log-likelihood, the
        intercept at its optimum.

    Returns
    -------
    float

    Examples
    --------
    For the lasso, ``max|Xcᵀyc| / n``; the elastic net's with ``l1_ratio=0.5`` is twice that:

    >>> import numpy as np
    >>> from bayesreg.path import alpha_max
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> top = alpha_max(X, y)
    >>> Xc, yc = X - X.mean(axis=0), y - y.mean()
    >>> elastic_net = alpha_max(X, y, prior="elasticnet", l1_ratio=0.5)
    >>> bool(np.isclose(top, np.abs(Xc.T @ yc).max() / 30)), round(elastic_net / top, 12)
    (True, 2.0)
    """
    settings = {
        "prior": prior,
        "family": family,
        "convention": convention,
        "fit_intercept": fit_intercept,
        "sigma": sigma,
        "standardize": standardize,
    }
    checked = check_params(settings, _FIXED_SIGMA).values()
    prior, family, convention, fit_intercept, sigma, standardize = checked
    if prior == "gaussian":
        raise ValueError("an L2 (gaussian) penalty never sets weights exactly to 0: there is no alpha_max")
    stats = _statistics(X, y, family, standardize)
    if stats is not None:
        grad = stats.xty / sigma**2  # the statistics are centred where the intercept is fitted
        l1 = _l1_per_alpha(prior, l1_ratio, convention, family, int(stats.n), sigma)
        return float(np.max(np.abs(grad)) / l1)
    if standardize:
        X, y, _ = _standardized(X, y, family, fit_intercept)
    else:
        X, y = _prepare(X, y, family)
    if family in _GLM_MODELS:
        kwargs = _likelihood(family, X, y, offset, dispersion, df, sigma)
        grad = _score_at_zero(family, X, y, fit_intercept, kwargs)
    elif family == "gaussian":
        Xc, yc = (X - X.mean(axis=0), y - y.mean()) if fit_intercept else (X, y)
        grad = Xc.T @ yc / sigma**2
    else:  # the cross-entropy at w = 0: p = mean(y) with an intercept, ½ without
        grad = (X - X.mean(axis=0)).T @ (y - y.mean()) if fit_intercept else X.T @ (y - 0.5)
    l1 = _l1_per_alpha(prior, l1_ratio, convention, family, X.shape[0], sigma)
    return float(np.max(np.abs(grad)) / l1)


def alpha_grid(
    X: ArrayLike,
    y: ArrayLike,
    *,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
    prior: PriorKind = "laplace",
    l1_ratio: float = L1_RATIO,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
    standardize: bool = False,
    offset: ArrayLike | None = None,
    dispersion: float | None = None,
    df: float | None = None,
) -> np.ndarray:
    """``n_alphas`` values from `alpha_max` down to ``eps · alpha_max``, log-spaced (as scikit-learn).

    The settings are `alpha_max`'s (``standardize``: the grid of the standardised columns, as
    scikit-learn's for ``StandardScaler``-transformed columns).

    Returns
    -------
    ndarray, shape (n_alphas,)
        Decreasing: the order in which warm starts work best.

    Examples
    --------
    scikit-learn's grid for the same data:

    >>> import numpy as np
    >>> from sklearn.linear_model import lasso_path
    >>> from bayesreg.path import alpha_grid
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> alphas = alpha_grid(X, y, n_alphas=5, eps=1e-2)
    >>> Xc, yc = X - X.mean(axis=0), y - y.mean()
    >>> reference = lasso_path(Xc, yc, alphas=5, eps=1e-2)[0]
    >>> bool(np.allclose(alphas, reference, rtol=1e-13)), round(float(alphas[-1] / alphas[0]), 12)
    (True, 0.01)
    """
    n_alphas, eps = check_params({"n_alphas": n_alphas, "eps": eps}).values()
    top = alpha_max(
        X,
        y,
        prior=prior,
        l1_ratio=l1_ratio,
        family=family,
        convention=convention,
        fit_intercept=fit_intercept,
        sigma=sigma,
        standardize=standardize,
        offset=offset,
        dispersion=dispersion,
        df=df,
    )
    return np.geomspace(top, top * eps, n_alphas)


def _setup(X, y, alphas, *, prior, family, convention, fit_intercept):
    """What `map_path` and `posterior_path` share: the grid and the data checked, and the model with its
    float64 data (the settings come checked).

    Returns
    -------
    alphas : ndarray, shape (n_alphas,)
    X, y : ndarray
    model : callable
        `linear_regression_stats` (gaussian), else the family's model (`logistic_regression`, ...).
    args : tuple of float64 jax arrays
        The model's data arguments (`SufficientStats`, or ``(X, y)``).
    kwargs : dict
        ``fit_intercept`` (the prior and, for the linear model, ``sigma`` are the caller's).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ValueError("alphas must be a non-empty 1-d array of positive finite numbers")
    stats = _statistics(X, y, family, False)
    if stats is None:
        X, y = _prepare(X, y, family)
    else:
        X = stats
    with jax.enable_x64(True):
        if stats is not None:
            model, args = linear_regression_stats, (stats,)
        elif family == "gaussian":
            model = linear_regression_stats
            args = (SufficientStats.from_data(X, y, center=fit_intercept),)
        else:
            model = _GLM_MODELS.get(family, logistic_regression)
            args = (X, y)
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), args)
    return alphas, X, y, model, args, {"fit_intercept": fit_intercept}


def map_path(
    X: ArrayLike,
    y: ArrayLike,
    alphas: ArrayLike,
    *,
    prior: PriorKind = "laplace",
    l1_ratio: float = L1_RATIO,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
    standardize: bool = False,
    offset: ArrayLike | None = None,
    dispersion: float | None = None,
    df: float | None = None,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> MAPPath:
    """The MAP at each penalty strength of a grid, with warm starts and one compilation.

    At each ``α`` this is `bayesreg.map_estimate` of the linear model (through its sufficient
    statistics) or the logistic model, with the prior `prior_from_penalty(prior, α, ...)`, started
    from the solution at the previous ``α`` (the first from zeros); all of them in one compiled
    program (`bayesreg.engine.map.map_grid`). The Laplace prior on the linear model (the lasso) is
    followed by homotopy instead (`bayesreg.engine.homotopy.lasso_path`: the same minimiser, exact from
    one breakpoint of the path to the next), with ``map_grid`` taking over if it stops early.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features), or SufficientStats
        The rows, or for ``family="gaussian"`` their `~bayesreg.models.SufficientStats`
        (centred where ``fit_intercept``; then ``y`` is None and ``standardize`` False: the
        path costs nothing more in ``n``, as from `bayesreg.large`'s one pass over the rows).
    y : array_like, shape (n_samples,)
        Targets, or two-class labels for ``family="bernoulli"``.
    alphas : array_like, shape (n_alphas,)
        Penalty strengths (> 0), computed in the order given: decreasing is fastest (see
        `alpha_grid`).
    prior : {"laplace", "gaussian", "elasticnet"}
        L1, L2 or elastic-net penalty.
    l1_ratio : float in (0, 1)
        Share of the L1 term for ``prior="elasticnet"``.
    family : {"gaussian", "bernoulli", "poisson", "negative_binomial", "student_t"}
        Linear regression with noise sd ``sigma``, logistic regression, Poisson or negative binomial
        regression (log link), or Student-t regression with scale ``sigma`` and ``df`` degrees of
        freedom.
    convention : {"sklearn", "book", "glum", "statsmodels"}
        How ``α`` maps to the prior (`bayesreg.priors`). With ``"sklearn"`` the Gaussian-family
        objectives are those of Lasso, Ridge and ElasticNet, whatever ``sigma`` is; with "glum" and
        the count families, glum's ``GeneralizedLinearRegressor`` path (half the mean deviance plus
        the penalty).
    fit_intercept : bool
        Fit an unpenalised intercept.
    sigma : float
        Fixed noise sd of the linear model, or scale of the Student-t model.
    standardize : bool
        Fit on the standardised columns, ``(x − mean)/sd`` (not centred without ``fit_intercept``;
        `bayesreg.scaling`), so that the prior is on their weights, and return the weights and
        intercepts on the original columns (exact zeros stay exactly 0): the path of
        ``make_pipeline(StandardScaler(), Lasso(α))`` mapped back. Use `alpha_grid` with the same
        ``standardize`` for the grid.
    offset : array_like, shape (n_samples,), optional
        The count families' offset (log exposure), as glum's.
    dispersion : float > 0, optional
        The negative binomial's fixed dispersion (needed for that family; glum's ``theta``).
    df : float > 0, optional
        The Student-t's fixed degrees of freedom (needed for that family).
    tol, max_steps
        As for `bayesreg.map_estimate`, at each ``α``.

    Returns
    -------
    MAPPath

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        For each ``α`` whose fit did not converge.

    Examples
    --------
    The lasso path is scikit-learn's ``lasso_path``, exact zeros included: none of the three
    weights at `alpha_max`, then two (weight 1 stays exactly 0 down the grid):

    >>> import numpy as np
    >>> from sklearn.linear_model import lasso_path
    >>> from bayesreg.path import alpha_grid, map_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> alphas = alpha_grid(X, y, n_alphas=5, eps=1e-2)
    >>> path = map_path(X, y, alphas)
    >>> Xc, yc = X - X.mean(axis=0), y - y.mean()
    >>> reference = lasso_path(Xc, yc, alphas=alphas, tol=1e-12)[1].T
    >>> (path.coefs != 0).sum(axis=1).tolist(), bool(np.allclose(path.coefs, reference, atol=1e-10))
    ([0, 2, 2, 2, 2], True)
    """
    settings = {
        "prior": prior,
        "family": family,
        "convention": convention,
        "fit_intercept": fit_intercept,
        "sigma": sigma,
        "standardize": standardize,
        "tol": tol,
        "max_steps": max_steps,
    }
    checked = check_params(settings, _FIXED_SIGMA).values()
    prior, family, convention, fit_intercept, sigma, standardize, tol, max_steps = checked
    likelihood = {"offset": offset, "dispersion": dispersion, "df": df}
    _statistics(X, y, family, standardize)  # statistics in place of X: checked
    if standardize:
        Z, y, scaling = _standardized(X, y, family, fit_intercept)
        settings = {k: v for k, v in settings.items() if k != "standardize"}
        path = map_path(Z, y, alphas, l1_ratio=l1_ratio, **settings, **likelihood)
        coefs, intercepts = scaling.to_original(path.coefs, path.intercepts)
        return path._replace(coefs=coefs, intercepts=intercepts)
    alphas, X, y, model, args, kwargs = _setup(
        X, y, alphas, prior=prior, family=family, convention=convention, fit_intercept=fit_intercept
    )
    if family in _GLM_MODELS:
        kwargs.update(_likelihood(family, X, y, **likelihood, sigma=sigma))
    elif any(value is not None for value in likelihood.values()):
        raise ValueError(f"offset, dispersion and df do not apply to family={family!r}")
    elif family == "gaussian":
        kwargs["sigma"] = sigma
    n, p = (int(X.n), X.xty.shape[0]) if isinstance(X, SufficientStats) else X.shape
    init = {"coef": np.zeros(p)}  # the cold start
    if fit_intercept:  # for the count and Student-t families, the intercept of the weights-0 fit
        init["intercept"] = np.asarray(_intercept_only(family, y, kwargs) if family in _GLM_MODELS else 0.0)
    priors = [
        prior_from_penalty(
            prior, float(a), l1_ratio=l1_ratio, convention=convention, family=family, n_samples=n
        )
        for a in alphas
    ]
    if family == "gaussian" and prior == "laplace":
        path = _lasso_by_homotopy(alphas, args[0], priors, sigma, tol)
        if np.all(path.converged):
            return path
    results = map_grid(model, *args, priors=priors, init=init, tol=tol, max_steps=max_steps, **kwargs)
    coefs = np.array([r.params["coef"] for r in results]).reshape(alphas.size, p)
    intercepts = np.array([r.params.get("intercept", 0.0) for r in results], dtype=float)
    num_steps = np.array([r.num_steps for r in results], dtype=int)
    converged = np.array([r.converged for r in results], dtype=bool)
    return MAPPath(alphas, coefs, intercepts, num_steps, converged)


def _lasso_by_homotopy(alphas, stats: SufficientStats, priors, sigma: float, tol: float) -> MAPPath:
    """The lasso MAP path of the linear model from its sufficient statistics, by homotopy
    (`bayesreg.engine.homotopy.lasso_path`): ``H = XᵀX/σ²``, ``b = Xᵀy/σ²`` (centred when the intercept is
    fitted, which is then ``ȳ − x̄ᵀw``), λ₁ of each prior, run in decreasing order."""
    with jax.enable_x64(True):
        l1 = np.array([float(prior.rates(sigma)[0]) for prior in priors])
        order = np.argsort(-l1, kind="stable")
        coefs, steps, residual = homotopy.lasso_path(
            stats.xtx / sigma**2, stats.xty / sigma**2, jnp.asarray(l1[order])
        )
    back = np.argsort(order)
    coefs, steps, residual = (np.asarray(a)[back] for a in (coefs, steps, residual))
    intercepts = np.asarray(stats.y_mean) - coefs @ np.asarray(stats.x_mean)
    return MAPPath(alphas, coefs, intercepts, steps.astype(int), residual <= tol)


# ---------------------------------------------------------------------------------------------------
# the posterior along the grid


class PosteriorPath(NamedTuple):
    """The NUTS posterior along a grid of penalty strengths, next to the MAP, as `posterior_path` gives it.

    Attributes
    ----------
    alphas : ndarray, shape (n_alphas,)
        The grid, in the order given.
    map : MAPPath
        `map_path` on the same grid and arguments (the penalised estimates, exact zeros included).
    median : ndarray, shape (n_alphas, n_features)
        Posterior median of each weight.
    hdi_low, hdi_high : ndarray, shape (n_alphas, n_features)
        Bounds of the ``hdi_prob`` highest-density interval of each weight (``arviz.hdi``).
    r_hat : ndarray, shape (n_alphas, n_features)
        Rank-normalised split R-hat of each weight (``arviz.rhat``).
    ess_bulk : ndarray, shape (n_alphas, n_features)
        Bulk effective sample size of each weight (``arviz.ess``).
    max_r_hat : ndarray, shape (n_alphas,)
        Largest R-hat over the weights, the intercept and σ (when sampled) at each ``α``.
    min_ess_bulk : ndarray, shape (n_alphas,)
        Smallest bulk ESS over the same variables.
    divergences : ndarray of int, shape (n_alphas,)
        Divergent transitions after warmup, all chains.
    mixture : ndarray of bool, shape (n_alphas,)
        Whether the Laplace prior was sampled as a normal–exponential scale mixture at that ``α``.
    coef_draws : ndarray, shape (n_alphas, n_chains, n_samples, n_features)
        The posterior draws of the weights.
    hdi_prob : float
        Mass of the HDIs (`posterior_path`'s ``hdi_prob``: `bayesreg.defaults.HDI_PROB` unless given).

    Examples
    --------
    `posterior_path` returns one; its fields:

    >>> from bayesreg.path import PosteriorPath
    >>> PosteriorPath._fields[:5]
    ('alphas', 'map', 'median', 'hdi_low', 'hdi_high')
    """

    alphas: np.ndarray
    map: MAPPath
    median: np.ndarray
    hdi_low: np.ndarray
    hdi_high: np.ndarray
    r_hat: np.ndarray
    ess_bulk: np.ndarray
    max_r_hat: np.ndarray
    min_ess_bulk: np.ndarray
    divergences: np.ndarray
    mixture: np.ndarray
    coef_draws: np.ndarray
    hdi_prob: float


def _sample_grid(
    model,
    args,
    priors,
    kwargs,
    *,
    seed,
    num_chains,
    num_warmup,
    num_samples,
    mass_matrix,
    target_accept,
    max_tree_depth,
    progress_bar,
    laplace_mixture,
    modes=None,
) -> Chains:
    """NUTS for every (α, chain) on the engine's chains driver: chain ``i·num_chains + c`` samples the
    model under the prior of α number ``i`` (``priors``: one `Prior` whose leaves have shape
    (n_alphas,)); dispatched, not waited for. The chains sample rescaled weights
    (`~bayesreg.sampling.Preconditioning`, an exact change of variables) and their draws are mapped
    back to the original columns. With ``modes`` (the MAP of each α: ``coef`` of shape (n_alphas,
    n_features) and, with an intercept, ``intercept`` of shape (n_alphas,)) the chains of α number
    ``i`` start from the Laplace approximation at its MAP, as `~bayesreg.fit_posterior`'s do."""
    n_alphas = jax.tree.leaves(priors)[0].shape[0]
    pre = Preconditioning.of(model, args, kwargs)
    per_chain = jax.tree.map(lambda leaf: np.repeat(leaf, num_chains), priors)
    if pre is not None:  # each chain's prior of z, leaves (chains, 1) broadcast against the scales
        per_chain = pre.prior(jax.tree.map(lambda leaf: leaf[:, None], per_chain))
    if modes is not None:
        # coef and intercept have real support: their unconstrained values are the values themselves
        modes = {k: np.repeat(np.asarray(v, dtype=np.float64), num_chains, axis=0) for k, v in modes.items()}
        modes = modes if pre is None else pre.to_sampled(modes)
    with jax.enable_x64(True):
        keys = jax.random.split(jax.random.PRNGKey(seed), n_alphas * num_chains)
        sampled_args = args if pre is None else as_arrays(pre.data(args))
        chains = sample_chains(
            model,
            keys,
            sampled_args,
            as_arrays(kwargs),
            as_arrays({"prior": per_chain}),
            num_chains=n_alphas * num_chains,
            num_warmup=num_warmup,
            num_samples=num_samples,
            mass_matrix=mass_matrix,
            target_accept=target_accept,
            max_tree_depth=max_tree_depth,
            laplace_mixture=laplace_mixture,
            progress_bar=progress_bar,
            modes=None if modes is None else as_arrays(modes),
        )
        return chains if pre is None else chains._replace(draws=pre.to_original(chains.draws))


def posterior_path(
    X: ArrayLike,
    y: ArrayLike,
    alphas: ArrayLike,
    *,
    prior: PriorKind = "laplace",
    l1_ratio: float = L1_RATIO,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma=None,
    standardize: bool = False,
    scaling: Standardization | None = None,
    offset: ArrayLike | None = None,
    dispersion: float | None = None,
    df: float | None = None,
    hdi_prob: float = HDI_PROB,
    num_warmup: int = PATH_NUTS.num_warmup,
    num_samples: int = PATH_NUTS.num_samples,
    num_chains: int = PATH_NUTS.num_chains,
    seed: int = 0,
    laplace_parametrisation: Literal["auto", "direct", "mixture"] = "auto",
    mass_matrix: Literal["auto", "dense", "diagonal"] = MASS_MATRIX,
    target_accept: float = TARGET_ACCEPT,
    max_tree_depth: int = MAX_TREE_DEPTH,
    progress_bar: bool | None = None,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> PosteriorPath:
    """The posterior at each penalty strength of a grid (NUTS), next to the MAP path.

    At each ``α`` the model is that of `map_path` — the family's likelihood with the prior
    `prior_from_penalty(prior, α, ...)` on the weights and a flat intercept — whose MAP minimises
    the penalised objective, e.g. ``(1/2n)‖y − Xw − b‖² + α‖w‖₁`` (Lasso) under the scikit-learn
    convention, or half the mean Poisson deviance plus the penalty under glum's. NUTS samples its
    posterior; the MAP column is `map_path` on the same arguments. The posterior keeps width where
    the MAP is exactly 0.

    The count and Student-t families hold the likelihood's own parameters fixed along the grid, as
    `map_path` does (the negative binomial's ``dispersion``, the Student-t's ``df`` and ``sigma``),
    and their chains start as `~bayesreg.fit_posterior`'s do: at a draw from the Laplace
    approximation at each ``α``'s MAP, with its covariance as the initial inverse mass matrix (from
    a uniform start a log link can overflow on unscaled columns). At each ``α`` this is the
    posterior `~bayesreg.fit_posterior` samples for the model with that ``α``'s prior (the test
    suite compares the two within their Monte Carlo standard errors); the keys differ, so the draws
    are not the same ones. The linear and logistic chains start uniformly in (-2, 2).

    All grid points and chains run in one call of the engine's chains driver
    (`~bayesreg.engine.chains.sample_chains`, which `~bayesreg.sample_posterior` runs on too): one
    after another on a CPU, where XLA compiles each chain's NUTS loop into one kernel under
    `~bayesreg.engine.SMALL_LOOPS_XLA_FLAG`, and vectorised elsewhere (then the chains of all
    ``α`` advance in lockstep, so a step costs as much as the longest trajectory among them). It
    compiles once per model, settings and grid size; a new grid of the same size or new data of the
    same shape reuses it. Measured on the diabetes data (442 × 10, Laplace prior, σ sampled, 2 CPU
    cores, with the flag): a 12-point grid with 4 chains × (200 + 200) steps took 10.8 s in its first
    call and 4.0 s in the next (vectorised: 20.6 s and 8.0 s).
    Keep grids small (~20 points, a few hundred draws): every ``α`` is a full NUTS run.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features), or SufficientStats
        The rows, or for ``family="gaussian"`` their `~bayesreg.models.SufficientStats` (centred
        where ``fit_intercept``; then ``y`` is None and ``standardize`` False), as `map_path` takes
        them: each ``α``'s chains then cost nothing in ``n`` (`bayesreg.large` computes the
        statistics in one pass over data that do not fit in memory).
    y : array_like, shape (n_samples,)
    alphas : array_like, shape (n_alphas,)
        Penalty strengths (> 0), e.g. ``alpha_grid(X, y, n_alphas=20)``.
    prior, l1_ratio, family, convention, fit_intercept
        As in `map_path`.
    sigma : float, numpyro Distribution or None
        Noise sd of the linear model: a number fixes it; a distribution (positive support) is its
        prior; None (the default) samples it, with an exponential prior of mean ``std(y)`` (as
        `bayesreg.BayesianLinearRegression` does; from centred statistics, ``√(yᵀy/n)``, the same
        number; uncentred statistics do not hold it: give the prior). A sampled σ leaves the MAP
        path at σ = 1, which is the penalised estimate under ``convention="sklearn"`` whatever σ
        is (the prior is conditional on σ). ``convention="book"`` with ``family="gaussian"`` needs
        a fixed ``sigma``; so does ``family="student_t"`` (its scale). Ignored for the other
        families.
    standardize : bool
        Sample the model of the standardised columns (the prior on their weights, as in
        `map_path`) and summarise the draws mapped to the original columns: each weight's draws
        divided by its column's sd (positive, so medians and HDIs are divided by it too, and the
        rank-based R-hat and ESS of a weight are unchanged but for round-off), the intercept's draws
        shifted draw by draw.
    scaling : Standardization, optional
        With `SufficientStats` of standardised columns in place of ``X`` (which carry no rows to
        standardise): the `~bayesreg.scaling.Standardization` they were made with
        (`bayesreg.large.DaskMoments.standardization`), through which the MAPs and draws are mapped
        to the original columns as ``standardize`` maps them.
    offset, dispersion, df
        As in `map_path`: the count families' offset (log exposure), the negative binomial's fixed
        dispersion and the Student-t's fixed degrees of freedom.
    hdi_prob : float in (0, 1)
        Mass of the highest-density intervals (default `bayesreg.defaults.HDI_PROB`).
    num_warmup, num_samples, num_chains : int
        NUTS settings, per ``α`` (defaults `bayesreg.defaults.PATH_NUTS`: shorter runs than one
        posterior's, since every ``α`` is a whole run).
    seed : int
        Seed of the sampler (the same seed and settings give the same draws).
    laplace_parametrisation : {"auto", "direct", "mixture"}
        How a Laplace prior is sampled (as in the estimators): its density directly, or as a
        non-centred normal–exponential scale mixture (`bayesreg.LaplaceScaleMixture`). ``"auto"``
        samples directly and, if any ``α`` had a divergence, the whole grid again with the mixture
        (a second compilation), keeping at each ``α`` the run with fewer divergences
        (`~bayesreg.engine.chains.fall_back_to_mixture`).
    mass_matrix : {"auto", "dense", "diagonal"}
        The mass matrix NUTS adapts during warmup, at every ``α``: ``"auto"`` is dense for at most
        20 unconstrained parameters, diagonal above (as in `~bayesreg.sample_posterior`).
    target_accept : float in (0, 1)
        The mean acceptance probability NUTS's step size adapts to, at every ``α`` (default
        `bayesreg.defaults.TARGET_ACCEPT`; raise it against divergences).
    max_tree_depth : int in [1, 15]
        The most doublings of a NUTS trajectory, at every ``α`` (default
        `bayesreg.defaults.MAX_TREE_DEPTH`).
    progress_bar : bool, optional
        Show the sampling progress on stderr (default: when stderr is a terminal).
    tol, max_steps
        Passed to `map_path`.

    Returns
    -------
    PosteriorPath

    Raises
    ------
    ValueError
        For the arguments `map_path` refuses, a setting outside its constraint in
        `bayesreg.params.CONSTRAINTS` (the same message as from every other entry point), or the
        book convention of a linear model without ``sigma``.

    Examples
    --------
    Two ``α`` and two short chains each (50 warmup steps, 50 draws), σ sampled: the weight that
    the lasso sets exactly to 0 at both keeps a posterior whose 94% HDI straddles 0:

    >>> import numpy as np
    >>> from bayesreg.path import posterior_path
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> path = posterior_path(X, y, [1.0, 0.1], num_warmup=50, num_samples=50, num_chains=2, seed=0,
    ...                       progress_bar=False)
    >>> path.median.shape, path.coef_draws.shape, path.hdi_prob
    ((2, 3), (2, 2, 50, 3), 0.94)
    >>> straddles = (path.hdi_low[:, 1] < 0) & (path.hdi_high[:, 1] > 0)
    >>> bool(np.all(path.map.coefs[:, 1] == 0)), bool(np.all(straddles))
    (True, True)
    """
    sigma_prior = sigma if isinstance(sigma, dist.Distribution) else None
    model_settings = {
        "prior": prior,
        "family": family,
        "convention": convention,
        "fit_intercept": fit_intercept,
        "sigma": None if sigma_prior is not None else sigma,
        "standardize": standardize,
        "hdi_prob": hdi_prob,
        "laplace_parametrisation": laplace_parametrisation,
    }
    checked = check_params(model_settings, MODEL_CONSTRAINTS).values()
    prior, family, convention, fit_intercept, sigma, standardize, hdi_prob, laplace_parametrisation = checked
    stats = _statistics(X, y, family, standardize)
    if scaling is not None and stats is None:
        raise ValueError(
            "scaling applies to SufficientStats in place of X; standardise rows by standardize=True"
        )
    if sigma_prior is not None and family != "gaussian":
        raise ValueError(f"a prior for sigma applies to family='gaussian', not {family!r}")
    if standardize:
        X, y, scaling = _standardized(X, y, family, fit_intercept)
    sampler = {
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "num_chains": num_chains,
        "seed": seed,
        "mass_matrix": mass_matrix,
        "target_accept": target_accept,
        "max_tree_depth": max_tree_depth,
    }
    sampler = check_params(sampler)
    alphas, X, y, model, args, kwargs = _setup(
        X, y, alphas, prior=prior, family=family, convention=convention, fit_intercept=fit_intercept
    )
    likelihood = {"offset": offset, "dispersion": dispersion, "df": df}
    if family == "gaussian":
        if sigma is None and convention == "book":
            raise ValueError(
                "convention='book' with family='gaussian' needs a fixed sigma: the book objective "
                "NLL + penalty divides the squared error by sigma^2"
            )
        if sigma is None and sigma_prior is None and stats is not None and not fit_intercept:
            raise ValueError(
                "sigma=None with uncentred SufficientStats (fit_intercept=False): they do not hold the "
                "target's sd, the scale of sigma's default prior; give sigma or its prior"
            )
        if sigma is not None:
            kwargs["sigma"] = sigma
        elif sigma_prior is not None:
            kwargs["sigma"] = sigma_prior
        else:
            centred_sd = None if stats is None else float(np.sqrt(stats.yty / stats.n))
            kwargs["sigma"] = noise_prior(y) if stats is None else noise_prior(sd=centred_sd)
    elif family == "student_t" and sigma is None:
        raise ValueError(
            "family='student_t' needs a fixed sigma for a path: its scale is held fixed along the grid, "
            "as df is (fit it first to estimate both)"
        )
    if family in _GLM_MODELS:
        kwargs.update(_likelihood(family, X, y, **likelihood, sigma=sigma))
    map_sigma = 1.0 if sigma is None else sigma
    penalised = map_path(
        X,
        y,
        alphas,
        prior=prior,
        l1_ratio=l1_ratio,
        family=family,
        convention=convention,
        fit_intercept=fit_intercept,
        sigma=map_sigma,
        **likelihood,
        tol=tol,
        max_steps=max_steps,
    )
    n = int(X.n) if isinstance(X, SufficientStats) else X.shape[0]
    priors = [
        prior_from_penalty(
            prior, float(a), l1_ratio=l1_ratio, convention=convention, family=family, n_samples=n
        )
        for a in alphas
    ]
    stacked = jax.tree.map(lambda *leaves: np.asarray(leaves, dtype=np.float64), *priors)
    settings = {
        **sampler,
        "progress_bar": bool(sys.stderr.isatty() if progress_bar is None else progress_bar),
    }
    num_chains = sampler["num_chains"]
    laplace = prior == "laplace"

    modes = None
    if family in _GLM_MODELS:  # from each α's MAP, as fit_posterior's chains start
        modes = {"coef": penalised.coefs}
        if fit_intercept:
            modes["intercept"] = penalised.intercepts

    def run(laplace_mixture: bool) -> Chains:
        start = None if laplace_mixture else modes  # the mixture's sites have no MAP: a uniform start
        return _sample_grid(
            model, args, stacked, kwargs, laplace_mixture=laplace_mixture, modes=start, **settings
        )

    sampled = run(laplace and laplace_parametrisation == "mixture")
    if laplace and laplace_parametrisation == "auto":
        # where the kink of the Laplace density at 0 made NUTS diverge: the scale mixture
        sampled = fall_back_to_mixture(sampled, lambda: run(True), group_size=num_chains)
    sampled = sampled.wait()
    draws = {
        k: np.asarray(v).reshape(alphas.size, num_chains, *np.shape(v)[1:]) for k, v in sampled.draws.items()
    }
    divergences = np.asarray(sampled.stats["diverging"]).reshape(alphas.size, -1).sum(axis=1)
    mixture = sampled.mixture.reshape(alphas.size, num_chains)[:, 0]
    if scaling is not None:
        coefs, intercepts = scaling.to_original(penalised.coefs, penalised.intercepts)
        penalised = penalised._replace(coefs=coefs, intercepts=intercepts)
        coef, intercept = scaling.to_original(draws["coef"], draws.get("intercept", 0.0))
        draws["coef"] = coef
        if "intercept" in draws:
            draws["intercept"] = intercept
    return _summarise(alphas, penalised, draws, divergences, mixture, hdi_prob)


def _summarise(alphas, penalised, draws, divergences, mixture, hdi_prob) -> PosteriorPath:
    """Per α and weight: median, HDI, R-hat, bulk ESS (ArviZ); per α: the worst R-hat and ESS."""
    import arviz as az
    import xarray as xr

    dims = {"coef": ("alpha", "chain", "draw", "feature"), "intercept": ("alpha", "chain", "draw")}
    dims["sigma"] = dims["intercept"]
    data = xr.Dataset({k: (dims[k], draws[k]) for k in dims if k in draws})
    hdi = az.hdi(data[["coef"]], hdi_prob=hdi_prob)["coef"].to_numpy()  # (n_alphas, p, 2)
    r_hat, ess = az.rhat(data), az.ess(data, method="bulk")

    def worst(stat, reduce):
        per_variable = [reduce(stat[k].to_numpy().reshape(alphas.size, -1), axis=1) for k in stat.data_vars]
        return reduce(np.stack(per_variable), axis=0)

    coef = draws["coef"]
    return PosteriorPath(
        alphas=alphas,
        map=penalised,
        median=np.median(coef, axis=(1, 2)),
        hdi_low=hdi[..., 0],
        hdi_high=hdi[..., 1],
        r_hat=r_hat["coef"].to_numpy(),
        ess_bulk=ess["coef"].to_numpy(),
        max_r_hat=worst(r_hat, np.max),
        min_ess_bulk=worst(ess, np.min),
        divergences=np.asarray(divergences, dtype=int),
        mixture=np.asarray(mixture, dtype=bool),
        coef_draws=coef,
        hdi_prob=hdi_prob,
    )
