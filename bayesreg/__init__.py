"""bayesreg: Bayesian regularised regression, where a norm penalty is a prior.

The MAP of a NumPyro model with a Laplace (Gaussian, elastic-net) prior on the weights is the L1
(L2, elastic-net) penalised estimate; the NUTS posterior of the same model shows what that point
leaves out. Importing bayesreg changes no global JAX setting: float64 is switched on inside the
functions that need it (``jax.enable_x64``).

Importing bayesreg loads none of its modules: each public name below, and each submodule, is
imported on first use (a module ``__getattr__``, PEP 562, as SciPy and scikit-learn do). A Dask
worker that unpickles a function of `bayesreg.large` therefore imports that module and what it
needs (NumPy, pandas), not JAX, NumPyro or scikit-learn.

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

from __future__ import annotations

import importlib

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

_HOMES = {
    "compare_map_posterior": "bayesreg.compare",
    "predictive_coverage": "bayesreg.compare",
    "sparsity_summary": "bayesreg.compare",
    "CVResult": "bayesreg.cv",
    "cv_alpha": "bayesreg.cv",
    "DataError": "bayesreg.data",
    "DiagnosticsReport": "bayesreg.diagnostics",
    "PosteriorWarning": "bayesreg.diagnostics",
    "check_diagnostics": "bayesreg.diagnostics",
    "DeltaELBO": "bayesreg.engine",
    "LaplaceScaleMixture": "bayesreg.engine",
    "MAPResult": "bayesreg.engine",
    "ProximalNewton": "bayesreg.engine",
    "map_estimate": "bayesreg.engine",
    "BayesianLinearRegression": "bayesreg.estimators",
    "BayesianLogisticRegression": "bayesreg.estimators",
    "BayesianNegativeBinomialRegression": "bayesreg.estimators",
    "BayesianPoissonRegression": "bayesreg.estimators",
    "BayesianStudentTRegression": "bayesreg.estimators",
    "EvidenceResult": "bayesreg.evidence",
    "LaplaceEvidenceResult": "bayesreg.evidence",
    "evidence_ard": "bayesreg.evidence",
    "evidence_gaussian": "bayesreg.evidence",
    "evidence_laplace": "bayesreg.evidence",
    "AlphaPosterior": "bayesreg.hierarchical",
    "HierarchicalGaussian": "bayesreg.hierarchical",
    "HierarchicalLaplace": "bayesreg.hierarchical",
    "alpha_posterior": "bayesreg.hierarchical",
    "ModelFolderError": "bayesreg.model_folder",
    "load": "bayesreg.model_folder",
    "MAPPath": "bayesreg.path",
    "PosteriorPath": "bayesreg.path",
    "alpha_grid": "bayesreg.path",
    "alpha_max": "bayesreg.path",
    "map_path": "bayesreg.path",
    "posterior_path": "bayesreg.path",
    "posterior_predictive": "bayesreg.predictive",
    "prediction_table": "bayesreg.predictive",
    "predictive_draws": "bayesreg.predictive",
    "predictive_interval": "bayesreg.predictive",
    "predictive_probability": "bayesreg.predictive",
    "predictive_sd": "bayesreg.predictive",
    "prior_predictive": "bayesreg.predictive",
    "PriorComparison": "bayesreg.prior_comparison",
    "compare_priors": "bayesreg.prior_comparison",
    "plot_compare": "bayesreg.prior_comparison",
    "ElasticNet": "bayesreg.priors",
    "Prior": "bayesreg.priors",
    "penalty_from_prior": "bayesreg.priors",
    "prior_from_penalty": "bayesreg.priors",
    "PosteriorFit": "bayesreg.sampling",
    "fit_posterior": "bayesreg.sampling",
    "sample_posterior": "bayesreg.sampling",
    "R2D2": "bayesreg.shrinkage",
    "Horseshoe": "bayesreg.shrinkage",
    "RegularizedHorseshoe": "bayesreg.shrinkage",
    "shrinkage_prior": "bayesreg.shrinkage",
}
"""The module that defines each name of ``__all__``, imported when the name is first used."""


def __getattr__(name: str):
    """A public name (from its module, `_HOMES`) or a submodule, imported on first use and kept.

    Examples
    --------
    >>> import bayesreg
    >>> bayesreg.prior_from_penalty is bayesreg.priors.prior_from_penalty
    True
    >>> bayesreg.no_such_name
    Traceback (most recent call last):
    ...
    AttributeError: module 'bayesreg' has no attribute 'no_such_name'
    """
    if name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    elif name.startswith("_"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names with the public ones not imported yet (``dir(bayesreg)``).

    Examples
    --------
    >>> import bayesreg
    >>> "fit_posterior" in dir(bayesreg)
    True
    """
    return sorted(set(globals()) | set(__all__))
