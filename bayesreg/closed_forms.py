"""The seeds' closed forms (DIGEST.md claims 2, 4, 5, 8–10, 14) as functions.

Notation: ``J(w)`` is the unregularised objective (a negative log-likelihood), ``w* = argmin J``,
``H`` the Hessian of ``J`` at ``w*``, ``α ≥ 0`` the penalty strength in the book's convention
(``J + α‖w‖₁``, ``J + (α/2)‖w‖²``), ``ε`` a learning rate.

The quadratic approximation ``Ĵ(w) = J(w*) + ½ (w − w*)ᵀ H (w − w*)`` is exact when ``J`` is the
negative log-likelihood of a linear-Gaussian model, so there the closed forms *are* the MAP; for a
logistic likelihood they are approximations whose error `diagonal_threshold_error` and the tests
measure. `quadratic_approximation` computes ``w*`` and ``H`` from the real model (its MAP under a flat
prior, and the Hessian of its negative log-likelihood), so that the closed forms can be compared with
`bayesreg.map_estimate`.

All functions take and return float64 NumPy arrays, except `weight_decay_step`, which is written in
array operators only and so also works on JAX arrays inside ``jax.jit``.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree
from numpy.typing import ArrayLike
from numpyro.infer.util import log_density

from bayesreg.engine.programs import program

__all__ = [
    # L2: the quadratic approximation and its eigen-decomposition (claims 4, 5)
    "EigenShrinkage",
    "eigen_shrinkage",
    "l2_quadratic_solution",
    "shrinkage_factors",
    # a diagonal Hessian: L1 soft threshold, L2 factor (claims 8–10)
    "l2_diagonal_factor",
    "l2_diagonal_solution",
    "soft_threshold_diagonal",
    # weight decay (claim 2)
    "weight_decay_step",
    # negative log-priors with their constants (claims 14, 15)
    "gaussian_neg_log_prior",
    "laplace_neg_log_prior",
    # the real model's w* and H, and how far the diagonal-H soft threshold is from the lasso
    "QuadraticApproximation",
    "ThresholdError",
    "diagonal_threshold_error",
    "quadratic_approximation",
]

Family = Literal["gaussian", "bernoulli"]


def _vector(x: ArrayLike, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"{name} must be 1-d (n_features,), got shape {x.shape}")
    return x


def _hessian(H: ArrayLike, p: int) -> np.ndarray:
    H = np.asarray(H, dtype=np.float64)
    if H.shape != (p, p):
        raise ValueError(f"hessian must have shape ({p}, {p}), got {H.shape}")
    return H


def _alpha(alpha: float, *, strict: bool = False) -> float:
    alpha = float(alpha)
    if not np.isfinite(alpha) or alpha < 0 or (strict and alpha == 0):
        bound = "> 0" if strict else ">= 0"
        raise ValueError(f"alpha must be a finite number {bound}, got {alpha!r}")
    return alpha


# ---------------------------------------------------------------------------------------- L2, full H


def l2_quadratic_solution(hessian: ArrayLike, w_star: ArrayLike, alpha: float) -> np.ndarray:
    """Minimiser of the quadratic approximation plus ``(α/2)‖w‖²``: ``w̃ = (H + αI)⁻¹ H w*``.

    Setting the gradient of ``J(w*) + ½(w − w*)ᵀH(w − w*) + (α/2)wᵀw`` to zero gives
    ``H(w − w*) + αw = 0`` (DIGEST claim 4).

    Parameters
    ----------
    hessian : array_like, shape (n_features, n_features)
        ``H``, symmetric positive semi-definite.
    w_star : array_like, shape (n_features,)
        The unregularised optimum ``w*``.
    alpha : float >= 0
        L2 penalty strength (book convention).

    Returns
    -------
    ndarray, shape (n_features,)
        ``w̃``; equal to ``w*`` when ``α = 0`` and ``H`` is invertible.

    Examples
    --------
    For a linear model (σ = 1) ``H = XᵀX`` and ``w*`` is least squares: ``w̃`` is ridge regression.

    >>> import numpy as np
    >>> from bayesreg.closed_forms import l2_quadratic_solution
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 2.5])
    >>> w_star = np.linalg.lstsq(X, y, rcond=None)[0]
    >>> w = l2_quadratic_solution(X.T @ X, w_star, alpha=1.0)
    >>> np.round(w, 6).tolist(), bool(np.allclose(w, np.linalg.solve(X.T @ X + np.eye(2), X.T @ y)))
    ([0.75, 1.25], True)
    """
    w_star = _vector(w_star, "w_star")
    H = _hessian(hessian, w_star.shape[0])
    alpha = _alpha(alpha)
    return np.linalg.solve(H + alpha * np.eye(w_star.shape[0]), H @ w_star)


def shrinkage_factors(eigenvalues: ArrayLike, alpha: float) -> np.ndarray:
    """The factors ``λᵢ / (λᵢ + α)`` by which L2 scales ``w*`` along each eigenvector of ``H``.

    Parameters
    ----------
    eigenvalues : array_like, shape (n,)
        Eigenvalues ``λᵢ >= 0`` of ``H``.
    alpha : float >= 0

    Returns
    -------
    ndarray, shape (n,)
        In ``[0, 1]``: near 0 where ``λᵢ ≪ α``, near 1 where ``λᵢ ≫ α`` (DIGEST claim 5).

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.closed_forms import shrinkage_factors
    >>> np.round(shrinkage_factors([0.01, 1.0, 100.0], alpha=1.0), 4).tolist()
    [0.0099, 0.5, 0.9901]
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    alpha = _alpha(alpha)
    return lam / (lam + alpha)


