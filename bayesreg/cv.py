"""The penalty strength that k-fold cross-validation picks, and the MAP there.

`cv_alpha` computes, on each training part of a k-fold split, the exact MAP path
(`bayesreg.path.map_path`) over one grid of penalty strengths, scores each point of the path on the
held-out part, and refits the MAP on all rows at the best ``α``. Folds, grid and score are
scikit-learn's, so the chosen value is the one of its cross-validated estimators on the same data:

==================================  ==========================  ==============================  =========
prior, family                       scikit-learn                grid (default)                  score
==================================  ==========================  ==============================  =========
laplace, gaussian                   ``LassoCV()``               100 α from `alpha_max`, eps 1e-3  MSE
elasticnet, gaussian                ``ElasticNetCV()``          the same for ``l1_ratio``       MSE
gaussian, gaussian                  ``RidgeCV(cv=KFold(5))``    α in (0.1, 1, 10)               R²
gaussian / laplace, bernoulli       ``LogisticRegressionCV()``  10 C in logspace(-4, 4)         accuracy
==================================  ==========================  ==============================  =========

Folds: ``KFold(5)`` (unshuffled) for the linear model, ``StratifiedKFold(5)`` for the logistic one
(scikit-learn's ``check_cv``). The MAP on each fold is exact (homotopy for the lasso, proximal Newton
to ``tol`` otherwise), so its curve of scores can differ from scikit-learn's, whose coordinate
descent stops at a duality gap, in the last digits: where two grid points score within that noise,
the two may pick different neighbours.
"""

from __future__ import annotations

import warnings
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score
from sklearn.model_selection import check_cv

from bayesreg.data import check_xy
from bayesreg.defaults import CV_FOLDS, EPS, L1_RATIO, N_ALPHAS, N_CS, RIDGE_ALPHAS
from bayesreg.params import check_param, check_params
from bayesreg.path import MAPPath, alpha_grid, map_path
from bayesreg.priors import Family, Prior, PriorKind, prior_from_penalty

__all__ = ["CVResult", "cv_alpha"]

Scoring = Literal["mse", "r2", "accuracy", "log_loss"]

# each score: the function of scikit-learn that computes it from (y_true, prediction), and whether
# larger is better
_SCORES = {
    "mse": (mean_squared_error, False),
    "r2": (r2_score, True),
    "accuracy": (accuracy_score, True),
    "log_loss": (log_loss, False),
}
_FAMILY_SCORES = {"gaussian": ("mse", "r2"), "bernoulli": ("accuracy", "log_loss")}


class CVResult(NamedTuple):
    """What `cv_alpha` returns.

    Attributes
    ----------
    alpha : float
        The chosen penalty strength (scikit-learn's convention; ``1/C`` for the logistic model).
    C : float or None
        ``1/alpha``, scikit-learn's ``LogisticRegressionCV.C_``, for ``family="bernoulli"``; else None.
    alphas : ndarray, shape (n_alphas,)
        The grid, decreasing (for the logistic model ``1/Cs`` with ``Cs`` increasing).
    scores : ndarray, shape (n_alphas, n_folds)
        The score of each grid point on each held-out fold (``LassoCV.mse_path_``).
    mean_score, sd_score : ndarray, shape (n_alphas,)
        Their mean and standard deviation (``ddof=0``) over the folds.
    scoring : str
        ``"mse"``, ``"r2"``, ``"accuracy"`` or ``"log_loss"``.
    best_index : int
        Where ``alphas[best_index] == alpha``: the best mean score, the first (largest ``α``) of ties.
    converged : ndarray of bool, shape (n_alphas, n_folds)
        Whether each fold's MAP reached its tolerance.
    prior : Prior
        The prior whose MAP is the penalised fit at ``alpha`` (`bayesreg.priors.prior_from_penalty`).
    coef : ndarray, shape (n_features,)
        The MAP on all rows at ``alpha`` (exact zeros for L1 and elastic net).
    intercept : float
        Its intercept (0.0 without ``fit_intercept``).
    refit : MAPPath
        The refit as `bayesreg.path.map_path` returned it (one grid point; its convergence flag).
    folds : list of (ndarray, ndarray)
        The (train, test) row indices of each fold.

    Examples
    --------
    >>> from bayesreg.cv import CVResult
    >>> CVResult._fields[:4]
    ('alpha', 'C', 'alphas', 'scores')
    """

    alpha: float
    C: float | None
    alphas: np.ndarray
    scores: np.ndarray
    mean_score: np.ndarray
    sd_score: np.ndarray
    scoring: str
    best_index: int
    converged: np.ndarray
    prior: Prior
    coef: np.ndarray
    intercept: float
    refit: MAPPath
    folds: list


