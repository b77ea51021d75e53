"""The linear model with its coefficients integrated out: what NUTS samples whatever the columns' units.

Given the noise sd σ and a Gaussian prior ``coef_j ~ N(0, v_j)`` the coefficients are Gaussian a
posteriori, and so is a flat intercept given them, so both integrate out of the likelihood in closed
form. Left to sample are σ (when it is not fixed) and, for a Laplace prior written as the
normal–exponential scale mixture, the variances ``v_j ~ Exponential(rate = λ₁(σ)²/2)`` (site
``coef_var``): a posterior on positive scales whose shape does not depend on the columns' units or
their correlation. The sparsity priors of `bayesreg.shrinkage` (horseshoe, regularised horseshoe,
R2D2) and the hierarchical priors of `bayesreg.hierarchical` are Gaussian scale mixtures too: their
scale sites (``tau``, ``lambda``, ``lambda_sq``, ``psi``, ...) are sampled and
each weight's prior variance follows from them
(`~bayesreg.models.shrinkage.sample_shrinkage_variance`); sampled directly, their posteriors
diverge where a weight pinned by the data meets a small scale, and with the weights integrated out
that funnel is gone. ``coef`` and ``intercept`` are then drawn exactly from their conditional
posterior at each draw, as deterministic sites computed from the key of a ``seed`` handler
(`numpyro.prng_key`): under NUTS's potential (no seed) they are not computed at all.

With the centred statistics of `~bayesreg.models.SufficientStats` (no centring without an
intercept), prior precisions ``D = diag(1/v)`` and ``A = Xc'Xc/σ² + D``, ``c = Xc'yc/σ²``:

.. math::

    \\log p(y \\mid σ, v) = -\\tfrac{n - k}{2}\\log(2πσ^2) - \\tfrac{k}{2}\\log n
        + \\tfrac12\\log|D| - \\tfrac12\\log|A| - \\tfrac12\\left(y_c'y_c/σ^2 - c'A^{-1}c\\right),

with ``k = 1`` for a flat intercept (integrated out) and 0 without one; then
``coef | σ, v, y ~ N(A⁻¹c, A⁻¹)`` and ``intercept | coef, σ, y ~ N(ȳ − x̄'coef, σ²/n)``. The
algebra runs on the columns scaled to unit norm (``A = S Ã S`` with ``S = diag(‖Xc_j‖)``), so one
Cholesky factor of a well-conditioned p × p matrix serves the density and the draws, whatever the
units.

When there are more weights than rows (p > n) the same density and draws come from one n × n
Cholesky factor instead (`rows_posterior`, from the centred rows `CentredRows`): with
``Φ = Xc/σ``, ``α = yc/σ`` and ``M = I + Φ V Φ'`` (``V = diag(v)``), the determinant lemma and
Woodbury's identity give ``|A|·|V| = |M|`` and ``yc'yc/σ² − c'A⁻¹c = α'M⁻¹α``, and a draw of
``coef`` is Bhattacharya, Chakraborty & Mallick (2016)'s: ``u ~ N(0, V)``, ``δ ~ N(0, I)``,
``coef = u + VΦ'M⁻¹(α − Φu − δ)``. Each gradient then costs O(n²p) instead of O(p³).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from bayesreg.hierarchical import HIERARCHICAL_PRIORS
from bayesreg.models.linear import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.models.shrinkage import SHRINKAGE_TYPES, ShrinkagePrior, sample_shrinkage_variance
from bayesreg.models.sites import sample_sigma
from bayesreg.priors import Prior
from bayesreg.shrinkage import SHRINKAGE_PRIORS

__all__ = [
    "COLLAPSIBLE_PRIORS",
    "CentredRows",
    "CoefficientPosterior",
    "RowsPosterior",
    "coefficient_posterior",
    "collapsed_form",
    "linear_regression_collapsed",
    "rows_posterior",
]

COLLAPSIBLE_PRIORS = (
    None,
    "gaussian",
    "laplace",
    *SHRINKAGE_PRIORS,
    *(cls.kind for cls in HIERARCHICAL_PRIORS.values()),
)
"""The priors on ``coef`` under which `linear_regression_collapsed` integrates the coefficients out:
flat (None), Gaussian, Laplace (as the normal–exponential scale mixture), the sparsity priors of
`bayesreg.shrinkage` ("horseshoe", "regularized_horseshoe", "r2d2") and the hierarchical priors of
`bayesreg.hierarchical` ("hierarchical_laplace", "hierarchical_gaussian"). The elastic-net prior is no
Gaussian scale mixture with a closed-form mixing density, so it is sampled directly."""


class CoefficientPosterior(NamedTuple):
    """The Gaussian posterior of the coefficients given σ and their prior variances, on the columns
    scaled to unit norm.

    Attributes
    ----------
    scale : array, shape (p,)
        ``S``: the norms of the centred columns (1 for a column of zeros).
    cholesky : array, shape (p, p)
        Lower Cholesky factor ``L`` of ``Ã = S⁻¹ (Xc'Xc/σ² + D) S⁻¹``.
    whitened : array, shape (p,)
        ``L⁻¹ S⁻¹ c``: the posterior mean of the scaled coefficients is ``L⁻ᵀ`` times it, and
        ``c'A⁻¹c`` its squared norm.
    log_marginal : array, shape ()
        ``log p(y | σ, v)`` (up to a constant for the flat prior).

    Examples
    --------
    `coefficient_posterior` makes one; its draws have its mean and the covariance ``A⁻¹``:

    >>> import jax, numpy as np
    >>> from bayesreg.models import SufficientStats
    >>> from bayesreg.models.collapsed import coefficient_posterior
    >>> rng = np.random.default_rng(1)
    >>> X, y = rng.normal(size=(10, 2)) * [1e-3, 1e4], rng.normal(size=10)
    >>> post = coefficient_posterior(SufficientStats.from_data(X, y), np.float64(1.0), np.ones(2))
    >>> draws = jax.vmap(post.draw)(jax.random.split(jax.random.PRNGKey(0), 100_000))
    >>> Xc = X - X.mean(axis=0)
    >>> covariance = np.linalg.inv(Xc.T @ Xc + np.eye(2))
    >>> sd = np.sqrt(np.diag(covariance))
    >>> bool(np.all(np.abs(np.cov(draws.T) - covariance) < 0.02 * np.outer(sd, sd)))
    True
    >>> bool(np.all(np.abs(draws.mean(axis=0) - post.mean()) < 0.02 * sd))
    True
    """

    scale: jax.Array
    cholesky: jax.Array
    whitened: jax.Array
    log_marginal: jax.Array

    def mean(self) -> jax.Array:
        """The posterior mean of ``coef``, shape (p,)."""
        scaled = jax.scipy.linalg.solve_triangular(self.cholesky, self.whitened, trans=1, lower=True)
        return scaled / self.scale

    def draw(self, key) -> jax.Array:
        """One draw of ``coef`` from its posterior, shape (p,)."""
        noise = jax.random.normal(key, self.whitened.shape, self.whitened.dtype)
        scaled = jax.scipy.linalg.solve_triangular(self.cholesky, self.whitened + noise, trans=1, lower=True)
        return scaled / self.scale


def coefficient_posterior(stats: SufficientStats, sigma, prior_variance, *, fit_intercept: bool = True):
    """The Gaussian posterior of ``coef`` given ``sigma`` and the prior variances, and ``log p(y | σ, v)``.

    Parameters
    ----------
    stats : SufficientStats
        Of the data, centred when ``fit_intercept``.
    sigma : array, shape ()
        The noise sd.
    prior_variance : array, shape (p,) or None
        ``v``: ``coef_j ~ N(0, v_j)`` a priori; None for a flat prior (the log marginal is then up to a
        constant).
    fit_intercept : bool
        Whether a flat intercept is integrated out (``k = 1`` in the module's formula).

    Returns
    -------
    CoefficientPosterior

    Examples
    --------
    The mean is the ridge estimate and the log marginal the Gaussian log density of y under the
    prior predictive ``N(Xβ₀ + b, σ²I + X diag(v) X')`` integrated over a flat intercept (here:
    without one, so the prior predictive itself):

    >>> import numpy as np
    >>> from scipy.stats import multivariate_normal
    >>> from bayesreg.models import SufficientStats
    >>> from bayesreg.models.collapsed import coefficient_posterior
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 3)) * [1.0, 1e3, 1e-3], rng.normal(size=20)
    >>> stats = SufficientStats.from_data(X, y, center=False)
    >>> v = np.array([0.5, 2.0, 3.0])
    >>> post = coefficient_posterior(stats, np.float64(0.7), v, fit_intercept=False)
    >>> ridge = np.linalg.solve(X.T @ X / 0.49 + np.diag(1 / v), X.T @ y / 0.49)
    >>> bool(np.allclose(post.mean(), ridge, rtol=1e-9))
    True
    >>> exact = multivariate_normal(np.zeros(20), 0.49 * np.eye(20) + X @ np.diag(v) @ X.T).logpdf(y)
    >>> bool(np.isclose(post.log_marginal, exact, rtol=1e-9))
    True
    """
    n, p = stats.n, stats.xty.shape[0]
    diagonal = jnp.diagonal(stats.xtx)
    scale = jnp.where(diagonal > 0, jnp.sqrt(jnp.where(diagonal > 0, diagonal, 1.0)), 1.0)
    variance = sigma * sigma
    matrix = stats.xtx / jnp.outer(scale, scale) / variance
    if prior_variance is not None:
        scaled_variance = prior_variance * scale * scale
        matrix = matrix + jnp.diag(1.0 / scaled_variance)
    cholesky = jnp.linalg.cholesky(matrix)
    whitened = jax.scipy.linalg.solve_triangular(cholesky, stats.xty / scale / variance, lower=True)
    k = 1.0 if fit_intercept else 0.0
    log_marginal = (
        -0.5 * (n - k) * jnp.log(2.0 * jnp.pi * variance)
        - 0.5 * k * jnp.log(n)
        - jnp.sum(jnp.log(jnp.diagonal(cholesky)))
        - 0.5 * (stats.yty / variance - whitened @ whitened)
    )
    if prior_variance is not None:
        log_marginal = log_marginal - 0.5 * jnp.sum(jnp.log(scaled_variance))
    else:
        log_marginal = log_marginal + 0.5 * p * jnp.log(2.0 * jnp.pi) - jnp.sum(jnp.log(scale))
    return CoefficientPosterior(scale, cholesky, whitened, log_marginal)


class CentredRows(NamedTuple):
    """The data's rows, centred when the model has an intercept: what `rows_posterior` needs when
    there are more weights than rows (its cost is O(n²p), where the statistics' is O(p³)).

    Attributes
    ----------
    n : array, shape ()
        Rows.
    x_mean : array, shape (p,)
        The columns' means (zeros without centring).
    y_mean : array, shape ()
        The target's mean (0 without centring).
    x : array, shape (n, p)
        ``X − x̄``.
    y : array, shape (n,)
        ``y − ȳ``.

    Examples
    --------
    >>> import numpy as np
    >>> from bayesreg.models.collapsed import CentredRows
    >>> rows = CentredRows.from_data(np.array([[1.0, 2.0], [3.0, 6.0]]), np.array([1.0, 0.0]))
    >>> rows.x.tolist(), rows.y.tolist(), float(rows.n)
    ([[-1.0, -2.0], [1.0, 2.0]], [0.5, -0.5], 2.0)
    """

    n: jax.Array
    x_mean: jax.Array
    y_mean: jax.Array
    x: jax.Array
    y: jax.Array

    @classmethod
    def from_data(cls, X, y, *, center: bool = True) -> CentredRows:
        """The rows of ``X`` (n, p) and ``y`` (n,) as NumPy float64 arrays, centred when ``center``."""
        import numpy as np

        X, y = np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.float64)
        x_mean = X.mean(axis=0) if center else np.zeros(X.shape[1])
        y_mean = y.mean() if center else np.float64(0.0)
        return cls(np.float64(X.shape[0]), x_mean, np.float64(y_mean), X - x_mean, y - y_mean)


class RowsPosterior(NamedTuple):
    """The Gaussian posterior of the coefficients given σ and their prior variances, from the rows:
    `CoefficientPosterior`'s ``mean``, ``draw`` and ``log_marginal`` through one n × n Cholesky factor.

    Attributes
    ----------
    design : array, shape (n, p)
        ``Φ = Xc/σ``.
    variance : array, shape (p,)
        The prior variances ``v``.
    cholesky : array, shape (n, n)
        Lower Cholesky factor ``L`` of ``M = I + Φ V Φ'``.
    target : array, shape (n,)
        ``α = yc/σ``.
    log_marginal : array, shape ()
        ``log p(y | σ, v)``.

    Examples
    --------
    `rows_posterior` makes one; its draws have the mean and covariance ``A⁻¹ = (Xc'Xc/σ² + V⁻¹)⁻¹``:

    >>> import jax, numpy as np
    >>> from bayesreg.models.collapsed import CentredRows, rows_posterior
    >>> rng = np.random.default_rng(2)
    >>> X, y, v = rng.normal(size=(3, 4)), rng.normal(size=3), np.array([0.5, 1.0, 2.0, 4.0])
    >>> rows = CentredRows.from_data(X, y)
    >>> post = rows_posterior(rows, np.float64(1.0), v)
    >>> draws = jax.vmap(post.draw)(jax.random.split(jax.random.PRNGKey(0), 100_000))
    >>> covariance = np.linalg.inv(rows.x.T @ rows.x + np.diag(1 / v))
    >>> sd = np.sqrt(np.diag(covariance))
    >>> bool(np.all(np.abs(np.cov(draws.T) - covariance) < 0.02 * np.outer(sd, sd)))
    True
    >>> bool(np.all(np.abs(draws.mean(axis=0) - covariance @ rows.x.T @ rows.y) < 0.02 * sd))
    True
    """

    design: jax.Array
    variance: jax.Array
    cholesky: jax.Array
    target: jax.Array
    log_marginal: jax.Array

    def _solve(self, rhs):
        return jax.scipy.linalg.cho_solve((self.cholesky, True), rhs)

    def mean(self) -> jax.Array:
        """The posterior mean of ``coef``, shape (p,): ``VΦ'M⁻¹α``."""
        return self.variance * (self.design.T @ self._solve(self.target))

    def draw(self, key) -> jax.Array:
        """One draw of ``coef`` from its posterior, shape (p,) (Bhattacharya et al. 2016)."""
        key_u, key_delta = jax.random.split(key)
        dtype = self.target.dtype
        u = jnp.sqrt(self.variance) * jax.random.normal(key_u, self.variance.shape, dtype)
        delta = jax.random.normal(key_delta, self.target.shape, dtype)
        return u + self.variance * (self.design.T @ self._solve(self.target - self.design @ u - delta))


def rows_posterior(rows: CentredRows, sigma, prior_variance, *, fit_intercept: bool = True) -> RowsPosterior:
    """`coefficient_posterior` from the rows, for p > n: ``log p(y | σ, v)`` and the Gaussian
    posterior of ``coef`` through the n × n matrix ``M = I + Xc V Xc'/σ²`` (the module's formulas).

    Parameters
    ----------
    rows : CentredRows
        Of the data, centred when ``fit_intercept``.
    sigma : array, shape ()
        The noise sd.
    prior_variance : array, shape (p,)
        ``v``: ``coef_j ~ N(0, v_j)`` a priori (a proper prior: with p > n a flat one leaves the
        posterior improper).
    fit_intercept : bool
        Whether a flat intercept is integrated out.

    Returns
    -------
    RowsPosterior

    Examples
    --------
    The same log marginal and mean as `coefficient_posterior` on the statistics of the same data,
    with more weights than rows:

    >>> import numpy as np
    >>> from bayesreg.models import SufficientStats
    >>> from bayesreg.models.collapsed import CentredRows, coefficient_posterior, rows_posterior
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(6, 9)) * np.geomspace(1e-2, 1e2, 9), rng.normal(size=6)
    >>> v, sigma = rng.gamma(1.0, size=9), np.float64(0.8)
    >>> by_rows = rows_posterior(CentredRows.from_data(X, y), sigma, v)
    >>> by_stats = coefficient_posterior(SufficientStats.from_data(X, y), sigma, v)
    >>> bool(np.isclose(by_rows.log_marginal, by_stats.log_marginal, rtol=1e-10))
    True
    >>> bool(np.allclose(by_rows.mean(), by_stats.mean(), rtol=1e-8))
    True
    """
    n = rows.y.shape[0]
    design = rows.x / sigma
    target = rows.y / sigma
    # σ scales the n × n product, not the n × p design: its gradient then costs no O(n²p) pass
    matrix = jnp.eye(n, dtype=design.dtype) + (rows.x * prior_variance) @ rows.x.T / (sigma * sigma)
    cholesky = jnp.linalg.cholesky(matrix)
    whitened = jax.scipy.linalg.solve_triangular(cholesky, target, lower=True)
    k = 1.0 if fit_intercept else 0.0
    log_marginal = (
        -0.5 * (rows.n - k) * jnp.log(2.0 * jnp.pi * sigma * sigma)
        - 0.5 * k * jnp.log(rows.n)
        - jnp.sum(jnp.log(jnp.diagonal(cholesky)))
        - 0.5 * whitened @ whitened
    )
    return RowsPosterior(design, prior_variance, cholesky, target, log_marginal)


def linear_regression_collapsed(
    stats: SufficientStats | CentredRows,
    *,
    prior: Prior | ShrinkagePrior | None,
    sigma=1.0,
    intercept_prior=None,
    fit_intercept: bool = True,
):
    """The posterior of `~bayesreg.models.linear_regression_stats` with ``coef`` and the intercept
    integrated out of the sampled density and drawn exactly at each draw.

    Sample sites: ``sigma`` (when ``sigma`` is a distribution) and, for a Laplace prior,
    ``coef_var`` (shape (p,)): the scale-mixture variances; for a sparsity prior of
    `bayesreg.shrinkage`, its scale sites (`~bayesreg.models.shrinkage.sample_shrinkage_variance`:
    ``tau`` and ``lambda``; also ``slab_aux`` for the regularised horseshoe; ``local``, ``global``
    and ``psi`` for R2D2; ``lambda_sq`` and ``psi`` for the hierarchical Laplace prior, ``tau`` for
    the hierarchical Gaussian one). Deterministic sites, under a ``seed`` handler only (as
    `~bayesreg.engine.chains.sample_chains` gives the draws): ``coef`` and ``intercept``, one exact
    draw from their conditional posterior, and for a sparsity prior ``coef_z``, ``coef`` divided by
    its prior sd (the direct form's non-centred weights). The factor ``y`` is ``log p(y | σ, v)``.
    The joint law of every site is the posterior of `~bayesreg.models.linear_regression_stats`
    (with its Laplace prior as the scale mixture).

    Parameters
    ----------
    stats : SufficientStats or CentredRows
        Of the data, centred when ``fit_intercept``: the statistics (each density evaluation one
        p × p Cholesky factor) or, for more weights than rows, the rows (`rows_posterior`: one
        n × n factor; a proper prior only).
    prior : Prior, a sparsity prior, a hierarchical prior or None
        Gaussian, Laplace, a sparsity prior of `bayesreg.shrinkage`, a hierarchical prior of
        `bayesreg.hierarchical` or None (flat): see `COLLAPSIBLE_PRIORS`.
    sigma : float or numpyro Distribution
        A fixed noise sd, or the prior of the site ``sigma``.
    intercept_prior : None
        Only the flat intercept integrates out here (the estimators' and the command line's).
    fit_intercept : bool
        Without it the intercept is 0 and not a site.

    Examples
    --------
    Under NUTS's potential only σ and the variances are sampled; with a seed the coefficients come
    as deterministic draws:

    >>> import numpy as np
    >>> import numpyro.distributions as dist
    >>> from numpyro import handlers
    >>> from bayesreg.models import SufficientStats, linear_regression_collapsed
    >>> from bayesreg.priors import prior_from_penalty
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 2))
    >>> stats = SufficientStats.from_data(X, X @ [1.0, -0.5] + rng.normal(size=30))
    >>> kwargs = {"prior": prior_from_penalty("laplace", 0.1, n_samples=30), "sigma": dist.Exponential(1.0)}
    >>> trace = handlers.trace(handlers.seed(linear_regression_collapsed, 0)).get_trace(stats, **kwargs)
    >>> [(name, site["type"]) for name, site in trace.items()]  # doctest: +NORMALIZE_WHITESPACE
    [('sigma', 'sample'), ('coef_var', 'sample'), ('y', 'sample'), ('coef', 'deterministic'),
     ('intercept', 'deterministic')]
    """
    if intercept_prior is not None:
        raise ValueError("linear_regression_collapsed integrates out a flat intercept only")
    sd = sample_sigma(sigma)
    rows = isinstance(stats, CentredRows)
    p = stats.x.shape[1] if rows else stats.xty.shape[0]
    if isinstance(prior, SHRINKAGE_TYPES):
        variance = sample_shrinkage_variance(p, prior, sd)
    elif prior is None:
        if rows:
            raise ValueError("the rows' form of the collapsed model needs a proper prior on coef")
        variance = None
    elif prior.kind == "gaussian":
        variance = jnp.full((p,), 1.0 / prior.rates(sd)[1])
    elif prior.kind == "laplace":
        rate = 1.0 / prior.rates(sd)[0]  # the Laplace scale b: v ~ Exponential(1/(2b²))
        variance = numpyro.sample("coef_var", dist.Exponential(0.5 / rate**2).expand((p,)).to_event(1))
    else:
        raise ValueError(f"no Gaussian scale mixture with a closed-form mixing law: {prior.kind} prior")
    make_posterior = rows_posterior if rows else coefficient_posterior
    posterior = make_posterior(stats, sd, variance, fit_intercept=fit_intercept)
    numpyro.factor("y", posterior.log_marginal)
    key = numpyro.prng_key()
    if key is None:  # NUTS's potential: the coefficients are integrated out
        return
    key_coef, key_intercept = jax.random.split(key)
    coef = numpyro.deterministic("coef", posterior.draw(key_coef))
    if isinstance(prior, SHRINKAGE_TYPES):
        numpyro.deterministic("coef_z", coef / jnp.sqrt(variance))
    if fit_intercept:
        mean = stats.y_mean - stats.x_mean @ coef
        noise = jax.random.normal(key_intercept, (), mean.dtype)
        numpyro.deterministic("intercept", mean + noise * sd / jnp.sqrt(stats.n))


def collapsed_form(model, args: tuple, kwargs: dict) -> tuple:
    """``(linear_regression_collapsed, (stats,))``: the same posterior as ``model(*args, **kwargs)``
    with the coefficients integrated out.

    It exists for the Gaussian likelihood (`~bayesreg.models.linear_regression_stats` with its
    statistics, or `~bayesreg.models.linear_regression` with ``X`` and an observed ``y``) under a
    prior of `COLLAPSIBLE_PRIORS` and a flat intercept (or none), when something is left to sample:
    a noise sd with a prior, the variances of a Laplace prior, or a sparsity prior's scales. The
    data come as `~bayesreg.models.SufficientStats`, or as `CentredRows` for a sparsity prior with
    more columns than rows (each density evaluation is then O(n²p) instead of O(p³)).

    Raises
    ------
    ValueError
        Saying why there is no collapsed form.

    Examples
    --------
    >>> import numpy as np
    >>> import numpyro.distributions as dist
    >>> from bayesreg.models import linear_regression, linear_regression_collapsed
    >>> from bayesreg.models.collapsed import collapsed_form
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.eye(3), np.arange(3.0)
    >>> flat = {"prior": None, "sigma": dist.Exponential(1.0)}
    >>> model, (stats,) = collapsed_form(linear_regression, (X, y), flat)
    >>> model is linear_regression_collapsed, stats.xtx.shape
    (True, (3, 3))
    >>> ridge = {"prior": prior_from_penalty("gaussian", 1.0), "sigma": 1.0}
    >>> collapsed_form(linear_regression, (X, y), ridge)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: nothing is left to sample once the coefficients are integrated out (a fixed sigma ...

    The horseshoe on more columns than rows takes the rows:

    >>> from bayesreg.shrinkage import Horseshoe
    >>> model, (rows,) = collapsed_form(linear_regression, (np.ones((3, 5)), y), {"prior": Horseshoe()})
    >>> type(rows).__name__, rows.x.shape
    ('CentredRows', (3, 5))
    """
    prior = kwargs.get("prior")
    kind = None if prior is None else prior.kind
    if model is linear_regression_stats:
        (stats,) = args
    elif model is linear_regression and len(args) == 2 and args[1] is not None:
        X, y = args
        center = kwargs.get("fit_intercept", True)
        by_rows = isinstance(prior, SHRINKAGE_TYPES) and X.shape[1] > X.shape[0]
        stats = (CentredRows if by_rows else SufficientStats).from_data(X, y, center=center)
    else:
        name = getattr(model, "__name__", repr(model))
        raise ValueError(f"the coefficients integrate out of the Gaussian linear model only, not of {name}")
    if kind not in COLLAPSIBLE_PRIORS:
        raise ValueError(
            "the coefficients integrate out under a flat, Gaussian, Laplace, sparsity or hierarchical "
            f"prior, not {kind}"
        )
    if kwargs.get("intercept_prior") is not None:
        raise ValueError("the coefficients integrate out with a flat intercept, not with an intercept_prior")
    if kind in (None, "gaussian") and not isinstance(kwargs.get("sigma", 1.0), dist.Distribution):
        raise ValueError(
            "nothing is left to sample once the coefficients are integrated out (a fixed sigma and a "
            "Gaussian or flat prior): the posterior is Gaussian"
        )
    return linear_regression_collapsed, (stats,)
