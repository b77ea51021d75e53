"""NumPyro programs for Bayesian regularised regression (installed as ``bayesreg.models``).

Each model is a plain function ``model(X, y=None, *, prior, ...)`` with the sites ``coef`` (shape
``(n_features,)``), ``intercept`` (unpenalised: a flat prior unless one is given) and, where their
priors are given, the likelihood's own parameters (``sigma`` of the linear and Student-t models,
``df`` of the Student-t, ``dispersion`` of the negative binomial); observations sit in the plate
``"obs"`` so the log-likelihood is available per observation. The likelihoods: Gaussian
(`linear_regression`), Bernoulli (`logistic_regression`), Poisson and negative binomial with a log
link and an optional offset (`poisson_regression`, `negative_binomial_regression`) and Student-t
(`student_t_regression`).
"""

from bayesreg.models.collapsed import (
    COLLAPSIBLE_PRIORS,
    CoefficientPosterior,
    coefficient_posterior,
    linear_regression_collapsed,
)
from bayesreg.models.counts import negative_binomial_regression, poisson_regression
from bayesreg.models.linear import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.models.logistic import logistic_regression
from bayesreg.models.robust import student_t_regression
from bayesreg.models.shrinkage import SHRINKAGE_TYPES, sample_shrinkage_coef, sample_shrinkage_variance
from bayesreg.models.sites import OBSERVATION_KEYWORDS

FAMILY_OF_MODEL = {
    linear_regression: "gaussian",
    logistic_regression: "bernoulli",
    poisson_regression: "poisson",
    negative_binomial_regression: "negative_binomial",
    student_t_regression: "student_t",
}
"""The per-observation models ``model(X, y, *, prior, ...)`` whose likelihood reads ``X`` only through
the linear predictor ``intercept + X coef`` (plus an offset), and the name of each one's likelihood
(`bayesreg.params.FAMILIES`): `bayesreg.sampling` writes it to ``posterior.attrs["family"]``, where
`bayesreg.predictive` reads it."""

__all__ = [
    "COLLAPSIBLE_PRIORS",
    "FAMILY_OF_MODEL",
    "OBSERVATION_KEYWORDS",
    "CoefficientPosterior",
    "coefficient_posterior",
    "linear_regression_collapsed",
    "SufficientStats",
    "linear_regression",
    "linear_regression_stats",
    "logistic_regression",
    "negative_binomial_regression",
    "poisson_regression",
    "student_t_regression",
    "SHRINKAGE_TYPES",
    "sample_shrinkage_coef",
    "sample_shrinkage_variance",
]
