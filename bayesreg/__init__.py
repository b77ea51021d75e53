"""bayesreg: Bayesian regularised regression, where a norm penalty is a prior.

The MAP of a NumPyro model with a Laplace (Gaussian, elastic-net) prior on the weights is the L1
(L2, elastic-net) penalised estimate; the NUTS posterior of the same model shows what that point
leaves out. Importing bayesreg changes no global JAX setting: float64 is switched on inside the
functions that need it (``jax.enable_x64``).

Modules: `bayesreg.priors` (penalty ↔ prior), `bayesreg.shrinkage` (the sparsity priors: horseshoe,
regularised horseshoe, R2D2), `bayesreg.models` (the NumPyro programs),
`bayesreg.engine` (the compiled machinery: MAP, proximal Newton, homotopy, the program cache),
`bayesreg.sampling` (the posterior by NUTS), `bayesreg.path` (MAP and posterior over a grid of α),
`bayesreg.cv` (α by cross-validation), `bayesreg.evidence` (α by empirical Bayes),
`bayesreg.hierarchical` (α by full Bayes: a hyperprior on the prior's scale),
`bayesreg.diagnostics`, `bayesreg.compare`, `bayesreg.prior_comparison` (priors compared by
PSIS-LOO and K-fold), `bayesreg.predictive` (predictions with
uncertainty, posterior and prior predictive draws), `bayesreg.model_folder` (`save` / `load` of a
fitted estimator), `bayesreg.calibration` (SBC), `bayesreg.closed_forms`
(the seeds' formulas), `bayesreg.plots` (matplotlib, imported on use), `bayesreg.demo` (what
``bayesreg demo`` computes), `bayesreg.report` (its HTML rendering), `bayesreg.cli`.
"""

from bayesreg.compare import compare_map_posterior, predictive_coverage, sparsity_summary
from bayesreg.cv import CVResult, cv_alpha
from bayesreg.data import DataError
from bayesreg.diagnostics import DiagnosticsReport, PosteriorWarning, check_diagnostics
from bayesreg.engine import DeltaELBO, LaplaceScaleMixture, MAPResult, ProximalNewton, map_estimate
from bayesreg.estimators import (
    BayesianLinearRegression,
    BayesianLogisticRegression,
    BayesianNegativeBinomialRegression,
    BayesianPoissonRegression,
    BayesianStudentTRegression,
)
from bayesreg.evidence import (
    EvidenceResult,
    LaplaceEvidenceResult,
    evidence_ard,
    evidence_gaussian,
    evidence_laplace,
)
from bayesreg.hierarchical import AlphaPosterior, HierarchicalGaussian, HierarchicalLaplace, alpha_posterior
from bayesreg.model_folder import ModelFolderError, load
from bayesreg.path import MAPPath, PosteriorPath, alpha_grid, alpha_max, map_path, posterior_path
from bayesreg.predictive import (
    posterior_predictive,
    prediction_table,
    predictive_draws,
    predictive_interval,
    predictive_probability,
    predictive_sd,
    prior_predictive,
)
from bayesreg.prior_comparison import PriorComparison, compare_priors, plot_compare
from bayesreg.priors import ElasticNet, Prior, penalty_from_prior, prior_from_penalty
from bayesreg.sampling import PosteriorFit, fit_posterior, sample_posterior
from bayesreg.shrinkage import R2D2, Horseshoe, RegularizedHorseshoe, shrinkage_prior

__all__ = [
    # estimators
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BayesianNegativeBinomialRegression",
    "BayesianPoissonRegression",
    "BayesianStudentTRegression",
    "DataError",
    # a fitted estimator saved to a folder and loaded back
    "ModelFolderError",
    "load",
    # priors <-> penalties
    "ElasticNet",
    "Prior",
    "penalty_from_prior",
    "prior_from_penalty",
    # sparsity priors (no MAP: fitted by NUTS)
    "Horseshoe",
    "R2D2",
    "RegularizedHorseshoe",
    "shrinkage_prior",
    # the MAP (the penalised estimate)
    "DeltaELBO",
    "MAPPath",
    "MAPResult",
    "ProximalNewton",
    "alpha_grid",
    "alpha_max",
    "map_estimate",
    "map_path",
    # alpha learned from the data: cross-validation, empirical Bayes, full Bayes
    "AlphaPosterior",
    "CVResult",
    "EvidenceResult",
    "HierarchicalGaussian",
    "HierarchicalLaplace",
    "LaplaceEvidenceResult",
    "alpha_posterior",
    "cv_alpha",
    "evidence_ard",
    "evidence_gaussian",
    "evidence_laplace",
    # the posterior
    "DiagnosticsReport",
    "LaplaceScaleMixture",
    "PosteriorFit",
    "PosteriorPath",
    "PosteriorWarning",
    "check_diagnostics",
    "compare_map_posterior",
    "fit_posterior",
    "predictive_coverage",
    "posterior_path",
    "predictive_draws",
    "sample_posterior",
    "sparsity_summary",
    # priors compared by how well they predict (PSIS-LOO, K-fold)
    "PriorComparison",
    "compare_priors",
    "plot_compare",
    # predictions with uncertainty
    "posterior_predictive",
    "prediction_table",
    "predictive_interval",
    "predictive_probability",
    "predictive_sd",
    "prior_predictive",
]
