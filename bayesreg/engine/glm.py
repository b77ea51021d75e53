"""The exact MAP of a generalised linear model on the host: proximal Newton on the weighted Gram.

For the Bernoulli (logit link), Poisson and negative binomial (NB2, log link) likelihoods with an
independent Laplace, Gaussian or elastic-net prior on the weights and a flat intercept, the negative
log joint is, up to a constant,

.. math::

    F(w, b) = \\sum_i \\ell(η_i, y_i) + λ_1 \\lVert w \\rVert_1 + \\tfrac{λ_2}{2} \\lVert w \\rVert^2,
    \\qquad η = Xw + b + \\text{offset},

with ``ℓ`` convex in ``η``. `glm_map` minimises it by proximal Newton steps (Lee, Sun & Saunders
2014), as `~bayesreg.engine.proximal.ProximalNewton` does inside SVI, but with the data in one place:
per step one pass over the rows gives the gradient ``Xᵀℓ'(η)`` and the weighted Gram ``Xᵀ diag(ℓ''(η))
X`` (one BLAS ``syrk`` of ``√ℓ''·X``), the L1-penalised quadratic model is minimised by coordinate
descent on that Gram (`~bayesreg.engine.proximal.minimise_quadratic_l1`: exact zeros), and a
backtracking line search on ``F`` itself needs one matrix-vector product for the direction and
O(n) per trial. Nothing is compiled; for n = 100,000 rows and p = 100 columns a step is about 0.1 s.

With the negative binomial's dispersion ``α`` given a prior, the weights given ``α`` and ``α`` given
the weights are found in turn (the MAP in ``α`` itself, no Jacobian, as an ``AutoDelta`` guide
finds it) until ``α`` changes by less than ``1e-10`` relative: the mean and the dispersion of the
NB2 model are orthogonal parameters (their Fisher information is 0), so a few rounds suffice,
where a joint Newton step from a cold start can meet an indefinite Hessian in ``(w, log α)``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np
import numpyro.distributions as dist
import scipy.linalg.blas
from scipy.special import digamma, expit, gammaln, polygamma

from bayesreg.engine.proximal import kkt_residual, minimise_quadratic_l1, soft_threshold

__all__ = ["GLM_FAMILIES", "GLMMode", "glm_map", "log_dispersion_newton"]

GLM_FAMILIES = ("bernoulli", "poisson", "negative_binomial")  # the likelihoods `glm_map` knows

_RTOL = 8 * np.finfo(float).eps  # residual entries at the round-off of their terms count as 0
_DISPERSION_RTOL = 1e-10  # the rounds over α stop when it changes by less than this, relatively


class GLMMode(NamedTuple):
    """The MAP `glm_map` found.

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``coef`` (n_features,), ``intercept`` () when fitted, ``dispersion`` () when estimated.
    num_steps : int
        Proximal Newton steps taken (summed over the rounds), plus Newton steps on the dispersion.
    residual : float
        Largest minimum-norm subgradient entry of the negative log joint at ``params`` (intercept
        included), relative to the larger of its values at the start and at 0; with the dispersion
        estimated, the larger of that and its relative stationarity residual.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.engine.glm import glm_map
    >>> X, y = np.array([[0.0], [1.0], [2.0], [3.0]]), np.array([1.0, 0.0, 3.0, 4.0])
    >>> mode = glm_map("poisson", X, y)
    >>> sorted(mode.params), mode.residual <= 1e-10
    (['coef', 'intercept'], True)
    """

    params: dict
    num_steps: int
    residual: float


def _loss(family, log_r=None):
    """``(value, derivatives)`` of ``Σ ℓ(η_i, y_i)`` for a family: ``value(η, y)`` the sum (up to a
    constant in ``η``), ``derivatives(η, y)`` the first and second derivatives per row."""
    if family == "poisson":

        def value(eta, y):
            return float(np.sum(np.exp(eta) - y * eta))

        def derivatives(eta, y):
            mu = np.exp(eta)
            return mu - y, mu

    elif family == "bernoulli":

        def value(eta, y):
            return float(np.sum(np.logaddexp(0.0, eta) - y * eta))

        def derivatives(eta, y):
            p = expit(eta)
            return p - y, p * (1.0 - p)

    else:  # NB2 with r = 1/α: ℓ = (y + r) log(r + μ) − y η, μ/(r + μ) = expit(η − log r)
        r = np.exp(log_r)

        def value(eta, y):
            return float(np.sum((y + r) * np.logaddexp(log_r, eta) - y * eta))

        def derivatives(eta, y):
            share = expit(eta - log_r)
            return (y + r) * share - y, (y + r) * share * (1.0 - share)

    return value, derivatives


def _gram(X, columns, weights):
    """``[X_S 1]ᵀ diag(weights) [X_S 1]`` for the columns ``S`` of ``X`` (the intercept's column of
    ones last): one BLAS ``syrk`` on ``√weights · [X_S 1]`` in Fortran order."""
    root = np.sqrt(weights)
    scaled = np.empty((X.shape[0], len(columns) + 1), order="F")
    for j, column in enumerate(columns):  # column by column: contiguous in Fortran order
        np.multiply(X[:, column], root, out=scaled[:, j])
    scaled[:, -1] = root
    upper = scipy.linalg.blas.dsyrk(1.0, scaled, trans=1)
    return np.triu(upper) + np.triu(upper, 1).T


def _weights_mode(value, derivatives, X, y, offset, l1, l2, theta, fit_intercept, tol, max_steps):
    """Proximal Newton on ``F`` from ``theta = (w, b)``: ``(theta, steps, residual)`` with the
    residual relative to the larger of its values at ``theta`` and at 0 (above ``tol`` when
    ``max_steps`` steps did not reach it, or a line search found no decrease)."""
    p = X.shape[1]
    l1_full = np.append(l1, 0.0)  # the intercept is never penalised
    l2_full = np.append(l2, 0.0)
    free = np.ones(p + 1, dtype=bool)
    free[p] = fit_intercept

    def linear(theta):
        return X @ theta[:p] + (theta[p] + offset)

    def objective(theta, eta):
        return value(eta, y) + l1_full @ np.abs(theta) + 0.5 * (l2_full @ theta**2)

    def gradient(theta, first):
        return np.append(X.T @ first, first.sum() if fit_intercept else 0.0) + l2_full * theta

    zero = np.zeros(p + 1)
    scale = kkt_residual(zero, gradient(zero, derivatives(offset + 0.0 * y, y)[0]), l1_full, rtol=_RTOL)
    eta = linear(theta)
    f = objective(theta, eta)
    for k in range(max_steps + 1):
        first, second = derivatives(eta, y)
        g = gradient(theta, first)
        residual = kkt_residual(theta, g, l1_full, rtol=_RTOL)
        if k == 0:
            scale = max(scale, residual, np.finfo(float).tiny)
        if residual <= tol * scale:
            return theta, k, residual / scale
        if k == max_steps:
            break
        # The working set: the support, and every zero whose gradient is within 10% of leaving its
        # subdifferential (l1 = 0 included). Zeros outside it stay 0 for this step; the residual
        # above checks all of them, and one that should move joins the set at the next step.
        near = np.abs(g[:p]) >= 0.9 * l1 if k > 0 else np.abs(g[:p]) > l1
        columns = np.flatnonzero((theta[:p] != 0) | near)
        block = np.append(columns, p)

        H = _gram(X, columns, second) + np.diag(l2_full[block])
        if not fit_intercept:  # the intercept stays at 0: a decoupled unit row and column
            H[-1, :] = H[:, -1] = 0.0
            H[-1, -1] = 1.0
        z = theta.copy()
        z[block], _ = minimise_quadratic_l1(g[block], H, l1_full[block], theta[block])
        decrease = g @ (z - theta) + l1_full @ (np.abs(z) - np.abs(theta))
        if not (np.isfinite(decrease) and decrease < 0):  # not a descent direction: a proximal gradient step
            step = 1.0 / max(np.max(np.abs(np.diag(H))), 1e-12)
            z = theta.copy()
            z[block] = np.where(free[block], soft_threshold(theta - step * g, step * l1_full)[block], 0.0)
            decrease = g @ (z - theta) + l1_full @ (np.abs(z) - np.abs(theta))
        d = z - theta
        eta_d = X @ d[:p] + d[p]
        slack = 16 * np.finfo(float).eps * abs(f)  # round-off in evaluating F
        t = 1.0
        while t > 1e-12:  # a full step keeps z itself, so its exact zeros survive the arithmetic
            trial = z if t == 1.0 else theta + t * d
            eta_t = eta + t * eta_d
            with np.errstate(over="ignore", invalid="ignore"):
                f_t = objective(trial, eta_t)
            if f_t <= f + 1e-4 * t * decrease + slack:  # NaN (overflow) counts as too long
                break
            t *= 0.5
        else:
            return theta, k, residual / scale
        theta, eta, f = trial, eta_t, f_t
    return theta, max_steps, residual / scale


def _nb_dispersion_terms(eta, y, log_alpha):
    """The NB2 negative log-likelihood as a function of ``u = log α`` (``r = 1/α``) and its first
    two derivatives in ``u``, with the magnitude of the terms the first is summed from."""
    r = np.exp(-log_alpha)
    mu = np.exp(eta)
    log_ratio = np.logaddexp(0.0, eta + log_alpha)  # log(1 + μ/r) = log(r + μ) − log r
    nll = np.sum((y + r) * log_ratio - y * (eta + log_alpha) - gammaln(y + r) + gammaln(r))
    excess = (y + r) / (r + mu) - 1.0
    digammas = digamma(y + r) - digamma(r)
    d_r = np.sum(log_ratio + excess - digammas)  # d/dr of the sum, then d²/dr²
    d_rr = np.sum(1.0 / (r + mu) + (mu - y) / (r + mu) ** 2 - 1.0 / r - polygamma(1, y + r) + polygamma(1, r))
    magnitude = r * np.sum(np.abs(log_ratio) + np.abs(excess) + np.abs(digammas))
    # u = −log r: d/du = −r d/dr, d²/du² = r d/dr + r² d²/dr²
    return float(nll), float(-r * d_r), float(r * d_r + r * r * d_rr), float(magnitude)


@jax.jit
def _log_prior_terms(prior, log_alpha):
    """``−log p(α)`` at ``α = e^u`` and its first two derivatives in ``u`` (the prior's log-density
    in ``α`` itself: a MAP has no Jacobian term)."""

    def neg_log(u):
        return -prior.log_prob(jax.numpy.exp(u))

    return neg_log(log_alpha), jax.grad(neg_log)(log_alpha), jax.grad(jax.grad(neg_log))(log_alpha)


def _dispersion_mode(eta, y, prior, log_alpha, tol, max_steps=100):
    """The mode of ``u = log α`` given the linear predictor: safeguarded Newton on the NB2 negative
    log-likelihood minus the prior's log-density. Returns ``(u, steps, relative residual)``."""

    def terms(u):
        nll, g, h, magnitude = _nb_dispersion_terms(eta, y, u)
        with jax.enable_x64(True):
            value_p, g_p, h_p = (float(v) for v in _log_prior_terms(prior, np.float64(u)))
        return nll + value_p, g + g_p, h + h_p, magnitude + abs(g_p)

    return log_dispersion_newton(terms, log_alpha, tol, max_steps)