def _grid(X, y, prior, l1_ratio, family, fit_intercept, alphas, Cs, n_alphas, eps) -> np.ndarray:
    """The decreasing grid of α: given, from ``Cs``, or each counterpart's default."""
    if Cs is not None and family != "bernoulli":
        raise ValueError("Cs is the grid of the logistic model (family='bernoulli'); use alphas")
    if Cs is not None and alphas is not None:
        raise ValueError("give either alphas or Cs, not both")
    if family == "bernoulli" and alphas is None:
        Cs = N_CS if Cs is None else Cs
        Cs = np.logspace(-4, 4, int(Cs)) if np.ndim(Cs) == 0 else np.asarray(Cs, dtype=float)
        if np.any(~np.isfinite(Cs) | (Cs <= 0)):
            raise ValueError("Cs must be positive finite numbers")
        alphas = 1.0 / Cs
    elif alphas is None and prior == "gaussian":
        alphas = RIDGE_ALPHAS
    elif alphas is None:
        settings = {"prior": prior, "l1_ratio": l1_ratio, "fit_intercept": fit_intercept}
        return alpha_grid(X, y, n_alphas=n_alphas, eps=eps, **settings)
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas) & (alphas > 0)):
        raise ValueError("alphas must be a non-empty 1-d array of positive finite numbers")
    return np.sort(alphas)[::-1]


def _predict(path: MAPPath, X: np.ndarray, family: str, scoring: str) -> np.ndarray:
    """Predictions on held-out rows at every grid point, shape (n_alphas, n_test): the linear
    predictor, the class (1 where the log-odds are > 0, as ``LogisticRegression.predict``) or the
    probability of class 1."""
    eta = path.coefs @ X.T + path.intercepts[:, None]
    if family == "gaussian":
        return eta
    return (eta > 0).astype(float) if scoring == "accuracy" else expit(eta)


