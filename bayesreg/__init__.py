"""bayesreg: Bayesian regularised regression, where a norm penalty is a prior.

The MAP of a NumPyro model with a Laplace (Gaussian, elastic-net) prior on the weights is the L1
(L2, elastic-net) penalised estimate; the NUTS posterior of the same model shows what that point
leaves out. Importing bayesreg changes no global JAX setting: float64 is switched on inside the
functions that need it (``jax.enable_x64``).
"""

from bayesreg.data import DataError
from bayesreg.estimators import BayesianLinearRegression, BayesianLogisticRegression
from bayesreg.inference import MAPResult, map_estimate
from bayesreg.optim import ProximalNewton
from bayesreg.priors import ElasticNet, Prior, penalty_from_prior, prior_from_penalty

__all__ = [
    # estimators
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "DataError",
    # priors <-> penalties
    "ElasticNet",
    "Prior",
    "penalty_from_prior",
    "prior_from_penalty",
    # inference
    "MAPResult",
    "ProximalNewton",
    "map_estimate",
]