def log_dispersion_newton(terms, log_alpha: float, tol: float, max_steps: int = 100) -> tuple:
    """Minimise ``f(u)`` over the negative binomial's ``u = log α`` by safeguarded Newton steps.

    ``terms(u)`` returns ``(f, f′, f″, magnitude)``, ``magnitude`` the scale of the terms summed
    into ``f′`` (so that ``|f′| / magnitude`` is a relative residual). Each step is Newton's
    ``−f′/f″`` (``−sign f′`` where ``f″ ≤ 0``), clipped to ``|step| ≤ 2`` (α changes by at most e²),
    then halved until Armijo's test ``f(u + t·step) ≤ f(u) + 10⁻⁴ t f′ step`` holds up to the
    round-off of ``f``. It stops when the relative residual is at most ``tol``, after
    ``max_steps`` steps, or when no halving down to 1e-12 decreases ``f``. `glm_map` calls it on the
    rows in memory and `bayesreg.large` with ``terms`` a pass over a Dask data set's partitions.

    Parameters
    ----------
    terms : callable
        ``u ↦ (f, f′, f″, magnitude)``, floats.
    log_alpha : float
        The start.
    tol : float
        The relative residual to stop at.
    max_steps : int, default=100

    Returns
    -------
    tuple
        ``(u, steps, relative residual)``.

    Examples
    --------
    ``f(u) = e^u − 2u``, minimised at ``u = log 2``:

    >>> import numpy as np
    >>> from bayesreg.engine.glm import log_dispersion_newton
    >>> u, steps, residual = log_dispersion_newton(
    ...     lambda u: (np.exp(u) - 2 * u, np.exp(u) - 2, np.exp(u), np.exp(u) + 2), 0.0, 1e-12)
    >>> bool(abs(u - np.log(2)) < 1e-12), bool(residual <= 1e-12)
    (True, True)
    """

    def relative(g, magnitude):
        return abs(g) / max(magnitude, np.finfo(float).tiny)

    f, g, h, magnitude = terms(log_alpha)
    for k in range(max_steps):
        if relative(g, magnitude) <= tol:
            return log_alpha, k, relative(g, magnitude)
        step = -g / h if h > 0 and np.isfinite(h) else -np.sign(g)
        step = float(np.clip(step, -2.0, 2.0))  # α changes by at most e² per step
        t = 1.0
        while t > 1e-12:
            f_t, g_t, h_t, m_t = terms(log_alpha + t * step)
            if np.isfinite(f_t) and f_t <= f + 1e-4 * t * g * step + 16 * np.finfo(float).eps * abs(f):
                break
            t *= 0.5
        else:
            return log_alpha, k, relative(g, magnitude)
        log_alpha, f, g, h, magnitude = log_alpha + t * step, f_t, g_t, h_t, m_t
    return log_alpha, max_steps, relative(g, magnitude)


