"""Robust linear regression: a Student-t likelihood with a prior on the weights.

.. math::

    y_i \\mid w, b, σ, ν \\sim t_ν(b + x_i^\\top w,\\ σ), \\qquad
    -\\log p(y_i \\mid \\cdot) = \\tfrac{ν + 1}{2} \\log\\!\\left(1 + \\tfrac{r_i^2}{ν σ^2}\\right)
    + \\log σ + c(ν),

with ``r_i = y_i − b − x_iᵀw``: the normal scale mixture ``y_i ~ N(b + x_iᵀw, σ²/λ_i)``,
``λ_i ~ Gamma(ν/2, ν/2)``, so an outlier costs a logarithm of its residual instead of its square.
The likelihood is not log-concave in the weights (an observation's curvature
``(ν + 1)(νσ² − r_i²)/(νσ² + r_i²)²`` is negative beyond ``|r_i| = √ν σ``), so its MAP is a mode
of the posterior that need not be the only one.
"""

from __future__ import annotations

import numpyro
import numpyro.distributions as dist

from bayesreg.models.sites import sample_scalar, sample_sigma, sample_weights
from bayesreg.priors import Prior

__all__ = ["student_t_regression"]


def student_t_regression(
    X,
    y=None,
    *,
    prior: Prior | None,
    df,
    sigma=1.0,
    intercept_prior=None,
    fit_intercept: bool = True,
    conditioning=None,
):
    """Bayesian Student-t (robust) linear regression, one likelihood term per observation.

    ``y_i ~ StudentT(ν, b + x_iᵀw, σ)`` with sites ``coef`` (n_features,), ``intercept`` (flat unless
    ``intercept_prior`` is given), ``sigma`` and ``df`` (when their priors are given) and ``y`` in the
    plate ``"obs"``. A noise-scaled prior (`~bayesreg.priors.Prior.noise_scaled`) is conditional on σ,
    as in `~bayesreg.models.linear_regression`.

    Parameters
    ----------
    X : array, shape (n_samples, n_features)
    y : array, shape (n_samples,), optional
        Observed targets; ``None`` samples them.
    prior : Prior or None
        Prior on ``coef``; ``None`` is flat.
    df : float or numpyro Distribution
        Degrees of freedom ``ν > 0`` fixed, or the prior of the site ``df`` (positive support).
    sigma : float or numpyro Distribution
        A fixed scale σ, or the prior of the site ``sigma``.
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
    The log posterior density is scipy's Student-t log-density plus the log-prior of the weights:

    >>> import jax, numpy as np
    >>> from numpyro.infer.util import log_density
    >>> from scipy.stats import norm, t
    >>> from bayesreg.models import student_t_regression
    >>> from bayesreg.priors import prior_from_penalty
    >>> X, y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]), np.array([1.0, 2.0, 9.0])
    >>> params = {"coef": np.array([0.5, 1.0]), "intercept": np.array(0.5)}
    >>> kwargs = {"prior": prior_from_penalty("gaussian", 1.0, convention="book"), "df": 3.0, "sigma": 0.5}
    >>> logp = jax.jit(lambda p: log_density(student_t_regression, (X, y), kwargs, p)[0])
    >>> log_likelihood = t.logpdf(y, 3.0, loc=0.5 + X @ params["coef"], scale=0.5).sum()
    >>> bool(np.isclose(logp(params), log_likelihood + norm.logpdf(params["coef"]).sum()))
    True
    """
    nu = sample_scalar("df", df)
    sd = sample_sigma(sigma)
    coef, intercept = sample_weights(
        X.shape[1],
        prior,
        sigma=sd,
        intercept_prior=intercept_prior,
        fit_intercept=fit_intercept,
        conditioning=conditioning,
    )
    with numpyro.plate("obs", X.shape[0]):
        numpyro.sample("y", dist.StudentT(nu, intercept + X @ coef, sd), obs=y)
