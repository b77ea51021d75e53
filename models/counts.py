"""Count regressions with a log link: Poisson and negative binomial (NB2), with a prior on the weights.

The linear predictor ``η_i = b + x_iᵀw + offset_i`` is the log of the mean count; ``offset`` is the
log of an exposure (time at risk, population), whose coefficient is fixed at 1.

.. math::

    \\text{Poisson:}\\quad y_i \\sim \\mathrm{Poisson}(e^{η_i}), \\qquad
    -\\log p(y_i \\mid η_i) = e^{η_i} − y_i η_i + \\log y_i!

    \\text{NB2:}\\quad y_i \\sim \\mathrm{NB}(μ_i = e^{η_i},\\ α), \\qquad
    \\mathrm{Var}(y_i) = μ_i + α μ_i^2,

the negative binomial being the Poisson whose rate is ``μ_i`` times a Gamma variable of mean 1 and
variance ``α`` (concentration ``r = 1/α``): ``−log p(y_i | η_i) = (y_i + r) log(r + μ_i) − y_i η_i −
r log r − log Γ(y_i + r) + log Γ(r) + log y_i!``. ``α`` is statsmodels' ``NegativeBinomial(alpha=...)``
and glum's ``theta``; ``α → 0`` is the Poisson model.

With ``α`` fixed, half the deviance of either family is the negative log-likelihood minus a constant,
so a penalised GLM fit (glum, scikit-learn's ``PoissonRegressor``, statsmodels' ``fit_regularized``)
is the MAP under the prior of `bayesreg.priors.prior_from_penalty` with that ``family`` and
``convention``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import gammaln
from numpyro.distributions.util import validate_sample

from bayesreg.models.sites import sample_scalar, sample_weights
from bayesreg.priors import Prior

__all__ = ["negative_binomial_regression", "poisson_regression"]


class _PoissonLogRate(dist.Poisson):
    """``Poisson(exp(log_rate))`` whose log-density is written in ``log_rate``: ``yη − e^η − log y!``
    (no ``log(exp(η))`` round trip, and no ``0·log 0`` where ``e^η`` underflows)."""

    def __init__(self, log_rate, *, validate_args=None):
        self.log_rate = log_rate
        super().__init__(jnp.exp(log_rate), validate_args=validate_args)

    @validate_sample
    def log_prob(self, value):
        return value * self.log_rate - jnp.exp(self.log_rate) - gammaln(value + 1.0)


class _NegativeBinomialLogMean(dist.NegativeBinomial2):
    """``NegativeBinomial2(exp(log_mean), concentration)`` whose log-density is written in
    ``log_mean`` with ``log(r + μ) = logaddexp(log r, η)``: finite for any η (a Newton trial step of
    a MAP may go far)."""

    def __init__(self, log_mean, concentration, *, validate_args=None):
        self.log_mean = log_mean
        super().__init__(jnp.exp(log_mean), concentration, validate_args=validate_args)

    @validate_sample
    def log_prob(self, value):
        r = self.concentration
        log_r = jnp.log(r)
        log_total = jnp.logaddexp(log_r, self.log_mean)  # log(r + μ)
        return (
            gammaln(value + r)
            - gammaln(r)
            - gammaln(value + 1.0)
            + r * (log_r - log_total)
            + value * (self.log_mean - log_total)
        )


def _log_mean(X, prior, offset, intercept_prior, fit_intercept, conditioning):
    coef, intercept = sample_weights(
        X.shape[1],
        prior,
        intercept_prior=intercept_prior,
        fit_intercept=fit_intercept,
        conditioning=conditioning,
    )
    eta = intercept + X @ coef
    return eta if offset is None else eta + offset


def poisson_regression(
    X,
    y=None,
    *,
    prior: Prior | None,
    offset=None,
    intercept_prior=None,
    fit_intercept: bool = True,
    conditioning=None,
):
    """Bayesian Poisson regression (log link), one likelihood term per observation.

    ``y_i ~ Poisson(exp(b + x_iᵀw + offset_i))`` with sites ``coef`` (n_features,), ``intercept``
    (flat unless ``intercept_prior`` is given) and ``y`` in the plate ``"obs"``.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
    y : array of non-negative integers, shape (n_samples,), optional
        Observed counts; ``None`` samples them (prior / posterior predictive).
    prior : Prior or None
        Prior on ``coef``; ``None`` is flat (no penalty). A noise-scaled prior uses σ = 1.
    offset : array, shape (n_samples,), optional
        Added to the linear predictor: the log exposure (coefficient fixed at 1).
    intercept_prior : numpyro Distribution, optional
        Prior of ``intercept``; flat (unpenalised) by default.
    fit_intercept : bool
        Without it the intercept is 0 and not a site.
    conditioning : WeightConditioning, optional
        Under a sparsity or hierarchical prior, the Gaussian approximation of the likelihood by which
        the sampled weights are standardised (`~bayesreg.models.shrinkage.sample_shrinkage_coef`):
        the same posterior, another geometry.

    Examples
    --------
    The log posterior density is the Poisson log-likelihood at rate ``exposure·exp(b + xᵀw)`` plus the
    log-prior of the weights:

    >>> import jax, numpy as np
    >>> from numpyro.infer.util import log_density
    >>> from scipy.stats import norm, poisson
    >>> from bayesreg.models import poisson_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 3.0, 5.0])
    >>> exposure = np.array([1.0, 2.0, 0.5])
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.2)}
    >>> prior = prior_from_penalty("gaussian", 1.0, convention="book")  # Normal(0, 1) on each weight
    >>> kwargs = {"prior": prior, "offset": np.log(exposure)}
    >>> logp = jax.jit(lambda p: log_density(poisson_regression, (X, y), kwargs, p)[0])
    >>> rate = exposure * np.exp(0.2 + X @ params["coef"])
    >>> expected = poisson.logpmf(y, rate).sum() + norm.logpdf(params["coef"]).sum()
    >>> bool(np.isclose(logp(params), expected))
    True
    """
    eta = _log_mean(X, prior, offset, intercept_prior, fit_intercept, conditioning)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", _PoissonLogRate(eta), obs=y)


def negative_binomial_regression(
    X,
    y=None,
    *,
    prior: Prior | None,
    dispersion,
    offset=None,
    intercept_prior=None,
    fit_intercept: bool = True,
    conditioning=None,
):
    """Bayesian negative binomial (NB2) regression (log link), one likelihood term per observation.

    ``y_i ~ NB(mean μ_i = exp(b + x_iᵀw + offset_i), Var = μ_i + α μ_i²)`` with sites ``coef``
    (n_features,), ``intercept`` (flat unless ``intercept_prior`` is given), ``dispersion`` (α, when
    its prior is given) and ``y`` in the plate ``"obs"``.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
    y : array of non-negative integers, shape (n_samples,), optional
        Observed counts; ``None`` samples them.
    prior : Prior or None
        Prior on ``coef``; ``None`` is flat. A noise-scaled prior uses σ = 1.
    dispersion : float or numpyro Distribution
        ``α > 0`` fixed (statsmodels' ``alpha``, glum's ``theta``), or the prior of the site
        ``dispersion`` (positive support).
    offset : array, shape (n_samples,), optional
        Added to the linear predictor: the log exposure.
    intercept_prior : numpyro Distribution, optional
        Prior of ``intercept``; flat by default.
    fit_intercept : bool
        Without it the intercept is 0 and not a site.
    conditioning : WeightConditioning, optional
        Under a sparsity or hierarchical prior, the Gaussian approximation of the likelihood by which
        the sampled weights are standardised (`~bayesreg.models.shrinkage.sample_shrinkage_coef`):
        the same posterior, another geometry.

    Examples
    --------
    With α fixed the log posterior density is scipy's negative binomial log-pmf (``n = 1/α``,
    ``p = n/(n + μ)``) plus the log-prior; a prior on α makes it a site:

    >>> import jax, numpy as np
    >>> import numpyro.distributions as dist
    >>> from numpyro import handlers
    >>> from numpyro.infer.util import log_density
    >>> from scipy.stats import laplace, nbinom
    >>> from bayesreg.models import negative_binomial_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([0.0, 3.0, 12.0])
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.2)}
    >>> prior = prior_from_penalty("laplace", 2.0, convention="book")  # Laplace(0, 0.5)
    >>> kwargs = {"prior": prior, "dispersion": 0.5}
    >>> logp = jax.jit(lambda p: log_density(negative_binomial_regression, (X, y), kwargs, p)[0])
    >>> mean = np.exp(0.2 + X @ params["coef"])
    >>> log_prior = laplace.logpdf(params["coef"], scale=0.5).sum()
    >>> expected = nbinom.logpmf(y, 2.0, 2.0 / (2.0 + mean)).sum() + log_prior
    >>> bool(np.isclose(logp(params), expected))
    True
    >>> values = {**params, "dispersion": 0.5}
    >>> model = handlers.substitute(handlers.seed(negative_binomial_regression, 0), values)
    >>> trace = handlers.trace(model).get_trace(X, y, prior=prior, dispersion=dist.Exponential(1.0))
    >>> [name for name, site in trace.items() if site["type"] == "sample"]
    ['dispersion', 'coef', 'intercept', 'y']
    """
    alpha = sample_scalar("dispersion", dispersion)
    eta = _log_mean(X, prior, offset, intercept_prior, fit_intercept, conditioning)
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", _NegativeBinomialLogMean(eta, 1.0 / alpha), obs=y)
