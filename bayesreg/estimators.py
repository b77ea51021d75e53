"""scikit-learn estimators over the models and inference functions.

`BayesianLinearRegression` and `BayesianLogisticRegression` store their settings in ``__init__``,
validate and fit in ``fit`` (which returns ``self``), and keep results in attributes ending in ``_``.
With ``method="map"`` (the default) ``coef_`` and ``intercept_`` are the MAP, which equals the
penalised estimate of scikit-learn's Lasso / Ridge / ElasticNet / LogisticRegression with the same
``alpha`` (or ``C``) under ``convention="sklearn"``.

With ``method="nuts"`` they also predict with uncertainty (`bayesreg.predictive`): the linear model's
``predict(X, return_std=True)``, and both models' ``predict_interval``, ``predictive`` (posterior
predictive draws as ArviZ InferenceData) and ``prior_predictive``. ``save(folder)`` writes a fitted
estimator to a folder that `bayesreg.load` reads back (`bayesreg.model_folder`).

With ``standardize=True`` both fit on standardised columns (`bayesreg.scaling`), the prior on the
standardised weights, and report every result on the original columns.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import numpyro.distributions as dist
import pandas as pd
from numpyro.distributions import constraints
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from bayesreg.cv import cv_alpha
from bayesreg.data import DataError, check_finite, check_numeric_columns, check_offset, check_target
from bayesreg.defaults import HDI_PROB, L1_RATIO, MASS_MATRIX, MAX_TREE_DEPTH, NUTS, STUDENT_T_DF_PRIOR
from bayesreg.diagnostics import PosteriorWarning, scale_problem
from bayesreg.engine import linear_map, map_estimate
from bayesreg.evidence import evidence_gaussian, evidence_laplace
from bayesreg.hierarchical import alpha_posterior, hierarchical_prior
from bayesreg.models import (
    SufficientStats,
    linear_regression,
    linear_regression_stats,
    logistic_regression,
    negative_binomial_regression,
    poisson_regression,
    student_t_regression,
)
from bayesreg.params import (
    ESTIMATOR_CONSTRAINTS,
    PENALTY_KINDS,
    POSTERIOR_METHODS,
    SPARSITY_KINDS,
    SPARSITY_OPTIONS,
    Options,
    check_params,
)
from bayesreg.predictive import (
    PRIOR_PREDICTIVE_DRAWS,
    posterior_predictive,
    predictive_interval,
    predictive_probability,
    predictive_sd,
    prior_predictive,
)
from bayesreg.priors import noise_prior, prior_from_penalty
from bayesreg.sampling import fit_posterior
from bayesreg.scaling import Standardization
from bayesreg.shrinkage import shrinkage_prior

__all__ = [
    "BayesianLinearRegression",
    "BayesianLogisticRegression",
    "BayesianNegativeBinomialRegression",
    "BayesianPoissonRegression",
    "BayesianStudentTRegression",
]


def _is_dask(X) -> bool:
    """Whether ``X`` is a Dask collection (DataFrame, Series, Array), told by its type's module so
    that Dask is not imported to ask."""
    return type(X).__module__.partition(".")[0] == "dask"


_DASK_OFFSET = "__offset__"
"""The column a count model's Dask ``offset`` Series joins the features as, for
`~bayesreg.large.count_map_from_dask` (which reads the offset from a column of the rows)."""

_LEARNED_ATTRIBUTES = (
    "alpha_",
    "C_",
    "cv_results_",
    "alpha_mcse_",
    "alpha_posterior_",
    "alpha_interval_",
    "C_interval_",
)
"""What a fit learns about the penalty strength: dropped before each fit, set by the one that applies."""

_SPARSITY_PARAMETERS = (
    "global_scale",
    "expected_nonzero",
    "slab_scale",
    "slab_df",
    "r2_mean",
    "r2_precision",
)


class _BayesianRegression(BaseEstimator):
    """What both estimators share: validation, the prior, and the choice of inference.

    ``_parameter_constraints`` holds the constraint of every ``__init__`` parameter (scikit-learn's
    name for that table), each taken from `bayesreg.params.CONSTRAINTS`; ``fit`` checks them all with
    `~bayesreg.params.check_params` before it reads the data, so a bad setting gets the message the
    path functions, the posterior functions and the command line give.
    """

    _family: str
    _model: staticmethod  # the model of `bayesreg.models` the estimator fits

    @property
    def _parameter_constraints(self) -> dict:
        """The constraint of every ``__init__`` parameter (scikit-learn's name for this table), each
        from `bayesreg.params.ESTIMATOR_CONSTRAINTS`: derived from the parameters, so no list repeats
        them."""
        return {name: ESTIMATOR_CONSTRAINTS[name] for name in self.get_params(deep=False)}

    def _settings(self) -> dict:
        """The parameters checked against `_parameter_constraints`, as plain Python values.

        ``l1_ratio`` is checked where it applies, with ``prior="elasticnet"``, by
        `~bayesreg.priors.prior_from_penalty` (the same constraint and message); the other priors
        ignore it.
        """
        values = {name: value for name, value in self.get_params(deep=False).items() if name != "l1_ratio"}
        return check_params(values, self._parameter_constraints)

    def _validate(self, X, y):
        if isinstance(X, pd.DataFrame):
            check_numeric_columns(X)
        # the target first: scikit-learn's own check rejects NaN without saying where
        target, classes = (None, None) if y is None else check_target(y, self._family)
        X, _ = validate_data(
            self,
            X,
            y,
            dtype=np.float64,
            ensure_all_finite=False,
            ensure_min_samples=2,
            y_numeric=self._family != "bernoulli",
        )
        check_finite(X, getattr(self, "feature_names_in_", None))
        return X, target, classes

    def _scaled(self, X, settings: dict) -> np.ndarray:
        """The design matrix the model sees: ``X`` itself, or with ``standardize=True`` its
        standardised columns (`~bayesreg.scaling.Standardization`, kept as ``scaling_``; centred
        only with an intercept, as ``StandardScaler(with_mean=fit_intercept)``)."""
        self.__dict__.pop("scaling_", None)
        if not settings["standardize"]:
            return X
        names = getattr(self, "feature_names_in_", None)
        self.scaling_ = Standardization.from_data(X, center=settings["fit_intercept"], names=names)
        return self.scaling_.transform(X)

    def _penalty(self, X, y, settings: dict, name: str) -> float:
        """The penalty strength of the fit in scikit-learn's convention (``1/C`` for the logistic
        model), kept as ``alpha_`` (and ``C_``): the number given, or with ``"cv"`` the one
        `~bayesreg.cv.cv_alpha` picks on the columns the model sees (standardised with
        ``standardize=True``, as a pipeline of ``StandardScaler`` and ``LassoCV`` would), its scores
        kept as ``cv_results_``; ``"eb"`` is `_evidence`'s. Results of an earlier fit's learning
        are dropped first."""
        self._forget_learned()
        value = settings[name]
        if isinstance(value, str) and settings.get("convention", "sklearn") != "sklearn":
            raise ValueError(
                f"{name}={value!r} learns scikit-learn's alpha: use convention='sklearn' (the MAP at a "
                "book-convention alpha depends on sigma, so its cross-validation and evidence differ)"
            )
        if value == "cv":
            result = cv_alpha(
                X,
                y,
                prior=settings["prior"],
                l1_ratio=self.l1_ratio,
                family=self._family,
                fit_intercept=settings["fit_intercept"],
            )
            fields = ("alphas", "scores", "mean_score", "sd_score", "scoring", "best_index")
            self.cv_results_ = {field: getattr(result, field) for field in fields}
            alpha = result.alpha
        elif value == "eb":
            alpha = self._evidence(X, y, settings)
        else:
            alpha = value if name == "alpha" else 1.0 / value
        self.alpha_ = float(alpha)
        return self.alpha_

    def _forget_learned(self) -> None:
        for attribute in _LEARNED_ATTRIBUTES:
            self.__dict__.pop(attribute, None)

    def _fit_dask(self, X, y, offset=None):
        """The fit of a Dask DataFrame or Array ``X`` with ``y`` (and a count model's ``offset``) as
        Dask Series or Arrays partitioned as its rows, from passes over the partitions
        (`bayesreg.large`, on Dask's current scheduler): the Gaussian MAP and NUTS posterior from
        the sufficient statistics of one pass (`~bayesreg.large.map_from_moments`,
        `~bayesreg.large.posterior_from_moments`), the logistic and count MAPs by the distributed
        proximal Newton (`~bayesreg.large.logistic_map_from_dask`,
        `~bayesreg.large.count_map_from_dask`). The same attributes as a fit in memory, except
        what needs the rows: the posterior has no ``observed_data`` or PSIS-LOO. A learned penalty
        (``"cv"``, ``"eb"``, ``"hierarchical"``), a sparsity prior and the Gibbs sampler need the
        rows in memory, and the logistic and count posteriors a likelihood over the rows at every
        step: those are refused."""
        from bayesreg import large

        if self._family == "student_t":
            raise ValueError("the Student-t model is fitted from rows in memory, not a Dask collection")
        settings = self._settings()
        name = "C" if self._family == "bernoulli" else "alpha"
        if isinstance(settings[name], str) or settings["prior"] not in PENALTY_KINDS:
            raise ValueError(
                f"a Dask collection is fitted at a given {name} with prior 'laplace', 'gaussian' or "
                f"'elasticnet' (got {name}={settings[name]!r}, prior={settings['prior']!r}): learned "
                "penalties and the sparsity priors need the rows in memory"
            )
        method = settings["method"]
        if method == "gibbs" or (method in POSTERIOR_METHODS and self._family != "gaussian"):
            raise ValueError(
                f"a Dask collection is fitted by method='map' (and the Gaussian likelihood also by "
                f"'nuts', from its sufficient statistics), not method={method!r} for family {self._family!r}"
            )
        for attribute in ("idata_", "diagnostics_", "posterior_fit_", "scaling_", "feature_names_in_"):
            self.__dict__.pop(attribute, None)
        self._forget_learned()
        common = {
            "prior": settings["prior"],
            "l1_ratio": self.l1_ratio,
            "fit_intercept": settings["fit_intercept"],
            "standardize": settings["standardize"],
        }
        if self._family == "gaussian":
            moments = large.moments_from_dask(X, y)
            common.update(alpha=settings["alpha"], convention=settings["convention"], sigma=settings["sigma"])
            if method == "map":
                result = large.map_from_moments(moments, **common)
                self.map_ = result.map
            else:
                nuts = {key: settings[key] for key in large.NUTS_OPTIONS if key in settings}
                seed = int(check_random_state(settings["random_state"]).randint(2**31 - 1))
                result = large.posterior_from_moments(moments, **common, **nuts, seed=seed)
                self.posterior_fit_, self.map_ = result.fit, result.fit.map
                self.idata_, self.diagnostics_ = result.fit.idata, result.fit.diagnostics
                self.idata_.posterior.attrs["family"] = self._family
            self.sigma_ = result.sigma
            noise = settings["sigma"]
            self.sigma_prior_ = None if noise is not None else noise_prior(sd=moments.target_sd)
        elif self._family == "bernoulli":
            result = large.logistic_map_from_dask(X, y, alpha=1.0 / settings["C"], **common)
            self.classes_, self.C_, moments = result.classes, settings["C"], result.moments
            self.map_ = result.map
        else:
            if offset is not None:
                X = X.assign(**{_DASK_OFFSET: offset})
            extra = {"dispersion": settings["dispersion"]} if self._family == "negative_binomial" else {}
            result = large.count_map_from_dask(
                X,
                y,
                family=self._family,
                offset=None if offset is None else _DASK_OFFSET,
                alpha=settings["alpha"],
                convention=settings["convention"],
                **common,
                **extra,
            )
            self.map_, moments = result.map, result.moments
            if self._family == "negative_binomial":
                self.dispersion_ = float(result.map.params.get("dispersion", settings["dispersion"]))
        if name == "alpha":
            self.alpha_ = float(settings["alpha"])
        self.prior_ = result.prior
        if result.scaling is not None:
            self.scaling_ = result.scaling
        self.n_iter_ = self.map_.num_steps
        if "idata_" in self.__dict__:
            posterior = self.idata_.posterior
            self.coef_ = posterior["coef"].mean(("chain", "draw")).to_numpy()
            self.intercept_ = float(posterior["intercept"].mean()) if "intercept" in posterior else 0.0
        else:
            self.coef_ = np.asarray(self.map_.params["coef"])
            self.intercept_ = float(self.map_.params.get("intercept", 0.0))
        self.n_features_in_ = len(moments.names)
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray(moments.names, dtype=object)
        return self

    def _hierarchical_prior(self, settings: dict, name: str):
        """With ``name="hierarchical"`` (``alpha`` or ``C``): the hierarchical prior of
        `bayesreg.hierarchical` for the penalty ``prior`` names (`~bayesreg.hierarchical.hierarchical_prior`:
        the elastic net has none and is refused there), whose scale NUTS samples with the weights;
        else None. It has no MAP, so ``method="map"`` is refused."""
        if settings[name] != "hierarchical":
            return None
        self._forget_learned()
        if settings["method"] not in POSTERIOR_METHODS:
            learned = ", or alpha='cv' / 'eb' for a MAP at a learned alpha"
            raise ValueError(
                f"{name}='hierarchical' samples the penalty strength with the weights and has no MAP "
                "(the density is unbounded where the weights and the prior's scale go to 0 together): "
                "use method='nuts' (or 'gibbs' for the linear model)"
                + (learned if self._family in ("gaussian", "bernoulli") else "")
            )
        return hierarchical_prior(settings["prior"])

    def _learned_posterior(self, prior, settings: dict) -> None:
        """After a hierarchical fit: the posterior of α (`~bayesreg.hierarchical.alpha_posterior`, in
        ``convention``), kept as ``alpha_posterior_``, its median as ``alpha_`` and its central
        interval as ``alpha_interval_``; the logistic model's ``C = 1/α`` as ``C_`` (the median)
        and ``C_interval_``."""
        posterior = alpha_posterior(self.idata_, prior, convention=settings.get("convention", "sklearn"))
        self.alpha_posterior_ = posterior
        self.alpha_ = posterior.median
        self.alpha_interval_ = posterior.interval
        if self._family == "bernoulli":
            low, high = posterior.interval
            self.C_ = 1.0 / posterior.median
            self.C_interval_ = (1.0 / high, 1.0 / low)

    def _evidence(self, X, y, settings: dict) -> float:
        raise NotImplementedError  # the linear model's; the constraint keeps "eb" from the others

    def _sparsity_prior(self, X, settings: dict, name: str):
        """The sparsity prior of `bayesreg.shrinkage` that ``prior`` names with its options, or None
        for a penalty prior (Gaussian, Laplace, elastic net).

        Each option of `bayesreg.params.SPARSITY_OPTIONS` is refused for a prior it does not apply
        to, and a sparsity prior is refused with ``method="map"`` (its density is unbounded at 0: no
        MAP exists) and with a penalty strength ``name`` (``alpha`` or ``C``) other than the default
        (the prior learns its scales; a number there would be ignored). The regularised horseshoe
        gets the number of rows for its global scale, and its ``expected_nonzero`` is checked
        against the number of weights here, before any sampling.
        """
        kind = settings["prior"]
        given = {key: settings[key] for key in _SPARSITY_PARAMETERS if settings.get(key) is not None}
        for key in given:
            if key not in SPARSITY_OPTIONS.get(kind, ()):
                takers = " or ".join(repr(k) for k, options in SPARSITY_OPTIONS.items() if key in options)
                raise ValueError(f"{key} applies to prior={takers}, not prior={kind!r}: leave it None")
        if kind not in SPARSITY_KINDS:
            return None
        if settings["method"] not in POSTERIOR_METHODS:
            raise ValueError(
                f"prior={kind!r} has no MAP: its density is unbounded at 0 (the penalty −log p(coef) "
                "falls to −∞ there), so there is no posterior mode to find; use method='nuts' "
                "(coef_ is then the posterior mean)"
            )
        default = inspect.signature(type(self).__init__).parameters[name].default
        if settings[name] != default:
            raise ValueError(
                f"{name}={settings[name]!r} does not apply to prior={kind!r}, which learns its scales "
                f"from the data (set them with {', '.join(SPARSITY_OPTIONS[kind])}): leave {name} at "
                f"its default {default!r}"
            )
        self._forget_learned()
        if kind == "regularized_horseshoe":
            given["n_samples"] = X.shape[0]
        prior = shrinkage_prior(kind, **given)
        if kind == "regularized_horseshoe" and prior.global_scale is None:
            prior.expected_nonzero_for(X.shape[1])  # p₀ in (0, p), checked before the chains start
        return prior

    def _features(self, X) -> np.ndarray:
        """``X`` checked against the fit, as a C-ordered float64 array: a product with the weights
        then sums in the same order whatever the layout of ``X`` (a DataFrame's columns reordered, a
        Fortran-ordered array), so the same rows always predict bitwise the same numbers."""
        check_is_fitted(self)
        if isinstance(X, pd.DataFrame):
            check_numeric_columns(X)
        X = validate_data(self, X, reset=False, dtype=np.float64, ensure_all_finite=False, order="C")
        check_finite(X, getattr(self, "feature_names_in_", None))
        return X

    def _infer(self, settings: dict, model, args, observed, **model_kwargs) -> None:
        """The MAP, always; with ``method="nuts"`` also the posterior (`~bayesreg.sampling.fit_posterior`),
        whose means become ``coef_``. ``settings`` are the checked parameters (`_settings`).

        Every result of an earlier fit is dropped first, so a refit with ``method="map"`` after a
        NUTS fit keeps no posterior from before. With ``standardize=True`` (``scaling_`` set by
        `_scaled`) the MAP's ``coef`` and ``intercept`` and the posterior are mapped back to the
        original columns (`~bayesreg.scaling.Standardization.to_original`,
        `~bayesreg.scaling.Standardization.posterior_to_original`), so ``map_``, ``idata_``,
        ``posterior_fit_`` and ``coef_`` all describe the original columns.
        """
        for name in ("idata_", "diagnostics_", "posterior_fit_"):
            self.__dict__.pop(name, None)
        nuts = settings["method"] in POSTERIOR_METHODS
        if nuts:
            names = getattr(self, "feature_names_in_", None)
            fit = fit_posterior(
                model,
                *args,
                observed=observed,
                feature_names=list(names) if names is not None else None,
                num_warmup=settings["num_warmup"],
                num_samples=settings["num_samples"],
                num_chains=settings["num_chains"],
                seed=int(check_random_state(settings["random_state"]).randint(2**31 - 1)),
                laplace_parametrisation=settings["laplace_parametrisation"],
                mass_matrix=settings["mass_matrix"],
                target_accept=settings["target_accept"],
                max_tree_depth=settings["max_tree_depth"],
                log_likelihood=settings["log_likelihood"],
                sampler=settings["method"],
                **model_kwargs,
            )
            result = fit.map
        else:
            result = self._map(model, args, model_kwargs)
        scaling = getattr(self, "scaling_", None)
        if scaling is not None and result is not None:
            params = dict(result.params)
            coef, intercept = scaling.to_original(params["coef"], params.get("intercept", 0.0))
            params["coef"] = coef
            if "intercept" in params:
                params["intercept"] = intercept
            result = result._replace(params=params)
        if scaling is not None and nuts:
            fit = fit._replace(idata=scaling.posterior_to_original(fit.idata), map=result)
        self.map_ = result
        self.prior_ = model_kwargs["prior"]
        if self._family == "gaussian":
            noise = model_kwargs["sigma"]
            self.sigma_prior_ = noise if isinstance(noise, dist.Distribution) else None
        self.n_iter_ = None if result is None else result.num_steps
        if not nuts:
            self.coef_ = result.params["coef"]
            self.intercept_ = float(result.params.get("intercept", 0.0))
            return
        self.posterior_fit_ = fit
        self.idata_ = fit.idata
        self.idata_.posterior.attrs["family"] = self._family  # what bayesreg.predictive reads
        self.diagnostics_ = fit.diagnostics
        posterior = self.idata_.posterior
        self.coef_ = posterior["coef"].mean(("chain", "draw")).to_numpy()
        self.intercept_ = float(posterior["intercept"].mean()) if "intercept" in posterior else 0.0

    def _map(self, model, args, model_kwargs):
        """The MAP of ``model(*args, **model_kwargs)`` (`~bayesreg.engine.map.map_estimate`)."""
        return map_estimate(model, *args, **model_kwargs)

    def _warn_scale(self, X, settings: dict) -> None:
        """After a NUTS fit that failed its diagnostics on columns that were not standardised:
        `~bayesreg.diagnostics.scale_problem`'s warning (it suggests ``standardize=True``) when the
        columns' sds differ by more than `~bayesreg.defaults.SCALE_RATIO`."""
        if settings["method"] not in POSTERIOR_METHODS or settings["standardize"] or self.diagnostics_.ok:
            return
        problem = scale_problem(X, names=getattr(self, "feature_names_in_", None))
        if problem is not None:
            warnings.warn(PosteriorWarning(problem), stacklevel=3)

    def _posterior(self, what: str):
        """The posterior draws, or a ValueError saying that ``what`` needs ``method="nuts"``."""
        check_is_fitted(self)
        if not hasattr(self, "idata_"):
            raise ValueError(
                f"{what} needs the posterior, and this {type(self).__name__} was fitted with "
                "method='map' (a point estimate, without uncertainty): refit with method='nuts'"
            )
        return self.idata_

    def predict_interval(self, X, prob: float = HDI_PROB) -> np.ndarray:
        """The central ``prob`` interval of the posterior predictive at each row, shape (n_samples, 2).

        Linear model: the interval of a new target ``y`` (noise included). Logistic model: the interval
        of the probability of ``classes_[1]``. Equal-tailed (the ``(1 − prob)/2`` and ``(1 + prob)/2``
        quantiles), computed by `bayesreg.predictive.predictive_interval`, whose notes say why not
        highest-density. Needs ``method="nuts"`` (a MAP fit has no posterior: ValueError).

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
        prob : float in (0, 1), default `~bayesreg.defaults.HDI_PROB`

        Returns
        -------
        ndarray, shape (n_samples, 2)
            Lower and upper ends.
        """
        idata = self._posterior("predict_interval")
        return predictive_interval(idata, self._features(X), prob=prob, family=self._family)

    def predictive(self, X, y=None, *, seed: int = 0):
        """Posterior predictive draws at the rows of ``X``, as ArviZ InferenceData.

        Without ``y``: the groups ``posterior``, ``predictions`` (``y``, and ``probability`` for the
        logistic model; dims (chain, draw, obs)) and ``predictions_constant_data`` (``X``). With the
        rows' observed targets ``y`` (e.g. the training data): ``posterior_predictive``,
        ``observed_data`` and ``constant_data`` instead, so ``az.plot_ppc`` works on the result.
        See `bayesreg.predictive.posterior_predictive`. Needs ``method="nuts"``.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
        y : array-like, shape (n_samples,), optional
            Targets of those rows (labels of ``classes_`` for the logistic model).
        seed : int
            Seed of the draws.

        Returns
        -------
        arviz.InferenceData
        """
        idata = self._posterior("predictive")
        X = self._features(X)
        if y is not None:
            y = self._observed(y, X.shape[0])
        names = getattr(self, "feature_names_in_", None)
        return posterior_predictive(idata, X, y, seed=seed, family=self._family, feature_names=names)

    def _observed(self, y, n: int) -> np.ndarray:
        """Targets as the model sees them: numbers, or the 0/1 indicator of ``classes_[1]``."""
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != n:
            raise DataError(f"y must have shape ({n},) like the rows of X, got {y.shape}")
        if self._family != "bernoulli":
            return check_target(y, self._family)[0]
        unknown = sorted({str(v) for v in y.tolist()} - {str(c) for c in self.classes_.tolist()})
        if unknown:
            raise DataError(f"y has labels the model was not fitted on: {', '.join(unknown[:5])}")
        return (y == self.classes_[1]).astype(np.float64)

    def prior_predictive(
        self, X, *, num_samples: int = PRIOR_PREDICTIVE_DRAWS, seed: int = 0, intercept_prior=None
    ):
        """Prior and prior predictive draws of the fitted model's prior at the rows of ``X``.

        The prior is the one the fit used (``prior_``, and ``sigma_prior_`` or the fixed ``sigma``),
        so ``method="map"`` fits have one too. The intercept's prior is flat (improper): with
        ``fit_intercept=True`` pass ``intercept_prior``, a numpyro distribution, or a number to hold
        the intercept fixed at. See `bayesreg.predictive.prior_predictive`.

        With ``standardize=True`` the prior is that of the weights of the standardised columns
        (and ``intercept_prior`` that of their intercept, the mean response at the column means):
        the draws are made on ``scaling_.transform(X)``, and the ``prior`` group holds them mapped to
        the original columns with the standardised ones kept (``coef_standardized``, as in
        ``idata_``); ``constant_data`` holds ``X`` as given.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
        num_samples : int, default `~bayesreg.predictive.PRIOR_PREDICTIVE_DRAWS`
        seed : int
        intercept_prior : numpyro Distribution or float, optional

        Returns
        -------
        arviz.InferenceData
            Groups ``prior``, ``prior_predictive``, ``constant_data``.
        """
        check_is_fitted(self)
        X = self._features(X)
        kwargs = {"prior": self.prior_, "fit_intercept": bool(self.fit_intercept)}
        if self.fit_intercept and intercept_prior is not None:
            if not isinstance(intercept_prior, dist.Distribution):
                intercept_prior = dist.Delta(float(intercept_prior))
            kwargs["intercept_prior"] = intercept_prior
        kwargs.update(self._prior_likelihood())
        model = self._model
        names = getattr(self, "feature_names_in_", None)
        scaling = getattr(self, "scaling_", None)
        rows = X if scaling is None else scaling.transform(X)
        draws = prior_predictive(
            model, rows, num_samples=num_samples, seed=seed, feature_names=names, **kwargs
        )
        if scaling is None:
            return draws
        draws = scaling.posterior_to_original(draws, groups=("prior",))
        draws.constant_data["X"] = draws.constant_data["X"].copy(data=X)
        return draws

    def _prior_likelihood(self) -> dict:
        """The likelihood's own parameters for `prior_predictive`: the linear model's σ prior (or its
        fixed σ); nothing for the logistic model."""
        if self._family == "gaussian":
            return {"sigma": self.sigma_ if self.sigma_prior_ is None else self.sigma_prior_}
        return {}

    def save(self, folder) -> None:
        """Save the fitted estimator to ``folder`` (see `bayesreg.model_folder.save`); `bayesreg.load`
        brings it back, predicting bitwise the same."""
        from bayesreg.model_folder import save

        save(self, folder)


class BayesianLinearRegression(RegressorMixin, _BayesianRegression):
    """Linear regression with a Gaussian, Laplace or elastic-net prior on the weights.

    The model is ``y = intercept + X @ coef + ε``, ``ε ~ N(0, σ²)``, with the prior that makes the
    MAP the penalised least-squares estimate. Under ``convention="sklearn"`` the MAP minimises

    - ``prior="laplace"``: ``(1/2n)‖y − Xw − b‖² + α‖w‖₁`` (Lasso);
    - ``prior="gaussian"``: ``‖y − Xw − b‖² + α‖w‖²`` (Ridge);
    - ``prior="elasticnet"``: ``(1/2n)‖y − Xw − b‖² + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²`` (ElasticNet),

    whatever σ is (the prior is conditional on σ). Under ``convention="book"`` it minimises
    ``‖y − Xw − b‖²/(2σ²) + α‖w‖₁`` (or ``+ (α/2)‖w‖²``, or ``+ αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``).
    The intercept is never penalised.

    Parameters
    ----------
    prior : {"laplace", "gaussian", "elasticnet", "horseshoe", "regularized_horseshoe", "r2d2"}, \
default="laplace"
        Prior on each weight: a penalty (L1, L2, or mixed), or a sparsity prior of
        `bayesreg.shrinkage` (`~bayesreg.shrinkage.Horseshoe`, `~bayesreg.shrinkage.RegularizedHorseshoe`,
        `~bayesreg.shrinkage.R2D2`) whose scales are learned with the weights. The sparsity priors
        have no MAP (their densities are unbounded at 0) and need ``method="nuts"``; they take no
        ``alpha`` (leave it at its default), ignore ``convention`` and ``l1_ratio``, and are scaled
        by σ (the horseshoe's weights are ``N(0, λ_j²τ²σ²)``).
    alpha : float > 0 or {"cv", "eb", "hierarchical"}, default=1.0
        Penalty strength, or how to learn it from the data (``"cv"`` and ``"eb"`` with
        ``convention="sklearn"``; the chosen value is ``alpha_``):

        - ``"cv"``: the α that 5-fold cross-validation picks, exactly as ``LassoCV()`` /
          ``ElasticNetCV(l1_ratio=...)`` / ``RidgeCV(cv=KFold(5))`` do on the same folds and grid
          (`bayesreg.cv.cv_alpha`); the scores are kept in ``cv_results_``;
        - ``"eb"``: empirical Bayes, the α that maximises the marginal likelihood: for the Gaussian
          prior ``BayesianRidge``'s (`bayesreg.evidence.evidence_gaussian`: ``alpha_`` is its
          ``lambda_/alpha_``, ``sigma_`` its ``alpha_ ** -0.5``), for the Laplace prior by Monte
          Carlo EM (`bayesreg.evidence.evidence_laplace`, seeded by ``random_state``), with its
          Monte Carlo standard error in ``alpha_mcse_``. Not for the elastic net.
        - ``"hierarchical"``: full Bayes (``method="nuts"`` only: there is no MAP), a hyperprior on
          the prior's scale sampled with the weights (`bayesreg.hierarchical`: Park & Casella's
          Gamma prior on λ² for the Laplace prior, a half-Cauchy prior on the sd for the Gaussian);
          the posterior of α in ``convention`` is ``alpha_posterior_``
          (`~bayesreg.hierarchical.alpha_posterior`), its median ``alpha_`` and its 90% interval
          ``alpha_interval_``; ``coef_`` is the posterior mean. Not for the elastic net.

        With ``"cv"`` and ``"eb"`` the MAP (``method="map"``) or the posterior (``"nuts"``, σ
        sampled as for a fixed α) is then that at ``alpha_``; with ``standardize=True`` α is
        learned on the standardised columns.
    l1_ratio : float in (0, 1), default=0.5
        Share ρ of the L1 penalty for ``prior="elasticnet"``.
    global_scale : float > 0, optional
        ``prior="horseshoe"``: the scale of τ's half-Cauchy prior (default
        `~bayesreg.defaults.SHRINKAGE` ``.global_scale``, 1); ``prior="regularized_horseshoe"``: τ₀
        itself, instead of the one set by ``expected_nonzero``.
    expected_nonzero : float in (0, n_features), optional
        ``prior="regularized_horseshoe"``: the expected number of non-zero weights p₀, which sets
        ``τ₀ = p₀/(p − p₀)·σ/√n`` (default ``p/10``, at least 1 and at most ``p/2``).
    slab_scale, slab_df : float > 0, optional
        ``prior="regularized_horseshoe"``: the slab's scale and degrees of freedom (defaults 2 and 4).
    r2_mean : float in (0, 1), optional
    r2_precision : float > 0, optional
        ``prior="r2d2"``: the mean and precision of R²'s Beta prior (defaults 0.5 and 2: R² uniform).

        Each of these six is None by default (the prior's default, from `~bayesreg.defaults.SHRINKAGE`)
        and refused for a prior it does not apply to.
    convention : {"sklearn", "book"}, default="sklearn"
        How ``alpha`` maps to the prior (see `bayesreg.priors`).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    standardize : bool, default=False
        Fit on standardised columns, ``(x − mean)/sd`` (`bayesreg.scaling`; not centred without an
        intercept), so that the prior is on the weights of the standardised columns, then report
        ``coef_``, ``intercept_``, ``map_`` and ``idata_`` on the original columns. Use it when the
        columns are in very different units: the prior (the penalty) then treats every column
        alike, and NUTS sees a posterior whose geometry does not depend on the units (the warning
        of a failed NUTS run on columns whose sds differ by more than
        `~bayesreg.defaults.SCALE_RATIO` suggests it). The MAP is then that of scikit-learn's
        ``make_pipeline(StandardScaler(), Lasso(alpha))`` (or Ridge, ElasticNet) mapped back to the
        original columns. Off by default: the penalty conventions above are about the columns as
        given.
    sigma : float > 0 or None, default=None
        Noise sd; ``None`` estimates it, with an exponential prior of mean ``std(y)``
        (`~bayesreg.priors.noise_prior`).
    method : {"map", "nuts", "gibbs"}, default="map"
        Posterior mode, or samples of the posterior: by NUTS, or (``"gibbs"``, a horseshoe-family
        prior, or ``alpha="hierarchical"`` with the Laplace or Gaussian prior) by the Gibbs sampler
        of `bayesreg.gibbs`, whose ``posterior_fit_.parametrisation`` is "gibbs".
    num_warmup : int or None, default=None
        NUTS warmup steps per chain (``method="nuts"``). None is the prior's own
        (`~bayesreg.sampling.default_num_warmup`): 500 for the Gaussian, Laplace and elastic-net
        priors at a fixed α, whose chains start at the MAP (500 steps reached the ESS of 1000 there:
        `~bayesreg.defaults.PENALTY_NUM_WARMUP`), 1000 for the sparsity priors and
        ``alpha="hierarchical"``; the value used is in ``idata_.sample_stats.attrs["num_warmup"]``.
    num_samples, num_chains : int, default from `bayesreg.defaults.NUTS`
        NUTS settings (``method="nuts"``): kept draws per chain, and chains.
    laplace_parametrisation : {"auto", "collapsed", "direct", "mixture"}, default="auto"
        What NUTS samples (`~bayesreg.sampling.sample_posterior`): σ and the prior variances with
        the coefficients integrated out and drawn exactly ("collapsed": the Gaussian likelihood
        under a Gaussian or Laplace prior), the prior's density ("direct"), or a Laplace prior as a
        non-centred normal–exponential scale mixture without the kink at 0 ("mixture"). ``"auto"``
        is collapsed where that form exists and the columns' sds differ by more than
        `~bayesreg.defaults.SCALE_RATIO`; otherwise direct, from the MAP, and a Laplace prior again
        as the mixture if any transition diverged (the run with fewer divergences is kept).
    mass_matrix : {"auto", "dense", "diagonal"}, default="auto"
        The mass matrix NUTS adapts during warmup: ``"auto"`` is dense for at most 20
        unconstrained parameters (the features, intercept and σ; with the mixture, two per
        feature), and for more where a dense matrix costs little next to a gradient that reads
        every row (`~bayesreg.engine.dense_mass`: the logistic model with up to about n/10
        parameters), diagonal otherwise (see `~bayesreg.sample_posterior`).
    target_accept : float in (0, 1) or None, default=None
        The mean acceptance probability NUTS's step size adapts to during warmup (``method="nuts"``):
        a higher value (0.9, 0.95, 0.99) takes smaller steps, the remedy for divergent transitions.
        None is the prior's own (`~bayesreg.sampling.default_target_accept`): 0.99 for the sparsity
        priors (`~bayesreg.defaults.SHRINKAGE_TARGET_ACCEPT`), `~bayesreg.defaults.TARGET_ACCEPT`
        (0.8) for the others.
    max_tree_depth : int in [1, 15], default `~bayesreg.defaults.MAX_TREE_DEPTH`
        The most doublings of a NUTS trajectory (at most ``2**max_tree_depth`` leapfrog steps per
        draw): raise it when draws hit the maximum tree depth.
    log_likelihood : bool, default=False
        Keep the per-observation log-likelihood of every draw in ``idata_`` (``method="nuts"``; n ×
        draws numbers). Without it ``idata_`` holds PSIS-LOO per observation in its group ``loo``
        (`bayesreg.loo`), from which `bayesreg.loo.loo` gives what ``az.loo`` would, for
        ``az.compare``.
    random_state : int or None
        Seed for NUTS.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The MAP weights with ``method="map"``; the posterior means with ``method="nuts"`` (so
        `predict` gives the posterior mean prediction).
    intercept_ : float
        MAP or posterior mean, as ``coef_``.
    alpha_ : float
        The penalty strength of the fit: ``alpha`` as given, or the learned one (``"cv"``, ``"eb"``;
        with ``"hierarchical"`` the posterior median); not set for the sparsity priors, which have none.
    alpha_posterior_ : AlphaPosterior
        ``alpha="hierarchical"`` only: the draws of α and their summary
        (`~bayesreg.hierarchical.AlphaPosterior`; ``alpha_posterior_.describe()`` in one sentence).
    alpha_interval_ : tuple of float
        ``alpha="hierarchical"`` only: the central 90% interval of α
        (`~bayesreg.defaults.ALPHA_INTERVAL`).
    cv_results_ : dict
        ``alpha="cv"`` only: ``alphas`` (the grid, decreasing, shape (n_alphas,)), ``scores`` (each
        α's score on each held-out fold, shape (n_alphas, n_folds); ``LassoCV.mse_path_``),
        ``mean_score``, ``sd_score`` (over the folds), ``scoring`` ("mse" or "r2") and
        ``best_index`` (``alphas[best_index] == alpha_``).
    alpha_mcse_ : float
        ``alpha="eb"`` only: the Monte Carlo standard error of ``alpha_`` (0.0 for the Gaussian
        prior, whose fixed-point iteration is deterministic).
    sigma_ : float
        Noise sd: the given ``sigma``, or its MAP (``method="map"``) or posterior mean (``"nuts"``);
        with ``alpha="eb"`` and the Gaussian prior and ``method="map"``, the σ that maximises the
        marginal likelihood (``BayesianRidge``'s).
    prior_ : Prior
        The prior on each weight the model was given (from ``prior``, ``alpha``, ``convention`` and,
        for the scikit-learn Lasso and ElasticNet conventions, the number of rows).
    sigma_prior_ : numpyro Exponential or None
        The prior of σ when it was estimated (`~bayesreg.priors.noise_prior` of the training
        target), None when ``sigma`` was given.
    map_ : MAPResult or None
        The MAP with its convergence record, whatever the method; None for the sparsity priors,
        which have no MAP.
    idata_ : arviz.InferenceData
        The NUTS posterior (``method="nuts"`` only): posterior, sample_stats, loo (or, with
        ``log_likelihood=True``, log_likelihood), observed_data; ``posterior.attrs["family"]``
        names the likelihood. With ``standardize=True`` ``coef`` and ``intercept`` are on the
        original columns and the draws of the standardised ones are kept as ``coef_standardized``
        and ``intercept_standardized``.
    diagnostics_ : DiagnosticsReport
        R-hat, ESS, divergences, E-BFMI of the NUTS run (``method="nuts"`` only).
    posterior_fit_ : PosteriorFit
        The NUTS fit as `~bayesreg.sampling.fit_posterior` returns it (``method="nuts"`` only):
        ``idata``, ``map``, ``diagnostics`` (the three attributes above), and how the chains ran
        (``parametrisation``: "direct" or "mixture"; ``mass_matrix``: "dense" or "diagonal").
    scaling_ : Standardization
        The column means and sds the model was fitted on (``standardize=True`` only).
    n_iter_ : int or None
        Proximal Newton steps taken (None without a MAP: the sparsity priors).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame with string column names.

    Examples
    --------
    The MAP under the Laplace prior is scikit-learn's ``Lasso`` with the same ``alpha``, exact zero
    included, whatever σ is (here estimated, with `~bayesreg.priors.noise_prior`):

    >>> import numpy as np
    >>> from sklearn.linear_model import Lasso
    >>> from bayesreg import BayesianLinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> y = X @ np.array([1.0, 0.0, -2.0]) + 0.5 * rng.normal(size=30)
    >>> est = BayesianLinearRegression(prior="laplace", alpha=0.1).fit(X, y)
    >>> lasso = Lasso(alpha=0.1, tol=1e-12).fit(X, y)
    >>> est.coef_.round(6), bool(np.allclose(est.coef_, lasso.coef_, atol=1e-9)), round(est.sigma_, 2)
    (array([ 0.926659,  0.      , -1.902167]), True, 0.81)

    With ``standardize=True`` and columns in very different units, the MAP is that of the
    scikit-learn pipeline with ``StandardScaler``, mapped back to the original columns:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> Xu = X * np.array([1e-3, 1.0, 1e4])
    >>> est = BayesianLinearRegression(alpha=0.1, standardize=True).fit(Xu, y)
    >>> pipe = make_pipeline(StandardScaler(), Lasso(alpha=0.1, tol=1e-12)).fit(Xu, y)
    >>> scaler, lasso = pipe.named_steps["standardscaler"], pipe.named_steps["lasso"]
    >>> bool(np.allclose(est.coef_, lasso.coef_ / scaler.scale_, rtol=1e-8, atol=0))
    True
    >>> bool(np.allclose(est.predict(Xu), pipe.predict(Xu), atol=1e-8))
    True

    The sparsity priors have no MAP: they are fitted by NUTS (``method="nuts"``), and ``coef_`` is
    the posterior mean:

    >>> BayesianLinearRegression(prior="horseshoe").fit(X, y)
    Traceback (most recent call last):
    ...
    ValueError: prior='horseshoe' has no MAP: its density is unbounded at 0 ... use method='nuts' (coef_ is
    then the posterior mean)
    """

    _family = "gaussian"
    _model = staticmethod(linear_regression)

    def __init__(
        self,
        prior="laplace",
        alpha=1.0,
        l1_ratio=L1_RATIO,
        global_scale=None,
        expected_nonzero=None,
        slab_scale=None,
        slab_df=None,
        r2_mean=None,
        r2_precision=None,
        convention="sklearn",
        fit_intercept=True,
        standardize=False,
        sigma=None,
        method="map",
        num_warmup=None,
        num_samples=NUTS.num_samples,
        num_chains=NUTS.num_chains,
        laplace_parametrisation="auto",
        mass_matrix=MASS_MATRIX,
        target_accept=None,
        max_tree_depth=MAX_TREE_DEPTH,
        log_likelihood=False,
        random_state=None,
    ):
        self.prior = prior
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.global_scale = global_scale
        self.expected_nonzero = expected_nonzero
        self.slab_scale = slab_scale
        self.slab_df = slab_df
        self.r2_mean = r2_mean
        self.r2_precision = r2_precision
        self.convention = convention
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.sigma = sigma
        self.method = method
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.laplace_parametrisation = laplace_parametrisation
        self.mass_matrix = mass_matrix
        self.target_accept = target_accept
        self.max_tree_depth = max_tree_depth
        self.log_likelihood = log_likelihood
        self.random_state = random_state

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like, DataFrame, or Dask DataFrame or Array, shape (n_samples, n_features)
            A Dask collection (with ``y`` a Dask Series or Array partitioned as its rows) is fitted
            from the sufficient statistics of one pass over its partitions, on Dask's current
            scheduler (`bayesreg.large`): the MAP, or the NUTS posterior without the rows (no
            PSIS-LOO). A learned ``alpha``, a sparsity prior and ``method="gibbs"`` need the rows.
        y : array-like, shape (n_samples,)

        Returns
        -------
        self
        """
        if _is_dask(X):
            return self._fit_dask(X, y)
        settings = self._settings()
        X, y, _ = self._validate(X, y)
        X = self._scaled(X, settings)
        self.__dict__.pop("_evidence_sigma", None)
        prior = self._sparsity_prior(X, settings, "alpha")
        hierarchical = prior is None and settings["alpha"] == "hierarchical"
        if hierarchical:
            prior = self._hierarchical_prior(settings, "alpha")
        elif prior is None:
            prior = prior_from_penalty(
                settings["prior"],
                self._penalty(X, y, settings, "alpha"),
                l1_ratio=self.l1_ratio,
                convention=settings["convention"],
                family="gaussian",
                n_samples=X.shape[0],
            )
        noise = noise_prior(y) if settings["sigma"] is None else settings["sigma"]
        stats = SufficientStats.from_data(X, y, center=settings["fit_intercept"])
        self._infer(
            settings,
            linear_regression_stats,
            (stats,),
            (linear_regression, X, y),
            prior=prior,
            sigma=noise,
            fit_intercept=settings["fit_intercept"],
        )
        self._warn_scale(X, settings)
        if hierarchical:
            self._learned_posterior(prior, settings)
        if isinstance(noise, dist.Distribution):
            nuts = settings["method"] in POSTERIOR_METHODS
            source = self.idata_.posterior["sigma"] if nuts else self.map_.params["sigma"]
            noise = float(np.mean(source))
            if not nuts and settings["alpha"] == "eb" and settings["prior"] == "gaussian":
                noise = self._evidence_sigma
        self.sigma_ = noise
        self.__dict__.pop("_evidence_sigma", None)
        return self

    def _evidence(self, X, y, settings: dict) -> float:
        """Empirical Bayes (``alpha="eb"``): ``BayesianRidge``'s α for the Gaussian prior (its σ
        kept for ``sigma_``), the Monte Carlo EM estimate for the Laplace prior (its error kept
        as ``alpha_mcse_``), both in scikit-learn's convention."""
        kind, fit_intercept = settings["prior"], settings["fit_intercept"]
        if kind == "gaussian":
            if settings["sigma"] is not None:
                raise ValueError(
                    "alpha='eb' with prior='gaussian' estimates sigma with alpha (BayesianRidge): "
                    "leave sigma=None"
                )
            result = evidence_gaussian(X, y, fit_intercept=fit_intercept)
            self._evidence_sigma = result.sigma
            self.alpha_mcse_ = 0.0
            return result.alpha
        if kind == "laplace":
            seed = int(check_random_state(settings["random_state"]).randint(2**31 - 1))
            result = evidence_laplace(X, y, sigma=settings["sigma"], fit_intercept=fit_intercept, seed=seed)
            self.alpha_mcse_ = result.mcse / X.shape[0]  # the error of l1, as Lasso's alpha = l1/n
            return result.alpha
        raise ValueError(
            "alpha='eb' needs prior='gaussian' (BayesianRidge's evidence) or prior='laplace' (Monte "
            f"Carlo EM), not prior={kind!r}: use alpha='cv' for the elastic net"
        )

    def _map(self, model, args, model_kwargs):
        """The MAP of the model from the sufficient statistics, on the host where that exists
        (`~bayesreg.engine.map.linear_map`: no compilation, the same MAP)."""
        return linear_map(*args, **model_kwargs)

    def predict(self, X, return_std: bool = False):
        """Predicted mean ``intercept_ + X @ coef_`` and, if asked, the predictive sd of a new target.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
            A DataFrame must have the columns of the fit, in the same order (scikit-learn's check
            names the missing or misplaced ones; `bayesreg.predictive.prediction_table` matches
            them by name).
        return_std : bool, default=False
            Also return the sd of the posterior predictive of a new target, noise included:
            ``sqrt(Var(intercept + x·coef) + E σ²)`` over the posterior draws
            (`bayesreg.predictive.predictive_sd`), as scikit-learn's ``BayesianRidge``. Needs
            ``method="nuts"``: a MAP fit has no posterior, and a ValueError says so rather than
            return an sd that ignores the uncertainty of the weights.

        Returns
        -------
        mean : ndarray, shape (n_samples,)
            The MAP line (``method="map"``) or the posterior mean line (``"nuts"``).
        std : ndarray, shape (n_samples,)
            Only with ``return_std=True``.
        """
        if return_std:
            idata = self._posterior("predict(return_std=True)")
        X = self._features(X)
        mean = X @ self.coef_ + self.intercept_
        if not return_std:
            return mean
        return mean, predictive_sd(idata, X)


class BayesianLogisticRegression(ClassifierMixin, _BayesianRegression):
    """Binary logistic regression with a Gaussian, Laplace or elastic-net prior on the weights.

    The MAP minimises scikit-learn's LogisticRegression objective with the same ``C``:

    - ``prior="laplace"``: ``C·Σᵢ logloss_i + ‖w‖₁``;
    - ``prior="gaussian"``: ``C·Σᵢ logloss_i + ½‖w‖²``;
    - ``prior="elasticnet"``: ``C·Σᵢ logloss_i + ρ‖w‖₁ + ((1−ρ)/2)‖w‖²``;

    that is, cross-entropy plus penalty with a Laplace(0, C) / Normal(0, √C) prior. The intercept
    is never penalised.

    Parameters
    ----------
    prior : {"laplace", "gaussian", "elasticnet", "horseshoe", "regularized_horseshoe", "r2d2"}, \
default="laplace"
        As for `BayesianLinearRegression`: a sparsity prior needs ``method="nuts"``, takes no
        ``C`` (leave it at its default) and is scaled by the pseudo-σ 2 of Piironen & Vehtari
        (the regularised horseshoe and R2D2; `~bayesreg.shrinkage.LOGISTIC_PSEUDO_SIGMA`) or by 1
        (the horseshoe).
    C : float > 0 or {"cv", "hierarchical"}, default=1.0
        Inverse penalty strength, as in scikit-learn, or ``"cv"``: the ``C`` that 5-fold stratified
        cross-validation picks by accuracy over ``logspace(-4, 4, 10)``, exactly as
        ``LogisticRegressionCV()`` (with the same penalty) does (`bayesreg.cv.cv_alpha`); the
        chosen value is ``C_``, the scores are in ``cv_results_``. Or ``"hierarchical"``: full
        Bayes with ``method="nuts"``, as ``alpha="hierarchical"`` of `BayesianLinearRegression`
        (σ = 1): ``C_`` is ``1/`` the posterior median of α, ``C_interval_`` the 90% interval of
        ``C``. (Empirical Bayes, ``"eb"``, needs the Gaussian likelihood:
        `BayesianLinearRegression` only.)
    l1_ratio : float in (0, 1), default=0.5
    global_scale, expected_nonzero, slab_scale, slab_df, r2_mean, r2_precision : float or None
        The sparsity priors' options, as for `BayesianLinearRegression` (p₀ sets τ₀ with the
        pseudo-σ 2).
    fit_intercept : bool, default=True
    standardize : bool, default=False
        Fit on standardised columns and report on the original ones, as for
        `BayesianLinearRegression`: the MAP is then ``make_pipeline(StandardScaler(),
        LogisticRegression(C=C))``'s mapped back to the original columns.
    method : {"map", "nuts", "gibbs"}, default="map"
        ``"gibbs"`` is refused: the Gibbs sampler needs the Gaussian likelihood.
    num_warmup : int or None, default=None
    num_samples, num_chains : int, default from `bayesreg.defaults.NUTS`
    laplace_parametrisation : {"auto", "direct", "mixture"}, default="auto"
    mass_matrix : {"auto", "dense", "diagonal"}, default="auto"
    target_accept : float in (0, 1) or None, default=None
    max_tree_depth : int in [1, 15], default `~bayesreg.defaults.MAX_TREE_DEPTH`
    log_likelihood : bool, default=False
        NUTS settings, as for `BayesianLinearRegression` (the logistic likelihood has no collapsed
        form: "auto" samples its density).
    random_state : int or None

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two labels; the model gives the probability of ``classes_[1]``.
    coef_ : ndarray of shape (n_features,)
        MAP weights, or posterior means with ``method="nuts"`` (`predict_proba` then averages the
        probability over the posterior draws instead of using ``coef_``).
    intercept_ : float
    C_ : float
        The ``C`` of the fit: as given, or the one cross-validation picked (``C="cv"``), or
        ``1 / alpha_`` (``C="hierarchical"``); not set for the sparsity priors.
    alpha_ : float
        ``1 / C_``, the penalty strength (``C="hierarchical"``: the posterior median of α = 1/C).
    alpha_posterior_ : AlphaPosterior
        ``C="hierarchical"`` only: the draws of α = 1/C (`~bayesreg.hierarchical.AlphaPosterior`).
    alpha_interval_, C_interval_ : tuple of float
        ``C="hierarchical"`` only: the central 90% intervals of α and of ``C = 1/α``.
    cv_results_ : dict
        ``C="cv"`` only: as for `BayesianLinearRegression`, over ``alphas = 1/Cs`` (decreasing),
        ``scoring`` "accuracy".
    prior_ : Prior
        The prior on each weight the model was given.
    map_ : MAPResult or None
        The MAP, whatever the method; None for the sparsity priors.
    idata_ : arviz.InferenceData
        The NUTS posterior (``method="nuts"`` only).
    diagnostics_ : DiagnosticsReport
        Diagnostics of the NUTS run (``method="nuts"`` only).
    posterior_fit_ : PosteriorFit
        The NUTS fit (``method="nuts"`` only), as for `BayesianLinearRegression`.
    scaling_ : Standardization
        The column means and sds the model was fitted on (``standardize=True`` only).
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    The MAP under the Normal(0, √C) prior is scikit-learn's ``LogisticRegression`` with the same
    ``C``, and so are its probabilities and labels:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from bayesreg import BayesianLogisticRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30, 3))
    >>> labels = np.where(X @ np.array([1.0, 0.0, -2.0]) + rng.normal(size=30) > 0, "yes", "no")
    >>> est = BayesianLogisticRegression(prior="gaussian", C=0.5).fit(X, labels)
    >>> reference = LogisticRegression(C=0.5, tol=1e-12, max_iter=1000).fit(X, labels)
    >>> bool(np.allclose(est.coef_, reference.coef_[0], atol=1e-8)), est.classes_.tolist()
    (True, ['no', 'yes'])
    >>> bool(np.allclose(est.predict_proba(X), reference.predict_proba(X), atol=1e-8))
    True
    """

    _family = "bernoulli"
    _model = staticmethod(logistic_regression)

    def __init__(
        self,
        prior="laplace",
        C=1.0,
        l1_ratio=L1_RATIO,
        global_scale=None,
        expected_nonzero=None,
        slab_scale=None,
        slab_df=None,
        r2_mean=None,
        r2_precision=None,
        fit_intercept=True,
        standardize=False,
        method="map",
        num_warmup=None,
        num_samples=NUTS.num_samples,
        num_chains=NUTS.num_chains,
        laplace_parametrisation="auto",
        mass_matrix=MASS_MATRIX,
        target_accept=None,
        max_tree_depth=MAX_TREE_DEPTH,
        log_likelihood=False,
        random_state=None,
    ):
        self.prior = prior
        self.C = C
        self.l1_ratio = l1_ratio
        self.global_scale = global_scale
        self.expected_nonzero = expected_nonzero
        self.slab_scale = slab_scale
        self.slab_df = slab_df
        self.r2_mean = r2_mean
        self.r2_precision = r2_precision
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.method = method
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.laplace_parametrisation = laplace_parametrisation
        self.mass_matrix = mass_matrix
        self.target_accept = target_accept
        self.max_tree_depth = max_tree_depth
        self.log_likelihood = log_likelihood
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like, DataFrame, or Dask DataFrame or Array, shape (n_samples, n_features)
            A Dask collection (with ``y`` a Dask Series or Array partitioned as its rows) is fitted
            by its MAP from passes over its partitions, on Dask's current scheduler.
        y : array-like, shape (n_samples,), two distinct labels

        Returns
        -------
        self
        """
        if isinstance(self.C, str) and self.C == "eb":
            raise ValueError(
                "C='eb' (empirical Bayes) needs the Gaussian likelihood: use C='cv', or "
                "BayesianLinearRegression(alpha='eb')"
            )
        if _is_dask(X):
            return self._fit_dask(X, y)
        settings = self._settings()
        X, y, classes = self._validate(X, y)
        self.classes_ = classes
        X = self._scaled(X, settings)
        prior = self._sparsity_prior(X, settings, "C")
        hierarchical = prior is None and settings["C"] == "hierarchical"
        if hierarchical:
            prior = self._hierarchical_prior(settings, "C")
        elif prior is None:
            alpha = self._penalty(X, y, settings, "C")
            self.C_ = 1.0 / alpha if settings["C"] == "cv" else settings["C"]
            prior = prior_from_penalty(settings["prior"], alpha, l1_ratio=self.l1_ratio, family="bernoulli")
        self._infer(
            settings, logistic_regression, (X, y), None, prior=prior, fit_intercept=settings["fit_intercept"]
        )
        self._warn_scale(X, settings)
        if hierarchical:
            self._learned_posterior(prior, settings)
        return self

    def decision_function(self, X):
        """The linear predictor ``intercept_ + X @ coef_`` (log-odds of ``classes_[1]``), shape (n_samples,).

        With ``method="map"`` it is the log-odds at the MAP; with ``method="nuts"`` the posterior mean
        of the linear predictor (``coef_`` and ``intercept_`` are posterior means). `predict_proba`
        averages the probability itself over the draws, so with NUTS it is not the sigmoid of this.
        """
        X = self._features(X)
        return X @ self.coef_ + self.intercept_

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, 2), columns in the order of ``classes_``.

        With ``method="map"``, ``sigmoid(intercept_ + X @ coef_)``; with ``method="nuts"``, the
        posterior predictive probability: that sigmoid averaged over the posterior draws
        (`bayesreg.predictive.predictive_probability`; `predict_interval` gives its central interval).
        """
        X = self._features(X)
        if not hasattr(self, "idata_"):
            p = expit(X @ self.coef_ + self.intercept_)
        else:
            p = predictive_probability(self.idata_, X)
        return np.column_stack([1.0 - p, p])

    def predict(self, X):
        """Most probable label, shape (n_samples,)."""
        positive = self.predict_proba(X)[:, 1] > 0.5
        return self.classes_[positive.astype(int)]


_MAD_TO_SD = 1.482602218505602
"""The sd of a normal distribution per unit of its median absolute deviation, 1/Φ⁻¹(3/4)."""

_DISPERSION_START_MIN = 0.1
"""The smallest start of an estimated negative binomial dispersion (the moment estimate is negative
for underdispersed counts)."""

_ROWS_PER_BLOCK = 2048
"""Rows whose mean count is averaged over the posterior draws at a time."""

_GLM_CONSTRAINTS = {
    **ESTIMATOR_CONSTRAINTS,
    "alpha": ESTIMATOR_CONSTRAINTS["alpha"]._replace(
        also=("hierarchical",),
        hint="cross-validation and empirical Bayes (cv, eb) learn alpha for the linear and logistic models",
    ),
    "method": Options(("map", "nuts")),
}
"""The constraints of the count and Student-t estimators: any prior (a penalty prior at a given α or
with ``alpha="hierarchical"``, or a sparsity prior with its default options; α learned by
cross-validation or empirical Bayes is the linear and logistic models' only), the MAP or NUTS."""


class _GLMRegression(RegressorMixin, _BayesianRegression):
    """What the Poisson, negative binomial and Student-t estimators share: a penalty prior from
    ``alpha``, ``convention`` and ``l1_ratio`` (`~bayesreg.priors.prior_from_penalty` with the
    estimator's family), the likelihood's own parameters (`_likelihood`), and the mean prediction.

    One estimator per family rather than one with a ``family`` parameter: each family has its own
    parameters (the negative binomial's ``dispersion``, the Student-t's ``df`` and ``sigma``, the
    counts' ``offset``) and its own target (counts, or any numbers), so ``get_params`` lists only
    what applies, as scikit-learn's ``PoissonRegressor`` / ``GammaRegressor`` do.
    """

    _counts = True

    @property
    def _parameter_constraints(self) -> dict:
        return {name: _GLM_CONSTRAINTS[name] for name in self.get_params(deep=False)}

    def _likelihood(self, y, settings: dict) -> dict:
        """The model's keyword arguments besides the prior: fixed values or priors to estimate."""
        return {}

    def _offset(self, offset, n: int):
        if offset is None:
            return None
        return check_offset(offset, n)

    def _fit(self, X, y, offset):
        settings = self._settings()
        X, y, _ = self._validate(X, y)
        offset = self._offset(offset, X.shape[0])
        X = self._scaled(X, settings)
        self._forget_learned()
        prior = self._sparsity_prior(X, settings, "alpha")
        if prior is None:
            prior = self._hierarchical_prior(settings, "alpha")
        if prior is None:
            self.alpha_ = settings["alpha"]
            prior = prior_from_penalty(
                settings["prior"],
                self.alpha_,
                l1_ratio=self.l1_ratio,
                convention=settings["convention"],
                family=self._family,
                n_samples=X.shape[0],
            )
        kwargs = self._likelihood(y, settings)
        if offset is not None:
            kwargs["offset"] = offset
        self._start = self._map_start(y, offset, settings)
        self._infer(
            settings,
            self._model,
            (X, y),
            None,
            prior=prior,
            fit_intercept=settings["fit_intercept"],
            **kwargs,
        )
        del self._start
        if settings["alpha"] == "hierarchical" and self._counts:  # α of the Student-t: not defined
            self._learned_posterior(prior, settings)
        self._warn_scale(X, settings)
        self._keep_likelihood(kwargs, settings)
        return self

    def _map_start(self, y, offset, settings: dict) -> dict | None:
        """Where the MAP starts (the weights at 0): for a count model the intercept at log ȳ less
        the mean offset, and an estimated dispersion at its moment estimate ``(s² − ȳ)/ȳ²`` (at
        least `_DISPERSION_START_MIN`), where the joint curvature in the weights and the dispersion
        is positive: from the intercept at 0 it was not on linnerud's unscaled columns, and from a
        dispersion of 1 not on fair with its exposure (the line search stopped after one step; from
        the moment estimate 8.6 it converged to 5.06 in 6)."""
        if not self._counts:
            return None
        start = {}
        if settings["fit_intercept"]:
            shift = 0.0 if offset is None else float(np.mean(offset))
            start["intercept"] = np.log(np.mean(y)) - shift
        if settings.get("dispersion", 0.0) is None:
            mean = float(np.mean(y))
            start["dispersion"] = max((float(np.var(y)) - mean) / mean**2, _DISPERSION_START_MIN)
        return start

    def _map(self, model, args, model_kwargs):
        return map_estimate(model, *args, init=self._start, **model_kwargs)

    def _prior_likelihood(self) -> dict:
        """The likelihood's own parameters for `prior_predictive`: each fixed value, or its prior
        (the Student-t's ν and σ); an estimated negative binomial dispersion, whose flat prior
        cannot be drawn from, at its fitted value ``dispersion_``."""
        values = {}
        for name in self._likelihood_parameters:
            given = getattr(self, name)
            if given is not None:
                values[name] = given
            elif name == "df":
                values[name] = dist.Gamma(*STUDENT_T_DF_PRIOR)
            elif name == "sigma":
                values[name] = self.sigma_prior_
            else:
                values[name] = getattr(self, f"{name}_")
        return values

    def _keep_likelihood(self, kwargs: dict, settings: dict) -> None:
        """Each likelihood parameter as a fitted attribute (``dispersion_``, ``df_``, ``sigma_``): the
        number given, or its MAP (``method="map"``) or posterior mean (``"nuts"``)."""
        nuts = settings["method"] in POSTERIOR_METHODS
        for name in self._likelihood_parameters:
            value = kwargs[name]
            if isinstance(value, dist.Distribution):
                source = self.idata_.posterior[name] if nuts else self.map_.params[name]
                value = float(np.mean(source))
            setattr(self, f"{name}_", float(value))

    _likelihood_parameters: tuple = ()

    def _linear_predictor(self, X, offset):
        X = self._features(X)
        eta = X @ self.coef_ + self.intercept_
        if offset is not None:
            eta = eta + check_offset(offset, X.shape[0])
        return X, eta

    def _predictive_sd(self, X, offset):
        """The posterior predictive sd of a new target at the rows of ``X`` (checked), from
        `bayesreg.predictive.predictive_sd` with this estimator's family."""
        idata = self._posterior("predict(return_std=True)")
        extra = {} if offset is None else {"offset": check_offset(offset, X.shape[0])}
        return predictive_sd(idata, X, family=self._family, **extra)

    def predict_interval(self, X, prob: float = HDI_PROB, offset=None) -> np.ndarray:
        """The central ``prob`` interval of the posterior predictive of a new target at each row,
        shape (n_samples, 2) (`bayesreg.predictive.predictive_interval` with this estimator's
        family): counts for the count models. ``offset`` is the rows' log exposure, as at ``fit``.
        Needs ``method="nuts"``."""
        idata = self._posterior("predict_interval")
        X = self._features(X)
        extra = {} if offset is None else {"offset": check_offset(offset, X.shape[0])}
        return predictive_interval(idata, X, prob=prob, family=self._family, **extra)


class _CountRegression(_GLMRegression):
    """The count models' mean: ``exp(η)``, at the MAP or averaged over the posterior draws."""

    def fit(self, X, y, offset=None):
        """Fit the model.

        Parameters
        ----------
        X : array-like, DataFrame, or Dask DataFrame or Array, shape (n_samples, n_features)
            A Dask collection (with ``y`` and ``offset`` Dask Series or Arrays partitioned as its
            rows) is fitted by its MAP from passes over its partitions, on Dask's current scheduler.
        y : array-like of non-negative integers, shape (n_samples,)
            Counts (a negative or non-integer value is refused, its row named).
        offset : array-like, shape (n_samples,), optional
            Added to the linear predictor with coefficient 1: the log of each row's exposure (time
            at risk, population), as glum's and statsmodels' ``offset``.

        Returns
        -------
        self
        """
        if _is_dask(X):
            return self._fit_dask(X, y, offset)
        return self._fit(X, y, offset)

    def predict(self, X, offset=None, return_std: bool = False):
        """Expected count of each row, shape (n_samples,): ``exp(intercept_ + X @ coef_ + offset)`` at
        the MAP (``method="map"``), or that mean averaged over the posterior draws (``"nuts"``: the
        posterior predictive mean, not the mean at the posterior mean weights).

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
        offset : array-like, shape (n_samples,), optional
            The rows' log exposure, as at ``fit``; without it the expected count at exposure 1.
        return_std : bool, default=False
            Also return the sd of the posterior predictive of a new count
            (`bayesreg.predictive.predictive_sd` with this estimator's family). Needs
            ``method="nuts"``.

        Returns
        -------
        mean : ndarray, shape (n_samples,)
        std : ndarray, shape (n_samples,)
            Only with ``return_std=True``.
        """
        X, eta = self._linear_predictor(X, offset)
        if return_std:
            return self._predict_mean(X, eta), self._predictive_sd(X, offset)
        return self._predict_mean(X, eta)

    def _predict_mean(self, X, eta):
        if not hasattr(self, "idata_"):
            return np.exp(eta)
        posterior = self.idata_.posterior
        coef = posterior["coef"].to_numpy().reshape(-1, X.shape[1])
        intercept = posterior["intercept"].to_numpy().reshape(-1, 1) if "intercept" in posterior else 0.0
        shift = eta - (X @ self.coef_ + self.intercept_)  # the offset (0 without one)
        mean = np.empty(X.shape[0])
        for start in range(0, X.shape[0], _ROWS_PER_BLOCK):  # draws × block at a time, not draws × n
            rows = slice(start, start + _ROWS_PER_BLOCK)
            mean[rows] = np.mean(np.exp(coef @ X[rows].T + intercept + shift[rows]), axis=0)
        return mean


_GLM_SHARED_DOC = """
    prior : {"laplace", "gaussian", "elasticnet", "horseshoe", "regularized_horseshoe", "r2d2"}, \
default="laplace"
        Prior on each weight: L1, L2, or both; or a sparsity prior of `bayesreg.shrinkage` with its
        default options (``method="nuts"`` only: no MAP exists; ``alpha`` stays at its default),
        sampled from the mode of its density on the unconstrained space
        (`~bayesreg.sampling.shrinkage_start`).
    alpha : float > 0 or "hierarchical", default=1.0
        Penalty strength in ``convention``; ``"hierarchical"`` (``method="nuts"``, Laplace or
        Gaussian prior): a hyperprior on the prior's scale sampled with the weights
        (`bayesreg.hierarchical`; ``alpha_`` is then not set). α learned by cross-validation or
        empirical Bayes is the linear and logistic models' only.
    l1_ratio : float in (0, 1), default=0.5
        Share ρ of the L1 penalty for ``prior="elasticnet"``.
    convention : CONVENTIONS, default=DEFAULT
        How ``alpha`` maps to the prior (`bayesreg.priors`); NOTE
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    standardize : bool, default=False
        Fit on standardised columns and report on the original ones, as for
        `BayesianLinearRegression` (the MAP is then the penalised fit of the standardised columns,
        mapped back)."""

_GLM_NUTS_DOC = """
    method : {"map", "nuts"}, default="map"
        Posterior mode, or NUTS draws of the posterior (`~bayesreg.sampling.fit_posterior`; ``coef_``
        is then the posterior mean).
    num_warmup : int or None, default=None
    num_samples, num_chains : int, default from `bayesreg.defaults.NUTS`
    laplace_parametrisation : {"auto", "direct", "mixture"}, default="auto"
    mass_matrix : {"auto", "dense", "diagonal"}, default="auto"
    target_accept : float in (0, 1) or None, default=None
    max_tree_depth : int in [1, 15], default `~bayesreg.defaults.MAX_TREE_DEPTH`
    log_likelihood : bool, default=False
        NUTS settings, as for `BayesianLinearRegression`.
    random_state : int or None
        Seed for NUTS."""


class BayesianPoissonRegression(_CountRegression):
    """Poisson regression (log link, optional offset) with a Gaussian, Laplace or elastic-net prior.

    The model is ``y_i ~ Poisson(exp(intercept + x_iᵀ coef + offset_i))``
    (`~bayesreg.models.poisson_regression`). The MAP minimises, under ``convention="glum"`` (and
    "statsmodels", the same objective),

    ``(1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``

    (ρ = 1 for ``prior="laplace"``, 0 for ``"gaussian"``, ``l1_ratio`` for ``"elasticnet"``): glum's
    ``GeneralizedLinearRegressor(family="poisson", alpha, l1_ratio)`` and statsmodels'
    ``GLM(family=Poisson()).fit_regularized``; its L2 case is scikit-learn's
    ``PoissonRegressor(alpha)`` (``convention="sklearn"``, which has no L1). Under
    ``convention="book"`` it minimises ``−loglike + α‖w‖₁`` (or ``+ (α/2)‖w‖²``), statsmodels'
    discrete ``Poisson.fit_regularized``. The intercept is never penalised.

    Parameters
    ----------{shared}{nuts}

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        MAP weights (exact zeros under L1), or posterior means with ``method="nuts"``.
    intercept_ : float
    alpha_ : float
        The penalty strength of the fit.
    prior_ : Prior
        The prior on each weight.
    map_ : MAPResult
        The MAP with its convergence record, whatever the method.
    idata_, diagnostics_, posterior_fit_ : the NUTS fit (``method="nuts"`` only)
        As for `BayesianLinearRegression`; ``idata_.posterior.attrs["family"]`` is "poisson".
    scaling_ : Standardization
        ``standardize=True`` only.
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    The ridge MAP is scikit-learn's ``PoissonRegressor`` with the same ``alpha``; the lasso MAP has
    exact zeros, and ``predict`` gives expected counts (times the exposure, with an offset):

    >>> import numpy as np
    >>> from sklearn.linear_model import PoissonRegressor
    >>> from bayesreg import BayesianPoissonRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(60, 3))
    >>> y = rng.poisson(np.exp(0.5 + X @ np.array([0.6, 0.0, -0.4])))
    >>> est = BayesianPoissonRegression(prior="gaussian", alpha=0.1, convention="sklearn").fit(X, y)
    >>> reference = PoissonRegressor(alpha=0.1, tol=1e-12, max_iter=1000).fit(X, y)
    >>> bool(np.allclose(est.coef_, reference.coef_, atol=1e-7))
    True
    >>> bool(np.allclose(est.predict(X), reference.predict(X), rtol=1e-7))
    True
    >>> lasso = BayesianPoissonRegression(alpha=0.1).fit(X, y, offset=np.zeros(60))
    >>> lasso.coef_.round(3)
    array([ 0.534,  0.   , -0.353])
    >>> bool(np.allclose(lasso.predict(X[:2], offset=np.log([2.0, 2.0])), 2 * lasso.predict(X[:2])))
    True
    """

    _family = "poisson"
    _model = staticmethod(poisson_regression)

    def __init__(
        self,
        prior="laplace",
        alpha=1.0,
        l1_ratio=L1_RATIO,
        convention="glum",
        fit_intercept=True,
        standardize=False,
        method="map",
        num_warmup=None,
        num_samples=NUTS.num_samples,
        num_chains=NUTS.num_chains,
        laplace_parametrisation="auto",
        mass_matrix=MASS_MATRIX,
        target_accept=None,
        max_tree_depth=MAX_TREE_DEPTH,
        log_likelihood=False,
        random_state=None,
    ):
        self.prior = prior
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.convention = convention
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.method = method
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.laplace_parametrisation = laplace_parametrisation
        self.mass_matrix = mass_matrix
        self.target_accept = target_accept
        self.max_tree_depth = max_tree_depth
        self.log_likelihood = log_likelihood
        self.random_state = random_state


class BayesianNegativeBinomialRegression(_CountRegression):
    """Negative binomial (NB2) regression (log link, optional offset) with a Gaussian, Laplace or
    elastic-net prior on the weights.

    The model is ``y_i ~ NB(mean μ_i = exp(intercept + x_iᵀ coef + offset_i), Var = μ_i + α_d μ_i²)``
    (`~bayesreg.models.negative_binomial_regression`) with dispersion ``α_d`` (``dispersion``). With
    ``α_d`` fixed the MAP minimises, under ``convention="glum"`` (and "statsmodels"),
    ``(1/2n)·deviance + αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``: glum's
    ``GeneralizedLinearRegressor(family=NegativeBinomialDistribution(theta=α_d))`` and statsmodels'
    ``GLM(family=NegativeBinomial(alpha=α_d)).fit_regularized``. Under ``convention="book"``
    (``−loglike + α‖w‖₁``) with ``dispersion=None`` it is statsmodels' discrete
    ``NegativeBinomial.fit_regularized`` (the dispersion estimated with the weights, under a flat
    prior on (0, ∞)). scikit-learn has no negative binomial regression.

    Parameters
    ----------{shared}
    dispersion : float > 0 or None, default=None
        ``α_d`` fixed (statsmodels' ``alpha``, glum's ``theta``), or None: estimated with the
        weights under a flat prior on (0, ∞) (the MAP is then the maximum-likelihood α_d at those
        weights, as statsmodels').{nuts}

    Attributes
    ----------
    coef_, intercept_, alpha_, prior_, map_, idata_, diagnostics_, posterior_fit_, scaling_
        As for `BayesianPoissonRegression`.
    dispersion_ : float
        ``dispersion`` as given, or its MAP (``method="map"``) or posterior mean (``"nuts"``).
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    Overdispersed counts: the dispersion estimated with the weights, and the lasso's exact zero:

    >>> import numpy as np
    >>> from bayesreg import BayesianNegativeBinomialRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> mean = np.exp(1.0 + X @ np.array([0.5, 0.0, -0.3]))
    >>> y = rng.poisson(mean * rng.gamma(2.0, 0.5, size=200))  # NB2 with dispersion 0.5
    >>> est = BayesianNegativeBinomialRegression(alpha=0.1).fit(X, y)
    >>> est.coef_.round(3), round(est.dispersion_, 2)
    (array([ 0.414,  0.   , -0.156]), 0.51)
    """

    _family = "negative_binomial"
    _model = staticmethod(negative_binomial_regression)
    _likelihood_parameters = ("dispersion",)

    def __init__(
        self,
        prior="laplace",
        alpha=1.0,
        l1_ratio=L1_RATIO,
        convention="glum",
        fit_intercept=True,
        standardize=False,
        dispersion=None,
        method="map",
        num_warmup=None,
        num_samples=NUTS.num_samples,
        num_chains=NUTS.num_chains,
        laplace_parametrisation="auto",
        mass_matrix=MASS_MATRIX,
        target_accept=None,
        max_tree_depth=MAX_TREE_DEPTH,
        log_likelihood=False,
        random_state=None,
    ):
        self.prior = prior
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.convention = convention
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.dispersion = dispersion
        self.method = method
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.laplace_parametrisation = laplace_parametrisation
        self.mass_matrix = mass_matrix
        self.target_accept = target_accept
        self.max_tree_depth = max_tree_depth
        self.log_likelihood = log_likelihood
        self.random_state = random_state

    def _likelihood(self, y, settings: dict) -> dict:
        dispersion = settings["dispersion"]
        if dispersion is None:
            dispersion = dist.ImproperUniform(constraints.positive, (), ())
        return {"dispersion": dispersion}


class BayesianStudentTRegression(_GLMRegression):
    """Robust linear regression: a Student-t likelihood with a Gaussian, Laplace or elastic-net prior.

    The model is ``y_i ~ StudentT(ν, intercept + x_iᵀ coef, σ)`` (`~bayesreg.models.student_t_regression`):
    an outlier costs a logarithm of its residual instead of its square. Under ``convention="book"``
    (the only one: no library fits a penalised Student-t regression) the MAP minimises
    ``−loglike + α‖w‖₁`` (or ``+ (α/2)‖w‖²``, or ``+ αρ‖w‖₁ + (α(1−ρ)/2)‖w‖²``). The likelihood is
    not log-concave, so the MAP is a mode that need not be the only one.

    Parameters
    ----------{shared}
    df : float > 0 or None, default=None
        Degrees of freedom ν fixed, or None: estimated, under a Gamma(2, 0.1) prior
        (`~bayesreg.defaults.STUDENT_T_DF_PRIOR`).
    sigma : float > 0 or None, default=None
        The scale σ fixed, or None: estimated, under the exponential prior of mean ``std(y)``
        (`~bayesreg.priors.noise_prior`).{nuts}

    Attributes
    ----------
    coef_, intercept_, alpha_, prior_, map_, idata_, diagnostics_, posterior_fit_, scaling_
        As for `BayesianPoissonRegression`.
    df_, sigma_ : float
        ν and σ as given, or their MAP (``method="map"``) or posterior mean (``"nuts"``).
    sigma_prior_ : numpyro Exponential or None
        The prior of σ when it was estimated.
    n_iter_ : int
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    One gross outlier pulls least squares' slope and barely moves the Student-t fit's:

    >>> import numpy as np
    >>> from bayesreg import BayesianStudentTRegression
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 1))
    >>> y = 2.0 * X[:, 0] + 0.5 * rng.normal(size=50)
    >>> y[np.argmax(X[:, 0])] += 40.0
    >>> robust = BayesianStudentTRegression(prior="gaussian", alpha=1e-6, df=3.0).fit(X, y)
    >>> least_squares = np.polyfit(X[:, 0], y, 1)[0]
    >>> round(float(robust.coef_[0]), 2), round(float(least_squares), 2)
    (1.96, 3.71)
    """

    _family = "student_t"
    _model = staticmethod(student_t_regression)
    _counts = False
    _likelihood_parameters = ("df", "sigma")

    def __init__(
        self,
        prior="laplace",
        alpha=1.0,
        l1_ratio=L1_RATIO,
        convention="book",
        fit_intercept=True,
        standardize=False,
        df=None,
        sigma=None,
        method="map",
        num_warmup=None,
        num_samples=NUTS.num_samples,
        num_chains=NUTS.num_chains,
        laplace_parametrisation="auto",
        mass_matrix=MASS_MATRIX,
        target_accept=None,
        max_tree_depth=MAX_TREE_DEPTH,
        log_likelihood=False,
        random_state=None,
    ):
        self.prior = prior
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.convention = convention
        self.fit_intercept = fit_intercept
        self.standardize = standardize
        self.df = df
        self.sigma = sigma
        self.method = method
        self.num_warmup = num_warmup
        self.num_samples = num_samples
        self.num_chains = num_chains
        self.laplace_parametrisation = laplace_parametrisation
        self.mass_matrix = mass_matrix
        self.target_accept = target_accept
        self.max_tree_depth = max_tree_depth
        self.log_likelihood = log_likelihood
        self.random_state = random_state

    def _likelihood(self, y, settings: dict) -> dict:
        df, sigma = settings["df"], settings["sigma"]
        self.sigma_prior_ = noise_prior(y) if sigma is None else None
        return {
            "df": dist.Gamma(*STUDENT_T_DF_PRIOR) if df is None else df,
            "sigma": self.sigma_prior_ if sigma is None else sigma,
        }

    def _map_start(self, y, offset, settings: dict) -> dict | None:
        """Where the MAP starts (the weights at 0): the intercept at the median of ``y``, an estimated
        σ at the scaled median absolute deviation (robust first guesses of the location and scale)
        and an estimated ν at its prior's mode. From the intercept at 0, σ = 1 and ν = 1 the line
        search stalled on a count target (60 rows) and converged from here."""
        start = {}
        if settings["fit_intercept"]:
            start["intercept"] = float(np.median(y))
        if settings["sigma"] is None:
            mad = float(np.median(np.abs(y - np.median(y)))) * _MAD_TO_SD
            start["sigma"] = mad if mad > 0 else float(np.std(y))
        if settings["df"] is None:
            shape, rate = STUDENT_T_DF_PRIOR
            start["df"] = (shape - 1.0) / rate  # the prior's mode
        return start

    def fit(self, X, y):
        """Fit the model.

        Parameters
        ----------
        X : array-like or DataFrame, shape (n_samples, n_features)
            In memory: a Dask collection is refused.
        y : array-like, shape (n_samples,)

        Returns
        -------
        self
        """
        if _is_dask(X):
            return self._fit_dask(X, y)
        return self._fit(X, y, None)

    def predict(self, X, return_std: bool = False):
        """The mean line ``intercept_ + X @ coef_`` (the MAP's, or the posterior mean's: the mean of
        a new target where ν > 1), shape (n_samples,); with ``return_std=True`` also the sd of the
        posterior predictive of a new target (`bayesreg.predictive.predictive_sd` with
        ``family="student_t"``; ``method="nuts"`` only)."""
        X, mean = self._linear_predictor(X, None)
        return (mean, self._predictive_sd(X, None)) if return_std else mean


for _estimator, _conventions, _default, _note in (
    (
        BayesianPoissonRegression,
        "sklearn, glum, statsmodels, book",
        "glum",
        '"sklearn" is ``PoissonRegressor``\'s (L2 only), "glum" and "statsmodels" the objective above.',
    ),
    (
        BayesianNegativeBinomialRegression,
        "glum, statsmodels, book",
        "glum",
        '"glum" and "statsmodels" the mean-deviance one above (``dispersion`` fixed).',
    ),
    (BayesianStudentTRegression, "book", "book", "the only one defined for this likelihood."),
):
    _shared = (
        _GLM_SHARED_DOC.replace("CONVENTIONS", "{" + _conventions + "}")
        .replace("DEFAULT", repr(_default))
        .replace("NOTE", _note)
    )
    _estimator.__doc__ = _estimator.__doc__.replace("{shared}", _shared).replace("{nuts}", _GLM_NUTS_DOC)
