"""Regularisation paths: the MAP over a grid of penalty strengths.

`map_path` runs `bayesreg.map_estimate` at each ``α`` of a grid, each fit starting from the previous
solution (a warm start). All fits have the same shapes and the penalty strength is a traced value,
so the solver is compiled once for the whole grid. Under ``convention="sklearn"`` and
``family="gaussian"`` the Laplace and elastic-net paths are scikit-learn's ``lasso_path`` /
``enet_path`` (with an unpenalised intercept when ``fit_intercept``), the Gaussian path is ``Ridge`` at
each ``α``; with ``family="bernoulli"``, ``α = 1/C`` of ``LogisticRegression``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

from bayesreg.data import check_finite, check_target
from bayesreg.inference import map_estimate
from bayesreg.models import SufficientStats, linear_regression_stats, logistic_regression
from bayesreg.priors import (
    CONVENTIONS,
    FAMILIES,
    PRIOR_KINDS,
    Convention,
    Family,
    PriorKind,
    prior_from_penalty,
)

__all__ = ["MAPPath", "alpha_grid", "alpha_max", "map_path"]


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
        Proximal Newton steps taken at each ``α``.
    converged : ndarray of bool, shape (n_alphas,)
        Whether each fit reached its tolerance.
    """

    alphas: np.ndarray
    coefs: np.ndarray
    intercepts: np.ndarray
    num_steps: np.ndarray
    converged: np.ndarray


def _check(choice, name, value):
    if value not in choice:
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(choice)}")


def _prepare(X, y, family):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-d (n_samples, n_features), got shape {X.shape}")
    check_finite(X)
    y, _ = check_target(y, family)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
    return X, y


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
    l1_ratio: float = 0.5,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
) -> float:
    """The smallest ``α`` at which every weight of the L1 / elastic-net MAP is exactly 0.

    At ``w = 0`` (with the intercept at its optimum) the MAP is zero iff ``|∂ⱼJ(0)| ≤ λ₁(α)`` for
    every ``j``, so ``α_max = max_j |∂ⱼJ(0)| / λ₁(1)``: for scikit-learn's Lasso this is
    ``max|Xcᵀyc| / n``, for ElasticNet the same divided by ``l1_ratio``.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    prior : {"laplace", "elasticnet"}
    l1_ratio, family, convention, fit_intercept, sigma
        As in `map_path`.

    Returns
    -------
    float
    """
    _check(PRIOR_KINDS, "prior", prior)
    if prior == "gaussian":
        raise ValueError("an L2 (gaussian) penalty never sets weights exactly to 0: there is no alpha_max")
    _check(FAMILIES, "family", family)
    X, y = _prepare(X, y, family)
    if family == "gaussian":
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
    n_alphas: int = 100,
    eps: float = 1e-3,
    prior: PriorKind = "laplace",
    l1_ratio: float = 0.5,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
) -> np.ndarray:
    """``n_alphas`` values from `alpha_max` down to ``eps · alpha_max``, log-spaced (as scikit-learn).

    Returns
    -------
    ndarray, shape (n_alphas,)
        Decreasing: the order in which warm starts work best.
    """
    top = alpha_max(
        X,
        y,
        prior=prior,
        l1_ratio=l1_ratio,
        family=family,
        convention=convention,
        fit_intercept=fit_intercept,
        sigma=sigma,
    )
    return np.geomspace(top, top * eps, int(n_alphas))


def map_path(
    X: ArrayLike,
    y: ArrayLike,
    alphas: ArrayLike,
    *,
    prior: PriorKind = "laplace",
    l1_ratio: float = 0.5,
    family: Family = "gaussian",
    convention: Convention = "sklearn",
    fit_intercept: bool = True,
    sigma: float = 1.0,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> MAPPath:
    """The MAP at each penalty strength of a grid, with warm starts and one compilation.

    At each ``α`` this is `bayesreg.map_estimate` of the linear model (through its sufficient
    statistics) or the logistic model, with the prior `prior_from_penalty(prior, α, ...)`, started
    from the solution at the previous ``α`` (the first from zeros).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Targets, or two-class labels for ``family="bernoulli"``.
    alphas : array_like, shape (n_alphas,)
        Penalty strengths (> 0), computed in the order given: decreasing is fastest (see
        `alpha_grid`).
    prior : {"laplace", "gaussian", "elasticnet"}
        L1, L2 or elastic-net penalty.
    l1_ratio : float in (0, 1)
        Share of the L1 term for ``prior="elasticnet"``.
    family : {"gaussian", "bernoulli"}
        Linear regression with noise sd ``sigma``, or logistic regression.
    convention : {"sklearn", "book"}
        How ``α`` maps to the prior (`bayesreg.priors`). With ``"sklearn"`` the Gaussian-family
        objectives are those of Lasso, Ridge and ElasticNet, whatever ``sigma`` is.
    fit_intercept : bool
        Fit an unpenalised intercept.
    sigma : float
        Fixed noise sd of the linear model.
    tol, max_steps
        Passed to `bayesreg.map_estimate` at each ``α``.

    Returns
    -------
    MAPPath

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        From `bayesreg.map_estimate`, for each ``α`` whose fit did not converge.
    """
    _check(PRIOR_KINDS, "prior", prior)
    _check(FAMILIES, "family", family)
    _check(CONVENTIONS, "convention", convention)
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ValueError("alphas must be a non-empty 1-d array of positive finite numbers")
    X, y = _prepare(X, y, family)
    n, p = X.shape
    with jax.enable_x64(True):
        if family == "gaussian":
            model = linear_regression_stats
            args = (SufficientStats.from_data(X, y, center=fit_intercept),)
            kwargs = {"fit_intercept": fit_intercept, "sigma": float(sigma)}
        else:
            model = logistic_regression
            args = (X, y)
            kwargs = {"fit_intercept": fit_intercept}
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), args)
    # the same pytree (and shapes) at every α, from the first fit on: one compilation
    init = {"coef": np.zeros(p)}
    if fit_intercept:
        init["intercept"] = np.zeros(())
    coefs, intercepts = np.zeros((alphas.size, p)), np.zeros(alphas.size)
    num_steps, converged = np.zeros(alphas.size, dtype=int), np.zeros(alphas.size, dtype=bool)
    for i, alpha in enumerate(alphas):
        penalty = prior_from_penalty(
            prior, float(alpha), l1_ratio=l1_ratio, convention=convention, family=family, n_samples=n
        )
        result = map_estimate(model, *args, prior=penalty, tol=tol, max_steps=max_steps, init=init, **kwargs)
        coefs[i] = result.params["coef"]
        intercepts[i] = result.params.get("intercept", 0.0)
        num_steps[i], converged[i] = result.num_steps, result.converged
        init = {k: result.params[k] for k in init}
    return MAPPath(alphas, coefs, intercepts, num_steps, converged)