class EigenShrinkage(NamedTuple):
    """The decomposition ``w̃ = Q (Λ + αI)⁻¹ Λ Qᵀ w*`` of `eigen_shrinkage`.

    Attributes
    ----------
    eigenvalues : ndarray, shape (n_features,)
        ``λᵢ`` of ``H = QΛQᵀ``, ascending.
    eigenvectors : ndarray, shape (n_features, n_features)
        ``Q``, one eigenvector per column.
    factors : ndarray, shape (n_features,)
        ``λᵢ / (λᵢ + α)``.
    components : ndarray, shape (n_features,)
        ``Qᵀ w*``: the unregularised optimum along each eigenvector.
    shrunk_components : ndarray, shape (n_features,)
        ``factors · components = Qᵀ w̃``.
    solution : ndarray, shape (n_features,)
        ``w̃ = Q · shrunk_components``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.closed_forms import eigen_shrinkage
    >>> e = eigen_shrinkage([[2.0, 1.0], [1.0, 2.0]], [2.0, 0.0], alpha=1.0)
    >>> bool(np.allclose(e.shrunk_components, e.factors * e.components))
    True
    >>> bool(np.allclose(e.eigenvectors @ e.shrunk_components, e.solution))
    True
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    factors: np.ndarray
    components: np.ndarray
    shrunk_components: np.ndarray
    solution: np.ndarray


def eigen_shrinkage(hessian: ArrayLike, w_star: ArrayLike, alpha: float) -> EigenShrinkage:
    """``w̃`` through the eigen-decomposition ``H = QΛQᵀ``: ``w̃ = Q (Λ + αI)⁻¹ Λ Qᵀ w*``.

    Parameters
    ----------
    hessian : array_like, shape (n_features, n_features)
        ``H``, symmetric positive semi-definite (only its lower triangle is read, as by ``eigh``).
    w_star : array_like, shape (n_features,)
    alpha : float >= 0

    Returns
    -------
    EigenShrinkage

    Examples
    --------
    ``H`` has eigenvalues 1 and 3: with ``α = 1`` the two directions keep 1/2 and 3/4 of ``w*``.

    >>> import numpy as np
    >>> from bayesreg.closed_forms import eigen_shrinkage, l2_quadratic_solution
    >>> H, w_star = np.array([[2.0, 1.0], [1.0, 2.0]]), np.array([2.0, 0.0])
    >>> e = eigen_shrinkage(H, w_star, alpha=1.0)
    >>> e.eigenvalues.round(6).tolist(), e.factors.round(6).tolist(), e.solution.round(6).tolist()
    ([1.0, 3.0], [0.5, 0.75], [1.25, 0.25])
    >>> bool(np.allclose(e.solution, l2_quadratic_solution(H, w_star, alpha=1.0)))
    True
    """
    w_star = _vector(w_star, "w_star")
    H = _hessian(hessian, w_star.shape[0])
    lam, Q = np.linalg.eigh(H)
    factors = shrinkage_factors(lam, alpha)
    components = Q.T @ w_star
    shrunk = factors * components
    return EigenShrinkage(lam, Q, factors, components, shrunk, Q @ shrunk)


# ------------------------------------------------------------------------------------ diagonal H


def soft_threshold_diagonal(w_star: ArrayLike, hessian_diagonal: ArrayLike, alpha: float) -> np.ndarray:
    """The L1 solution when ``H`` is diagonal: ``wᵢ = sign(wᵢ*) · max(|wᵢ*| − α/Hᵢᵢ, 0)``.

    With a diagonal ``H`` the approximated objective separates into
    ``Σᵢ ½ Hᵢᵢ (wᵢ − wᵢ*)² + α|wᵢ|`` (DIGEST claims 8, 9): a weight with ``|wᵢ*| <= α/Hᵢᵢ`` is exactly
    0, any other moves toward 0 by ``α/Hᵢᵢ``.

    Parameters
    ----------
    w_star : array_like, shape (n_features,)
    hessian_diagonal : array_like, shape (n_features,)
        ``Hᵢᵢ > 0``.
    alpha : float >= 0
        L1 penalty strength (book convention).

    Returns
    -------
    ndarray, shape (n_features,)

    Examples
    --------
    The second weight is below its threshold ``α/H₂₂ = 1`` and lands exactly on 0; the check
    minimises ``½ Hᵢᵢ (wᵢ − wᵢ*)² + α|wᵢ|`` on a grid instead:

    >>> import numpy as np
    >>> from bayesreg.closed_forms import soft_threshold_diagonal
    >>> w_star, h = np.array([3.0, 0.5, -2.0]), np.array([1.0, 1.0, 2.0])
    >>> w = soft_threshold_diagonal(w_star, h, alpha=1.0)
    >>> w.tolist()
    [2.0, 0.0, -1.5]
    >>> grid = np.linspace(-4.0, 4.0, 80_001)
    >>> direct = [grid[np.argmin(0.5 * hi * (grid - wi) ** 2 + np.abs(grid))] for wi, hi in zip(w_star, h)]
    >>> bool(np.allclose(direct, w, atol=1e-4))
    True
    """
    w_star = _vector(w_star, "w_star")
    h = _positive_diagonal(hessian_diagonal, w_star.shape[0])
    alpha = _alpha(alpha)
    return np.sign(w_star) * np.maximum(np.abs(w_star) - alpha / h, 0.0)


def l2_diagonal_factor(hessian_diagonal: ArrayLike, alpha: float) -> np.ndarray:
    """``Hᵢᵢ / (Hᵢᵢ + α)``: the L2 shrinkage of each weight when ``H`` is diagonal (DIGEST claim 10).

    Parameters
    ----------
    hessian_diagonal : array_like, shape (n_features,)
        ``Hᵢᵢ > 0``.
    alpha : float >= 0

    Returns
    -------
    ndarray, shape (n_features,)
        In ``(0, 1]``: never 0, so L2 sets no weight exactly to zero.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.closed_forms import l2_diagonal_factor
    >>> np.round(l2_diagonal_factor([1.0, 3.0, 1e-6], alpha=1.0), 6).tolist()
    [0.5, 0.75, 1e-06]
    """
    h = _positive_diagonal(hessian_diagonal, None)
    return h / (h + _alpha(alpha))


def l2_diagonal_solution(w_star: ArrayLike, hessian_diagonal: ArrayLike, alpha: float) -> np.ndarray:
    """The L2 solution when ``H`` is diagonal: ``w̃ᵢ = Hᵢᵢ / (Hᵢᵢ + α) · wᵢ*``.

    Parameters
    ----------
    w_star : array_like, shape (n_features,)
    hessian_diagonal : array_like, shape (n_features,)
    alpha : float >= 0

    Returns
    -------
    ndarray, shape (n_features,)

    Examples
    --------
    The full-``H`` solution with a diagonal ``H``:

    >>> import numpy as np
    >>> from bayesreg.closed_forms import l2_diagonal_solution, l2_quadratic_solution
    >>> w_star, h = np.array([3.0, 0.5, -2.0]), np.array([1.0, 1.0, 2.0])
    >>> w = l2_diagonal_solution(w_star, h, alpha=1.0)
    >>> np.round(w, 6).tolist(), bool(np.allclose(w, l2_quadratic_solution(np.diag(h), w_star, 1.0)))
    ([1.5, 0.25, -1.333333], True)
    """
    w_star = _vector(w_star, "w_star")
    h = _positive_diagonal(hessian_diagonal, w_star.shape[0])
    return l2_diagonal_factor(h, alpha) * w_star


def _positive_diagonal(h: ArrayLike, p: int | None) -> np.ndarray:
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 1 or (p is not None and h.shape[0] != p):
        raise ValueError(f"hessian_diagonal must have shape ({p or 'n_features'},), got {h.shape}")
    if not np.all(h > 0):
        raise ValueError("the diagonal of H must be > 0")
    return h


# ------------------------------------------------------------------------------------ weight decay


def weight_decay_step(w, grad, alpha, learning_rate):
    """One gradient step on ``J + (α/2)‖w‖²``, written as weight decay: ``(1 − εα) w − ε ∇J(w)``.

    It equals ``w − ε(∇J(w) + αw)`` (DIGEST claim 2): the weights shrink by ``(1 − εα)`` before the
    step on ``J`` alone.

    Parameters
    ----------
    w : array, shape (n_features,)
        Current weights (NumPy or JAX array; the arithmetic uses operators only).
    grad : array, shape (n_features,)
        ``∇J(w)``, the gradient of the unregularised objective.
    alpha : float >= 0
    learning_rate : float > 0
        ``ε``.

    Returns
    -------
    array, shape (n_features,)
        The next iterate.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.closed_forms import weight_decay_step
    >>> w, grad = np.array([1.0, -2.0]), np.array([0.5, 0.5])
    >>> step = weight_decay_step(w, grad, alpha=0.1, learning_rate=0.5)
    >>> np.round(step, 6).tolist()
    [0.7, -2.15]
    >>> bool(np.allclose(step, w - 0.5 * (grad + 0.1 * w)))  # a gradient step on J + (α/2)‖w‖²
    True
    """
    return (1.0 - learning_rate * alpha) * w - learning_rate * grad


# -------------------------------------------------------------------------------- negative log-priors


def laplace_neg_log_prior(w: ArrayLike, alpha: float, *, constant: bool = True) -> float | np.ndarray:
    """``−log p(w)`` for independent ``wᵢ ~ Laplace(0, b = 1/α)``: ``α‖w‖₁ − n log α + n log 2``.

    The density of each weight is ``exp(−|wᵢ|/b) / (2b)`` (DIGEST claim 14).

    Parameters
    ----------
    w : array_like, shape (..., n)
        Weights; the last axis holds the ``n`` weights.
    alpha : float > 0
        Rate ``1/b`` (the book's L1 strength).
    constant : bool
        Include the terms free of ``w``; without them the result is the L1 penalty ``α‖w‖₁``.

    Returns
    -------
    float or ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import laplace
    >>> from bayesreg.closed_forms import laplace_neg_log_prior
    >>> w = np.array([1.0, -2.0])
    >>> bool(np.isclose(laplace_neg_log_prior(w, alpha=4.0), -laplace.logpdf(w, scale=1 / 4.0).sum()))
    True
    >>> float(laplace_neg_log_prior(w, alpha=4.0, constant=False))  # the L1 penalty α‖w‖₁
    12.0
    """
    w = np.asarray(w, dtype=np.float64)
    alpha = _alpha(alpha, strict=True)
    n = w.shape[-1]
    value = alpha * np.sum(np.abs(w), axis=-1)
    if constant:
        value = value - n * np.log(alpha) + n * np.log(2.0)
    return value


def gaussian_neg_log_prior(w: ArrayLike, alpha: float, *, constant: bool = True) -> float | np.ndarray:
    """``−log p(w)`` for independent ``wᵢ ~ N(0, 1/α)``: ``(α/2)‖w‖² + (n/2) log(2π/α)``.

    Parameters
    ----------
    w : array_like, shape (..., n)
        Weights; the last axis holds the ``n`` weights.
    alpha : float > 0
        Precision (the book's L2 strength).
    constant : bool
        Include the term free of ``w``; without it the result is the L2 penalty ``(α/2)‖w‖²``.

    Returns
    -------
    float or ndarray, shape (...)

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from bayesreg.closed_forms import gaussian_neg_log_prior
    >>> w = np.array([1.0, -2.0])
    >>> bool(np.isclose(gaussian_neg_log_prior(w, alpha=4.0), -norm.logpdf(w, scale=1 / np.sqrt(4.0)).sum()))
    True
    >>> float(gaussian_neg_log_prior(w, alpha=4.0, constant=False))  # the L2 penalty (α/2)‖w‖²
    10.0
    """
    w = np.asarray(w, dtype=np.float64)
    alpha = _alpha(alpha, strict=True)
    n = w.shape[-1]
    value = 0.5 * alpha * np.sum(w**2, axis=-1)
    if constant:
        value = value + 0.5 * n * np.log(2.0 * np.pi / alpha)
    return value


# ------------------------------------------------------------------- w* and H of the real model


class QuadraticApproximation(NamedTuple):
    """``w*`` and ``H`` of a real model, from `quadratic_approximation`.

    Attributes
    ----------
    w_star : ndarray, shape (n_features,)
        The maximum-likelihood weights (the MAP under a flat prior).
    hessian : ndarray, shape (n_features, n_features)
        Hessian of the negative log-likelihood ``J`` in the weights at ``w*``; with an intercept, the
        intercept is minimised out (the Schur complement), so that ``½ (w − w*)ᵀ H (w − w*)`` is the
        quadratic approximation of ``min_b J(w, b)``.
    intercept : float
        The intercept at the optimum (0 without one).
    nll : float
        ``J(w*)``.
    gradient : ndarray, shape (n_features,)
        ``∇J(w*)`` (0 up to the solver's tolerance: DIGEST claim 3).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
    >>> y = np.array([1.0, 2.0, 2.5, 3.0])
    >>> from bayesreg.closed_forms import quadratic_approximation
    >>> qa = quadratic_approximation(X, y)
    >>> bool(np.abs(qa.gradient).max() < 1e-8), qa.intercept  # an optimum; no intercept fitted
    (True, 0.0)
    """

    w_star: np.ndarray
    hessian: np.ndarray
    intercept: float
    nll: float
    gradient: np.ndarray


def _model_and_data(X, y, family: Family, fit_intercept: bool):
    from bayesreg.models import SufficientStats, linear_regression_stats, logistic_regression

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n_samples, n_features) and y (n_samples,), got {X.shape}, {y.shape}")
    if family == "gaussian":
        return linear_regression_stats, (SufficientStats.from_data(X, y, center=fit_intercept),)
    if family == "bernoulli":
        return logistic_regression, (X, y)
    raise ValueError(f"unknown family {family!r}; expected 'gaussian' or 'bernoulli'")


def _model_kwargs(family: Family, sigma: float, fit_intercept: bool) -> dict:
    kwargs = {"fit_intercept": fit_intercept}
    if family == "gaussian":
        kwargs["sigma"] = float(sigma)
    return kwargs


@program("nll-derivatives", static_argnames=("model", "fit_intercept"))
def _nll_derivatives(model, fit_intercept, args, kwargs, params):
    """``J``, ``∇J`` and ``∇²J`` (flattened: coef first, then intercept) of a model under a flat prior."""
    flat, unravel = ravel_pytree(params)

    def nll(theta):
        model_kwargs = {**kwargs, "prior": None, "fit_intercept": fit_intercept}
        return -log_density(model, args, model_kwargs, unravel(theta))[0]

    return nll(flat), jax.grad(nll)(flat), jax.hessian(nll)(flat)


def quadratic_approximation(
    X: ArrayLike,
    y: ArrayLike,
    *,
    family: Family = "gaussian",
    sigma: float = 1.0,
    fit_intercept: bool = False,
) -> QuadraticApproximation:
    """``w*`` and the Hessian ``H`` of the negative log-likelihood of a `bayesreg.models` model.

    ``w*`` is `bayesreg.map_estimate` under a flat prior; ``H`` is ``jax.hessian`` of the model's
    negative log-density (numpyro's ``log_density``) at ``w*``, in float64.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
        Targets (``family="gaussian"``) or 0/1 labels (``family="bernoulli"``).
    family : {"gaussian", "bernoulli"}
        `~bayesreg.models.linear_regression_stats` (``J = ‖y − b − Xw‖²/(2σ²) + const``) or
        `~bayesreg.models.logistic_regression` (``J`` = cross-entropy).
    sigma : float
        Fixed noise sd of the Gaussian likelihood.
    fit_intercept : bool
        With an (unpenalised) intercept, which is then minimised out of ``H``.

    Returns
    -------
    QuadraticApproximation

    Examples
    --------
    For the linear model ``w*`` is least squares and ``H = XᵀX/σ²``:

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
    >>> y = np.array([1.0, 2.0, 2.5, 3.0])
    >>> from bayesreg.closed_forms import quadratic_approximation
    >>> qa = quadratic_approximation(X, y)
    >>> bool(np.allclose(qa.w_star, np.linalg.lstsq(X, y, rcond=None)[0]))
    True
    >>> np.round(qa.hessian, 6).tolist()
    [[3.0, -1.0], [-1.0, 6.0]]
    """
    from bayesreg.engine.map import map_estimate

    model, args = _model_and_data(X, y, family, fit_intercept)
    kwargs = _model_kwargs(family, sigma, fit_intercept)
    mle = map_estimate(model, *args, prior=None, **kwargs)
    with jax.enable_x64(True):
        args = jax.tree.map(lambda a: jnp.asarray(a, dtype=jnp.float64), args)
        params = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in mle.params.items()}
        dynamic = {k: v for k, v in kwargs.items() if k != "fit_intercept"}
        value, grad, full = _nll_derivatives(model, fit_intercept, args, dynamic, params)
        value, grad, full = float(value), np.asarray(grad), np.asarray(full)
    p = params["coef"].shape[0]
    H = full[:p, :p]
    if fit_intercept:  # minimise the intercept out: H_ww − H_wb H_bb⁻¹ H_bw
        H = H - np.outer(full[:p, p], full[p, :p]) / full[p, p]
    H = 0.5 * (H + H.T)
    intercept = float(mle.params.get("intercept", 0.0))
    return QuadraticApproximation(np.asarray(mle.params["coef"]), H, intercept, value, grad[:p])


class ThresholdError(NamedTuple):
    """How far the diagonal-H soft threshold is from the real lasso (`diagonal_threshold_error`).

    Attributes
    ----------
    max_abs_error : float
        ``max_i |soft_thresholdᵢ − lassoᵢ|``.
    mismatched : ndarray of int, shape (k,)
        Features that are exactly 0 in one solution and not in the other.
    soft_threshold : ndarray, shape (n_features,)
        ``sign(wᵢ*) max(|wᵢ*| − α/Hᵢᵢ, 0)``.
    lasso : ndarray, shape (n_features,)
        The MAP under the Laplace prior of rate ``α`` (`bayesreg.map_estimate`).
    w_star : ndarray, shape (n_features,)
    hessian_diagonal : ndarray, shape (n_features,)
    max_correlation : float
        ``max_{i≠j} |Hᵢⱼ| / √(Hᵢᵢ Hⱼⱼ)``: 0 when ``H`` is diagonal.

    Examples
    --------
    With correlated columns the soft threshold is off, though here it zeroes the same weights:

    >>> import numpy as np
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]])
    >>> y = np.array([1.0, 2.0, 2.5, 3.0])
    >>> from bayesreg.closed_forms import diagonal_threshold_error
    >>> found = diagonal_threshold_error(X, y, alpha=1.0)
    >>> np.round(found.soft_threshold, 4).tolist(), np.round(found.lasso, 4).tolist()
    ([0.4608, 1.7157], [0.3824, 1.6471])
    >>> found.mismatched.tolist()
    []
    """

    max_abs_error: float
    mismatched: np.ndarray
    soft_threshold: np.ndarray
    lasso: np.ndarray
    w_star: np.ndarray
    hessian_diagonal: np.ndarray
    max_correlation: float


def diagonal_threshold_error(
    X: ArrayLike,
    y: ArrayLike,
    alpha: float,
    *,
    family: Family = "gaussian",
    sigma: float = 1.0,
    fit_intercept: bool = False,
    approximation: QuadraticApproximation | None = None,
) -> ThresholdError:
    """Compare the soft threshold with a diagonal ``H`` (claim 9) to the real lasso.

    The seed's soft threshold assumes a diagonal Hessian. For a correlated design (or a logistic
    likelihood, whose ``J`` is not quadratic) the true minimiser of ``J + α‖w‖₁`` differs; this
    computes both, the lasso by `bayesreg.map_estimate` with the book-convention Laplace prior.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    alpha : float > 0
        L1 strength in the book convention: the objective is ``J + α‖w‖₁``.
    family, sigma, fit_intercept
        As in `quadratic_approximation`.
    approximation : QuadraticApproximation, optional
        ``w*`` and ``H`` computed before for the same data (saves the maximum-likelihood fit).

    Returns
    -------
    ThresholdError
        ``max_abs_error`` is 0 up to round-off for a linear-Gaussian model whose ``H`` is diagonal.

    Examples
    --------
    Exact for orthogonal columns (a diagonal ``H = XᵀX``), off for correlated ones:

    >>> import numpy as np
    >>> from bayesreg.closed_forms import diagonal_threshold_error
    >>> y = np.array([1.0, 2.0, 2.5, 3.0])
    >>> orthogonal = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    >>> bool(diagonal_threshold_error(orthogonal, y, alpha=1.0).max_abs_error < 1e-8)
    True
    >>> found = diagonal_threshold_error(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-1.0, 2.0]]), y, 1.0)
    >>> round(found.max_correlation, 4), round(found.max_abs_error, 4)
    (0.2357, 0.0784)
    """
    from bayesreg.engine.map import map_estimate
    from bayesreg.priors import prior_from_penalty

    alpha = _alpha(alpha, strict=True)
    if approximation is None:
        approximation = quadratic_approximation(X, y, family=family, sigma=sigma, fit_intercept=fit_intercept)
    w_star, H = approximation.w_star, approximation.hessian
    h = np.diag(H).copy()
    soft = soft_threshold_diagonal(w_star, h, alpha)
    model, args = _model_and_data(X, y, family, fit_intercept)
    prior = prior_from_penalty("laplace", alpha, convention="book", family=family)
    lasso = np.asarray(
        map_estimate(model, *args, prior=prior, **_model_kwargs(family, sigma, fit_intercept)).params["coef"]
    )
    mismatched = np.flatnonzero((soft == 0.0) != (lasso == 0.0))
    corr = np.abs(H) / np.sqrt(np.outer(h, h))
    np.fill_diagonal(corr, 0.0)
    return ThresholdError(
        float(np.max(np.abs(soft - lasso), initial=0.0)),
        mismatched,
        soft,
        lasso,
        w_star,
        h,
        float(np.max(corr, initial=0.0)),
    )
