"""Empirical Bayes: the prior's scale (and the noise) that maximise the marginal likelihood.

Three priors on the weights of the linear model ``y = Xw + b + ε``, ``ε ~ N(0, σ²I)``, with a flat
prior on the intercept ``b`` (integrated out by centring):

* `evidence_gaussian`: ``w ~ N(0, λ⁻¹I)``, with σ² = 1/α and λ chosen by MacKay's fixed-point
  iteration on the marginal likelihood with Gamma hyperpriors, scikit-learn's ``BayesianRidge``;
* `evidence_ard`: ``w_j ~ N(0, λ_j⁻¹)`` with one precision per weight, the weights whose precision
  passes ``threshold_lambda`` pruned to 0, scikit-learn's ``ARDRegression``;
* `evidence_laplace`: the Bayesian lasso, ``w_j | σ ~ Laplace(0, σ²/l₁)``, whose MAP at fixed σ is
  scikit-learn's ``Lasso(alpha=l₁/n)``, with ``l₁`` maximising the marginal likelihood by Monte Carlo
  EM (Park & Casella 2008, §3.1) around a Gibbs sampler.

The precisions keep scikit-learn's names in the results (``noise_precision`` is its ``alpha_``,
``weight_precision`` its ``lambda_``); ``alpha`` is the penalty strength of the same prior in
bayesreg's conventions (`bayesreg.priors.penalty_from_prior`): under ``convention="sklearn"`` the
``Ridge`` / ``Lasso`` ``α`` whose solution is the posterior mode at the estimated σ
(``λσ²`` for the Gaussian prior, ``l₁/n`` for the Laplace prior), under ``"book"`` the prior
precision λ itself (``NLL + (λ/2)‖w‖²``) or the Laplace rate ``l₁/σ²``.
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike
from sklearn.exceptions import ConvergenceWarning

from bayesreg.data import check_xy
from bayesreg.defaults import EM_NUTS, EVIDENCE, NUM_EM, THRESHOLDS, EvidenceSettings
from bayesreg.engine.programs import program
from bayesreg.params import CONSTRAINTS, NONNEGATIVE, check_params
from bayesreg.priors import Convention, Prior, penalty_from_prior

__all__ = [
    "EvidenceResult",
    "LaplaceEvidenceResult",
    "evidence_ard",
    "evidence_gaussian",
    "evidence_laplace",
]

# BayesianRidge's and ARDRegression's tol may be 0 (iterate to max_iter), unlike the MAP solvers'
_SETTINGS = {**CONSTRAINTS, "tol": NONNEGATIVE}


class EvidenceResult(NamedTuple):
    """What `evidence_gaussian` and `evidence_ard` return.

    Attributes
    ----------
    coef : ndarray, shape (n_features,)
        Posterior mean (= mode) of the weights at the estimated precisions (pruned weights exactly 0).
    intercept : float
        ``ȳ − x̄ᵀcoef`` (0.0 without ``fit_intercept``).
    noise_precision : float
        ``1/σ²`` (scikit-learn's ``alpha_``).
    weight_precision : float or ndarray, shape (n_features,)
        λ, the prior precision of the weights (scikit-learn's ``lambda_``); one per weight for ARD.
    sigma : float
        The noise sd, ``noise_precision ** -0.5``.
    alpha : float or ndarray, shape (n_features,)
        The penalty strength of the prior in the chosen convention (per weight for ARD; ``inf`` for a
        pruned weight).
    coef_cov : ndarray, shape (n_kept, n_kept)
        Posterior covariance of the kept weights (all of them but for ARD's pruned ones).
    kept : ndarray of bool, shape (n_features,)
        The weights not pruned (all True for `evidence_gaussian`).
    log_evidence : float
        The objective at the estimate: log marginal likelihood plus the log Gamma hyperpriors
        (scikit-learn's ``scores_[-1]`` for ``BayesianRidge``).
    n_iter : int
        Fixed-point iterations run.
    converged : bool
        Whether the iteration met ``tol`` before ``max_iter``.

    Examples
    --------
    >>> from bayesreg.evidence import EvidenceResult
    >>> EvidenceResult._fields[:4]
    ('coef', 'intercept', 'noise_precision', 'weight_precision')
    """

    coef: np.ndarray
    intercept: float
    noise_precision: float
    weight_precision: float | np.ndarray
    sigma: float
    alpha: float | np.ndarray
    coef_cov: np.ndarray
    kept: np.ndarray
    log_evidence: float
    n_iter: int
    converged: bool


def _centred(X, y, fit_intercept):
    checked = check_xy(X, y, "gaussian")
    X, y = checked.X, checked.y
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    y_mean = float(y.mean()) if fit_intercept else 0.0
    return X - x_mean, y - y_mean, x_mean, y_mean


def _checked(settings: EvidenceSettings) -> EvidenceSettings:
    """The settings of `evidence_gaussian` / `evidence_ard`, each checked (`bayesreg.params`)."""
    return EvidenceSettings(**check_params(settings._asdict(), _SETTINGS))


def _fixed_point(step, state, *, max_iter: int, tol: float):
    """MacKay's fixed-point iteration as scikit-learn runs it: ``step(state)`` returns the weights'
    posterior mean at ``state``, the updated state and whether to stop anyway (every weight
    pruned); the iteration stops when the mean moved by less than ``tol`` (sum of absolute
    changes) from the previous iteration's, or after ``max_iter`` iterations. Returns the last
    state, the iterations run and whether it stopped before ``max_iter``."""
    old, n_iter = None, 0
    while n_iter < max_iter:
        n_iter += 1
        coef, state, done = step(state)
        if old is not None and np.sum(np.abs(old - coef)) < tol:
            return state, n_iter, True
        old = coef.copy()
        if done:
            return state, n_iter, True
    return state, n_iter, False


def _gaussian_alpha(precision, sigma, convention):
    """The Ridge α (or book α) of a Normal(0, precision⁻¹) prior at noise sd ``sigma``."""
    prior = Prior("gaussian", 0.0, float(precision) * sigma**2, noise_scaled=True)  # at unit noise variance
    return penalty_from_prior(prior, convention=convention, sigma=sigma)["alpha"]


def evidence_gaussian(
    X: ArrayLike,
    y: ArrayLike,
    *,
    fit_intercept: bool = True,
    max_iter: int = EVIDENCE.max_iter,
    tol: float = EVIDENCE.tol,
    alpha_1: float = EVIDENCE.alpha_1,
    alpha_2: float = EVIDENCE.alpha_2,
    lambda_1: float = EVIDENCE.lambda_1,
    lambda_2: float = EVIDENCE.lambda_2,
    convention: Convention = "sklearn",
) -> EvidenceResult:
    """Empirical Bayes for the Gaussian prior: the noise and weight precisions of ``BayesianRidge``.

    The model is ``y | w, b ~ N(Xw + b, α⁻¹I)``, ``w ~ N(0, λ⁻¹I)``, ``b`` flat, with hyperpriors
    ``α ~ Gamma(alpha_1, alpha_2)`` and ``λ ~ Gamma(lambda_1, lambda_2)`` (shape, rate). With the
    centred data ``Xc = UΣVᵀ`` (eigenvalues ``s_i = Σᵢ²``), the posterior of ``w`` at ``(α, λ)`` is
    ``N(m, S)`` with ``S = (λI + αXcᵀXc)⁻¹``, ``m = αSXcᵀyc``, and MacKay's fixed-point updates

    .. math::

        \\gamma = \\sum_i \\frac{\\alpha s_i}{\\lambda + \\alpha s_i},\\quad
        \\lambda \\leftarrow \\frac{\\gamma + 2\\lambda_1}{\\lVert m\\rVert^2 + 2\\lambda_2},\\quad
        \\alpha \\leftarrow \\frac{n - \\gamma + 2\\alpha_1}{\\lVert y_c - X_c m\\rVert^2 + 2\\alpha_2}

    start from ``α = 1/(var(y) + ε)``, ``λ = 1``, and stop when ``Σ|Δm| < tol`` (scikit-learn's rule
    and defaults, so the result is ``BayesianRidge()``'s; a smaller ``tol`` goes on to the fixed
    point, which is ``BayesianRidge(tol=...)``'s). A fixed point is a stationary point of
    ``log p(y | α, λ) + (alpha_1)·log α − alpha_2·α + lambda_1·log λ − lambda_2·λ``, the
    ``log_evidence`` returned.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    fit_intercept : bool
        Centre ``X`` and ``y`` (a flat prior on the intercept).
    max_iter : int
        Most fixed-point iterations.
    tol : float
        Stop when the weights moved by less than this (sum of absolute changes).
    alpha_1, alpha_2, lambda_1, lambda_2 : float
        Shapes and rates of the Gamma hyperpriors (scikit-learn's names and defaults).
    convention : {"sklearn", "book"}
        The convention of the returned ``alpha``: ``Ridge``'s ``λ/α`` or the book's ``λ``.

    Returns
    -------
    EvidenceResult

    Examples
    --------
    ``BayesianRidge()`` on the diabetes data:

    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import BayesianRidge, Ridge
    >>> from bayesreg.evidence import evidence_gaussian
    >>> X, y = load_diabetes(return_X_y=True)
    >>> eb = evidence_gaussian(X, y)
    >>> reference = BayesianRidge().fit(X, y)
    >>> bool(np.allclose(eb.coef, reference.coef_, rtol=1e-9)), bool(np.isclose(eb.weight_precision,
    ...                                                                        reference.lambda_))
    (True, True)

    Its weights are ``Ridge`` at the ``alpha`` reported:

    >>> bool(np.allclose(Ridge(alpha=eb.alpha).fit(X, y).coef_, eb.coef))
    True
    """
    settings = EvidenceSettings(max_iter, tol, alpha_1, alpha_2, lambda_1, lambda_2)
    max_iter, tol, alpha_1, alpha_2, lambda_1, lambda_2, _ = _checked(settings)
    Xc, yc, x_mean, y_mean = _centred(X, y, fit_intercept)
    n, p = Xc.shape
    _, singular, vt = np.linalg.svd(Xc, full_matrices=False)
    s = singular**2
    xty = vt @ (Xc.T @ yc)  # Xcᵀyc in the basis of the right singular vectors

    def posterior_mean(alpha, lam):
        return vt.T @ (xty / (s + lam / alpha))

    def step(state):
        alpha, lam = state
        coef = posterior_mean(alpha, lam)
        sse = float(np.sum((yc - Xc @ coef) ** 2))
        gamma = float(np.sum(alpha * s / (lam + alpha * s)))
        lam = (gamma + 2 * lambda_1) / (float(coef @ coef) + 2 * lambda_2)
        alpha = (n - gamma + 2 * alpha_1) / (sse + 2 * alpha_2)
        return coef, (alpha, lam), False

    start = (1.0 / (np.var(yc) + np.finfo(float).eps), 1.0)
    (alpha, lam), n_iter, converged = _fixed_point(step, start, max_iter=max_iter, tol=tol)
    coef = posterior_mean(alpha, lam)
    sse = float(np.sum((yc - Xc @ coef) ** 2))
    # log marginal likelihood of (α, λ) plus the Gamma log-densities (up to their normalisers)
    eig = np.concatenate([alpha * s, np.zeros(p - s.size)]) + lam
    log_evidence = (
        lambda_1 * math.log(lam)
        - lambda_2 * lam
        + alpha_1 * math.log(alpha)
        - alpha_2 * alpha
        + 0.5
        * (
            p * math.log(lam)
            + n * math.log(alpha)
            - alpha * sse
            - lam * float(coef @ coef)
            - float(np.sum(np.log(eig)))
            - n * math.log(2 * math.pi)
        )
    )
    full_vt = np.linalg.svd(Xc, full_matrices=True)[2] if s.size < p else vt
    cov = full_vt.T @ (full_vt / eig[:, None])
    sigma = alpha**-0.5
    return EvidenceResult(
        coef=coef,
        intercept=float(y_mean - x_mean @ coef),
        noise_precision=float(alpha),
        weight_precision=float(lam),
        sigma=float(sigma),
        alpha=_gaussian_alpha(lam, sigma, convention),
        coef_cov=cov,
        kept=np.ones(p, dtype=bool),
        log_evidence=float(log_evidence),
        n_iter=n_iter,
        converged=converged,
    )


def _ard_posterior(Xc, yc, alpha, lam, kept):
    """Posterior covariance and mean of the kept weights at noise precision ``alpha`` and weight
    precisions ``lam``: ``S = (diag(λ) + αXᵀX)⁻¹`` (through the n × n Woodbury form when n < p)."""
    Xk = Xc[:, kept]
    n, k = Xk.shape
    if n >= k:
        precision = np.diag(lam[kept]) + alpha * (Xk.T @ Xk)
        cov = np.linalg.inv(precision)
    else:  # S = Λ⁻¹ − Λ⁻¹Xᵀ(α⁻¹I + XΛ⁻¹Xᵀ)⁻¹XΛ⁻¹
        scaled = Xk / lam[kept]
        inner = np.eye(n) / alpha + scaled @ Xk.T
        cov = np.diag(1.0 / lam[kept]) - scaled.T @ np.linalg.solve(inner, scaled)
    cov = (cov + cov.T) / 2
    return cov, alpha * cov @ (Xk.T @ yc)


def evidence_ard(
    X: ArrayLike,
    y: ArrayLike,
    *,
    fit_intercept: bool = True,
    max_iter: int = EVIDENCE.max_iter,
    tol: float = EVIDENCE.tol,
    alpha_1: float = EVIDENCE.alpha_1,
    alpha_2: float = EVIDENCE.alpha_2,
    lambda_1: float = EVIDENCE.lambda_1,
    lambda_2: float = EVIDENCE.lambda_2,
    threshold_lambda: float = EVIDENCE.threshold_lambda,
    convention: Convention = "sklearn",
) -> EvidenceResult:
    """Automatic relevance determination: one prior precision per weight, ``ARDRegression``.

    The model of `evidence_gaussian` with ``w_j ~ N(0, λ_j⁻¹)`` and ``λ_j ~ Gamma(lambda_1,
    lambda_2)`` each. From ``α = 1/(var(y) + ε)``, ``λ = 1``, each iteration computes the posterior
    ``N(m, S)`` of the kept weights, ``S = (diag(λ) + αXcᵀXc)⁻¹``, ``m = αSXcᵀyc``, then

    .. math::

        \\gamma_j = 1 - \\lambda_j S_{jj},\\quad
        \\lambda_j \\leftarrow \\frac{\\gamma_j + 2\\lambda_1}{m_j^2 + 2\\lambda_2},\\quad
        \\alpha \\leftarrow
            \\frac{n - \\sum_j\\gamma_j + 2\\alpha_1}{\\lVert y_c - X_c m\\rVert^2 + 2\\alpha_2},

    and prunes (sets to exactly 0, for good) every weight with ``λ_j ≥ threshold_lambda``; it stops
    when ``Σ|Δm| < tol``, or when every weight is pruned. This is scikit-learn's iteration, stopping
    rule and defaults, so the result is ``ARDRegression()``'s. The objective ascended is the log
    marginal likelihood with the Gamma hyperpriors, returned as ``log_evidence`` (scikit-learn's
    ``scores_`` formula, at the last iteration).

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    fit_intercept, max_iter, tol, alpha_1, alpha_2, lambda_1, lambda_2, convention
        As in `evidence_gaussian`.
    threshold_lambda : float
        Prune a weight once its precision reaches this.

    Returns
    -------
    EvidenceResult
        With one ``weight_precision`` and one ``alpha`` per weight (``alpha`` is ``inf`` where
        pruned), ``coef_cov`` over the kept weights.

    Examples
    --------
    ``ARDRegression()`` on the diabetes data, which prunes no weight there:

    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import ARDRegression
    >>> from bayesreg.evidence import evidence_ard
    >>> X, y = load_diabetes(return_X_y=True)
    >>> ard = evidence_ard(X, y)
    >>> reference = ARDRegression().fit(X, y)
    >>> bool(np.allclose(ard.coef, reference.coef_, rtol=1e-6)), int(ard.kept.sum())
    (True, 10)
    """
    settings = EvidenceSettings(max_iter, tol, alpha_1, alpha_2, lambda_1, lambda_2, threshold_lambda)
    max_iter, tol, alpha_1, alpha_2, lambda_1, lambda_2, threshold_lambda = _checked(settings)
    Xc, yc, x_mean, y_mean = _centred(X, y, fit_intercept)
    n, p = Xc.shape
    lam, coef = np.ones(p), np.zeros(p)  # updated in place

    def step(state):
        alpha, kept, _ = state
        cov, coef[kept] = _ard_posterior(Xc, yc, alpha, lam, kept)
        sse = float(np.sum((yc - Xc @ coef) ** 2))
        gamma = 1.0 - lam[kept] * np.diag(cov)
        lam[kept] = (gamma + 2 * lambda_1) / (coef[kept] ** 2 + 2 * lambda_2)
        alpha = (n - gamma.sum() + 2 * alpha_1) / (sse + 2 * alpha_2)
        kept = lam < threshold_lambda
        coef[~kept] = 0.0
        log_evidence = float(
            np.sum(lambda_1 * np.log(lam) - lambda_2 * lam)
            + alpha_1 * math.log(alpha)
            - alpha_2 * alpha
            + 0.5 * (np.linalg.slogdet(cov)[1] + n * math.log(alpha) + np.sum(np.log(lam)))
            - 0.5 * (alpha * sse + np.sum(lam * coef**2))
        )
        return coef, (alpha, kept, log_evidence), not kept.any()

    start = (1.0 / (np.var(yc) + np.finfo(float).eps), np.ones(p, dtype=bool), -math.inf)
    state, n_iter, converged = _fixed_point(step, start, max_iter=max_iter, tol=tol)
    alpha, kept, log_evidence = state
    if kept.any():
        cov, coef[kept] = _ard_posterior(Xc, yc, alpha, lam, kept)
    else:
        cov = np.zeros((0, 0))
    sigma = alpha**-0.5
    alphas = np.array(
        [_gaussian_alpha(lj, sigma, convention) if k else math.inf for lj, k in zip(lam, kept, strict=True)]
    )
    return EvidenceResult(
        coef=coef,
        intercept=float(y_mean - x_mean @ coef),
        noise_precision=float(alpha),
        weight_precision=lam,
        sigma=float(sigma),
        alpha=alphas,
        coef_cov=cov,
        kept=kept,
        log_evidence=log_evidence,
        n_iter=n_iter,
        converged=converged,
    )


class LaplaceEvidenceResult(NamedTuple):
    """What `evidence_laplace` returns.

    Attributes
    ----------
    l1 : float
        The estimate of ``l₁``, the Laplace prior's rate at unit noise variance (``w_j | σ ~
        Laplace(0, σ²/l₁)``): ``ū^(−1/2)`` with ``ū`` the mean of the EM iterates of
        ``u = 1/l₁²`` over the second half of the run.
    alpha : float
        ``l₁`` as a penalty strength: ``Lasso``'s ``l₁/n`` (``convention="sklearn"``), or the book
        rate ``l₁/σ²`` at the fixed σ, or at the posterior mean of σ² when σ is sampled.
    mcse : float
        Monte Carlo standard error of ``l1``: ArviZ's ``mcse`` of ``ū`` (the iterates are an
        autocorrelated series) times ``|dl₁/du| = l₁³/2``; under ``convention="sklearn"`` that of
        ``alpha`` is ``mcse/n``.
    trace : ndarray, shape (num_chains, num_em)
        ``l₁`` after each EM iteration of each independent run.
    r_hat : float
        ArviZ's rank-normalised R-hat of the iterates of ``u`` over the second halves of the runs:
        near 1 when the runs have settled around the same maximiser (above
        `bayesreg.defaults.THRESHOLDS.rhat_max` they have not: raise ``num_em``).
    coef : ndarray, shape (n_features,)
        Posterior mean of the weights over the Gibbs draws of the second half of the run.
    intercept : float
        ``ȳ − x̄ᵀcoef`` (0.0 without ``fit_intercept``).
    sigma : float
        The fixed σ, or the square root of the posterior mean of σ² over the same draws.
    expected_scale : ndarray, shape (num_chains, num_em)
        The E-step's Monte Carlo estimate of ``E[Σ_j s_j/σ²]`` at each iteration (the M-step sets
        ``l₁ = √(2p / that)``).

    Examples
    --------
    >>> from bayesreg.evidence import LaplaceEvidenceResult
    >>> LaplaceEvidenceResult._fields[:3]
    ('l1', 'alpha', 'mcse')
    """

    l1: float
    alpha: float
    mcse: float
    trace: np.ndarray
    r_hat: float
    coef: np.ndarray
    intercept: float
    sigma: float
    expected_scale: np.ndarray


def _inverse_gaussian(key, mean, shape):
    """Draws of InverseGaussian(mean, shape) (Michael, Schucany & Haas 1976), written without the
    cancellation of the textbook form for a large ``mean``: the smaller root is
    ``4μ²λv / (√(4μλv + μ²v²) + μv)²``, ``v ~ χ²₁``."""
    k_normal, k_uniform = jax.random.split(key)
    v = jax.random.normal(k_normal, mean.shape) ** 2
    root = 4 * mean**2 * shape * v / (jnp.sqrt(4 * mean * shape * v + (mean * v) ** 2) + mean * v) ** 2
    u = jax.random.uniform(k_uniform, mean.shape)
    return jnp.where(u <= mean / (mean + root), root, mean**2 / root)


@program(
    "laplace-mcem",
    static_argnames=("num_em", "num_warmup", "num_samples", "fixed_sigma"),
    model_argname=None,
)
def _mcem(keys, xtx, xty, yty, n_eff, l1, sigma2, *, num_em, num_warmup, num_samples, fixed_sigma):
    """Monte Carlo EM for ``l₁`` with the Bayesian lasso's Gibbs sampler (see `evidence_laplace`), one
    independent run per key (vectorised).

    Returns, per run and iteration, the ``l₁`` after it, the E-step's estimate, and the sums of the
    weights and of σ² over its draws."""
    one = functools.partial(
        _mcem_run, num_em=num_em, num_warmup=num_warmup, num_samples=num_samples, fixed_sigma=fixed_sigma
    )
    return jax.vmap(one, in_axes=(0, None, None, None, None, None, None))(
        keys, xtx, xty, yty, n_eff, l1, sigma2
    )


def _mcem_run(key, xtx, xty, yty, n_eff, l1, sigma2, *, num_em, num_warmup, num_samples, fixed_sigma):
    """One run of `_mcem`."""
    p = xty.shape[0]

    def sweep(state, key):
        coef, s, sigma2, l1 = state
        k_coef, k_sigma, k_s = jax.random.split(key, 3)
        chol = jnp.linalg.cholesky(xtx + jnp.diag(1.0 / s))
        mean = jax.scipy.linalg.cho_solve((chol, True), xty)
        noise = jax.scipy.linalg.solve_triangular(chol.T, jax.random.normal(k_coef, (p,)), lower=False)
        coef = mean + jnp.sqrt(sigma2) * noise
        if not fixed_sigma:
            rss = yty - 2 * coef @ xty + coef @ xtx @ coef
            rate = 0.5 * (rss + jnp.sum(coef**2 / s) + l1**2 * jnp.sum(s))
            sigma2 = rate / jax.random.gamma(k_sigma, 0.5 * n_eff + 1.5 * p)
        shape = l1**2 / sigma2 * jnp.ones(p)
        s = 1.0 / _inverse_gaussian(k_s, l1 / jnp.maximum(jnp.abs(coef), 1e-300), shape)
        return (coef, s, sigma2, l1), (jnp.sum(s) / sigma2, coef, sigma2)

    def em_step(state, key):
        keys = jax.random.split(key, num_samples)
        state, (scale, coefs, sigma2s) = jax.lax.scan(sweep, state, keys)
        expected = jnp.mean(scale)
        l1 = jnp.sqrt(2 * p / expected)
        coef, s, sigma2, _ = state
        return (coef, s, sigma2, l1), (l1, expected, jnp.sum(coefs, axis=0), jnp.sum(sigma2s))

    k_warm, k_em = jax.random.split(key)
    state = (jnp.zeros(p), jnp.ones(p), sigma2, l1)
    state, _ = jax.lax.scan(sweep, state, jax.random.split(k_warm, num_warmup))
    return jax.lax.scan(em_step, state, jax.random.split(k_em, num_em))[1]


def evidence_laplace(
    X: ArrayLike,
    y: ArrayLike,
    *,
    sigma: float | None = None,
    fit_intercept: bool = True,
    num_em: int = NUM_EM,
    num_warmup: int = EM_NUTS.num_warmup,
    num_samples: int = EM_NUTS.num_samples,
    num_chains: int = EM_NUTS.num_chains,
    seed: int = 0,
    convention: Convention = "sklearn",
) -> LaplaceEvidenceResult:
    """Empirical Bayes for the Laplace prior: the rate ``l₁`` that maximises the marginal likelihood,
    by Monte Carlo EM (Park & Casella 2008, §3.1).

    The model is bayesreg's lasso with the sklearn convention: ``y | w, b, σ ~ N(Xw + b, σ²I)``,
    ``w_j | σ ~ Laplace(0, σ²/l₁)`` independently, ``b`` flat (integrated out by centring, which leaves
    ``n_eff = n − 1`` rows' worth of likelihood), and σ either fixed or with Park & Casella's
    improper prior ``p(σ²) ∝ 1/σ²``; at fixed σ its MAP is ``Lasso(alpha=l₁/n)``. The estimate
    maximises the marginal likelihood

    .. math::

        m(l_1) = \\int p(y \\mid w, \\sigma)\\, \\prod_j \\frac{l_1}{2\\sigma^2}
            e^{-l_1 |w_j| / \\sigma^2}\\, p(\\sigma^2)\\; dw\\, d\\sigma^2 .

    Written as a scale mixture, ``w_j | s_j, σ ~ N(0, σ²s_j)`` with ``s_j | σ ~ Exponential(rate
    l₁²/(2σ²))``, the complete-data log-likelihood depends on ``l₁`` only through
    ``Σ_j [2 log l₁ − l₁² s_j/(2σ²)]``, so the EM update is

    .. math::

        l_1 \\leftarrow \\sqrt{2p \\,/\\, E_{l_1}[\\textstyle\\sum_j s_j/\\sigma^2 \\mid y]},

    its fixed points are the stationary points of ``m`` (Fisher's identity), and the expectation is
    the mean over ``num_samples`` sweeps of the Gibbs sampler at the current ``l₁``:
    ``w | s, σ², y ~ N(A⁻¹Xcᵀyc, σ²A⁻¹)`` with ``A = XcᵀXc + diag(1/s)``;
    ``σ² | w, s, y ~ InvGamma(n_eff/2 + 3p/2, (‖yc − Xcw‖² + Σw_j²/s_j + l₁²Σs_j)/2)``;
    ``1/s_j | w, σ² ~ InverseGaussian(l₁/|w_j|, l₁²/σ²)``. The chain runs on from one EM iteration
    to the next (``num_warmup`` sweeps before the first); the iterates settle into a random walk
    around the maximiser whose spread is the Monte Carlo error. The estimate is their mean over the
    second half, pooled over ``num_chains`` independent runs and taken in ``u = 1/l₁²``, which the
    M-step sets linearly in the Monte Carlo mean (averaging ``l₁`` itself would carry the Jensen bias
    of the square root); its error is ArviZ's ``mcse`` and the runs' agreement ArviZ's ``rhat``. The
    whole run is one compiled program per data shape and settings.

    Parameters
    ----------
    X : array_like, shape (n_samples, n_features)
    y : array_like, shape (n_samples,)
    sigma : float, optional
        A fixed noise sd; None (default) samples σ² under ``p(σ²) ∝ 1/σ²``.
    fit_intercept : bool
        Centre ``X`` and ``y`` (a flat intercept).
    num_em, num_warmup, num_samples : int
        EM iterations, Gibbs sweeps before the first, Gibbs sweeps per iteration.
    num_chains : int
        Independent runs (vectorised), pooled in the estimate; their agreement is ``r_hat``.
    seed : int
        Seed of the sampler (the same seed gives the same result).
    convention : {"sklearn", "book"}
        How ``alpha`` is reported: ``Lasso``'s ``l₁/n``, or the Laplace rate ``l₁/σ²``.

    Returns
    -------
    LaplaceEvidenceResult

    Warns
    -----
    sklearn.exceptions.ConvergenceWarning
        When ``r_hat`` exceeds `bayesreg.defaults.THRESHOLDS` ``.rhat_max``: the runs disagree beyond
        their own spread, and ``mcse`` (which accounts for it) is the error to quote.

    Examples
    --------
    Ten weights, three non-zero, σ sampled: the estimate and its Monte Carlo error, as ``Lasso``'s α:

    >>> import numpy as np
    >>> from bayesreg.evidence import evidence_laplace
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 10))
    >>> y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + rng.normal(size=50)
    >>> eb = evidence_laplace(X, y, num_em=400, num_samples=200)
    >>> eb.trace.shape, bool(eb.mcse < 0.05 * eb.l1), bool(np.isclose(eb.alpha, eb.l1 / 50))
    ((4, 400), True, True)
    >>> bool(eb.r_hat < 1.05)  # the runs agree (above THRESHOLDS.rhat_max = 1.01 it warns)
    True
    """
    settings = {
        "sigma": sigma,
        "num_em": num_em,
        "num_warmup": num_warmup,
        "num_samples": num_samples,
        "num_chains": num_chains,
        "seed": seed,
    }
    checked = check_params(settings, _SETTINGS).values()
    sigma, num_em, num_warmup, num_samples, num_chains, seed = checked
    if num_em < 4:
        raise ValueError(f"num_em must be at least 4 (the estimate averages the second half), got {num_em}")
    Xc, yc, x_mean, y_mean = _centred(X, y, fit_intercept)
    n = Xc.shape[0]
    n_eff = n - 1 if fit_intercept else n
    # a start on the data's scale: the rate of the Laplace prior whose variance matches the least-
    # squares (or minimum-norm) weights' mean square, at σ² = var(y)
    start_sigma2 = float(np.var(yc)) if sigma is None else sigma**2
    ls = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    start_l1 = start_sigma2 * math.sqrt(2.0 / max(float(np.mean(ls**2)), 1e-300))
    with jax.enable_x64(True):
        data = [jnp.asarray(a, dtype=jnp.float64) for a in (Xc.T @ Xc, Xc.T @ yc, yc @ yc, n_eff)]
        trace, expected, coef_sums, sigma2_sums = _mcem(
            jax.random.split(jax.random.PRNGKey(seed), num_chains),
            *data,
            jnp.float64(start_l1),
            jnp.float64(start_sigma2),
            num_em=num_em,
            num_warmup=num_warmup,
            num_samples=num_samples,
            fixed_sigma=sigma is not None,
        )
    import arviz as az

    trace, expected = np.asarray(trace), np.asarray(expected)
    # the average of u = 1/l₁² = E[Σs/σ²]/(2p), which the M-step sets linearly in the Monte Carlo
    # mean (no Jensen bias from the square root inside the average), mapped to l₁ at the end
    half = num_em // 2
    u = expected[:, half:] / (2 * Xc.shape[1])
    l1 = float(u.mean() ** -0.5)
    mcse = float(0.5 * l1**3 * az.mcse(u, method="mean"))  # the delta method: dl₁/du = −l₁³/2
    r_hat = float(az.rhat(u))
    draws = num_chains * (num_em - half) * num_samples
    coef = np.asarray(coef_sums)[:, half:].sum(axis=(0, 1)) / draws
    sigma2 = float(np.asarray(sigma2_sums)[:, half:].sum() / draws) if sigma is None else sigma**2
    if not r_hat <= THRESHOLDS.rhat_max:
        warnings.warn(
            f"the {num_chains} Monte Carlo EM runs have not settled around the same l1 (R-hat {r_hat:.3f} > "
            f"{THRESHOLDS.rhat_max}); the estimate {l1:.6g} carries a Monte Carlo error of {mcse:.2g}: raise "
            "num_em for a tighter one",
            ConvergenceWarning,
            stacklevel=2,
        )
    prior = Prior("laplace", l1, 0.0, noise_scaled=True)
    if convention == "sklearn":
        alpha = penalty_from_prior(prior, n_samples=n)["alpha"]
    else:
        alpha = penalty_from_prior(prior, convention="book", sigma=math.sqrt(sigma2))["alpha"]
    return LaplaceEvidenceResult(
        l1=l1,
        alpha=float(alpha),
        mcse=mcse,
        trace=trace,
        r_hat=r_hat,
        coef=coef,
        intercept=float(y_mean - x_mean @ coef),
        sigma=math.sqrt(sigma2),
        expected_scale=expected,
    )