def glm_map(
    family: str,
    X,
    y,
    *,
    l1=0.0,
    l2=0.0,
    offset=None,
    dispersion=None,
    fit_intercept: bool = True,
    init: dict | None = None,
    tol: float = 1e-10,
    max_steps: int = 200,
) -> GLMMode:
    """MAP of a GLM with a flat intercept and ``−log p(w) = λ₁‖w‖₁ + (λ₂/2)‖w‖²``, on the host.

    Minimises ``Σᵢ ℓ(ηᵢ, yᵢ) + λ₁‖w‖₁ + (λ₂/2)‖w‖²`` over ``(w, b)`` with ``η = Xw + b + offset``
    (and over the dispersion ``α`` when it has a prior) by proximal Newton steps on the weighted
    Gram (see the module docstring). `~bayesreg.engine.map.map_estimate` runs it for
    `~bayesreg.models.poisson_regression` and `~bayesreg.models.negative_binomial_regression` with
    such a prior, and checks its residual.

    Parameters
    ----------
    family : {"bernoulli", "poisson", "negative_binomial"}
        The likelihood: logit link for the Bernoulli, log link for the counts.
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,)
        0/1 outcomes or non-negative counts.
    l1, l2 : float or array of shape (n_features,)
        The prior's rates ``λ₁`` (Laplace part) and ``λ₂`` (Gaussian part).
    offset : array, shape (n_samples,), optional
        Added to the linear predictor (a log exposure).
    dispersion : float or numpyro Distribution, optional
        The negative binomial's ``α`` (``Var = μ + αμ²``), or its prior (positive support).
    fit_intercept : bool
        Whether ``b`` is fitted (else 0).
    init : dict, optional
        Start by site name (``coef``, ``intercept``, ``dispersion``); otherwise weights 0, the
        intercept at the intercept-only fit's ``log ȳ`` (``logit ȳ`` for the Bernoulli) and ``α = 1``.
    tol : float
        Stop at a relative optimality residual ``<= tol``.
    max_steps : int
        Most proximal Newton steps (per round, when ``α`` is estimated).

    Returns
    -------
    GLMMode
        ``residual`` above ``tol`` means it stopped short (``max_steps``, or a line search that
        found no decrease).

    Examples
    --------
    glum's Poisson lasso ``(1/2n)·deviance + α‖w‖₁`` is this problem at ``λ₁ = nα``; glum at a
    tight tolerance gives the same coefficients and the same zeros:

    >>> import numpy as np
    >>> from glum import GeneralizedLinearRegressor
    >>> from bayesreg.engine.glm import glm_map
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 5))
    >>> y = rng.poisson(np.exp(0.3 + X @ np.array([0.5, 0.0, -0.4, 0.0, 0.1]))).astype(float)
    >>> mode = glm_map("poisson", X, y, l1=200 * 0.05)
    >>> glum = GeneralizedLinearRegressor(family="poisson", alpha=0.05, l1_ratio=1.0, gradient_tol=1e-12)
    >>> glum = glum.fit(X, y)
    >>> mode.params["coef"].round(4), bool(np.allclose(mode.params["coef"], glum.coef_, atol=1e-7))
    (array([ 0.359 ,  0.    , -0.3984, -0.0248,  0.0952]), True)
    """
    if family not in GLM_FAMILIES:
        raise ValueError(f"glm_map: unknown family {family!r}; expected one of {GLM_FAMILIES}")
    X = np.asfortranarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = X.shape
    if y.shape != (n,):
        raise ValueError(f"glm_map: y has shape {y.shape}, expected ({n},) for X of shape {X.shape}")
    offset = np.zeros(n) if offset is None else np.broadcast_to(np.asarray(offset, dtype=float), (n,))
    l1 = np.broadcast_to(np.asarray(l1, dtype=float), (p,))
    l2 = np.broadcast_to(np.asarray(l2, dtype=float), (p,))
    init = dict(init or {})
    theta = np.zeros(p + 1)
    if "coef" in init:
        theta[:p] = np.asarray(init["coef"], dtype=float)
    if fit_intercept and "intercept" in init:
        theta[p] = float(np.asarray(init["intercept"]))
    elif fit_intercept and not np.any(theta[:p]):
        theta[p] = _intercept_start(family, y, offset)
    estimated = isinstance(dispersion, dist.Distribution)
    if family != "negative_binomial":
        value, derivatives = _loss(family)
        theta, steps, residual = _weights_mode(
            value, derivatives, X, y, offset, l1, l2, theta, fit_intercept, tol, max_steps
        )
        return _mode(theta, p, fit_intercept, steps, residual, None)
    if not estimated:
        value, derivatives = _loss(family, -np.log(float(dispersion)))
        theta, steps, residual = _weights_mode(
            value, derivatives, X, y, offset, l1, l2, theta, fit_intercept, tol, max_steps
        )
        return _mode(theta, p, fit_intercept, steps, residual, None)
    log_alpha = np.log(float(np.asarray(init.get("dispersion", 1.0))))
    total = 0
    for _ in range(100):
        value, derivatives = _loss(family, -log_alpha)
        theta, steps, residual = _weights_mode(
            value, derivatives, X, y, offset, l1, l2, theta, fit_intercept, tol, max_steps
        )
        total += steps
        if residual > tol:
            return _mode(theta, p, fit_intercept, total, residual, np.exp(log_alpha))
        eta = X @ theta[:p] + theta[p] + offset
        new, k, alpha_residual = _dispersion_mode(eta, y, dispersion, log_alpha, tol)
        total += k
        settled = abs(np.expm1(new - log_alpha)) <= _DISPERSION_RTOL
        log_alpha = new
        if settled:
            return _mode(theta, p, fit_intercept, total, max(residual, alpha_residual), np.exp(log_alpha))
    return _mode(theta, p, fit_intercept, total, max(residual, alpha_residual, tol * 2), np.exp(log_alpha))


def _intercept_start(family, y, offset):
    """The intercept-only fit's intercept where it is closed-form (no offset), else an
    approximation: a start, not a result."""
    mean = float(np.mean(y))
    if family == "bernoulli":
        return float(np.log(mean / (1 - mean))) if 0 < mean < 1 else 0.0
    exposure = float(np.mean(np.exp(offset)))
    return float(np.log(mean / exposure)) if mean > 0 and np.isfinite(exposure) and exposure > 0 else 0.0


def _mode(theta, p, fit_intercept, steps, residual, dispersion) -> GLMMode:
    params = {"coef": theta[:p].copy()}
    if fit_intercept:
        params["intercept"] = np.asarray(theta[p])
    if dispersion is not None:
        params["dispersion"] = np.asarray(dispersion)
    return GLMMode(params, int(steps), float(residual))