def cv_alpha(
    X: ArrayLike,
    y: ArrayLike,
    *,
    prior: PriorKind = "laplace",
    l1_ratio: float = L1_RATIO,
    family: Family = "gaussian",
    alphas: ArrayLike | None = None,
    Cs: int | ArrayLike | None = None,
    n_alphas: int = N_ALPHAS,
    eps: float = EPS,
    cv=CV_FOLDS,
    scoring: Scoring | None = None,
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> CVResult:
    """The penalty strength that k-fold cross-validation picks, and the MAP at it.

    For each fold ``k`` with training rows ``T_k`` and held-out rows ``V_k`` the MAP path
    ``ŵ_k(α)`` over the grid is computed on ``T_k`` only; for the lasso

    .. math::

        \\hat w_k(\\alpha) = \\arg\\min_{w, b}\\ \\frac{1}{2|T_k|}\\sum_{i\\in T_k}(y_i - x_i^\\top w - b)^2
            + \\alpha\\lVert w\\rVert_1,

    (Ridge, ElasticNet and LogisticRegression objectives for the other settings, as in
    `bayesreg.path.map_path`). Its score on ``V_k`` (e.g. the mean squared error
    ``(1/|V_k|)Σ_{i∈V_k}(y_i − x_iᵀŵ_k − b̂_k)²``) is averaged over the folds, and the chosen
    ``α`` is the grid point with the best mean (the first, i.e. largest ``α``, of exact ties, as
    scikit-learn's ``argmin`` / ``argmax`` over its ordering). The MAP on all rows at that ``α``
    is the returned fit.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Targets, or two-class labels for ``family="bernoulli"``.
    prior : {"laplace", "gaussian", "elasticnet"}
        L1, L2 or elastic-net penalty (the logistic counterpart of ``"gaussian"`` is
        ``LogisticRegressionCV()``'s L2 penalty).
    l1_ratio : float in (0, 1)
        Share of the L1 term for ``prior="elasticnet"``.
    family : {"gaussian", "bernoulli"}
        Linear or logistic regression.
    alphas : array_like, shape (n_alphas,), optional
        The grid (> 0; for the logistic model ``α = 1/C``). Default: `bayesreg.path.alpha_grid`
        (``n_alphas`` points down to ``eps·alpha_max``) for L1 and elastic net,
        `~bayesreg.defaults.RIDGE_ALPHAS` for
        the linear model's L2 penalty, ``1/Cs`` for the logistic model.
    Cs : int or array_like, optional
        The logistic model's grid as ``C`` values, or their number in ``logspace(-4, 4, Cs)``
        (default `~bayesreg.defaults.N_CS`), as ``LogisticRegressionCV(Cs=...)``.
    n_alphas, eps
        The default L1 / elastic-net grid (`bayesreg.path.alpha_grid`).
    cv : int, cross-validation splitter or iterable of (train, test)
        As scikit-learn's ``cv``: an int is ``KFold(cv)`` for the linear model and
        ``StratifiedKFold(cv)`` for the logistic one, neither shuffled.
    scoring : {"mse", "r2", "accuracy", "log_loss"}, optional
        What is scored on the held-out rows (``"mse"`` / ``"r2"`` for the linear model, ``"accuracy"``
        / ``"log_loss"`` for the logistic one). Default: the counterpart's, ``"mse"`` for L1 and
        elastic net (``LassoCV``), ``"r2"`` for the L2 penalty (``RidgeCV``'s ``score``),
        ``"accuracy"`` for the logistic model (``LogisticRegressionCV``'s ``scoring=None``).
    fit_intercept : bool
        Fit an unpenalised intercept (each fold's own).
    tol, max_steps
        As in `bayesreg.path.map_path`, for every fold and the refit.

    Returns
    -------
    CVResult

    Raises
    ------
    ValueError
        For a setting outside its constraint, a grid that is not positive, a scoring that does not
        fit the family, or a fold without rows.

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        Once, when any fold's MAP or the refit did not reach ``tol`` (``converged`` says where).

    Examples
    --------
    On the diabetes data the lasso's choice is ``LassoCV()``'s:

    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import LassoCV
    >>> from bayesreg.cv import cv_alpha
    >>> X, y = load_diabetes(return_X_y=True)
    >>> result = cv_alpha(X, y)
    >>> reference = LassoCV().fit(X, y)
    >>> result.scores.shape, bool(np.isclose(result.alpha, reference.alpha_, rtol=1e-12))
    ((100, 5), True)
    >>> int((result.coef == 0).sum())  # weights the refit MAP sets exactly to 0
    1
    """
    settings = {
        "prior": prior,
        "family": family,
        "fit_intercept": fit_intercept,
        "n_alphas": n_alphas,
        "eps": eps,
        "tol": tol,
        "max_steps": max_steps,
    }
    prior, family, fit_intercept, n_alphas, eps, tol, max_steps = check_params(settings).values()
    if scoring is None:
        scoring = {"gaussian": "r2" if prior == "gaussian" else "mse", "bernoulli": "accuracy"}[family]
    scoring = check_param("scoring", scoring)
    if scoring not in _FAMILY_SCORES[family]:
        expected = ", ".join(_FAMILY_SCORES[family])
        raise ValueError(f"unknown scoring {scoring!r} for family={family!r}; expected one of {expected}")
    checked = check_xy(X, y, family)
    X, y = checked.X, checked.y
    grid = _grid(X, y, prior, l1_ratio, family, fit_intercept, alphas, Cs, n_alphas, eps)
    splitter = check_cv(cv, y, classifier=family == "bernoulli")
    folds = [(np.asarray(train), np.asarray(test)) for train, test in splitter.split(X, y)]
    if any(train.size == 0 or test.size == 0 for train, test in folds):
        raise ValueError("every fold needs training and held-out rows")
    score, larger_is_better = _SCORES[scoring]
    path_settings = {
        "prior": prior,
        "l1_ratio": l1_ratio,
        "family": family,
        "fit_intercept": fit_intercept,
        "tol": tol,
        "max_steps": max_steps,
    }
    scores = np.empty((grid.size, len(folds)))
    converged = np.empty((grid.size, len(folds)), dtype=bool)
    with warnings.catch_warnings():  # one warning below for the whole run, not one per fold
        warnings.simplefilter("ignore", ConvergenceWarning)
        for k, (train, test) in enumerate(folds):
            path = map_path(X[train], y[train], grid, **path_settings)
            predicted = _predict(path, X[test], family, scoring)
            if scoring == "log_loss":
                scores[:, k] = [score(y[test], pred, labels=[0.0, 1.0]) for pred in predicted]
            else:
                scores[:, k] = [score(y[test], pred) for pred in predicted]
            converged[:, k] = path.converged
        mean = scores.mean(axis=1)
        best = int(np.argmax(mean) if larger_is_better else np.argmin(mean))
        refit = map_path(X, y, grid[best : best + 1], **path_settings)
    if not (converged.all() and refit.converged.all()):
        warnings.warn(
            f"the MAP did not reach tol={tol:g} on {int((~converged).sum())} of {converged.size} "
            f"(alpha, fold) pairs, refit converged: {bool(refit.converged.all())}; raise max_steps",
            ConvergenceWarning,
            stacklevel=2,
        )
    alpha = float(grid[best])
    return CVResult(
        alpha=alpha,
        C=1.0 / alpha if family == "bernoulli" else None,
        alphas=grid,
        scores=scores,
        mean_score=mean,
        sd_score=scores.std(axis=1),
        scoring=scoring,
        best_index=best,
        converged=converged,
        prior=prior_from_penalty(prior, alpha, l1_ratio=l1_ratio, family=family, n_samples=X.shape[0]),
        coef=refit.coefs[0],
        intercept=float(refit.intercepts[0]),
        refit=refit,
        folds=folds,
    )
