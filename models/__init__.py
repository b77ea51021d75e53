"""NumPyro programs for Bayesian regularised regression (installed as ``bayesreg.models``).

Each model is a plain function ``model(X, y=None, *, prior, ...)`` with the sites ``coef`` (shape
``(n_features,)``), ``intercept`` (unpenalised: a flat prior unless one is given) and, for the linear
model with unknown noise, ``sigma``; observations sit in the plate ``"obs"`` so the log-likelihood is
available per observation.
"""

from bayesreg.models.collapsed import (
    COLLAPSIBLE_PRIORS,
    CoefficientPosterior,
    coefficient_posterior,
    linear_regression_collapsed,
)
from bayesreg.models.linear import SufficientStats, linear_regression, linear_regression_stats
from bayesreg.models.logistic import logistic_regression
from bayesreg.models.shrinkage import SHRINKAGE_TYPES, sample_shrinkage_coef, sample_shrinkage_variance

__all__ = [
    "COLLAPSIBLE_PRIORS",
    "CoefficientPosterior",
    "coefficient_posterior",
    "linear_regression_collapsed",
    "SufficientStats",
    "linear_regression",
    "linear_regression_stats",
    "logistic_regression",
    "SHRINKAGE_TYPES",
    "sample_shrinkage_coef",
    "sample_shrinkage_variance",
]
