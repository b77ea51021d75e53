"""The sample sites every model shares: the weights and the unpenalised intercept."""

from __future__ import annotations

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.distributions import constraints

from bayesreg.models.shrinkage import SHRINKAGE_TYPES, ShrinkagePrior, sample_shrinkage_coef
from bayesreg.priors import Prior

__all__ = ["OBSERVATION_KEYWORDS", "sample_scalar", "sample_sigma", "sample_weights"]

OBSERVATION_KEYWORDS = ("offset",)
"""The model keywords that hold one value per observation (the count models' log exposure
``offset``): a computation on a subset of the rows (a block of PSIS-LOO, a prediction for new rows)
takes the same subset of these arrays."""


def sample_weights(
    num_features: int,
    prior: Prior | ShrinkagePrior | None,
    *,
    sigma=None,
    intercept_prior=None,
    fit_intercept: bool = True,
    conditioning=None,
):
    """Sample ``coef`` from the weight prior (flat when ``prior`` is None) and ``intercept``.

    A `~bayesreg.priors.Prior` is the distribution of the site ``coef``; a sparsity prior of
    `bayesreg.shrinkage` or a hierarchical prior of `bayesreg.hierarchical` samples its scales and
    ``coef`` is a deterministic site (`~bayesreg.models.shrinkage.sample_shrinkage_coef`, which takes
    ``conditioning``). ``sigma`` is the noise sd of the linear
    model, None where there is none (logistic regression: a noise-scaled `Prior` then uses 1). The
    intercept gets ``intercept_prior`` or, when that is None, an improper flat prior: it is never
    penalised.
    """
    if isinstance(prior, SHRINKAGE_TYPES):
        coef = sample_shrinkage_coef(num_features, prior, sigma, conditioning)
    else:
        if prior is None:
            coef_dist = dist.ImproperUniform(constraints.real, (), event_shape=(num_features,))
        else:
            coef_dist = prior.distribution(num_features, 1.0 if sigma is None else sigma)
        coef = numpyro.sample("coef", coef_dist)
    if not fit_intercept:
        return coef, jnp.zeros(())
    if intercept_prior is None:
        intercept_prior = dist.ImproperUniform(constraints.real, (), event_shape=())
    return coef, numpyro.sample("intercept", intercept_prior)


def sample_scalar(name: str, value):
    """A fixed value (a number) passes through; a distribution makes ``name`` a sample site (the
    negative binomial's ``dispersion``, the Student-t's ``df``, the noise sd ``sigma``)."""
    if isinstance(value, dist.Distribution):
        return numpyro.sample(name, value)
    return value


def sample_sigma(sigma):
    """A fixed noise sd (a number) passes through; a distribution makes ``sigma`` a sample site."""
    return sample_scalar("sigma", sigma)
